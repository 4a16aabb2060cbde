// Consensus: the chain's stake-weighted median of each column, one invocation per column, for
// the columns of many epochs at once (a batch: every subnet of a block, or what-if variations).
//
// The chain runs a quickselect whose partitions are lists of validators. Each partition is, in
// fact, every validator whose score lies strictly between two earlier pivots, kept in validator
// order: so instead of lists we keep the two bounds and rescan the column. The pivot is the
// middle element of that ordered set, elements equal to it are dropped, and the side is chosen by
// the chain's exact comparisons on saturating stake sums, so the same pivot wins every time.
//
// Columns are compressed: validators without an entry score 0 (the "implicit zeros"), counted
// and weighed in bulk. Each column names its epoch, whose validators' stakes sit at
// `stake_offset` in the shared stake array. Composed after fixed.wgsl.

struct MedianParams {
    columns: u32,
}

// One epoch of the batch (the host's `MedianInput` header).
struct MedianEpoch {
    stake_offset: u32,
    validators: u32,
    minority: I64,
    stake_sum: I64,
}

@group(0) @binding(0) var<uniform> params: MedianParams;
@group(0) @binding(1) var<storage, read> epochs: array<MedianEpoch>;
@group(0) @binding(2) var<storage, read> stake: array<I64>;
@group(0) @binding(3) var<storage, read> col_epoch: array<u32>;
@group(0) @binding(4) var<storage, read> col_start: array<u32>;
@group(0) @binding(5) var<storage, read> entry_k: array<u32>;
@group(0) @binding(6) var<storage, read> entry_score: array<I64>;
@group(0) @binding(7) var<storage, read_write> consensus: array<I64>;

struct Bounds {
    has_lo: bool,
    lo: I64,
    has_hi: bool,
    hi: I64,
}

fn inside(b: Bounds, s: I64) -> bool {
    return (!b.has_lo || i64_lt(b.lo, s)) && (!b.has_hi || i64_lt(s, b.hi));
}

fn column_median(j: u32) -> I64 {
    let epoch = epochs[col_epoch[j]];
    let stake_offset = epoch.stake_offset;
    let start = col_start[j];
    let end = col_start[j + 1u];
    // No entry, or only zeros: the pivot is 0 and equals everything, so the chain returns 0.
    var any_nonzero = false;
    var entry_stake = FX_ZERO;
    for (var e = start; e < end; e = e + 1u) {
        any_nonzero = any_nonzero || !i64_eq(entry_score[e], FX_ZERO);
        entry_stake = i64_add(entry_stake, stake[stake_offset + entry_k[e]]);
    }
    if !any_nonzero {
        return FX_ZERO;
    }
    let implicit_count = epoch.validators - (end - start);
    let implicit_stake = i64_sub(epoch.stake_sum, entry_stake);

    var bounds = Bounds(false, FX_ZERO, false, FX_ZERO);
    var part_lo = FX_ZERO;
    var part_hi = epoch.stake_sum;
    for (var iteration = 0u; iteration <= epoch.validators; iteration = iteration + 1u) {
        let zeros_in = inside(bounds, FX_ZERO);
        var len = select(0u, implicit_count, zeros_in);
        for (var e = start; e < end; e = e + 1u) {
            len = len + select(0u, 1u, inside(bounds, entry_score[e]));
        }
        if len == 0u {
            return FX_ZERO;
        }
        // The pivot: the element at position len / 2 of the partition, in validator order.
        var position = len / 2u;
        var pivot = FX_ZERO;
        var found = false;
        var next_k = 0u;
        for (var e = start; e < end && !found; e = e + 1u) {
            let gap = entry_k[e] - next_k;
            if zeros_in {
                if position < gap {
                    found = true;
                    break;
                }
                position = position - gap;
            }
            if inside(bounds, entry_score[e]) {
                if position == 0u {
                    pivot = entry_score[e];
                    found = true;
                    break;
                }
                position = position - 1u;
            }
            next_k = entry_k[e] + 1u;
        }
        // Not found among the entries: it is one of the trailing implicit zeros (pivot 0).

        var lo_stake = FX_ZERO;
        var hi_stake = FX_ZERO;
        var lo_count = 0u;
        var hi_count = 0u;
        if zeros_in && implicit_count > 0u {
            if i64_lt(FX_ZERO, pivot) {
                lo_stake = fx_sat_add(lo_stake, implicit_stake);
                lo_count = lo_count + implicit_count;
            } else if i64_lt(pivot, FX_ZERO) {
                hi_stake = fx_sat_add(hi_stake, implicit_stake);
                hi_count = hi_count + implicit_count;
            }
        }
        for (var e = start; e < end; e = e + 1u) {
            let s = entry_score[e];
            if !inside(bounds, s) {
                continue;
            }
            if i64_lt(s, pivot) {
                lo_stake = fx_sat_add(lo_stake, stake[stake_offset + entry_k[e]]);
                lo_count = lo_count + 1u;
            } else if i64_lt(pivot, s) {
                hi_stake = fx_sat_add(hi_stake, stake[stake_offset + entry_k[e]]);
                hi_count = hi_count + 1u;
            }
        }
        if i64_lt(epoch.minority, fx_sat_add(part_lo, lo_stake)) && lo_count > 0u {
            bounds.has_hi = true;
            bounds.hi = pivot;
            part_hi = fx_sat_add(part_lo, lo_stake);
        } else if !i64_lt(epoch.minority, fx_sat_sub(part_hi, hi_stake)) && hi_count > 0u {
            bounds.has_lo = true;
            bounds.lo = pivot;
            part_lo = fx_sat_sub(part_hi, hi_stake);
        } else {
            return pivot;
        }
    }
    return FX_ZERO;
}

@compute @workgroup_size(64)
fn weighted_median(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let j = item_index(id, groups);
    if j >= params.columns {
        return;
    }
    consensus[j] = column_median(j);
}
