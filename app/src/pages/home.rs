//! Home (`/`): what a staker, validator or subnet owner opens the app for, at a glance: the
//! network's state (finalized block, verified mark, time to the first verified value), the
//! chosen account's balances and stake, every subnet with its key numbers and the verdict of its
//! latest audited epoch, and where each tool lives. Every number here comes from the same
//! proven reads as the page it links to.

use crate::chain::Chain;
use crate::chain_protocol::{Phase, SubnetVerdict, VerdictState};
use crate::pages::account::{chosen_account, portfolio_of, staked_tao};
use crate::pages::subnets::{emission_share, emission_total, refresh_on_finality, short, waiting};
use leptos::prelude::*;
use taoscope_light_client::units::format_tao_grouped;

#[component]
pub fn HomePage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let account = chosen_account();
    let asked = account.clone();
    refresh_on_finality(chain, move || {
        chain.request_subnets();
        chain.request_audit_all();
        if let Some(address) = &asked {
            chain.request_portfolio(address.clone());
        }
    });
    view! {
        <section class="page home">
            <h1>"Bittensor, verified in your browser"</h1>
            <p class="lead">
                "Every number on these pages was proven here: block headers through GRANDPA finality, values through storage proofs, \
                 epochs recomputed bit for bit from proven state. No server is trusted."
            </p>
            <Glance/>
            <h2>"Your account"</h2>
            {match account {
                None => view! {
                    <p data-testid="home-no-account">
                        "No account chosen yet. " <a href="/account">"Connect a wallet or watch an address"</a>
                        " to see your balances and stake here."
                    </p>
                }.into_any(),
                Some(address) => view! { <AccountGlance address/> }.into_any(),
            }}
            <h2>"Subnets"</h2>
            <SubnetsGlance/>
            <h2>"Tools"</h2>
            <ul class="tools" data-testid="home-tools">
                <li><a href="/subnets">"Subnets"</a>": every subnet and its metagraph, from proofs."</li>
                <li><a href="/audit">"Audit"</a>": each subnet's epochs recomputed and compared with what the chain paid."</li>
                <li><a href="/account">"Account"</a>": your portfolio, staking and transfers, signed by your wallet."</li>
                <li><a href="/network">"Network"</a>": the network, the transport and what it trusts."</li>
                <li>"Lab: " <a href="/epoch-lab">"Epoch lab"</a>" (run Yuma epochs from vector files), "
                    <a href="/bench">"Benchmark"</a>" (CPU against GPU), "<a href="/system">"System"</a>" (this browser's WebGPU)."</li>
            </ul>
        </section>
    }
}

/// The network now: finalized block, verified mark, runtime and time to the first proven value.
#[component]
fn Glance() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let status = chain.status;
    view! {
        <dl class="facts glance" data-testid="home-glance">
            <dt>"Network"</dt>
            <dd>{move || chain.network.get().label()}</dd>
            <dt>"Finalized block"</dt>
            <dd data-testid="home-finalized">{move || status.with(|s| match (s.phase, &s.finalized) {
                (Phase::Live, Some(block)) => format!("#{} ✓ verified ({})", block.number, s.transport),
                (Phase::Failed, _) => "the light client stopped: see Network".into(),
                _ => "syncing…".into(),
            })}</dd>
            <dt>"Runtime"</dt>
            <dd>{move || status.with(|s| s.runtime.as_ref().map_or("—".into(), |r| format!("{} {}", r.spec_name, r.spec_version)))}</dd>
            <dt>"First verified value"</dt>
            <dd data-testid="home-first-value">{move || status.with(|s| s.first_value_ms.map_or("—".into(), |ms| format!("{ms:.0} ms after start")))}</dd>
        </dl>
    }
}

