//! A subnet's audit: its last epochs, each recomputed in the light-client worker from the proven
//! state of the block before it, with the algorithm of the runtime that ran it, and every value
//! the runtime stored compared with ours. New epochs are audited as their blocks are finalized
//! (the page asks again at each finalized block); a uid's row opens the inputs behind its numbers.
//!
//! Cells carry raw chain values in `data-raw` as the subnet page's do.

use crate::chain::Chain;
use crate::chain_protocol::{AuditAnswer, SubnetVerdict, VerdictState, Verified};
use crate::epoch_protocol::{AuditBatchRequest, AuditBatchRun, WorkerRequest, WorkerResponse};
use crate::history;
use crate::pages::epoch_lab::download_json;
use crate::pages::subnets::{
    BadNetuid, netuid_param, proportion, refresh_on_finality, short, waiting,
};
use crate::worker;
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use taoscope_consensus::v103::HotkeyId;
use taoscope_light_client::audit::{AuditReport, EpochAudit, REPORT_SCHEMA};

/// Epochs asked for: what the transport can prove of them is audited, the rest said.
const EPOCHS: u16 = 8;

#[component]
pub fn AuditPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    let netuid = netuid_param();
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
                    <BadNetuid/>
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
    // The epoch opened and the uid explained live in the address (`?epoch=…&uid=…`): a link
    // to them opens them, and a reload keeps them.
    let query = use_query_map();
    let from_query = |name: &str| query.with_untracked(|q| q.get(name));
    let selected = RwSignal::new(from_query("epoch").and_then(|e| e.parse::<u64>().ok()));
    let why = RwSignal::new(from_query("uid").and_then(|u| u.parse::<u16>().ok()));
    let navigate = use_navigate();
    let location = use_location();
    Effect::new(move |first: Option<()>| {
        let mut parts = Vec::new();
        if let Some(block) = selected.get() {
            parts.push(format!("epoch={block}"));
            if let Some(uid) = why.get() {
                parts.push(format!("uid={uid}"));
            }
        }
        // The address as it came in is left as it is.
        if first.is_some() {
            let path = location.pathname.get_untracked();
            let search = if parts.is_empty() {
                String::new()
            } else {
                format!("?{}", parts.join("&"))
            };
            navigate(
                &format!("{path}{search}"),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            );
        }
    });
    // Epochs kept in this browser from earlier visits (a cache: shown apart, never counted), and
    // which proven ones were written there already.
    let kept = RwSignal::new(Vec::<EpochAudit>::new());
    let loaded = StoredValue::new(None::<(String, u16)>);
    let written = StoredValue::new(std::collections::HashSet::<u64>::new());
    Effect::new(move |_| {
        let Some(answer) = ok() else { return };
        let Some(netuid) = answer.epochs.first().map(|e| e.netuid) else {
            return;
        };
        let genesis = answer.genesis_hash.clone();
        if genesis.is_empty() {
            return;
        }
        if loaded.get_value() != Some((genesis.clone(), netuid)) {
            loaded.set_value(Some((genesis.clone(), netuid)));
            let genesis = genesis.clone();
            leptos::task::spawn_local(async move {
                if let Ok(found) = history::kept(&genesis, netuid).await {
                    kept.set(found);
                }
            });
        }
        let new: Vec<EpochAudit> = answer
            .epochs
            .iter()
            .filter(|e| !written.with_value(|w| w.contains(&e.block.number)))
            .cloned()
            .collect();
        if !new.is_empty() {
            written.update_value(|w| w.extend(new.iter().map(|e| e.block.number)));
            leptos::task::spawn_local(async move {
                let _ = history::keep(&genesis, &new).await;
            });
        }
    });
    // Proven epochs, then kept ones of blocks not proven again, newest first.
    let rows = Memo::new(move |_| {
        let mut rows: Vec<(EpochAudit, bool)> =
            epochs.get().into_iter().map(|e| (e, false)).collect();
        let proven: std::collections::HashSet<u64> =
            rows.iter().map(|(e, _)| e.block.number).collect();
        rows.extend(
            kept.get()
                .into_iter()
                .filter(|e| !proven.contains(&e.block.number))
                .map(|e| (e, true)),
        );
        rows.sort_by_key(|(e, _)| std::cmp::Reverse(e.block.number));
        rows
    });
    let chosen = Memo::new(move |_| {
        selected.get().and_then(|block| {
            rows.with(|r| r.iter().find(|(e, _)| e.block.number == block).cloned())
        })
    });
    let counts = move || epochs.with(|e| (e.iter().filter(|e| e.is_exact()).count(), e.len()));
    let summary = move || {
        let (exact, total) = counts();
        if total == 0 {
            "No epoch audited yet.".to_string()
        } else if exact == total {
            let epochs = if total == 1 { "epoch" } else { "epochs" };
            format!("{total} {epochs} audited: every value matches the chain.")
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
            not_audited: answer.not_audited,
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
                {format!("Auditing up to {} more epochs…", a.pending)}
            </p>
        })}
        {move || ok().map(|a| a.not_audited).filter(|n| !n.is_empty()).map(|refused| view! {
            <ul class="notice" data-testid="audit-not-audited">
                {refused.into_iter().map(|n| view! { <li>"Epoch at block #" {n.block} " not audited: " {n.why}</li> }).collect_view()}
            </ul>
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
                <For each=move || rows.get() key=|(epoch, kept)| (epoch.block.number, epoch.checked, epoch.mismatches.len(), *kept) let:row>
                    <EpochRow epoch=row.0 kept=row.1 selected/>
                </For>
            </tbody>
        </table>
        </div>
        {move || epochs.get().into_iter().filter(|e| !e.is_exact()).map(|epoch| view! { <Mismatches epoch/> }).collect_view()}
        {move || chosen.get().map(|(epoch, kept)| view! {
            {kept.then(|| view! {
                <p class="notice" data-testid="audit-kept-note">
                    "This epoch was audited on an earlier visit and kept in this browser; it is not proven again in this session."
                </p>
            })}
            <EpochUids epoch why/>
        })}
        {move || selected.get().filter(|_| chosen.with(Option::is_none) && ok().is_some_and(|a| a.pending == 0 && !a.epochs.is_empty())).map(|block| view! {
            <p class="notice" data-testid="audit-epoch-absent">
                "The epoch at block #" {block} " (from the address) is not among the epochs audited here."
            </p>
        })}
    }
}

#[component]
fn EpochRow(epoch: EpochAudit, kept: bool, selected: RwSignal<Option<u64>>) -> impl IntoView {
    let block = epoch.block.number;
    let state = if epoch.is_exact() {
        "match"
    } else {
        "mismatch"
    };
    let proof = if kept {
        view! {
            <td class="muted" title="Audited on an earlier visit and kept in this browser; not proven again in this session">
                "kept from an earlier visit"
            </td>
        }
        .into_any()
    } else {
        view! {
            <td title=format!("Input read at block #{}, results at #{}, through storage proofs", epoch.input_block.number, block)>
                "✓ proven at #" {epoch.input_block.number} " and #" {block}
            </td>
        }
        .into_any()
    };
    let testid = if kept { "audit-kept" } else { "audit-epoch" };
    view! {
        <tr data-testid=testid data-block=block data-state=state data-checked=epoch.checked data-kept=kept.to_string()>
            <td class="num">"#" {block} " " <code title=epoch.block.hash.clone()>{short(&epoch.block.hash)}</code></td>
            <td>{format!("{} {}", epoch.runtime.spec_name, epoch.runtime.spec_version)}</td>
            <td>{epoch.algorithm.clone()}</td>
            <td class=match (kept, epoch.is_exact()) { (true, _) => "muted", (false, true) => "verified", (false, false) => "error" } data-testid="audit-verdict">{epoch.verdict()}</td>
            {proof}
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
    let i18n = crate::i18n::use_i18n();
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
                    <td class="num">{i18n.tao(epoch.input.total_hotkey_stake.get(uid).copied().unwrap_or(0))}</td>
                    <td class="num" data-field="rank" data-raw=at(&s.rank, uid)>{proportion(at(&s.rank, uid))}</td>
                    <td class="num" data-field="trust" data-raw=at(&s.trust, uid)>{proportion(at(&s.trust, uid))}</td>
                    <td class="num" data-field="consensus" data-raw=at(&s.consensus, uid)>{proportion(at(&s.consensus, uid))}</td>
                    <td class="num" data-field="incentive" data-raw=at(&s.incentive, uid)>{proportion(at(&s.incentive, uid))}</td>
                    <td class="num" data-field="dividends" data-raw=at(&s.dividends, uid)>{proportion(at(&s.dividends, uid))}</td>
                    <td class="num" data-field="emission">{i18n.tao(s.emission.get(uid).copied().unwrap_or(0))}</td>
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
        {move || why.get().map(|uid| if usize::from(uid) < n {
            view! { <Why epoch=detail.clone() uid/> }.into_any()
        } else {
            // A uid from the address that this epoch does not have: said, never shown as zeros.
            view! { <p class="notice" data-testid="audit-uid-absent">"Uid " {uid} " is not in this epoch (it has " {n} " uids)."</p> }.into_any()
        })}
    }
}

/// Why uid `uid` earned what it earned at this epoch: the inputs that produced its numbers.
#[component]
fn Why(epoch: EpochAudit, uid: u16) -> impl IntoView {
    let i18n = crate::i18n::use_i18n();
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
            i18n.tao(input.total_hotkey_stake.get(i).copied().unwrap_or(0)),
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
            i18n.tao(stored.emission.get(i).copied().unwrap_or(0)),
        ),
        ("Active", flag(&stored.active).to_string()),
    ];
    view! {
        <section class="why" data-testid="audit-why-view" data-uid=uid aria-live="polite">
            <h3>"Why uid " {uid} " earned what it earned at block #" {epoch.block.number}</h3>
            <p class="muted">{format!(
                "Subnet emission shared this epoch: {} τ; kappa {}, activity cutoff {} blocks, bonds moving average {}.",
                i18n.tao(input.rao_emission), proportion(input.kappa), input.activity_cutoff, input.bonds_moving_average
            )}</p>
            <dl>
                {facts.into_iter().map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> }).collect_view()}
            </dl>
        </section>
    }
}

