//! The `yuma` command line: output shape, exit codes and one-line errors.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use std::path::PathBuf;
use std::process::{Command, Output};

fn yuma(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_yuma"))
        .args(args)
        .output()
        .expect("yuma runs")
}

fn vector(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn temp_file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("taoscope-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn one_line_error(out: &Output) -> String {
    assert_eq!(
        out.status.code(),
        Some(2),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn epoch_prints_the_expected_object_field_for_field() {
    let path = vector("yuma/002_pub_small_4uid_disagree_with_bonds.json");
    let out = yuma(&["epoch", &path, "--backend", "cpu"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(printed, file["expected"]);
    let keys: Vec<&str> = printed
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut schema_order = taoscope_consensus::EpochOutput::FIELDS.to_vec();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    schema_order.sort_unstable();
    assert_eq!(sorted, schema_order, "exactly the fields of `expected`");
}

#[test]
fn bench_reports_timing_as_json() {
    let out = yuma(&[
        "bench",
        &vector("yuma/001_pub_small_3uid_two_val_agree.json"),
        "--iters",
        "3",
    ]);
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["n"], 3);
    assert_eq!(report["iters"], 3);
    assert_eq!(report["batch"], 1);
    let run = &report["runs"][0];
    assert_eq!(run["backend"], "cpu");
    assert!(run["median_ms"].as_f64().unwrap() >= run["min_ms"].as_f64().unwrap());
}

#[test]
fn check_compares_with_the_chain() {
    let out = yuma(&[
        "check",
        &vector("yuma/000_pub_small_2uid_one_validator.json"),
        &vector("yuma/010_pub_edge_median_tie.json"),
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("matches the chain").count(), 2, "{text}");
}

#[test]
fn a_changed_expected_value_fails_the_check() {
    let text = std::fs::read_to_string(vector("yuma/002_pub_small_4uid_disagree_with_bonds.json"))
        .unwrap();
    let tampered = text.replacen(
        "\"incentive\":[0,10250,0,55284]",
        "\"incentive\":[0,10251,0,55284]",
        1,
    );
    assert_ne!(tampered, text, "fixture layout changed");
    let out = yuma(&["check", &temp_file("tampered.json", &tampered)]);
    assert_eq!(out.status.code(), Some(1));
    let report = String::from_utf8(out.stdout).unwrap();
    assert!(
        report.contains("incentive[uid 1]: chain 10251, recomputed 10250"),
        "{report}"
    );
}

#[test]
fn bad_input_is_one_line_naming_the_field_and_exit_2() {
    let text = std::fs::read_to_string(vector("yuma/002_pub_small_4uid_disagree_with_bonds.json"))
        .unwrap();
    let cases = [
        (
            "not json",
            "{ this is not json".to_string(),
            "key must be a string",
        ),
        (
            "wrong type",
            text.replacen("\"tempo\":360", "\"tempo\":\"360\"", 1),
            "input.tempo: invalid type",
        ),
        (
            "out of u16",
            text.replacen("\"kappa\":32767", "\"kappa\":70000", 1),
            "input.kappa:",
        ),
        (
            "short vector",
            text.replacen("\"alpha_stake\":[500000000000,", "\"alpha_stake\":[", 1),
            "input.alpha_stake: has 3 entries, expected n = 4",
        ),
        (
            "uid out of range",
            text.replacen(
                "[[0,[[3,65535],[1,20000]]]",
                "[[0,[[7,65535],[1,20000]]]",
                1,
            ),
            "uid 7 is out of range",
        ),
        (
            "missing field",
            text.replacen("\"kappa\":32767,", "", 1),
            "missing field `kappa`",
        ),
    ];
    for (what, body, needle) in cases {
        assert!(
            body != text || what == "not json",
            "{what}: fixture layout changed"
        );
        let err = one_line_error(&yuma(&["epoch", &temp_file("bad.json", &body)]));
        assert!(err.contains(needle), "{what}: {err}");
    }
    let err = one_line_error(&yuma(&["epoch", "/no/such/file.json"]));
    assert!(err.contains("cannot read"), "{err}");
    one_line_error(&yuma(&["epoch"]));
    one_line_error(&yuma(&["frobnicate", "x"]));
    let err = one_line_error(&yuma(&[
        "epoch",
        &vector("yuma/000_pub_small_2uid_one_validator.json"),
        "--backend",
        "tpu",
    ]));
    assert!(err.contains("expected cpu, gpu, auto or both"), "{err}");
}

#[test]
fn the_gpu_backend_prints_the_same_epoch() {
    let path = vector("yuma/013_pub_edge_yuma3_liquid_alpha.json");
    let cpu = yuma(&["epoch", &path, "--backend", "cpu"]);
    let gpu = yuma(&["epoch", &path, "--backend", "gpu"]);
    assert!(
        gpu.status.success(),
        "{}",
        String::from_utf8_lossy(&gpu.stderr)
    );
    assert_eq!(gpu.stdout, cpu.stdout);
    let bench = yuma(&["bench", &path, "--backend", "gpu", "--iters", "2"]);
    let report: serde_json::Value = serde_json::from_slice(&bench.stdout).unwrap();
    assert_eq!(report["runs"][0]["backend"], "gpu");
    assert!(report["runs"][0]["adapter"].as_str().unwrap().len() > 3);
    let auto = yuma(&["epoch", &path, "--backend", "auto"]);
    assert_eq!(auto.stdout, cpu.stdout);
}

#[test]
fn bench_both_times_a_batch_on_each_engine_and_checks_they_agree() {
    let path = vector("yuma-bench/bench_n256_y3la.json");
    let out = yuma(&[
        "bench",
        &path,
        "--backend",
        "both",
        "--batch",
        "8",
        "--iters",
        "2",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["batch"], 8);
    assert_eq!(report["agree"], true);
    assert!(report["gpu_speedup"].as_f64().unwrap() > 0.0);
    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs[0]["backend"], "cpu");
    assert_eq!(runs[1]["backend"], "gpu");
    // Eight epochs, one submission for their medians and one for their liquid alphas.
    assert_eq!(runs[1]["submissions_per_run"], 2);
}

#[test]
fn bench_options_are_checked() {
    let path = vector("yuma/000_pub_small_2uid_one_validator.json");
    let err = one_line_error(&yuma(&["bench", &path, "--batch", "0"]));
    assert!(
        err.contains("--batch: expected a positive number, got 0"),
        "{err}"
    );
    let err = one_line_error(&yuma(&["epoch", &path, "--backend", "both"]));
    assert!(err.contains("only `bench` runs both"), "{err}");
}

/// `yuma epoch` reads a `v103` file too (the schema selects) and prints that schema's
/// `expected` object; `check` checks it; the GPU backend says it has no spec-103 epoch.
#[test]
fn spec_103_files_are_run_and_checked_by_their_schema() {
    let path = vector("yuma-v103/public_19_bond_rows_retained.json");
    let out = yuma(&["epoch", &path]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(printed, file["expected"]);

    let out = yuma(&[
        "check",
        &path,
        &vector("yuma/001_pub_small_3uid_two_val_agree.json"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("matches the chain"));

    let err = one_line_error(&yuma(&["epoch", &path, "--backend", "gpu"]));
    assert!(err.contains("CPU engine only"), "{err}");
    let unknown = temp_file("v999.json", r#"{"schema": "yuma-epoch-vector/v999"}"#);
    let err = one_line_error(&yuma(&["epoch", &unknown]));
    assert!(err.contains("yuma-epoch-vector/v103"), "{err}");
    let mut broken: serde_json::Value = file.clone();
    broken["input"]["last_update"] = serde_json::json!([1]);
    let broken = temp_file("v103-short.json", &broken.to_string());
    let err = one_line_error(&yuma(&["epoch", &broken]));
    assert!(err.contains("last_update"), "{err}");
}
