//! Epoch lab: drop a `yuma-epoch-vector/v1` file, recompute its epoch in a Web Worker, and see
//! per-uid results, the bonds, and whether they match what the chain persisted.

use crate::epoch_protocol::{
    Backend, EpochRequest, EpochResponse, EpochRun, WorkerRequest, WorkerResponse,
};
use crate::worker;
use leptos::prelude::*;
use leptos::task::spawn_local;
use taoscope_light_client::units::format_tao;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

#[derive(Clone, Debug, PartialEq)]
enum LabState {
    Empty,
    Reading(String),
    Running { name: String, bytes: usize },
    Done(Box<EpochRun>),
    Failed(String),
}

#[component]
pub fn EpochLab() -> impl IntoView {
    let state = RwSignal::new(LabState::Empty);
    let backend = RwSignal::new(Backend::Cpu);
    let next_id = StoredValue::new(0u32);
    let worker = worker::spawn(
        move |response| {
            if let WorkerResponse::Epoch(answer) = response {
                let EpochResponse { id, result } = *answer;
                // Only the latest request's answer is shown.
                if id == next_id.get_value() {
                    state.set(match result {
                        Ok(run) => LabState::Done(Box::new(run)),
                        Err(message) => LabState::Failed(message),
                    });
                }
            }
        },
        move |message| state.set(LabState::Failed(message)),
    );
    // `?simulate=gpu-loss`: destroy the GPU device before each run (see `EpochRequest`).
    let lose_gpu_device = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("simulate=gpu-loss"));

    let submit = move |file_name: String, file_text: String| {
        let id = next_id.get_value().wrapping_add(1);
        next_id.set_value(id);
        let request = EpochRequest {
            id,
            file_name: file_name.clone(),
            file_text,
            backend: backend.get_untracked(),
            lose_gpu_device,
        };
        let bytes = request.file_text.len();
        if worker::send(worker, &WorkerRequest::Epoch(request)) {
            state.set(LabState::Running {
                name: file_name,
                bytes,
            });
        } else {
            state.set(LabState::Failed(
                "The epoch worker could not be started, so nothing was computed. Reload the page; if this persists, the browser blocks workers for this site.".into(),
            ));
        }
    };
    let load_file = move |file: File| {
        let name = file.name();
        state.set(LabState::Reading(name.clone()));
        spawn_local(async move {
            match JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
            {
                Some(text) => submit(name, text),
                None => state.set(LabState::Failed(format!(
                    "{name}: the browser could not read this file as text"
                ))),
            }
        });
    };
    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(file) = input
            .as_ref()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        {
            load_file(file);
        }
        if let Some(input) = input {
            input.set_value(""); // picking the same file again re-runs it
        }
    };
    let dragging = RwSignal::new(false);
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        if let Some(file) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            load_file(file);
        }
    };

    view! {
        <section class="page">
            <h1>"Epoch lab"</h1>
            <p class="lead">
                "Recompute a subnet's Yuma epoch with the chain's exact fixed-point arithmetic. Import a "
                <code>"yuma-epoch-vector/v1"</code>
                " file; when it carries the chain's persisted values, every field is checked against them."
            </p>
            <fieldset class="backend" data-testid="epoch-backend">
                <legend>"Engine"</legend>
                {[
                    (Backend::Cpu, "cpu", "CPU"),
                    (Backend::Gpu, "gpu", "GPU (WebGPU)"),
                    (Backend::Both, "both", "Both, cross-checked"),
                ]
                    .into_iter()
                    .map(|(choice, id, label)| view! {
                        <label>
                            <input
                                type="radio"
                                name="epoch-backend"
                                data-testid=format!("backend-{id}")
                                checked=move || backend.get() == choice
                                on:change=move |_| backend.set(choice)
                            />
                            {label}
                        </label>
                    })
                    .collect_view()}
            </fieldset>
            <div
                class="dropzone"
                class:dragging=move || dragging.get()
                data-testid="epoch-dropzone"
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop
            >
                <label for="epoch-file">"Drop a vector file here, or choose one: "</label>
                <input id="epoch-file" type="file" accept=".json,application/json" data-testid="epoch-file" on:change=on_pick/>
            </div>
            <div aria-live="polite">
                {move || match state.get() {
                    LabState::Empty => view! {
                        <p class="muted" data-testid="epoch-status" data-state="empty">"No epoch loaded yet."</p>
                    }.into_any(),
                    LabState::Reading(name) => view! {
                        <p class="progress" data-testid="epoch-status" data-state="reading">{format!("Reading {name}…")}</p>
                    }.into_any(),
                    LabState::Running { name, bytes } => view! {
                        <p class="progress" data-testid="epoch-status" data-state="running">
                            <span class="spinner" aria-hidden="true"></span>
                            {format!("Computing the epoch of {name} ({} KiB) in a worker…", bytes / 1024)}
                        </p>
                    }.into_any(),
                    LabState::Failed(message) => view! {
                        <p class="error" role="alert" data-testid="epoch-error">{message}</p>
                    }.into_any(),
                    LabState::Done(run) => view! { <RunView run=*run/> }.into_any(),
                }}
            </div>
            <p class="muted" data-testid="audit-pointer">
                "To audit a subnet's epochs from the chain itself, open the subnet from "
                <a href="/subnets">"Subnets"</a>
                " and choose its audit: every epoch is recomputed from state the light client has proven."
            </p>
        </section>
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Uid,
    Stake,
    Incentive,
    Dividends,
    Consensus,
    Trust,
    Emission,
}

