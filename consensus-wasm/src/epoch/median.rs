//! Consensus: the stake-weighted median of every column (`weighted_median_col_sparse`).
//!
//! The chain does not compute a textbook weighted median. It runs a deterministic quickselect
//! whose pivot is the middle element of the current partition (in the order elements were
//! appended: ascending validator index), drops the elements equal to the pivot, and decides
//! which side to keep with exact `<` / `<=` comparisons on truncated, saturating stake sums.
//! Ties and boundary cases fall where those comparisons put them, so we replay the same loop.

use crate::fixed::{I32F32, ZERO, normalize32, wrapping_sum32};
use crate::sparse::Matrix;

/// Consensus of each of `columns` columns. `active_stake` has one entry per row; rows with zero
/// stake take no part. Columns nobody with stake weights come out as zero.
pub fn weighted_median_cols(
    active_stake: &[I32F32],
    weights: &Matrix,
    columns: u16,
    kappa: I32F32,
) -> Vec<I32F32> {
    let mut use_stake: Vec<I32F32> = active_stake.iter().copied().filter(|&s| s > ZERO).collect();
    normalize32(&mut use_stake);
    let stake_sum = wrapping_sum32(use_stake.iter());
    let minority = stake_sum.saturating_sub(kappa);

    // Column-major scores of the staked validators: (k, score) in the order the chain writes
    // them, so a later duplicate overwrites an earlier one exactly as in its dense buffer.
    let mut by_column: Vec<Vec<(u32, I32F32)>> = vec![Vec::new(); usize::from(columns)];
    let mut k: u32 = 0;
    for (row, &s) in weights.iter().zip(active_stake) {
        if s > ZERO {
            for &(j, v) in row {
                if let Some(col) = by_column.get_mut(usize::from(j)) {
                    col.push((k, v));
                }
            }
            k += 1;
        }
    }

    let mut select = Quickselect::new(use_stake.len());
    by_column
        .iter()
        .map(|entries| {
            // Every score zero: the pivot is 0, every element equals it, and the chain returns 0.
            if entries.iter().all(|&(_, v)| v == ZERO) {
                return ZERO;
            }
            select.median(&use_stake, entries, minority, stake_sum)
        })
        .collect()
}

/// Reusable buffers for one column's quickselect.
struct Quickselect {
    score: Vec<I32F32>,
    partition: Vec<u32>,
    lower: Vec<u32>,
    upper: Vec<u32>,
}

impl Quickselect {
    fn new(validators: usize) -> Self {
        Self {
            score: vec![ZERO; validators],
            partition: Vec::new(),
            lower: Vec::new(),
            upper: Vec::new(),
        }
    }

    fn median(
        &mut self,
        stake: &[I32F32],
        entries: &[(u32, I32F32)],
        minority: I32F32,
        stake_sum: I32F32,
    ) -> I32F32 {
        for &(k, v) in entries {
            if let Some(cell) = self.score.get_mut(k as usize) {
                *cell = v;
            }
        }
        let result = self.run(stake, minority, stake_sum);
        for &(k, _) in entries {
            if let Some(cell) = self.score.get_mut(k as usize) {
                *cell = ZERO;
            }
        }
        result
    }

    /// `weighted_median` over all validators, starting from the partition [0, stake_sum].
    fn run(&mut self, stake: &[I32F32], minority: I32F32, stake_sum: I32F32) -> I32F32 {
        let Self {
            score,
            partition,
            lower,
            upper,
        } = self;
        let score_of = |k: u32| score.get(k as usize).copied().unwrap_or(ZERO);
        let stake_of = |k: u32| stake.get(k as usize).copied().unwrap_or(ZERO);
        partition.clear();
        partition.extend(0..score.len() as u32);
        let iteration_limit = partition.len();
        let (mut partition_lo, mut partition_hi) = (ZERO, stake_sum);
        let mut iterations = 0usize;
        loop {
            let len = partition.len();
            match partition.first() {
                None => return ZERO,
                Some(&only) if len == 1 => return score_of(only),
                Some(_) => {}
            }
            let pivot = score_of(partition.get(len / 2).copied().unwrap_or(0));
            let (mut lo_stake, mut hi_stake) = (ZERO, ZERO);
            lower.clear();
            upper.clear();
            for &k in partition.iter() {
                let s = score_of(k);
                if s == pivot {
                    continue;
                }
                if s < pivot {
                    lo_stake = lo_stake.saturating_add(stake_of(k));
                    lower.push(k);
                } else {
                    hi_stake = hi_stake.saturating_add(stake_of(k));
                    upper.push(k);
                }
            }
            if minority < partition_lo.saturating_add(lo_stake) && !lower.is_empty() {
                std::mem::swap(partition, lower);
                partition_hi = partition_lo.saturating_add(lo_stake);
            } else if partition_hi.saturating_sub(hi_stake) <= minority && !upper.is_empty() {
                std::mem::swap(partition, upper);
                partition_lo = partition_hi.saturating_sub(hi_stake);
            } else {
                return pivot;
            }
            iterations += 1;
            if iterations > iteration_limit {
                return ZERO;
            }
        }
    }
}
