//! The metadata-driven codec against the spec-461 shape corpus: for every type id of the
//! registry, three SCALE samples and how Bittensor's own codec decodes them.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

mod common;

use taoscope_light_client::value;

#[test]
fn every_sample_of_the_corpus_decodes_and_re_encodes_byte_for_byte() {
    let metadata = common::metadata("localnet_spec461_metadata_at_version15_option.hex");
    let corpus = common::fixture_json("bittensor-11.3.0_shape_corpus_spec461.json");
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in corpus["types"].as_array().unwrap() {
        let id = entry["id"].as_u64().unwrap() as u32;
        for sample in entry["samples"].as_array().unwrap() {
            let bytes = common::hex(sample["scale_hex"].as_str().unwrap());
            let expected = &sample["decoded"];
            checked += 1;
            match value::decode_all(&metadata.types, id, &bytes) {
                Ok(decoded) if &decoded == expected => {
                    let mut encoded = Vec::new();
                    match value::encode(&metadata.types, id, &decoded, &mut encoded) {
                        Ok(()) if encoded == bytes => {}
                        // Maps are JSON objects, whose key order is not the bytes' order: the
                        // re-encoded bytes must still decode to the same value.
                        Ok(())
                            if value::decode_all(&metadata.types, id, &encoded).as_ref()
                                == Ok(&decoded) => {}
                        Ok(()) => {
                            failures.push(format!("{id} {}: re-encodes differently", entry["name"]))
                        }
                        Err(e) => failures.push(format!("{id} {}: encode: {e}", entry["name"])),
                    }
                }
                Ok(decoded) => failures.push(format!(
                    "{id} {}: decoded {} expected {}",
                    entry["name"],
                    common::short(&decoded),
                    common::short(expected)
                )),
                Err(e) => failures.push(format!("{id} {}: {e}", entry["name"])),
            }
        }
    }
    assert!(checked > 2000, "{checked} samples");
    // Every failure, for whoever fixes them (the assertion shows the first 40).
    let report =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("shape_corpus_failures.txt");
    let _ = std::fs::write(&report, failures.join("\n"));
    assert!(
        failures.is_empty(),
        "{} of {checked} samples fail:\n{}",
        failures.len(),
        failures
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
