//! Widgets for other sites: what a `/embed/…` frame shows. `public/widgets.js` (the loader, in
//! the host page) turns `<taoscope-subnet>`, `<taoscope-validator>`, `<taoscope-audit>` and
//! `<taoscope-stake>` into frames of this origin; each frame runs this module instead of the app's
//! shell, on the light worker every frame of the browser shares for that network
//! ([`Chain::provide_shared`], [`crate::hub`]).
//!
//! Isolation is the point: the host page cannot reach into a frame of another origin, so it
//! cannot change what the widget verified nor what the user signs. What crosses the frame's edge
//! is in [`host`], with its threat model. A widget's parameters come from its address (the
//! loader writes them from the element's attributes); each is checked here, and a bad one is an
//! error in the widget, never a guess.

pub mod host;
mod widgets;

use crate::chain::{Chain, Network, SpecState};
use crate::chain_protocol::Phase;
use crate::i18n::I18n;
use host::Host;
use leptos::prelude::*;
use std::time::Duration;
use taoscope_light_client::ss58;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

/// Where the widget frames are.
pub const PATH: &str = "/embed/";
/// A widget without a verified block by then says it cannot reach the chain (it keeps trying).
const NO_CHAIN_AFTER: Duration = Duration::from_secs(15);

/// Whether this page is a widget frame.
pub fn is_embed() -> bool {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .is_some_and(|p| p.starts_with(PATH))
}

/// Whether a page of another origin frames this one.
pub fn framed_by_another_origin() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    match host::host_origin() {
        Some(origin) => window.location().origin().ok() != Some(origin),
        None => false,
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Subnet,
    Validator,
    Audit,
    Stake,
}

impl Kind {
    fn from_path(path: &str) -> Option<Kind> {
        match path.strip_prefix(PATH)?.trim_end_matches('/') {
            "subnet" => Some(Kind::Subnet),
            "validator" => Some(Kind::Validator),
            "audit" => Some(Kind::Audit),
            "stake" => Some(Kind::Stake),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Subnet => "subnet",
            Kind::Validator => "validator",
            Kind::Audit => "audit",
            Kind::Stake => "stake",
        }
    }
}

/// A widget's parameters, checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Params {
    pub kind: Kind,
    pub network: Network,
    pub endpoints: Option<Vec<String>>,
    pub netuid: Option<u16>,
    pub hotkey: Option<String>,
    pub theme: Option<&'static str>,
    /// CSS custom properties: `(name, value)`, each value checked against its kind.
    pub style: Vec<(&'static str, String)>,
}

