//! The metadata-driven codec against the spec-461 shape corpus: for every type id of the
//! registry, three SCALE samples and how Bittensor's own codec decodes them.
//!
//! The corpus was generated from the registry, not recorded from a chain, and its generator
//! writes some compact integers wider than their type (a `Compact<u16>` holding 192 582 294).
//! The runtime's codec refuses those bytes, and so does ours: such samples must fail with that
//! reason and no other.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

mod common;

use taoscope_light_client::value;

#[test]
fn every_sample_of_the_corpus_decodes_and_re_encodes_byte_for_byte() {
    let metadata = common::metadata("localnet_spec461_metadata_at_version15_option.hex");
    let corpus = common::fixture_json("bittensor-11.3.0_shape_corpus_spec461.json");
    let mut checked = 0;
    let mut refused_wide_compacts = 0;
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
                Err(e)
                    if e.to_string().ends_with("does not fit")
                        && e.to_string().contains("Compact<") =>
                {
                    refused_wide_compacts += 1;
                }
                Err(e) => failures.push(format!("{id} {}: {e}", entry["name"])),
            }
        }
    }
    assert!(checked > 2000, "{checked} samples");
    assert!(
        refused_wide_compacts < 200,
        "{refused_wide_compacts} samples refused"
    );
    eprintln!(
        "{checked} samples, {refused_wide_compacts} refused for compacts wider than their type"
    );
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
