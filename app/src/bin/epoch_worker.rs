//! The epoch worker: receives a [`WorkerRequest`] as a JSON string and answers with
//! [`WorkerResponse`]s. Running here keeps the page responsive while a large subnet's epoch (or a
//! benchmark of many) is computed, on the CPU engine or on the WebGPU kernels.

use std::cell::RefCell;
use taoscope_app::epoch_protocol::{
    AuditBatchRequest, AuditBatchResponse, AuditBatchRun, Backend, BatchVerdict, BenchCase,
    BenchReport, BenchRequest, BenchResponse, EpochRequest, EpochResponse, EpochRun, GpuRun,
    MAX_BATCH, MAX_ITERS, Progress, ProvenEpoch, WorkerRequest, WorkerResponse, batch_verdict,
    finish, median_ms, parse_request, ready_message, run_on_cpu,
};
use taoscope_app::webgpu::{self, GpuStatus};
use taoscope_consensus::gpu::{GpuContext, GpuEngine};
use taoscope_consensus::{EpochInput, EpochOutput, VectorFile, compare_outputs, run_epoch};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// The worker's GPU engine: created on first use, kept for every later run (its pipelines are
/// compiled once), or the reason there is none.
enum Gpu {
    Untried,
    /// The engine, and its adapter in words.
    Ready(Box<GpuEngine>, String),
    Busy,
    Unavailable(String),
}

thread_local! {
    static GPU: RefCell<Gpu> = const { RefCell::new(Gpu::Untried) };
}