/// Reads `path` and `query` (the frame's address) as a widget's parameters.
pub fn params(path: &str, query: &str) -> Result<Params, String> {
    let kind = Kind::from_path(path).ok_or_else(|| {
        format!("no widget at {path}: taoscope has subnet, validator, audit and stake")
    })?;
    // Every key decoded like the router decodes it, each once, each one this widget takes: a
    // second `hotkey` (or `%68otkey`) could otherwise fill the form with another key than the
    // one checked and shown here.
    let allowed: &[&str] = match kind {
        Kind::Subnet | Kind::Audit => &["netuid"],
        Kind::Validator => &["hotkey"],
        Kind::Stake => &["hotkey", "netuid"],
    };
    let mut given = std::collections::BTreeMap::new();
    for pair in query
        .trim_start_matches('?')
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |text: &str| {
            js_sys::decode_uri_component(&text.replace('+', " "))
                .ok()
                .and_then(|v| v.as_string())
        };
        let key = decode(key).ok_or("a parameter name that does not read")?;
        let value = decode(value).ok_or_else(|| format!("{key}: not a readable value"))?;
        if !allowed.contains(&key.as_str())
            && !["network", "rpc", "theme", "accent", "radius", "font"].contains(&key.as_str())
        {
            return Err(format!("the {} widget takes no {key:?}", kind.name()));
        }
        if given.insert(key.clone(), value).is_some() {
            return Err(format!("{key} is given twice"));
        }
    }
    let get = |key: &str| given.get(key).map(|v| v.trim()).filter(|v| !v.is_empty());
    let network = match get("network").unwrap_or("finney") {
        "localnet" => Network::LocalnetVerified,
        "finney" => Network::Finney,
        other => {
            return Err(format!(
                "network {other:?}: a widget follows \"finney\" or \"localnet\" (through verified RPC)"
            ));
        }
    };
    // The localnet's genesis and its finality key (//Alice) are public: anyone can run a chain
    // that proves whatever it likes from them. So a localnet widget reads only a node on the
    // visitor's own machine; Finney's endpoints are anyone's (every answer is proven from the
    // checkpoint).
    let endpoints = match get("rpc") {
        None => None,
        Some(url) if url.len() > 256 => {
            return Err("rpc: an address of at most 256 characters".into());
        }
        Some(url) if network == Network::LocalnetVerified && !is_loopback(url) => {
            return Err(format!(
                "rpc {url:?}: a localnet widget reads a node on this machine only (ws://127.0.0.1:PORT or ws://localhost:PORT)"
            ));
        }
        Some(url) if network == Network::LocalnetVerified || url.starts_with("wss://") => {
            Some(vec![url.to_string()])
        }
        Some(url) => return Err(format!("rpc {url:?}: a wss:// address, please")),
    };
    let netuid = match get("netuid") {
        None => None,
        Some(n) => Some(
            n.parse::<u16>()
                .map_err(|_| format!("netuid {n:?}: a subnet number (0 to 65535), please"))?,
        ),
    };
    let hotkey = match get("hotkey") {
        None => None,
        Some(h) => {
            let key = ss58::decode(h).map_err(|e| format!("hotkey {h:?}: {e}"))?;
            Some(ss58::encode(&key, ss58::BITTENSOR_PREFIX))
        }
    };
    match kind {
        Kind::Subnet | Kind::Audit if netuid.is_none() => {
            return Err(format!("the {} widget needs a netuid", kind.name()));
        }
        Kind::Validator if hotkey.is_none() => {
            return Err("the validator widget needs a hotkey".into());
        }
        Kind::Stake if hotkey.is_none() || netuid.is_none() => {
            return Err("the stake widget needs a hotkey and a netuid".into());
        }
        _ => {}
    }
    let theme = match get("theme").unwrap_or("auto") {
        "light" => Some("light"),
        "dark" => Some("dark"),
        "auto" => None,
        other => return Err(format!("theme {other:?}: light, dark or auto, please")),
    };
    let mut style = Vec::new();
    for (key, property, fits) in [
        ("accent", "--accent", is_color as fn(&str) -> bool),
        ("radius", "--radius", is_length),
        ("font", "--font", is_font),
    ] {
        if let Some(value) = get(key) {
            if !fits(value) {
                return Err(format!(
                    "{key} {value:?} is not a value taoscope takes for it"
                ));
            }
            style.push((property, value.to_string()));
        }
    }
    Ok(Params {
        kind,
        network,
        endpoints,
        netuid,
        hotkey,
        theme,
        style,
    })
}

/// `ws://127.0.0.1:PORT` or `ws://localhost:PORT`, nothing after the port.
fn is_loopback(url: &str) -> bool {
    ["ws://127.0.0.1:", "ws://localhost:"].iter().any(|start| {
        url.strip_prefix(start)
            .is_some_and(|port| port.trim_end_matches('/').parse::<u16>().is_ok())
    })
}

