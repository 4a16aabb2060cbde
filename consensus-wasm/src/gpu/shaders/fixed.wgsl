// The chain's I32F32 fixed-point arithmetic on 32-bit words, bit-exact.
//
// WGSL has no 64-bit integers, and floats would round differently from the chain (and from one
// GPU to the next). So every I32F32 value is its raw i64 as two u32 words, vec2(lo, hi), in two's
// complement, and every operation reproduces substrate-fixed's: the double-width product floored
// at 2^-32, division truncating toward zero, saturation or a failure flag on overflow, and the
// series `exp` step by step (see `exp_series` in src/epoch/bonds.rs, its CPU twin).
//
// This file holds functions only; kernels are composed as this file followed by theirs.

alias I64 = vec2<u32>;

const FX_ZERO: I64 = I64(0u, 0u);
const FX_ONE: I64 = I64(0u, 1u);
const FX_MAX: I64 = I64(0xffffffffu, 0x7fffffffu);
const FX_MIN: I64 = I64(0u, 0x80000000u);
// substrate-fixed's exp(1): its 23-bit constant e, widened to I32F32 (checked by a Rust test).
const FX_E: I64 = I64(0xb7e15000u, 2u);

// A result with substrate-fixed's `checked_*` meaning: `ok` is false where it returns None.
struct Checked {
    value: I64,
    ok: bool,
}

fn i64_is_neg(a: I64) -> bool {
    return (a.y & 0x80000000u) != 0u;
}

fn i64_eq(a: I64, b: I64) -> bool {
    return a.x == b.x && a.y == b.y;
}

// Signed a < b.
fn i64_lt(a: I64, b: I64) -> bool {
    let ah = bitcast<i32>(a.y);
    let bh = bitcast<i32>(b.y);
    if ah != bh {
        return ah < bh;
    }
    return a.x < b.x;
}

fn i64_min(a: I64, b: I64) -> I64 {
    return select(a, b, i64_lt(b, a));
}

fn i64_max(a: I64, b: I64) -> I64 {
    return select(a, b, i64_lt(a, b));
}

// Wrapping a + b (the runtime's release-build `+`, as in `iter().sum()`).
fn i64_add(a: I64, b: I64) -> I64 {
    let lo = a.x + b.x;
    let carry = select(0u, 1u, lo < a.x);
    return I64(lo, a.y + b.y + carry);
}

fn i64_neg(a: I64) -> I64 {
    return i64_add(I64(~a.x, ~a.y), I64(1u, 0u));
}

fn i64_sub(a: I64, b: I64) -> I64 {
    return i64_add(a, i64_neg(b));
}

fn fx_checked_add(a: I64, b: I64) -> Checked {
    let s = i64_add(a, b);
    let overflow = i64_is_neg(a) == i64_is_neg(b) && i64_is_neg(s) != i64_is_neg(a);
    return Checked(s, !overflow);
}

fn fx_sat_add(a: I64, b: I64) -> I64 {
    let c = fx_checked_add(a, b);
    if c.ok {
        return c.value;
    }
    return select(FX_MAX, FX_MIN, i64_is_neg(a));
}

fn fx_sat_sub(a: I64, b: I64) -> I64 {
    let s = i64_sub(a, b);
    let overflow = i64_is_neg(a) != i64_is_neg(b) && i64_is_neg(s) != i64_is_neg(a);
    if overflow {
        return select(FX_MAX, FX_MIN, i64_is_neg(a));
    }
    return s;
}

// Unsigned 32 x 32 -> 64 from 16-bit halves.
fn mul_u32_wide(a: u32, b: u32) -> I64 {
    let a0 = a & 0xffffu;
    let a1 = a >> 16u;
    let b0 = b & 0xffffu;
    let b1 = b >> 16u;
    let p00 = a0 * b0;
    let p01 = a0 * b1;
    let p10 = a1 * b0;
    let p11 = a1 * b1;
    let mid = p01 + p10;
    let mid_carry = select(0u, 1u, mid < p01); // worth 2^48
    let lo = p00 + (mid << 16u);
    let lo_carry = select(0u, 1u, lo < p00);
    let hi = p11 + (mid >> 16u) + (mid_carry << 16u) + lo_carry;
    return I64(lo, hi);
}

