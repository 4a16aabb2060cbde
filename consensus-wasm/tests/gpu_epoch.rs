//! The GPU backend against the chain: every golden and bench vector, field for field, and
//! hundreds of random epochs where GPU and CPU must agree on every value.
#![cfg(all(not(target_arch = "wasm32"), feature = "gpu"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use taoscope_consensus::compare_outputs;
mod common;

use taoscope_consensus::gpu::{GpuContext, GpuEngine};

fn engine() -> GpuEngine {
    let ctx = GpuContext::new_blocking().unwrap_or_else(|e| panic!("{e}"));
    eprintln!("GPU adapter: {}", ctx.describe());
    GpuEngine::new(ctx)
}

#[test]
fn the_gpu_backend_reproduces_every_vector() {
    let mut gpu = engine();
    let mut count = 0;
    let mut failures = Vec::new();
    for dir in ["yuma", "yuma-bench"] {
        let (read, failed) = common::check_vectors(dir, |input| {
            gpu.run_epoch(input).unwrap_or_else(|e| panic!("{e}"))
        });
        count += read;
        failures.extend(failed);
    }
    assert!(count >= 48, "read {count} vectors");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_kernels_cover_a_two_dimensional_grid() {
    // The sparse 1024-uid epochs have 1024 columns (16 workgroups) and up to 1776 liquid-alpha
    // cells (28 workgroups); at most 6 workgroups a row puts both kernels on a 2-D grid, where
    // they must find every item through item_index.
    let mut ctx = GpuContext::new_blocking().unwrap_or_else(|e| panic!("{e}"));
    ctx.max_workgroups_x = 6;
    let mut gpu = GpuEngine::new(ctx);
    let weight_entries = |input: &taoscope_consensus::EpochInput| {
        input.weights.iter().map(|(_, r)| r.len()).sum::<usize>()
    };
    let mut on_gpu = 0;
    let (count, failures) = common::check_vectors("yuma-bench", |input| {
        if input.n == 1024 && weight_entries(input) <= 1776 {
            on_gpu += 1;
            gpu.run_epoch(input).unwrap_or_else(|e| panic!("{e}"))
        } else {
            taoscope_consensus::run_epoch(input).unwrap_or_else(|e| panic!("{e}"))
        }
    });
    assert!(count > 0);
    assert_eq!(
        on_gpu, 2,
        "both sparse 1024-uid bench epochs ran on the GPU"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn gpu_and_cpu_agree_on_hundreds_of_random_epochs() {
    let mut gpu = engine();
    let mut disagreements = Vec::new();
    let mut liquid_cases = 0;
    for case in 0..300u64 {
        let seed = 0x6a09_e667_f3bc_c908 ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let n = match case % 10 {
            0 => 512,
            1..=3 => 100 + (case % 200) as u16,
            _ => 1 + (case % 48) as u16,
        };
        let mut input = common::random_epoch(seed, n, case % 3 == 0);
        // Bias toward the liquid-alpha path, which the GPU computes cell by cell.
        if case % 2 == 0 {
            input.yuma3_enabled = true;
            input.liquid_alpha_enabled = true;
        }
        liquid_cases += usize::from(input.yuma3_enabled && input.liquid_alpha_enabled);
        let cpu = taoscope_consensus::run_epoch(&input).unwrap();
        let on_gpu = gpu.run_epoch(&input).unwrap();
        let cmp = compare_outputs(&cpu, &on_gpu);
        if !cmp.is_exact() {
            disagreements.push(format!(
                "seed {seed:#x} n {n}: {} differ, first {}",
                cmp.mismatches.len(),
                cmp.mismatches[0]
            ));
        }
    }
    assert!(liquid_cases >= 150);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}
