//! Widgets (`/widgets`): each widget live, its attributes, the snippet to paste into a site, the
//! events it fires and the Content-Security-Policy lines a host page needs. The preview is the
//! real thing: this page loads `widgets.js` and the widget runs in its `/embed/…` frame, exactly
//! as on another site.

use crate::chain::{Chain, Network, endpoints_for};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

const KINDS: [(&str, &str); 4] = [
    (
        "subnet",
        "A subnet's uids, validators, tempo, emission share and last epoch.",
    ),
    (
        "validator",
        "A validator's total stake, take, nominators, subnets and yearly yield.",
    ),
    (
        "audit",
        "The verdict of a subnet's latest epoch, recomputed in the browser.",
    ),
    (
        "stake",
        "A stake button: quote, review of the decoded call, and signing with the visitor's wallet.",
    ),
];

/// The attributes and events, as the loader takes them.
const REFERENCE: &str = "<h2>Attributes</h2><dl>\
<dt><code>netuid</code></dt><dd>The subnet (subnet, audit, stake).</dd>\
<dt><code>hotkey</code></dt><dd>The validator's hotkey, SS58 (validator, stake).</dd>\
<dt><code>network</code></dt><dd>finney (the default) or localnet, followed through verified RPC. \
Finney starts from the checkpoint imported in taoscope in this browser (Network page); on a site \
the browser keeps apart from taoscope's, a Finney widget says it has no checkpoint.</dd>\
<dt><code>rpc</code></dt><dd>The JSON-RPC endpoint to ask: wss:// for Finney (every answer is \
proven, the endpoint is not trusted); for the localnet only a node on the visitor's machine \
(ws://127.0.0.1:PORT), since anyone can run a chain with its public genesis and keys.</dd>\
<dt><code>theme</code></dt><dd>light, dark or auto (the visitor's system).</dd>\
<dt>CSS</dt><dd><code>--taoscope-accent</code> (#rgb or #rrggbb), <code>--taoscope-radius</code> \
(0px to 32px), <code>--taoscope-font</code> (a font-family list), set on the element.</dd></dl>\
<h2>Events</h2><p>Dispatched on the element: <code>taoscope:ready</code>, \
<code>taoscope:verified</code> (detail: value, block), <code>taoscope:staked</code> \
(extrinsicHash, block), <code>taoscope:error</code> (message), <code>taoscope:rejected</code> \
(a message the widget refused: count, why).</p>";

/// Loads `/widgets.js` into this page once (the preview uses the loader a site would).
fn load_loader() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.get_element_by_id("taoscope-widgets-js").is_some() {
        return;
    }
    if let Ok(script) = document.create_element("script") {
        let _ = script.set_attribute("id", "taoscope-widgets-js");
        let _ = script.set_attribute("src", "/widgets.js");
        if let Some(head) = document.head() {
            let _ = head.append_child(&script);
        }
    }
}

fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

