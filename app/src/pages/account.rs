//! The account page: choose an account (from a browser wallet, a watched address, or on a local
//! chain a development account) and see its portfolio: free and reserved balance and every
//! stake it holds, read through storage proofs at the newest finalized block, refreshed at each.
//!
//! An account from a wallet can stake: the light worker builds the call from the metadata of
//! the runtime in force, the user reviews it, the wallet signs the payload, and the worker
//! checks the signature against what it built before it submits and follows the transaction
//! until final, reading the runtime's events for what became of the call.
//!
//! The account chosen is kept in this browser (local storage) for the next visit; it is only an
//! address, never a key.

use crate::chain::{Chain, Network, load, save};
use crate::chain_protocol::{Included, Portfolio, Sent, TxIntent, Verified};
use crate::pages::subnets::{refresh_on_finality, short, waiting};
use crate::wallet::{self, WalletAccount};
use leptos::prelude::*;
use std::collections::BTreeMap;
use taoscope_light_client::keys::DEV_ACCOUNTS;
use taoscope_light_client::metagraph::StakePosition;
use taoscope_light_client::ss58;
use taoscope_light_client::staking::{Arg, ArgKind, Move};
use taoscope_light_client::units::{format_tao_grouped, parse_tao};

const CHOSEN: &str = "taoscope.account";

/// The account shown, and where it came from (a wallet's name, "watch-only", "development").
#[derive(Clone, Debug, PartialEq, Eq)]
struct Chosen {
    address: String,
    source: String,
}

/// The address chosen on the Account page (kept in this browser), for other pages to show.
pub(crate) fn chosen_account() -> Option<String> {
    stored().map(|c| c.address)
}

fn stored() -> Option<Chosen> {
    let text = load(CHOSEN)?;
    let (source, address) = text.split_once(' ')?;
    // Kept by us, but local storage is the user's to edit: checked like any address.
    ss58::decode(address).ok()?;
    Some(Chosen {
        address: address.into(),
        source: source.into(),
    })
}

const PENDING: &str = "taoscope.pending";
/// Pending transactions kept at most (the oldest forgotten first).
const PENDING_KEPT: usize = 16;

/// A transaction handed to the worker whose end the page has not shown yet, kept in this
/// browser so that after a reload the page can still tell what became of it: the account's
/// proven nonce passing `nonce` means it (or another of the account's transactions with that
/// nonce) was included; the chain passing `valid_until` without that means it never will be.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PendingTx {
    from: String,
    nonce: u32,
    valid_until: u64,
    /// The call, in words, for the notice.
    what: String,
    /// When the page that sent it was opened: that page shows the outcome itself.
    page: u64,
}

fn pending_txs() -> Vec<PendingTx> {
    // The browser's storage, anyone's to write: what does not read as we write it (an address,
    // `Pallet.call`) is dropped, and what does is only ever said as "sent from this browser".
    let plausible = |p: &PendingTx| {
        let name = |part: &str| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        ss58::decode(&p.from).is_ok()
            && p.what.len() <= 80
            && p.what
                .split_once('.')
                .is_some_and(|(pallet, call)| name(pallet) && name(call))
    };
    let mut all: Vec<PendingTx> = load(PENDING)
        .and_then(|text| serde_json::from_str::<Vec<PendingTx>>(&text).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(plausible)
        .collect();
    // The newest kept, as many as this page ever keeps.
    all.drain(..all.len().saturating_sub(PENDING_KEPT));
    all
}

fn keep_pending(update: impl FnOnce(&mut Vec<PendingTx>)) {
    let mut all = pending_txs();
    update(&mut all);
    let excess = all.len().saturating_sub(PENDING_KEPT);
    all.drain(..excess);
    save(PENDING, &serde_json::to_string(&all).unwrap_or_default());
}

/// Identifies this page's visit among the pending transactions kept.
#[derive(Clone, Copy)]
struct Visit(u64);

#[component]
pub fn AccountPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    provide_context(Visit(js_sys::Date::now() as u64));
    let chosen = RwSignal::new(stored());
    Effect::new(move |_| {
        if let Some(c) = chosen.get() {
            save(CHOSEN, &format!("{} {}", c.source, c.address));
        }
    });
    refresh_on_finality(chain, move || {
        if let Some(c) = chosen.get() {
            chain.request_portfolio(c.address);
        }
    });
    view! {
        <section class="page">
            <h1>"Account"</h1>
            <Wallets chosen/>
            <WatchAddress chosen/>
            {move || matches!(chain.network.get(), Network::Localnet | Network::LocalnetVerified).then(|| view! { <DevAccounts chosen/> })}
            {move || chosen.get().map(|c| view! { <PortfolioView chosen=c/> })}
        </section>
    }
}

