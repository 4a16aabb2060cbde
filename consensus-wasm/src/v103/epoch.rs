//! `epoch(netuid, rao_emission)` of spec 103, step by step (sections of the v103 spec doc).
//!
//! Every arithmetic operation wraps, as the old runtime's plain operators do in its release
//! build, and every division sits behind the same "not zero" test as there.

use super::input::{EpochInputV103, InputErrorV103};
use super::output::EpochOutputV103;
use crate::epoch::{CpuKernels, Kernels, MedianInput, run_ready};
use crate::fixed::{I32F32, I64F64, I96F32, ONE, ZERO, from_u16, u16_proportion};

type Row = Vec<(u16, I32F32)>;

/// Σ with plain (wrapping) `+`.
fn sum(values: impl IntoIterator<Item = I32F32>) -> I32F32 {
    values.into_iter().fold(ZERO, I32F32::wrapping_add)
}

/// `inplace_normalize`: divide by the sum unless it is zero.
fn normalize(values: &mut [I32F32]) {
    let total = sum(values.iter().copied());
    if total != ZERO {
        for v in values.iter_mut() {
            *v = v.wrapping_div(total);
        }
    }
}

/// `fixed_proportion_to_u16`: ⌊x · 65535⌋, wrapping like the old `to_num`.
fn to_u16(x: I32F32) -> u16 {
    x.wrapping_mul(from_u16(u16::MAX)).wrapping_to_num::<u16>()
}

fn entry(vector: &[I32F32], index: u16) -> I32F32 {
    vector.get(usize::from(index)).copied().unwrap_or(ZERO)
}

fn add_at(vector: &mut [I32F32], index: u16, value: I32F32) {
    if let Some(slot) = vector.get_mut(usize::from(index)) {
        *slot = slot.wrapping_add(value);
    }
}

/// Stored `(uid, u16)` rows as an n-row matrix of proportions (rows absent from storage empty).
fn matrix(n: u16, rows: &[(u16, Vec<(u16, u16)>)]) -> Vec<Row> {
    let mut out = vec![Row::new(); usize::from(n)];
    for (i, entries) in rows {
        if let Some(row) = out.get_mut(usize::from(*i)) {
            *row = entries
                .iter()
                .map(|&(j, w)| (j, u16_proportion(w)))
                .collect();
        }
    }
    out
}

/// Drops (i, j) where `last_update_i ≤ block_at_registration_j`: a row set before uid j
/// registered speaks of the uid's previous owner.
fn mask_outdated(matrix: &mut [Row], last_update: &[u64], block_at_registration: &[u64]) {
    for (row, updated) in matrix.iter_mut().zip(last_update) {
        row.retain(|&(j, _)| {
            block_at_registration
                .get(usize::from(j))
                .is_none_or(|registered| updated > registered)
        });
    }
}

/// `inplace_col_normalize_sparse`: columns with a zero sum are left as they are.
fn col_normalize(matrix: &mut [Row], columns: u16) {
    let mut sums = vec![ZERO; usize::from(columns)];
    for row in matrix.iter() {
        for &(j, v) in row {
            add_at(&mut sums, j, v);
        }
    }
    for row in matrix.iter_mut() {
        for (j, v) in row.iter_mut() {
            let total = entry(&sums, *j);
            if total != ZERO {
                *v = v.wrapping_div(total);
            }
        }
    }
}

/// `matmul_sparse`: result_j = Σ_i vector_i · matrix_ij.
fn matmul(matrix: &[Row], vector: &[I32F32], columns: u16) -> Vec<I32F32> {
    let mut result = vec![ZERO; usize::from(columns)];
    for (row, &v) in matrix.iter().zip(vector) {
        for &(j, w) in row {
            add_at(&mut result, j, v.wrapping_mul(w));
        }
    }
    result
}

/// `matmul_transpose_sparse`: result_i = Σ_j vector_j · matrix_ij.
fn matmul_transpose(matrix: &[Row], vector: &[I32F32]) -> Vec<I32F32> {
    matrix
        .iter()
        .map(|row| sum(row.iter().map(|&(j, w)| entry(vector, j).wrapping_mul(w))))
        .collect()
}

fn entry_usize(vector: &[I32F32], index: usize) -> I32F32 {
    vector.get(index).copied().unwrap_or(ZERO)
}

