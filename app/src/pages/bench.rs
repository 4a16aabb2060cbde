//! Benchmark: the CPU engine against the WebGPU engine on one epoch and on a batch of what-if
//! variations of it, in this browser, with the adapter named and the speed-up measured (never
//! assumed). Both engines must also agree on every value, or the GPU's time means nothing.

use crate::epoch_protocol::{
    BenchReport, BenchRequest, BenchResponse, MAX_BATCH, MAX_ITERS, WorkerRequest, WorkerResponse,
};
use crate::worker;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

#[derive(Clone, Debug, PartialEq)]
enum BenchState {
    Idle,
    Running {
        done: usize,
        total: usize,
        stage: String,
    },
    Done(Box<BenchReport>),
    Failed(String),
}

/// A vector file the user chose: its name and text.
#[derive(Clone, Debug, PartialEq)]
struct Chosen {
    name: String,
    text: String,
}

#[component]
pub fn BenchPage() -> impl IntoView {
    let state = RwSignal::new(BenchState::Idle);
    let chosen = RwSignal::new(None::<Chosen>);
    let batch = RwSignal::new(64usize);
    let iters = RwSignal::new(3usize);
    let next_id = StoredValue::new(0u32);
    let worker = worker::spawn(
        move |response| match response {
            WorkerResponse::Progress(p) if p.id == next_id.get_value() => {
                state.set(BenchState::Running {
                    done: p.done,
                    total: p.total,
                    stage: p.stage,
                });
            }
            WorkerResponse::Bench(BenchResponse { id, result }) if id == next_id.get_value() => {
                state.set(match result {
                    Ok(report) => BenchState::Done(Box::new(report)),
                    Err(message) => BenchState::Failed(message),
                });
            }
            _ => {}
        },
        move |message| state.set(BenchState::Failed(message)),
    );
    let running = move || matches!(state.get(), BenchState::Running { .. });

    let on_pick = move |ev: leptos::ev::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        let Some(file) = input
            .as_ref()
            .and_then(|i| i.files())
            .and_then(|f| f.get(0))
        else {
            return;
        };
        let name = file.name();
        spawn_local(async move {
            match JsFuture::from(file.text())
                .await
                .ok()
                .and_then(|t| t.as_string())
            {
                Some(text) => {
                    chosen.set(Some(Chosen { name, text }));
                    state.set(BenchState::Idle);
                }
                None => state.set(BenchState::Failed(format!(
                    "{name}: the browser could not read this file as text"
                ))),
            }
        });
    };
    let number = |ev: &leptos::ev::Event, max: usize| -> Option<usize> {
        event_target_value(ev)
            .trim()
            .parse::<usize>()
            .ok()
            .map(|v| v.clamp(1, max))
    };
    let run = move |_| {
        let Some(file) = chosen.get_untracked() else {
            return;
        };
        let id = next_id.get_value().wrapping_add(1);
        next_id.set_value(id);
        let request = WorkerRequest::Bench(BenchRequest {
            id,
            file_name: file.name,
            file_text: file.text,
            batch: batch.get_untracked(),
            iters: iters.get_untracked(),
        });
        if worker::send(worker, &request) {
            state.set(BenchState::Running {
                done: 0,
                total: 1,
                stage: "Starting the worker…".into(),
            });
        } else {
            state.set(BenchState::Failed(
                "The epoch worker could not be started, so nothing was timed. Reload the page; if this persists, the browser blocks workers for this site.".into(),
            ));
        }
    };

    view! {
        <section class="page">
            <h1>"Benchmark"</h1>
            <p class="lead">
                "Times the exact CPU engine and the exact WebGPU engine in this browser: one epoch, then a batch of "
                "what-if variations of it (the subnet under other values of κ) that the GPU runs in one submission per stage. "
                "Both must give the same value for every field of every epoch."
            </p>
            <form class="bench-form" on:submit=move |ev| { ev.prevent_default(); run(()); }>
                <p>
                    <label for="bench-file">"Epoch vector file: "</label>
                    <input id="bench-file" type="file" accept=".json,application/json" data-testid="bench-file" on:change=on_pick/>
                    {move || chosen.get().map(|c| view! { <span class="muted" data-testid="bench-chosen">{format!(" {} ({} KiB)", c.name, c.text.len() / 1024)}</span> })}
                </p>
                <p>
                    <label for="bench-batch">"Epochs in the batch "</label>
                    <input id="bench-batch" type="number" min="1" max=MAX_BATCH data-testid="bench-batch"
                        prop:value=move || batch.get().to_string()
                        on:change=move |ev| if let Some(v) = number(&ev, MAX_BATCH) { batch.set(v) }/>
                    <label for="bench-iters">" Timed runs of each "</label>
                    <input id="bench-iters" type="number" min="1" max=MAX_ITERS data-testid="bench-iters"
                        prop:value=move || iters.get().to_string()
                        on:change=move |ev| if let Some(v) = number(&ev, MAX_ITERS) { iters.set(v) }/>
                </p>
                <p>
                    <button type="submit" data-testid="bench-run" disabled=move || running() || chosen.get().is_none()>
                        "Run the benchmark"
                    </button>
                </p>
            </form>
            <div aria-live="polite">
                {move || match state.get() {
                    BenchState::Idle => view! {
                        <p class="muted" data-testid="bench-status" data-state="idle">
                            {if chosen.get().is_some() { "Ready to run." } else { "Choose a vector file (for example one of the yuma-bench files) to time it." }}
                        </p>
                    }.into_any(),
                    BenchState::Running { done, total, stage } => view! {
                        <div class="progress" data-testid="bench-status" data-state="running">
                            <progress data-testid="bench-progress" max=total value=done></progress>
                            <span>{format!(" {stage} ({done} of {total} runs)")}</span>
                        </div>
                    }.into_any(),
                    BenchState::Failed(message) => view! {
                        <p class="error" role="alert" data-testid="bench-error">{message}</p>
                    }.into_any(),
                    BenchState::Done(report) => view! { <ReportView report=*report/> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn ReportView(report: BenchReport) -> impl IntoView {
    let adapter = match (&report.adapter, &report.gpu_unavailable) {
        (_, Some(why)) => format!("GPU unavailable, CPU times only: {why}"),
        (Some(adapter), None) => format!("GPU: {adapter}"),
        (None, None) => "GPU: none".into(),
    };
    let software = report.adapter.as_deref().is_some_and(|a| {
        ["swiftshader", "llvmpipe", "lavapipe", "cpu"]
            .iter()
            .any(|s| a.to_lowercase().contains(s))
    });
    let ms = |v: f64| format!("{v:.1}");
    view! {
        <p data-testid="bench-summary">
            {format!("{}: {} uids, median of {} timed runs each", report.name, report.n, report.iters)}
        </p>
        <p data-testid="bench-adapter">{adapter}</p>
        {software.then(|| view! {
            <p class="muted" data-testid="bench-software">
                "This adapter is a software GPU: its shaders run on the CPU, so these GPU times say nothing about a real GPU."
            </p>
        })}
        <div class="table-wrap">
            <table class="metagraph" data-testid="bench-table">
                <thead>
                    <tr>
                        <th scope="col">"Workload"</th>
                        <th scope="col">"CPU, ms"</th>
                        <th scope="col">"GPU, ms"</th>
                        <th scope="col">"GPU speed-up"</th>
                        <th scope="col">"GPU submissions"</th>
                        <th scope="col">"Same values"</th>
                    </tr>
                </thead>
                <tbody>
                    {report.cases.into_iter().map(|case| {
                        let workload = if case.epochs == 1 { "1 epoch".to_string() } else { format!("batch of {} epochs", case.epochs) };
                        let speedup = case.gpu_speedup().map_or("–".into(), |x| format!("{x:.2}×"));
                        let agree = match case.agree { Some(true) => "yes", Some(false) => "NO: GPU result not trusted", None => "–" };
                        view! {
                            <tr data-testid="bench-row" data-epochs=case.epochs data-agree=case.agree.map(|a| a.to_string())>
                                <td>{workload}</td>
                                <td class="num">{ms(case.cpu_ms)}</td>
                                <td class="num">{case.gpu_ms.map_or("–".into(), ms)}</td>
                                <td class="num">{speedup}</td>
                                <td class="num">{case.gpu_submissions.map_or("–".into(), |s| s.to_string())}</td>
                                <td>{agree}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
