//! Home (`/`): what a staker, validator or subnet owner opens the app for, at a glance: the
//! network's state (finalized block, verified mark, time to the first verified value), the
//! chosen account's balances and stake, every subnet with its key numbers and the verdict of its
//! latest audited epoch, and where each tool lives. Every number here comes from the same
//! proven reads as the page it links to.

use crate::chain::Chain;
use crate::chain_protocol::{Phase, SubnetVerdict, VerdictState};
use crate::i18n::{I18n, use_i18n};
use crate::pages::account::{chosen_account, portfolio_of, staked_tao};
use crate::pages::subnets::{
    emission_share, emission_total, refresh_on_finality, short, subnets_list, waiting,
};
use crate::table::{Cell, Column, DataTable, Empty, Failed, Key, ListState, Row};
use leptos::prelude::*;

#[component]
pub fn HomePage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
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
            <h1 data-testid="home-title">{move || i18n.t("home.title")}</h1>
            <p class="lead">{move || i18n.t("home.lead")}</p>
            <Glance/>
            <h2>{move || i18n.t("home.your-account")}</h2>
            {match account {
                None => view! {
                    <p data-testid="home-no-account">
                        {move || i18n.t("home.no-account")} " " <a href="/account">{move || i18n.t("home.choose-account")}</a>
                    </p>
                }.into_any(),
                Some(address) => view! { <AccountGlance address/> }.into_any(),
            }}
            <h2>{move || i18n.t("nav.subnets")}</h2>
            <SubnetsGlance/>
            <h2>{move || i18n.t("home.tools")}</h2>
            <ul class="tools" data-testid="home-tools">
                <li><a href="/stake">{move || i18n.t("nav.stake")}</a>": "{move || i18n.t("home.tool-stake")}</li>
                <li><a href="/subnets">{move || i18n.t("nav.subnets")}</a>": "{move || i18n.t("home.tool-subnets")}</li>
                <li><a href="/audit">{move || i18n.t("nav.audit")}</a>": "{move || i18n.t("home.tool-audit")}</li>
                <li><a href="/account">{move || i18n.t("nav.account")}</a>": "{move || i18n.t("home.tool-account")}</li>
                <li><a href="/network">{move || i18n.t("nav.network")}</a>": "{move || i18n.t("home.tool-network")}</li>
                <li><a href="/lab">{move || i18n.t("nav.lab")}</a>": "{move || i18n.t("home.tool-lab")}</li>
                <li><a href="/widgets">{move || i18n.t("nav.widgets")}</a>": "{move || i18n.t("home.tool-widgets")}</li>
            </ul>
        </section>
    }
}

/// The network now: finalized block, verified mark, runtime and time to the first proven value.
#[component]
fn Glance() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
    let status = chain.status;
    view! {
        <dl class="facts glance" data-testid="home-glance">
            <dt>{move || i18n.t("nav.network")}</dt>
            <dd>{move || chain.network.get().label()}</dd>
            <dt>{move || i18n.t("home.finalized")}</dt>
            <dd data-testid="home-finalized">{move || status.with(|s| match (s.phase, &s.finalized) {
                (Phase::Live, Some(block)) => i18n.tf("home.finalized-verified", &[("number", &block.number.to_string()), ("transport", &s.transport)]),
                (Phase::Failed, _) => i18n.t("home.stopped"),
                _ => i18n.t("shell.syncing"),
            })}</dd>
            <dt>{move || i18n.t("home.runtime")}</dt>
            <dd>{move || status.with(|s| s.runtime.as_ref().map_or("—".into(), |r| format!("{} {}", r.spec_name, r.spec_version)))}</dd>
            <dt>{move || i18n.t("home.first-value")}</dt>
            <dd data-testid="home-first-value">{move || status.with(|s| s.first_value_ms.map_or("—".into(), |ms| i18n.tf("home.ms-after-start", &[("ms", &i18n.int(ms.round() as u64))])))}</dd>
        </dl>
    }
}

