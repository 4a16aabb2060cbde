//! Subnets, and one subnet's metagraph, from storage the light client has proven at a
//! finalized block. Both re-read at each new finalized block (one read in flight at a time) and
//! say which block they show.
//!
//! Cells carry the raw chain value in `data-raw` (u16 proportions, rao, SS58) beside the
//! readable one, so checks can compare exact integers.

use crate::chain::Chain;
use crate::chain_protocol::{Phase, Verified};
use crate::table::{Cell, Column, DataTable, Empty, Failed, Key, ListState, Row};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use taoscope_light_client::client::BlockRef;
use taoscope_light_client::metagraph::{Metagraph, Neuron, SubnetSummary};

/// A u16 proportion (65535 = 1) as a fraction with four decimals.
pub(crate) fn proportion(value: u16) -> String {
    format!("{:.4}", f64::from(value) / f64::from(u16::MAX))
}

pub(crate) use crate::table::short;

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
fn AtBlock(#[prop(into)] at: Signal<Option<BlockRef>>, testid: &'static str) -> impl IntoView {
    let chain = expect_context::<Chain>();
    view! {
        {move || chain.refresh_error.get().map(|why| view! {
            <p class="notice" data-testid="refresh-error">"Showing the last verified values: refreshing failed (" {why} "). Trying again at the next finalized block."</p>
        })}
        {move || at.get().map(|at| view! {
            <p class="verified-at" data-testid=testid data-block-hash=at.hash.clone() data-block-number=at.number>
                "Verified at finalized block #" {at.number} " "
                <code title="Block hash">{short(&at.hash)}</code>
            </p>
        })}
    }
}

pub(crate) fn waiting(chain: Chain) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
    move || {
        let words = i18n.t(match chain.status.with(|s| s.phase) {
            Phase::Live => "wait.reading",
            Phase::Failed => "wait.stopped",
            _ => "wait.syncing",
        });
        view! { <p class="muted" data-testid="chain-waiting" aria-live="polite">{words}</p> }
    }
}

#[component]
pub fn SubnetsPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    refresh_on_finality(chain, move || chain.request_subnets());
    let (state, at) = subnets_list(chain);
    let rows = Signal::derive(move || {
        chain.subnets.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|v| subnet_rows(&v.value))
                .unwrap_or_default()
        })
    });
    view! {
        <section class="page">
            <h1>"Subnets"</h1>
            {move || match state.get() {
                ListState::Waiting => waiting(chain).into_any(),
                ListState::Failed(why) => view! { <Failed testid="subnets-error" why/> }.into_any(),
                ListState::Empty => view! {
                    <AtBlock at testid="subnets-block"/>
                    <Empty testid="subnets-empty" words="No subnets on this chain yet.".into()/>
                }.into_any(),
                ListState::Shown => view! {
                    <AtBlock at testid="subnets-block"/>
                    <DataTable testid="subnets-table" row_testid="subnet-row" class="subnets"
                        columns=subnet_columns() rows/>
                }.into_any(),
            }}
        </section>
    }
}

/// Where the subnets list is, and the block it was proven at: for the pages that show it
/// (Subnets, Home), so a new answer of the same kind updates rows, not the page.
pub(crate) fn subnets_list(chain: Chain) -> (Memo<ListState>, Memo<Option<BlockRef>>) {
    let state = Memo::new(move |_| {
        chain.subnets.with(|a| {
            ListState::of(a.as_ref(), |v: &Verified<Vec<SubnetSummary>>| {
                v.value.is_empty()
            })
        })
    });
    let at = Memo::new(move |_| {
        chain.subnets.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|v| v.at.clone())
        })
    });
    (state, at)
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

fn subnet_columns() -> Vec<Column> {
    vec![
        Column::number("Netuid"),
        Column::text("Owner"),
        Column::number("Tempo"),
        Column::number("Uids"),
        Column::number("Validators"),
        Column::number("Emission share"),
    ]
}