// Unsigned 64 x 64 -> 128, little-endian words.
fn mul_u64_wide(a: I64, b: I64) -> vec4<u32> {
    let ll = mul_u32_wide(a.x, b.x);
    let lh = mul_u32_wide(a.x, b.y);
    let hl = mul_u32_wide(a.y, b.x);
    let hh = mul_u32_wide(a.y, b.y);
    var w1 = ll.y;
    var c1 = 0u;
    w1 = w1 + lh.x;
    c1 = c1 + select(0u, 1u, w1 < lh.x);
    w1 = w1 + hl.x;
    c1 = c1 + select(0u, 1u, w1 < hl.x);
    var w2 = c1;
    var c2 = 0u;
    w2 = w2 + lh.y;
    c2 = c2 + select(0u, 1u, w2 < lh.y);
    w2 = w2 + hl.y;
    c2 = c2 + select(0u, 1u, w2 < hl.y);
    w2 = w2 + hh.x;
    c2 = c2 + select(0u, 1u, w2 < hh.x);
    return vec4<u32>(ll.x, w1, w2, hh.y + c2);
}

// `checked_mul`: the exact signed product, floored at 2^-32 (an arithmetic shift), if it fits.
fn fx_mul(a: I64, b: I64) -> Checked {
    let p = mul_u64_wide(a, b);
    // Two's-complement correction of the unsigned product of the bit patterns.
    var upper = I64(p.z, p.w);
    if i64_is_neg(a) {
        upper = i64_sub(upper, b);
    }
    if i64_is_neg(b) {
        upper = i64_sub(upper, a);
    }
    // The result is bits 32..95; it fits when bits 95..127 are all equal.
    let value = I64(p.y, upper.x);
    let sign_fill = select(0u, 0xffffffffu, (upper.x & 0x80000000u) != 0u);
    return Checked(value, upper.y == sign_fill);
}

fn fx_sat_mul(a: I64, b: I64) -> I64 {
    let m = fx_mul(a, b);
    if m.ok {
        return m.value;
    }
    return select(FX_MAX, FX_MIN, i64_is_neg(a) != i64_is_neg(b));
}

fn u64_abs(a: I64) -> I64 {
    return select(a, i64_neg(a), i64_is_neg(a));
}

fn u64_ge(a: I64, b: I64) -> bool {
    if a.y != b.y {
        return a.y > b.y;
    }
    return a.x >= b.x;
}

// `checked_div`: (a << 32) / b truncated toward zero, if b != 0 and the quotient fits.
fn fx_div(a: I64, b: I64) -> Checked {
    if i64_eq(b, FX_ZERO) {
        return Checked(FX_ZERO, false);
    }
    let negative = i64_is_neg(a) != i64_is_neg(b);
    let d = u64_abs(b);
    let m = u64_abs(a);
    // Long division of the 96-bit |a| << 32 = (m.y, m.x, 0) by the 64-bit d, one bit at a time.
    // The remainder needs 65 bits between shift and subtract: `top` is its 65th bit.
    let numerator = vec3<u32>(0u, m.x, m.y);
    var r = FX_ZERO;
    var q = vec3<u32>(0u, 0u, 0u);
    for (var bit = 95i; bit >= 0; bit = bit - 1) {
        let word = u32(bit) / 32u;
        let shift = u32(bit) % 32u;
        let incoming = (numerator[word] >> shift) & 1u;
        let top = r.y >> 31u;
        r = I64((r.x << 1u) | incoming, (r.y << 1u) | (r.x >> 31u));
        if top == 1u || u64_ge(r, d) {
            r = i64_sub(r, d);
            q[word] = q[word] | (1u << shift);
        }
    }
    if q.z != 0u {
        return Checked(FX_ZERO, false);
    }
    let magnitude = I64(q.x, q.y);
    if negative {
        // Down to -2^63 fits.
        let fits = (magnitude.y & 0x80000000u) == 0u || i64_eq(magnitude, FX_MIN);
        return Checked(i64_neg(magnitude), fits);
    }
    return Checked(magnitude, (magnitude.y & 0x80000000u) == 0u);
}