/// "Audit every subnet": the latest epoch of every subnet at the newest finalized block, each
/// recomputed from proven state, one verdict per subnet.
#[component]
pub fn AuditAllPage() -> impl IntoView {
    let chain = expect_context::<Chain>();
    refresh_on_finality(chain, move || chain.request_audit_all());
    let batch = recompute_as_one_batch(chain);
    // Time from opening the page to every subnet's verdict (proof reads and the CPU engine).
    let opened = js_sys::Date::now();
    let all_in = RwSignal::new(None::<f64>);
    Effect::new(move |_| {
        if all_in.get_untracked().is_none()
            && let Some(Ok(answer)) = chain.audit_all.get()
            && !answer
                .value
                .iter()
                .any(|v| v.state == VerdictState::Pending)
        {
            all_in.set(Some(js_sys::Date::now() - opened));
        }
    });
    view! {
        <section class="page">
            <h1>"Audit every subnet"</h1>
            <p class="muted">
                "The latest epoch of every subnet, recomputed in this page from proven state with the algorithm of the runtime that ran it \
                 and compared value by value with what the runtime stored, a few subnets at a time (CPU, in the light client's worker). \
                 Once all are in, the same epochs are recomputed again as one batch on the GPU where WebGPU is present \
                 (the consensus of every subnet in one submission), and both verdicts are shown."
            </p>
            {move || match chain.audit_all.get() {
                None => waiting(chain).into_any(),
                Some(Err(why)) => view! { <p class="error" role="alert" data-testid="audit-all-error">{why}</p> }.into_any(),
                Some(Ok(answer)) => view! { <VerdictTable answer all_in=all_in.get()/> }.into_any(),
            }}
            <BatchTable batch/>
        </section>
    }
}

