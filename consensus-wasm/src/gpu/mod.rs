//! The GPU engine: the epoch's n²-sized stages as WGSL compute shaders, through wgpu (Vulkan
//! natively, with Mesa's lavapipe when there is no GPU; WebGPU in the browser).
//!
//! Exactness comes first. WGSL has no 64-bit integers and its floats would round differently
//! from the chain and from one GPU to the next, so the shaders carry every I32F32 value as its
//! raw i64 in two u32 words and reproduce substrate-fixed's operations on them
//! (`shaders/fixed.wgsl`). The same integers come out on every GPU; tests check them against the
//! CPU engine operation by operation.
//!
//! WGSL has no `#include`: a kernel is compiled as `fixed.wgsl` followed by its own source
//! ([`compose`]).

pub mod batch;
pub mod context;
pub mod engine;
pub mod ops;

pub use context::{GpuContext, GpuError};
pub use engine::{DEFAULT_CHUNK_BYTES, GpuEngine, GpuEpochError};

/// The fixed-point library every kernel builds on.
pub const FIXED_WGSL: &str = include_str!("shaders/fixed.wgsl");
/// The operation-by-operation test kernel.
pub const FIXED_OPS_WGSL: &str = include_str!("shaders/fixed_ops.wgsl");
/// Consensus: the stake-weighted median of each column.
pub const MEDIAN_WGSL: &str = include_str!("shaders/median.wgsl");
/// Liquid alpha: the sigmoid EMA factor of each bond cell.
pub const LIQUID_ALPHA_WGSL: &str = include_str!("shaders/liquid_alpha.wgsl");

/// A kernel's full source: the fixed-point library, then the kernel.
pub fn compose(kernel: &str) -> String {
    format!("{FIXED_WGSL}\n{kernel}")
}

/// Every shader program this crate compiles, by name, as the GPU receives it. A plain
/// `cargo test` validates each with naga, so a broken shader fails without a GPU.
pub fn programs() -> Vec<(&'static str, String)> {
    vec![
        ("fixed.wgsl", FIXED_WGSL.to_string()),
        ("fixed_ops.wgsl", compose(FIXED_OPS_WGSL)),
        ("median.wgsl", compose(MEDIAN_WGSL)),
        ("liquid_alpha.wgsl", compose(LIQUID_ALPHA_WGSL)),
    ]
}
