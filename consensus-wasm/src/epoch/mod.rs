//! One mechanism epoch, as the chain's production path runs it (`epoch_mechanism`, sparse).
//!
//! The stages, in the chain's order:
//! 1. stake: alpha + TAO · tao_weight, threshold filter (never the owner), normalised;
//! 2. activity and permits: old permits mask this epoch, new permits are the top-k stakes;
//! 3. weights: permit rows, diagonal, outdated and commit-reveal masks, row normalisation;
//! 4. consensus (weighted median), clipping, validator trust, incentive;
//! 5. bonds: classic EMA or Yuma3 (with or without liquid alpha), dividends;
//! 6. emission split and rao amounts.
//!
//! Every quantity is in the chain's fixed-point type; see [`crate::fixed`] for the conventions.

mod bonds;
mod median;

pub use bonds::{LiquidAlpha, LiquidCells, exp_safe, exp_series};
pub use median::MedianInput;

/// The epoch's two stages whose cost grows with n², which a backend may run elsewhere (the GPU)
/// as long as it returns the same integers. Everything else stays on the CPU: it is O(nnz).
///
/// The calls are async because a GPU answers later: natively the device is polled to completion
/// inside the future, in the browser the page's event loop completes it. The CPU's futures are
/// ready at once, so the CPU path runs the same flow without an executor.
pub trait Kernels {
    type Error;
    /// Consensus of every column: the chain's stake-weighted median (see [`MedianInput`]).
    fn consensus(
        &mut self,
        median: &MedianInput,
    ) -> impl Future<Output = Result<Vec<I32F32>, Self::Error>>;
    /// Liquid alpha of every cell: the chain's sigmoid of (consensus, weight, bond).
    fn liquid_alphas(
        &mut self,
        params: &LiquidAlpha,
        cells: &LiquidCells,
    ) -> impl Future<Output = Result<Vec<I32F32>, Self::Error>>;
}

/// Both stages on the CPU.
pub struct CpuKernels;

impl Kernels for CpuKernels {
    type Error = std::convert::Infallible;

    fn consensus(
        &mut self,
        median: &MedianInput,
    ) -> impl Future<Output = Result<Vec<I32F32>, Self::Error>> {
        std::future::ready(Ok(median.run_on_cpu()))
    }

    fn liquid_alphas(
        &mut self,
        params: &LiquidAlpha,
        cells: &LiquidCells,
    ) -> impl Future<Output = Result<Vec<I32F32>, Self::Error>> {
        std::future::ready(Ok(cells
            .inputs
            .iter()
            .map(|&(c, w, b)| params.alpha(c, w, b))
            .collect()))
    }
}

/// Drives a future whose every await is already complete (the CPU kernels'), with no executor.
pub(crate) fn run_ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

use crate::fixed::{
    I32F32, I64F64, U96F32, ZERO, div32, from_u16, normalize32, normalize32_with_sum, normalize64,
    proportion_to_u16, share_of_rao, u16_proportion, wrapping_sum32,
};
use crate::input::{EpochInput, InputError};
use crate::output::EpochOutput;
use crate::sparse::{self, Matrix, Scratch};

/// Everything the epoch computes, per uid 0..n, before it is reduced to what storage keeps.
/// The audit view and the GPU cross-check read these intermediate values too.
#[derive(Clone, Debug)]
pub struct EpochTerms {
    /// Normalised filtered stake (S).
    pub stake: Vec<I32F32>,
    /// Stake of active, permitted validators, normalised (A).
    pub active_stake: Vec<I32F32>,
    pub active: Vec<bool>,
    pub new_permits: Vec<bool>,
    pub consensus: Vec<I32F32>,
    pub validator_trust: Vec<I32F32>,
    pub incentive: Vec<I32F32>,
    pub dividends: Vec<I32F32>,
    /// Bonds as the chain stores them (classic: column max-upscaled; Yuma3: proportions).
    pub bonds: Matrix,
    pub server_emission: Vec<u64>,
    pub validator_emission: Vec<u64>,
    pub combined_emission: Vec<u64>,
}

/// Runs one epoch and returns exactly what the chain persists for it.
pub fn run_epoch(input: &EpochInput) -> Result<EpochOutput, InputError> {
    input.validate()?;
    let terms = epoch_terms(input);
    Ok(persisted(input, &terms))
}

/// Runs one epoch on an input that passed [`EpochInput::validate`], all on the CPU.
pub fn epoch_terms(input: &EpochInput) -> EpochTerms {
    match run_ready(epoch_terms_with(input, &mut CpuKernels)) {
        Ok(terms) => terms,
        Err(never) => match never {},
    }
}

