//! The address and amount codecs and the chain codec, run in headless Chromium (wasm32).
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

use taoscope_light_client::{ss58, units};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn ss58_round_trips_in_the_browser() {
    let key = [7u8; 32];
    let address = ss58::encode(&key, ss58::BITTENSOR_PREFIX);
    assert_eq!(ss58::decode(&address), Ok(key));
    assert_eq!(
        ss58::decode("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY").map(|k| k[0]),
        Ok(0xd4)
    );
}

#[wasm_bindgen_test]
fn tao_amounts_are_exact_in_the_browser() {
    assert_eq!(units::parse_tao("0.1"), Ok(100_000_000));
    assert_eq!(units::format_tao(u64::MAX), "18446744073.709551615");
}

/// The spec-461 metadata, compiled in (the browser has no file system).
const METADATA_V14_HEX: &str =
    include_str!("../../../shared/fixtures/localnet_spec461_metadata_v14.hex");

#[wasm_bindgen_test]
fn the_codec_builds_keys_calls_and_signed_extrinsics_in_the_browser() {
    use taoscope_light_client::extrinsic::{self, Mortality, Signer, Transaction};
    use taoscope_light_client::hex::{from_hex, to_hex};
    use taoscope_light_client::keys::Sr25519Signer;
    use taoscope_light_client::metadata::Metadata;
    use taoscope_light_client::storage;

    let metadata = Metadata::decode(&from_hex(METADATA_V14_HEX).unwrap()).unwrap();
    assert_eq!(metadata.spec_version(), 461);
    let key = storage::key(
        &metadata,
        "SubtensorModule",
        "Tempo",
        &[serde_json::json!(1)],
    )
    .unwrap();
    assert_eq!(
        to_hex(&key),
        "0x658faa385070e074c85bf6b568cf05557641384bb339f3758acddfd7053d33170100"
    );
    let args = serde_json::json!({
        "hotkey": "5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ",
        "netuid": 1,
        "amount_staked": 1_000_000_000u64,
    });
    let call = extrinsic::encode_call(
        &metadata,
        "SubtensorModule",
        "add_stake",
        args.as_object().unwrap(),
    )
    .unwrap();
    assert_eq!(
        to_hex(&call),
        "0x0702b220508024ce70b0dd91910806fbda4614701cb762f669276fe978636c4ff80c010000ca9a3b00000000"
    );
    // sr25519 signing draws randomness from crypto.getRandomValues here.
    let alice = Sr25519Signer::dev("Alice").unwrap();
    let tx = Transaction {
        spec_version: 461,
        transaction_version: 1,
        genesis_hash: [0x1d; 32],
        mortality: Mortality::Immortal,
        nonce: 0,
        tip: 0,
        metadata_hash: None,
    };
    let (explicit, implicit) = extrinsic::extensions(&metadata, &tx).unwrap();
    let payload = extrinsic::signing_payload(&call, &explicit, &implicit);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut signing = std::pin::pin!(alice.sign(&payload));
    let std::task::Poll::Ready(Ok(signature)) = signing.as_mut().poll(&mut cx) else {
        panic!("signing did not finish");
    };
    assert!(Sr25519Signer::verify(
        &alice.account(),
        &payload,
        &signature
    ));
}
