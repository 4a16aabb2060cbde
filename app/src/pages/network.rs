//! Network: where the chain spec came from, how far the light client got (a progress bar over
//! its stages, with the time to the first finalized block and to the first verified value),
//! its errors in words, the saved database, and chain spec import (file or URL). Over verified
//! RPC: the Trust panel (what is trusted, what was checked, which endpoint lied and how), the
//! checkpoint import and the endpoint list.

use crate::chain::{self, Chain, Network, SpecState};
use crate::chain_protocol::Phase;
use leptos::prelude::*;
use leptos::task::spawn_local;
use taoscope_light_client::verified::checkpoint::{BITTENSOR_SLOT_MS, Checkpoint};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The light client's stages, in order, for the progress bar (p2p, then verified RPC).
const STAGES: [&str; 4] = [
    "Chain spec",
    "Connected to a peer",
    "Finalized block verified",
    "First value verified",
];
const VERIFIED_STAGES: [&str; 4] = [
    "Checkpoint",
    "Connected to an endpoint",
    "Finalized block verified",
    "First value verified",
];

#[component]
pub fn NetworkPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let status = chain.status;
    let stage = move || {
        let ready = matches!(chain.spec.get(), SpecState::Ready(_));
        status.with(|s| {
            [
                ready,
                s.peers > 0 || s.finalized.is_some(),
                s.finalized.is_some(),
                s.first_value_ms.is_some(),
            ]
            .iter()
            .take_while(|done| **done)
            .count()
        })
    };
    let ms = |value: Option<f64>| value.map_or("—".to_string(), |v| format!("{v:.0} ms"));
    let verified = move || chain.network.get().verified();

    view! {
        <section class="page">
            <h1>"Network"</h1>
            <p class="muted">
                "The light client runs in this page (in a Web Worker) and checks everything it shows: "
                "each block header through GRANDPA finality proofs, each value through a storage proof "
                "against a finalized block. "
                {move || if verified() {
                    "The only thing you trust is the checkpoint (see Trust below); the endpoints only carry proofs."
                } else {
                    "The only thing you trust is the chain spec's genesis."
                }}
            </p>
            <dl class="facts">
                <dt>"Network"</dt><dd data-testid="network-name">{move || chain.network.get().label()}</dd>
                <dt>"Chain spec"</dt>
                <dd data-testid="spec-source">{move || match chain.spec.get() {
                    SpecState::None => "none yet".to_string(),
                    SpecState::Fetching(words) | SpecState::Ready(words) => words,
                    SpecState::Failed(why) => format!("not available: {why}"),
                }}</dd>
                <dt>"Transport"</dt>
                <dd data-testid="transport">{move || status.with(|s| if s.transport.is_empty() { "—".into() } else { s.transport.clone() })}</dd>
                <dt>"Chain"</dt><dd>{move || status.with(|s| s.chain_name.clone())}</dd>
            </dl>

            <h2>"Sync"</h2>
            <progress data-testid="sync-progress" max=STAGES.len() value=stage
                aria-label="Light client progress"></progress>
            <ol class="stages">
                {move || {
                    let names = if verified() { VERIFIED_STAGES } else { STAGES };
                    names.iter().enumerate().map(|(i, name)| view! {
                        <li class=move || stage_class(stage() > i)>{*name}</li>
                    }).collect_view()
                }}
            </ol>
            <dl class="facts">
                <dt>"Started from"</dt>
                <dd data-testid="started-from">{move || if verified() {
                    format!(
                        "{}, then every justification since",
                        chain.started_from.get().unwrap_or_else(|| "the checkpoint".into())
                    )
                } else if status.with(|s| s.from_database) {
                    "the database saved on an earlier visit (known peers and the runtime)".into()
                } else {
                    "the chain spec alone (warp sync from genesis)".into()
                }}</dd>
                <dt>"Time to first finalized block"</dt>
                <dd data-testid="time-to-finalized">{move || ms(status.with(|s| s.first_finalized_ms))}</dd>
                <dt>"Time to first verified value"</dt>
                <dd data-testid="time-to-value">{move || ms(status.with(|s| s.first_value_ms))}</dd>
                <dt>"Saved for the next visit"</dt>
                <dd data-testid="saved-database">{move || match chain.saved.get() {
                    Some(saved) => format!("smoldot's database, {} KiB", saved.bytes.div_ceil(1024)),
                    None => "nothing yet".into(),
                }}</dd>
            </dl>
            {move || (!verified()).then(|| view! {
                <button type="button" on:click=move |_| chain.forget_database()
                    disabled=move || chain.saved.get().is_none()>"Forget the saved database"</button>
            })}

            {move || status.with(|s| s.error.clone()).filter(|_| status.with(|s| s.phase) != Phase::Live).map(|why| view! {
                <p class="error" role="alert" data-testid="chain-error">{why}</p>
            })}
            {move || match chain.spec.get() {
                SpecState::Failed(why) => Some(view! { <p class="error" role="alert" data-testid="spec-error">{why}</p> }),
                _ => None,
            }}
            <BlockedBootnodes/>

            {move || chain.network.get().verified().then(|| view! { <TrustPanel/> <VerifiedSource/> })}
            {move || (chain.network.get() == Network::Localnet).then(|| view! { <LocalnetSource/> })}
            {move || (!chain.network.get().verified()).then(|| view! { <ImportSpec/> })}
        </section>
    }
}

