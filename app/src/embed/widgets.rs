//! The four widgets. Each reads through the frame's [`Chain`] what the app's own pages read (the
//! same worker requests, the same proofs), shows it with the block it was proven at, and tells
//! the host page each new verified value (`verified`).

use super::host::Host;
use crate::chain::Chain;
use crate::chain_protocol::{Phase, Sent};
use crate::i18n::{I18n, use_i18n};
use crate::pages::account::{StakeForm, Visit, portfolio_of};
use crate::pages::subnets::{emission_share, emission_total, refresh_on_finality, short};
use crate::pages::yields::{percent, take_words};
use crate::wallet::{self, WalletAccount, WalletRef, Where};
use leptos::prelude::*;
use serde_json::json;
use taoscope_light_client::client::BlockRef;
use taoscope_light_client::epoch_v103::is_epoch_block;
use taoscope_light_client::yields::DEFAULT_EPOCHS;

/// Tells the host each new verified value (once per value and block).
fn report(host: Host, value: Memo<Option<(serde_json::Value, BlockRef)>>) {
    Effect::new(move |_| {
        if let Some((value, block)) = value.get() {
            host.post(
                "verified",
                json!({ "value": value, "block": { "number": block.number, "hash": block.hash } }),
            );
        }
    });
}

fn waiting_words(chain: Chain) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let words = i18n.t(match chain.status.with(|s| s.phase) {
            Phase::Live => "widget.reading",
            _ => "widget.connecting",
        });
        view! { <p class="muted" aria-live="polite" data-testid="widget-waiting">{words}</p> }
    }
}

fn at_block(i18n: I18n, block: &BlockRef) -> impl IntoView + use<> {
    view! {
        <p class="verified-at" data-testid="widget-block" data-block-number=block.number data-block-hash=block.hash.clone()>
            {i18n.tf("widget.at-block", &[("number", &block.number.to_string())])}
        </p>
    }
}

/// A `<dl>` row with a test id.
fn fact(label: String, testid: &'static str, value: String, raw: String) -> impl IntoView {
    view! { <dt>{label}</dt><dd data-testid=testid data-raw=raw>{value}</dd> }
}

#[component]
pub fn SubnetWidget(netuid: u16) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let host = expect_context::<Host>();
    let i18n = use_i18n();
    refresh_on_finality(chain, move || chain.request_subnets());
    let found = Memo::new(move |_| match chain.subnets.get() {
        Some(Ok(v)) => Some(Ok((
            v.value.iter().find(|s| s.netuid == netuid).cloned(),
            emission_total(&v.value),
            v.at,
        ))),
        Some(Err(why)) => Some(Err(why)),
        None => None,
    });
    report(
        host,
        Memo::new(move |_| match found.get()? {
            Ok((Some(s), total, at)) => Some((
                json!({
                    "netuid": s.netuid, "tempo": s.tempo, "uids": s.n, "validators": s.validators,
                    "maxValidators": s.max_validators, "emission": s.emission,
                    "emissionShare": emission_share(s.emission, total), "owner": s.owner,
                }),
                at,
            )),
            _ => None,
        }),
    );
    view! {
        <h2>{i18n.tf("widget.subnet-title", &[("netuid", &netuid.to_string())])}</h2>
        {move || match found.get() {
            None => waiting_words(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="widget-read-error">{why}</p> }.into_any(),
            Some(Ok((None, _, at))) => view! {
                <p class="muted" data-testid="widget-empty">{i18n.tf("widget.no-subnet", &[("netuid", &netuid.to_string())])}</p>
                {at_block(i18n, &at)}
            }.into_any(),
            Some(Ok((Some(s), total, at))) => {
                // Spec 103's epoch rule; another runtime's blocks are not guessed.
                let spec_103 = chain.status.with_untracked(|st| st.runtime.as_ref().is_some_and(|r| r.spec_version == 103));
                let last_epoch = spec_103.then(|| (0..=u64::from(s.tempo)).map(|back| at.number.saturating_sub(back))
                    .find(|&b| is_epoch_block(netuid, s.tempo, b))).flatten();
                view! {
                    <dl class="facts">
                        {fact(i18n.t("widget.uids"), "widget-uids", i18n.int(u64::from(s.n)), s.n.to_string())}
                        {fact(i18n.t("widget.validators"), "widget-validators", i18n.tf("widget.validators-value", &[("n", &s.validators.to_string()), ("max", &s.max_validators.to_string())]), s.validators.to_string())}
                        {fact(i18n.t("widget.tempo"), "widget-tempo", i18n.tf("widget.tempo-value", &[("n", &s.tempo.to_string())]), s.tempo.to_string())}
                        {fact(i18n.t("widget.emission-share"), "widget-emission-share", emission_share(s.emission, total), s.emission.map(|e| e.to_string()).unwrap_or_default())}
                        {last_epoch.map(|b| fact(i18n.t("widget.last-epoch"), "widget-last-epoch", format!("#{b}"), b.to_string()))}
                    </dl>
                    {at_block(i18n, &at)}
                }.into_any()
            }
        }}
    }
}