/// Runs one epoch on an input that passed [`EpochInput::validate`], with the n² stages on
/// `kernels`.
pub async fn epoch_terms_with<K: Kernels>(
    input: &EpochInput,
    kernels: &mut K,
) -> Result<EpochTerms, K::Error> {
    let n = input.n;
    let nu = usize::from(n);
    let mut scratch = Scratch::new(n);

    // == Activity ==
    let last_update = input.last_update_padded();
    let cutoff = input.activity_cutoff_blocks();
    let inactive: Vec<bool> = last_update
        .iter()
        .map(|&updated| updated.saturating_add(cutoff) < input.current_block)
        .collect();
    let active: Vec<bool> = inactive.iter().map(|&b| !b).collect();

    // == Stake ==
    let stake = normalised_stake(input);

    // == Validator permits ==
    // This epoch is masked by the permits stored before it; the owner always holds one.
    let mut old_permits = input.validator_permit.clone();
    if let Some(owner) = input.owner_uid
        && let Some(p) = old_permits.get_mut(usize::from(owner))
    {
        *p = true;
    }
    let forbids: Vec<bool> = old_permits.iter().map(|&p| !p).collect();
    let mut new_permits = top_k_nonzero(&stake, usize::from(input.max_allowed_validators));
    if let Some(owner) = input.owner_uid
        && let Some(p) = new_permits.get_mut(usize::from(owner))
    {
        *p = true;
    }

    // == Active stake ==
    let mut active_stake = stake.clone();
    mask_vector(&inactive, &mut active_stake);
    mask_vector(&forbids, &mut active_stake);
    normalize32(&mut active_stake);

    // == Weights ==
    let mut weights = sparse::from_u16_rows(&input.weights, n, from_u16);
    sparse::mask_rows(&forbids, &mut weights);
    sparse::mask_diag(&mut weights, input.owner_uid);
    // A weight set before its target registered points at the previous holder of that uid.
    sparse::mask_by_row_and_col(
        &mut weights,
        &last_update,
        &input.block_at_registration,
        |updated, registered| updated <= registered,
    );
    if input.commit_reveal.enabled {
        let commit_blocks = earliest_live_commits(input);
        sparse::mask_by_row_and_col(
            &mut weights,
            &commit_blocks,
            &input.block_at_registration,
            |committed, registered| committed < registered,
        );
    }
    sparse::row_normalize(&mut weights);

    // == Consensus, clipping, validator trust, incentive ==
    let kappa = div32(from_u16(input.kappa), from_u16(u16::MAX));
    let consensus = kernels
        .consensus(&MedianInput::new(&active_stake, &weights, n, kappa))
        .await?;
    let clipped = sparse::col_clip(&weights, &consensus);
    let validator_trust = sparse::row_sums(&clipped);
    let mut incentive = sparse::matmul(&clipped, &active_stake, n);
    normalize32(&mut incentive);

    // == Bonds and dividends ==
    let bonds_penalty = div32(from_u16(input.bonds_penalty), from_u16(u16::MAX));
    let weights_for_bonds = sparse::interpolate(&weights, &clipped, bonds_penalty, &mut scratch);
    // Bonds to a uid registered since the previous epoch belonged to its previous holder.
    let last_tempo = if input.last_mechanism_step_block == 0 {
        input.current_block.saturating_sub(u64::from(input.tempo))
    } else {
        input.last_mechanism_step_block.saturating_add(1)
    };
    let not_since_last_tempo = |last_tempo: u64, registered: u64| last_tempo <= registered;

    let (dividends, stored_bonds) = if input.yuma3_enabled {
        let mut old_bonds = sparse::from_u16_rows(&input.bonds, n, u16_proportion);
        sparse::mask_by_col(
            &mut old_bonds,
            last_tempo,
            &input.block_at_registration,
            not_since_last_tempo,
        );
        let liquid = input.liquid_alpha_enabled && consensus.iter().any(|&c| c != ZERO);
        let ema_bonds = if liquid {
            let params = LiquidAlpha::new(input.alpha_values, input.alpha_sigmoid_steepness);
            let cells = bonds::liquid_cells(&weights_for_bonds, &old_bonds, &consensus);
            let alphas = kernels.liquid_alphas(&params, &cells).await?;
            bonds::ema_liquid(
                &weights_for_bonds,
                &old_bonds,
                &cells,
                &alphas,
                &mut scratch,
            )
        } else {
            let alpha = bonds::moving_average_alpha(input.bonds_moving_average);
            sparse::ema(&weights_for_bonds, &old_bonds, alpha, &mut scratch)
        };
        let mut ema_norm = ema_bonds.clone();
        sparse::col_normalize(&mut ema_norm, n);
        let per_validator = sparse::row_sums(&sparse::mat_vec_mul(&ema_norm, &incentive));
        let mut dividends: Vec<I32F32> = per_validator
            .iter()
            .zip(&active_stake)
            .map(|(t, s)| t.checked_mul(*s).unwrap_or_default())
            .collect();
        normalize32(&mut dividends);
        (dividends, ema_bonds)
    } else {
        let mut old_bonds = sparse::from_u16_rows(&input.bonds, n, from_u16);
        sparse::mask_by_col(
            &mut old_bonds,
            last_tempo,
            &input.block_at_registration,
            not_since_last_tempo,
        );
        sparse::col_normalize(&mut old_bonds, n);
        let mut delta = sparse::row_hadamard(&weights_for_bonds, &active_stake);
        sparse::col_normalize(&mut delta, n);
        let alpha = bonds::moving_average_alpha(input.bonds_moving_average);
        let mut ema_bonds = sparse::ema(&delta, &old_bonds, alpha, &mut scratch);
        sparse::col_normalize(&mut ema_bonds, n);
        let mut dividends = sparse::matmul_transpose(&ema_bonds, &incentive);
        normalize32(&mut dividends);
        sparse::col_max_upscale(&mut ema_bonds, n);
        (dividends, ema_bonds)
    };

    // == Emission ==
    let combined: Vec<I32F32> = incentive
        .iter()
        .zip(&dividends)
        .map(|(i, d)| i.saturating_add(*d))
        .collect();
    let emission_sum = wrapping_sum32(combined.iter());
    let mut server = incentive.clone();
    let mut validator = dividends.clone();
    let mut combined_norm = combined;
    normalize32_with_sum(&mut server, emission_sum);
    normalize32_with_sum(&mut validator, emission_sum);
    normalize32(&mut combined_norm);
    // No weights, outdated weights or only self-weights: emission follows stake instead.
    if emission_sum == ZERO {
        let fallback = if wrapping_sum32(active_stake.iter()) == ZERO {
            &stake
        } else {
            &active_stake
        };
        validator.clone_from(fallback);
        combined_norm.clone_from(fallback);
    }
    let rao = |shares: &[I32F32]| -> Vec<u64> {
        shares
            .iter()
            .map(|&x| share_of_rao(x, input.rao_emission))
            .collect()
    };

    debug_assert_eq!(stake.len(), nu);
    Ok(EpochTerms {
        server_emission: rao(&server),
        validator_emission: rao(&validator),
        combined_emission: rao(&combined_norm),
        stake,
        active_stake,
        active,
        new_permits,
        consensus,
        validator_trust,
        incentive,
        dividends,
        bonds: stored_bonds,
    })
}