#[component]
pub fn WidgetsPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    load_loader();
    let kind = RwSignal::new("subnet".to_string());
    let netuid = RwSignal::new("1".to_string());
    let hotkey = RwSignal::new(String::new());
    let theme = RwSignal::new("auto".to_string());
    let network = move || match chain.network.get() {
        Network::Finney => "finney",
        _ => "localnet",
    };
    let rpc = move || {
        let network = chain.network.get();
        match network {
            Network::Finney => None,
            _ => endpoints_for(Network::LocalnetVerified).into_iter().next(),
        }
    };
    // The element's attributes, in the order the snippet shows them.
    let attributes = move || {
        let mut all = Vec::new();
        let k = kind.get();
        if k != "validator" {
            all.push(("netuid", netuid.get().trim().to_string()));
        }
        if k == "validator" || k == "stake" {
            all.push(("hotkey", hotkey.get().trim().to_string()));
        }
        all.push(("network", network().to_string()));
        if let Some(rpc) = rpc() {
            all.push(("rpc", rpc));
        }
        if theme.get() != "auto" {
            all.push(("theme", theme.get()));
        }
        all
    };
    let snippet = move || {
        let attrs: String = attributes()
            .into_iter()
            .map(|(k, v)| format!(" {k}=\"{}\"", v.replace('"', "&quot;")))
            .collect();
        format!(
            "<script src=\"{}/widgets.js\" defer></script>\n<taoscope-{}{attrs}></taoscope-{}>",
            origin(),
            kind.get(),
            kind.get()
        )
    };
    // The preview: a fresh element whenever the attributes change.
    let preview = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let attrs = attributes();
        let k = kind.get();
        let Some(holder) = preview.get() else {
            return;
        };
        let Some(document) = web_sys::window().and_then(|w| w.document()) else {
            return;
        };
        holder.set_inner_html("");
        if let Ok(element) = document.create_element(&format!("taoscope-{k}")) {
            for (name, value) in attrs {
                let _ = element.set_attribute(name, &value);
            }
            let _ = element.set_attribute("data-testid", "widget-preview");
            let _ = holder.append_child(&element);
        }
    });
    let copy = move |_| {
        let text = snippet();
        if let Some(clipboard) = web_sys::window()
            .map(|w| w.navigator())
            .and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok())
            .filter(|c| !c.is_undefined())
            && let Ok(write) = js_sys::Reflect::get(&clipboard, &"writeText".into())
            && let Ok(write) = write.dyn_into::<js_sys::Function>()
        {
            let _ = write.call1(&clipboard, &text.into());
        }
    };
    let csp = move || {
        let o = origin();
        format!("script-src {o}; frame-src {o};")
    };
    view! {
        <section class="page">
            <h1>"Widgets"</h1>
            <p class="lead">"Verified Bittensor numbers and a stake button for any site, with one script tag. Each widget runs in a frame of taoscope's origin with its own light client (one for all the widgets of a page), so the page around it can neither change what it shows nor what a visitor signs."</p>
            <div class="row">
                <span class="field">
                    <label for="widget-kind">"Widget"</label>" "
                    <select id="widget-kind" data-testid="widget-kind" on:change=move |ev| kind.set(event_target_value(&ev))>
                        {KINDS.into_iter().map(|(k, _)| view! { <option value=k selected=move || kind.get() == k>{k}</option> }).collect_view()}
                    </select>
                </span>
                " "
                {move || (kind.get() != "validator").then(|| view! {
                    <span class="field"><label for="widget-netuid">"netuid"</label>" "
                        <input id="widget-netuid" data-testid="widget-netuid" size="5" inputmode="numeric" prop:value=move || netuid.get()
                            on:change=move |ev| netuid.set(event_target_value(&ev))/></span>
                })}
                " "
                {move || matches!(kind.get().as_str(), "validator" | "stake").then(|| view! {
                    <span class="field"><label for="widget-hotkey">"hotkey"</label>" "
                        <input id="widget-hotkey" data-testid="widget-hotkey" size="50" spellcheck="false" prop:value=move || hotkey.get()
                            on:change=move |ev| hotkey.set(event_target_value(&ev))/></span>
                })}
                " "
                <span class="field">
                    <label for="widget-theme">"theme"</label>" "
                    <select id="widget-theme" data-testid="widget-theme" on:change=move |ev| theme.set(event_target_value(&ev))>
                        {["auto", "light", "dark"].into_iter().map(|t| view! { <option value=t selected=move || theme.get() == t>{t}</option> }).collect_view()}
                    </select>
                </span>
            </div>
            <p class="muted">{move || KINDS.iter().find(|(k, _)| *k == kind.get()).map(|(_, words)| *words)}</p>
            <h2>"Preview"</h2>
            <div node_ref=preview class="widget-preview"></div>
            <h2>"Snippet"</h2>
            <pre class="snippet" data-testid="widget-snippet">{snippet}</pre>
            <button type="button" data-testid="widget-copy" on:click=copy>"Copy"</button>
            // Static reference text: one string, not a tree of view code.
            <div inner_html=REFERENCE></div>
            <h2>"Content-Security-Policy"</h2>
            <p>"A page with a policy lets in the loader and the frames:"</p>
            <pre class="snippet" data-testid="widget-csp">{csp}</pre>
        </section>
    }
}
