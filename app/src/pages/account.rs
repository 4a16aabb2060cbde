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
use crate::chain_protocol::{Portfolio, Sent, Verified};
use crate::pages::subnets::{refresh_on_finality, short, waiting};
use crate::wallet::{self, WalletAccount};
use leptos::prelude::*;
use taoscope_light_client::keys::DEV_ACCOUNTS;
use taoscope_light_client::ss58;
use taoscope_light_client::units::format_tao_grouped;

const CHOSEN: &str = "taoscope.account";

/// The account shown, and where it came from (a wallet's name, "watch-only", "development").
#[derive(Clone, Debug, PartialEq, Eq)]
struct Chosen {
    address: String,
    source: String,
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

#[component]
pub fn AccountPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
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
    let address = chosen.address.clone();
    let answer = Memo::new(move |_| {
        chain
            .portfolio
            .get()
            .and_then(|(a, result)| (a == address).then_some(result))
    });
    view! {
        <h2>"Portfolio"</h2>
        <p data-testid="portfolio-account" data-address=chosen.address.clone()>
            <code>{chosen.address.clone()}</code>
            <span class="muted">{format!(" ({})", chosen.source)}</span>
        </p>
        {move || match answer.get() {
            None => waiting(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert" data-testid="portfolio-error">{why}</p> }.into_any(),
            Some(Ok(verified)) => view! { <PortfolioTables verified/> }.into_any(),
        }}
        {match chosen.source.as_str() {
            "watch-only" | "development" => view! {
                <p class="muted" data-testid="stake-unavailable">"Staking signs with a wallet: connect one above to stake from this page."</p>
            }.into_any(),
            wallet => view! { <StakeForm from=chosen.address.clone() wallet=wallet.to_string()/> }.into_any(),
        }}
    }
}

/// Where a stake transaction is.
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

#[component]
fn StakeForm(from: String, wallet: String) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let hotkey = RwSignal::new(String::new());
    let netuid = RwSignal::new(String::new());
    let amount = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let step = RwSignal::new(Step::Editing);
    // A transaction sent whose end is not known yet: no new one until it is (a second would
    // take the next nonce and could stake twice).
    let in_flight = move || match step.get() {
        Step::Signing(_) => true,
        Step::Submitted(id) => chain
            .submitted
            .with(|all| !all.iter().any(|(seen, _)| *seen == id)),
        _ => false,
    };
    let review_from = from.clone();
    let review = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if in_flight() {
            return;
        }
        let key = match ss58::decode(&hotkey.get_untracked()) {
            Ok(key) => key,
            Err(why) => return error.set(Some(format!("Hotkey: {why}"))),
        };
        let rao = match taoscope_light_client::units::parse_tao(&amount.get_untracked()) {
            Ok(0) => return error.set(Some("Amount: more than 0 τ, please".into())),
            Ok(rao) => rao,
            Err(why) => return error.set(Some(format!("Amount: {why}"))),
        };
        let mut args = serde_json::json!({
            "hotkey": ss58::encode(&key, ss58::BITTENSOR_PREFIX),
            "amount_staked": rao,
        });
        // Subnets hold stake since dynamic TAO; spec 103's add_stake has no netuid. The worker
        // encodes by the metadata of the runtime in force and says which arguments it takes.
        let typed = netuid.get_untracked();
        if !typed.trim().is_empty() {
            match typed.trim().parse::<u16>() {
                Ok(n) => args["netuid"] = serde_json::json!(n),
                Err(_) => {
                    return error.set(Some(format!("Netuid: {typed} is not a subnet number")));
                }
            }
        }
        error.set(None);
        let id = chain.prepare(review_from.clone(), "SubtensorModule", "add_stake", args);
        step.set(Step::Review(id));
    };
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
    let edit = move |signal: RwSignal<String>, value: String| {
        signal.set(value);
        if matches!(step.get_untracked(), Step::Review(_)) {
            step.set(Step::Editing);
        }
    };
    view! {
        <h2>"Stake"</h2>
        <form on:submit=review class="stake" data-testid="stake-form">
            <label for="stake-hotkey">"Hotkey"</label>
            " "
            <input id="stake-hotkey" data-testid="stake-hotkey" size="50" autocomplete="off" spellcheck="false"
                prop:value=move || hotkey.get() on:input=move |ev| edit(hotkey, event_target_value(&ev))/>
            " "
            <label for="stake-netuid">"Netuid (where the runtime stakes per subnet)"</label>
            " "
            <input id="stake-netuid" data-testid="stake-netuid" size="5" inputmode="numeric" autocomplete="off"
                prop:value=move || netuid.get() on:input=move |ev| edit(netuid, event_target_value(&ev))/>
            " "
            <label for="stake-amount">"Amount (τ)"</label>
            " "
            <input id="stake-amount" data-testid="stake-amount" size="14" inputmode="decimal" autocomplete="off"
                prop:value=move || amount.get() on:input=move |ev| edit(amount, event_target_value(&ev))/>
            " "
            <button type="submit" data-testid="stake-review" disabled=in_flight>"Review"</button>
        </form>
        {move || error.get().map(|why| view! { <p class="error" role="alert" data-testid="stake-error">{why}</p> })}
        {move || match step.get() {
            Step::Editing => ().into_any(),
            Step::Review(id) | Step::Signing(id) => match prepared(id) {
                None => view! { <p class="muted" aria-live="polite">"Building the transaction from the runtime's metadata…"</p> }.into_any(),
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="stake-error">{why}</p> }.into_any(),
                Some(Ok(tx)) => {
                    let payload = tx.payload.clone();
                    let sign = sign.clone();
                    let signing = step.get() == Step::Signing(id);
                    let amount = tx.args["amount_staked"].as_u64().map(|rao| format!("{} τ", format_tao_grouped(rao)));
                    let call_data = tx.payload["method"].as_str().unwrap_or_default().to_string();
                    view! {
                        <section class="review" data-testid="stake-review-panel" aria-live="polite">
                            <h3>"Review"</h3>
                            <dl>
                                <dt>"Call"</dt><dd data-testid="review-call">{format!("{}.{}", tx.pallet, tx.call)}</dd>
                                {amount.map(|a| view! { <dt>"Amount"</dt><dd data-testid="review-amount">{a}</dd> })}
                                <dt>"Arguments"</dt><dd><code data-testid="review-args">{tx.args.to_string()}</code></dd>
                                <dt>"From"</dt><dd><code>{tx.from.clone()}</code></dd>
                                <dt>"Nonce"</dt><dd data-testid="review-nonce">{tx.nonce}</dd>
                                <dt>"Valid"</dt><dd>{format!("for {} blocks from block #{}", tx.period, tx.birth.number)}</dd>
                                <dt>"Runtime"</dt><dd>{tx.spec_version}</dd>
                                <dt>"Call data"</dt><dd><code class="wrap" title="Compare with what your wallet shows">{call_data}</code></dd>
                            </dl>
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
                None => view! { <p class="progress" data-testid="stake-pending" aria-live="polite">"Signed and checked; submitted, waiting for a finalized block…"</p> }.into_any(),
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="stake-result" data-state="failed">{format!("Not sent: {why}")}</p> }.into_any(),
                Some(Ok(Sent::Unknown { why })) => view! {
                    <p class="notice" role="alert" data-testid="stake-result" data-state="unknown">
                        {format!("Sent, but its end is not known: {why}. It may still be included: check the portfolio (the nonce goes up when it is) before trying again.")}
                    </p>
                }.into_any(),
                Some(Ok(Sent::Included(included))) => {
                    let (state, words) = match &included.outcome {
                        Ok(()) => ("success", "the call succeeded".to_string()),
                        Err(why) => ("dispatch-error", format!("the runtime refused the call (the fee was paid): {why}")),
                    };
                    view! {
                        <p class=if state == "success" { "verified" } else { "error" } data-testid="stake-result" data-state=state
                            data-block=included.block.clone() data-index=included.index>
                            {format!("Final in block {} (extrinsic {}): {words}. ", short(&included.block), included.index)}
                            <code title="Extrinsic hash">{short(&included.extrinsic_hash)}</code>
                        </p>
                    }.into_any()
                }
            },
        }}
    }
}

