//! The Yuma consensus epoch of the subtensor runtime, recomputed bit for bit.
//!
//! An audit is only worth something if it reproduces exactly what the chain persisted: one
//! truncated ulp in a normalised stake becomes a different `u16` incentive, and a different
//! incentive becomes thousands of rao paid to the wrong hotkey. So this crate never touches a
//! float on the epoch path. Every quantity lives in the same fixed-point type as on chain
//! (`I32F32`, `I64F64`, `I96F32`, `U96F32` from `substrate-fixed`, the chain's own library), and
//! every operation is done in the chain's order with the chain's rounding (floor), saturation and
//! `safe_div` (zero on division by zero or overflow).
//!
//! The crate is pure: no I/O, no clock, no global state. It takes an [`EpochInput`] (what one
//! mechanism epoch reads from storage) and returns an [`EpochOutput`] (what it writes), so the
//! same code runs natively, in a browser Web Worker, and against chain state that the light
//! client verified.
//!
//! Threat model: the input comes from outside (a file a user dropped, a chain state we proved but
//! did not write). Any input gives either an [`InputError`] naming the bad field or an output;
//! never a panic, never an out-of-bounds read.
//!
//! Layout:
//! - [`input`]: the epoch input and its validation.
//! - [`epoch`]: the production (sparse) epoch, stage by stage.
//! - [`sparse`]: the sparse-matrix operations, each matching one chain helper.
//! - [`mechanisms`]: splitting a subnet's emission over mechanisms and aggregating the results.
//! - [`vector`] / [`compare`]: the `yuma-epoch-vector/v1` file format and field-by-field checks.
//! - [`whatif`]: variations of one epoch under other hyperparameters (batches, benchmarks).
//! - [`v103`]: the older epoch of subtensor spec_version 103 (the localnet's runtime), with
//!   its own wrapping arithmetic and `yuma-epoch-vector/v103` files.
//! - `gpu` (feature `gpu`): the GPU engine: WGSL kernels on exact fixed point, batches of epochs
//!   in one submission per stage, on wgpu (Vulkan natively, WebGPU in the browser).

#![cfg_attr(not(test), deny(clippy::indexing_slicing))]

pub mod compare;
pub mod epoch;
pub mod fixed;
#[cfg(feature = "gpu")]
pub mod gpu;
pub mod input;
pub mod mechanisms;
pub mod output;
pub mod runtime;
pub mod sparse;
pub mod v103;
pub mod vector;
pub mod whatif;

pub use compare::{Comparison, Mismatch, compare_outputs};
pub use epoch::run_epoch;
pub use input::{CommitReveal, EpochInput, InputError, TimelockedCommits, WeightCommits};
pub use output::EpochOutput;
pub use vector::{AnyVector, VectorError, VectorFile};
