//! The `taoscope` command line on the recorded fixtures: output alone on stdout, one-line errors.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use std::path::PathBuf;
use std::process::{Command, Output};

fn taoscope(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taoscope"))
        .args(args)
        .output()
        .expect("taoscope runs")
}

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string()
}

fn error(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(2));
    let text = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "{text}");
    text
}

const V14: &str = "localnet_spec461_metadata_v14.hex";

#[test]
fn metadata_summarises_every_fixture() {
    let summary: serde_json::Value =
        serde_json::from_str(&stdout(&taoscope(&["metadata", &fixture(V14)]))).unwrap();
    assert_eq!(summary["spec_version"], 461);
    assert_eq!(summary["pallets"].as_array().unwrap().len(), 28);
    assert_eq!(summary["transaction_extensions"][0], "CheckNonZeroSender");
    assert_eq!(summary["transaction_extensions"][12], "CheckMetadataHash");
    let v15: serde_json::Value = serde_json::from_str(&stdout(&taoscope(&[
        "metadata",
        &fixture("localnet_spec461_metadata_at_version15_option.hex"),
    ])))
    .unwrap();
    assert_eq!(v15["metadata_version"], 15);
    assert!(
        v15["runtime_apis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "NeuronInfoRuntimeApi")
    );
    for file in [
        "finney_spec219_block4898328_metadata_v14.hex",
        "testfinney_spec224_block3867931_metadata_v14.hex",
    ] {
        stdout(&taoscope(&["metadata", &fixture(file)]));
    }
}

#[test]
fn storage_key_prints_the_recorded_key() {
    let key = stdout(&taoscope(&[
        "storage-key",
        "--metadata",
        &fixture(V14),
        "SubtensorModule",
        "Alpha",
        "\"5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ\"",
        "\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\"",
        "1",
    ]));
    assert_eq!(
        key,
        "0x658faa385070e074c85bf6b568cf05557261f9a8fde18018cccf70368697902fc77e0813e02296faaf999a1aa2c93d70b220508024ce70b0dd91910806fbda4614701cb762f669276fe978636c4ff80cde1e86a9a8c739864cf3cc5ec2bea59fd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d0100"
    );
    let key = stdout(&taoscope(&[
        "storage-key",
        "--metadata",
        &fixture(V14),
        "SubtensorModule",
        "Tempo",
        "1",
    ]));
    assert_eq!(
        key,
        "0x658faa385070e074c85bf6b568cf05557641384bb339f3758acddfd7053d33170100"
    );
}

#[test]
fn call_prints_the_recorded_call() {
    let call = stdout(&taoscope(&[
        "call",
        "--metadata",
        &fixture(V14),
        "SubtensorModule",
        "add_stake",
        r#"{"hotkey": "5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ", "netuid": 1, "amount_staked": 1000000000}"#,
    ]));
    assert_eq!(
        call,
        "0x0702b220508024ce70b0dd91910806fbda4614701cb762f669276fe978636c4ff80c010000ca9a3b00000000"
    );
    // Finney spec 219: add_stake had no netuid.
    let old = stdout(&taoscope(&[
        "call",
        "--metadata",
        &fixture("finney_spec219_block4898328_metadata_v14.hex"),
        "SubtensorModule",
        "add_stake",
        r#"{"hotkey": "5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ", "amount_staked": 1000000000}"#,
    ]));
    assert!(
        old.ends_with(
            "b220508024ce70b0dd91910806fbda4614701cb762f669276fe978636c4ff80c00ca9a3b00000000"
        ),
        "{old}"
    );
}

#[test]
fn errors_are_one_line() {
    let e = error(&taoscope(&["metadata", "/nonexistent"]));
    assert!(e.contains("/nonexistent: cannot read"), "{e}");
    let e = error(&taoscope(&[
        "call",
        "--metadata",
        &fixture(V14),
        "SubtensorModule",
        "add_stake",
        "{\"netuid\": 1}",
    ]));
    assert!(e.contains("argument `hotkey` is missing"), "{e}");
    let e = error(&taoscope(&[
        "storage-key",
        "--metadata",
        &fixture(V14),
        "System",
        "Account",
        "5Grw",
    ]));
    assert!(e.contains("KEY_JSON 1: not JSON"), "{e}");
    let e = error(&taoscope(&["storage-key", "SubtensorModule", "Tempo"]));
    assert!(e.contains("missing --metadata FILE"), "{e}");
    let e = error(&taoscope(&["metadata", &fixture("README.md")]));
    assert!(e.contains("not runtime metadata"), "{e}");
}
