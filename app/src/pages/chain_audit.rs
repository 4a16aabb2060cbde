//! "The last epoch of subnet N, from the chain": read the epoch's input at the block before
//! the subnet's last epoch block, recompute it with the algorithm of the runtime that ran it,
//! and compare every value the runtime stored at that block.
//!
//! Today the values come over a JSON-RPC endpoint (trusted, and said so on the page); the
//! light client will stand behind them once it runs in the page. Runtimes whose epoch we have
//! not verified get "not supported", never the nearest algorithm.

use crate::rpc::RpcClient;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};
use std::collections::HashMap;
use taoscope_consensus::compare::compare_outputs_v103;
use taoscope_consensus::runtime::{Algorithm, algorithm_for};
use taoscope_consensus::v103::{self, EpochOutputV103};
use taoscope_consensus::{Comparison, Mismatch};
use taoscope_light_client::epoch_v103;
use taoscope_light_client::hashing::twox_128;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::units::format_tao;

/// Keys asked for in one `state_queryStorageAt` / one `state_getKeysPaged` page.
const PAGE: usize = 500;

#[derive(Clone, Debug, PartialEq)]
struct Audit {
    endpoint: String,
    netuid: u16,
    block: u64,
    runtime: String,
    algorithm: &'static str,
    recomputed: EpochOutputV103,
    comparison: Comparison,
}

#[derive(Clone, Debug, PartialEq)]
enum AuditState {
    Idle,
    Working(String),
    Done(Box<Audit>),
    Failed(String),
}

fn hex_of(value: &Value, what: &str) -> Result<Vec<u8>, String> {
    value
        .as_str()
        .ok_or_else(|| format!("{what}: not a hex string"))
        .and_then(|text| from_hex(text).map_err(|e| format!("{what}: {e}")))
}

/// Every `SubtensorModule` key and value at `hash` (the localnet's state is small).
async fn subtensor_state(
    rpc: &RpcClient,
    hash: &Value,
) -> Result<HashMap<Vec<u8>, Vec<u8>>, String> {
    let prefix = to_hex(&twox_128(b"SubtensorModule"));
    let mut keys: Vec<Value> = Vec::new();
    loop {
        let start = keys.last().cloned().unwrap_or(Value::Null);
        let page = rpc
            .call("state_getKeysPaged", json!([prefix, PAGE, start, hash]))
            .await?;
        let page = page.as_array().cloned().unwrap_or_default();
        let done = page.len() < PAGE;
        keys.extend(page);
        if done {
            break;
        }
    }
    let mut state = HashMap::new();
    for chunk in keys.chunks(PAGE) {
        let answer = rpc
            .call("state_queryStorageAt", json!([chunk, hash]))
            .await?;
        let changes = answer
            .get(0)
            .and_then(|a| a.get("changes"))
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for change in changes {
            let (Some(key), Some(value)) = (change.get(0), change.get(1)) else {
                continue;
            };
            if value.is_null() {
                continue;
            }
            state.insert(hex_of(key, "storage key")?, hex_of(value, "storage value")?);
        }
    }
    Ok(state)
}