#[component]
pub fn AuditWidget(netuid: u16) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let host = expect_context::<Host>();
    let i18n = use_i18n();
    refresh_on_finality(chain, move || chain.request_audit(netuid, 1));
    let newest = Memo::new(move |_| match chain.audit.get() {
        Some((n, Ok(answer))) if n == netuid => {
            Some(Ok((answer.epochs.first().cloned(), answer.at)))
        }
        Some((n, Err(why))) if n == netuid => Some(Err(why)),
        _ => None,
    });
    report(
        host,
        Memo::new(move |_| match newest.get()? {
            Ok((Some(e), _)) => Some((
                json!({
                    "netuid": netuid, "epoch": e.block.number, "checked": e.checked,
                    "mismatches": e.mismatches.len(), "exact": e.is_exact(), "verdict": e.verdict(),
                }),
                e.block.clone(),
            )),
            _ => None,
        }),
    );
    view! {
        <h2>{i18n.tf("widget.audit-title", &[("netuid", &netuid.to_string())])}</h2>
        {move || match newest.get() {
            None => waiting_words(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="widget-read-error">{why}</p> }.into_any(),
            Some(Ok((None, at))) => view! {
                <p class="muted" data-testid="widget-empty">{i18n.t("widget.no-epoch")}</p>
                {at_block(i18n, &at)}
            }.into_any(),
            Some(Ok((Some(e), _))) => {
                let exact = e.is_exact();
                view! {
                    <p class=if exact { "verdict verified" } else { "verdict error" } data-testid="widget-verdict"
                        data-exact=exact.to_string() data-checked=e.checked data-mismatches=e.mismatches.len()>
                        {if exact { "✓ " } else { "✗ " }} {e.verdict()}
                    </p>
                    <p class="muted">{i18n.tf("widget.epoch-words", &[("number", &e.block.number.to_string()), ("algorithm", &e.algorithm)])}</p>
                    <p class="verified-at" data-testid="widget-block" data-block-number=e.block.number data-block-hash=e.block.hash.clone()>
                        {i18n.tf("widget.epoch-block", &[("number", &e.block.number.to_string())])}
                    </p>
                }.into_any()
            }
        }}
    }
}