/// Reduces the epoch's terms to the values storage keeps, for the uids present in `Keys`.
pub fn persisted(input: &EpochInput, terms: &EpochTerms) -> EpochOutput {
    let uids: Vec<usize> = input
        .hotkeys
        .iter()
        .enumerate()
        .filter_map(|(uid, hotkey)| hotkey.map(|_| uid))
        .collect();
    let u16s = |v: &[I32F32]| -> Vec<u16> {
        uids.iter()
            .map(|&u| v.get(u).copied().map(proportion_to_u16).unwrap_or(0))
            .collect()
    };
    let bools = |v: &[bool]| -> Vec<bool> {
        uids.iter()
            .map(|&u| v.get(u).copied().unwrap_or(false))
            .collect()
    };
    let raos = |v: &[u64]| -> Vec<u64> {
        uids.iter()
            .map(|&u| v.get(u).copied().unwrap_or(0))
            .collect()
    };
    let bonds = uids
        .iter()
        .map(|&u| {
            let row = if terms.new_permits.get(u).copied().unwrap_or(false) {
                terms
                    .bonds
                    .get(u)
                    .map(|r| r.iter().map(|&(j, v)| (j, proportion_to_u16(v))).collect())
                    .unwrap_or_default()
            } else {
                Vec::new()
            };
            (u as u16, row)
        })
        .collect();
    EpochOutput {
        incentive: u16s(&terms.incentive),
        dividends: u16s(&terms.dividends),
        consensus: u16s(&terms.consensus),
        validator_trust: u16s(&terms.validator_trust),
        stake_weight: u16s(&terms.stake),
        active: bools(&terms.active),
        validator_permit: bools(&terms.new_permits),
        emission: raos(&terms.combined_emission),
        server_emission: raos(&terms.server_emission),
        validator_emission: raos(&terms.validator_emission),
        server_emission_event: raos(&terms.server_emission),
        bonds,
    }
}