// `safe_div`: zero on a zero divisor or an overflowing quotient.
fn fx_safe_div(a: I64, b: I64) -> I64 {
    let c = fx_div(a, b);
    return select(FX_ZERO, c.value, c.ok);
}

// `saturating_div`: the quotient, or the bound of its sign on overflow (b must not be 0).
fn fx_sat_div(a: I64, b: I64) -> I64 {
    let c = fx_div(a, b);
    if c.ok {
        return c.value;
    }
    return select(FX_MAX, FX_MIN, i64_is_neg(a) != i64_is_neg(b));
}

// A non-negative raw i64 divided by a small integer, truncating: the series' `term / i`.
fn u64_div_small(a: I64, d: u32) -> I64 {
    let q_hi = a.y / d;
    var r = a.y % d;
    var q_lo = 0u;
    for (var bit = 31i; bit >= 0; bit = bit - 1) {
        let top = r >> 31u;
        r = (r << 1u) | ((a.x >> u32(bit)) & 1u);
        if top == 1u || r >= d {
            r = r - d;
            q_lo = q_lo | (1u << u32(bit));
        }
    }
    return I64(q_lo, q_hi);
}

// substrate-fixed's `exp::<I32F32, I32F32>`: 1 + x + sum of 30 terms, each term the previous
// times x (floored) divided by i (truncated); a negative x is negated and the sum inverted.
fn fx_exp(x: I64) -> Checked {
    if i64_eq(x, FX_ZERO) {
        return Checked(FX_ONE, true);
    }
    if i64_eq(x, FX_ONE) {
        return Checked(FX_E, true);
    }
    let negative = i64_is_neg(x);
    var operand = x;
    if negative {
        if i64_eq(x, FX_MIN) {
            return Checked(FX_ZERO, false);
        }
        operand = i64_neg(x);
    }
    let first = fx_checked_add(operand, FX_ONE);
    if !first.ok {
        return first;
    }
    var result = first.value;
    var term = operand;
    for (var i = 2u; i < 32u; i = i + 1u) {
        let product = fx_mul(term, operand);
        if !product.ok {
            return product;
        }
        term = u64_div_small(product.value, i);
        let sum = fx_checked_add(result, term);
        if !sum.ok {
            return sum;
        }
        result = sum.value;
    }
    if negative {
        return fx_div(FX_ONE, result);
    }
    return Checked(result, true);
}

// The chain's `exp_safe`: input clamped to [-20, 20]; on failure 0 for x <= 0, else the maximum.
fn fx_exp_safe(x: I64) -> I64 {
    let limit = I64(0u, 20u);
    let neg_limit = i64_neg(limit);
    var clamped = x;
    if i64_lt(clamped, neg_limit) {
        clamped = neg_limit;
    } else if i64_lt(limit, clamped) {
        clamped = limit;
    }
    let e = fx_exp(clamped);
    if e.ok {
        return e.value;
    }
    return select(FX_MAX, FX_ZERO, !i64_lt(FX_ZERO, clamped));
}

// The item an invocation handles: workgroups of 64 fill x first and wrap into y past the
// device's per-dimension limit (GpuContext::run). Kernels skip indices past their item count.
fn item_index(id: vec3<u32>, groups: vec3<u32>) -> u32 {
    return id.x + id.y * groups.x * 64u;
}

// ⌊x · 65535⌋ clamped to u16: how every per-uid proportion is persisted.
fn fx_proportion_to_u16(x: I64) -> u32 {
    let scaled = fx_sat_mul(x, I64(0u, 65535u));
    if i64_is_neg(scaled) {
        return 0u;
    }
    return min(scaled.y, 65535u);
}
