//! Where to stake (`/stake`): every subnet's validators ranked by what they paid their stakers
//! per unit of stake over the subnet's last audited epochs, annualized, with what an amount the
//! user types would have earned, and a link into the staking flow with the validator filled in.
//!
//! Every number comes from the light worker's yields (`taoscope_light_client::yields`): audited
//! epochs, payouts read through proofs at each epoch block, the runtime's own split. The page
//! only filters, sorts and draws; what is derived is said under "How is this computed".

use crate::chain::Chain;
use crate::chain_protocol::YieldsAnswer;
use crate::i18n::{I18n, use_i18n};
use crate::pages::account::chosen_account;
use crate::pages::subnets::{refresh_on_finality, waiting};
use crate::table::{Cell, Column, DataTable, Empty, Failed, Key, ListState, Row, SortBy};
use leptos::prelude::*;
use std::collections::BTreeMap;
use taoscope_light_client::units::parse_tao;
use taoscope_light_client::yields::{
    DEFAULT_EPOCHS, SubnetYields, ValidatorYield, across_subnets, expected,
};

/// 10⁹: the places [`parse_tao`] reads.
const NANO: u64 = 1_000_000_000;

/// A yield as a sort key: parts per 10¹² (exact enough to order, an integer to compare).
fn yield_key(x: f64) -> i128 {
    (x * 1e12).round() as i128
}

pub(crate) fn percent(x: f64, digits: usize) -> String {
    format!("{:.*} %", digits, x * 100.0)
}

/// The take in words (65535 = 100%); none for a hotkey that is not a delegate.
pub(crate) fn take_words(i18n: I18n, take: Option<u16>) -> String {
    take.map_or_else(
        || i18n.t("yields.not-delegate"),
        |t| percent(f64::from(t) / 65535.0, 2),
    )
}

/// The filters above the table, as typed.
#[derive(Clone, Copy)]
struct Filters {
    netuid: RwSignal<String>,
    min_stake: RwSignal<String>,
    max_take: RwSignal<String>,
    amount: RwSignal<String>,
}

impl Filters {
    /// The minimum stake in rao and the largest take in billionths of a percent, where typed.
    /// Percentages are read as exact decimals (TAO's own parser, 9 places), not floats: a
    /// take of exactly 10% is kept by "10".
    fn limits(&self) -> Result<(Option<u64>, Option<u64>), String> {
        let min_stake = self.min_stake.get();
        let min_stake = match min_stake.trim() {
            "" => None,
            text => Some(parse_tao(text).map_err(|e| format!("{text:?}: {e}"))?),
        };
        let max_take = self.max_take.get();
        let max_take = match max_take.trim().trim_end_matches('%').trim() {
            "" => None,
            text => Some(
                parse_tao(text)
                    .ok()
                    .filter(|p| *p <= 100 * NANO)
                    .ok_or_else(|| format!("{text:?}: a take is a percentage from 0 to 100"))?,
            ),
        };
        Ok((min_stake, max_take))
    }

    /// Whether `v` of `subnet` passes (filters that do not read keep everything: their error
    /// is shown beside them).
    fn keep(&self, subnet: &SubnetYields, v: &ValidatorYield) -> bool {
        let netuid = self.netuid.get();
        if !netuid.is_empty() && netuid != subnet.netuid.to_string() {
            return false;
        }
        let (min_stake, max_take) = self.limits().unwrap_or((None, None));
        min_stake.is_none_or(|rao| v.latest.stake >= rao)
            // A validator that is not a delegate has no take to compare: one cannot stake on it.
            && max_take.is_none_or(|limit| {
                v.latest.delegate_take.is_some_and(|take| {
                    // take / 65535 ≤ limit / (100 · 10⁹), in integers.
                    u128::from(take) * 100 * u128::from(NANO) <= u128::from(limit) * 65_535
                })
            })
    }