impl Column {
    const ALL: [Column; 7] = [
        Column::Uid,
        Column::Stake,
        Column::Incentive,
        Column::Dividends,
        Column::Consensus,
        Column::Trust,
        Column::Emission,
    ];

    fn label(self) -> &'static str {
        match self {
            Column::Uid => "UID",
            Column::Stake => "Stake weight",
            Column::Incentive => "Incentive",
            Column::Dividends => "Dividends",
            Column::Consensus => "Consensus",
            Column::Trust => "Validator trust",
            Column::Emission => "Emission (α)",
        }
    }

    fn key(self, run: &EpochRun, k: usize) -> u64 {
        let o = &run.output;
        let u16_at = |v: &[u16]| u64::from(v.get(k).copied().unwrap_or(0));
        match self {
            Column::Uid => u64::from(run.uids.get(k).copied().unwrap_or(0)),
            Column::Stake => u16_at(&o.stake_weight),
            Column::Incentive => u16_at(&o.incentive),
            Column::Dividends => u16_at(&o.dividends),
            Column::Consensus => u16_at(&o.consensus),
            Column::Trust => u16_at(&o.validator_trust),
            Column::Emission => o.emission.get(k).copied().unwrap_or(0),
        }
    }
}

/// A persisted u16 proportion as a decimal fraction (65535 = 1).
fn proportion(v: u16) -> String {
    format!("{:.5}", f64::from(v) / 65535.0)
}