fn stage_class(done: bool) -> &'static str {
    if done { "done" } else { "todo" }
}

/// An https page cannot open `ws://` sockets to other machines: say so, and what to do.
#[component]
fn BlockedBootnodes() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let blocked = move || {
        let network = chain.network.get();
        let _ = chain.spec.get();
        chain::stored_spec(network)
            .map(|s| chain::blocked_bootnodes(&s))
            .unwrap_or_default()
    };
    move || {
        let blocked = blocked();
        (!blocked.is_empty()).then(|| view! {
            <div class="notice" role="alert" data-testid="mixed-content">
                <p>
                    "This page is served over https, and browsers forbid plain ws:// connections from "
                    "https pages to other machines, so these bootnodes cannot be used:"
                </p>
                <ul>{blocked.into_iter().map(|b| view! { <li><code>{b}</code></li> }).collect_view()}</ul>
                <p>"Open the app over http from this machine (" <code>"./scripts/run"</code> "), or use a chain spec whose bootnodes are wss:// addresses."</p>
            </div>
        })
    }
}

/// The localnet's JSON-RPC address, where its chain spec (with bootnodes) is fetched from.
#[component]
fn LocalnetSource() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let address = RwSignal::new(chain::localnet_rpc());
    let connect = move || chain.set_localnet_rpc(address.get_untracked().trim());
    view! {
        <h2>"Localnet"</h2>
        <form class="row" on:submit=move |ev| { ev.prevent_default(); connect(); }>
            <label for="localnet-rpc">"Localnet JSON-RPC address"</label>
            <input id="localnet-rpc" data-testid="localnet-rpc" type="text" spellcheck="false"
                prop:value=move || address.get()
                on:input=move |ev| address.set(event_target_value(&ev))/>
            <button type="submit" data-testid="localnet-connect">"Connect"</button>
        </form>
        <p class="muted">
            "Start it with " <code>"./scripts/run"</code> " (or " <code>"taoscope-localnet --dir DIR"</code>
            "). Only its chain spec comes from this address; blocks and values come over libp2p and "
            "are verified here."
        </p>
    }
}