#[component]
fn Wallets(chosen: RwSignal<Option<Chosen>>) -> impl IntoView {
    // Extensions inject while the page loads; read them when this page opens.
    let names = wallet::wallets();
    let accounts = RwSignal::new(None::<(String, Result<Vec<WalletAccount>, String>)>);
    let connect = move |name: String| {
        leptos::task::spawn_local(async move {
            let result = wallet::connect(&name).await;
            accounts.set(Some((name, result)));
        });
    };
    view! {
        <h2>"From a wallet"</h2>
        {if names.is_empty() {
            view! {
                <p class="muted" data-testid="wallets-none">
                    "No wallet extension is in this page. Install polkadot{.js}, Talisman or SubWallet (or a Bittensor wallet), or watch an address below."
                </p>
            }.into_any()
        } else {
            view! {
                <p>
                    {names.into_iter().map(|name| {
                        let label = format!("Connect {name}");
                        let chosen_name = name.clone();
                        view! {
                            <button type="button" data-testid="wallet-connect" data-wallet=name.clone()
                                on:click=move |_| connect(chosen_name.clone())>{label}</button>
                            " "
                        }
                    }).collect_view()}
                </p>
            }.into_any()
        }}
        {move || accounts.get().map(|(name, result)| match result {
            Err(why) => view! { <p class="error" role="alert" data-testid="wallet-error">{format!("{name}: {why}")}</p> }.into_any(),
            Ok(list) if list.is_empty() => view! {
                <p class="muted" data-testid="wallet-empty">{format!("{name} shares no sr25519 or ed25519 account with this page.")}</p>
            }.into_any(),
            Ok(list) => view! {
                <ul class="accounts" data-testid="wallet-accounts">
                    {list.into_iter().map(|account| {
                        let source = name.clone();
                        let address = account.address.clone();
                        view! {
                            <li>
                                <button type="button" data-testid="wallet-account" data-address=account.address.clone()
                                    on:click=move |_| chosen.set(Some(Chosen { address: address.clone(), source: source.clone() }))>
                                    {account.name.clone().unwrap_or_else(|| "(unnamed)".into())}
                                </button>
                                " " <code title=account.address.clone()>{short(&account.address)}</code>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            }.into_any(),
        })}
    }
}

#[component]
fn WatchAddress(chosen: RwSignal<Option<Chosen>>) -> impl IntoView {
    let text = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let watch = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let typed = text.get_untracked();
        match ss58::decode(&typed) {
            Ok(key) => {
                error.set(None);
                chosen.set(Some(Chosen {
                    address: ss58::encode(&key, ss58::BITTENSOR_PREFIX),
                    source: "watch-only".into(),
                }));
            }
            Err(why) => error.set(Some(format!("{why}"))),
        }
    };
    view! {
        <h2>"Watch an address"</h2>
        <form on:submit=watch class="watch">
            <label for="watch-address">"SS58 address (prefix 42)"</label>
            " "
            <input id="watch-address" data-testid="watch-address" size="50" autocomplete="off" spellcheck="false"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            " "
            <button type="submit" data-testid="watch-submit">"Watch"</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="watch-error">{why}</p> })}
    }
}

#[component]
fn DevAccounts(chosen: RwSignal<Option<Chosen>>) -> impl IntoView {
    view! {
        <h2>"Development accounts (this local chain only)"</h2>
        <p>
            {DEV_ACCOUNTS.into_iter().map(|(name, address)| view! {
                <button type="button" data-testid="dev-account" data-address=address
                    title=format!("//{name}: a well-known development key, never for real funds")
                    on:click=move |_| chosen.set(Some(Chosen { address: address.into(), source: "development".into() }))>
                    {format!("//{name}")}
                </button>
                " "
            }).collect_view()}
        </p>
    }
}

#[component]
fn PortfolioView(chosen: Chosen) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let notices_for = chosen.address.clone();
    let answer = portfolio_of(chain, chosen.address.clone());
    view! {
        <h2>"Portfolio"</h2>
        <p data-testid="portfolio-account" data-address=chosen.address.clone()>
            <code>{chosen.address.clone()}</code>
            <span class="muted">{format!(" ({})", chosen.source)}</span>
        </p>
        {move || match answer.get() {
            None => waiting(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="portfolio-error">{why}</p> }.into_any(),
            Some(Ok(verified)) => view! {
                <PendingNotices address=notices_for.clone() nonce=verified.value.account.nonce at=verified.at.number/>
                <PortfolioTables verified/>
            }.into_any(),
        }}
        {match chosen.source.as_str() {
            "watch-only" | "development" => view! {
                <p class="muted" data-testid="stake-unavailable">"Staking signs with a wallet: connect one above to stake from this page."</p>
            }.into_any(),
            wallet => view! { <StakeForm from=chosen.address.clone() wallet=wallet.to_string()/> }.into_any(),
        }}
    }
}

