//! The epoch worker: receives an [`EpochRequest`] as a JSON string, answers an [`EpochResponse`].
//! Running here keeps the page responsive while a large subnet's epoch is computed, on the CPU
//! engine or on the WebGPU kernels (or both, cross-checked).

use std::cell::RefCell;
use taoscope_app::epoch_protocol::{
    Backend, EpochRequest, EpochResponse, EpochRun, GpuRun, WORKER_READY, finish, parse_request,
    run_on_cpu,
};
use taoscope_app::webgpu::{self, GpuStatus};
use taoscope_consensus::compare_outputs;
use taoscope_consensus::gpu::{GpuContext, GpuEngine};
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
            .and_then(|text| serde_json::from_str::<EpochRequest>(&text).ok());
        wasm_bindgen_futures::spawn_local(async move {
            let response = match request {
                Some(request) => {
                    let result = handle(&scope, &request).await;
                    EpochResponse {
                        id: request.id,
                        result,
                    }
                }
                None => EpochResponse {
                    id: 0,
                    result: Err("the worker received a message it cannot read".into()),
                },
            };
            if let Ok(text) = serde_json::to_string(&response) {
                let _ = scope.post_message(&JsValue::from_str(&text));
            }
        });
    });
    scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    on_message.forget(); // lives as long as the worker
    let _ = scope.post_message(&JsValue::from_str(WORKER_READY));
}

async fn handle(
    scope: &DedicatedWorkerGlobalScope,
    request: &EpochRequest,
) -> Result<EpochRun, String> {
    let performance = scope.performance();
    let now = || performance.as_ref().map_or(0.0, |p| p.now());
    let vector = parse_request(request)?;
    let cpu = match request.backend {
        Backend::Cpu | Backend::Both => Some(run_on_cpu(request, &vector, now)?),
        Backend::Gpu => None,
    };
    if request.backend == Backend::Cpu {
        return cpu.ok_or_else(|| "no CPU result".to_string());
    }
    let gpu = run_on_gpu(request, &vector, now).await;
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
        // No GPU: the CPU result, with the reason.
        (Err(why), Some(mut cpu_run)) => {
            cpu_run.gpu_unavailable = Some(why);
            Ok(cpu_run)
        }
        (Err(why), None) => {
            let mut cpu_run = run_on_cpu(request, &vector, now)?;
            cpu_run.gpu_unavailable = Some(why);
            Ok(cpu_run)
        }
    }
}

/// Runs the request on the worker's GPU engine, creating it on first use.
async fn run_on_gpu(
    request: &EpochRequest,
    vector: &taoscope_consensus::VectorFile,
    now: impl Fn() -> f64,
) -> Result<EpochRun, String> {
    let state = GPU.with(|gpu| std::mem::replace(&mut *gpu.borrow_mut(), Gpu::Busy));
    let (mut engine, adapter) = match state {
        Gpu::Ready(engine, adapter) => (engine, adapter),
        Gpu::Unavailable(why) => {
            GPU.with(|gpu| *gpu.borrow_mut() = Gpu::Unavailable(why.clone()));
            return Err(why);
        }
        Gpu::Busy => return Err("the GPU is busy with another epoch".into()),
        Gpu::Untried => match GpuContext::new().await {
            Ok(ctx) => {
                // wgpu reports only the adapter's description, often empty; ask WebGPU itself.
                let adapter = match webgpu::probe().await {
                    GpuStatus::Adapter(report) => format!("{}, WebGPU", report.label()),
                    _ => ctx.describe(),
                };
                (Box::new(GpuEngine::new(ctx)), adapter)
            }
            Err(e) => {
                // wgpu's reason is written for native builds; the browser's own says what to do.
                let why = match webgpu::probe().await {
                    GpuStatus::Unsupported(why) | GpuStatus::NoAdapter(why) => why,
                    GpuStatus::Adapter(_) => e.to_string(),
                };
                GPU.with(|gpu| *gpu.borrow_mut() = Gpu::Unavailable(why.clone()));
                return Err(why);
            }
        },
    };
    let start = now();
    let result = engine.run_epoch_async(&vector.input).await;
    let elapsed = now() - start;
    // A device that failed mid-run is not reused: the next request tries a fresh one.
    let next = if result.is_ok() {
        Gpu::Ready(engine, adapter.clone())
    } else {
        Gpu::Untried
    };
    GPU.with(|gpu| *gpu.borrow_mut() = next);
    let output = result.map_err(|e| e.to_string())?;
    let mut run = finish(request, vector, output, elapsed);
    run.gpu = Some(GpuRun {
        adapter,
        elapsed_ms: elapsed,
        cross_check: None,
    });
    Ok(run)
}