#[component]
fn RunView(run: EpochRun) -> impl IntoView {
    let run = StoredValue::new(run);
    let sort = RwSignal::new((Column::Uid, false));
    let rows = move || {
        run.with_value(|r| {
            let (column, descending) = sort.get();
            let mut order: Vec<usize> = (0..r.uids.len()).collect();
            order.sort_by_key(|&k| column.key(r, k));
            if descending {
                order.reverse();
            }
            order
        })
    };
    let summary = run.with_value(|r| {
        let mode = match (r.yuma3, r.liquid_alpha) {
            (false, _) => "classic bonds",
            (true, false) => "Yuma3 bonds",
            (true, true) => "Yuma3 bonds with liquid alpha",
        };
        format!(
            "{}: netuid {}, {} uids, {}, {} α emitted",
            r.name,
            r.netuid,
            r.n,
            mode,
            format_tao(r.rao_emission)
        )
    });
    let check = run.with_value(|r| r.check.clone());
    let engine = run.with_value(engine_summary);
    let cross_check = run.with_value(|r| r.gpu.as_ref().and_then(|g| g.cross_check.clone()));
    let export = move |_| {
        run.with_value(|r| download_json(&format!("{}-recomputed.json", r.name), &r.output))
    };

    view! {
        <p data-testid="epoch-summary">{summary}</p>
        <p data-testid="epoch-engine">{engine}</p>
        {cross_check.map(|mismatches| if mismatches.is_empty() {
            view! {
                <p class="match ok" data-testid="epoch-crosscheck" data-state="agree">"GPU and CPU agree on every value"</p>
            }.into_any()
        } else {
            view! {
                <div class="match bad" data-testid="epoch-crosscheck" data-state="disagree" role="alert">
                    <p>{format!("GPU and CPU differ on {} values: the GPU result is not trusted", mismatches.len())}</p>
                    <ul>{mismatches.into_iter().map(|m| view! { <li><code>{m}</code></li> }).collect_view()}</ul>
                </div>
            }.into_any()
        })}
        {match check {
            Some(c) if c.mismatches.is_empty() => view! {
                <p class="match ok" data-testid="epoch-match" data-state="match">
                    {format!("Matches the chain: {} of {} values", c.matched, c.checked)}
                </p>
            }.into_any(),
            Some(c) => view! {
                <div class="match bad" data-testid="epoch-match" data-state="mismatch" role="alert">
                    <p>{format!("Differs from the chain: {} of {} values match; {} differ", c.matched, c.checked, c.mismatches.len())}</p>
                    <ul>{c.mismatches.into_iter().map(|m| view! { <li><code>{m}</code></li> }).collect_view()}</ul>
                </div>
            }.into_any(),
            None => view! {
                <p class="muted" data-testid="epoch-match" data-state="unchecked">"This file has no expected values, so nothing was checked."</p>
            }.into_any(),
        }}
        <p><button type="button" data-testid="epoch-export" on:click=export>"Export result as JSON"</button></p>
        <h2>"Per uid"</h2>
        <div class="table-wrap">
            <table class="metagraph" data-testid="epoch-table">
                <thead>
                    <tr>
                        {Column::ALL.into_iter().map(|column| {
                            let aria = move || match sort.get() {
                                (c, false) if c == column => "ascending",
                                (c, true) if c == column => "descending",
                                _ => "none",
                            };
                            view! {
                                <th scope="col" aria-sort=aria>
                                    <button type="button" class="sort" on:click=move |_| sort.update(|(c, d)| {
                                        if *c == column { *d = !*d } else { *c = column; *d = column != Column::Uid }
                                    })>{column.label()}</button>
                                </th>
                            }
                        }).collect_view()}
                        <th scope="col">"Permit"</th>
                        <th scope="col">"Active"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || run.with_value(|r| rows().into_iter().map(|k| {
                        let o = &r.output;
                        let p = |v: &[u16]| proportion(v.get(k).copied().unwrap_or(0));
                        let flag = |v: &[bool]| if v.get(k).copied().unwrap_or(false) { "yes" } else { "no" };
                        let uid = r.uids.get(k).copied().unwrap_or(0);
                        view! {
                            <tr data-testid="epoch-row" data-uid=uid>
                                <td class="num">{uid}</td>
                                <td class="num">{p(&o.stake_weight)}</td>
                                <td class="num">{p(&o.incentive)}</td>
                                <td class="num">{p(&o.dividends)}</td>
                                <td class="num">{p(&o.consensus)}</td>
                                <td class="num">{p(&o.validator_trust)}</td>
                                <td class="num">{format_tao(o.emission.get(k).copied().unwrap_or(0))}</td>
                                <td>{flag(&o.validator_permit)}</td>
                                <td>{flag(&o.active)}</td>
                            </tr>
                        }
                    }).collect_view())}
                </tbody>
            </table>
        </div>
        <h2>"Bonds"</h2>
        {run.with_value(|r| view! { <BondsHeatmap run=r.clone()/> })}
    }
}