fn main() {
    console_error_panic_hook::set_once();
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else {
        return; // loaded outside a worker: nothing to serve
    };
    let reply_scope = scope.clone();
    let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
        let scope = reply_scope.clone();
        let request = event
            .data()
            .as_string()
            .and_then(|text| serde_json::from_str::<WorkerRequest>(&text).ok());
        wasm_bindgen_futures::spawn_local(async move {
            let response = match request {
                Some(WorkerRequest::Epoch(request)) => {
                    WorkerResponse::Epoch(Box::new(EpochResponse {
                        id: request.id,
                        result: handle_epoch(&scope, &request).await,
                    }))
                }
                Some(WorkerRequest::Bench(request)) => WorkerResponse::Bench(BenchResponse {
                    id: request.id,
                    result: handle_bench(&scope, &request).await,
                }),
                Some(WorkerRequest::AuditBatch(request)) => {
                    WorkerResponse::AuditBatch(AuditBatchResponse {
                        id: request.id,
                        result: handle_audit_batch(&scope, &request).await,
                    })
                }
                None => WorkerResponse::Epoch(Box::new(EpochResponse {
                    id: 0,
                    result: Err("the worker received a message it cannot read".into()),
                })),
            };
            post(&scope, &response);
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    let _ = scope.post_message(&JsValue::from_str(&ready_message()));
}

fn post(scope: &DedicatedWorkerGlobalScope, response: &WorkerResponse) {
    if let Ok(text) = serde_json::to_string(response) {
        let _ = scope.post_message(&JsValue::from_str(&text));
    }
}

/// The worker's clock in milliseconds.
fn clock(scope: &DedicatedWorkerGlobalScope) -> impl Fn() -> f64 + use<> {
    let performance = scope.performance();
    move || performance.as_ref().map_or(0.0, |p| p.now())
}

async fn handle_epoch(
    scope: &DedicatedWorkerGlobalScope,
    request: &EpochRequest,
) -> Result<EpochRun, String> {
    let now = clock(scope);
    let vector = parse_request(request)?;
    let cpu = match request.backend {
        Backend::Cpu | Backend::Both => Some(run_on_cpu(request, &vector, &now)?),
        Backend::Gpu => None,
    };
    if request.backend == Backend::Cpu {
        return cpu.ok_or_else(|| "no CPU result".to_string());
    }
    let gpu = run_on_gpu(request, &vector, &now).await;
    match (gpu, cpu) {
        (Ok(mut gpu_run), cpu) => {
            if let Some(cpu_run) = cpu {
                let cmp = compare_outputs(&cpu_run.output, &gpu_run.output);
                gpu_run.cpu_ms = cpu_run.cpu_ms;
                if let Some(g) = gpu_run.gpu.as_mut() {
                    g.cross_check = Some(cmp.mismatches.iter().map(ToString::to_string).collect());
                }
            }
            Ok(gpu_run)
        }
        // No GPU, or it failed: the CPU result, with the reason.
        (Err(why), Some(mut cpu_run)) => {
            cpu_run.gpu_unavailable = Some(why);
            Ok(cpu_run)
        }
        (Err(why), None) => {
            let mut cpu_run = run_on_cpu(request, &vector, &now)?;
            cpu_run.gpu_unavailable = Some(why);
            Ok(cpu_run)
        }
    }
}

/// Recomputes every epoch of the request as one batch on the GPU (its consensus in one
/// submission) and compares each with what the runtime stored. Without a GPU (or when it fails)
/// nothing is recomputed: the light worker's CPU verdicts stand, and the answer says why.
async fn handle_audit_batch(
    scope: &DedicatedWorkerGlobalScope,
    request: &AuditBatchRequest,
) -> Result<AuditBatchRun, String> {
    let now = clock(scope);
    let epochs: Vec<ProvenEpoch> = serde_json::from_str(&request.epochs)
        .map_err(|e| format!("the audited epochs do not read: {e}"))?;
    let inputs: Vec<_> = epochs.iter().map(|e| e.input.clone()).collect();
    let start = now();
    for input in &inputs {
        // Its verdicts are the light worker's already: only the time is wanted here.
        let _ = taoscope_consensus::v103::run_epoch(input);
    }
    let cpu_ms = now() - start;
    let no_gpu = |why: String| AuditBatchRun {
        engine: String::new(),
        gpu_unavailable: Some(why),
        elapsed_ms: 0.0,
        cpu_ms,
        verdicts: Vec::new(),
    };
    let (mut engine, adapter) = match acquire_gpu().await {
        Ok(gpu) => gpu,
        Err(why) => return Ok(no_gpu(why)),
    };
    let start = now();
    let outputs = engine.run_batch_v103_async(&inputs).await;
    let elapsed_ms = now() - start;
    release_gpu(engine, adapter.clone(), outputs.is_ok());
    let outputs = match outputs {
        Ok(outputs) => outputs,
        Err(e) => return Ok(no_gpu(e.to_string())),
    };
    let verdicts = epochs
        .iter()
        .zip(outputs)
        .map(|(epoch, output)| match output {
            Ok(output) => batch_verdict(epoch, &output),
            Err(e) => BatchVerdict {
                netuid: epoch.netuid,
                block: epoch.block,
                result: Err(e.to_string()),
            },
        })
        .collect();
    Ok(AuditBatchRun {
        engine: adapter,
        gpu_unavailable: None,
        elapsed_ms,
        cpu_ms,
        verdicts,
    })
}

/// Takes the worker's GPU engine, creating it on first use; give it back with [`release_gpu`].
async fn acquire_gpu() -> Result<(Box<GpuEngine>, String), String> {
    let state = GPU.with(|gpu| std::mem::replace(&mut *gpu.borrow_mut(), Gpu::Busy));
    match state {
        Gpu::Ready(engine, adapter) => Ok((engine, adapter)),
        Gpu::Unavailable(why) => {
            GPU.with(|gpu| *gpu.borrow_mut() = Gpu::Unavailable(why.clone()));
            Err(why)
        }
        Gpu::Busy => Err("the GPU is busy with another request".into()),
        Gpu::Untried => match GpuContext::new().await {
            Ok(ctx) => {
                // wgpu reports only the adapter's description, often empty; ask WebGPU itself.
                let adapter = match webgpu::probe().await {
                    GpuStatus::Adapter(report) => format!("{}, WebGPU", report.label()),
                    _ => ctx.describe(),
                };
                Ok((Box::new(GpuEngine::new(ctx)), adapter))
            }
            Err(e) => {
                // wgpu's reason is written for native builds; the browser's own says what to do.
                let why = match webgpu::probe().await {
                    GpuStatus::Unsupported(why) | GpuStatus::NoAdapter(why) => why,
                    GpuStatus::Adapter(_) => e.to_string(),
                };
                GPU.with(|gpu| *gpu.borrow_mut() = Gpu::Unavailable(why.clone()));
                Err(why)
            }
        },
    }
}

/// Returns the engine after a run. A device that failed is not reused: the next request tries a
/// fresh one.
fn release_gpu(engine: Box<GpuEngine>, adapter: String, healthy: bool) {
    let next = if healthy {
        Gpu::Ready(engine, adapter)
    } else {
        Gpu::Untried
    };
    GPU.with(|gpu| *gpu.borrow_mut() = next);
}

/// Runs the request on the worker's GPU engine.
async fn run_on_gpu(
    request: &EpochRequest,
    vector: &VectorFile,
    now: impl Fn() -> f64,
) -> Result<EpochRun, String> {
    let (mut engine, adapter) = acquire_gpu().await?;
    if request.lose_gpu_device {
        engine.context().device.destroy();
    }
    let start = now();
    let result = engine.run_epoch_async(&vector.input).await;
    let elapsed = now() - start;
    release_gpu(engine, adapter.clone(), result.is_ok());
    let output = result.map_err(|e| format!("{e}; the result below was computed on the CPU"))?;
    let mut run = finish(request, vector, output, elapsed);
    run.gpu = Some(GpuRun {
        adapter,
        elapsed_ms: elapsed,
        cross_check: None,
    });
    Ok(run)
}

/// Times one epoch and a batch of κ variations on each engine, posting progress as it goes.
async fn handle_bench(
    scope: &DedicatedWorkerGlobalScope,
    request: &BenchRequest,
) -> Result<BenchReport, String> {
    if !(1..=MAX_BATCH).contains(&request.batch) {
        return Err(format!(
            "a batch holds 1 to {MAX_BATCH} epochs, not {}",
            request.batch
        ));
    }
    if !(1..=MAX_ITERS).contains(&request.iters) {
        return Err(format!(
            "choose 1 to {MAX_ITERS} timed runs, not {}",
            request.iters
        ));
    }
    let now = clock(scope);
    let vector = VectorFile::from_json(&request.file_text)
        .map_err(|e| format!("{}: {e}", request.file_name))?;
    vector
        .input
        .validate()
        .map_err(|e| format!("{}: {e}", request.file_name))?;
    let single = vec![vector.input.clone()];
    let batch = taoscope_consensus::whatif::kappa_variations(&vector.input, request.batch);
    let workloads: Vec<&[EpochInput]> = if request.batch > 1 {
        vec![&single, &batch]
    } else {
        vec![&single]
    };
    // Each workload: a warm-up and `iters` timed runs, on each engine.
    let total = workloads.len() * 2 * (request.iters + 1);
    let mut done = 0usize;
    let mut progress = |stage: String| {
        post(
            scope,
            &WorkerResponse::Progress(Progress {
                id: request.id,
                done,
                total,
                stage,
            }),
        );
        done += 1;
    };

    let mut gpu = acquire_gpu().await;
    let mut gpu_unavailable = gpu.as_ref().err().cloned();
    let adapter = gpu.as_ref().ok().map(|(_, a)| a.clone());
    let mut cases = Vec::new();
    for inputs in workloads {
        let what = if inputs.len() == 1 {
            "1 epoch".to_string()
        } else {
            format!("batch of {}", inputs.len())
        };
        let mut cpu_times = Vec::new();
        let mut cpu_outputs = Vec::new();
        for run in 0..=request.iters {
            progress(format!("CPU, {what}, run {run} of {}", request.iters));
            let start = now();
            let outputs: Result<Vec<EpochOutput>, String> = inputs
                .iter()
                .map(|input| run_epoch(input).map_err(|e| e.to_string()))
                .collect();
            let elapsed = now() - start;
            cpu_outputs = outputs?;
            if run > 0 {
                cpu_times.push(elapsed); // run 0 warms caches
            }
        }
        let mut case = BenchCase {
            epochs: inputs.len(),
            cpu_ms: median_ms(&mut cpu_times),
            gpu_ms: None,
            gpu_submissions: None,
            agree: None,
        };
        if let Ok((engine, _)) = gpu.as_mut() {
            let mut gpu_times = Vec::new();
            let mut failure = None;
            let before = engine.submissions();
            for run in 0..=request.iters {
                progress(format!("GPU, {what}, run {run} of {}", request.iters));
                let start = now();
                let result = engine.run_batch_async(inputs).await;
                let elapsed = now() - start;
                match result {
                    Ok(outputs) => {
                        if run == 0 {
                            let agree = outputs.iter().zip(&cpu_outputs).all(|(g, c)| {
                                g.as_ref().is_ok_and(|g| compare_outputs(c, g).is_exact())
                            });
                            case.agree = Some(agree && outputs.len() == cpu_outputs.len());
                        } else {
                            gpu_times.push(elapsed);
                        }
                    }
                    Err(e) => {
                        failure = Some(e.to_string());
                        break;
                    }
                }
            }
            if let Some(why) = failure {
                gpu_unavailable = Some(format!("the GPU failed mid-benchmark: {why}"));
            } else {
                case.gpu_ms = Some(median_ms(&mut gpu_times));
                case.gpu_submissions =
                    Some((engine.submissions() - before) / (request.iters as u64 + 1));
            }
        }
        // A failed device is dropped (the next request makes a fresh one) and not used again.
        if gpu_unavailable.is_some()
            && let Ok((engine, adapter)) = std::mem::replace(&mut gpu, Err(String::new()))
        {
            release_gpu(engine, adapter, false);
        }
        cases.push(case);
    }
    if let Ok((engine, adapter)) = gpu {
        release_gpu(engine, adapter, true);
    }
    Ok(BenchReport {
        name: if vector.name.is_empty() {
            request.file_name.clone()
        } else {
            vector.name.clone()
        },
        n: vector.input.n,
        iters: request.iters,
        adapter,
        gpu_unavailable,
        cases,
    })
}