/// Import a chain spec from a file or a URL; it is checked before it is used.
#[component]
fn ImportSpec() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let url = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let use_spec = move |text: String| match chain::check_spec(&text) {
        Ok(()) => {
            error.set(None);
            chain.import(text);
        }
        Err(why) => error.set(Some(why)),
    };
    let on_file = move |ev: leptos::ev::Event| read_chosen_file(&ev, use_spec, error);
    let on_url = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let address = url.get_untracked();
        spawn_local(async move {
            match fetch_text(&address).await {
                Ok(text) => use_spec(text),
                Err(why) => error.set(Some(why)),
            }
        });
    };
    view! {
        <h2>"Import a chain spec"</h2>
        <p class="muted">"A raw chain spec (JSON) with WebSocket bootnodes. It is kept in this browser."</p>
        <div class="row">
            <label for="spec-file">"From a file"</label>
            <input id="spec-file" data-testid="spec-file" type="file" accept=".json,application/json" on:change=on_file/>
        </div>
        <form class="row" on:submit=on_url>
            <label for="spec-url">"From a URL"</label>
            <input id="spec-url" data-testid="spec-url" type="url" placeholder="https://…/chainspec.json"
                prop:value=move || url.get() on:input=move |ev| url.set(event_target_value(&ev))/>
            <button type="submit">"Import"</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="import-error">{why}</p> })}
    }
}

/// Reads the file chosen in a file input (`ev`'s target) and hands its text to `use_text`; a
/// file that cannot be read is said in `error`.
fn read_chosen_file(
    ev: &leptos::ev::Event,
    use_text: impl Fn(String) + 'static,
    error: RwSignal<Option<String>>,
) {
    let Some(file) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        .and_then(|input| input.files())
        .and_then(|files| files.get(0))
    else {
        return;
    };
    spawn_local(async move {
        match JsFuture::from(file.text())
            .await
            .ok()
            .and_then(|t| t.as_string())
        {
            Some(text) => use_text(text),
            None => error.set(Some(format!("{}: cannot read the file", file.name()))),
        }
    });
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| format!("{url}: cannot fetch it (offline, a wrong address, or the server does not allow this page to read it)"))?;
    let response: web_sys::Response = response
        .dyn_into()
        .map_err(|_| format!("{url}: not an HTTP response"))?;
    if !response.ok() {
        return Err(format!("{url}: the server answered {}", response.status()));
    }
    let text = response
        .text()
        .map_err(|_| format!("{url}: cannot read the answer"))?;
    JsFuture::from(text)
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| format!("{url}: cannot read the answer"))
}

