//! Messages between the Epoch lab page and the epoch worker, as JSON strings.
//!
//! The page sends the file text untouched: parsing happens in Rust in the worker, because the
//! vectors hold u64 values (`tao_weight`) that a JavaScript Number would round.

use serde::{Deserialize, Serialize};
use taoscope_consensus::{EpochOutput, VectorFile, compare_outputs, run_epoch};

/// What the worker posts once its message handler is installed. Messages posted to a worker
/// before that (while its wasm is still instantiating) would be dropped, so the page holds its
/// requests until it sees this.
pub const WORKER_READY: &str = "ready";

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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRequest {
    pub id: u32,
    pub file_name: String,
    pub file_text: String,
    #[serde(default)]
    pub backend: Backend,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochResponse {
    pub id: u32,
    pub result: Result<EpochRun, String>,
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
    let vector =
        VectorFile::from_json(&req.file_text).map_err(|e| format!("{}: {e}", req.file_name))?;
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
