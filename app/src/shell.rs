//! The app shell: the router, the light client's context, and the header every page shares
//! (network choice, connection state, peers, finalized and best block, runtime, verified mark).

use crate::chain::{Chain, Network, SpecState};
use crate::chain_protocol::{ChainStatus, Phase};
use crate::i18n::{I18n, LanguageChoice, use_i18n};
use crate::install::{Install, InstallNotices};
use crate::pages::account::AccountPage;
use crate::pages::audit::{AuditAllPage, AuditPage};
use crate::pages::home::{HomePage, LabPage};
use crate::pages::network::NetworkPage;
use crate::pages::subnets::{SubnetPage, SubnetsPage};
use crate::pages::widgets::WidgetsPage;
use crate::pages::yields::YieldsPage;
use crate::pages::{bench::BenchPage, epoch_lab::EpochLab, system::SystemPage};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use taoscope_light_client::client::BlockRef;
use wasm_bindgen::JsCast;

#[component]
pub fn App() -> impl IntoView {
    I18n::provide();
    Chain::provide();
    Install::provide();
    view! {
        <Router>
            <Header/>
            <InstallNotices/>
            <main id="content">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=HomePage/>
                    <Route path=path!("/lab") view=LabPage/>
                    <Route path=path!("/epoch-lab") view=EpochLab/>
                    <Route path=path!("/bench") view=BenchPage/>
                    <Route path=path!("/system") view=SystemPage/>
                    <Route path=path!("/network") view=NetworkPage/>
                    <Route path=path!("/subnets") view=SubnetsPage/>
                    <Route path=path!("/subnets/:netuid") view=SubnetPage/>
                    <Route path=path!("/subnets/:netuid/audit") view=AuditPage/>
                    <Route path=path!("/audit") view=AuditAllPage/>
                    <Route path=path!("/account") view=AccountPage/>
                    <Route path=path!("/stake") view=YieldsPage/>
                    <Route path=path!("/widgets") view=WidgetsPage/>
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(n) = Network::from_id(&event_target_value(&ev)) {
            chain.choose(n);
        }
    };
    let status = chain.status;
    let number = |block: Option<&BlockRef>| block.map(|b| b.number.to_string());
    let menu_open = RwSignal::new(false);
    let menu_button = NodeRef::<leptos::html::Button>::new();
    view! {
        // Escape closes the phone menu, and the focus goes back to its button.
        <header class="app-header" on:keydown=move |ev| {
            if ev.key() == "Escape" && menu_open.get_untracked() {
                menu_open.set(false);
                if let Some(button) = menu_button.get_untracked() {
                    let _ = button.focus();
                }
            }
        }>
            <a class="brand" href="/" title=move || i18n.t("nav.home")>"τ taoscope"</a>
            // On a phone the pages and the preferences fold behind one button.
            <button type="button" class="menu-toggle" data-testid="menu-toggle" aria-controls="site-menu" node_ref=menu_button
                aria-expanded=move || menu_open.get().to_string() on:click=move |_| menu_open.update(|o| *o = !*o)>
                "☰ " {move || i18n.t("nav.menu")}
            </button>
            // A page chosen from the menu closes it (a click, or Enter on a link).
            <div id="site-menu" class="site-menu" class:open=move || menu_open.get()
                on:click=move |ev| {
                    let on_link = ev.target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .and_then(|e| e.closest("a").ok().flatten())
                        .is_some();
                    if on_link {
                        menu_open.set(false);
                    }
                }>
                <nav aria-label=move || i18n.t("nav.pages")>
                    <A href="/" exact=true>{move || i18n.t("nav.home")}</A>
                    <A href="/account">{move || i18n.t("nav.account")}</A>
                    <A href="/stake">{move || i18n.t("nav.stake")}</A>
                    <A href="/subnets">{move || i18n.t("nav.subnets")}</A>
                    <A href="/audit">{move || i18n.t("nav.audit")}</A>
                    <A href="/network">{move || i18n.t("nav.network")}</A>
                    <A href="/lab">{move || i18n.t("nav.lab")}</A>
                </nav>
                <ThemeChoice/>
                <LanguageChoice/>
            </div>
            <div class="network">
                <label for="network-select">{move || i18n.t("nav.network")}</label>
                <select id="network-select" data-testid="network-select" on:change=on_change>
                    {Network::ALL
                        .into_iter()
                        .map(|n| view! { <option value=n.id() selected=move || chain.network.get() == n>{n.label()}</option> })
                        .collect_view()}
                </select>
                <a href="/network" class=move || format!("connection {}", phase_class(status.with(|s| s.phase)))
                    data-testid="connection-state" title=move || i18n.t("shell.connection-title")>
                    {move || connection_words(i18n, &status.get(), &chain.spec.get())}
                </a>
                <span class="chain-facts" aria-live="polite">
                    <span title=move || i18n.t("shell.peers-title")>
                        <span data-testid="peer-count">{move || status.with(|s| s.peers)}</span>
                        {move || {
                            // Over verified RPC the "peers" are the endpoints answering.
                            let endpoints = status.with(|s| s.trust.is_some());
                            i18n.t(match (endpoints, status.with(|s| s.peers) == 1) {
                                (true, true) => "shell.endpoint",
                                (true, false) => "shell.endpoints",
                                (false, true) => "shell.peer",
                                (false, false) => "shell.peers",
                            })
                        }}
                    </span>
                    {move || status.with(|s| number(s.finalized.as_ref())).map(|n| view! {
                        <span title=move || i18n.t("shell.finalized-title")>{move || i18n.t("shell.finalized")}" #"<span data-testid="finalized-block">{n}</span></span>
                    })}
                    {move || status.with(|s| number(s.best.as_ref())).map(|n| view! {
                        <span title=move || i18n.t("shell.best-title")>{move || i18n.t("shell.best")}" #"<span data-testid="best-block">{n}</span></span>
                    })}
                    {move || status.with(|s| s.runtime.as_ref().map(|r| (r.spec_name.clone(), r.spec_version))).map(|(name, version)| view! {
                        <span title=format!("{} {name}", i18n.t("shell.runtime"))>{move || i18n.t("shell.runtime")}" "<span data-testid="runtime-version">{version}</span></span>
                    })}
                    {move || (status.with(|s| s.phase) == Phase::Live).then(|| view! {
                        <span class="verified" data-testid="verified-mark"
                            title=move || i18n.tf("shell.verified-title", &[("transport", &status.with(|s| s.transport.clone()))])>
                            "✓ "{move || i18n.t("shell.verified")}
                        </span>
                    })}
                    {move || chain.audit_mark.get().map(|mark| view! {
                        <a href=format!("/subnets/{}/audit", mark.netuid)
                            class=if mark.exact { "audit-mark verified" } else { "audit-mark error" }
                            data-testid="audit-mark" data-state=if mark.exact { "match" } else { "mismatch" }
                            title=i18n.tf("shell.audit-title", &[("netuid", &mark.netuid.to_string()), ("block", &mark.block.to_string()), ("verdict", &mark.verdict)])>
                            {i18n.tf("shell.audit-mark", &[("mark", if mark.exact { "✓" } else { "✗" }), ("netuid", &mark.netuid.to_string()), ("block", &mark.block.to_string())])}
                        </a>
                    })}
                    {move || status.with(|s| s.trust.as_ref().and_then(|t| t.stale())).map(|why| view! {
                        <a href="/network" class="stale" data-testid="stale-mark"
                            title=i18n.tf("shell.stale-title", &[("why", &why)])>{i18n.t("shell.stale")}</a>
                    })}
                </span>
            </div>
        </header>
    }
}