#[component]
fn PortfolioTables(verified: Verified<Portfolio>) -> impl IntoView {
    let Verified { at, value } = verified;
    let Portfolio { account, stakes } = value;
    let staked: u64 = stakes.iter().map(|s| s.stake).fold(0, u64::saturating_add);
    view! {
        <p class="verified-at" data-testid="portfolio-block" data-block-hash=at.hash.clone() data-block-number=at.number>
            "Verified at finalized block #" {at.number} " " <code title="Block hash">{short(&at.hash)}</code>
        </p>
        <table class="portfolio" data-testid="portfolio-balances">
            <tbody>
                <tr><th scope="row">"Free"</th><td class="num" data-field="free" data-raw=account.free>{format!("{} τ", format_tao_grouped(account.free))}</td></tr>
                <tr><th scope="row">"Reserved"</th><td class="num" data-field="reserved" data-raw=account.reserved>{format!("{} τ", format_tao_grouped(account.reserved))}</td></tr>
                <tr><th scope="row">"Staked"</th><td class="num" data-field="staked" data-raw=staked>{format!("{} τ", format_tao_grouped(staked))}</td></tr>
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
                        <th scope="col" class="num">"Stake (τ)"</th>
                    </tr></thead>
                    <tbody>
                        {stakes.into_iter().map(|s| view! {
                            <tr data-testid="stake-row" data-hotkey=s.hotkey.clone()>
                                <td><code title=s.hotkey.clone()>{short(&s.hotkey)}</code></td>
                                <td class="num" data-field="stake" data-raw=s.stake>{format_tao_grouped(s.stake)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }}
    }
}
