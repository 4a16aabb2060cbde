//! A subnet's audit: its last epochs, each recomputed in the light-client worker from the proven
//! state of the block before it, with the algorithm of the runtime that ran it, and every value
//! the runtime stored compared with ours. New epochs are audited as their blocks are finalized
//! (the page asks again at each finalized block); a uid's row opens the inputs behind its numbers.
//!
//! Cells carry raw chain values in `data-raw` as the subnet page's do.

use crate::chain::Chain;
use crate::chain_protocol::AuditAnswer;
use crate::pages::epoch_lab::download_json;
use crate::pages::subnets::{proportion, refresh_on_finality, short, waiting};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use taoscope_consensus::v103::HotkeyId;
use taoscope_light_client::audit::{AuditReport, EpochAudit, REPORT_SCHEMA};
use taoscope_light_client::units::format_tao_grouped;

/// Epochs asked for: what the transport can prove of them is audited, the rest said.
const EPOCHS: u16 = 8;

#[component]
pub fn AuditPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let params = use_params_map();
    let netuid = move || {
        params
            .read()
            .get("netuid")
            .and_then(|n| n.parse::<u16>().ok())
    };
    refresh_on_finality(chain, move || {
        if let Some(n) = netuid() {
            chain.request_audit(n, EPOCHS);
        }
    });
    // The answer for this subnet. Views below read parts of it, so that a new answer each block
    // keeps what did not change (rows, an open "why") in place.
    let answer = Memo::new(move |_| {
        chain
            .audit
            .get()
            .and_then(|(shown, result)| (Some(shown) == netuid()).then_some(result))
    });
    let state = Memo::new(move |_| {
        answer.with(|a| match a {
            None => 0,
            Some(Err(_)) => 1,
            Some(Ok(_)) => 2,
        })
    });
    view! {
        <section class="page">
            {move || match netuid() {
                None => view! {
                    <h1>"Audit"</h1>
                    <p class="error" role="alert">"A netuid is a number from 0 to 65535: " <a href="/subnets">"see the subnets"</a>"."</p>
                }.into_any(),
                Some(n) => view! {
                    <h1>"Audit of subnet " {n}</h1>
                    <p><a href=format!("/subnets/{n}")>"← Subnet " {n}</a></p>
                    <p class="muted">
                        "Each epoch is recomputed in this page from the state of the block before it, read through storage proofs, \
                         with the epoch algorithm of the runtime that ran it; every value the runtime stored at the epoch block is compared with ours."
                    </p>
                    {move || match state.get() {
                        2 => view! { <AuditView answer network=chain.network.get_untracked().id()/> }.into_any(),
                        1 => view! {
                            <p class="error" role="alert" data-testid="audit-error">
                                {move || answer.with(|a| match a { Some(Err(why)) => why.clone(), _ => String::new() })}
                            </p>
                        }.into_any(),
                        _ => waiting(chain).into_any(),
                    }}
                }.into_any(),
            }}
        </section>
    }
}