const THEME: &str = "taoscope.theme";

/// Sets the page's theme: "light" or "dark", or anything else for the system's.
fn apply_theme(theme: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = match theme {
            "light" | "dark" => root.set_attribute("data-theme", theme),
            _ => root.remove_attribute("data-theme"),
        };
    }
}

/// Light, dark, or the system's (the default), kept in this browser.
#[component]
fn ThemeChoice() -> impl IntoView {
    let i18n = use_i18n();
    let theme = RwSignal::new(crate::chain::load(THEME).unwrap_or_else(|| "system".into()));
    Effect::new(move |_| {
        let chosen = theme.get();
        apply_theme(&chosen);
        crate::chain::save(THEME, &chosen);
    });
    view! {
        <span class="theme">
            <label for="theme-select">{move || i18n.t("shell.theme")}</label>
            " "
            <select id="theme-select" data-testid="theme-select"
                on:change=move |ev| theme.set(event_target_value(&ev))>
                {[("system", "shell.theme-system"), ("light", "shell.theme-light"), ("dark", "shell.theme-dark")].into_iter().map(|(value, label)| view! {
                    <option value=value selected=move || theme.get() == value>{move || i18n.t(label)}</option>
                }).collect_view()}
            </select>
        </span>
    }
}

fn phase_class(phase: Phase) -> &'static str {
    match phase {
        Phase::Idle => "disconnected",
        Phase::Syncing => "syncing",
        Phase::Live => "live",
        Phase::Failed => "failed",
    }
}

/// The connection state in a few words; the Network page has the rest.
fn connection_words(i18n: I18n, status: &ChainStatus, spec: &SpecState) -> String {
    match (status.phase, spec) {
        (Phase::Idle, SpecState::Fetching(_)) => i18n.t("shell.fetching-spec"),
        (Phase::Idle, SpecState::Failed(why)) => {
            i18n.tf("shell.not-connected-why", &[("why", why)])
        }
        (Phase::Idle, _) => i18n.t("shell.not-connected"),
        (Phase::Syncing, _) if status.peers == 0 => i18n.t("shell.connecting"),
        (Phase::Syncing, _) => i18n.t("shell.syncing"),
        (Phase::Live, _) if status.peers == 0 => i18n.t("shell.live-reconnecting"),
        (Phase::Live, _) => i18n.t("shell.live"),
        (Phase::Failed, _) => {
            let why = status
                .error
                .clone()
                .unwrap_or_else(|| i18n.t("shell.client-stopped"));
            i18n.tf("shell.stopped", &[("why", &why)])
        }
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <section class="page">
            <h1>{move || i18n.t("shell.not-found")}</h1>
            <p>{move || i18n.t("shell.not-found-text")} " " <a href="/">{move || i18n.t("nav.home")}</a></p>
        </section>
    }
}