/// The CPU verdict of an epoch sent to the batch: netuid, epoch block, values checked, how
/// many differ.
type CpuVerdict = (u16, u64, usize, usize);

/// The batch of the latest audited epochs, recomputed in the epoch worker (GPU where there is
/// one), beside the CPU verdicts it was sent with: asked for once every subnet's verdict is in,
/// again when the epochs change.
type Batch = RwSignal<Option<(Vec<CpuVerdict>, Result<AuditBatchRun, String>)>>;

fn recompute_as_one_batch(chain: Chain) -> Batch {
    let batch: Batch = RwSignal::new(None);
    let batch_id = StoredValue::new(0u32);
    let asked_for = StoredValue::new(Vec::<CpuVerdict>::new());
    let sent = StoredValue::new(Vec::<CpuVerdict>::new());
    let worker = worker::spawn(
        move |response| {
            if let WorkerResponse::AuditBatch(answer) = response
                && answer.id == batch_id.get_value()
            {
                batch.set(Some((sent.get_value(), answer.result)));
            }
        },
        move |why| batch.set(Some((Vec::new(), Err(why)))),
    );
    Effect::new(move |_| {
        let Some(Ok(answer)) = chain.audit_all.get() else {
            return;
        };
        if answer
            .value
            .iter()
            .any(|v| v.state == VerdictState::Pending)
        {
            return;
        }
        let audited: Vec<CpuVerdict> = answer
            .value
            .iter()
            .filter_map(|v| match v.state {
                VerdictState::Audited {
                    checked,
                    mismatches,
                } => Some((v.netuid, v.epoch?, checked, mismatches)),
                _ => None,
            })
            .collect();
        if audited.is_empty() || asked_for.with_value(|a| *a == audited) {
            return;
        }
        asked_for.set_value(audited.clone());
        chain.request_audit_inputs(audited.iter().map(|v| (v.0, v.1)).collect());
    });
    Effect::new(move |_| match chain.audit_inputs.get() {
        None => {}
        Some(Err(why)) => batch.set(Some((Vec::new(), Err(why)))),
        Some(Ok(epochs)) => {
            let id = batch_id.get_value() + 1;
            batch_id.set_value(id);
            sent.set_value(asked_for.get_value());
            let request = WorkerRequest::AuditBatch(AuditBatchRequest { id, epochs });
            if !worker::send(worker, &request) {
                let why = "this browser refused to start the epoch worker".to_string();
                batch.set(Some((Vec::new(), Err(why))));
            }
        }
    });
    batch
}

