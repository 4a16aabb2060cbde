//! Criterion benchmarks of the CPU engine on the chain-timed bench vectors.
//!
//! The chain's own code takes (one core of this machine, `shared/vectors/yuma-bench/README.md`):
//! n256 y2 0.37 ms, n1024 y2 5.6 ms, n4096 y2 49 ms, n256 y3la 41 ms, n1024 y3la 650 ms,
//! n4096 y3la 10 785 ms. Divide those by the times printed here for the speed-up.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;
use taoscope_consensus::{EpochInput, VectorFile, run_epoch};

fn load(name: &str) -> EpochInput {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors/yuma-bench")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    VectorFile::from_json(&text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .input
}

fn epochs(c: &mut Criterion) {
    let mut group = c.benchmark_group("epoch_cpu");
    group.sample_size(10);
    for name in [
        "bench_n256_y2",
        "bench_n1024_y2",
        "bench_n4096_y2",
        "bench_n256_y3la",
        "bench_n1024_y3la",
        "bench_n4096_y3la",
        "dense_n256_v64_base",
        "dense_n1024_v64_yuma3_liquid",
    ] {
        let input = load(&format!("{name}.json"));
        group.bench_function(name, |b| b.iter(|| run_epoch(std::hint::black_box(&input))));
    }
    group.finish();
}

criterion_group!(benches, epochs);
criterion_main!(benches);
