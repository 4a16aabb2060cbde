//! `taoscope audit` against a live localnet with the three demo subnets (subnet 1 at 256 uids and
//! 64 validators), over verified RPC from the
//! shipped checkpoint: every value of the last epochs matches (exit 0, the JSON report), an input
//! changed on purpose shows each differing value with its uid and both numbers (exit 1), a saved
//! report verifies against the chain and a tampered one does not, and errors are words (exit 2).
//!
//! The localnet binary is the workspace's (`cargo test --workspace` builds it beside this one).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};

struct Localnet {
    child: Child,
    dir: PathBuf,
    rpc: String,
}

impl Localnet {
    fn start() -> Self {
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_taoscope")).with_file_name("taoscope-localnet");
        assert!(
            bin.exists(),
            "{} is missing: build it with cargo build -p taoscope-localnet",
            bin.display()
        );
        let dir = std::env::temp_dir().join(format!("taoscope-cli-audit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let spec = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
        );
        let mut child = Command::new(bin)
            .args(["--dir", dir.to_str().unwrap(), "--chain-spec", spec])
            .args(["--rpc-port", "0", "--p2p-port", "0", "--ws-port", "0"])
            .args([
                "--backfill",
                "100",
                "--block-ms",
                "300",
                "--demo-subnets",
                "3",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line).unwrap();
        Self {
            child,
            dir,
            rpc: ready["rpc"].as_str().unwrap().to_string(),
        }
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn taoscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taoscope"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn the_demo_subnet_s_epochs_match_and_a_changed_input_shows_every_difference() {
    let node = Localnet::start();
    let rpc = node.rpc.as_str();

    let out = taoscope(&[
        "audit", "--rpc", rpc, "--netuid", "1", "--epochs", "8", "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["schema"], "taoscope-audit-report/v1");
    let epochs = report["epochs"].as_array().unwrap();
    assert_eq!(epochs.len(), 8);
    for (i, epoch) in epochs.iter().enumerate() {
        assert_eq!(epoch["mismatches"].as_array().unwrap().len(), 0, "{epoch}");
        assert_eq!(
            epoch["checked"], 114,
            "the demo subnet stores 114 values per epoch"
        );
        assert_eq!(epoch["runtime"]["spec_version"], 103);
        let block = epoch["block"]["number"].as_u64().unwrap();
        assert_eq!(epoch["input_block"]["number"].as_u64().unwrap(), block - 1);
        if let Some(older) = epochs.get(i + 1) {
            assert_eq!(block - older["block"]["number"].as_u64().unwrap(), 10);
        }
    }
    eprintln!("8 epochs audited up to block #{}", report["at"]["number"]);

    // The other demonstration subnets, with their own sizes and hyperparameters.
    for (netuid, values) in [("2", 360), ("4", 180)] {
        let out = taoscope(&[
            "audit", "--rpc", rpc, "--netuid", netuid, "--epochs", "2", "--json",
        ]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "subnet {netuid}: {}",
            text(&out)
        );
        let other: Value = serde_json::from_slice(&out.stdout).unwrap();
        for epoch in other["epochs"].as_array().unwrap() {
            assert_eq!(epoch["checked"], values, "subnet {netuid}: {epoch}");
            assert_eq!(epoch["mismatches"].as_array().unwrap().len(), 0);
        }
    }

    // The report verifies against the chain; a tampered copy does not.
    let dir = node.dir.join("reports");
    std::fs::create_dir_all(&dir).unwrap();
    let verify = |name: &str, report: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, report).unwrap();
        taoscope(&["audit", "verify", path.to_str().unwrap(), "--rpc", rpc])
    };
    let out = verify("report.json", &out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("confirmed"), "{}", text(&out));
    let mut tampered = report.clone();
    tampered["epochs"][0]["stored"]["incentive"][4] = Value::from(1);
    let out = verify("tampered.json", tampered.to_string().as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("NOT CONFIRMED"), "{}", text(&out));

    // A report is held to its shape before anything is asked: distinct epochs, well-formed
    // hashes (they are printed).
    let mut doubled = report.clone();
    let first = doubled["epochs"][0].clone();
    doubled["epochs"].as_array_mut().unwrap().push(first);
    let mut escaped = report.clone();
    escaped["epochs"][0]["block"]["hash"] = Value::from("\u{1b}[2Kconfirmed");
    // A report of another chain is refused against this chain's checkpoint.
    let mut foreign = report.clone();
    foreign["genesis_hash"] = Value::from(format!("0x{}", "11".repeat(32)));
    for (name, bad, words) in [
        ("doubled.json", doubled, "distinct epochs"),
        ("escaped.json", escaped, "64 hex digits"),
        ("foreign.json", foreign, "the report is of chain"),
    ] {
        let out = verify(name, bad.to_string().as_bytes());
        assert_eq!(out.status.code(), Some(2), "{name}: {}", text(&out));
        assert!(text(&out).contains(words), "{name}: {}", text(&out));
    }

    // The engine told another kappa: every differing value, with its uid, hotkey and both numbers.
    let out = taoscope(&[
        "audit",
        "--rpc",
        rpc,
        "--netuid",
        "1",
        "--epochs",
        "1",
        "--what-if",
        "kappa=0",
    ]);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("what if kappa = 0"), "{said}");
    assert!(said.contains("MISMATCH"), "{said}");
    let line = said
        .lines()
        .find(|l| l.trim_start().starts_with("emission[uid 0, 5"))
        .unwrap_or_else(|| panic!("no emission line for uid 0:\n{said}"));
    assert!(
        line.contains(": chain ") && line.contains(", recomputed ") && line.contains("difference"),
        "{line}"
    );

    // A faithful record of a what-if is confirmed, and still no match: exit 1.
    let out = taoscope(&[
        "audit",
        "--rpc",
        rpc,
        "--netuid",
        "1",
        "--epochs",
        "1",
        "--what-if",
        "kappa=0",
        "--json",
    ]);
    let out = verify("what-if.json", &out.stdout);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("confirmed") && text(&out).contains("no match"),
        "{}",
        text(&out)
    );

    // Errors are words, exit 2.
    for (args, words) in [
        (
            vec!["audit", "--rpc", rpc, "--netuid", "7"],
            "has run no epoch",
        ),
        (
            vec!["audit", "--rpc", "ws://127.0.0.1:9", "--netuid", "1"],
            "no endpoint answered",
        ),
        (
            vec!["audit", "--network", "finney", "--netuid", "1"],
            "needs --checkpoint",
        ),
        (vec!["audit", "--rpc", rpc], "needs --netuid"),
        (
            vec![
                "audit",
                "--rpc",
                rpc,
                "--netuid",
                "1",
                "--what-if",
                "stake=1",
            ],
            "one of",
        ),
    ] {
        let out = taoscope(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(words), "{args:?}: {}", text(&out));
        assert!(!text(&out).contains("panicked"), "{}", text(&out));
    }
}
