//! Subnets, and one subnet's metagraph, from storage the light client has proven at a
//! finalized block. Both re-read at each new finalized block (one read in flight at a time) and
//! say which block they show.
//!
//! Cells carry the raw chain value in `data-raw` (u16 proportions, rao, SS58) beside the
//! readable one, so checks can compare exact integers.

use crate::chain::Chain;
use crate::chain_protocol::{Phase, Verified};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use taoscope_light_client::client::BlockRef;
use taoscope_light_client::metagraph::{Metagraph, Neuron, SubnetSummary};
use taoscope_light_client::units::format_tao_grouped;

/// A u16 proportion (65535 = 1) as a fraction with four decimals.
pub(crate) fn proportion(value: u16) -> String {
    format!("{:.4}", f64::from(value) / f64::from(u16::MAX))
}

/// `5Grw…utQY`: enough of an address to tell keys apart; the full one is in the title.
pub(crate) fn short(address: &str) -> String {
    let chars: Vec<char> = address.chars().collect();
    if chars.len() <= 12 {
        return address.to_string();
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}…{tail}")
}

/// Re-asks whenever the finalized block moves (and once at the start).
pub(crate) fn refresh_on_finality(chain: Chain, ask: impl Fn() + 'static) {
    Effect::new(move |_| {
        let live = chain
            .status
            .with(|s| (s.phase == Phase::Live).then(|| s.finalized.as_ref().map(|b| b.number)));
        if live.is_some() {
            ask();
        }
    });
}

#[component]
fn AtBlock(at: BlockRef, testid: &'static str) -> impl IntoView {
    let chain = expect_context::<Chain>();
    view! {
        {move || chain.refresh_error.get().map(|why| view! {
            <p class="notice" data-testid="refresh-error">"Showing the last verified values: refreshing failed (" {why} "). Trying again at the next finalized block."</p>
        })}
        <p class="verified-at" data-testid=testid data-block-hash=at.hash.clone() data-block-number=at.number>
            "Verified at finalized block #" {at.number} " "
            <code title="Block hash">{short(&at.hash)}</code>
        </p>
    }
}

pub(crate) fn waiting(chain: Chain) -> impl IntoView {
    move || {
        let words = match chain.status.with(|s| s.phase) {
            Phase::Live => "Reading through storage proofs…",
            Phase::Failed => "The light client stopped: see the Network page.",
            _ => "Waiting for the light client to verify a finalized block (see the Network page)…",
        };
        view! { <p class="muted" data-testid="chain-waiting" aria-live="polite">{words}</p> }
    }
}

#[component]
pub fn SubnetsPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    refresh_on_finality(chain, move || chain.request_subnets());
    view! {
        <section class="page">
            <h1>"Subnets"</h1>
            {move || match chain.subnets.get() {
                None => waiting(chain).into_any(),
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="subnets-error">{why}</p> }.into_any(),
                Some(Ok(answer)) => view! { <SubnetTable answer/> }.into_any(),
            }}
        </section>
    }
}

/// The sum of every subnet's emission per block (rao), for their shares.
pub(crate) fn emission_total(subnets: &[SubnetSummary]) -> u128 {
    subnets
        .iter()
        .filter_map(|s| s.emission)
        .map(u128::from)
        .sum()
}

/// A subnet's emission as a share of `total` ([`emission_total`]), in words.
pub(crate) fn emission_share(emission: Option<u64>, total: u128) -> String {
    match emission {
        Some(e) if total > 0 => format!("{:.2} %", 100.0 * e as f64 / total as f64),
        Some(_) => "0.00 %".into(),
        None => "not stored by this runtime".into(),
    }
}

