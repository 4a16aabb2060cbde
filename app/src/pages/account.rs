//! The account page: choose an account (from a browser wallet, a watched address, or on a local
//! chain a development account) and see its portfolio: free and reserved balance and every
//! stake it holds, read through storage proofs at the newest finalized block, refreshed at each.
//!
//! The account chosen is kept in this browser (local storage) for the next visit; it is only an
//! address, never a key.

use crate::chain::{Chain, Network, load, save};
use crate::chain_protocol::{Portfolio, Verified};
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