/// The batch recomputation: one row per epoch, its CPU verdict (the light worker's) and the
/// batch's.
#[component]
fn BatchTable(batch: Batch) -> impl IntoView {
    move || {
        match batch.get() {
        None => view! {
            <p data-testid="audit-all-engine" class="muted">
                "The batch recomputation runs once every subnet is checked."
            </p>
        }
        .into_any(),
        Some((_, Err(why))) => view! {
            <p data-testid="audit-all-engine" class="error">{format!("The batch recomputation failed: {why}")}</p>
        }
        .into_any(),
        Some((_, Ok(AuditBatchRun { gpu_unavailable: Some(why), .. }))) => view! {
            <p data-testid="audit-all-engine" class="muted">{format!(
                "Not recomputed again on a GPU ({why}): the verdicts above are the CPU engine's."
            )}</p>
        }
        .into_any(),
        Some((cpu, Ok(run))) => {
            let words = |checked: usize, differ: usize| {
                let state = if differ == 0 { "match" } else { "mismatch" };
                (state, format!("{} of {checked} values match", checked - differ.min(checked)))
            };
            let rows = run.verdicts.iter().map(|v| {
                let on_cpu = cpu.iter().find(|c| c.0 == v.netuid && c.1 == v.block);
                let (cpu_state, cpu_words) = on_cpu.map_or(("pending", "—".to_string()), |c| words(c.2, c.3));
                let (state, text) = match &v.result {
                    Ok((checked, differ)) => words(*checked, *differ),
                    Err(why) => ("unaudited", format!("not recomputed: {why}")),
                };
                view! {
                    <tr data-testid="audit-all-batch" data-netuid=v.netuid data-block=v.block data-cpu=cpu_state data-state=state>
                        <td class="num">{v.netuid}</td>
                        <td class="num">{format!("#{}", v.block)}</td>
                        <td>{cpu_words}</td>
                        <td>{text}</td>
                    </tr>
                }
            }).collect_view();
            view! {
                <p data-testid="audit-all-engine" class="muted">{format!(
                    "Recomputed again as one batch of {} epochs on {} in {:.0} ms (the CPU engine, one by one in the same worker: {:.0} ms)",
                    run.verdicts.len(),
                    run.engine,
                    run.elapsed_ms,
                    run.cpu_ms,
                )}</p>
                <div class="table-scroll">
                <table data-testid="audit-all-batch-table">
                    <thead><tr>
                        <th scope="col" class="num">"Netuid"</th>
                        <th scope="col" class="num">"Epoch"</th>
                        <th scope="col">"CPU (light worker)"</th>
                        <th scope="col">"Batch"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
                </div>
            }
            .into_any()
        }
    }
    }
}

