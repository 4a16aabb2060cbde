// Liquid alpha: the chain's per-cell EMA factor, a sigmoid (one fixed-point exp) of how far a
// validator's weight sits from consensus. One invocation per cell, for the cells of many epochs
// at once; each cell names its epoch's parameters. Composed after fixed.wgsl.

struct AlphaParams {
    cells: u32,
}

// One epoch's liquid-alpha parameters (the host's `LiquidAlpha`).
struct AlphaEpoch {
    low: I64,
    high: I64,
    slope: I64,
}

struct Cell {
    consensus: I64,
    weight: I64,
    bond: I64,
}

@group(0) @binding(0) var<uniform> params: AlphaParams;
@group(0) @binding(1) var<storage, read> epochs: array<AlphaEpoch>;
@group(0) @binding(2) var<storage, read> cells: array<Cell>;
@group(0) @binding(3) var<storage, read> cell_epoch: array<u32>;
@group(0) @binding(4) var<storage, read_write> alphas: array<I64>;

// `clamp_value`: min with high first, then max with low.
fn clamp_value(v: I64, low: I64, high: I64) -> I64 {
    return i64_max(i64_min(v, high), low);
}

fn alpha_sigmoid(c: Cell, p: AlphaEpoch) -> I64 {
    let half = I64(0x80000000u, 0u);
    let diff_buy = clamp_value(fx_sat_sub(c.weight, c.consensus), FX_ZERO, FX_ONE);
    let diff_sell = clamp_value(fx_sat_sub(c.bond, c.weight), FX_ZERO, FX_ONE);
    let combined = select(diff_sell, diff_buy, !i64_lt(c.weight, c.bond));
    let e = fx_exp_safe(fx_sat_mul(p.slope, fx_sat_sub(combined, half)));
    let sigmoid = fx_sat_div(FX_ONE, fx_sat_add(FX_ONE, e));
    let alpha = fx_sat_add(p.low, fx_sat_mul(sigmoid, fx_sat_sub(p.high, p.low)));
    return clamp_value(alpha, p.low, p.high);
}

@compute @workgroup_size(64)
fn liquid_alpha(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item_index(id, groups);
    if i >= params.cells {
        return;
    }
    alphas[i] = alpha_sigmoid(cells[i], epochs[cell_epoch[i]]);
}
