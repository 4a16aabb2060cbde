//! The localnet's genesis against the real Bittensor testnet spec: the genesis hash a light
//! client computes, the real runtime executing, and the development overrides read back
//! through the runtime's own APIs and metadata.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use serde_json::json;
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
use taoscope_light_client::storage;
use taoscope_localnet::genesis::{ChainSpec, DEV_ACCOUNTS, DEV_ENDOWMENT, apply_dev_overrides};
use taoscope_localnet::runtime::Runtime;

fn testnet_spec() -> ChainSpec {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (tests read ../shared/ beside the repo)"));
    ChainSpec::parse(&text).unwrap()
}

#[test]
fn the_testnet_genesis_hash_is_the_one_light_clients_compute() {
    let spec = testnet_spec();
    assert_eq!(spec.storage.len(), 46);
    assert_eq!(
        to_hex(&spec.genesis_hash().unwrap()),
        "0x8f9cf856bf558a14440e75569c9e58594757048d7b3a84b5d25f6bd978263105"
    );
    let runtime = Runtime::of(&spec.storage).unwrap();
    let version = runtime.version().unwrap();
    assert_eq!(
        (version.spec_name.as_str(), version.spec_version),
        ("node-subtensor", 103)
    );
}

#[test]
fn dev_overrides_make_alice_the_authority_and_fund_the_dev_accounts() {
    let mut spec = testnet_spec();
    let original_issuance = issuance(&spec);
    apply_dev_overrides(&mut spec).unwrap();
    let mut runtime = Runtime::of(&spec.storage).unwrap();

    let alice = Sr25519Signer::dev("Alice").unwrap();
    let (aura, _) = runtime
        .call(&spec.storage, "AuraApi_authorities", &[])
        .unwrap();
    assert_eq!(aura, [&[4u8][..], &alice.account()].concat());
    let (grandpa, _) = runtime
        .call(&spec.storage, "GrandpaApi_grandpa_authorities", &[])
        .unwrap();
    let expected = [
        &[4u8][..],
        &Ed25519Signer::dev("Alice").account(),
        &1u64.to_le_bytes(),
    ]
    .concat();
    assert_eq!(grandpa, expected);

    // Balances, read with the runtime's own metadata through the chain codec.
    let metadata = spec.metadata().unwrap();
    assert_eq!(metadata.spec_version(), 103);
    for name in DEV_ACCOUNTS {
        let account = to_hex(&Sr25519Signer::dev(name).unwrap().account());
        let key = storage::key(&metadata, "System", "Account", &[json!(account)]).unwrap();
        let info = storage::read(
            &metadata,
            "System",
            "Account",
            spec.storage.get(&key).map(|v| &v[..]),
        )
        .unwrap();
        assert_eq!(info["data"]["free"], json!(DEV_ENDOWMENT), "{name}");
    }
    assert_eq!(
        issuance(&spec),
        original_issuance + DEV_ENDOWMENT * DEV_ACCOUNTS.len() as u64
    );
    let sudo = storage::key(&metadata, "Sudo", "Key", &[]).unwrap();
    assert_eq!(
        spec.storage.get(&sudo).map(|v| &v[..]),
        Some(&alice.account()[..])
    );

    // This runtime predates dynamic TAO: add_stake(hotkey, amount_staked).
    let add_stake = metadata.call("SubtensorModule", "add_stake").unwrap();
    let names: Vec<&str> = add_stake.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hotkey", "amount_staked"]);

    // Another chain now, and the written spec reproduces it.
    let hash = spec.genesis_hash().unwrap();
    assert_ne!(
        to_hex(&hash),
        "0x8f9cf856bf558a14440e75569c9e58594757048d7b3a84b5d25f6bd978263105"
    );
    let again = ChainSpec::parse(&spec.to_json()).unwrap();
    assert_eq!(again.genesis_hash().unwrap(), hash);
    assert_eq!(again.json["bootNodes"], json!([]));
}

fn issuance(spec: &ChainSpec) -> u64 {
    let key = [
        taoscope_light_client::hashing::twox_128(b"Balances"),
        taoscope_light_client::hashing::twox_128(b"TotalIssuance"),
    ]
    .concat();
    spec.storage
        .get(&key)
        .map_or(0, |v| u64::from_le_bytes(v[..8].try_into().unwrap()))
}

#[test]
fn bad_chain_specs_are_explained() {
    let error = |text: &str| ChainSpec::parse(text).err().unwrap().to_string();
    assert!(error("{").starts_with("chain spec: not JSON"));
    assert!(error("{\"genesis\": {}}").contains("no genesis.raw.top"));
    assert!(error("{\"genesis\": {\"raw\": {\"top\": {\"0x00\": \"0xz1\"}}}}").contains("value"));
    // A spec whose runtime is not wasm.
    let mut spec = testnet_spec();
    spec.storage.insert(b":code".to_vec(), vec![1, 2, 3].into());
    let e = Runtime::of(&spec.storage).err().unwrap().to_string();
    assert!(e.starts_with("the runtime does not load"), "{e}");
    spec.storage.remove(b":code".as_slice());
    assert_eq!(
        Runtime::of(&spec.storage).err().unwrap().to_string(),
        "the state has no runtime (:code)"
    );
}

#[test]
fn the_command_line_prints_the_genesis_and_writes_the_spec() {
    let dir = std::env::temp_dir().join(format!("taoscope-localnet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("chainspec.json");
    let spec = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    );
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_taoscope-localnet"))
        .args([
            "genesis",
            "--chain-spec",
            spec,
            "--dev",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(report["spec_version"], 103);
    let written = ChainSpec::parse(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        to_hex(&written.genesis_hash().unwrap()),
        report["genesis_hash"].as_str().unwrap()
    );
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_taoscope-localnet"))
        .args(["genesis", "--chain-spec", "/nonexistent.json"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let stderr = String::from_utf8(bad.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1);
    assert!(stderr.contains("/nonexistent.json: cannot read"));
}