#[component]
fn SubnetTable(answer: Verified<Vec<SubnetSummary>>) -> impl IntoView {
    let Verified { at, value: subnets } = answer;
    if subnets.is_empty() {
        return view! {
            <AtBlock at testid="subnets-block"/>
            <p data-testid="subnets-empty">"No subnets on this chain yet."</p>
        }
        .into_any();
    }
    let total = emission_total(&subnets);
    view! {
        <AtBlock at testid="subnets-block"/>
        <table class="subnets" data-testid="subnets-table">
            <thead><tr>
                <th scope="col" class="num">"Netuid"</th>
                <th scope="col">"Owner"</th>
                <th scope="col" class="num">"Tempo"</th>
                <th scope="col" class="num">"Uids"</th>
                <th scope="col" class="num">"Validators"</th>
                <th scope="col" class="num">"Emission share"</th>
            </tr></thead>
            <tbody>
                {subnets.into_iter().map(|s| {
                    let share = emission_share(s.emission, total);
                    let owner = s.owner.clone();
                    let owner_raw = owner.clone().unwrap_or_default();
                    view! {
                        <tr data-testid="subnet-row" data-netuid=s.netuid>
                            <td class="num"><a href=format!("/subnets/{}", s.netuid)>{s.netuid}</a></td>
                            <td data-field="owner" data-raw=owner_raw>{match owner {
                                Some(o) => view! { <code title=o.clone()>{short(&o)}</code> }.into_any(),
                                None => view! { <span class="muted">"not stored by this runtime"</span> }.into_any(),
                            }}</td>
                            <td class="num" data-field="tempo" data-raw=s.tempo>{s.tempo}</td>
                            <td class="num" data-field="n" data-raw=s.n>{s.n}</td>
                            <td class="num" data-field="validators" data-raw=s.validators>{format!("{} of {}", s.validators, s.max_validators)}</td>
                            <td class="num" data-field="emission" data-raw=s.emission.map(|e| e.to_string()).unwrap_or_default()>{share}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// The `:netuid` of the route, when it is a subnet number.
pub(crate) fn netuid_param() -> impl Fn() -> Option<u16> + Copy {
    let params = use_params_map();
    move || {
        params
            .read()
            .get("netuid")
            .and_then(|n| n.parse::<u16>().ok())
    }
}

/// What a page keyed by a netuid says when the address holds none.
#[component]
pub(crate) fn BadNetuid() -> impl IntoView {
    view! {
        <p class="error" role="alert">"A netuid is a number from 0 to 65535: " <a href="/subnets">"see the subnets"</a>"."</p>
    }
}

#[component]
pub fn SubnetPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let netuid = netuid_param();
    refresh_on_finality(chain, move || {
        if let Some(n) = netuid() {
            chain.request_metagraph(n);
        }
    });
    view! {
        <section class="page">
            {move || match netuid() {
                None => view! {
                    <h1>"Subnet"</h1>
                    <BadNetuid/>
                }.into_any(),
                Some(n) => view! {
                    <h1>"Subnet " {n}</h1>
                    <p>
                        <a href="/subnets">"← All subnets"</a>
                        " · "
                        <a href=format!("/subnets/{n}/audit") data-testid="audit-link">"Audit this subnet's epochs →"</a>
                    </p>
                    {move || match chain.metagraph.get() {
                        Some((shown, Ok(answer))) if shown == n => view! { <MetagraphTable answer/> }.into_any(),
                        Some((shown, Err(why))) if shown == n => view! {
                            <p class="error" role="alert" data-testid="metagraph-error">{why}</p>
                        }.into_any(),
                        _ => waiting(chain).into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn MetagraphTable(answer: Verified<Metagraph>) -> impl IntoView {
    let Verified { at, value: graph } = answer;
    if graph.neurons.is_empty() {
        return view! {
            <AtBlock at testid="metagraph-block"/>
            <p data-testid="metagraph-empty">"No uids registered on this subnet (or no such subnet)."</p>
        }
        .into_any();
    }
    let stake_note = match graph.stake_entry.as_deref() {
        Some("TotalHotkeyAlpha") => "Stake: the subnet's alpha behind each hotkey.",
        Some(_) => "Stake: TAO behind each hotkey.",
        None => "This runtime keeps no per-hotkey stake that this page reads.",
    };
    view! {
        <AtBlock at testid="metagraph-block"/>
        <p class="muted">{stake_note} " Scores are the chain's u16 proportions shown as fractions of 1."</p>
        <div class="table-scroll">
        <table class="metagraph" data-testid="metagraph-table">
            <thead><tr>
                <th scope="col" class="num">"Uid"</th>
                <th scope="col">"Hotkey"</th>
                <th scope="col" class="num">"Stake (τ)"</th>
                <th scope="col" class="num">"Incentive"</th>
                <th scope="col" class="num">"Dividends"</th>
                <th scope="col" class="num">"Consensus"</th>
                <th scope="col" class="num">"Trust"</th>
                <th scope="col" class="num">"Validator trust"</th>
                <th scope="col" class="num">"Emission (τ)"</th>
                <th scope="col">"Active"</th>
                <th scope="col">"Permit"</th>
            </tr></thead>
            <tbody>{graph.neurons.into_iter().map(neuron_row).collect_view()}</tbody>
        </table>
        </div>
    }
    .into_any()
}

fn neuron_row(n: Neuron) -> impl IntoView {
    let hotkey = n.hotkey.clone().unwrap_or_default();
    let score = |field: &'static str, value: u16| {
        view! { <td class="num" data-field=field data-raw=value>{proportion(value)}</td> }
    };
    let trust = n.trust;
    view! {
        <tr data-testid="metagraph-row" data-uid=n.uid>
            <td class="num">{n.uid}</td>
            <td data-field="hotkey" data-raw=hotkey.clone()><code title=hotkey.clone()>{short(&hotkey)}</code></td>
            <td class="num" data-field="stake" data-raw=n.stake>{format_tao_grouped(n.stake)}</td>
            {score("incentive", n.incentive)}
            {score("dividends", n.dividends)}
            {score("consensus", n.consensus)}
            {match trust {
                Some(t) => score("trust", t).into_any(),
                None => view! { <td class="num muted" data-field="trust" data-raw="">"—"</td> }.into_any(),
            }}
            {score("validator_trust", n.validator_trust)}
            <td class="num" data-field="emission" data-raw=n.emission>{format_tao_grouped(n.emission)}</td>
            <td data-field="active" data-raw=n.active.to_string()>{if n.active { "yes" } else { "no" }}</td>
            <td data-field="validator_permit" data-raw=n.validator_permit.to_string()>{if n.validator_permit { "yes" } else { "no" }}</td>
        </tr>
    }
}
