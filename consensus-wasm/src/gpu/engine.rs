//! The GPU backend of the epoch: the per-column weighted median and the per-cell liquid alpha
//! run as WGSL kernels; every other stage is O(nnz) and stays on the CPU (see ARCHITECTURE.md).
//!
//! One epoch is a batch of one: [`GpuEngine::run_batch_async`] runs many epochs with one
//! submission per stage (see [`super::batch`]). Pipelines are compiled once per [`GpuEngine`] and
//! reused for every epoch it runs. Work is cut into chunks of at most [`GpuEngine::chunk_bytes`],
//! so the device's memory stays bounded for any batch (128 subnets of 4096 uids included).

use super::batch::{self, AlphaRequest, MedianRequest, Piece, Submit};
use super::{GpuContext, GpuError, LIQUID_ALPHA_WGSL, MEDIAN_WGSL, compose};
use crate::epoch;
use crate::fixed::I32F32;
use crate::input::{EpochInput, InputError};
use crate::output::EpochOutput;
use crate::v103::{EpochInputV103, EpochOutputV103, InputErrorV103};
use std::fmt;

/// Why a GPU epoch produced no result.
#[derive(Debug)]
pub enum GpuEpochError {
    Input(InputError),
    Gpu(GpuError),
}

impl fmt::Display for GpuEpochError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GpuEpochError::Input(e) => e.fmt(f),
            GpuEpochError::Gpu(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for GpuEpochError {}

/// Each input's check, and the inputs that pass it (in order): what a batch runs.
fn split_valid<I, E>(
    inputs: &[I],
    validate: impl Fn(&I) -> Result<(), E>,
) -> (Vec<Result<(), E>>, Vec<&I>) {
    let checks: Vec<Result<(), E>> = inputs.iter().map(validate).collect();
    let valid = inputs
        .iter()
        .zip(&checks)
        .filter(|(_, check)| check.is_ok())
        .map(|(input, _)| input)
        .collect();
    (checks, valid)
}

/// Each input's result in order: the batch's next output (through `finish`) for an input that
/// passed its check, its own error for the others.
fn in_order<I, T, O, E>(
    inputs: &[I],
    checks: Vec<Result<(), E>>,
    outputs: Vec<T>,
    finish: impl Fn(&I, T) -> O,
) -> Result<Vec<Result<O, E>>, GpuError> {
    let mut outputs = outputs.into_iter();
    inputs
        .iter()
        .zip(checks)
        .map(|(input, check)| match check {
            Ok(()) => outputs
                .next()
                .map(|output| Ok(finish(input, output)))
                .ok_or_else(|| GpuError::Lost("an epoch of the batch is missing".into())),
            Err(e) => Ok(Err(e)),
        })
        .collect()
}

/// Default bytes of input and output per GPU submission: large enough that a batch of 64
/// sparse 1024-uid epochs is one submission per stage, small enough for any WebGPU device.
pub const DEFAULT_CHUNK_BYTES: usize = 64 << 20;

pub struct GpuEngine {
    ctx: GpuContext,
    median: wgpu::ComputePipeline,
    liquid_alpha: wgpu::ComputePipeline,
    /// Most bytes one submission binds (all its buffers together). Capped by the device's own
    /// buffer limits; tests lower it to exercise chunking on small inputs.
    pub chunk_bytes: usize,
    /// Kernel submissions so far, for benchmarks and tests to see how work was grouped.
    submissions: std::cell::Cell<u64>,
    /// The most bytes one submission has bound (inputs and output): the GPU memory high-water
    /// mark, bounded by `chunk_bytes` whatever the batch.
    peak_bytes: std::cell::Cell<u64>,
}

impl GpuEngine {
    pub fn new(ctx: GpuContext) -> Self {
        let median = ctx.pipeline("weighted median", &compose(MEDIAN_WGSL), "weighted_median");
        let liquid_alpha =
            ctx.pipeline("liquid alpha", &compose(LIQUID_ALPHA_WGSL), "liquid_alpha");
        let limits = ctx.device.limits();
        let device_cap = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let chunk_bytes = usize::try_from(device_cap)
            .unwrap_or(usize::MAX)
            .min(DEFAULT_CHUNK_BYTES);
        Self {
            ctx,
            median,
            liquid_alpha,
            chunk_bytes,
            submissions: std::cell::Cell::new(0),
            peak_bytes: std::cell::Cell::new(0),
        }
    }

    /// The adapter that runs the kernels, for people to see.
    pub fn adapter(&self) -> String {
        self.ctx.describe()
    }

    /// Kernel submissions since this engine was made (one per chunk of each stage).
    pub fn submissions(&self) -> u64 {
        self.submissions.get()
    }

    /// The most bytes of buffers one submission has bound so far.
    pub fn peak_submission_bytes(&self) -> u64 {
        self.peak_bytes.get()
    }

    /// The device, for callers that must see or (in tests) provoke its failures.
    pub fn context(&self) -> &GpuContext {
        &self.ctx
    }

    /// One epoch with its n² stages on the GPU: exactly what the chain persists.
    pub async fn run_epoch_async(
        &mut self,
        input: &EpochInput,
    ) -> Result<EpochOutput, GpuEpochError> {
        let mut outputs = self
            .run_batch_async(std::slice::from_ref(input))
            .await
            .map_err(GpuEpochError::Gpu)?;
        match outputs.pop() {
            Some(result) => result.map_err(GpuEpochError::Input),
            None => Err(GpuEpochError::Gpu(GpuError::Lost(
                "the batch returned no epoch".into(),
            ))),
        }
    }

    /// Many epochs, their kernel stages submitted together. Each input gets its own result (an
    /// invalid one its [`InputError`], without stopping the others); a device failure fails the
    /// whole batch, since no value computed alongside it can be trusted.
    pub async fn run_batch_async(
        &mut self,
        inputs: &[EpochInput],
    ) -> Result<Vec<Result<EpochOutput, InputError>>, GpuError> {
        let (checks, valid) = split_valid(inputs, EpochInput::validate);
        let terms = batch::run_batch(&valid, self).await?;
        self.ctx.check()?;
        in_order(inputs, checks, terms, |input, t| {
            epoch::persisted(input, &t)
        })
    }

    /// Many spec-103 epochs, their consensus submitted together; as
    /// [`GpuEngine::run_batch_async`], each input gets its own result.
    pub async fn run_batch_v103_async(
        &mut self,
        inputs: &[EpochInputV103],
    ) -> Result<Vec<Result<EpochOutputV103, InputErrorV103>>, GpuError> {
        let (checks, valid) = split_valid(inputs, EpochInputV103::validate);
        let outputs = batch::run_batch_v103(&valid, self).await?;
        self.ctx.check()?;
        in_order(inputs, checks, outputs, |_, output| output)
    }

    /// [`GpuEngine::run_batch_v103_async`], blocking (native only; the browser must await).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_batch_v103(
        &mut self,
        inputs: &[EpochInputV103],
    ) -> Result<Vec<Result<EpochOutputV103, InputErrorV103>>, GpuError> {
        pollster::block_on(self.run_batch_v103_async(inputs))
    }

    /// [`GpuEngine::run_epoch_async`], blocking (native only; the browser must await).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_epoch(&mut self, input: &EpochInput) -> Result<EpochOutput, GpuEpochError> {
        pollster::block_on(self.run_epoch_async(input))
    }

    /// [`GpuEngine::run_batch_async`], blocking (native only; the browser must await).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_batch(
        &mut self,
        inputs: &[EpochInput],
    ) -> Result<Vec<Result<EpochOutput, InputError>>, GpuError> {
        pollster::block_on(self.run_batch_async(inputs))
    }

    /// Runs `pipeline` over `items` and reads `out` back as I32F32s.
    async fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[wgpu::Buffer],
        out: &wgpu::Buffer,
        items: usize,
    ) -> Result<Vec<I32F32>, GpuError> {
        let refs: Vec<&wgpu::Buffer> = buffers.iter().collect();
        self.submissions.set(self.submissions.get() + 1);
        let bound: u64 = buffers.iter().chain([out]).map(wgpu::Buffer::size).sum();
        self.peak_bytes.set(self.peak_bytes.get().max(bound));
        let bytes = self.ctx.run(pipeline, &refs, out, items).await?;
        Ok(bytes
            .chunks_exact(8)
            .take(items)
            .map(raw_i64)
            .map(I32F32::from_bits)
            .collect())
    }
}

