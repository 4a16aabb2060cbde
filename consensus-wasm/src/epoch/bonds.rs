//! Yuma3 bonds with liquid alpha: a per-cell EMA factor from a sigmoid of how far a validator's
//! weight sits from consensus (`compute_liquid_alpha_values_sparse` + `mat_ema_alpha_sparse`).
//!
//! The chain evaluates the sigmoid (one fixed-point `exp`) for every (validator row, uid) cell:
//! n² exps per epoch, seconds at n = 4096. But `mat_ema_alpha_sparse` only emits cells of columns
//! present in the weight row, so only those alphas are ever read. We evaluate exactly those, with
//! the chain's own inputs for each, and get the same output from a fraction of the work.

use crate::fixed::{I32F32, ONE, ZERO, from_u16};
use crate::sparse::{Matrix, Row, Scratch};

/// The subnet's liquid-alpha parameters as the chain converts them.
#[derive(Clone, Copy, Debug)]
pub struct LiquidAlpha {
    pub low: I32F32,
    pub high: I32F32,
    /// `steepness / -100`, computed once.
    pub slope: I32F32,
}

impl LiquidAlpha {
    pub fn new(alpha_values: (u16, u16), steepness: i16) -> Self {
        let (low, high) = alpha_values;
        let max = from_u16(u16::MAX);
        Self {
            low: from_u16(low).saturating_div(max),
            high: from_u16(high).saturating_div(max),
            slope: I32F32::saturating_from_num(steepness)
                .saturating_div(I32F32::saturating_from_num(-100)),
        }
    }

    /// `alpha_sigmoid`: the EMA factor of one cell.
    pub fn alpha(&self, consensus: I32F32, weight: I32F32, bond: I32F32) -> I32F32 {
        let half = I32F32::from_bits(1 << 31);
        let diff_buy = clamp(weight.saturating_sub(consensus), ZERO, ONE);
        let diff_sell = clamp(bond.saturating_sub(weight), ZERO, ONE);
        let combined = if weight >= bond { diff_buy } else { diff_sell };
        let e = exp_safe(self.slope.saturating_mul(combined.saturating_sub(half)));
        let sigmoid = ONE.saturating_div(ONE.saturating_add(e));
        let alpha = self
            .low
            .saturating_add(sigmoid.saturating_mul(self.high.saturating_sub(self.low)));
        clamp(alpha, self.low, self.high)
    }
}

/// `clamp_value`: min with `high` first, then max with `low` (so `low` wins if they cross).
fn clamp(value: I32F32, low: I32F32, high: I32F32) -> I32F32 {
    value.min(high).max(low)
}

/// `exp_safe`: the input clamped to [-20, 20], then substrate-fixed's series `exp`; on its
/// failure 0 for non-positive inputs and the maximum otherwise.
pub fn exp_safe(x: I32F32) -> I32F32 {
    let limit = I32F32::from_bits(20 << 32);
    let x = x.clamp(-limit, limit);
    match exp_series(x) {
        Some(v) => v,
        None if x <= ZERO => ZERO,
        None => I32F32::max_value(),
    }
}

/// substrate-fixed's `transcendental::exp::<I32F32, I32F32>`, replayed on raw `i64` words.
///
/// The same steps in the same order, so the same bits (tests compare the two on every input
/// class): 1 + x + Σ_{i=2}^{31} term_i with term_i = ⌊term_{i−1} · x⌋ / i (the multiply floors at
/// 2⁻³², the divide by the integer i truncates), failing on any overflow; a negative x is
/// negated first and the sum inverted at the end. Two quirks are kept: exp(0) = 1 exactly, and
/// exp(1) is the library's 23-bit constant e, not the series. The i64 form avoids the library's
/// 128-bit division per term, and it is the algorithm the GPU shader implements word by word.
pub fn exp_series(x: I32F32) -> Option<I32F32> {
    const ONE_RAW: i64 = 1 << 32;
    let raw = x.to_bits();
    if raw == 0 {
        return Some(ONE);
    }
    if raw == ONE_RAW {
        return Some(I32F32::from(substrate_fixed::transcendental::E));
    }
    let negative = raw < 0;
    let operand = if negative { raw.checked_neg()? } else { raw };
    let mut result = operand.checked_add(ONE_RAW)?;
    let mut term = operand;
    for i in 2..32i64 {
        // checked_mul: the exact product, floored at 2⁻³², must fit.
        term = i64::try_from((i128::from(term) * i128::from(operand)) >> 32).ok()?;
        // checked_div by the fixed-point integer i: ⌊term·2³² / (i·2³²)⌋ toward zero = term / i.
        term /= i;
        result = result.checked_add(term)?;
    }
    if negative {
        // checked_div(1, result): 2⁶⁴ / result toward zero; result ≥ 1 here.
        let inverse = (1i128 << 64).checked_div(i128::from(result))?;
        return i64::try_from(inverse).ok().map(I32F32::from_bits);
    }
    Some(I32F32::from_bits(result))
}

/// The cells whose liquid alpha the EMA reads: for each bond-weight row, the distinct columns
/// it weights (ascending), each with the chain's inputs to the sigmoid.
pub struct LiquidCells {
    /// (consensus of the column, weight, bond) per cell, as the chain's merge reads them.
    pub inputs: Vec<(I32F32, I32F32, I32F32)>,
    /// The column of each cell.
    columns: Vec<u16>,
    /// Where each row's cells start in `inputs`; one more entry than rows.
    row_starts: Vec<usize>,
}

