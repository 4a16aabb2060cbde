//! Reading the recorded chain data in `../shared/fixtures/`.
#![allow(dead_code)] // each test binary uses part of it
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use taoscope_light_client::hex::from_hex;
use taoscope_light_client::metadata::Metadata;

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures")
        .join(name)
}

pub fn fixture_text(name: &str) -> String {
    let path = fixture_path(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (tests read ../shared/ beside the repo)",
            path.display()
        )
    })
}

pub fn fixture_json(name: &str) -> serde_json::Value {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

pub fn hex(text: &str) -> Vec<u8> {
    from_hex(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

pub fn metadata(name: &str) -> Metadata {
    Metadata::decode(&hex(&fixture_text(name))).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The condensed spec-461 vectors.
pub fn vectors() -> serde_json::Value {
    fixture_json("vectors_localnet_spec461.json")
}

/// A value's JSON, cut short for messages.
pub fn short(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if text.len() > 200 {
        format!("{}…", &text[..200])
    } else {
        text
    }
}