/// What the user trusts and what was checked, over verified RPC.
#[component]
fn TrustPanel() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let trust = move || chain.status.with(|s| s.trust.clone());
    let age = move || {
        let network = chain.network.get();
        let _ = chain.spec.get();
        let (text, _) = chain::checkpoint_for(network)?;
        let checkpoint = Checkpoint::from_json(&text).ok()?;
        let now = js_sys::Date::now() as u64;
        Some(checkpoint.age_ms(now, BITTENSOR_SLOT_MS).map_or(
            "unknown (no Aura slot: a genesis block)".to_string(),
            |ms| format!("{} days (from its block's slot)", ms / 86_400_000),
        ))
    };
    view! {
        <section class="trust" data-testid="trust-panel" aria-labelledby="trust-title">
            <h2 id="trust-title">"Trust"</h2>
            <p class="muted">
                "You trust one thing: the checkpoint below (a finalized block and the GRANDPA "
                "authorities that sign what follows it). It must be of this network's chain, and its "
                "block no older than the maximum age unless you accept it. Every header after it is "
                "accepted only with a justification of those authorities, every value only with a "
                "storage proof against a proven block, and the runtime only from its proven code. "
                "Endpoints are not trusted: an answer that fails a check is rejected and counted "
                "against them. A forced change of authorities is never taken on an endpoint's word: "
                "taoscope stops and asks for a new checkpoint."
            </p>
            <Refused/>
            {move || trust().map(|t| {
                view! {
                {t.stale().map(|why| view! {
                    <div class="notice" role="alert" data-testid="trust-stale">
                        <p><strong>"Stale: "</strong>"what is shown was proven at block "
                            {t.finalized.as_ref().map_or("—".into(), |b| format!("#{}", b.number))}
                            " and is not being updated."</p>
                        <p data-testid="trust-stale-why">{why}</p>
                    </div>
                })}
                <dl class="facts">
                    <dt>"Checkpoint"</dt>
                    <dd data-testid="trust-checkpoint">{format!("block #{} ({}), authority set {}", t.checkpoint_block.number, t.checkpoint_block.hash, t.checkpoint_set_id)}</dd>
                    <dt>"Checkpoint's source"</dt>
                    <dd data-testid="trust-source">{t.checkpoint_source.clone().unwrap_or_else(|| "not stated".into())}</dd>
                    <dt>"Checkpoint's age"</dt>
                    <dd data-testid="trust-age">{age().unwrap_or_else(|| "unknown".into())}</dd>
                    <dt>"Proven final"</dt>
                    <dd data-testid="trust-finalized">{t.finalized.as_ref().map_or("—".into(), |b| format!("#{}", b.number))}</dd>
                    <dt>"Authority set now"</dt>
                    <dd data-testid="trust-set-id">{t.set_id}</dd>
                    <dt>"Headers verified"</dt>
                    <dd data-testid="trust-headers">{t.headers_verified}</dd>
                    <dt>"Justifications verified"</dt>
                    <dd data-testid="trust-justifications">{t.justifications_verified}</dd>
                    <dt>"Storage proofs verified"</dt>
                    <dd data-testid="trust-proofs">{t.proofs_verified}</dd>
                    <dt>"Runtime (from proven code)"</dt>
                    <dd>{t.runtime.as_ref().map_or("—".into(), |r| format!("{} {}", r.spec_name, r.spec_version))}
                        {t.runtime_code_hash.clone().map(|h| view! { " " <code class="hash" title="blake2-256 of the proven :code">{h}</code> })}</dd>
                </dl>
                <h3>"Endpoint health"</h3>
                <table class="endpoints">
                    <thead><tr><th scope="col">"Endpoint"</th><th scope="col">"Connected"</th><th scope="col">"Rejected answers"</th><th scope="col">"Failed requests"</th></tr></thead>
                    <tbody>
                    {t.endpoints.iter().map(|e| view! {
                        <tr data-testid="endpoint-row" data-url=e.url.clone()>
                            <td><code>{e.url.clone()}</code></td>
                            <td>{if e.connected { "yes" } else { "no" }}</td>
                            <td data-field="rejections">{e.rejections}</td>
                            <td data-field="failures" title=e.last_failure.clone().unwrap_or_default()>{e.failures}</td>
                        </tr>
                    }).collect_view()}
                    </tbody>
                </table>
                {(!t.rejections.is_empty()).then(|| view! {
                    <h3>"Rejected answers"</h3>
                    <ul data-testid="rejections">
                        {t.rejections.iter().rev().map(|r| view! {
                            <li data-testid="rejection"><code>{r.endpoint.clone()}</code>" ("{r.what.clone()}"): "{r.why.clone()}</li>
                        }).collect_view()}
                    </ul>
                })}
            }})}
            <MaxAge/>
        </section>
    }
}

/// Why the checkpoint was refused; for an old one, the explicit choice to use it anyway.
#[component]
fn Refused() -> impl IntoView {
    let chain = expect_context::<Chain>();
    move || {
        chain.refused.get().map(|(why, acceptable)| view! {
            <div class="notice" role="alert" data-testid="checkpoint-refused">
                <p>{why}</p>
                {acceptable.then(|| view! {
                    <p>
                        "Accept it only if you know where it came from and that its authorities are "
                        "still this chain's."
                    </p>
                    <button type="button" data-testid="checkpoint-accept"
                        on:click=move |_| chain.accept_checkpoint()>
                        "Use this checkpoint anyway"
                    </button>
                })}
            </div>
        })
    }
}

