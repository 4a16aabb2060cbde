//! Messages between the pages (Epoch lab, Benchmark) and the epoch worker, as JSON strings.
//!
//! The page sends the file text untouched: parsing happens in Rust in the worker, because the
//! vectors hold u64 values (`tao_weight`) that a JavaScript Number would round.

use serde::{Deserialize, Serialize};
use taoscope_consensus::v103::{EpochInputV103, EpochOutputV103};
use taoscope_consensus::{EpochOutput, VectorFile, compare_outputs, run_epoch};

/// What the worker posts once its message handler is installed. Messages posted to a worker
/// before that (while its wasm is still instantiating) would be dropped, so the page holds its
/// requests until it sees this.
pub const WORKER_READY: &str = "ready";

/// The worker's first message: ready, and the build it is of. A page started before another tab
/// took a new build may be handed the new build's worker (the service worker serves one build);
/// the page compares this with its own and refuses a worker of another build.
pub fn ready_message() -> String {
    format!("{WORKER_READY} {} {}", crate::VERSION, crate::COMMIT)
}

/// Which engine computes the epoch.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backend {
    #[default]
    Cpu,
    /// The WebGPU kernels (falls back to the CPU, saying why, when there is no adapter).
    Gpu,
    /// Both, and every value compared.
    Both,
}

/// What a page asks of the worker. Externally tagged (`{"Epoch": {…}}`): serde's internally
/// tagged form buffers every message and costs tens of KiB of wasm.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WorkerRequest {
    Epoch(EpochRequest),
    Bench(BenchRequest),
    AuditBatch(AuditBatchRequest),
}

/// What the worker answers: one final message per request, and progress on the way for long
/// work.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum WorkerResponse {
    Epoch(Box<EpochResponse>),
    Progress(Progress),
    Bench(BenchResponse),
    AuditBatch(AuditBatchResponse),
}

/// One audited epoch as the light worker proved it: its input and what the runtime stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProvenEpoch {
    pub netuid: u16,
    pub block: u64,
    pub input: EpochInputV103,
    pub stored: EpochOutputV103,
}

