//! The GPU backend of the epoch: the per-column weighted median and the per-cell liquid alpha
//! run as WGSL kernels; every other stage is O(nnz) and stays on the CPU (see ARCHITECTURE.md).
//!
//! Pipelines are compiled once per [`GpuEngine`] and reused for every epoch it runs.

use super::{GpuContext, GpuError, LIQUID_ALPHA_WGSL, MEDIAN_WGSL, compose};
use crate::epoch::{self, Kernels, LiquidAlpha, LiquidCells, MedianInput};
use crate::fixed::I32F32;
use crate::input::{EpochInput, InputError};
use crate::output::EpochOutput;
use std::fmt;
use wgpu::util::DeviceExt;

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

pub struct GpuEngine {
    ctx: GpuContext,
    median: wgpu::ComputePipeline,
    liquid_alpha: wgpu::ComputePipeline,
}

impl GpuEngine {
    pub fn new(ctx: GpuContext) -> Self {
        let median = ctx.pipeline("weighted median", &compose(MEDIAN_WGSL), "weighted_median");
        let liquid_alpha =
            ctx.pipeline("liquid alpha", &compose(LIQUID_ALPHA_WGSL), "liquid_alpha");
        Self {
            ctx,
            median,
            liquid_alpha,
        }
    }

    /// The adapter that runs the kernels, for people to see.
    pub fn adapter(&self) -> String {
        self.ctx.describe()
    }

    /// One epoch with its n² stages on the GPU: exactly what the chain persists.
    pub async fn run_epoch_async(
        &mut self,
        input: &EpochInput,
    ) -> Result<EpochOutput, GpuEpochError> {
        input.validate().map_err(GpuEpochError::Input)?;
        let terms = epoch::epoch_terms_with(input, self)
            .await
            .map_err(GpuEpochError::Gpu)?;
        Ok(epoch::persisted(input, &terms))
    }

    /// [`GpuEngine::run_epoch_async`], blocking (native only; the browser must await).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_epoch(&mut self, input: &EpochInput) -> Result<EpochOutput, GpuEpochError> {
        pollster::block_on(self.run_epoch_async(input))
    }

    fn uniform(&self, label: &str, bytes: &[u8]) -> wgpu::Buffer {
        let mut padded = bytes.to_vec();
        padded.resize(bytes.len().div_ceil(16) * 16, 0);
        self.ctx
            .device
            .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: &padded,
                usage: wgpu::BufferUsages::UNIFORM,
            })
    }

    /// Runs `pipeline` over `invocations` and reads `out` back as I32F32s.
    async fn dispatch(
        &self,
        pipeline: &wgpu::ComputePipeline,
        buffers: &[&wgpu::Buffer],
        out: &wgpu::Buffer,
        invocations: usize,
    ) -> Result<Vec<I32F32>, GpuError> {
        let bytes = self.ctx.run(pipeline, buffers, out, invocations).await?;
        Ok(bytes
            .chunks_exact(8)
            .take(invocations)
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

impl Kernels for GpuEngine {
    type Error = GpuError;

    async fn consensus(&mut self, median: &MedianInput) -> Result<Vec<I32F32>, GpuError> {
        let columns = median.columns();
        if columns == 0 {
            return Ok(Vec::new());
        }
        let mut params = Vec::with_capacity(24);
        params.extend_from_slice(&(columns as u32).to_le_bytes());
        params.extend_from_slice(&(median.stake.len() as u32).to_le_bytes());
        push_fixed(&mut params, median.minority);
        push_fixed(&mut params, median.stake_sum);
        let mut stake = Vec::with_capacity(median.stake.len() * 8);
        median.stake.iter().for_each(|&s| push_fixed(&mut stake, s));
        let col_start: Vec<u8> = median
            .col_start
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let entry_k: Vec<u8> = median
            .entries
            .iter()
            .flat_map(|(k, _)| k.to_le_bytes())
            .collect();
        let mut entry_score = Vec::with_capacity(median.entries.len() * 8);
        median
            .entries
            .iter()
            .for_each(|&(_, v)| push_fixed(&mut entry_score, v));

        let buffers = [
            self.uniform("median params", &params),
            self.ctx.storage_buffer("stake", &stake),
            self.ctx.storage_buffer("column starts", &col_start),
            self.ctx.storage_buffer("entry validators", &entry_k),
            self.ctx.storage_buffer("entry scores", &entry_score),
        ];
        let out = self.ctx.output_buffer("consensus", columns * 8);
        let refs: Vec<&wgpu::Buffer> = buffers.iter().collect();
        self.dispatch(&self.median, &refs, &out, columns).await
    }

    async fn liquid_alphas(
        &mut self,
        p: &LiquidAlpha,
        cells: &LiquidCells,
    ) -> Result<Vec<I32F32>, GpuError> {
        let count = cells.inputs.len();
        if count == 0 {
            return Ok(Vec::new());
        }
        let mut params = Vec::with_capacity(32);
        push_fixed(&mut params, p.low);
        push_fixed(&mut params, p.high);
        push_fixed(&mut params, p.slope);
        params.extend_from_slice(&(count as u32).to_le_bytes());
        let mut data = Vec::with_capacity(count * 24);
        for &(c, w, b) in &cells.inputs {
            push_fixed(&mut data, c);
            push_fixed(&mut data, w);
            push_fixed(&mut data, b);
        }
        let buffers = [
            self.uniform("alpha params", &params),
            self.ctx.storage_buffer("cells", &data),
        ];
        let out = self.ctx.output_buffer("alphas", count * 8);
        let refs: Vec<&wgpu::Buffer> = buffers.iter().collect();
        self.dispatch(&self.liquid_alpha, &refs, &out, count).await
    }
}
