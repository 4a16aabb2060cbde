//! The chain's fixed-point conventions, as small named helpers.
//!
//! Each helper mirrors one idiom of the epoch code. The traps they encode:
//! - `safe_div` is `checked_div(..).unwrap_or_default()`: zero on a zero divisor *and* on an
//!   overflowing quotient; it never saturates.
//! - `iter().sum()` on fixed values is plain `+`, which wraps in the runtime's release build; the
//!   explicit loops use `saturating_add`. Which one a step uses changes results at the edges.
//! - Conversions to integers floor (all epoch values are non-negative) and clamp.

pub use substrate_fixed::types::{I32F32, I64F64, I96F32, U96F32};

pub const ZERO: I32F32 = I32F32::from_bits(0);
pub const ONE: I32F32 = I32F32::from_bits(1 << 32);

/// `a.safe_div(b)` on `I32F32`.
#[inline]
pub fn div32(a: I32F32, b: I32F32) -> I32F32 {
    a.checked_div(b).unwrap_or_default()
}

/// `a.safe_div(b)` on `I64F64`.
#[inline]
pub fn div64(a: I64F64, b: I64F64) -> I64F64 {
    a.checked_div(b).unwrap_or_default()
}

/// `x.iter().sum()` on `I32F32`: wrapping, as in the runtime's release build.
#[inline]
pub fn wrapping_sum32<'a>(values: impl IntoIterator<Item = &'a I32F32>) -> I32F32 {
    values.into_iter().fold(ZERO, |acc, v| acc.wrapping_add(*v))
}

/// `x.iter().sum()` on `I64F64`: wrapping, as in the runtime's release build.
#[inline]
pub fn wrapping_sum64<'a>(values: impl IntoIterator<Item = &'a I64F64>) -> I64F64 {
    values
        .into_iter()
        .fold(I64F64::from_bits(0), |acc, v| acc.wrapping_add(*v))
}

/// `inplace_normalize`: divide by the (wrapping) sum unless it is zero.
pub fn normalize32(values: &mut [I32F32]) {
    let sum = wrapping_sum32(values.iter());
    normalize32_with_sum(values, sum);
}

/// `inplace_normalize_using_sum`: divide by a given sum unless it is zero.
pub fn normalize32_with_sum(values: &mut [I32F32], sum: I32F32) {
    if sum == ZERO {
        return;
    }
    for v in values.iter_mut() {
        *v = div32(*v, sum);
    }
}

/// `inplace_normalize_64`.
pub fn normalize64(values: &mut [I64F64]) {
    let sum = wrapping_sum64(values.iter());
    if sum == I64F64::from_bits(0) {
        return;
    }
    for v in values.iter_mut() {
        *v = div64(*v, sum);
    }
}

/// `u16` value as an exact `I32F32` (0..=65535).
#[inline]
pub fn from_u16(x: u16) -> I32F32 {
    I32F32::from_bits(i64::from(x) << 32)
}

/// `u16_proportion_to_fixed`: x / 65535, truncated.
#[inline]
pub fn u16_proportion(x: u16) -> I32F32 {
    div32(from_u16(x), from_u16(u16::MAX))
}

/// `fixed_proportion_to_u16`: ⌊x · 65535⌋ clamped to `u16`. This is how every per-uid
/// proportion is persisted; "1.0" often lands on 65534 because normalised values sum below 1.
#[inline]
pub fn proportion_to_u16(x: I32F32) -> u16 {
    x.saturating_mul(from_u16(u16::MAX))
        .saturating_to_num::<u16>()
}

/// ⌊I96F32(x) · I96F32(rao)⌋ as `u64`: an emission share in rao (dust is floored away).
#[inline]
pub fn share_of_rao(x: I32F32, rao: u64) -> u64 {
    I96F32::saturating_from_num(x)
        .saturating_mul(I96F32::saturating_from_num(rao))
        .saturating_to_num::<u64>()
}
