//! fixed.wgsl against the chain's arithmetic, operation by operation, on a real GPU device
//! (Mesa's lavapipe when the machine has no GPU): zero, one ulp, one, the bounds, negatives,
//! overflows, the exp clamp edges, and random bits.
#![cfg(all(not(target_arch = "wasm32"), feature = "gpu"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use taoscope_consensus::fixed::I32F32;
use taoscope_consensus::gpu::GpuContext;
use taoscope_consensus::gpu::ops::{FixedOp, run_on_gpu};

fn edge_operands() -> Vec<i64> {
    let one = 1i64 << 32;
    let mut v = vec![
        0,
        1,
        -1,
        2,
        -2,
        one,
        -one,
        one + 1,
        one - 1,
        -one + 1,
        -one - 1,
        one / 2,
        -(one / 2),
        65_535 << 32,
        65_535,
        i64::MAX,
        i64::MIN,
        i64::MAX - 1,
        i64::MIN + 1,
        1 << 62,
        -(1 << 62),
        1 << 31,
        -(1 << 31),
        0xffff_ffff,
        -0xffff_ffff,
    ];
    for k in [3i64, 7, 20, 21, 22, 100, 1 << 20] {
        v.extend([
            k << 32,
            -(k << 32),
            (k << 32) + 1,
            (k << 32) - 1,
            -(k << 32) + 1,
        ]);
    }
    v
}

fn random_operands(count: usize, mut state: u64) -> Vec<i64> {
    (0..count)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Mix magnitudes: full range, around 1, and small.
            match i % 4 {
                0 => state as i64,
                1 => (state as i64) >> 24,
                2 => (state as i64) >> 30,
                _ => (state as i64) >> 44,
            }
        })
        .collect()
}

#[test]
fn the_wgsl_e_constant_is_the_librarys() {
    let e = I32F32::from(substrate_fixed::transcendental::E).to_bits();
    let wgsl = taoscope_consensus::gpu::FIXED_WGSL;
    let expected = format!("const FX_E: I64 = I64(0x{:08x}u, {}u);", e as u32, e >> 32);
    assert!(
        wgsl.contains(&expected),
        "fixed.wgsl must declare {expected}"
    );
}

#[test]
fn every_fixed_point_operation_matches_the_chain_on_the_gpu() {
    let ctx = GpuContext::new_blocking().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("GPU adapter: {}", ctx.describe());
    let edges = edge_operands();
    let random = random_operands(3000, 0x9e37_79b9_7f4a_7c15);
    let mut cases = Vec::new();
    for op in FixedOp::ALL {
        for &a in &edges {
            for &b in &edges {
                cases.push((op, a, b));
            }
        }
        for pair in random.chunks_exact(2) {
            cases.push((op, pair[0], pair[1]));
        }
    }
    // exp over its whole useful range, every 2^-8.
    let mut x = -24i64 << 32;
    while x <= 24i64 << 32 {
        cases.push((FixedOp::Exp, x, 0));
        cases.push((FixedOp::ExpSafe, x, 0));
        x += 1 << 24;
    }
    let gpu = pollster::block_on(run_on_gpu(&ctx, &cases)).unwrap();
    assert_eq!(gpu.len(), cases.len());
    let mut wrong = Vec::new();
    for (&(op, a, b), &got) in cases.iter().zip(&gpu) {
        let want = op.on_cpu(a, b);
        // A failed checked op has no value; only the failure must agree.
        let same = if want.1 { got == want } else { !got.1 };
        if !same {
            wrong.push(format!("{op:?}({a}, {b}): chain {want:?}, gpu {got:?}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} cases differ:\n{}",
        wrong.len(),
        cases.len(),
        wrong
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_two_dimensional_grid_reaches_every_item() {
    let mut ctx = GpuContext::new_blocking().unwrap_or_else(|e| panic!("{e}"));
    // 3 000 items in workgroups of 64 are 47 workgroups; at most 7 a row makes a 7 × 7 grid.
    ctx.max_workgroups_x = 7;
    let random = random_operands(6000, 0x3c6e_f372_fe94_f82b);
    let cases: Vec<(FixedOp, i64, i64)> = random
        .chunks_exact(2)
        .enumerate()
        .map(|(i, pair)| (FixedOp::ALL[i % FixedOp::ALL.len()], pair[0], pair[1]))
        .collect();
    let gpu = pollster::block_on(run_on_gpu(&ctx, &cases)).unwrap();
    for (&(op, a, b), &got) in cases.iter().zip(&gpu) {
        let want = op.on_cpu(a, b);
        let same = if want.1 { got == want } else { !got.1 };
        assert!(same, "{op:?}({a}, {b}): chain {want:?}, gpu {got:?}");
    }
}