#[component]
pub fn ValidatorWidget(hotkey: String) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let host = expect_context::<Host>();
    let i18n = use_i18n();
    refresh_on_finality(chain, move || {
        chain.request_yields(u16::try_from(DEFAULT_EPOCHS).unwrap_or(u16::MAX))
    });
    let key = hotkey.clone();
    // The hotkey on every subnet it validates: its newest epoch's payout view and its yield.
    let found = Memo::new(move |_| match chain.yields.get() {
        Some(Ok(answer)) => {
            let rows: Vec<_> = answer
                .subnets
                .iter()
                .filter_map(|s| {
                    let v = s.validators.iter().find(|v| v.latest.hotkey == key)?;
                    Some((s.netuid, s.block, v.clone()))
                })
                .collect();
            Some(Ok((rows, answer.at, answer.pending)))
        }
        Some(Err(why)) => Some(Err(why)),
        None => None,
    });
    let summary = Memo::new(move |_| {
        let Some(Ok((rows, at, _))) = found.get() else {
            return None;
        };
        // The newest epoch among its subnets: stake, take and nominators as proven there.
        let (_, block, newest) = rows.iter().max_by_key(|(_, block, _)| *block)?.clone();
        let yearly: f64 = rows.iter().map(|(_, _, v)| v.annual_yield).sum();
        let netuids: Vec<u16> = rows.iter().map(|(n, _, _)| *n).collect();
        Some((newest, block, yearly, netuids, at.clone()))
    });
    report(
        host,
        Memo::new(move |_| {
            let (v, block, yearly, netuids, at) = summary.get()?;
            Some((
                json!({
                    "hotkey": v.latest.hotkey, "stake": v.latest.stake, "take": v.latest.delegate_take,
                    "nominators": v.latest.nominators, "subnets": netuids, "yearlyYield": yearly,
                    "epochBlock": block,
                }),
                at,
            ))
        }),
    );
    let short = short(&hotkey);
    view! {
        <h2>{i18n.t("widget.validator-title")}" " <code title=hotkey.clone()>{short}</code></h2>
        {move || match (found.get(), summary.get()) {
            (None, _) => waiting_words(chain).into_any(),
            (Some(Err(why)), _) => view! { <p class="error" role="alert" data-testid="widget-read-error">{why}</p> }.into_any(),
            (Some(Ok((_, at, pending))), None) => view! {
                <p class="muted" data-testid="widget-empty">{i18n.t(if pending > 0 { "widget.auditing" } else { "widget.not-validating" })}</p>
                {at_block(i18n, &at)}
            }.into_any(),
            (Some(_), Some((v, block, yearly, netuids, at))) => {
                let listed = netuids.iter().map(u16::to_string).collect::<Vec<_>>();
                view! {
                <dl class="facts">
                    {fact(i18n.t("widget.total-stake"), "widget-stake", format!("{} τ", i18n.tao(v.latest.stake)), v.latest.stake.to_string())}
                    {fact(i18n.t("widget.take"), "widget-take", take_words(i18n, v.latest.delegate_take), v.latest.delegate_take.map(|t| t.to_string()).unwrap_or_default())}
                    {fact(i18n.t("widget.nominators"), "widget-nominators", i18n.int(u64::from(v.latest.nominators)), v.latest.nominators.to_string())}
                    {fact(i18n.t("widget.subnets"), "widget-subnets", listed.join(", "), listed.join(","))}
                    {fact(i18n.t("widget.yearly"), "widget-yield", percent(yearly, 2), yearly.to_string())}
                </dl>
                <p class="muted" data-testid="widget-epoch" data-block-number=block>{i18n.tf("widget.epoch-note", &[("number", &block.to_string())])}</p>
                {at_block(i18n, &at)}
            }.into_any()
            }
        }}
    }
}