/// Stake (S): alpha + TAO · tao_weight per uid with a key, uids under the threshold zeroed
/// (never the owner), normalised in I64F64 and truncated to I32F32.
fn normalised_stake(input: &EpochInput) -> Vec<I32F32> {
    let tao_weight = I64F64::saturating_from_num(
        U96F32::saturating_from_num(input.tao_weight)
            .checked_div(U96F32::saturating_from_num(u64::MAX))
            .unwrap_or_default(),
    );
    let mut total: Vec<I64F64> = (0..usize::from(input.n))
        .map(|uid| {
            let has_key = input.hotkeys.get(uid).is_some_and(Option::is_some);
            if !has_key {
                return I64F64::from_bits(0);
            }
            let alpha =
                I64F64::saturating_from_num(input.alpha_stake.get(uid).copied().unwrap_or(0));
            let tao = I64F64::saturating_from_num(input.tao_stake.get(uid).copied().unwrap_or(0));
            let total = alpha.saturating_add(tao.saturating_mul(tao_weight));
            let is_owner = input.owner_uid.is_some_and(|o| usize::from(o) == uid);
            if !is_owner && total.saturating_to_num::<u64>() < input.stake_threshold {
                I64F64::from_bits(0)
            } else {
                total
            }
        })
        .collect();
    normalize64(&mut total);
    total.into_iter().map(I32F32::saturating_from_num).collect()
}

/// `is_topk_nonzero`: non-zero stakes, minus the n − k smallest (a stable ascending sort, so
/// among equal stakes the lower uid goes first). With fewer than k uids nobody is cut.
fn top_k_nonzero(stake: &[I32F32], k: usize) -> Vec<bool> {
    let mut result: Vec<bool> = stake.iter().map(|&s| s != ZERO).collect();
    let n = stake.len();
    if n < k {
        return result;
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&uid| stake.get(uid).copied().unwrap_or(ZERO));
    for &uid in order.iter().take(n - k) {
        if let Some(r) = result.get_mut(uid) {
            *r = false;
        }
    }
    result
}

/// `inplace_mask_vector`: zeroes entries whose mask is true or missing, except that an empty
/// mask masks nothing (the chain returns early on it).
fn mask_vector(mask: &[bool], vector: &mut [I32F32]) {
    if mask.is_empty() {
        return;
    }
    for (i, v) in vector.iter_mut().enumerate() {
        if mask.get(i).copied().unwrap_or(true) {
            *v = ZERO;
        }
    }
}

/// Commit-reveal: for each uid, the block of its earliest commit that has not expired
/// (`u64::MAX` when none). v2 commits take the first live entry of each account's queue;
/// timelocked commits take every entry of every live epoch.
fn earliest_live_commits(input: &EpochInput) -> Vec<u64> {
    let cr = &input.commit_reveal;
    let expired = |commit_epoch: u64| {
        cr.current_epoch_with_lookahead > commit_epoch.saturating_add(cr.reveal_period)
    };
    // Keys maps hotkey -> uid; vectors never repeat a hotkey (validated).
    let uids: std::collections::HashMap<u64, usize> = input
        .hotkeys
        .iter()
        .enumerate()
        .filter_map(|(uid, h)| h.map(|h| (h, uid)))
        .collect();
    let uid_of = |hotkey: u64| uids.get(&hotkey).copied();
    let mut blocks = vec![u64::MAX; usize::from(input.n)];
    let mut lower = |uid: Option<usize>, block: u64| {
        if let Some(cell) = uid.and_then(|u| blocks.get_mut(u)) {
            *cell = (*cell).min(block);
        }
    };
    for account in &cr.weight_commits {
        if let Some(&(_, commit_block, _)) = account
            .commits
            .iter()
            .find(|(epoch, _, _)| !expired(*epoch))
        {
            lower(uid_of(account.hotkey), commit_block);
        }
    }
    for epoch in cr
        .timelocked_commits
        .iter()
        .filter(|e| !expired(e.commit_epoch))
    {
        for &(hotkey, commit_block, _) in &epoch.entries {
            lower(uid_of(hotkey), commit_block);
        }
    }
    blocks
}