#[component]
fn AccountGlance(address: String) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let portfolio = portfolio_of(chain, address.clone());
    view! {
        <p><code title=address.clone()>{short(&address)}</code> " · " <a href="/account">"Stake, transfer, details"</a></p>
        {move || match portfolio.get() {
            None => waiting(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
            Some(Ok(verified)) => {
                let staked = staked_tao(&verified.value.stakes);
                view! {
                    <dl class="facts" data-testid="home-portfolio" data-block=verified.at.number>
                        <dt>"Free"</dt><dd class="num" data-field="free" data-raw=verified.value.account.free>{format!("{} τ", format_tao_grouped(verified.value.account.free))}</dd>
                        <dt>"Staked"</dt><dd class="num" data-field="staked" data-raw=staked>{format!("{} τ", format_tao_grouped(staked))}</dd>
                        <dt>"Verified at"</dt><dd>{format!("finalized block #{}", verified.at.number)}</dd>
                    </dl>
                }.into_any()
            }
        }}
    }
}

/// Every subnet with its size, tempo and emission share, and its latest audit verdict.
#[component]
fn SubnetsGlance() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let verdict = move |netuid: u16| -> Option<SubnetVerdict> {
        chain.audit_all.with(|a| {
            a.as_ref()?
                .as_ref()
                .ok()?
                .value
                .iter()
                .find(|v| v.netuid == netuid)
                .cloned()
        })
    };
    move || match chain.subnets.get() {
        None => waiting(chain).into_any(),
        Some(Err(why)) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
        Some(Ok(answer)) => {
            let total = emission_total(&answer.value);
            view! {
                <div class="table-scroll">
                <table data-testid="home-subnets" data-block=answer.at.number>
                    <thead><tr>
                        <th scope="col" class="num">"Subnet"</th>
                        <th scope="col" class="num">"Uids"</th>
                        <th scope="col" class="num">"Validators"</th>
                        <th scope="col" class="num">"Tempo"</th>
                        <th scope="col" class="num">"Emission share"</th>
                        <th scope="col">"Latest audit"</th>
                    </tr></thead>
                    <tbody>
                        {answer.value.into_iter().map(|s| {
                            let share = emission_share(s.emission, total);
                            let netuid = s.netuid;
                            view! {
                                <tr data-testid="home-subnet" data-netuid=netuid>
                                    <td class="num"><a href=format!("/subnets/{netuid}")>{netuid}</a></td>
                                    <td class="num">{s.n}</td>
                                    <td class="num">{format!("{} / {}", s.validators, s.max_validators)}</td>
                                    <td class="num">{s.tempo}</td>
                                    <td class="num">{share}</td>
                                    <td data-testid="home-verdict">{move || verdict_words(netuid, verdict(netuid))}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
                </div>
            }.into_any()
        }
    }
}

fn verdict_words(netuid: u16, verdict: Option<SubnetVerdict>) -> AnyView {
    let link = format!("/subnets/{netuid}/audit");
    match verdict.map(|v| (v.epoch, v.state)) {
        Some((Some(epoch), VerdictState::Audited { checked, mismatches: 0 })) => view! {
            <a href=link class="verified" data-state="match">{format!("✓ {checked} of {checked} values match (epoch #{epoch})")}</a>
        }.into_any(),
        Some((Some(epoch), VerdictState::Audited { checked, mismatches })) => view! {
            <a href=link class="error" data-state="mismatch">{format!("✗ {mismatches} of {checked} values differ (epoch #{epoch})")}</a>
        }.into_any(),
        Some((_, VerdictState::Unaudited(why))) => view! { <span class="muted" data-state="unaudited">{why}</span> }.into_any(),
        _ => view! { <span class="muted" data-state="pending">"auditing…"</span> }.into_any(),
    }
}

/// The Lab: the tools for vector files and this browser's GPU, apart from the chain's pages.
#[component]
pub fn LabPage() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Lab"</h1>
            <ul class="tools" data-testid="lab-tools">
                <li><a href="/epoch-lab">"Epoch lab"</a>": run a Yuma epoch from a vector file, on the CPU and the GPU engines, and compare with its expected outputs."</li>
                <li><a href="/bench">"Benchmark"</a>": the CPU engine against the WebGPU kernels on the same inputs."</li>
                <li><a href="/system">"System"</a>": what this browser offers (WebGPU adapter, limits)."</li>
            </ul>
        </section>
    }
}
