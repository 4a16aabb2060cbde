//! The app shell: the router, the light client's context, and the header every page shares
//! (network choice, connection state, peers, finalized and best block, runtime, verified mark).

use crate::chain::{Chain, Network, SpecState};
use crate::chain_protocol::{ChainStatus, Phase};
use crate::pages::account::AccountPage;
use crate::pages::audit::{AuditAllPage, AuditPage};
use crate::pages::home::{HomePage, LabPage};
use crate::pages::network::NetworkPage;
use crate::pages::subnets::{SubnetPage, SubnetsPage};
use crate::pages::{bench::BenchPage, epoch_lab::EpochLab, system::SystemPage};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;
use taoscope_light_client::client::BlockRef;

#[component]
pub fn App() -> impl IntoView {
    Chain::provide();
    view! {
        <Router>
            <Header/>
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
                </Routes>
            </main>
        </Router>
    }
}

#[component]
fn Header() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(n) = Network::from_id(&event_target_value(&ev)) {
            chain.choose(n);
        }
    };
    let status = chain.status;
    let number = |block: Option<&BlockRef>| block.map(|b| b.number.to_string());
    view! {
        <header class="app-header">
            <a class="brand" href="/" title="Home">"τ taoscope"</a>
            <nav aria-label="Pages">
                <A href="/" exact=true>"Home"</A>
                <A href="/account">"Account"</A>
                <A href="/subnets">"Subnets"</A>
                <A href="/audit">"Audit"</A>
                <A href="/network">"Network"</A>
                <A href="/lab">"Lab"</A>
            </nav>
            <ThemeChoice/>
            <div class="network">
                <label for="network-select">"Network"</label>
                <select id="network-select" data-testid="network-select" on:change=on_change>
                    {Network::ALL
                        .into_iter()
                        .map(|n| view! { <option value=n.id() selected=move || chain.network.get() == n>{n.label()}</option> })
                        .collect_view()}
                </select>
                <a href="/network" class=move || format!("connection {}", phase_class(status.with(|s| s.phase)))
                    data-testid="connection-state" title="Connection state: details on the Network page">
                    {move || connection_words(&status.get(), &chain.spec.get())}
                </a>
                <span class="chain-facts" aria-live="polite">
                    <span title="Peers the light client is connected to">
                        <span data-testid="peer-count">{move || status.with(|s| s.peers)}</span>
                        {move || {
                            // Over verified RPC the "peers" are the endpoints answering.
                            let endpoints = status.with(|s| s.trust.is_some());
                            match (endpoints, status.with(|s| s.peers) == 1) {
                                (true, true) => " endpoint",
                                (true, false) => " endpoints",
                                (false, true) => " peer",
                                (false, false) => " peers",
                            }
                        }}
                    </span>
                    {move || status.with(|s| number(s.finalized.as_ref())).map(|n| view! {
                        <span title="Finalized block, verified through GRANDPA">"finalized #"<span data-testid="finalized-block">{n}</span></span>
                    })}
                    {move || status.with(|s| number(s.best.as_ref())).map(|n| view! {
                        <span title="Best block (not final)">"best #"<span data-testid="best-block">{n}</span></span>
                    })}
                    {move || status.with(|s| s.runtime.as_ref().map(|r| (r.spec_name.clone(), r.spec_version))).map(|(name, version)| view! {
                        <span title=format!("Runtime {name}")>"runtime "<span data-testid="runtime-version">{version}</span></span>
                    })}
                    {move || (status.with(|s| s.phase) == Phase::Live).then(|| view! {
                        <span class="verified" data-testid="verified-mark"
                            title=move || format!("Verified in this page by {}: every header through GRANDPA, every value through a storage proof", status.with(|s| s.transport.clone()))>
                            "✓ verified"
                        </span>
                    })}
                    {move || chain.audit_mark.get().map(|mark| view! {
                        <a href=format!("/subnets/{}/audit", mark.netuid)
                            class=if mark.exact { "audit-mark verified" } else { "audit-mark error" }
                            data-testid="audit-mark" data-state=if mark.exact { "match" } else { "mismatch" }
                            title=format!("Subnet {}'s epoch at block #{}, recomputed from proven state: {}", mark.netuid, mark.block, mark.verdict)>
                            {format!("audit {} subnet {} #{}", if mark.exact { "✓" } else { "✗" }, mark.netuid, mark.block)}
                        </a>
                    })}
                    {move || status.with(|s| s.trust.as_ref().and_then(|t| t.stale())).map(|why| view! {
                        <a href="/network" class="stale" data-testid="stale-mark"
                            title=format!("Not updated: {why}")>"stale"</a>
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
    let theme = RwSignal::new(crate::chain::load(THEME).unwrap_or_else(|| "system".into()));
    Effect::new(move |_| {
        let chosen = theme.get();
        apply_theme(&chosen);
        crate::chain::save(THEME, &chosen);
    });
    view! {
        <span class="theme">
            <label for="theme-select">"Theme"</label>
            " "
            <select id="theme-select" data-testid="theme-select"
                on:change=move |ev| theme.set(event_target_value(&ev))>
                {[("system", "System"), ("light", "Light"), ("dark", "Dark")].into_iter().map(|(value, label)| view! {
                    <option value=value selected=move || theme.get() == value>{label}</option>
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
fn connection_words(status: &ChainStatus, spec: &SpecState) -> String {
    match (status.phase, spec) {
        (Phase::Idle, SpecState::Fetching(_)) => "Fetching the chain spec…".into(),
        (Phase::Idle, SpecState::Failed(why)) => format!("Not connected: {why}"),
        (Phase::Idle, _) => "Not connected".into(),
        (Phase::Syncing, _) if status.peers == 0 => "Connecting to peers…".into(),
        (Phase::Syncing, _) => "Syncing…".into(),
        (Phase::Live, _) if status.peers == 0 => "Live, reconnecting to peers…".into(),
        (Phase::Live, _) => "Live".into(),
        (Phase::Failed, _) => format!(
            "Stopped: {}",
            status
                .error
                .as_deref()
                .unwrap_or("the light client stopped")
        ),
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address. Try the " <a href="/epoch-lab">"Epoch lab"</a> " or the " <a href="/system">"System"</a> " page."</p>
        </section>
    }
}