/// `#rgb`, `#rrggbb` (CSS of the host never reaches the frame: only these forms do).
fn is_color(value: &str) -> bool {
    value
        .strip_prefix('#')
        .is_some_and(|hex| matches!(hex.len(), 3 | 6) && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// `0px` to `32px`.
fn is_length(value: &str) -> bool {
    value
        .strip_suffix("px")
        .and_then(|n| n.parse::<u8>().ok())
        .is_some_and(|n| n <= 32)
}

/// A font family list: names, spaces, commas, hyphens and quotes (no url(), no semicolons).
fn is_font(value: &str) -> bool {
    value.len() <= 100
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " ,-'\"".contains(c))
}

/// The frame's root, in place of the app's shell.
#[component]
pub fn Embed() -> impl IntoView {
    I18n::provide();
    let host = Host::provide();
    let location = web_sys::window().map(|w| w.location());
    let path = location
        .as_ref()
        .and_then(|l| l.pathname().ok())
        .unwrap_or_default();
    let query = location
        .as_ref()
        .and_then(|l| l.search().ok())
        .unwrap_or_default();
    follow_size(host);
    let view = match params(&path, &query) {
        Err(why) => {
            host.error(&why);
            view! {
                <div class="widget" data-testid="widget" data-state="error">
                    <p class="error" role="alert" data-testid="widget-error">{why}</p>
                </div>
            }
            .into_any()
        }
        Ok(params) => {
            apply_look(&params);
            let chain = Chain::provide_shared(params.network, params.endpoints.clone());
            view! { <Frame params chain host/> }.into_any()
        }
    };
    host.post("ready", serde_json::json!({}));
    // The stake widget's form reads its hotkey and netuid from the address, like a link does.
    view! { <leptos_router::components::Router>{view}</leptos_router::components::Router> }
}

/// What the frame shows around a widget: its state, the chain's errors, the shared client's
/// count of frames, the messages refused.
#[component]
fn Frame(params: Params, chain: Chain, host: Host) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    // Why the chain cannot be read, once (the host hears each new reason once).
    let stalled = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        taoscope_light_client::platform::browser::sleep(NO_CHAIN_AFTER).await;
        if chain.status.with_untracked(|s| s.phase != Phase::Live) {
            stalled.set(true);
        }
    });
    let problem = Memo::new(move |_| chain_problem(chain, stalled.get()));
    Effect::new(move |_| {
        if let Some(why) = problem.get() {
            host.error(&why);
        }
    });
    let kind = params.kind;
    let link = match kind {
        Kind::Subnet => format!("/subnets/{}", params.netuid.unwrap_or_default()),
        Kind::Audit => format!("/subnets/{}/audit", params.netuid.unwrap_or_default()),
        Kind::Validator | Kind::Stake => "/stake".to_string(),
    };
    let on = format!(
        "{} · {}",
        params.network.chain_name(),
        chain.endpoints_now().join(", ")
    );
    let body = match kind {
        Kind::Subnet => view! { <widgets::SubnetWidget netuid=params.netuid.unwrap_or_default()/> }.into_any(),
        Kind::Audit => view! { <widgets::AuditWidget netuid=params.netuid.unwrap_or_default()/> }.into_any(),
        Kind::Validator => view! { <widgets::ValidatorWidget hotkey=params.hotkey.clone().unwrap_or_default()/> }.into_any(),
        Kind::Stake => view! {
            <widgets::StakeWidget hotkey=params.hotkey.clone().unwrap_or_default() netuid=params.netuid.unwrap_or_default()/>
        }.into_any(),
    };
    view! {
        <div class="widget" data-testid="widget" data-kind=kind.name()
            data-pages=move || chain.status.with(|s| s.pages)
            data-state=move || if problem.get().is_some() { "error" } else if chain.status.with(|s| s.phase == Phase::Live) { "live" } else { "waiting" }>
            {move || problem.get().map(|why| view! { <p class="error" role="alert" data-testid="widget-error">{why}</p> })}
            {body}
            <p class="widget-foot muted">
                {move || chain.status.with(|s| (s.phase == Phase::Live).then(|| view! {
                    <span class="verified" title=i18n.t("widget.verified-title")>{i18n.t("widget.verified")}</span>
                }))}
                " "
                <span data-testid="widget-network">{on}</span>
                " "
                <a href=link target="_blank" rel="noopener">{i18n.t("widget.open")}</a>
                {move || (host.rejected.get() > 0).then(|| view! {
                    " "
                    <span class="notice" data-testid="widget-rejected" data-count=host.rejected.get()
                        title=host.last_rejected.get().unwrap_or_default()>
                        {i18n.tf("widget.refused", &[("count", &host.rejected.get().to_string())])}
                    </span>
                })}
            </p>
        </div>
    }
}

/// Why the widget's chain cannot be read now, if so.
fn chain_problem(chain: Chain, stalled: bool) -> Option<String> {
    if let SpecState::Failed(why) = chain.spec.get() {
        return Some(why);
    }
    let (phase, error, peers) = chain.status.with(|s| (s.phase, s.error.clone(), s.peers));
    match phase {
        Phase::Live => None,
        Phase::Failed => Some(error.unwrap_or_else(|| "the light client stopped".into())),
        Phase::Idle | Phase::Syncing if stalled => Some(match error {
            Some(why) => format!("cannot reach the chain: {why}"),
            None if peers == 0 => format!(
                "cannot reach the chain: no endpoint answered in {} s (still trying)",
                NO_CHAIN_AFTER.as_secs()
            ),
            None => format!(
                "no block proven in {} s (still trying)",
                NO_CHAIN_AFTER.as_secs()
            ),
        }),
        Phase::Idle | Phase::Syncing => None,
    }
}

/// The host's look: theme and the CSS custom properties it set (checked in [`params`]).
fn apply_look(params: &Params) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    else {
        return;
    };
    if let Some(theme) = params.theme {
        let _ = root.set_attribute("data-theme", theme);
    }
    let _ = root.set_attribute("class", "embedded");
    for (property, value) in &params.style {
        let _ = root.style().set_property(property, value);
    }
}

/// Tells the host the frame's height whenever it changes (the loader sizes the frame).
fn follow_size(host: Host) {
    // The body, not the root: the root is never shorter than the frame, so it would never shrink.
    let Some(body) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.body())
    else {
        return;
    };
    let measured = body.clone();
    let on_resize = Closure::<dyn Fn()>::new(move || {
        host.post(
            "size",
            serde_json::json!({ "height": measured.scroll_height() }),
        );
    });
    if let Ok(observer) = web_sys::ResizeObserver::new(on_resize.as_ref().unchecked_ref()) {
        observer.observe(&body);
    }
    on_resize.forget();
}
