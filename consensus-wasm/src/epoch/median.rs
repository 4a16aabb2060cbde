//! Consensus: the stake-weighted median of every column (`weighted_median_col_sparse`).
//!
//! The chain does not compute a textbook weighted median. It runs a deterministic quickselect
//! whose pivot is the middle element of the current partition (in the order elements were
//! appended: ascending validator index), drops the elements equal to the pivot, and decides
//! which side to keep with exact `<` / `<=` comparisons on truncated, saturating stake sums.
//! Ties and boundary cases fall where those comparisons put them, so we replay the same loop.

use crate::fixed::{I32F32, ZERO, normalize32, wrapping_sum32};
use crate::sparse::Matrix;

/// Everything the per-column median needs, laid out for either backend: the staked validators'
/// normalised stakes, and each column's scores in compressed-column form. Validators with no
/// entry in a column score 0 there; a later duplicate entry of a row overwrites an earlier one,
/// exactly as in the chain's dense buffer.
#[derive(Clone, Debug)]
pub struct MedianInput {
    /// Normalised stake of each validator with positive active stake, in uid order (index k).
    pub stake: Vec<I32F32>,
    /// Σ stake (wrapping), the upper edge of the first partition.
    pub stake_sum: I32F32,
    /// stake_sum − κ (saturating): the stake that may lie above the median.
    pub minority: I32F32,
    /// Column j's entries are `entries[col_start[j]..col_start[j + 1]]`; `columns + 1` offsets.
    pub col_start: Vec<u32>,
    /// (validator index k, score), ascending k, one entry per (k, column).
    pub entries: Vec<(u32, I32F32)>,
}

impl MedianInput {
    pub fn new(active_stake: &[I32F32], weights: &Matrix, columns: u16, kappa: I32F32) -> Self {
        let mut stake: Vec<I32F32> = active_stake.iter().copied().filter(|&s| s > ZERO).collect();
        normalize32(&mut stake);
        let stake_sum = wrapping_sum32(stake.iter());
        let minority = stake_sum.saturating_sub(kappa);

        let mut by_column: Vec<Vec<(u32, I32F32)>> = vec![Vec::new(); usize::from(columns)];
        let mut k: u32 = 0;
        for (row, &s) in weights.iter().zip(active_stake) {
            if s > ZERO {
                for &(j, v) in row {
                    if let Some(col) = by_column.get_mut(usize::from(j)) {
                        // Same row twice in a column: the later value replaces the earlier.
                        match col.last_mut() {
                            Some(last) if last.0 == k => last.1 = v,
                            _ => col.push((k, v)),
                        }
                    }
                }
                k += 1;
            }
        }
        let mut col_start = Vec::with_capacity(by_column.len() + 1);
        let mut entries = Vec::new();
        col_start.push(0);
        for col in by_column {
            entries.extend(col);
            col_start.push(entries.len() as u32);
        }
        Self {
            stake,
            stake_sum,
            minority,
            col_start,
            entries,
        }
    }

    pub fn columns(&self) -> usize {
        self.col_start.len().saturating_sub(1)
    }

    fn column(&self, j: usize) -> &[(u32, I32F32)] {
        let start = self.col_start.get(j).copied().unwrap_or(0) as usize;
        let end = self.col_start.get(j + 1).copied().unwrap_or(0) as usize;
        self.entries.get(start..end).unwrap_or_default()
    }

    /// `weighted_median_col_sparse`, replayed literally on the CPU.
    pub fn run_on_cpu(&self) -> Vec<I32F32> {
        let mut select = Quickselect::new(self.stake.len());
        (0..self.columns())
            .map(|j| {
                let entries = self.column(j);
                // Every score zero: the pivot is 0, every element equals it, and the chain returns 0.
                if entries.iter().all(|&(_, v)| v == ZERO) {
                    return ZERO;
                }
                select.median(&self.stake, entries, self.minority, self.stake_sum)
            })
            .collect()
    }
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
