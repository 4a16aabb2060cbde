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
use crate::i18n::{I18n, use_i18n};
use crate::pages::subnets::{refresh_on_finality, short, waiting};
use crate::table::{Cell, Column, DataTable, Row, SortBy};
use crate::wallet::{self, WalletAccount};
use leptos::prelude::*;
use std::collections::BTreeMap;
use taoscope_light_client::keys::DEV_ACCOUNTS;
use taoscope_light_client::metagraph::StakePosition;
use taoscope_light_client::ss58;
use taoscope_light_client::staking::{Arg, ArgKind, Move};
use taoscope_light_client::units::parse_tao;

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
pub(crate) struct Visit(pub(crate) u64);

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
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
            <h1>{move || i18n.t("nav.account")}</h1>
            <Wallets chosen/>
            <WatchAddress chosen/>
            {move || matches!(chain.network.get(), Network::Localnet | Network::LocalnetVerified).then(|| view! { <DevAccounts chosen/> })}
            {move || chosen.get().map(|c| view! { <PortfolioView chosen=c/> })}
        </section>
    }
}

#[component]
fn Wallets(chosen: RwSignal<Option<Chosen>>) -> impl IntoView {
    let i18n = use_i18n();
    // Extensions inject while the page loads; read them when this page opens.
    let names = wallet::wallets();
    let accounts = RwSignal::new(None::<(String, Result<Vec<WalletAccount>, String>)>);
    let connect = move |name: String| {
        leptos::task::spawn_local(async move {
            let result = wallet::connect(&wallet::WalletRef::local(name.clone())).await;
            accounts.set(Some((name, result)));
        });
    };
    view! {
        <h2>{move || i18n.t("account.from-wallet")}</h2>
        {if names.is_empty() {
            view! {
                <p class="muted" data-testid="wallets-none">{move || i18n.t("account.no-wallet")}</p>
            }.into_any()
        } else {
            view! {
                <p>
                    {names.into_iter().map(|name| {
                        let label = { let name = name.clone(); move || i18n.tf("account.connect", &[("wallet", &name)]) };
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
                <p class="muted" data-testid="wallet-empty">{i18n.tf("account.wallet-empty", &[("wallet", &name)])}</p>
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
                                    {account.name.clone().unwrap_or_else(|| i18n.t("account.unnamed"))}
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
    let i18n = use_i18n();
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
        <h2>{move || i18n.t("account.watch")}</h2>
        <form on:submit=watch class="watch">
            <label for="watch-address">{move || i18n.t("account.ss58")}</label>
            " "
            <input id="watch-address" data-testid="watch-address" size="50" autocomplete="off" spellcheck="false"
                prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev))/>
            " "
            <button type="submit" data-testid="watch-submit">{move || i18n.t("account.watch-button")}</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="watch-error">{why}</p> })}
    }
}

#[component]
fn DevAccounts(chosen: RwSignal<Option<Chosen>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <h2>{move || i18n.t("account.dev")}</h2>
        <p>
            {DEV_ACCOUNTS.into_iter().map(|(name, address)| view! {
                <button type="button" data-testid="dev-account" data-address=address
                    title=i18n.tf("account.dev-title", &[("name", name)])
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
    let i18n = use_i18n();
    let chain = expect_context::<Chain>();
    let notices_for = chosen.address.clone();
    let answer = portfolio_of(chain, chosen.address.clone());
    let sort = RwSignal::new(None);
    view! {
        <h2>{move || i18n.t("account.portfolio")}</h2>
        <p data-testid="portfolio-account" data-address=chosen.address.clone()>
            <code>{chosen.address.clone()}</code>
            <span class="muted">{format!(" ({})", chosen.source)}</span>
        </p>
        {move || match answer.get() {
            None => waiting(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="portfolio-error">{why}</p> }.into_any(),
            Some(Ok(verified)) => view! {
                <PendingNotices address=notices_for.clone() nonce=verified.value.account.nonce at=verified.at.number/>
                <PortfolioTables verified sort/>
            }.into_any(),
        }}
        {match chosen.source.as_str() {
            "watch-only" | "development" => view! {
                <p class="muted" data-testid="stake-unavailable">{move || i18n.t("account.stake-unavailable")}</p>
            }.into_any(),
            wallet => view! { <StakeForm from=chosen.address.clone() wallet=wallet::WalletRef::local(wallet)/> }.into_any(),
        }}
    }
}

/// What became of the transactions an earlier visit sent from `address` and did not see end,
/// judged by the account's proven `nonce` at finalized block `at`; each one settled is said once
/// and forgotten.
#[component]
fn PendingNotices(address: String, nonce: u32, at: u64) -> impl IntoView {
    let i18n = use_i18n();
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
                let values = [("what", p.what.clone()), ("nonce", p.nonce.to_string()), ("at", at.to_string()), ("until", p.valid_until.to_string())];
                let values: Vec<(&str, &str)> = values.iter().map(|(k, v)| (*k, v.as_str())).collect();
                let (state, words) = if nonce > p.nonce {
                    ("included", i18n.tf("pending.included", &values))
                } else if at > p.valid_until {
                    ("expired", i18n.tf("pending.expired", &values))
                } else {
                    ("pending", i18n.tf("pending.pending", &values))
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
fn arg_words(i18n: I18n, kind: Option<ArgKind>, value: &serde_json::Value) -> String {
    match (kind, value.as_u64()) {
        (Some(ArgKind::Amount), Some(rao)) => format!("{} τ", i18n.tao(rao)),
        (Some(ArgKind::Alpha), Some(rao)) => format!("{} α", i18n.tao(rao)),
        (Some(ArgKind::LimitPrice), Some(rao)) => format!("{} τ per α", i18n.tao(rao)),
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
pub(crate) fn StakeForm(
    from: String,
    wallet: wallet::WalletRef,
    /// Only the runtime's `add_stake` family (a widget's stake button).
    #[prop(optional)]
    stake_only: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let chain = expect_context::<Chain>();
    // Asked until the runtime in force answers (the chain may still be syncing).
    refresh_on_finality(chain, move || {
        if !matches!(chain.moves.get_untracked(), Some(Ok(_))) {
            chain.request_moves();
        }
    });
    // The moves offered: all the runtime's, or its `add_stake` family only.
    let moves = Memo::new(move |_| {
        chain.moves.get().map(|all| {
            all.map(|all| {
                all.into_iter()
                    .filter(|m| !stake_only || m.call.starts_with("add_stake"))
                    .collect::<Vec<_>>()
            })
        })
    });
    // In a widget (`stake_only`), the page around the frame could lay something over it and
    // time a click: Sign takes clicks only a second after its review is shown. This holds the
    // review (prepared id) whose Sign is armed; each review's timer arms only its own.
    let armed = RwSignal::new(None::<u32>);
    let choice = RwSignal::new(0usize);
    // What was typed, by argument name: kept across moves (a hotkey stays when the move
    // changes) and across reviews, signing refusals and failures.
    let typed = RwSignal::new(BTreeMap::<String, String>::new());
    let tolerance = RwSignal::new(DEFAULT_TOLERANCE.to_string());
    let error = RwSignal::new(None::<String>);
    let step = RwSignal::new(Step::Editing);
    let chosen = Memo::new(move |_| {
        moves
            .get()
            .and_then(|m| m.ok())
            .and_then(|m| m.get(choice.get()).cloned())
    });
    // Opened from Where to stake (`?hotkey=&netuid=&amount=`): the runtime's first staking move
    // (its `add_stake` family: a link never fills in an unstake or a transfer) gets those
    // values in the arguments of their kinds, once, and says they came from a link; nothing
    // typed is replaced, and the review shows the call as built before anything is signed.
    let query = leptos_router::hooks::use_query_map();
    let prefilled = RwSignal::new(false);
    // Said until the user changes the move or a field.
    let link_notice = RwSignal::new(false);
    Effect::new(move |_| {
        let Some(Ok(moves)) = moves.get() else {
            return;
        };
        if prefilled.get_untracked() {
            return;
        }
        let given = query.with_untracked(|q| [q.get("hotkey"), q.get("netuid"), q.get("amount")]);
        if given.iter().all(Option::is_none) {
            return;
        }
        let Some((index, chosen)) = moves
            .iter()
            .enumerate()
            .find(|(_, m)| m.call.starts_with("add_stake"))
        else {
            return;
        };
        choice.set(index);
        prefilled.set(true);
        link_notice.set(true);
        typed.update(|t| {
            for arg in &chosen.args {
                let value = match arg.kind {
                    ArgKind::Account if arg.name.contains("hotkey") => given[0].clone(),
                    ArgKind::Netuid => given[1].clone(),
                    ArgKind::Amount => given[2].clone(),
                    _ => None,
                };
                if let Some(value) = value
                    && !t.contains_key(&arg.name)
                {
                    t.insert(arg.name.clone(), value);
                }
            }
        });
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
                    error.set(Some(format!("{}: {why}", wallet.name)));
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
            link_notice.set(false);
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
                    ArgKind::LimitPrice => ("14", "decimal", Some(i18n.t("stake.limit-hint"))),
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
        <h2>{move || i18n.t("stake.title")}</h2>
        {move || link_notice.get().then(|| view! {
            <p class="notice" role="status" data-testid="stake-prefilled">{i18n.t("stake.prefilled")}</p>
        })}
        {move || match moves.get() {
            None => view! { <p class="muted" aria-live="polite">{i18n.t("stake.reading-moves")}</p> }.into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="moves-error">{i18n.tf("stake.moves-error", &[("why", &why)])}</p> }.into_any(),
            Some(Ok(moves)) if moves.is_empty() => view! {
                <p class="muted" data-testid="moves-none">{i18n.t("stake.no-moves")}</p>
            }.into_any(),
            Some(Ok(moves)) => view! {
                <form on:submit=review.clone() class="stake" data-testid="stake-form">
                    <span class="field">
                        <label for="move-select">{move || i18n.t("stake.move")}</label>
                        " "
                        <select id="move-select" data-testid="move-select"
                            on:change=move |ev| {
                                choice.set(event_target_value(&ev).parse().unwrap_or(0));
                                link_notice.set(false);
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
                            <label for="move-tolerance">{move || i18n.t("stake.tolerance")}</label>
                            " "
                            <input id="move-tolerance" data-testid="move-tolerance" size="6" inputmode="decimal" autocomplete="off"
                                prop:value=move || tolerance.get()
                                on:input=move |ev| { tolerance.set(event_target_value(&ev)); back_to_editing(); }/>
                            {move || tolerance_ppm(&tolerance.get()).ok().filter(|&ppm| ppm > HIGH_TOLERANCE_PPM).map(|_| view! {
                                <span class="notice" data-testid="tolerance-warning">" "{i18n.t("stake.tolerance-warning")}</span>
                            })}
                        </span>
                    })}
                    " "
                    <button type="submit" data-testid="stake-review" disabled=in_flight>{move || i18n.t("stake.review")}</button>
                </form>
            }.into_any(),
        }}
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="stake-error">{why}</p> })}
        {move || live_quote(i18n, chain, asked.get()?)}
        {move || match step.get() {
            Step::Editing => ().into_any(),
            Step::Review(id) | Step::Signing(id) => match prepared(id) {
                None => view! { <p class="muted" aria-live="polite">{i18n.t("stake.building")}</p> }.into_any(),
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
                        .filter_map(|a| tx.args.get(&a.name).map(|v| (a.name.clone(), arg_words(i18n, Some(a.kind), v))))
                        .collect();
                    for (name, value) in tx.args.as_object().into_iter().flatten() {
                        if !order.iter().any(|a| &a.name == name) {
                            rows.push((name.clone(), arg_words(i18n, None, value)));
                        }
                    }
                    // What leaves the free balance: the amount of a move that spends TAO, and the fee.
                    let spent = tx.args.get("amount_staked").or_else(|| tx.args.get("value")).and_then(|v| v.as_u64()).unwrap_or(0);
                    let fee = tx.fee.clone();
                    let short_of = fee.as_ref().ok().and_then(|fee| spent.checked_add(*fee)).filter(|&total| total > tx.free);
                    let call_data = tx.payload["method"].as_str().unwrap_or_default().to_string();
                    view! {
                        <section class="review" data-testid="stake-review-panel" aria-live="polite">
                            <h3>{i18n.t("stake.review")}</h3>
                            <dl>
                                <dt>{i18n.t("review.call")}</dt><dd data-testid="review-call">{format!("{}.{}", tx.pallet, tx.call)}</dd>
                                {rows.into_iter().map(|(name, words)| view! {
                                    <dt>{name.replace('_', " ")}</dt>
                                    <dd data-testid="review-arg" data-name=name.clone()><code>{words}</code></dd>
                                }).collect_view()}
                                <dt>{i18n.t("review.fee")}</dt>
                                {match &fee {
                                    Ok(rao) => view! { <dd data-testid="review-fee" data-raw=*rao>{i18n.tf("review.fee-value", &[("tao", &i18n.tao(*rao))])}</dd> }.into_any(),
                                    Err(why) => view! { <dd data-testid="review-fee" class="notice">{i18n.tf("review.not-known", &[("why", why)])}</dd> }.into_any(),
                                }}
                                {tx.swap.clone().map(|swap| view! {
                                    <dt>{i18n.t("review.expected")}</dt>
                                    {match swap {
                                        Ok(q) => view! {
                                            <dd data-testid="review-swap">{format!(
                                                "{} for {} (swap fee {} τ + {} α, slippage {} τ / {} α: the runtime's simulation on proven state)",
                                                // What comes in for what goes out: alpha when staking, TAO when unstaking.
                                                if tx.call.starts_with("add") { format!("{} α", i18n.tao(q.alpha_amount)) } else { format!("{} τ", i18n.tao(q.tao_amount)) },
                                                if tx.call.starts_with("add") { format!("{} τ", i18n.tao(q.tao_amount)) } else { format!("{} α", i18n.tao(q.alpha_amount)) },
                                                i18n.tao(q.tao_fee), i18n.tao(q.alpha_fee),
                                                i18n.tao(q.tao_slippage), i18n.tao(q.alpha_slippage),
                                            )}</dd>
                                        }.into_any(),
                                        Err(why) => view! { <dd class="notice" data-testid="review-swap">{i18n.tf("review.not-known", &[("why", &why)])}</dd> }.into_any(),
                                    }}
                                })}
                                <dt>{i18n.t("review.free")}</dt><dd data-testid="review-free" data-raw=tx.free>{format!("{} τ", i18n.tao(tx.free))}</dd>
                                <dt>{i18n.t("review.from")}</dt><dd><code>{tx.from.clone()}</code></dd>
                                <dt>{i18n.t("account.nonce")}</dt><dd data-testid="review-nonce">{tx.nonce}</dd>
                                <dt>{i18n.t("review.valid")}</dt><dd>{i18n.tf("review.valid-value", &[("period", &tx.period.to_string()), ("number", &tx.birth.number.to_string())])}</dd>
                                <dt>{i18n.t("shell.runtime")}</dt><dd>{tx.spec_version}</dd>
                                <dt>{i18n.t("review.call-data")}</dt><dd><code class="wrap" title=i18n.t("review.call-data-title")>{call_data}</code></dd>
                            </dl>
                            {short_of.map(|total| view! {
                                <p class="notice" data-testid="review-short">
                                    {i18n.tf("review.short", &[("tao", &i18n.tao(total))])}
                                </p>
                            })}
                            {if signing {
                                view! {
                                    <p class="progress" data-testid="stake-signing">{i18n.t("review.waiting-wallet")}" "
                                        <button type="button" on:click=move |_| step.set(Step::Review(id))>{i18n.t("review.cancel")}</button>
                                    </p>
                                }.into_any()
                            } else {
                                if stake_only && armed.get_untracked() != Some(id) {
                                    leptos::task::spawn_local(async move {
                                        taoscope_light_client::platform::browser::sleep(std::time::Duration::from_secs(1)).await;
                                        if step.get_untracked() == Step::Review(id) {
                                            armed.set(Some(id));
                                        }
                                    });
                                }
                                view! {
                                    <button type="button" data-testid="stake-sign" disabled=move || stake_only && armed.get() != Some(id) on:click=move |_| sign(id, payload.clone())>{i18n.t("review.sign")}</button>
                                    " "
                                    <button type="button" on:click=move |_| step.set(Step::Editing)>{i18n.t("review.cancel")}</button>
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
                            {i18n.tf("stake.pending", &[("stage", &stage.clone().unwrap_or_else(|| i18n.t("stake.submitting")))])}
                        </p>
                    }.into_any()
                }
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="stake-result" data-state="failed">{i18n.tf("stake.not-sent", &[("why", &why)])}</p> }.into_any(),
                Some(Ok(Sent::Unknown { why })) => view! {
                    <p class="notice" role="alert" data-testid="stake-result" data-state="unknown">
                        {i18n.tf("stake.unknown", &[("why", &why)])}
                    </p>
                }.into_any(),
                Some(Ok(Sent::Included(included))) => view! { <Outcome included/> }.into_any(),
            },
        }}
    }
}

/// The quote for what the fields say now, once the worker has it: the runtime's fee on proven
/// state, and the limit price it derived.
fn live_quote(i18n: I18n, chain: Chain, asked: TxIntent) -> Option<impl IntoView> {
    // Only the answer for exactly what the fields say now.
    let tx = chain
        .quote_answer
        .get()
        .and_then(|(intent, tx)| (intent == asked).then_some(tx))?;
    let shown = match &tx {
        Ok(tx) => {
            let fee = match &tx.fee {
                Ok(rao) => i18n.tf("quote.fee", &[("tao", &i18n.tao(*rao))]),
                Err(why) => i18n.tf("quote.fee-unknown", &[("why", why)]),
            };
            let limit = tx
                .args
                .get("limit_price")
                .and_then(|p| p.as_u64())
                .map(|rao| i18n.tf("quote.limit", &[("tao", &i18n.tao(rao))]));
            i18n.tf(
                "quote.at",
                &[
                    ("number", &tx.birth.number.to_string()),
                    ("fee", &fee),
                    ("limit", &limit.unwrap_or_default()),
                    ("ms", &format!("{:.0}", tx.took_ms)),
                ],
            )
        }
        Err(why) => i18n.tf("quote.none", &[("why", why)]),
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
    let i18n = use_i18n();
    let (state, words) = match &included.outcome {
        Ok(()) => ("success", i18n.t("outcome.success")),
        Err(why) => (
            "dispatch-error",
            i18n.tf("outcome.refused", &[("why", why)]),
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
            {i18n.tf("outcome.final", &[("block", &short(&included.block)), ("index", &included.index.to_string()), ("words", &words)])} " "
            {fee_paid.map(|fee| format!("{} ", i18n.tf("outcome.fee-paid", &[("tao", &i18n.tao(fee))])))}
            <code title=i18n.t("outcome.extrinsic-hash")>{short(&included.extrinsic_hash)}</code>
        </p>
        <details>
            <summary>{i18n.t("outcome.events")}</summary>
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
fn PortfolioTables(verified: Verified<Portfolio>, sort: SortBy) -> impl IntoView {
    let i18n = use_i18n();
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
            {i18n.tf("account.verified-at", &[("number", &at.number.to_string())])} " " <code title=i18n.t("account.block-hash")>{short(&at.hash)}</code>
        </p>
        <table class="portfolio" data-testid="portfolio-balances">
            <tbody>
                <tr><th scope="row">{i18n.t("account.free")}</th><td class="num" data-field="free" data-raw=account.free>{format!("{} τ", i18n.tao(account.free))}</td></tr>
                <tr><th scope="row">{i18n.t("account.reserved")}</th><td class="num" data-field="reserved" data-raw=account.reserved>{format!("{} τ", i18n.tao(account.reserved))}</td></tr>
                <tr><th scope="row">{i18n.t("account.staked")}</th><td class="num" data-field="staked" data-raw=staked>{format!("{} τ", i18n.tao(staked))}{(unpriced > 0).then(|| format!(" {}", i18n.tf("account.unpriced", &[("n", &unpriced.to_string())])))}</td></tr>
                <tr><th scope="row">{i18n.t("account.nonce")}</th><td class="num" data-field="nonce" data-raw=account.nonce>{account.nonce}</td></tr>
            </tbody>
        </table>
        {if stakes.is_empty() {
            view! { <p class="muted" data-testid="portfolio-no-stake">{i18n.t("account.no-stake")}</p> }.into_any()
        } else {
            let mut columns = vec![Column::text(i18n.t("account.hotkey"))];
            if per_subnet {
                columns.push(Column::number(i18n.t("home.col-subnet")));
            }
            columns.push(Column::number(i18n.t(if per_subnet { "account.stake-alpha" } else { "account.stake-tao" })));
            if per_subnet {
                columns.push(Column::number(i18n.t("account.value")).titled(i18n.t("account.value-title")));
            }
            let rows: Vec<Row> = stakes.into_iter().map(|s| {
                let mut cells = vec![Cell::copy(s.hotkey.clone())];
                if per_subnet {
                    cells.push(match s.netuid {
                        Some(n) => Cell::number(n.to_string(), n),
                        None => Cell::muted("—"),
                    });
                }
                cells.push(Cell::number(i18n.tao(s.stake), s.stake).field("stake", s.stake));
                if per_subnet {
                    let value = match (s.netuid, s.tao_value) {
                        (Some(0), _) => Cell::number(i18n.tao(s.stake), s.stake),
                        (_, Some(rao)) => Cell::number(i18n.tao(rao), rao),
                        _ => Cell::muted(i18n.t("account.not-priced")),
                    };
                    cells.push(value.field("tao-value", s.tao_value.map(|v| v.to_string()).unwrap_or_default()));
                }
                let row = Row::new(cells).attr("data-hotkey", &s.hotkey);
                match s.netuid {
                    Some(n) => row.attr("data-netuid", n),
                    None => row,
                }
            }).collect();
            view! { <DataTable testid="portfolio-stakes" row_testid="stake-row" columns rows sort/> }.into_any()
        }}
    }
}