async fn audit_last_epoch(
    endpoint: String,
    netuid: u16,
    progress: impl Fn(&str),
) -> Result<Audit, String> {
    progress("Connecting…");
    let rpc = RpcClient::connect(&endpoint).await?;
    let version = rpc.call("state_getRuntimeVersion", json!([])).await?;
    let spec_name = version["specName"].as_str().unwrap_or("?").to_string();
    let spec_version = version["specVersion"].as_u64().unwrap_or(0) as u32;
    let algorithm = algorithm_for(&spec_name, spec_version).map_err(|e| e.to_string())?;
    if algorithm != Algorithm::Spec103 {
        return Err(format!(
            "{spec_name} spec {spec_version} runs {}, which this page does not yet read from a \
             chain (only spec 103's epoch is); import its epoch as a vector file instead",
            algorithm.describe()
        ));
    }
    progress("Reading the runtime's metadata…");
    let metadata = Metadata::decode(&hex_of(
        &rpc.call("state_getMetadata", json!([])).await?,
        "metadata",
    )?)
    .map_err(|e| e.to_string())?;

    progress("Finding the subnet's last epoch…");
    let best = rpc.call("chain_getBlockHash", json!([])).await?;
    let best_state = subtensor_state(&rpc, &best).await?;
    let block = epoch_v103::last_step(&metadata, &best_state, netuid).map_err(|e| e.to_string())?;
    if block == 0 {
        return Err(format!(
            "subnet {netuid} has not run an epoch yet on this chain (or does not exist)"
        ));
    }
    let hash = |n: u64| rpc.call("chain_getBlockHash", json!([n]));
    let (before_hash, after_hash) = (hash(block - 1).await?, hash(block).await?);
    if before_hash.is_null() || after_hash.is_null() {
        return Err(format!("the node does not know block {block} any more"));
    }

    progress(&format!(
        "Reading the input at block {} and the results at block {block}…",
        block - 1
    ));
    let before = subtensor_state(&rpc, &before_hash).await?;
    let after = subtensor_state(&rpc, &after_hash).await?;
    let input =
        epoch_v103::epoch_input(&metadata, &before, netuid, block).map_err(|e| e.to_string())?;
    let stored = epoch_v103::persisted(&metadata, &after, netuid).map_err(|e| e.to_string())?;

    progress("Recomputing…");
    let mut recomputed = v103::run_epoch(&input).map_err(|e| format!("the chain's input: {e}"))?;
    // Which bond rows the epoch wrote is not stored; the rows themselves are compared.
    recomputed.bonds_written.clear();
    let comparison = compare_outputs_v103(&stored, &recomputed);
    Ok(Audit {
        endpoint,
        netuid,
        block,
        runtime: format!("{spec_name} {spec_version}"),
        algorithm: algorithm.describe(),
        recomputed,
        comparison,
    })
}

#[component]
pub fn ChainAudit() -> impl IntoView {
    let endpoint = RwSignal::new("ws://127.0.0.1:9944".to_string());
    let netuid = RwSignal::new("1".to_string());
    let state = RwSignal::new(AuditState::Idle);
    let run = move || {
        let Ok(netuid) = netuid.get_untracked().trim().parse::<u16>() else {
            state.set(AuditState::Failed(
                "netuid: a subnet number from 0 to 65535".into(),
            ));
            return;
        };
        let endpoint = endpoint.get_untracked().trim().to_string();
        state.set(AuditState::Working("Starting…".into()));
        spawn_local(async move {
            let progress = move |step: &str| state.set(AuditState::Working(step.to_string()));
            state.set(match audit_last_epoch(endpoint, netuid, progress).await {
                Ok(audit) => AuditState::Done(Box::new(audit)),
                Err(message) => AuditState::Failed(message),
            });
        });
    };
    view! {
        <section class="chain-audit" aria-labelledby="chain-audit-title">
            <h2 id="chain-audit-title">"The last epoch of a subnet, from the chain"</h2>
            <form
                class="inline-form"
                on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); run(); }
            >
                <label>
                    "JSON-RPC endpoint "
                    <input
                        type="text"
                        data-testid="chain-audit-endpoint"
                        prop:value=move || endpoint.get()
                        on:input=move |ev| endpoint.set(event_target_value(&ev))
                    />
                </label>
                <label>
                    "Subnet "
                    <input
                        type="number"
                        min="0"
                        max="65535"
                        data-testid="chain-audit-netuid"
                        prop:value=move || netuid.get()
                        on:input=move |ev| netuid.set(event_target_value(&ev))
                    />
                </label>
                <button type="submit" data-testid="chain-audit-run"
                    disabled=move || matches!(state.get(), AuditState::Working(_))>
                    "Audit the last epoch"
                </button>
            </form>
            <div aria-live="polite">
                {move || match state.get() {
                    AuditState::Idle => view! {
                        <p class="muted">
                            "Reads a subnet's last epoch from a node (the localnet by default), recomputes it with the algorithm of the runtime that ran it, and compares every stored value."
                        </p>
                    }.into_any(),
                    AuditState::Working(step) => view! {
                        <p class="progress" data-testid="chain-audit-status">
                            <span class="spinner" aria-hidden="true"></span>{step}
                        </p>
                    }.into_any(),
                    AuditState::Failed(message) => view! {
                        <p class="error" role="alert" data-testid="chain-audit-error">{message}</p>
                    }.into_any(),
                    AuditState::Done(audit) => view! { <AuditView audit=*audit/> }.into_any(),
                }}
            </div>
        </section>
    }
}