fn subnet_rows(subnets: &[SubnetSummary]) -> Vec<Row> {
    let total = emission_total(subnets);
    subnets
        .iter()
        .map(|s| {
            let owner = match &s.owner {
                Some(o) => Cell::copy(o.clone()),
                None => Cell::muted("not stored by this runtime"),
            };
            Row::new(vec![
                Cell::link(
                    format!("/subnets/{}", s.netuid),
                    s.netuid.to_string(),
                    Key::Number(s.netuid.into()),
                ),
                owner.field("owner", s.owner.clone().unwrap_or_default()),
                Cell::number(s.tempo.to_string(), s.tempo).field("tempo", s.tempo),
                Cell::number(s.n.to_string(), s.n).field("n", s.n),
                Cell::number(
                    format!("{} of {}", s.validators, s.max_validators),
                    s.validators,
                )
                .field("validators", s.validators),
                match s.emission {
                    Some(e) => Cell::number(emission_share(Some(e), total), e),
                    None => Cell::muted(emission_share(None, total)),
                }
                .field(
                    "emission",
                    s.emission.map(|e| e.to_string()).unwrap_or_default(),
                ),
            ])
            .attr("data-netuid", s.netuid)
        })
        .collect()
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
    // The answer for the subnet of the address (an answer for another one is still on its way).
    let answer = Memo::new(move |_| {
        chain.metagraph.with(|m| match m {
            Some((shown, result)) if Some(*shown) == netuid() => Some(result.clone()),
            _ => None,
        })
    });
    let state = Memo::new(move |_| {
        answer.with(|a| {
            ListState::of(a.as_ref(), |v: &Verified<Metagraph>| {
                v.value.neurons.is_empty()
            })
        })
    });
    let at = Memo::new(move |_| {
        answer.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|v| v.at.clone())
        })
    });
    let stake_entry = Memo::new(move |_| {
        answer.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .and_then(|v| v.value.stake_entry.clone())
        })
    });
    let rows = Signal::derive(move || {
        answer.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .map(|v| v.value.neurons.iter().cloned().map(neuron_row).collect())
                .unwrap_or_default()
        })
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
                    {move || match state.get() {
                        ListState::Waiting => waiting(chain).into_any(),
                        ListState::Failed(why) => view! { <Failed testid="metagraph-error" why/> }.into_any(),
                        ListState::Empty => view! {
                            <AtBlock at testid="metagraph-block"/>
                            <Empty testid="metagraph-empty" words="No uids registered on this subnet (or no such subnet).".into()/>
                        }.into_any(),
                        ListState::Shown => view! {
                            <AtBlock at testid="metagraph-block"/>
                            <p class="muted">
                                {move || match stake_entry.get().as_deref() {
                                    Some("TotalHotkeyAlpha") => "Stake: the subnet's alpha behind each hotkey.",
                                    Some(_) => "Stake: TAO behind each hotkey.",
                                    None => "This runtime keeps no per-hotkey stake that this page reads.",
                                }}
                                " Scores are the chain's u16 proportions shown as fractions of 1."
                            </p>
                            <DataTable testid="metagraph-table" row_testid="metagraph-row" class="metagraph"
                                columns=metagraph_columns() rows/>
                        }.into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}

fn metagraph_columns() -> Vec<Column> {
    vec![
        Column::number("Uid"),
        Column::text("Hotkey"),
        Column::number("Stake (τ)"),
        Column::number("Incentive"),
        Column::number("Dividends"),
        Column::number("Consensus"),
        Column::number("Trust"),
        Column::number("Validator trust"),
        Column::number("Emission (τ)"),
        Column::text("Active"),
        Column::text("Permit"),
    ]
}

fn neuron_row(n: Neuron) -> Row {
    let i18n = crate::i18n::use_i18n();
    let score = |field: &'static str, value: u16| {
        Cell::number(proportion(value), value).field(field, value)
    };
    let flag = |field: &'static str, value: bool| {
        Cell::text(if value { "yes" } else { "no" }).field(field, value)
    };
    let hotkey = match &n.hotkey {
        Some(h) => Cell::copy(h.clone()),
        None => Cell::muted("—"),
    };
    Row::new(vec![
        Cell::number(n.uid.to_string(), n.uid),
        hotkey.field("hotkey", n.hotkey.clone().unwrap_or_default()),
        Cell::number(i18n.tao(n.stake), n.stake).field("stake", n.stake),
        score("incentive", n.incentive),
        score("dividends", n.dividends),
        score("consensus", n.consensus),
        match n.trust {
            Some(t) => score("trust", t),
            None => Cell::muted("—").field("trust", ""),
        },
        score("validator_trust", n.validator_trust),
        Cell::number(i18n.tao(n.emission), n.emission).field("emission", n.emission),
        flag("active", n.active),
        flag("validator_permit", n.validator_permit),
    ])
    .attr("data-uid", n.uid)
}