    /// The amount typed, in rao (`None`: nothing typed).
    fn amount(&self) -> Result<Option<u64>, String> {
        match self.amount.get().trim() {
            "" => Ok(None),
            text => parse_tao(text)
                .map(Some)
                .map_err(|e| format!("{text:?}: {e}")),
        }
    }

    /// Why a field does not read, if one does not.
    fn error(&self) -> Option<String> {
        self.limits().err().or_else(|| self.amount().err())
    }
}

#[component]
pub fn YieldsPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
    // The chosen account's stake (its portfolio, proven at the finalized block), for its share
    // of each validator's stake.
    let account = chosen_account();
    let asked = account.clone();
    refresh_on_finality(chain, move || {
        chain.request_yields(DEFAULT_EPOCHS as u16);
        if let Some(address) = &asked {
            chain.request_portfolio(address.clone());
        }
    });
    let yours = Memo::new(move |_| {
        let mut stakes = BTreeMap::<String, u64>::new();
        chain.portfolio.with(|p| {
            if let Some((address, Ok(verified))) = p
                && Some(address) == account.as_ref()
            {
                // TAO on a hotkey (spec 103's stake); alpha of subnets is another unit.
                for position in verified.value.stakes.iter().filter(|p| p.netuid.is_none()) {
                    *stakes.entry(position.hotkey.clone()).or_default() += position.stake;
                }
            }
        });
        stakes
    });
    let filters = Filters {
        netuid: RwSignal::new(String::new()),
        min_stake: RwSignal::new(String::new()),
        max_take: RwSignal::new(String::new()),
        amount: RwSignal::new(String::new()),
    };
    let state = Memo::new(move |_| {
        chain.yields.with(|y| {
            ListState::of(y.as_ref(), |a: &YieldsAnswer| {
                a.subnets.iter().all(|s| s.validators.is_empty())
            })
        })
    });
    let answer = move || chain.yields.get().and_then(Result::ok);
    view! {
        <section class="page yields">
            <h1 data-testid="yields-title">{move || i18n.t("yields.title")}</h1>
            <p class="lead">{move || i18n.tf("yields.lead", &[("epochs", &DEFAULT_EPOCHS.to_string())])}</p>
            {move || match state.get() {
                ListState::Waiting => waiting(chain).into_any(),
                ListState::Failed(why) => view! { <Failed testid="yields-error" why/> }.into_any(),
                ListState::Empty => view! {
                    <Empty testid="yields-empty" words=i18n.t("yields.empty")/>
                    <Notes answer=Signal::derive(answer)/>
                }.into_any(),
                ListState::Shown => view! {
                    <Progress answer=Signal::derive(answer)/>
                    <FilterFields filters answer=Signal::derive(answer)/>
                    <ValidatorsTable filters yours answer=Signal::derive(answer)/>
                    <h2>{move || i18n.t("yields.subnets")}</h2>
                    <SubnetsTable answer=Signal::derive(answer)/>
                    <EmissionChart answer=Signal::derive(answer)/>
                    <Notes answer=Signal::derive(answer)/>
                    <HowComputed/>
                }.into_any(),
            }}
        </section>
    }
}

/// Where the answer stands: its block and transport, and epochs still being audited.
#[component]
fn Progress(answer: Signal<Option<YieldsAnswer>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        answer.get().map(|a| {
            let pending = (a.pending > 0).then(|| {
                view! {
                    <p class="muted" role="status" aria-live="polite" data-testid="yields-pending">
                        {i18n.tf("yields.pending", &[("count", &a.pending.to_string())])}
                    </p>
                }
            });
            view! {
                <p class="verified-at" data-testid="yields-at" data-block=a.at.number>
                    {i18n.tf("yields.at", &[("number", &a.at.number.to_string()), ("transport", &a.transport)])}
                </p>
                {pending}
            }
        })
    }
}