fn proportion(v: u16) -> String {
    format!("{:.5}", f64::from(v) / 65535.0)
}

fn mismatch_line(m: &Mismatch) -> String {
    m.to_string()
}

#[component]
fn AuditView(audit: Audit) -> impl IntoView {
    let cmp = &audit.comparison;
    let exact = cmp.is_exact();
    let summary = format!(
        "Matches the chain: {} of {} values",
        cmp.matched(),
        cmp.checked
    );
    let mismatches: Vec<String> = cmp.mismatches.iter().take(50).map(mismatch_line).collect();
    let o = &audit.recomputed;
    let rows: Vec<_> = (0..o.emission.len())
        .map(|uid| {
            let u16_at = |v: &[u16]| v.get(uid).copied().unwrap_or(0);
            (
                uid,
                u16_at(&o.rank),
                u16_at(&o.trust),
                u16_at(&o.consensus),
                u16_at(&o.incentive),
                u16_at(&o.dividends),
                u16_at(&o.validator_trust),
                o.emission.get(uid).copied().unwrap_or(0),
                o.validator_permit.get(uid).copied().unwrap_or(false),
            )
        })
        .collect();
    view! {
        <p data-testid="chain-audit-what">
            {format!(
                "Subnet {}, epoch at block {}, runtime {}, recomputed with {}.",
                audit.netuid, audit.block, audit.runtime, audit.algorithm
            )}
        </p>
        <p class="warning" data-testid="chain-audit-trust">
            {format!(
                "Read over JSON-RPC from {}: these values are what that node says, not yet proven by the light client.",
                audit.endpoint
            )}
        </p>
        <p
            class=if exact { "match ok" } else { "match bad" }
            data-testid="chain-audit-match"
            data-state=if exact { "match" } else { "mismatch" }
        >
            {summary}
        </p>
        <ul class="mismatches" data-testid="chain-audit-mismatches">
            {mismatches.into_iter().map(|m| view! { <li>{m}</li> }).collect_view()}
        </ul>
        <div class="table-scroll">
            <table class="uid-table">
                <thead>
                    <tr>
                        <th scope="col">"UID"</th>
                        <th scope="col">"Rank"</th>
                        <th scope="col">"Trust"</th>
                        <th scope="col">"Consensus"</th>
                        <th scope="col">"Incentive"</th>
                        <th scope="col">"Dividends"</th>
                        <th scope="col">"Validator trust"</th>
                        <th scope="col">"Emission (TAO)"</th>
                        <th scope="col">"Permit"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|(uid, rank, trust, consensus, incentive, dividends, vtrust, emission, permit)| view! {
                        <tr data-testid="chain-audit-row" data-uid=uid.to_string()>
                            <td>{uid}</td>
                            <td>{proportion(rank)}</td>
                            <td>{proportion(trust)}</td>
                            <td>{proportion(consensus)}</td>
                            <td>{proportion(incentive)}</td>
                            <td>{proportion(dividends)}</td>
                            <td>{proportion(vtrust)}</td>
                            <td>{format_tao(emission)}</td>
                            <td>{if permit { "yes" } else { "no" }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