/// What became of the transactions an earlier visit sent from `address` and did not see end,
/// judged by the account's proven `nonce` at finalized block `at`; each one settled is said once
/// and forgotten.
#[component]
fn PendingNotices(address: String, nonce: u32, at: u64) -> impl IntoView {
    let Visit(this_visit) = expect_context::<Visit>();
    let mine: Vec<PendingTx> = pending_txs()
        .into_iter()
        .filter(|p| p.from == address && p.page != this_visit)
        .collect();
    let settled = |p: &PendingTx| nonce > p.nonce || at > p.valid_until;
    if mine.iter().any(settled) {
        keep_pending(|all| {
            all.retain(|p| !(p.from == address && p.page != this_visit && settled(p)))
        });
    }
    (!mine.is_empty()).then(|| view! {
        <ul class="pending" data-testid="pending-txs" aria-live="polite">
            {mine.into_iter().map(|p| {
                let (state, words) = if nonce > p.nonce {
                    ("included", format!("{}: sent from this browser before with nonce {}; a transaction with that nonce was included by block #{at} (this one, or another signed meanwhile). The portfolio below is the account now.", p.what, p.nonce))
                } else if at > p.valid_until {
                    ("expired", format!("{}: sent from this browser before and never included (valid until block #{}); nothing happened, you may send it again.", p.what, p.valid_until))
                } else {
                    ("pending", format!("{}: sent from this browser, not included yet (valid until block #{}).", p.what, p.valid_until))
                };
                view! { <li class="notice" data-testid="pending-tx" data-state=state>{words}</li> }
            }).collect_view()}
        </ul>
    })
}

/// Where a staking move's transaction is.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Editing,
    /// Prepared by the worker (request id), waiting for the user to review and sign.
    Review(u32),
    /// The wallet is asked to sign (its answer is used only while this is the step).
    Signing(u32),
    /// Signed and handed to the worker (request id).
    Submitted(u32),
}

/// Safe staking's default price tolerance, as btcli's: 0.5 %.
const DEFAULT_TOLERANCE: &str = "0.5";
/// Above this tolerance the form warns (btcli's threshold too).
const HIGH_TOLERANCE_PPM: u32 = 50_000;

/// An argument's label in words, from the name the runtime gives it.
fn arg_label(arg: &Arg) -> String {
    let words = match arg.name.as_str() {
        "dest" => "destination".to_string(),
        name => name.replace('_', " "),
    };
    let mut chars = words.chars();
    let words = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect::<String>())
        .unwrap_or_default();
    match arg.kind {
        ArgKind::Amount => format!("{words} (τ)"),
        ArgKind::Alpha => format!("{words} (α)"),
        ArgKind::Account => format!("{words} (SS58)"),
        _ => words,
    }
}

/// The call's arguments from what was typed, by the kind the runtime's types give each; the
/// first one that does not read says which and why.
fn typed_args(
    chosen: &Move,
    typed: &BTreeMap<String, String>,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut args = serde_json::Map::new();
    for arg in &chosen.args {
        let text = typed.get(&arg.name).map(|t| t.trim()).unwrap_or_default();
        let label = arg_label(arg);
        let value = match arg.kind {
            // Derived from the proven price and the tolerance, unless typed.
            ArgKind::LimitPrice if text.is_empty() => continue,
            ArgKind::Account => {
                let key = ss58::decode(text).map_err(|e| format!("{label}: {e}"))?;
                serde_json::json!(ss58::encode(&key, ss58::BITTENSOR_PREFIX))
            }
            // A limit of 0 would accept any price.
            ArgKind::Amount | ArgKind::Alpha | ArgKind::LimitPrice => match parse_tao(text) {
                Ok(0) => return Err(format!("{label}: more than 0, please")),
                Ok(rao) => serde_json::json!(rao),
                Err(e) => return Err(format!("{label}: {e}")),
            },
            ArgKind::Netuid => serde_json::json!(
                text.parse::<u16>()
                    .map_err(|_| format!("{label}: {text:?} is not a subnet number"))?
            ),
            ArgKind::Number => serde_json::json!(
                text.parse::<u64>()
                    .map_err(|_| format!("{label}: {text:?} is not a whole number"))?
            ),
            ArgKind::Flag => serde_json::json!(text == "true"),
        };
        args.insert(arg.name.clone(), value);
    }
    Ok(args)
}

/// Parts per million from a percentage typed by the user ("0.5" → 5000).
fn tolerance_ppm(text: &str) -> Result<u32, String> {
    let rao = parse_tao(text.trim()).map_err(|e| format!("Tolerance: {e}"))?;
    // A percentage with up to 4 decimals is a whole number of ppm: 1 % = 10 000 ppm.
    let ppm = rao / 100_000;
    if rao % 100_000 != 0 || ppm >= 1_000_000 {
        return Err(format!(
            "Tolerance: {text}% is not a percentage below 100 with at most 4 decimals"
        ));
    }
    Ok(u32::try_from(ppm).unwrap_or(u32::MAX))
}

