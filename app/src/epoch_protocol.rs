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

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EpochRequest {
    pub id: u32,
    pub file_name: String,
    pub file_text: String,
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
    pub elapsed_ms: f64,
    /// Present when the file carries the chain's `expected` values.
    pub check: Option<CheckReport>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    pub checked: usize,
    pub matched: usize,
    pub mismatches: Vec<String>,
}

/// Parses, runs and checks one vector file. `now_ms` is the worker's clock.
pub fn run_request(req: &EpochRequest, now_ms: impl Fn() -> f64) -> EpochResponse {
    let result = (|| {
        let vector =
            VectorFile::from_json(&req.file_text).map_err(|e| format!("{}: {e}", req.file_name))?;
        let start = now_ms();
        let output = run_epoch(&vector.input).map_err(|e| format!("{}: {e}", req.file_name))?;
        let elapsed_ms = now_ms() - start;
        let check = vector.expected.as_ref().map(|expected| {
            let cmp = compare_outputs(expected, &output);
            CheckReport {
                checked: cmp.checked,
                matched: cmp.matched(),
                mismatches: cmp.mismatches.iter().map(ToString::to_string).collect(),
            }
        });
        let input = &vector.input;
        let uids = input
            .hotkeys
            .iter()
            .enumerate()
            .filter_map(|(uid, h)| h.map(|_| uid as u16))
            .collect();
        Ok(EpochRun {
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
            uids,
            output,
            elapsed_ms,
            check,
        })
    })();
    EpochResponse { id: req.id, result }
}