/// Bonds as a heatmap: rows are validators holding bonds, columns are uids, darker = larger.
/// Large subnets are bucketed (each cell shows the largest bond in its bucket).
#[component]
fn BondsHeatmap(run: EpochRun) -> impl IntoView {
    const MAX_COLS: usize = 128;
    const MAX_ROWS: usize = 64;
    let rows: Vec<&(u16, Vec<(u16, u16)>)> = run
        .output
        .bonds
        .iter()
        .filter(|(_, row)| !row.is_empty())
        .collect();
    if rows.is_empty() {
        return view! { <p class="muted" data-testid="bonds-empty">"No validator holds bonds after this epoch."</p> }.into_any();
    }
    let n = usize::from(run.n).max(1);
    let col_bucket = n.div_ceil(MAX_COLS);
    let cols = n.div_ceil(col_bucket);
    let row_bucket = rows.len().div_ceil(MAX_ROWS);
    let grid_rows = rows.len().div_ceil(row_bucket);
    let mut grid = vec![0u16; cols * grid_rows];
    for (r, (_, row)) in rows.iter().enumerate() {
        for &(j, b) in row {
            let index = (r / row_bucket) * cols + usize::from(j) / col_bucket;
            if let Some(cell) = grid.get_mut(index) {
                *cell = (*cell).max(b);
            }
        }
    }
    let (cell, gap) = (6usize, 1usize);
    let width = cols * (cell + gap);
    let height = grid_rows * (cell + gap);
    let caption = format!(
        "{} validators with bonds × {} uids, shaded relative to the largest bond{}",
        rows.len(),
        n,
        if col_bucket > 1 || row_bucket > 1 {
            format!(" (each cell: max of {row_bucket}×{col_bucket})")
        } else {
            String::new()
        }
    );
    // Shade relative to the largest bond shown, so small Yuma3 proportions stay visible.
    let largest = f64::from(grid.iter().copied().max().unwrap_or(1).max(1));
    let rects = grid
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > 0)
        .map(|(i, v)| {
            let (x, y) = ((i % cols) * (cell + gap), (i / cols) * (cell + gap));
            let opacity = format!("{:.3}", 0.15 + 0.85 * f64::from(*v) / largest);
            view! { <rect x=x y=y width=cell height=cell fill-opacity=opacity/> }
        })
        .collect_view();
    view! {
        <figure class="heatmap" data-testid="bonds-heatmap">
            <svg viewBox=format!("0 0 {width} {height}") width=width height=height role="img" aria-label=caption.clone()>
                {rects}
            </svg>
            <figcaption>{caption}</figcaption>
        </figure>
    }
    .into_any()
}

/// Which engine ran, how long each took, and on what adapter.
fn engine_summary(run: &EpochRun) -> String {
    let cpu = run.cpu_ms.map(|ms| format!("CPU {ms:.1} ms"));
    let gpu = run
        .gpu
        .as_ref()
        .map(|g| format!("GPU {:.1} ms on {}", g.elapsed_ms, g.adapter));
    let mut parts: Vec<String> = [cpu, gpu].into_iter().flatten().collect();
    if let Some(why) = &run.gpu_unavailable {
        parts.push(format!(
            "GPU unavailable, computed on the CPU instead: {why}"
        ));
    }
    format!("Engine: {}", parts.join(" · "))
}

/// Offers `value` as a JSON file download.
pub(crate) fn download_json<T: serde::Serialize>(file_name: &str, value: &T) {
    let Ok(text) = serde_json::to_string_pretty(value) else {
        return;
    };
    let parts = js_sys::Array::of1(&JsValue::from_str(&text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/json");
    let Ok(blob) = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    let anchor = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("a").ok())
        .and_then(|a| a.dyn_into::<web_sys::HtmlAnchorElement>().ok());
    if let Some(a) = anchor {
        a.set_href(&url);
        a.set_download(file_name);
        a.click();
    }
    let _ = web_sys::Url::revoke_object_url(&url);
}