/// A value of a prepared call in words, by its kind.
fn arg_words(kind: Option<ArgKind>, value: &serde_json::Value) -> String {
    match (kind, value.as_u64()) {
        (Some(ArgKind::Amount), Some(rao)) => format!("{} τ", format_tao_grouped(rao)),
        (Some(ArgKind::Alpha), Some(rao)) => format!("{} α", format_tao_grouped(rao)),
        (Some(ArgKind::LimitPrice), Some(rao)) => format!("{} τ per α", format_tao_grouped(rao)),
        (Some(ArgKind::Netuid), Some(n)) => format!("subnet {n}"),
        (Some(ArgKind::Flag), _) => if value == &serde_json::json!(true) {
            "yes"
        } else {
            "no"
        }
        .into(),
        _ => value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string),
    }
}

#[component]
fn StakeForm(from: String, wallet: String) -> impl IntoView {
    let chain = expect_context::<Chain>();
    // Asked until the runtime in force answers (the chain may still be syncing).
    refresh_on_finality(chain, move || {
        if !matches!(chain.moves.get_untracked(), Some(Ok(_))) {
            chain.request_moves();
        }
    });
    let choice = RwSignal::new(0usize);
    // What was typed, by argument name: kept across moves (a hotkey stays when the move
    // changes) and across reviews, signing refusals and failures.
    let typed = RwSignal::new(BTreeMap::<String, String>::new());
    let tolerance = RwSignal::new(DEFAULT_TOLERANCE.to_string());
    let error = RwSignal::new(None::<String>);
    let step = RwSignal::new(Step::Editing);
    let chosen = Memo::new(move |_| {
        chain
            .moves
            .get()
            .and_then(|m| m.ok())
            .and_then(|m| m.get(choice.get()).cloned())
    });
    // A transaction sent whose end is not known yet: no new one until it is (a second would
    // take the next nonce and could stake twice).
    let in_flight = move || match step.get() {
        Step::Signing(_) => true,
        Step::Submitted(id) => chain
            .submitted
            .with(|all| !all.iter().any(|(seen, _)| *seen == id)),
        _ => false,
    };
    // What the fields say, as the worker is asked it: the move's call with its arguments, and
    // the tolerance where the call has a limit price left to derive.
    let intent = move || -> Option<Result<TxIntent, String>> {
        let chosen = chosen.get()?;
        let args = match typed.with(|t| typed_args(&chosen, t)) {
            Ok(args) => args,
            Err(why) => return Some(Err(why)),
        };
        let limited = chosen
            .args
            .iter()
            .any(|a| a.kind == ArgKind::LimitPrice && !args.contains_key(&a.name));
        let tolerance_ppm = if limited {
            match tolerance_ppm(&tolerance.get()) {
                Ok(ppm) => Some(ppm),
                Err(why) => return Some(Err(why)),
            }
        } else {
            None
        };
        Some(Ok(TxIntent {
            from: from.clone(),
            pallet: chosen.pallet,
            call: chosen.call,
            args: serde_json::Value::Object(args),
            tolerance_ppm,
        }))
    };
    // Quoted as the user types, whenever the fields make a call.
    let asked = RwSignal::new(None::<TxIntent>);
    let quote_intent = intent.clone();
    Effect::new(move |_| match quote_intent() {
        Some(Ok(intent)) => {
            if asked.get_untracked().as_ref() != Some(&intent) {
                asked.set(Some(intent.clone()));
                chain.quote(intent);
            }
        }
        // Fields that make no call have no quote: the last one is not left on screen.
        _ => asked.set(None),
    });
    let review = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if in_flight() {
            return;
        }
        match untrack(&intent) {
            None => {}
            Some(Err(why)) => error.set(Some(why)),
            Some(Ok(intent)) => {
                error.set(None);
                step.set(Step::Review(chain.prepare(intent)));
            }
        }
    };
    let Visit(this_visit) = expect_context::<Visit>();
    let prepared_now = move |id: u32| {
        chain
            .prepared
            .get_untracked()
            .and_then(|(answered, result)| (answered == id).then_some(result))
    };
    // This visit saw the end of what it sent (or that it was never sent): not pending any more.
    // A transaction whose end is unknown stays, for a later visit to settle by the nonce.
    Effect::new(move |_| {
        let Step::Submitted(id) = step.get() else {
            return;
        };
        let ended = chain.submitted.with(|all| {
            all.iter()
                .any(|(seen, r)| *seen == id && !matches!(r, Ok(Sent::Unknown { .. })))
        });
        if let (true, Some(Ok(tx))) = (ended, prepared_now(id)) {
            keep_pending(|all| all.retain(|p| !(p.from == tx.from && p.nonce == tx.nonce)));
        }
    });
    let sign = move |id: u32, payload: serde_json::Value| {
        let wallet = wallet.clone();
        step.set(Step::Signing(id));
        leptos::task::spawn_local(async move {
            let answer = wallet::sign(&wallet, &payload).await;
            // Cancelled meanwhile: the answer is not used.
            if step.get_untracked() != Step::Signing(id) {
                return;
            }
            match answer {
                Ok(answer) => {
                    if let Some(Ok(tx)) = prepared_now(id) {
                        keep_pending(|all| {
                            all.push(PendingTx {
                                from: tx.from.clone(),
                                nonce: tx.nonce,
                                valid_until: tx.birth.number.saturating_add(tx.period),
                                what: format!("{}.{}", tx.pallet, tx.call),
                                page: this_visit,
                            })
                        });
                    }
                    chain.submit(id, answer.signature, answer.signed_transaction);
                    step.set(Step::Submitted(id));
                }
                Err(why) => {
                    error.set(Some(format!("{wallet}: {why}")));
                    step.set(Step::Review(id));
                }
            }
        });
    };
    let prepared = move |id: u32| {
        chain
            .prepared
            .get()
            .and_then(|(answered, result)| (answered == id).then_some(result))
    };
    let submitted = move |id: u32| {
        chain.submitted.with(|all| {
            all.iter()
                .find(|(seen, _)| *seen == id)
                .map(|(_, r)| r.clone())
        })
    };
    // Editing a field after a review goes back to editing: the panel never shows other values
    // than the fields.
    let back_to_editing = move || {
        if matches!(step.get_untracked(), Step::Review(_)) {
            step.set(Step::Editing);
        }
    };
    let field = move |arg: Arg| {
        let id = format!("arg-{}", arg.name);
        let label = arg_label(&arg);
        let name = arg.name.clone();
        let value = {
            let name = name.clone();
            move || typed.with(|t| t.get(&name).cloned().unwrap_or_default())
        };
        let set = move |text: String| {
            typed.update(|t| {
                t.insert(name.clone(), text);
            });
            back_to_editing();
        };
        match arg.kind {
            ArgKind::Flag => view! {
                <label class="field check">
                    <input type="checkbox" id=id.clone() data-testid=id.clone()
                        prop:checked=move || value() == "true"
                        on:change=move |ev| set(event_target_checked(&ev).to_string())/>
                    " " {label}
                </label>
            }
            .into_any(),
            kind => {
                let (size, mode, hint) = match kind {
                    ArgKind::Account => ("50", "text", None),
                    ArgKind::Netuid | ArgKind::Number => ("5", "numeric", None),
                    ArgKind::LimitPrice => (
                        "14",
                        "decimal",
                        Some("empty: from the price and your tolerance"),
                    ),
                    _ => ("14", "decimal", None),
                };
                view! {
                    <span class="field">
                        <label for=id.clone()>{label}</label>
                        " "
                        <input id=id.clone() data-testid=id.clone() size=size inputmode=mode autocomplete="off" spellcheck="false"
                            placeholder=hint.unwrap_or_default()
                            prop:value=value on:input=move |ev| set(event_target_value(&ev))/>
                    </span>
                }.into_any()
            }
        }
    };
    view! {
        <h2>"Stake and transfer"</h2>
        {move || match chain.moves.get() {
            None => view! { <p class="muted" aria-live="polite">"Reading which moves the runtime in force offers…"</p> }.into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="moves-error">{format!("The runtime's moves: {why}")}</p> }.into_any(),
            Some(Ok(moves)) if moves.is_empty() => view! {
                <p class="muted" data-testid="moves-none">"This runtime offers none of the staking moves this page knows."</p>
            }.into_any(),
            Some(Ok(moves)) => view! {
                <form on:submit=review.clone() class="stake" data-testid="stake-form">
                    <span class="field">
                        <label for="move-select">"Move"</label>
                        " "
                        <select id="move-select" data-testid="move-select"
                            on:change=move |ev| {
                                choice.set(event_target_value(&ev).parse().unwrap_or(0));
                                error.set(None);
                                back_to_editing();
                            }>
                            {moves.iter().enumerate().map(|(i, m)| view! {
                                <option value=i.to_string() data-call=m.call.clone() selected=move || choice.get() == i>
                                    {m.label.clone()}
                                </option>
                            }).collect_view()}
                        </select>
                        " "
                        <code class="muted" data-testid="move-call">{move || chosen.get().map(|m| format!("{}.{}", m.pallet, m.call))}</code>
                    </span>
                    {move || chosen.get().map(|m| m.args.into_iter().map(field).collect_view())}
                    {move || chosen.get().filter(|m| m.args.iter().any(|a| a.kind == ArgKind::LimitPrice)).map(|_| view! {
                        <span class="field">
                            <label for="move-tolerance">"Price tolerance (%)"</label>
                            " "
                            <input id="move-tolerance" data-testid="move-tolerance" size="6" inputmode="decimal" autocomplete="off"
                                prop:value=move || tolerance.get()
                                on:input=move |ev| { tolerance.set(event_target_value(&ev)); back_to_editing(); }/>
                            {move || tolerance_ppm(&tolerance.get()).ok().filter(|&ppm| ppm > HIGH_TOLERANCE_PPM).map(|_| view! {
                                <span class="notice" data-testid="tolerance-warning">" Over 5 %: the price may move far against you."</span>
                            })}
                        </span>
                    })}
                    " "
                    <button type="submit" data-testid="stake-review" disabled=in_flight>"Review"</button>
                </form>
            }.into_any(),
        }}
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="stake-error">{why}</p> })}
        {move || live_quote(chain, asked.get()?)}
        {move || match step.get() {
            Step::Editing => ().into_any(),
            Step::Review(id) | Step::Signing(id) => match prepared(id) {
                None => view! { <p class="muted" aria-live="polite">"Building the transaction from the runtime's metadata…"</p> }.into_any(),
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="stake-error">{why}</p> }.into_any(),
                Some(Ok(tx)) => {
                    let payload = tx.payload.clone();
                    let sign = sign.clone();
                    let signing = step.get() == Step::Signing(id);
                    // The prepared call's arguments in its own order, each in words by its kind;
                    // any the move does not list are shown as they are.
                    let order = chain.moves.get_untracked().and_then(|m| m.ok()).unwrap_or_default()
                        .into_iter().find(|m| m.pallet == tx.pallet && m.call == tx.call)
                        .map(|m| m.args).unwrap_or_default();
                    let mut rows: Vec<(String, String)> = order.iter()
                        .filter_map(|a| tx.args.get(&a.name).map(|v| (a.name.clone(), arg_words(Some(a.kind), v))))
                        .collect();
                    for (name, value) in tx.args.as_object().into_iter().flatten() {
                        if !order.iter().any(|a| &a.name == name) {
                            rows.push((name.clone(), arg_words(None, value)));
                        }
                    }
                    // What leaves the free balance: the amount of a move that spends TAO, and the fee.
                    let spent = tx.args.get("amount_staked").or_else(|| tx.args.get("value")).and_then(|v| v.as_u64()).unwrap_or(0);
                    let fee = tx.fee.clone();
                    let short_of = fee.as_ref().ok().and_then(|fee| spent.checked_add(*fee)).filter(|&total| total > tx.free);
                    let call_data = tx.payload["method"].as_str().unwrap_or_default().to_string();
                    view! {
                        <section class="review" data-testid="stake-review-panel" aria-live="polite">
                            <h3>"Review"</h3>
                            <dl>
                                <dt>"Call"</dt><dd data-testid="review-call">{format!("{}.{}", tx.pallet, tx.call)}</dd>
                                {rows.into_iter().map(|(name, words)| view! {
                                    <dt>{name.replace('_', " ")}</dt>
                                    <dd data-testid="review-arg" data-name=name.clone()><code>{words}</code></dd>
                                }).collect_view()}
                                <dt>"Fee"</dt>
                                {match &fee {
                                    Ok(rao) => view! { <dd data-testid="review-fee" data-raw=*rao>{format!("{} τ (the runtime's own price, on proven state)", format_tao_grouped(*rao))}</dd> }.into_any(),
                                    Err(why) => view! { <dd data-testid="review-fee" class="notice">{format!("not known: {why}")}</dd> }.into_any(),
                                }}
                                {tx.swap.clone().map(|swap| view! {
                                    <dt>"Expected"</dt>
                                    {match swap {
                                        Ok(q) => view! {
                                            <dd data-testid="review-swap">{format!(
                                                "{} for {} (swap fee {} τ + {} α, slippage {} τ / {} α: the runtime's simulation on proven state)",
                                                // What comes in for what goes out: alpha when staking, TAO when unstaking.
                                                if tx.call.starts_with("add") { format!("{} α", format_tao_grouped(q.alpha_amount)) } else { format!("{} τ", format_tao_grouped(q.tao_amount)) },
                                                if tx.call.starts_with("add") { format!("{} τ", format_tao_grouped(q.tao_amount)) } else { format!("{} α", format_tao_grouped(q.alpha_amount)) },
                                                format_tao_grouped(q.tao_fee), format_tao_grouped(q.alpha_fee),
                                                format_tao_grouped(q.tao_slippage), format_tao_grouped(q.alpha_slippage),
                                            )}</dd>
                                        }.into_any(),
                                        Err(why) => view! { <dd class="notice" data-testid="review-swap">{format!("not known: {why}")}</dd> }.into_any(),
                                    }}
                                })}
                                <dt>"Free balance"</dt><dd data-testid="review-free" data-raw=tx.free>{format!("{} τ", format_tao_grouped(tx.free))}</dd>
                                <dt>"From"</dt><dd><code>{tx.from.clone()}</code></dd>
                                <dt>"Nonce"</dt><dd data-testid="review-nonce">{tx.nonce}</dd>
                                <dt>"Valid"</dt><dd>{format!("for {} blocks from block #{}", tx.period, tx.birth.number)}</dd>
                                <dt>"Runtime"</dt><dd>{tx.spec_version}</dd>
                                <dt>"Call data"</dt><dd><code class="wrap" title="Compare with what your wallet shows">{call_data}</code></dd>
                            </dl>
                            {short_of.map(|total| view! {
                                <p class="notice" data-testid="review-short">
                                    {format!("Amount and fee ({} τ) are more than the free balance: the runtime will refuse the call and keep the fee.", format_tao_grouped(total))}
                                </p>
                            })}
                            {if signing {
                                view! {
                                    <p class="progress" data-testid="stake-signing">"Waiting for your wallet… "
                                        <button type="button" on:click=move |_| step.set(Step::Review(id))>"Cancel"</button>
                                    </p>
                                }.into_any()
                            } else {
                                view! {
                                    <button type="button" data-testid="stake-sign" on:click=move |_| sign(id, payload.clone())>"Sign with your wallet"</button>
                                    " "
                                    <button type="button" on:click=move |_| step.set(Step::Editing)>"Cancel"</button>
                                }.into_any()
                            }}
                        </section>
                    }.into_any()
                }
            },
            Step::Submitted(id) => match submitted(id) {
                None => {
                    let stage = chain.progress.get().and_then(|(seen, stage)| (seen == id).then_some(stage));
                    view! {
                        <p class="progress" data-testid="stake-pending" aria-live="polite" data-stage=stage.clone()>
                            {format!("Signed and checked; {}, waiting for a finalized block…", stage.as_deref().unwrap_or("submitting"))}
                        </p>
                    }.into_any()
                }
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="stake-result" data-state="failed">{format!("Not sent: {why}")}</p> }.into_any(),
                Some(Ok(Sent::Unknown { why })) => view! {
                    <p class="notice" role="alert" data-testid="stake-result" data-state="unknown">
                        {format!("Sent, but its end is not known: {why}. It may still be included: check the portfolio (the nonce goes up when it is) before trying again.")}
                    </p>
                }.into_any(),
                Some(Ok(Sent::Included(included))) => view! { <Outcome included/> }.into_any(),
            },
        }}
    }
}