/// `is_topk`: everyone if n < k; else all but the n − k smallest (stable ascending sort, so
/// the lower uid loses a tie).
fn top_k(stake: &[I32F32], k: u16) -> Vec<bool> {
    let n = stake.len();
    let k = usize::from(k);
    let mut permit = vec![true; n];
    if n < k {
        return permit;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| entry_usize(stake, i));
    for &i in order.iter().take(n - k) {
        if let Some(p) = permit.get_mut(i) {
            *p = false;
        }
    }
    permit
}

/// Runs the epoch; `Err` only for input the old runtime would have panicked on.
pub fn run_epoch(input: &EpochInputV103) -> Result<EpochOutputV103, InputErrorV103> {
    input.validate()?;
    match run_ready(epoch_with(input, &mut CpuKernels)) {
        Ok(output) => Ok(output),
        Err(never) => match never {},
    }
}

/// Runs the epoch of an input that passed [`EpochInputV103::validate`], with its consensus on
/// `kernels` (spec 103 has no liquid alpha: the median is its only n²-sized stage).
pub async fn epoch_with<K: Kernels>(
    input: &EpochInputV103,
    kernels: &mut K,
) -> Result<EpochOutputV103, K::Error> {
    let n = input.n;
    let uids = usize::from(n);

    // 2. Activity.
    let cutoff = u64::from(input.activity_cutoff);
    let active: Vec<bool> = input
        .last_update
        .iter()
        .map(|&updated| updated.wrapping_add(cutoff) >= input.current_block)
        .collect();
    let block_at_registration: Vec<u64> = input
        .block_at_registration
        .iter()
        .zip(&input.hotkeys)
        .map(|(&block, key)| if key.is_some() { block } else { 0 })
        .collect();

    // 3. Stake: normalised in I64F64, truncated to I32F32; active stake renormalised.
    let mut stake64: Vec<I64F64> = input
        .total_hotkey_stake
        .iter()
        .zip(&input.hotkeys)
        .map(|(&stake, key)| match key {
            Some(_) => I64F64::wrapping_from_num(stake),
            None => I64F64::from_bits(0),
        })
        .collect();
    let total64 = stake64
        .iter()
        .fold(I64F64::from_bits(0), |acc, s| acc.wrapping_add(*s));
    if total64 != I64F64::from_bits(0) {
        for s in stake64.iter_mut() {
            *s = s.wrapping_div(total64);
        }
    }
    let stake: Vec<I32F32> = stake64
        .iter()
        .map(|&s| I32F32::wrapping_from_num(s))
        .collect();
    let mut active_stake: Vec<I32F32> = stake
        .iter()
        .zip(&active)
        .map(|(&s, &is_active)| if is_active { s } else { ZERO })
        .collect();
    normalize(&mut active_stake);

    // 4. Permits: old ones mask the weights; new ones go to the top k by stake.
    let old_permit = &input.validator_permit;
    let new_permit = top_k(&stake, input.max_allowed_validators);

    // 5. Weights.
    let mut weights = matrix(n, &input.weights);
    for (i, row) in weights.iter_mut().enumerate() {
        if !old_permit.get(i).copied().unwrap_or(false) {
            row.clear();
        }
        row.retain(|&(j, _)| usize::from(j) != i);
    }
    mask_outdated(&mut weights, &input.last_update, &block_at_registration);
    for row in weights.iter_mut() {
        let total = sum(row.iter().map(|&(_, w)| w));
        if total > ZERO {
            for (_, w) in row.iter_mut() {
                *w = w.wrapping_div(total);
            }
        }
    }

    // 6. Consensus, clipping, trust, rank, incentive.
    let preranks = matmul(&weights, &active_stake, n);
    let kappa = u16_proportion(input.kappa);
    // Spec 103's `weighted_median_col_sparse` is today's quickselect step for step; its plain
    // `+` and `−` never overflow on normalised stakes (each sum stays within [0, 1], κ ≤ 1), so
    // today's saturating ones give the same numbers, and the same kernels (CPU or GPU) serve
    // both. The golden vectors of both epochs hold this.
    let consensus = kernels
        .consensus(&MedianInput::new(&active_stake, &weights, n, kappa))
        .await?;
    let clipped: Vec<Row> = weights
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, w)| {
                    let c = entry(&consensus, j);
                    if w > c {
                        (c > ZERO).then_some((j, c))
                    } else {
                        Some((j, w))
                    }
                })
                .collect()
        })
        .collect();
    let validator_trust: Vec<I32F32> = clipped
        .iter()
        .map(|row| sum(row.iter().map(|&(_, w)| w)))
        .collect();
    let mut ranks = matmul(&clipped, &active_stake, n);
    let trust: Vec<I32F32> = ranks
        .iter()
        .zip(&preranks)
        .map(|(&r, &p)| if p != ZERO { r.wrapping_div(p) } else { ZERO })
        .collect();
    normalize(&mut ranks);
    let incentive = ranks.clone();

    // 7. Bonds: stored bonds (outdated entries dropped) and this epoch's bond deltas, each
    // column-normalised; their EMA, column-normalised; dividends from it.
    let mut bonds = matrix(n, &input.bonds);
    mask_outdated(&mut bonds, &input.last_update, &block_at_registration);
    col_normalize(&mut bonds, n);
    let mut deltas: Vec<Row> = clipped
        .iter()
        .zip(&active_stake)
        .map(|(row, &a)| row.iter().map(|&(j, w)| (j, w.wrapping_mul(a))).collect())
        .collect();
    col_normalize(&mut deltas, n);
    let moving_average = I64F64::wrapping_from_num(input.bonds_moving_average)
        .wrapping_div(I64F64::wrapping_from_num(1_000_000u64));
    let alpha = ONE.wrapping_sub(I32F32::wrapping_from_num(moving_average));
    let keep = ONE.wrapping_sub(alpha);
    let mut ema: Vec<Row> = deltas
        .iter()
        .zip(&bonds)
        .map(|(delta, old)| {
            let mut dense = vec![ZERO; uids];
            for &(j, d) in delta {
                add_at(&mut dense, j, alpha.wrapping_mul(d));
            }
            for &(j, b) in old {
                add_at(&mut dense, j, keep.wrapping_mul(b));
            }
            (0..n)
                .zip(dense)
                .filter(|&(_, v)| v > ZERO)
                .collect::<Row>()
        })
        .collect();
    col_normalize(&mut ema, n);
    let mut dividends = matmul_transpose(&ema, &incentive);
    normalize(&mut dividends);

    // 8. Emission and pruning scores.
    let mut combined: Vec<I32F32> = incentive
        .iter()
        .zip(&dividends)
        .map(|(&i, &d)| i.wrapping_add(d))
        .collect();
    normalize(&mut combined);
    if sum(combined.iter().copied()) == ZERO {
        combined = if sum(active_stake.iter().copied()) != ZERO {
            active_stake.clone()
        } else {
            stake.clone()
        };
    }
    let rao = I96F32::wrapping_from_num(input.rao_emission);
    let emission: Vec<u64> = combined
        .iter()
        .map(|&e| {
            I96F32::wrapping_from_num(e)
                .wrapping_mul(rao)
                .wrapping_to_num::<u64>()
        })
        .collect();

    // 9. What is written: bonds rows of new permits (EMA), of lost permits (emptied); the
    // others stay as stored.
    let mut stored: std::collections::BTreeMap<u16, Vec<(u16, u16)>> =
        input.bonds.iter().cloned().collect();
    let mut bonds_written = Vec::new();
    for (uid, row) in (0..n).zip(&ema) {
        let i = usize::from(uid);
        let had = old_permit.get(i).copied().unwrap_or(false);
        if new_permit.get(i).copied().unwrap_or(false) {
            stored.insert(uid, row.iter().map(|&(j, v)| (j, to_u16(v))).collect());
            bonds_written.push(uid);
        } else if had {
            stored.insert(uid, Vec::new());
            bonds_written.push(uid);
        }
    }
    // `Keys` iterates in the byte order of its little-endian u16 keys.
    let mut key_order: Vec<u16> = (0..n).collect();
    key_order.sort_by_key(|uid| uid.to_le_bytes());
    let emission_tuples = key_order
        .iter()
        .filter_map(|&uid| {
            let key = input.hotkeys.get(usize::from(uid))?.clone()?;
            Some((key, emission.get(usize::from(uid)).copied().unwrap_or(0)))
        })
        .collect();

    let as_u16 = |v: &[I32F32]| v.iter().map(|&x| to_u16(x)).collect::<Vec<u16>>();
    Ok(EpochOutputV103 {
        active,
        emission,
        rank: as_u16(&ranks),
        trust: as_u16(&trust),
        consensus: as_u16(&consensus),
        incentive: as_u16(&incentive),
        dividends: as_u16(&dividends),
        pruning_scores: as_u16(&combined),
        validator_trust: as_u16(&validator_trust),
        validator_permit: new_permit,
        bonds: stored.into_iter().collect(),
        bonds_written,
        emission_tuples,
    })
}