#[component]
fn FilterFields(filters: Filters, answer: Signal<Option<YieldsAnswer>>) -> impl IntoView {
    let i18n = use_i18n();
    let netuids = move || {
        answer
            .get()
            .map(|a| a.subnets.iter().map(|s| s.netuid).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    let field_error = move || filters.error();
    view! {
        <form class="filters" data-testid="yields-filters" on:submit=|e| e.prevent_default()>
            <label>
                {move || i18n.t("yields.filter-subnet")}
                <select data-testid="yields-filter-subnet" prop:value=move || filters.netuid.get()
                    on:change=move |e| filters.netuid.set(event_target_value(&e))>
                    <option value="">{move || i18n.t("yields.all-subnets")}</option>
                    {move || netuids().into_iter().map(|n| view! { <option value=n.to_string()>{n}</option> }).collect_view()}
                </select>
            </label>
            <DecimalField label="yields.filter-min-stake" testid="yields-min-stake" placeholder="0" text=filters.min_stake/>
            <DecimalField label="yields.filter-max-take" testid="yields-max-take" placeholder="100" text=filters.max_take/>
            <DecimalField label="yields.amount" testid="yields-amount" placeholder="100" text=filters.amount/>
        </form>
        {move || field_error().map(|why| view! { <p class="error" role="alert" data-testid="yields-filter-error">{why}</p> })}
    }
}

/// A labelled field for a decimal number, kept as typed in `text`.
#[component]
fn DecimalField(
    /// The label's text key.
    label: &'static str,
    testid: &'static str,
    placeholder: &'static str,
    text: RwSignal<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <label>
            {move || i18n.t(label)}
            <input data-testid=testid inputmode="decimal" placeholder=placeholder
                prop:value=move || text.get()
                on:input=move |e| text.set(event_target_value(&e))/>
        </label>
    }
}

/// A subnet's share of the block emission (0 where the block emits nothing).
fn emission_fraction(subnet: &SubnetYields) -> f64 {
    if subnet.block_emission > 0 {
        subnet.emission_value as f64 / subnet.block_emission as f64
    } else {
        0.0
    }
}

/// A sparkline of per-epoch yields, oldest to newest, scaled to the row's own range.
fn sparkline(values: &[f64]) -> AnyView {
    const W: f64 = 80.0;
    const H: f64 = 20.0;
    if values.len() < 2 {
        return view! { <span class="muted">"—"</span> }.into_any();
    }
    let (lo, hi) = values
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
    let span = if hi > lo { hi - lo } else { 1.0 };
    let step = W / (values.len() - 1) as f64;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            format!(
                "{:.1},{:.1}",
                i as f64 * step,
                H - 2.0 - (v - lo) / span * (H - 4.0)
            )
        })
        .collect();
    view! {
        <svg class="sparkline" width=W height=H viewBox=format!("0 0 {W} {H}") aria-hidden="true">
            <polyline points=points.join(" ") fill="none" stroke="currentColor" stroke-width="1.5"/>
        </svg>
    }
    .into_any()
}

#[component]
fn ValidatorsTable(
    filters: Filters,
    /// The chosen account's stake by hotkey (rao).
    yours: Memo<BTreeMap<String, u64>>,
    answer: Signal<Option<YieldsAnswer>>,
) -> impl IntoView {
    let i18n = use_i18n();
    // Ranked by yearly yield, highest first, until the user sorts otherwise.
    // What a staker decides on comes first: a phone shows the first columns, the rest scroll.
    let sort: SortBy = RwSignal::new(Some((2, true)));
    let columns = Signal::derive(move || {
        vec![
            Column::number(i18n.t("yields.col-subnet")),
            Column::text(i18n.t("yields.col-validator")),
            Column::number(i18n.t("yields.col-yearly")),
            Column::number(i18n.t("yields.col-expected")),
            Column::text(i18n.t("yields.col-stake-link")),
            Column::number(i18n.t("yields.col-epoch-yield")),
            Column::text(i18n.t("yields.col-trend")),
            Column::text(i18n.t("yields.col-epochs")),
            Column::number(i18n.t("yields.col-take")),
            Column::number(i18n.t("yields.col-stake")),
            Column::number(i18n.t("yields.col-yours")),
            Column::number(i18n.t("yields.col-nominators")),
            Column::number(i18n.t("yields.col-vtrust")),
            Column::number(i18n.t("yields.col-updated")),
        ]
    });
    // Computed once per change and read twice (empty or not, the table): rows hold views, so
    // they are not compared, only kept.
    let rows = Memo::new_with_compare(
        move |_| validator_rows(i18n, filters, yours, answer),
        |_, _| true,
    );
    let rows = Signal::from(rows);
    move || {
        if rows.with(Vec::is_empty) {
            view! { <Empty testid="yields-none-match" words=i18n.t("yields.none-match")/> }
                .into_any()
        } else {
            view! { <DataTable testid="yields-table" row_testid="yields-row" columns rows sort/> }
                .into_any()
        }
    }
}