/// The quote for what the fields say now, once the worker has it: the runtime's fee on proven
/// state, and the limit price it derived.
fn live_quote(chain: Chain, asked: TxIntent) -> Option<impl IntoView> {
    // Only the answer for exactly what the fields say now.
    let tx = chain
        .quote_answer
        .get()
        .and_then(|(intent, tx)| (intent == asked).then_some(tx))?;
    let shown = match &tx {
        Ok(tx) => {
            let fee = match &tx.fee {
                Ok(rao) => format!("fee {} τ", format_tao_grouped(*rao)),
                Err(why) => format!("fee not known ({why})"),
            };
            let limit = tx
                .args
                .get("limit_price")
                .and_then(|p| p.as_u64())
                .map(|rao| format!(", limit price {} τ per α", format_tao_grouped(rao)));
            format!(
                "Quote at block #{}: {fee}{} (the runtime on proven state, {:.0} ms).",
                tx.birth.number,
                limit.unwrap_or_default(),
                tx.took_ms
            )
        }
        Err(why) => format!("No quote: {why}"),
    };
    let ms = tx.as_ref().ok().map(|t| t.took_ms);
    let fee = tx.as_ref().ok().and_then(|t| t.fee.clone().ok());
    Some(
        view! { <p class="muted" data-testid="live-quote" data-ms=ms data-fee=fee aria-live="polite">{shown}</p> },
    )
}