#[component]
fn AuditView(
    answer: Memo<Option<Result<AuditAnswer, String>>>,
    network: &'static str,
) -> impl IntoView {
    let chain = expect_context::<Chain>();
    let ok = move || answer.with(|a| a.as_ref().and_then(|r| r.as_ref().ok()).cloned());
    let epochs = Memo::new(move |_| ok().map(|a| a.epochs).unwrap_or_default());
    let selected = RwSignal::new(None::<u64>);
    let why = RwSignal::new(None::<u16>);
    let chosen = Memo::new(move |_| {
        selected
            .get()
            .and_then(|block| epochs.with(|e| e.iter().find(|e| e.block.number == block).cloned()))
    });
    let counts = move || epochs.with(|e| (e.iter().filter(|e| e.is_exact()).count(), e.len()));
    let summary = move || {
        let (exact, total) = counts();
        if total == 0 {
            "No epoch audited yet.".to_string()
        } else if exact == total {
            format!("{total} epochs audited: every value matches the chain.")
        } else {
            format!(
                "{total} epochs audited: {} differ from the chain.",
                total - exact
            )
        }
    };
    let export = move |_| {
        let Some(answer) = ok() else { return };
        let netuid = answer.epochs.first().map_or(0, |e| e.netuid);
        let report = AuditReport {
            schema: REPORT_SCHEMA.into(),
            network: network.into(),
            genesis_hash: answer.genesis_hash,
            trusted: answer.trusted,
            at: answer.at,
            epochs: answer.epochs,
        };
        download_json(&format!("taoscope-audit-subnet-{netuid}.json"), &report);
    };
    view! {
        {move || chain.refresh_error.get().map(|why| view! {
            <p class="notice" data-testid="refresh-error">"Showing the last audit: refreshing failed (" {why} "). Trying again at the next finalized block."</p>
        })}
        {move || ok().map(|a| view! {
            <p class="verified-at" data-testid="audit-block" data-block-number=a.at.number>
                "Audited up to finalized block #" {a.at.number} " "
                <code title="Block hash">{short(&a.at.hash)}</code>
                " · proven by " {a.transport}
            </p>
        })}
        <p
            class=move || if counts().0 == counts().1 { "match ok" } else { "match bad" }
            data-testid="audit-summary"
            data-state=move || if counts().0 == counts().1 { "match" } else { "mismatch" }
        >{summary}</p>
        {move || ok().filter(|a| a.pending > 0).map(|a| view! {
            <p class="progress" data-testid="audit-pending">
                <span class="spinner" aria-hidden="true"></span>
                {format!("Auditing {} more epochs…", a.pending)}
            </p>
        })}
        {move || ok().and_then(|a| a.older).map(|why| view! {
            <p class="muted" data-testid="audit-older">"No older epoch can be proven now: " {why} ". Epochs audited earlier in this session stay listed."</p>
        })}
        <p>
            <button type="button" data-testid="audit-export" disabled=move || counts().1 == 0 on:click=export>
                "Export the audit report (JSON)"
            </button>
            " "
            <span class="muted">"Check it again later with " <code>"taoscope audit verify FILE"</code>"."</span>
        </p>
        <div class="table-scroll">
        <table data-testid="audit-table">
            <thead><tr>
                <th scope="col" class="num">"Epoch block"</th>
                <th scope="col">"Runtime"</th>
                <th scope="col">"Algorithm"</th>
                <th scope="col">"Verdict"</th>
                <th scope="col">"Proof"</th>
                <th scope="col">"Details"</th>
            </tr></thead>
            <tbody>
                <For each=move || epochs.get() key=|epoch| (epoch.block.number, epoch.checked, epoch.mismatches.len()) let:epoch>
                    <EpochRow epoch selected/>
                </For>
            </tbody>
        </table>
        </div>
        {move || epochs.get().into_iter().filter(|e| !e.is_exact()).map(|epoch| view! { <Mismatches epoch/> }).collect_view()}
        {move || chosen.get().map(|epoch| view! { <EpochUids epoch why/> })}
    }
}

#[component]
fn EpochRow(epoch: EpochAudit, selected: RwSignal<Option<u64>>) -> impl IntoView {
    let block = epoch.block.number;
    let state = if epoch.is_exact() {
        "match"
    } else {
        "mismatch"
    };
    view! {
        <tr data-testid="audit-epoch" data-block=block data-state=state data-checked=epoch.checked>
            <td class="num">"#" {block} " " <code title=epoch.block.hash.clone()>{short(&epoch.block.hash)}</code></td>
            <td>{format!("{} {}", epoch.runtime.spec_name, epoch.runtime.spec_version)}</td>
            <td>{epoch.algorithm.clone()}</td>
            <td class=if epoch.is_exact() { "verified" } else { "error" } data-testid="audit-verdict">{epoch.verdict()}</td>
            <td title=format!("Input read at block #{}, results at #{}, through storage proofs", epoch.input_block.number, block)>
                "✓ proven at #" {epoch.input_block.number} " and #" {block}
            </td>
            <td>
                <button type="button" data-testid="audit-open" aria-expanded=move || (selected.get() == Some(block)).to_string()
                    on:click=move |_| selected.update(|s| *s = if *s == Some(block) { None } else { Some(block) })>
                    {move || if selected.get() == Some(block) { "Hide uids" } else { "Show uids" }}
                </button>
            </td>
        </tr>
    }
}