/// The validators' rows as the filters and the amount say.
fn validator_rows(
    i18n: I18n,
    filters: Filters,
    yours: Memo<BTreeMap<String, u64>>,
    answer: Signal<Option<YieldsAnswer>>,
) -> Vec<Row> {
    let Some(answer) = answer.get() else {
        return Vec::new();
    };
    let amount = filters
        .amount()
        .ok()
        .flatten()
        .map(|rao| (rao, filters.amount.get().trim().to_string()));
    let mut rows = Vec::new();
    let across = across_subnets(&answer.subnets);
    // What the amount would earn on each hotkey over all its subnets, once per hotkey.
    let mut expected_by_hotkey = BTreeMap::<String, f64>::new();
    if let Some((rao, _)) = &amount {
        for subnet in &answer.subnets {
            for v in &subnet.validators {
                *expected_by_hotkey
                    .entry(v.latest.hotkey.clone())
                    .or_default() += expected(v, subnet.epochs_per_year, *rao).per_year;
            }
        }
    }
    for subnet in &answer.subnets {
        for v in &subnet.validators {
            if !filters.keep(subnet, v) {
                continue;
            }
            let elsewhere = across.get(&v.latest.hotkey).copied();
            let mine = Mine {
                staked: yours.with(|y| y.get(&v.latest.hotkey).copied()),
                amount: amount.clone(),
                expected: expected_by_hotkey.get(&v.latest.hotkey).copied(),
            };
            rows.push(validator_row(i18n, subnet, v, elsewhere, mine));
        }
    }
    rows
}

/// What the user typed, in rao and as typed (passed on to the staking flow as written), and
/// what it would earn a year on the row's hotkey over all its subnets.
struct Mine {
    /// The chosen account's stake on the row's hotkey now (rao).
    staked: Option<u64>,
    amount: Option<(u64, String)>,
    expected: Option<f64>,
}