/// The maximum checkpoint age, editable.
#[component]
fn MaxAge() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let days = RwSignal::new((chain::max_age_ms() / 86_400_000).to_string());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match days.get_untracked().trim().parse::<u64>() {
            Ok(d) if (1..=3650).contains(&d) => {
                error.set(None);
                chain::set_max_age_days(d);
                chain.connect();
            }
            _ => error.set(Some("a number of days from 1 to 3650".into())),
        }
    };
    view! {
        <form class="row" on:submit=apply>
            <label for="max-age">"Maximum checkpoint age (days)"</label>
            <input id="max-age" data-testid="max-age" type="number" min="1" max="3650" inputmode="numeric"
                prop:value=move || days.get() on:input=move |ev| days.set(event_target_value(&ev))/>
            <button type="submit" data-testid="max-age-save">"Apply"</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert">{why}</p> })}
    }
}

/// The checkpoint (import one) and the endpoints of a verified-RPC network.
#[component]
fn VerifiedSource() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let network = chain.network.get_untracked();
    let endpoints = RwSignal::new(chain::endpoints_for(network).join("\n"));
    let checkpoint = RwSignal::new(String::new());
    let error: RwSignal<Option<String>> = RwSignal::new(None);
    // A checkpoint of another localnet (started with other options): the user may follow it.
    let other_localnet: RwSignal<Option<(String, String)>> = RwSignal::new(None);
    let use_checkpoint = move |text: String| {
        other_localnet.set(None);
        match chain.import_checkpoint(&text) {
            Ok(()) => error.set(None),
            Err(chain::CheckpointImportError::OtherChain {
                why,
                localnet_genesis: Some(genesis),
            }) => {
                error.set(Some(why));
                other_localnet.set(Some((genesis, text)));
            }
            Err(why) => error.set(Some(why.to_string())),
        }
    };
    let on_file = move |ev: leptos::ev::Event| read_chosen_file(&ev, use_checkpoint, error);
    view! {
        <h2>"Endpoints to ask"</h2>
        <form class="stacked" on:submit=move |ev| { ev.prevent_default(); chain.set_endpoints(&endpoints.get_untracked()); }>
            <label for="endpoints">"JSON-RPC endpoints, one per line, tried in order (none is trusted)"</label>
            <textarea id="endpoints" data-testid="endpoints" rows="3" spellcheck="false"
                prop:value=move || endpoints.get()
                on:input=move |ev| endpoints.set(event_target_value(&ev))></textarea>
            <button type="submit" data-testid="endpoints-save">"Use these endpoints"</button>
        </form>
        <h2>"Checkpoint"</h2>
        <p class="muted">
            "Make one with " <code>"taoscope checkpoint --rpc URL --out FILE"</code>
            " against a node you run or trust, then import the file here."
        </p>
        <div class="row">
            <label for="checkpoint-file">"From a file"</label>
            <input id="checkpoint-file" data-testid="checkpoint-file" type="file" accept=".json,application/json" on:change=on_file/>
        </div>
        <form class="stacked" on:submit=move |ev| { ev.prevent_default(); use_checkpoint(checkpoint.get_untracked()); }>
            <label for="checkpoint-text">"Or paste it"</label>
            <textarea id="checkpoint-text" data-testid="checkpoint-text" rows="4" spellcheck="false"
                prop:value=move || checkpoint.get()
                on:input=move |ev| checkpoint.set(event_target_value(&ev))></textarea>
            <button type="submit" data-testid="checkpoint-import">"Use this checkpoint"</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="checkpoint-error">{why}</p> })}
        {move || other_localnet.get().map(|(genesis, text)| view! {
            <div class="notice">
                <p>
                    "If this is your own localnet, started with other options (" <code>"--grandpa-change"</code>
                    ", " <code>"--dev"</code> "), its genesis is " <code>{genesis}</code> "."
                </p>
                <button type="button" data-testid="checkpoint-other-localnet" on:click=move |_| {
                    match chain.import_localnet_checkpoint(&text) {
                        Ok(()) => { error.set(None); other_localnet.set(None); }
                        Err(why) => error.set(Some(why)),
                    }
                }>"Follow this localnet instead"</button>
            </div>
        })}
    }
}
