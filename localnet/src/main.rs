//! `taoscope-localnet`: a local Bittensor chain on the real subtensor runtime.
//!
//! ```text
//! taoscope-localnet --dir DIR [--chain-spec FILE] [--rpc-port N] [--host ADDR]
//!                   [--backfill N] [--block-ms MS] [--demo-subnet] [--demo-subnets K]
//!                   [--demo-uids N] [--demo-validators V] [--grandpa-change N]
//!                   [--rpc-origin ORIGIN]... [--rpc-max-connections N] [--rpc-idle-ms MS]
//! taoscope-localnet genesis [--chain-spec FILE] [--dev] [--out FILE]
//! ```
//! With `--dir`, the node runs: it takes the chain spec (default: the Bittensor testnet genesis
//! in `../shared/chainspecs/`) with the development overrides (Alice authors, finalizes and is
//! sudo; the dev accounts hold balances), re-executes the blocks stored in DIR, authors
//! `--backfill` blocks at once on a fresh chain, then one block per `--block-ms` (default: the
//! runtime's slot, 12 s; shorter runs the chain's clock fast, from 7 days in the past), and
//! serves JSON-RPC over WebSocket on `--rpc-port` (default 9944). `--demo-subnet` sets up
//! subnet 1 (10-block tempo, four validators, six miners) and keeps its validators setting
//! weights, so that epochs happen within minutes (see `demo.rs`). `--grandpa-change N` (tests:
//! a fresh chain only) starts from a genesis that hands GRANDPA finality from Alice to Bob and
//! Charlie at block N. The JSON-RPC server lets in tools (no `Origin`) and pages of this machine
//! (`http://127.0.0.1:*`, `localhost`); `--rpc-origin` adds an origin (`*`: any), and it holds
//! at most 256 connections (`--rpc-max-connections`), closing one that neither subscribes nor
//! asks anything for 5 minutes (`--rpc-idle-ms`). Once it serves, it writes
//! `DIR/chainspec.json` and `DIR/endpoints.json` and prints one JSON line. SIGINT or SIGTERM
//! stops it after the block in progress.
//!
//! `genesis` prints the genesis of the chain spec as JSON; `--out` writes the raw chain spec.
//! Errors are one line, exit status 2.

use serde_json::json;
use std::process::ExitCode;
use taoscope_light_client::hex::to_hex;
use taoscope_localnet::genesis::{ChainSpec, apply_dev_overrides};
use taoscope_localnet::launch;
use taoscope_localnet::runtime::Runtime;

const DEFAULT_SPEC: &str = "../shared/chainspecs/bittensor-testnet-genesis.raw.json";
const USAGE: &str = "usage: taoscope-localnet --dir DIR [--chain-spec FILE] [--rpc-port N] \
[--p2p-port N] [--ws-port N] [--host ADDR] [--backfill N] [--block-ms MS] [--demo-subnet] \
[--demo-subnets K] [--demo-uids N] [--demo-validators V] \
[--grandpa-change N] [--rpc-origin ORIGIN]... [--rpc-max-connections N] [--rpc-idle-ms MS]\n       taoscope-localnet genesis [--chain-spec FILE] [--dev] [--out FILE]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(text) => {
            if !text.is_empty() {
                println!("{text}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let (command, rest) = args.split_first().ok_or(USAGE)?;
    if command != "genesis" {
        return launch::Options::parse(args, DEFAULT_SPEC)
            .and_then(launch::run)
            .map(|()| String::new());
    }
    let mut spec_path = DEFAULT_SPEC.to_string();
    let mut dev = false;
    let mut out = None;
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--chain-spec" => spec_path = it.next().ok_or("--chain-spec: expected a FILE")?.clone(),
            "--dev" => dev = true,
            "--out" => out = Some(it.next().ok_or("--out: expected a FILE")?.clone()),
            other => return Err(format!("unknown option {other} ({USAGE})")),
        }
    }
    let text = std::fs::read_to_string(&spec_path)
        .map_err(|e| format!("{spec_path}: cannot read: {e}"))?;
    let mut spec = ChainSpec::parse(&text).map_err(|e| format!("{spec_path}: {e}"))?;
    if dev {
        apply_dev_overrides(&mut spec).map_err(|e| e.to_string())?;
    }
    let hash = spec.genesis_hash().map_err(|e| e.to_string())?;
    let mut runtime = Runtime::of(&spec.storage).map_err(|e| e.to_string())?;
    let version = runtime.version().ok_or("the runtime has no version")?;
    let (aura, _) = runtime
        .call(&spec.storage, "AuraApi_authorities", &[])
        .map_err(|e| e.to_string())?;
    if let Some(path) = &out {
        std::fs::write(path, spec.to_json()).map_err(|e| format!("{path}: cannot write: {e}"))?;
    }
    let report = json!({
        "genesis_hash": to_hex(&hash),
        "spec_name": version.spec_name,
        "spec_version": version.spec_version,
        "storage_items": spec.storage.len(),
        "aura_authorities": to_hex(&aura),
        "dev": dev,
        "chain_spec": out,
    });
    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())
}