fn raw_i64(bytes: &[u8]) -> i64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(bytes.get(..8).unwrap_or(&[0; 8]));
    i64::from_le_bytes(word)
}

fn push_fixed(bytes: &mut Vec<u8>, x: I32F32) {
    bytes.extend_from_slice(&x.to_bits().to_le_bytes());
}

fn push_u32(bytes: &mut Vec<u8>, x: usize) {
    bytes.extend_from_slice(&(x as u32).to_le_bytes());
}

/// Bytes a request costs in every chunk it appears in (its `MedianEpoch` header and stakes, or
/// its `AlphaEpoch`), and per item (a column with its entries, or a cell), across all buffers.
const EPOCH_HEADER_BYTES: usize = 24;
const COLUMN_BYTES: usize = 4 + 4 + 8; // col_epoch, col_start, consensus
const ENTRY_BYTES: usize = 4 + 8; // entry_k, entry_score
const CELL_BYTES: usize = 24 + 4 + 8; // cell, cell_epoch, alpha

impl Submit for GpuEngine {
    async fn medians(&mut self, requests: &[MedianRequest]) -> Result<Vec<Vec<I32F32>>, GpuError> {
        let columns: Vec<usize> = requests.iter().map(|r| r.input.columns()).collect();
        let entries_in = |r: usize, j: usize| -> usize {
            let starts = requests.get(r).map(|r| &r.input.col_start);
            let at = |i: usize| starts.and_then(|s| s.get(i)).copied().unwrap_or(0) as usize;
            at(j + 1).saturating_sub(at(j))
        };
        let plan = batch::chunks(
            &columns,
            |r| EPOCH_HEADER_BYTES + 8 * requests.get(r).map_or(0, |r| r.input.stake.len()),
            |r, j| COLUMN_BYTES + ENTRY_BYTES * entries_in(r, j),
            self.chunk_bytes,
        );
        let mut answers: Vec<Vec<I32F32>> = requests.iter().map(|_| Vec::new()).collect();
        for chunk in plan {
            let mut epochs = Vec::new();
            let mut stake = Vec::new();
            let mut col_epoch = Vec::new();
            let mut col_start = Vec::new();
            let mut entry_k = Vec::new();
            let mut entry_score = Vec::new();
            let mut total_columns = 0usize;
            let mut total_entries = 0usize;
            for (index, piece) in chunk.iter().enumerate() {
                let Some(m) = requests.get(piece.request).map(|r| &r.input) else {
                    continue;
                };
                push_u32(&mut epochs, stake.len() / 8);
                push_u32(&mut epochs, m.stake.len());
                push_fixed(&mut epochs, m.minority);
                push_fixed(&mut epochs, m.stake_sum);
                m.stake.iter().for_each(|&s| push_fixed(&mut stake, s));
                for j in piece.first..piece.first + piece.count {
                    let start = m.col_start.get(j).copied().unwrap_or(0) as usize;
                    let end = m.col_start.get(j + 1).copied().unwrap_or(0) as usize;
                    push_u32(&mut col_epoch, index);
                    push_u32(&mut col_start, total_entries);
                    for &(k, score) in m.entries.get(start..end).unwrap_or_default() {
                        entry_k.extend_from_slice(&k.to_le_bytes());
                        push_fixed(&mut entry_score, score);
                    }
                    total_entries += end.saturating_sub(start);
                }
                total_columns += piece.count;
            }
            push_u32(&mut col_start, total_entries);
            let mut params = Vec::new();
            push_u32(&mut params, total_columns);
            let buffers = [
                self.ctx.uniform_buffer("median params", &params),
                self.ctx.storage_buffer("median epochs", &epochs),
                self.ctx.storage_buffer("stake", &stake),
                self.ctx.storage_buffer("column epochs", &col_epoch),
                self.ctx.storage_buffer("column starts", &col_start),
                self.ctx.storage_buffer("entry validators", &entry_k),
                self.ctx.storage_buffer("entry scores", &entry_score),
            ];
            let out = self.ctx.output_buffer("consensus", total_columns * 8);
            let values = self
                .dispatch(&self.median, &buffers, &out, total_columns)
                .await?;
            hand_out(&chunk, values, &mut answers)?;
        }
        Ok(answers)
    }