/// A finalized transaction: what the runtime's proven events say of it.
#[component]
fn Outcome(included: Included) -> impl IntoView {
    let (state, words) = match &included.outcome {
        Ok(()) => ("success", "the call succeeded".to_string()),
        Err(why) => (
            "dispatch-error",
            format!("the runtime refused the call (the fee was paid): {why}"),
        ),
    };
    let fee_paid = included
        .events
        .iter()
        .find(|e| e.name == "TransactionPayment.TransactionFeePaid")
        .and_then(|e| e.attributes["actual_fee"].as_u64());
    view! {
        <p class=if state == "success" { "verified" } else { "error" } data-testid="stake-result" data-state=state
            data-block=included.block.clone() data-index=included.index data-fee-paid=fee_paid>
            {format!("Final in block {} (extrinsic {}): {words}. ", short(&included.block), included.index)}
            {fee_paid.map(|fee| format!("Fee paid: {} τ. ", format_tao_grouped(fee)))}
            <code title="Extrinsic hash">{short(&included.extrinsic_hash)}</code>
        </p>
        <details>
            <summary>"Its events (from the block's proven System.Events)"</summary>
            <ul data-testid="result-events">
                {included.events.into_iter().map(|e| view! {
                    <li data-name=e.name.clone() data-attributes=e.attributes.to_string()>
                        <strong>{e.name.clone()}</strong> " " <code class="wrap">{e.attributes.to_string()}</code>
                    </li>
                }).collect_view()}
            </ul>
        </details>
    }
}

