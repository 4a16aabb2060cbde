// Test kernel: applies one fixed-point operation per case, so that every function of fixed.wgsl
// can be compared with the CPU (substrate-fixed) on the same operands. Composed after fixed.wgsl.

struct OpCase {
    op: u32,
    a: I64,
    b: I64,
}

struct OpResult {
    value: I64,
    ok: u32,
}

@group(0) @binding(0) var<storage, read> cases: array<OpCase>;
@group(0) @binding(1) var<storage, read_write> results: array<OpResult>;

@compute @workgroup_size(64)
fn run_ops(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = item_index(id, groups);
    if i >= arrayLength(&cases) {
        return;
    }
    let c = cases[i];
    var out = Checked(FX_ZERO, true);
    switch c.op {
        case 0u: { out = Checked(i64_add(c.a, c.b), true); }
        case 1u: { out = fx_checked_add(c.a, c.b); }
        case 2u: { out = Checked(fx_sat_add(c.a, c.b), true); }
        case 3u: { out = Checked(fx_sat_sub(c.a, c.b), true); }
        case 4u: { out = fx_mul(c.a, c.b); }
        case 5u: { out = Checked(fx_sat_mul(c.a, c.b), true); }
        case 6u: { out = fx_div(c.a, c.b); }
        case 7u: { out = Checked(fx_safe_div(c.a, c.b), true); }
        case 8u: { out = fx_exp(c.a); }
        case 9u: { out = Checked(fx_exp_safe(c.a), true); }
        case 10u: { out = Checked(I64(fx_proportion_to_u16(c.a), 0u), true); }
        case 11u: { out = Checked(I64(select(0u, 1u, i64_lt(c.a, c.b)), 0u), true); }
        default: { out = Checked(FX_ZERO, false); }
    }
    results[i] = OpResult(out.value, select(0u, 1u, out.ok));
}