/// Gathers the liquid-alpha cells of every row.
///
/// The chain looks each cell's weight and bond up with a merge that assumes rows sorted by
/// column; on an unsorted row it reads some present cells as 0. We replay that merge.
pub fn liquid_cells(weights: &Matrix, bonds: &Matrix, consensus: &[I32F32]) -> LiquidCells {
    let n_columns = consensus.len();
    let mut cells = LiquidCells {
        inputs: Vec::new(),
        columns: Vec::new(),
        row_starts: vec![0],
    };
    for (w_row, b_row) in weights.iter().zip(bonds) {
        let mut needed: Vec<u16> = w_row
            .iter()
            .map(|&(j, _)| j)
            .filter(|&j| usize::from(j) < n_columns)
            .collect();
        needed.sort_unstable();
        needed.dedup();
        let merged_w = merged_lookup(w_row, &needed);
        let merged_b = merged_lookup(b_row, &needed);
        for ((&j, w), b) in needed.iter().zip(merged_w).zip(merged_b) {
            let c = consensus.get(usize::from(j)).copied().unwrap_or(ZERO);
            cells.inputs.push((c, w, b));
            cells.columns.push(j);
        }
        cells.row_starts.push(cells.columns.len());
    }
    cells
}

/// Liquid-alpha EMA of bonds from the cells' alphas (one per cell of [`liquid_cells`]): for each
/// cell (i, j) of the bond-weight row, min(1, (1 − α_ij) · b_ij + max(0, α_ij · w_ij)), emitted in
/// weight-row order; bonds in columns the row no longer weights are dropped (the sparse path's
/// behaviour, not the dense one's).
pub fn ema_liquid(
    weights: &Matrix,
    bonds: &Matrix,
    cells: &LiquidCells,
    alphas: &[I32F32],
    scratch: &mut Scratch,
) -> Matrix {
    weights
        .iter()
        .zip(bonds)
        .enumerate()
        .map(|(row, (w_row, b_row))| {
            let start = cells.row_starts.get(row).copied().unwrap_or(0);
            let end = cells.row_starts.get(row + 1).copied().unwrap_or(start);
            let columns = cells.columns.get(start..end).unwrap_or_default();
            for (&j, &a) in columns
                .iter()
                .zip(alphas.get(start..end).unwrap_or_default())
            {
                scratch.set_alpha(j, a);
            }
            // Decay: the last old entry of a column wins (assignment, not accumulation).
            for &(j, old) in b_row {
                if let Some(a) = scratch.alpha(j) {
                    scratch.set_decayed(j, ONE.saturating_sub(a).saturating_mul(old));
                }
            }
            let out: Row = w_row
                .iter()
                .filter_map(|&(j, w)| {
                    let a = scratch.alpha(j)?;
                    let increment = a.saturating_mul(w).max(ZERO);
                    let v = scratch.decayed(j).saturating_add(increment).min(ONE);
                    (v > ZERO).then_some((j, v))
                })
                .collect();
            scratch.clear(columns);
            out
        })
        .collect()
}

/// For each column of `sorted_columns` (ascending), the value the chain's peeking merge reads
/// from `row`: its cursor only moves past entries with a smaller column, so an entry that sits
/// behind a larger column is never seen.
fn merged_lookup(row: &Row, sorted_columns: &[u16]) -> Vec<I32F32> {
    let mut cursor = 0usize;
    sorted_columns
        .iter()
        .map(|&j| {
            while let Some(&(c, _)) = row.get(cursor) {
                if c < j {
                    cursor += 1;
                } else {
                    break;
                }
            }
            match row.get(cursor) {
                Some(&(c, v)) if c == j => v,
                _ => ZERO,
            }
        })
        .collect()
}

/// `(1 − alpha)` from `BondsMovingAverage` (ppm), used when liquid alpha is off:
/// α = 1 − I32F32(I64F64(bma) / 10⁶).
pub fn moving_average_alpha(bonds_moving_average: u64) -> I32F32 {
    use crate::fixed::{I64F64, div64};
    let bma = div64(
        I64F64::saturating_from_num(bonds_moving_average),
        I64F64::saturating_from_num(1_000_000u32),
    );
    ONE.saturating_sub(I32F32::saturating_from_num(bma))
}

#[cfg(test)]
mod tests {
    use super::*;
    use substrate_fixed::transcendental::exp;

    fn library(x: I32F32) -> Option<I32F32> {
        exp::<I32F32, I32F32>(x).ok()
    }

    #[test]
    fn exp_series_is_the_library_exp_on_a_fine_grid() {
        // Every 2⁻¹⁰ over [-24, 24]: covers the clamped range and the overflow edge (~21.5).
        let step = 1i64 << 22;
        let mut raw = -24i64 << 32;
        while raw <= 24i64 << 32 {
            let x = I32F32::from_bits(raw);
            assert_eq!(exp_series(x), library(x), "x = {x}");
            raw += step;
        }
    }

    #[test]
    fn exp_series_is_the_library_exp_on_edges_and_random_bits() {
        let mut edges: Vec<i64> = vec![
            0,
            1,
            -1,
            1 << 32,
            -(1 << 32),
            (1 << 32) + 1,
            (1 << 32) - 1,
            i64::MIN,
            i64::MAX,
            i64::MIN + 1,
        ];
        for k in [20i64, 21, 22, 23, 31] {
            edges.extend([
                (k << 32) - 1,
                k << 32,
                (k << 32) + 1,
                -(k << 32) - 1,
                -(k << 32),
                -(k << 32) + 1,
            ]);
        }
        let mut state = 0x243F_6A88_85A3_08D3u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            edges.push(state as i64);
            edges.push((state as i64) >> 29); // small magnitudes, where the series does not fail
        }
        for raw in edges {
            let x = I32F32::from_bits(raw);
            assert_eq!(exp_series(x), library(x), "x raw = {raw}");
        }
    }
}
