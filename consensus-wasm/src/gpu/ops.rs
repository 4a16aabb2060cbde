//! Runs fixed-point operations one by one on the GPU, for the tests that hold `fixed.wgsl` to the
//! chain's arithmetic, and states what each operation must return (its CPU twin).

use super::{FIXED_OPS_WGSL, GpuContext, GpuError, compose};
use crate::fixed::{I32F32, proportion_to_u16};

/// The operations of `fixed.wgsl`, numbered as in `fixed_ops.wgsl`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FixedOp {
    WrappingAdd = 0,
    CheckedAdd = 1,
    SaturatingAdd = 2,
    SaturatingSub = 3,
    CheckedMul = 4,
    SaturatingMul = 5,
    CheckedDiv = 6,
    SafeDiv = 7,
    Exp = 8,
    ExpSafe = 9,
    ProportionToU16 = 10,
    Less = 11,
}

impl FixedOp {
    pub const ALL: [FixedOp; 12] = [
        FixedOp::WrappingAdd,
        FixedOp::CheckedAdd,
        FixedOp::SaturatingAdd,
        FixedOp::SaturatingSub,
        FixedOp::CheckedMul,
        FixedOp::SaturatingMul,
        FixedOp::CheckedDiv,
        FixedOp::SafeDiv,
        FixedOp::Exp,
        FixedOp::ExpSafe,
        FixedOp::ProportionToU16,
        FixedOp::Less,
    ];

    /// What the chain's arithmetic (substrate-fixed) returns: the raw value, and `false` where a
    /// checked operation returns `None` (the value is then 0).
    pub fn on_cpu(self, a: i64, b: i64) -> (i64, bool) {
        let (x, y) = (I32F32::from_bits(a), I32F32::from_bits(b));
        let checked = |v: Option<I32F32>| v.map_or((0, false), |v| (v.to_bits(), true));
        match self {
            FixedOp::WrappingAdd => (x.wrapping_add(y).to_bits(), true),
            FixedOp::CheckedAdd => checked(x.checked_add(y)),
            FixedOp::SaturatingAdd => (x.saturating_add(y).to_bits(), true),
            FixedOp::SaturatingSub => (x.saturating_sub(y).to_bits(), true),
            FixedOp::CheckedMul => checked(x.checked_mul(y)),
            FixedOp::SaturatingMul => (x.saturating_mul(y).to_bits(), true),
            FixedOp::CheckedDiv => checked(x.checked_div(y)),
            FixedOp::SafeDiv => (x.checked_div(y).unwrap_or_default().to_bits(), true),
            FixedOp::Exp => checked(substrate_fixed::transcendental::exp::<I32F32, I32F32>(x).ok()),
            FixedOp::ExpSafe => (crate::epoch::exp_safe(x).to_bits(), true),
            FixedOp::ProportionToU16 => (i64::from(proportion_to_u16(x)), true),
            FixedOp::Less => (i64::from(x < y), true),
        }
    }
}

/// Runs `cases` (operation, a, b) on the GPU and returns (raw value, ok) for each.
pub async fn run_on_gpu(
    ctx: &GpuContext,
    cases: &[(FixedOp, i64, i64)],
) -> Result<Vec<(i64, bool)>, GpuError> {
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    // OpCase: op u32, 4 bytes padding (vec2<u32> aligns to 8), a, b: 24 bytes a case.
    let mut input = Vec::with_capacity(cases.len() * 24);
    for &(op, a, b) in cases {
        input.extend_from_slice(&(op as u32).to_le_bytes());
        input.extend_from_slice(&0u32.to_le_bytes());
        input.extend_from_slice(&a.to_le_bytes());
        input.extend_from_slice(&b.to_le_bytes());
    }
    let cases_buffer = ctx.storage_buffer("fixed op cases", &input);
    // OpResult: value (8), ok (4), padding to its 8-byte alignment: 16 bytes a result.
    let results_buffer = ctx.output_buffer("fixed op results", cases.len() * 16);
    let pipeline = ctx.pipeline("fixed_ops", &compose(FIXED_OPS_WGSL), "run_ops");
    let bytes = ctx
        .run(&pipeline, &[&cases_buffer], &results_buffer, cases.len())
        .await?;
    Ok(bytes
        .chunks_exact(16)
        .map(|r| {
            let mut value = [0u8; 8];
            value.copy_from_slice(r.get(0..8).unwrap_or(&[0; 8]));
            let ok = r.get(8..12).is_some_and(|w| w != [0, 0, 0, 0]);
            (i64::from_le_bytes(value), ok)
        })
        .collect())
}
