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

/// Every golden and bench vector, as pairs (name, vector).
fn all_vectors() -> Vec<(String, taoscope_consensus::VectorFile)> {
    let mut vectors = common::load_vectors("yuma");
    vectors.extend(common::load_vectors("yuma-bench"));
    vectors
}

fn check_batch(gpu: &mut GpuEngine, vectors: &[(String, taoscope_consensus::VectorFile)]) {
    let inputs: Vec<_> = vectors.iter().map(|(_, v)| v.input.clone()).collect();
    let outputs = gpu.run_batch(&inputs).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outputs.len(), vectors.len());
    let failures: Vec<String> = vectors
        .iter()
        .zip(outputs)
        .filter_map(|((name, vector), output)| {
            let output = output.unwrap_or_else(|e| panic!("{name}: {e}"));
            common::mismatch_report(name, vector, &output)
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn one_batch_of_every_vector_takes_two_submissions_and_matches_the_chain() {
    let mut gpu = engine();
    let vectors = all_vectors();
    assert!(vectors.len() >= 48);
    check_batch(&mut gpu, &vectors);
    // Consensus of every epoch in one submission, liquid alpha of every epoch in another.
    assert_eq!(gpu.submissions(), 2);
}

#[test]
fn small_chunks_split_batches_and_epochs_without_changing_a_value() {
    // 3 KiB a submission: a 1024-uid epoch's columns spread over many chunks, each repeating
    // its epoch's stakes, and cells of one epoch land in several chunks.
    let mut gpu = engine();
    gpu.chunk_bytes = 3 << 10;
    let vectors: Vec<_> = all_vectors()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("bench_n4096") && !name.starts_with("dense_n1024"))
        .collect();
    check_batch(&mut gpu, &vectors);
    assert!(gpu.submissions() > 100, "{} submissions", gpu.submissions());
}

#[test]
fn a_batch_of_128_subnets_of_4096_uids_stays_within_the_memory_budget() {
    // The bound: batches up to 128 subnets, n up to 4096. With a 4 MiB budget (so that
    // this sparse bench epoch needs many chunks), no submission may bind more than the budget
    // plus its fixed padding, and every epoch must still match the chain.
    let (name, vector) = common::load_vectors("yuma-bench")
        .into_iter()
        .find(|(name, _)| name == "bench_n4096_y3la.json")
        .unwrap();
    let mut gpu = engine();
    let budget = 4usize << 20;
    gpu.chunk_bytes = budget;
    let inputs = vec![vector.input.clone(); 128];
    let outputs = gpu.run_batch(&inputs).unwrap_or_else(|e| panic!("{e}"));
    for output in outputs {
        let output = output.unwrap();
        assert_eq!(common::mismatch_report(&name, &vector, &output), None);
    }
    let peak = gpu.peak_submission_bytes();
    eprintln!(
        "128 × n=4096: {} submissions, peak {peak} bytes",
        gpu.submissions()
    );
    // Each buffer is padded to at most one 16-byte row; eight buffers at most.
    assert!(
        peak <= budget as u64 + 8 * 16,
        "peak {peak} > budget {budget}"
    );
    assert!(gpu.submissions() > 4);
}

#[test]
fn a_batch_reports_bad_inputs_one_by_one() {
    let mut gpu = engine();
    let mut bad = common::random_epoch(7, 16, false);
    bad.stake_threshold = 0;
    bad.alpha_stake.pop();
    let good = common::random_epoch(8, 16, true);
    let outputs = gpu
        .run_batch(&[good.clone(), bad, good.clone()])
        .unwrap_or_else(|e| panic!("{e}"));
    let cpu = taoscope_consensus::run_epoch(&good).unwrap();
    assert!(matches!(&outputs[0], Ok(o) if compare_outputs(&cpu, o).is_exact()));
    let message = outputs[1].as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(message.contains("alpha_stake"), "{message}");
    assert!(matches!(&outputs[2], Ok(o) if compare_outputs(&cpu, o).is_exact()));
    assert!(gpu.run_batch(&[]).unwrap().is_empty());
}

#[test]
fn random_batches_agree_with_the_cpu_on_every_field() {
    let mut gpu = engine();
    gpu.chunk_bytes = 256 << 10;
    let mut disagreements = Vec::new();
    let mut epochs = 0;
    for batch in 0..8u64 {
        let inputs: Vec<_> = (0..24u64)
            .map(|i| {
                let case = batch * 24 + i;
                let seed = 0xbb67_ae85_84ca_a73b ^ case.wrapping_mul(0x9e37_79b9_7f4a_7c15);
                let n = 1 + (case * 37 % 300) as u16;
                let mut input = common::random_epoch(seed, n, case % 3 == 0);
                if case % 2 == 0 {
                    input.yuma3_enabled = true;
                    input.liquid_alpha_enabled = true;
                }
                input
            })
            .collect();
        let outputs = gpu.run_batch(&inputs).unwrap_or_else(|e| panic!("{e}"));
        for (input, output) in inputs.iter().zip(outputs) {
            epochs += 1;
            let cpu = taoscope_consensus::run_epoch(input).unwrap();
            let cmp = compare_outputs(&cpu, &output.unwrap());
            if !cmp.is_exact() {
                disagreements.push(format!(
                    "batch {batch} n {}: {}",
                    input.n, cmp.mismatches[0]
                ));
            }
        }
    }
    assert_eq!(epochs, 192);
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn a_lost_device_gives_an_error_not_a_hang_or_a_value() {
    let mut gpu = engine();
    let input = common::random_epoch(11, 64, true);
    assert!(gpu.run_epoch(&input).is_ok());
    gpu.context().device.destroy();
    let started = std::time::Instant::now();
    let error = gpu.run_epoch(&input).map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("GPU"), "{error}");
    eprintln!("after device loss ({:?}): {error}", started.elapsed());
}

/// The GPU engine, with its device destroyed between the consensus and liquid-alpha rounds.
struct LoseDeviceMidRun(GpuEngine);

impl taoscope_consensus::gpu::batch::Submit for LoseDeviceMidRun {
    async fn medians(
        &mut self,
        requests: &[taoscope_consensus::gpu::batch::MedianRequest],
    ) -> Result<Vec<Vec<taoscope_consensus::fixed::I32F32>>, taoscope_consensus::gpu::GpuError>
    {
        let answers = self.0.medians(requests).await;
        self.0.context().device.destroy();
        answers
    }

    async fn alphas(
        &mut self,
        requests: &[taoscope_consensus::gpu::batch::AlphaRequest],
    ) -> Result<Vec<Vec<taoscope_consensus::fixed::I32F32>>, taoscope_consensus::gpu::GpuError>
    {
        self.0.alphas(requests).await
    }
}

#[test]
fn a_device_lost_between_stages_fails_the_batch() {
    let mut input = common::random_epoch(12, 128, true);
    input.yuma3_enabled = true;
    input.liquid_alpha_enabled = true;
    let inputs = [&input, &input];
    let mut submit = LoseDeviceMidRun(engine());
    let result = pollster::block_on(taoscope_consensus::gpu::batch::run_batch(
        &inputs,
        &mut submit,
    ));
    let error = result.map(|_| ()).unwrap_err().to_string();
    assert!(error.contains("destroyed"), "{error}");
}

/// Every spec-103 golden vector, in one batch: the consensus of all of them in one submission,
/// and every field as the chain wrote it (the audit of a spec-103 chain runs this on WebGPU).
#[test]
fn one_batch_of_every_v103_vector_takes_one_submission_and_matches_the_chain() {
    use taoscope_consensus::v103::EpochInputV103;
    let vectors = common::load_v103_vectors();
    assert!(vectors.len() >= 30, "{} vectors", vectors.len());
    let inputs: Vec<EpochInputV103> = vectors.iter().map(|(_, v)| v.input.clone()).collect();
    let mut gpu = engine();
    let started = std::time::Instant::now();
    let outputs = gpu
        .run_batch_v103(&inputs)
        .unwrap_or_else(|e| panic!("{e}"));
    let on_gpu = started.elapsed();
    assert_eq!(gpu.submissions(), 1);
    let started = std::time::Instant::now();
    for input in &inputs {
        taoscope_consensus::v103::run_epoch(input).unwrap();
    }
    eprintln!(
        "{} spec-103 epochs: one GPU batch {on_gpu:?}, CPU one by one {:?}",
        inputs.len(),
        started.elapsed()
    );
    for ((name, vector), output) in vectors.iter().zip(outputs) {
        let output = output.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(Some(&output), vector.expected.as_ref(), "{name}");
    }
}