/// One validator's row; `elsewhere`: its yearly yield over all its subnets and how many, where
/// it validates on more than this one.
fn validator_row(
    i18n: I18n,
    subnet: &SubnetYields,
    v: &ValidatorYield,
    elsewhere: Option<(f64, usize)>,
    mine: Mine,
) -> Row {
    let l = &v.latest;
    let netuid = subnet.netuid;
    let trend: Vec<f64> = v.epochs.iter().rev().map(|e| e.epoch_yield).collect();
    let epochs_words = if v.all_exact {
        i18n.tf(
            "yields.epochs-match",
            &[("count", &v.epochs.len().to_string())],
        )
    } else {
        i18n.tf(
            "yields.epochs-mismatch",
            &[("count", &v.epochs.len().to_string())],
        )
    };
    let open = l.open_to_nominators();
    let expected_cell = match mine.expected {
        Some(per_year) if open && mine.amount.as_ref().is_some_and(|(rao, _)| *rao > 0) => {
            let rao = per_year.round() as u64;
            Cell::number(format!("{} τ", i18n.tao(rao)), i128::from(rao)).field("expected", rao)
        }
        _ if !open => Cell::muted(i18n.t("yields.owner-only")),
        _ => Cell::muted("—"),
    };
    let mut href = format!("/account?hotkey={}&netuid={netuid}", l.hotkey);
    if let Some((_, typed)) = &mine.amount {
        href.push_str(&format!("&amount={typed}"));
    }
    let stake_cell = if open {
        Cell::link(
            href,
            i18n.t("yields.stake-with"),
            Key::Text(l.hotkey.clone()),
        )
    } else {
        Cell::muted(i18n.t("yields.owner-only"))
    };
    let yearly = match elsewhere {
        Some((sum, count)) => format!(
            "{} ({})",
            percent(v.annual_yield, 2),
            i18n.tf(
                "yields.on-subnets",
                &[("count", &count.to_string()), ("yearly", &percent(sum, 2))]
            )
        ),
        None => percent(v.annual_yield, 2),
    };
    // Each epoch's payout as `block:to_stakers:stake`, for the tests to hold to the CLI's.
    let epoch_values: Vec<String> = v
        .epochs
        .iter()
        .map(|e| format!("{}:{}:{}", e.block, e.to_stakers, e.stake))
        .collect();
    Row::new(vec![
        Cell::link(
            format!("/subnets/{netuid}"),
            netuid.to_string(),
            Key::Number(netuid.into()),
        ),
        Cell::copy(l.hotkey.clone()),
        // Ranked by what its stakers get: over all its subnets where it has several.
        Cell::number(
            yearly,
            yield_key(elsewhere.map_or(v.annual_yield, |(sum, _)| sum)),
        )
        .field("yearly", v.annual_yield),
        expected_cell,
        stake_cell,
        Cell::number(
            percent(v.mean_epoch_yield, 5),
            yield_key(v.mean_epoch_yield),
        )
        .field("epoch-yield", v.mean_epoch_yield),
        Cell::view(move || sparkline(&trend), None),
        Cell::text(epochs_words),
        match l.delegate_take {
            Some(t) => Cell::number(take_words(i18n, Some(t)), t).field("take", t),
            None => Cell::muted(take_words(i18n, None)),
        },
        Cell::number(format!("{} τ", i18n.tao(l.stake)), l.stake).field("stake", l.stake),
        match mine.staked {
            Some(rao) if rao > 0 => Cell::number(
                format!(
                    "{} τ ({})",
                    i18n.tao(rao),
                    // Of the stake at the newest epoch (the account's is newer): at most all.
                    percent((rao as f64 / l.stake.max(1) as f64).min(1.0), 2)
                ),
                rao,
            )
            .field("yours", rao),
            _ => Cell::muted("—"),
        },
        Cell::number(i18n.int(l.nominators.into()), l.nominators).field("nominators", l.nominators),
        Cell::number(
            percent(f64::from(l.validator_trust) / 65535.0, 2),
            l.validator_trust,
        ),
        Cell::number(format!("#{}", l.last_update), l.last_update),
    ])
    .attr("data-netuid", netuid)
    .attr("data-hotkey", &l.hotkey)
    .attr("data-exact", v.all_exact)
    .attr("data-open", open)
    .attr("data-epochs", v.epochs.len())
    .attr("data-epoch-values", epoch_values.join(";"))
    .attr("data-epochs-per-year", subnet.epochs_per_year)
}