    async fn alphas(&mut self, requests: &[AlphaRequest]) -> Result<Vec<Vec<I32F32>>, GpuError> {
        let cells: Vec<usize> = requests.iter().map(|r| r.cells.len()).collect();
        let plan = batch::chunks(
            &cells,
            |_| EPOCH_HEADER_BYTES,
            |_, _| CELL_BYTES,
            self.chunk_bytes,
        );
        let mut answers: Vec<Vec<I32F32>> = requests.iter().map(|_| Vec::new()).collect();
        for chunk in plan {
            let items: usize = chunk.iter().map(|p| p.count).sum();
            let mut epochs = Vec::with_capacity(chunk.len() * EPOCH_HEADER_BYTES);
            let mut data = Vec::with_capacity(items * 24);
            let mut cell_epoch = Vec::with_capacity(items * 4);
            for (index, piece) in chunk.iter().enumerate() {
                let Some(request) = requests.get(piece.request) else {
                    continue;
                };
                push_fixed(&mut epochs, request.params.low);
                push_fixed(&mut epochs, request.params.high);
                push_fixed(&mut epochs, request.params.slope);
                let range = piece.first..piece.first + piece.count;
                for &(c, w, b) in request.cells.get(range).unwrap_or_default() {
                    push_fixed(&mut data, c);
                    push_fixed(&mut data, w);
                    push_fixed(&mut data, b);
                    push_u32(&mut cell_epoch, index);
                }
            }
            let mut params = Vec::new();
            push_u32(&mut params, items);
            let buffers = [
                self.ctx.uniform_buffer("alpha params", &params),
                self.ctx.storage_buffer("alpha epochs", &epochs),
                self.ctx.storage_buffer("cells", &data),
                self.ctx.storage_buffer("cell epochs", &cell_epoch),
            ];
            let out = self.ctx.output_buffer("alphas", items * 8);
            let values = self
                .dispatch(&self.liquid_alpha, &buffers, &out, items)
                .await?;
            hand_out(&chunk, values, &mut answers)?;
        }
        Ok(answers)
    }
}

/// Gives each piece of a chunk its values, in order.
fn hand_out(
    chunk: &[Piece],
    values: Vec<I32F32>,
    answers: &mut [Vec<I32F32>],
) -> Result<(), GpuError> {
    let expected: usize = chunk.iter().map(|p| p.count).sum();
    if values.len() != expected {
        return Err(GpuError::Lost(format!(
            "the device returned {} values for {expected} items",
            values.len()
        )));
    }
    let mut values = values.into_iter();
    for piece in chunk {
        if let Some(answer) = answers.get_mut(piece.request) {
            answer.extend(values.by_ref().take(piece.count));
        }
    }
    Ok(())
}