/// "Audit every subnet", recomputed again as one batch on the GPU.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditBatchRequest {
    pub id: u32,
    /// [`ProvenEpoch`]s, as the light worker wrote them (JSON text).
    pub epochs: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuditBatchResponse {
    pub id: u32,
    pub result: Result<AuditBatchRun, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditBatchRun {
    /// The GPU's adapter that ran the batch.
    pub engine: String,
    /// Why there is no batch (no GPU, or it failed): the CPU verdicts stand alone.
    pub gpu_unavailable: Option<String>,
    pub elapsed_ms: f64,
    /// The same epochs recomputed one by one by the CPU engine in the same worker, for the
    /// comparison (the light worker's verdicts also count the proof reads).
    pub cpu_ms: f64,
    /// One per epoch, in the request's order.
    pub verdicts: Vec<BatchVerdict>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchVerdict {
    pub netuid: u16,
    pub block: u64,
    /// Values compared and how many differ; or why the epoch's input was refused.
    pub result: Result<(usize, usize), String>,
}

/// Compares a recomputed spec-103 epoch with what the runtime stored, as the light worker's
/// audit does.
pub fn batch_verdict(epoch: &ProvenEpoch, recomputed: &EpochOutputV103) -> BatchVerdict {
    let comparison = taoscope_consensus::compare::compare_stored_v103(&epoch.stored, recomputed);
    BatchVerdict {
        netuid: epoch.netuid,
        block: epoch.block,
        result: Ok((comparison.checked, comparison.mismatches.len())),
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRequest {
    pub id: u32,
    pub file_name: String,
    pub file_text: String,
    #[serde(default)]
    pub backend: Backend,
    /// Fault injection, like Chrome's `chrome://gpucrash`: destroy the worker's GPU device before
    /// this run, to show (and test) that a lost device gives a CPU result and a reason, never a
    /// hang or a wrong number. Set by the Epoch lab's `?simulate=gpu-loss`.
    #[serde(default)]
    pub lose_gpu_device: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochResponse {
    pub id: u32,
    pub result: Result<EpochRun, String>,
}

/// Times one epoch and a batch of what-if variations of it, on the CPU and on the GPU.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchRequest {
    pub id: u32,
    pub file_name: String,
    pub file_text: String,
    /// Epochs in the batch (κ variations of the file's epoch).
    pub batch: usize,
    /// Timed runs of each case (after one warm-up run).
    pub iters: usize,
}

/// The largest batch the Benchmark page offers: the bound for GPU memory planning.
pub const MAX_BATCH: usize = 128;
/// The most timed runs per case the Benchmark page offers.
pub const MAX_ITERS: usize = 20;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Progress {
    pub id: u32,
    pub done: usize,
    pub total: usize,
    /// What is running now, in words ("GPU, batch of 64, run 2 of 3").
    pub stage: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BenchResponse {
    pub id: u32,
    pub result: Result<BenchReport, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    pub name: String,
    pub n: u16,
    pub iters: usize,
    /// The GPU adapter, when there was one.
    pub adapter: Option<String>,
    /// Why the GPU did not run (the CPU times are still shown).
    pub gpu_unavailable: Option<String>,
    pub cases: Vec<BenchCase>,
}

/// One workload timed on both engines: median milliseconds of the timed runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchCase {
    pub epochs: usize,
    pub cpu_ms: f64,
    pub gpu_ms: Option<f64>,
    /// GPU submissions per run (two per batch unless it was chunked).
    pub gpu_submissions: Option<u64>,
    /// Whether the two engines gave the same value for every field of every epoch.
    pub agree: Option<bool>,
}

impl BenchCase {
    /// CPU time over GPU time: above 1 the GPU is faster.
    pub fn gpu_speedup(&self) -> Option<f64> {
        self.gpu_ms.filter(|&g| g > 0.0).map(|g| self.cpu_ms / g)
    }
}

/// The median of `times` (sorted in place); 0 for none.
pub fn median_ms(times: &mut [f64]) -> f64 {
    times.sort_by(f64::total_cmp);
    times.get(times.len() / 2).copied().unwrap_or(0.0)
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochRun {
    pub name: String,
    pub n: u16,
    pub netuid: u16,
    pub yuma3: bool,
    pub liquid_alpha: bool,
    pub rao_emission: u64,
    /// uid of each output position (uids present in `Keys`, ascending).
    pub uids: Vec<u16>,
    pub output: EpochOutput,
    /// Time of the run shown (the GPU's when it ran, else the CPU's).
    pub elapsed_ms: f64,
    /// Present when the file carries the chain's `expected` values.
    pub check: Option<CheckReport>,
    /// CPU time, when the CPU ran.
    pub cpu_ms: Option<f64>,
    /// The GPU run, when it ran.
    pub gpu: Option<GpuRun>,
    /// Why the GPU was asked for but did not run (the CPU result is shown instead).
    pub gpu_unavailable: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpuRun {
    pub adapter: String,
    pub elapsed_ms: f64,
    /// With `Backend::Both`: the mismatches between GPU and CPU (empty: identical).
    pub cross_check: Option<Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub checked: usize,
    pub matched: usize,
    pub mismatches: Vec<String>,
}

/// Parses one vector file and states what it is, before any engine runs.
pub fn parse_request(req: &EpochRequest) -> Result<VectorFile, String> {
    let vector = match taoscope_consensus::AnyVector::from_json(&req.file_text) {
        Ok(taoscope_consensus::AnyVector::V1(vector)) => vector,
        Ok(taoscope_consensus::AnyVector::V103(_)) => {
            return Err(format!(
                "{}: a spec-103 epoch vector: this table shows today's epoch; check it with \
                 `yuma check FILE`, or audit a spec-103 chain's last epoch below",
                req.file_name
            ));
        }
        Err(e) => return Err(format!("{}: {e}", req.file_name)),
    };
    vector
        .input
        .validate()
        .map_err(|e| format!("{}: {e}", req.file_name))?;
    Ok(vector)
}

/// A finished run: the output shown, checked against the chain's values when the file has them.
pub fn finish(
    req: &EpochRequest,
    vector: &VectorFile,
    output: EpochOutput,
    elapsed_ms: f64,
) -> EpochRun {
    let check = vector.expected.as_ref().map(|expected| {
        let cmp = compare_outputs(expected, &output);
        CheckReport {
            checked: cmp.checked,
            matched: cmp.matched(),
            mismatches: cmp.mismatches.iter().map(ToString::to_string).collect(),
        }
    });
    let input = &vector.input;
    EpochRun {
        name: if vector.name.is_empty() {
            req.file_name.clone()
        } else {
            vector.name.clone()
        },
        n: input.n,
        netuid: input.netuid,
        yuma3: input.yuma3_enabled,
        liquid_alpha: input.liquid_alpha_enabled,
        rao_emission: input.rao_emission,
        uids: input
            .hotkeys
            .iter()
            .enumerate()
            .filter_map(|(uid, h)| h.map(|_| uid as u16))
            .collect(),
        output,
        elapsed_ms,
        check,
        cpu_ms: None,
        gpu: None,
        gpu_unavailable: None,
    }
}

/// Runs one request on the CPU. `now_ms` is the worker's clock.
pub fn run_on_cpu(
    req: &EpochRequest,
    vector: &VectorFile,
    now_ms: impl Fn() -> f64,
) -> Result<EpochRun, String> {
    let start = now_ms();
    let output = run_epoch(&vector.input).map_err(|e| format!("{}: {e}", req.file_name))?;
    let elapsed = now_ms() - start;
    let mut run = finish(req, vector, output, elapsed);
    run.cpu_ms = Some(elapsed);
    Ok(run)
}