/// Stake in TAO (rao): spec 103's stake is TAO, and the root subnet's; alpha counts by what the
/// runtime would pay for it (alpha it could not price is left out, and said so where shown).
pub(crate) fn staked_tao(stakes: &[StakePosition]) -> u64 {
    stakes
        .iter()
        .map(|s| match s.netuid {
            None | Some(0) => s.stake,
            Some(_) => s.tao_value.unwrap_or(0),
        })
        .fold(0, u64::saturating_add)
}

/// The portfolio answer for `address`, while the latest one the worker gave is for it.
pub(crate) fn portfolio_of(
    chain: Chain,
    address: String,
) -> Memo<Option<Result<Verified<Portfolio>, String>>> {
    Memo::new(move |_| {
        chain
            .portfolio
            .get()
            .and_then(|(a, result)| (a == address).then_some(result))
    })
}

#[component]
fn PortfolioTables(verified: Verified<Portfolio>) -> impl IntoView {
    let Verified { at, value } = verified;
    let Portfolio { account, stakes } = value;
    let staked = staked_tao(&stakes);
    let per_subnet = stakes.iter().any(|s| s.netuid.is_some());
    // Alpha the runtime could not price is not counted: said, not hidden in the total.
    let unpriced = stakes
        .iter()
        .filter(|s| matches!(s.netuid, Some(n) if n != 0) && s.tao_value.is_none())
        .count();
    view! {
        <p class="verified-at" data-testid="portfolio-block" data-block-hash=at.hash.clone() data-block-number=at.number>
            "Verified at finalized block #" {at.number} " " <code title="Block hash">{short(&at.hash)}</code>
        </p>
        <table class="portfolio" data-testid="portfolio-balances">
            <tbody>
                <tr><th scope="row">"Free"</th><td class="num" data-field="free" data-raw=account.free>{format!("{} τ", format_tao_grouped(account.free))}</td></tr>
                <tr><th scope="row">"Reserved"</th><td class="num" data-field="reserved" data-raw=account.reserved>{format!("{} τ", format_tao_grouped(account.reserved))}</td></tr>
                <tr><th scope="row">"Staked"</th><td class="num" data-field="staked" data-raw=staked>{format!("{} τ", format_tao_grouped(staked))}{(unpriced > 0).then(|| format!(" and {unpriced} alpha position(s) not priced"))}</td></tr>
                <tr><th scope="row">"Nonce"</th><td class="num" data-field="nonce" data-raw=account.nonce>{account.nonce}</td></tr>
            </tbody>
        </table>
        {if stakes.is_empty() {
            view! { <p class="muted" data-testid="portfolio-no-stake">"No stake on any hotkey."</p> }.into_any()
        } else {
            view! {
                <div class="table-scroll">
                <table data-testid="portfolio-stakes">
                    <thead><tr>
                        <th scope="col">"Hotkey"</th>
                        {per_subnet.then(|| view! { <th scope="col" class="num">"Subnet"</th> })}
                        <th scope="col" class="num">{if per_subnet { "Stake (α, root: τ)" } else { "Stake (τ)" }}</th>
                        {per_subnet.then(|| view! { <th scope="col" class="num" title="What the runtime's swap would pay for it now">"Value (τ)"</th> })}
                    </tr></thead>
                    <tbody>
                        {stakes.into_iter().map(|s| view! {
                            <tr data-testid="stake-row" data-hotkey=s.hotkey.clone() data-netuid=s.netuid>
                                <td><code title=s.hotkey.clone()>{short(&s.hotkey)}</code></td>
                                {per_subnet.then(|| view! { <td class="num">{s.netuid}</td> })}
                                <td class="num" data-field="stake" data-raw=s.stake>{format_tao_grouped(s.stake)}</td>
                                {per_subnet.then(|| view! {
                                    <td class="num" data-field="tao-value" data-raw=s.tao_value>
                                        {match (s.netuid, s.tao_value) {
                                            (Some(0), _) => format_tao_grouped(s.stake),
                                            (_, Some(rao)) => format_tao_grouped(rao),
                                            _ => "not priced".into(),
                                        }}
                                    </td>
                                })}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
    }
}