#[component]
pub fn StakeWidget(hotkey: String, netuid: u16) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let host = expect_context::<Host>();
    let i18n = use_i18n();
    provide_context(Visit(js_sys::Date::now() as u64));
    // Wallets in this frame (Talisman injects into every frame), else the host page's, relayed.
    let local = wallet::wallets();
    let relayed = RwSignal::new(None::<Result<Vec<String>, String>>);
    if local.is_empty() && host.embedded() {
        leptos::task::spawn_local(async move {
            relayed.set(Some(wallet::host_wallets(host).await));
        });
    }
    let wallets = Signal::derive(move || {
        if !local.is_empty() {
            return Some(Ok(local
                .iter()
                .map(|n| WalletRef::local(n.clone()))
                .collect::<Vec<_>>()));
        }
        match relayed.get() {
            None if host.embedded() => None,
            None => Some(Ok(Vec::new())),
            Some(Err(why)) => Some(Err(why)),
            Some(Ok(names)) => Some(Ok(names
                .into_iter()
                .map(|name| WalletRef {
                    name,
                    place: Where::Host(host),
                })
                .collect())),
        }
    });
    let accounts = RwSignal::new(None::<(WalletRef, Result<Vec<WalletAccount>, String>)>);
    let chosen = RwSignal::new(None::<(WalletRef, String)>);
    let connect = move |wallet: WalletRef| {
        leptos::task::spawn_local(async move {
            let result = wallet::connect(&wallet).await;
            accounts.set(Some((wallet, result)));
        });
    };
    // A relayed wallet answer the worker refused: the page around the widget may have had the
    // wallet sign something else than what the user reviewed here.
    let relay_refused = RwSignal::new(false);
    let host_origin = host.origin().unwrap_or_default();
    // What the host hears of a transaction: sent and final, or why not.
    let told = StoredValue::new(0usize);
    Effect::new(move |_| {
        let all = chain.submitted.get();
        for (_, result) in all.iter().skip(told.get_value()) {
            match result {
                Ok(Sent::Included(tx)) if tx.outcome.is_ok() => host.post(
                    "staked",
                    json!({ "extrinsicHash": tx.extrinsic_hash, "block": tx.block }),
                ),
                Ok(Sent::Included(tx)) => host.error(&format!(
                    "the staking transaction was included and failed: {}",
                    tx.outcome.clone().err().unwrap_or_default()
                )),
                Ok(Sent::Unknown { why }) => host.error(why),
                Err(why) => {
                    host.error(&format!("not sent: {why}"));
                    if chosen.with_untracked(|c| {
                        c.as_ref()
                            .is_some_and(|(w, _)| matches!(w.place, Where::Host(_)))
                    }) {
                        relay_refused.set(true);
                    }
                }
            }
        }
        told.set_value(all.len());
    });
    let stake_of = Memo::new(move |_| chosen.get().map(|(_, address)| address));
    refresh_on_finality(chain, move || {
        if let Some(address) = stake_of.get() {
            chain.request_portfolio(address);
        }
    });
    let short = short(&hotkey);
    let target = hotkey.clone();
    view! {
        <h2>{i18n.tf("widget.stake-title", &[("netuid", &netuid.to_string())])}" " <code title=hotkey.clone()>{short}</code></h2>
        {move || match chosen.get() {
            Some((wallet, address)) => {
                let portfolio = portfolio_of(chain, address.clone());
                let target = target.clone();
                let relayed = matches!(wallet.place, Where::Host(_));
                let origin = host_origin.clone();
                let warned = host_origin.clone();
                view! {
                    {relayed.then(|| view! {
                        <p class="notice" data-testid="widget-relayed">{i18n.tf("widget.relayed", &[("origin", &origin)])}</p>
                    })}
                    {move || relay_refused.get().then(|| view! {
                        <p class="error" role="alert" data-testid="widget-relay-refused">{i18n.tf("widget.relay-refused", &[("origin", &warned)])}</p>
                    })}
                    <p class="muted" data-testid="widget-account" data-address=address.clone()>
                        {i18n.tf("widget.from", &[("address", &address), ("wallet", &wallet.name)])}
                        {move || portfolio.get().and_then(|p| p.ok()).map(|p| {
                            let staked: u64 = p.value.stakes.iter().filter(|s| s.hotkey == target).map(|s| s.stake).sum();
                            view! {
                                <span data-testid="widget-your-stake" data-raw=staked>{i18n.tf("widget.staked-here", &[("staked", &i18n.tao(staked)), ("free", &i18n.tao(p.value.account.free))])}</span>
                            }
                        })}
                    </p>
                    <StakeForm from=address wallet stake_only=true/>
                }.into_any()
            }
            None => view! {
                {move || match wallets.get() {
                    None => view! { <p class="muted" aria-live="polite">{i18n.t("widget.looking")}</p> }.into_any(),
                    Some(Err(why)) => view! { <p class="notice" data-testid="widget-no-wallet">{why}</p> }.into_any(),
                    Some(Ok(list)) if list.is_empty() => view! {
                        <p class="notice" data-testid="widget-no-wallet">{i18n.t("widget.no-wallet")}</p>
                    }.into_any(),
                    Some(Ok(list)) => view! {
                        <p>{list.into_iter().map(|w| {
                            let label = i18n.tf("account.connect", &[("wallet", &w.name)]);
                            let name = w.name.clone();
                            view! {
                                <button type="button" data-testid="widget-wallet" data-wallet=name on:click=move |_| connect(w.clone())>{label}</button>
                                " "
                            }
                        }).collect_view()}</p>
                    }.into_any(),
                }}
                {move || accounts.get().map(|(wallet, result)| match result {
                    Err(why) => view! { <p class="error" role="alert" data-testid="widget-wallet-error">{format!("{}: {why}", wallet.name)}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted">{i18n.tf("account.wallet-empty", &[("wallet", &wallet.name)])}</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="accounts">
                            {list.into_iter().map(|account| {
                                let wallet = wallet.clone();
                                let address = account.address.clone();
                                view! {
                                    <li><button type="button" data-testid="widget-account-choice" data-address=account.address.clone()
                                        on:click=move |_| chosen.set(Some((wallet.clone(), address.clone())))>
                                        {account.name.clone().unwrap_or_else(|| i18n.t("account.unnamed"))}
                                    </button> " " <code>{account.address.clone()}</code></li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            }.into_any(),
        }}
    }
}