#[component]
fn Mismatches(epoch: EpochAudit) -> impl IntoView {
    view! {
        <h2>"Values that differ at block #" {epoch.block.number}</h2>
        <div class="table-scroll">
        <table data-testid="audit-mismatches" data-block=epoch.block.number>
            <thead><tr>
                <th scope="col">"Field"</th>
                <th scope="col" class="num">"Uid"</th>
                <th scope="col">"Hotkey"</th>
                <th scope="col" class="num">"On chain"</th>
                <th scope="col" class="num">"Recomputed"</th>
                <th scope="col" class="num">"Difference"</th>
            </tr></thead>
            <tbody>
                {epoch.mismatches.into_iter().map(|m| view! {
                    <tr data-testid="audit-mismatch" data-field=m.field.clone() data-uid=m.uid.map(|u| u.to_string()).unwrap_or_default()>
                        <td>{m.field.clone()}</td>
                        <td class="num">{m.uid.map(|u| u.to_string()).unwrap_or_else(|| "—".into())}</td>
                        <td>{m.hotkey.clone().map(|h| view! { <code title=h.clone()>{short(&h)}</code> })}</td>
                        <td class="num">{m.chain.clone()}</td>
                        <td class="num">{m.recomputed.clone()}</td>
                        <td class="num">{m.difference.clone().unwrap_or_else(|| "—".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}

fn hotkey_text(id: Option<&HotkeyId>) -> String {
    match id {
        Some(HotkeyId::Account(a)) => a.clone(),
        Some(HotkeyId::Number(n)) => n.to_string(),
        None => String::new(),
    }
}

/// The uids of one audited epoch: the chain's stored results, and a "why" per uid.
#[component]
fn EpochUids(epoch: EpochAudit, why: RwSignal<Option<u16>>) -> impl IntoView {
    let n = usize::from(epoch.input.n);
    let at = |v: &[u16], uid: usize| v.get(uid).copied().unwrap_or(0);
    let rows: Vec<_> = (0..n)
        .map(|uid| {
            let s = &epoch.stored;
            let uid16 = u16::try_from(uid).unwrap_or(u16::MAX);
            view! {
                <tr data-testid="audit-uid" data-uid=uid>
                    <td class="num">{uid}</td>
                    <td>{let h = hotkey_text(epoch.input.hotkeys.get(uid).and_then(Option::as_ref)); view! { <code title=h.clone()>{short(&h)}</code> }}</td>
                    <td class="num">{format_tao_grouped(epoch.input.total_hotkey_stake.get(uid).copied().unwrap_or(0))}</td>
                    <td class="num" data-field="rank" data-raw=at(&s.rank, uid)>{proportion(at(&s.rank, uid))}</td>
                    <td class="num" data-field="trust" data-raw=at(&s.trust, uid)>{proportion(at(&s.trust, uid))}</td>
                    <td class="num" data-field="consensus" data-raw=at(&s.consensus, uid)>{proportion(at(&s.consensus, uid))}</td>
                    <td class="num" data-field="incentive" data-raw=at(&s.incentive, uid)>{proportion(at(&s.incentive, uid))}</td>
                    <td class="num" data-field="dividends" data-raw=at(&s.dividends, uid)>{proportion(at(&s.dividends, uid))}</td>
                    <td class="num" data-field="emission">{format_tao_grouped(s.emission.get(uid).copied().unwrap_or(0))}</td>
                    <td><button type="button" data-testid="audit-why" on:click=move |_| why.set(Some(uid16))>"Why?"</button></td>
                </tr>
            }
        })
        .collect();
    let detail = epoch.clone();
    view! {
        <h2>"Uids at epoch block #" {epoch.block.number}</h2>
        <div class="table-scroll">
        <table data-testid="audit-uids">
            <thead><tr>
                <th scope="col" class="num">"Uid"</th>
                <th scope="col">"Hotkey"</th>
                <th scope="col" class="num">"Stake (τ)"</th>
                <th scope="col" class="num">"Rank"</th>
                <th scope="col" class="num">"Trust"</th>
                <th scope="col" class="num">"Consensus"</th>
                <th scope="col" class="num">"Incentive"</th>
                <th scope="col" class="num">"Dividends"</th>
                <th scope="col" class="num">"Emission (τ)"</th>
                <th scope="col"><span class="visually-hidden">"Why"</span></th>
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        </div>
        {move || why.get().map(|uid| view! { <Why epoch=detail.clone() uid/> })}
    }
}

/// Why uid `uid` earned what it earned at this epoch: the inputs that produced its numbers.
#[component]
fn Why(epoch: EpochAudit, uid: u16) -> impl IntoView {
    let i = usize::from(uid);
    let input = &epoch.input;
    let stored = &epoch.stored;
    let row = |rows: &[(u16, Vec<(u16, u16)>)]| {
        rows.iter()
            .find(|(u, _)| *u == uid)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    let list = |entries: Vec<(u16, u16)>| {
        if entries.is_empty() {
            "none".to_string()
        } else {
            entries
                .iter()
                .map(|(u, w)| format!("uid {u}: {}", proportion(*w)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let received: Vec<(u16, u16)> = input
        .weights
        .iter()
        .filter_map(|(from, r)| {
            r.iter()
                .find(|(to, _)| *to == uid)
                .map(|(_, w)| (*from, *w))
        })
        .collect();
    let at16 = |v: &[u16]| proportion(v.get(i).copied().unwrap_or(0));
    let flag = |v: &[bool]| {
        if v.get(i).copied().unwrap_or(false) {
            "yes"
        } else {
            "no"
        }
    };
    let facts = vec![
        (
            "Hotkey",
            hotkey_text(input.hotkeys.get(i).and_then(Option::as_ref)),
        ),
        (
            "Stake (τ)",
            format_tao_grouped(input.total_hotkey_stake.get(i).copied().unwrap_or(0)),
        ),
        (
            "Last weights set at block",
            input
                .last_update
                .get(i)
                .map(u64::to_string)
                .unwrap_or_default(),
        ),
        (
            "Registered at block",
            input
                .block_at_registration
                .get(i)
                .map(u64::to_string)
                .unwrap_or_default(),
        ),
        (
            "Validator permit before → after",
            format!(
                "{} → {}",
                flag(&input.validator_permit),
                flag(&stored.validator_permit)
            ),
        ),
        ("Weights it set", list(row(&input.weights))),
        ("Weights it received", list(received)),
        ("Bonds before", list(row(&input.bonds))),
        ("Bonds after", list(row(&stored.bonds))),
        ("Consensus", at16(&stored.consensus)),
        ("Rank", at16(&stored.rank)),
        ("Trust", at16(&stored.trust)),
        ("Validator trust", at16(&stored.validator_trust)),
        ("Incentive", at16(&stored.incentive)),
        ("Dividends", at16(&stored.dividends)),
        (
            "Emission (τ)",
            format_tao_grouped(stored.emission.get(i).copied().unwrap_or(0)),
        ),
        ("Active", flag(&stored.active).to_string()),
    ];
    view! {
        <section class="why" data-testid="audit-why-view" data-uid=uid aria-live="polite">
            <h3>"Why uid " {uid} " earned what it earned at block #" {epoch.block.number}</h3>
            <p class="muted">{format!(
                "Subnet emission shared this epoch: {} τ; kappa {}, activity cutoff {} blocks, bonds moving average {}.",
                format_tao_grouped(input.rao_emission), proportion(input.kappa), input.activity_cutoff, input.bonds_moving_average
            )}</p>
            <dl>
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        </section>
    }
}