#[component]
fn AccountGlance(address: String) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
    let portfolio = portfolio_of(chain, address.clone());
    view! {
        <p><code title=address.clone()>{short(&address)}</code> " · " <a href="/account">{move || i18n.t("home.account-link")}</a></p>
        {move || match portfolio.get() {
            None => waiting(chain).into_any(),
            Some(Err(why)) => view! { <p class="error" role="alert">{why}</p> }.into_any(),
            Some(Ok(verified)) => {
                let staked = staked_tao(&verified.value.stakes);
                view! {
                    <dl class="facts" data-testid="home-portfolio" data-block=verified.at.number>
                        <dt>{move || i18n.t("account.free")}</dt><dd class="num" data-field="free" data-raw=verified.value.account.free>{move || format!("{} τ", i18n.tao(verified.value.account.free))}</dd>
                        <dt>{move || i18n.t("account.staked")}</dt><dd class="num" data-field="staked" data-raw=staked>{move || format!("{} τ", i18n.tao(staked))}</dd>
                        <dt>{move || i18n.t("home.verified-at")}</dt><dd>{move || i18n.tf("home.at-block", &[("number", &verified.at.number.to_string())])}</dd>
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
    let i18n = use_i18n();
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
    let (state, at) = subnets_list(chain);
    let at = Memo::new(move |_| at.get().map(|b| b.number));
    let columns = Signal::derive(move || {
        vec![
            Column::number(i18n.t("home.col-subnet")),
            Column::number(i18n.t("home.col-uids")),
            Column::number(i18n.t("home.col-validators")),
            Column::number(i18n.t("home.col-tempo")),
            Column::number(i18n.t("home.col-emission")),
            Column::text(i18n.t("home.col-audit")),
        ]
    });
    let rows = Signal::derive(move || {
        chain.subnets.with(|a| {
            let Some(Ok(answer)) = a else { return Vec::new() };
            let total = emission_total(&answer.value);
            answer
                .value
                .iter()
                .map(|s| {
                    let netuid = s.netuid;
                    Row::new(vec![
                        Cell::link(format!("/subnets/{netuid}"), netuid.to_string(), Key::Number(netuid.into())),
                        Cell::number(i18n.int(s.n.into()), s.n),
                        Cell::number(format!("{} / {}", s.validators, s.max_validators), s.validators),
                        Cell::number(i18n.int(s.tempo.into()), s.tempo),
                        match s.emission {
                            Some(e) => Cell::number(emission_share(Some(e), total), e),
                            None => Cell::muted(emission_share(None, total)),
                        },
                        // The verdict follows the audit as it comes in (not sorted by).
                        Cell::view(
                            move || view! { <span data-testid="home-verdict">{verdict_words(i18n, netuid, verdict(netuid))}</span> }.into_any(),
                            None,
                        ),
                    ])
                    .attr("data-netuid", netuid)
                })
                .collect()
        })
    });
    move || {
        match state.get() {
        ListState::Waiting => waiting(chain).into_any(),
        ListState::Failed(why) => view! { <Failed testid="home-subnets-error" why/> }.into_any(),
        ListState::Empty => view! { <Empty testid="home-subnets-empty" words=i18n.t("home.no-subnets")/> }.into_any(),
        ListState::Shown => view! {
            <p class="verified-at" data-testid="home-subnets" data-block=move || at.get()>
                {move || i18n.tf("home.at-block", &[("number", &at.get().unwrap_or_default().to_string())])}
            </p>
            <DataTable testid="home-subnets-table" row_testid="home-subnet" columns rows/>
        }
        .into_any(),
    }
    }
}

fn verdict_words(i18n: I18n, netuid: u16, verdict: Option<SubnetVerdict>) -> AnyView {
    let link = format!("/subnets/{netuid}/audit");
    match verdict.map(|v| (v.epoch, v.state)) {
        Some((Some(epoch), VerdictState::Audited { checked, mismatches: 0 })) => view! {
            <a href=link class="verified" data-state="match">{format!("✓ {}", i18n.tf("home.verdict-match", &[("checked", &i18n.int(checked as u64)), ("epoch", &epoch.to_string())]))}</a>
        }.into_any(),
        Some((Some(epoch), VerdictState::Audited { checked, mismatches })) => view! {
            <a href=link class="error" data-state="mismatch">{format!("✗ {}", i18n.tf("home.verdict-mismatch", &[("mismatches", &i18n.int(mismatches as u64)), ("checked", &i18n.int(checked as u64)), ("epoch", &epoch.to_string())]))}</a>
        }.into_any(),
        Some((_, VerdictState::Unaudited(why))) => view! { <span class="muted" data-state="unaudited">{why}</span> }.into_any(),
        _ => view! { <span class="muted" data-state="pending">{i18n.t("home.auditing")}</span> }.into_any(),
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
