//! The address and amount codecs, run in headless Chromium (wasm32).
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