#[component]
fn VerdictTable(answer: Verified<Vec<SubnetVerdict>>, all_in: Option<f64>) -> impl IntoView {
    let Verified { at, value } = answer;
    let total = value.len();
    let done = value
        .iter()
        .filter(|v| !matches!(v.state, VerdictState::Pending))
        .count();
    view! {
        <p class="verified-at" data-testid="audit-all-block" data-block-number=at.number>
            "Subnets at finalized block #" {at.number} " " <code title="Block hash">{short(&at.hash)}</code>
        </p>
        <p data-testid="audit-all-progress" data-ms=all_in.map(|ms| ms.round())>
            <progress max=total value=done></progress>
            {format!(" {done} of {total} subnets checked")}
            {all_in.map(|ms| format!(", all within {:.1} s of opening this page", ms / 1000.0))}
        </p>
        <div class="table-scroll">
        <table data-testid="audit-all-table">
            <thead><tr>
                <th scope="col" class="num">"Netuid"</th>
                <th scope="col" class="num">"Epoch audited"</th>
                <th scope="col">"Verdict"</th>
            </tr></thead>
            <tbody>
                {value.into_iter().map(|v| {
                    let (state, words, class) = match &v.state {
                        VerdictState::Pending => ("pending", "auditing…".to_string(), "muted"),
                        VerdictState::Audited { checked, mismatches: 0 } => ("match", format!("{checked} of {checked} values match"), "verified"),
                        VerdictState::Audited { checked, mismatches } => ("mismatch", format!("{} of {checked} values match", checked - mismatches.min(checked)), "error"),
                        VerdictState::Unaudited(why) => ("unaudited", format!("not audited: {why}"), "muted"),
                    };
                    view! {
                        <tr data-testid="audit-all-row" data-netuid=v.netuid data-state=state>
                            <td class="num"><a href=format!("/subnets/{}/audit", v.netuid)>{v.netuid}</a></td>
                            <td class="num" data-newer=v.newer>
                                {v.epoch.map(|b| format!("#{b}")).unwrap_or_else(|| "—".into())}
                                {v.newer.map(|b| view! { <span class="muted">{format!(" (newest #{b} being audited)")}</span> })}
                            </td>
                            <td class=class>{words}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        </div>
    }
}