#[component]
fn SubnetsTable(answer: Signal<Option<YieldsAnswer>>) -> impl IntoView {
    let i18n = use_i18n();
    let columns = Signal::derive(move || {
        vec![
            Column::number(i18n.t("yields.col-subnet")),
            Column::number(i18n.t("yields.col-emission")),
            Column::number(i18n.t("yields.col-total-stake")),
            Column::number(i18n.t("yields.col-validators")),
            Column::text(i18n.t("yields.col-spread")),
            Column::text(i18n.t("yields.col-verdict")),
        ]
    });
    let rows = Signal::derive(move || {
        let Some(answer) = answer.get() else {
            return Vec::new();
        };
        answer
            .subnets
            .iter()
            .map(|s| {
                let share = emission_fraction(s);
                let (lo, hi) = s
                    .validators
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), v| {
                        (lo.min(v.annual_yield), hi.max(v.annual_yield))
                    });
                let spread = if s.validators.is_empty() {
                    "—".to_string()
                } else {
                    format!("{} – {}", percent(lo, 2), percent(hi, 2))
                };
                let verdict = format!(
                    "{} {} (#{})",
                    if s.all_exact { "✓" } else { "✗" },
                    s.verdict,
                    s.block
                );
                Row::new(vec![
                    Cell::link(
                        format!("/subnets/{}", s.netuid),
                        s.netuid.to_string(),
                        Key::Number(s.netuid.into()),
                    ),
                    Cell::number(percent(share, 2), yield_key(share)),
                    Cell::number(format!("{} τ", i18n.tao(s.total_stake)), s.total_stake),
                    Cell::number(
                        i18n.int(s.validators.len() as u64),
                        s.validators.len() as i128,
                    ),
                    Cell::text(spread),
                    Cell::link(
                        format!("/subnets/{}/audit", s.netuid),
                        verdict,
                        Key::Number(s.block.into()),
                    ),
                ])
                .attr("data-netuid", s.netuid)
            })
            .collect()
    });
    view! { <DataTable testid="yields-subnets" row_testid="yields-subnet" columns rows/> }
}

/// The subnets' shares of the block emission, as bars (drawn here, no chart service).
#[component]
fn EmissionChart(answer: Signal<Option<YieldsAnswer>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let a = answer.get()?;
        let bars: Vec<(u16, f64)> = a
            .subnets
            .iter()
            .map(|s| (s.netuid, emission_fraction(s)))
            .collect();
        let height = 22 * bars.len() + 4;
        Some(view! {
            <figure class="chart" data-testid="yields-emission-chart">
                <svg width="320" height=height viewBox=format!("0 0 320 {height}") role="img"
                    aria-label=i18n.t("yields.chart-emission")>
                    {bars.into_iter().enumerate().map(|(i, (netuid, share))| {
                        let y = 4 + 22 * i;
                        view! {
                            <text x="0" y=y + 14 font-size="12" fill="currentColor">{format!("{netuid}")}</text>
                            <rect x="40" y=y width=format!("{:.1}", 200.0 * share) height="16" fill="var(--accent, #3b82f6)"/>
                            <text x=format!("{:.1}", 46.0 + 200.0 * share) y=y + 13 font-size="12" fill="currentColor">{percent(share, 1)}</text>
                        }
                    }).collect_view()}
                </svg>
                <figcaption>{i18n.t("yields.chart-emission")}</figcaption>
            </figure>
        })
    }
}

/// Subnets without yields, with why.
#[component]
fn Notes(answer: Signal<Option<YieldsAnswer>>) -> impl IntoView {
    move || {
        let notes = answer.get().map(|a| a.notes).unwrap_or_default();
        (!notes.is_empty()).then(|| {
            view! {
                <ul class="muted" data-testid="yields-notes">
                    {notes.into_iter().map(|(netuid, why)| view! { <li>{format!("{netuid}: {why}")}</li> }).collect_view()}
                </ul>
            }
        })
    }
}

#[component]
fn HowComputed() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <details class="how" data-testid="yields-how">
            <summary>{move || i18n.t("yields.how")}</summary>
            <p>{move || i18n.t("yields.how-emission")}</p>
            <p>{move || i18n.t("yields.how-take")}</p>
            <p><code>"yield per epoch = (emission − take) ÷ stake"</code></p>
            <p><code>"yearly = mean(yield per epoch) × epochs a year;  epochs a year = 365.25 days ÷ (block time × (tempo + 1))"</code></p>
            <p>{move || i18n.t("yields.how-expected")}</p>
        </details>
    }
}
