//! The runtime from proven code runs with fuel: the real subtensor runtime of the testnet genesis
//! (spec 103) answers `Core_version` and `Metadata_metadata` within the limit, and the same
//! runtime with `Metadata_metadata` rewritten into a loop that never ends is stopped, in words,
//! instead of freezing the client. Also prints what the honest calls use, which is what
//! `CALL_FUEL` is sized against.
#![cfg(feature = "native")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use std::time::Instant;
use taoscope_light_client::hex::from_hex;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::verified::fuel::CALL_FUEL;
use taoscope_light_client::verified::runtime::{Runtime, Step};
use wasmparser::{Parser, Payload};

/// The testnet genesis's `:code` (zstd-compressed wasm).
fn genesis_code() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    );
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    from_hex(
        spec["genesis"]["raw"]["top"]["0x3a636f6465"]
            .as_str()
            .unwrap(),
    )
    .unwrap()
}

fn decompress(code: &[u8]) -> Vec<u8> {
    let mut compressed = &code[8..];
    let mut decoder = ruzstd::decoding::FrameDecoder::new();
    decoder.init(&mut compressed).unwrap();
    decoder
        .decode_blocks(
            &mut compressed,
            ruzstd::decoding::BlockDecodingStrategy::All,
        )
        .unwrap();
    decoder.collect().unwrap()
}

/// Runs `function` (which reads no storage) to its end.
fn call(runtime: &mut Runtime, function: &str) -> Result<Vec<u8>, String> {
    let mut call = runtime.call(function, &[]).map_err(|e| e.to_string())?;
    let result = match call.step() {
        Ok(Step::Done(output)) => Ok(output),
        Ok(Step::NeedValue(key)) => Err(format!("it read storage at {key:?}")),
        Err(error) => Err(error.to_string()),
    };
    runtime.finish(call);
    result
}

/// The least fuel `function` needs, to within 1/64.
fn fuel_needed(code: &[u8], function: &str) -> u64 {
    let (mut low, mut high) = (1u64, CALL_FUEL);
    while high - low > high / 64 {
        let middle = low + (high - low) / 2;
        let mut runtime = Runtime::with_fuel(code, None, middle).unwrap();
        match call(&mut runtime, function) {
            Ok(_) => high = middle,
            Err(_) => low = middle,
        }
    }
    high
}

#[test]
fn honest_calls_fit_and_the_limit_stops_what_runs_too_long() {
    let code = genesis_code();
    let mut runtime = Runtime::new(&code, None).unwrap();
    assert_eq!(runtime.spec().spec_version, 103);
    let output = call(&mut runtime, "Metadata_metadata").unwrap();
    // `OpaqueMetadata`: a byte vector around the metadata.
    let metadata = Metadata::decode(&output[3..])
        .or_else(|_| Metadata::decode(&output[4..]))
        .or_else(|_| Metadata::decode(&output))
        .unwrap();
    assert!(metadata.pallet("SubtensorModule").is_some());

    for function in ["Core_version", "Metadata_metadata"] {
        let needed = fuel_needed(&code, function);
        eprintln!(
            "{function}: about {needed} instructions (CALL_FUEL = {CALL_FUEL}, {}× that)",
            CALL_FUEL / needed
        );
        assert!(needed * 16 < CALL_FUEL, "{function} needs {needed}");
    }

    let mut starved = Runtime::with_fuel(&code, None, 10_000).unwrap();
    let error = call(&mut starved, "Metadata_metadata").unwrap_err();
    assert!(error.contains("ran out of fuel"), "{error}");
    // The runtime stays usable for the next call (each starts with a full tank).
    let error = call(&mut starved, "Metadata_metadata").unwrap_err();
    assert!(error.contains("ran out of fuel"), "{error}");
}

/// The testnet runtime with the body of `function` replaced by `loop br 0 end unreachable`.
fn spinning(code: &[u8], function: &str) -> Vec<u8> {
    let wasm = decompress(code);
    let mut imported_functions = 0u32;
    let mut exported = None;
    let mut bodies = Vec::new();
    let mut code_section = None;
    for payload in Parser::new(0).parse_all(&wasm) {
        match payload.unwrap() {
            Payload::ImportSection(imports) => {
                for import in imports {
                    if matches!(import.unwrap().ty, wasmparser::TypeRef::Func(_)) {
                        imported_functions += 1;
                    }
                }
            }
            Payload::ExportSection(exports) => {
                for export in exports {
                    let export = export.unwrap();
                    if export.name == function {
                        exported = Some(export.index);
                    }
                }
            }
            Payload::CodeSectionStart { range, .. } => code_section = Some(range),
            Payload::CodeSectionEntry(body) => bodies.push(body.range()),
            _ => {}
        }
    }
    let target = (exported.unwrap() - imported_functions) as usize;
    let section = code_section.unwrap();
    // The section's content: the count, then each body with its size.
    let mut content = Vec::new();
    leb(&mut content, bodies.len() as u32);
    for (index, range) in bodies.iter().enumerate() {
        let body: Vec<u8> = if index == target {
            vec![0x00, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x00, 0x0b]
        } else {
            wasm[range.clone()].to_vec()
        };
        leb(&mut content, body.len() as u32);
        content.extend(body);
    }
    // The section header sits just before its content.
    let mut header_start = section.start - 1;
    while wasm[header_start] != 10
        || header_start + 1 + leb_len(&wasm[header_start + 1..]) != section.start
    {
        header_start -= 1;
    }
    let mut out = wasm[..header_start].to_vec();
    out.push(10);
    leb(&mut out, content.len() as u32);
    out.extend(content);
    out.extend_from_slice(&wasm[section.end..]);
    out
}

fn leb(out: &mut Vec<u8>, mut value: u32) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn leb_len(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(0, |p| p + 1)
}

#[test]
fn a_call_that_never_returns_is_stopped() {
    let hostile = spinning(&genesis_code(), "Metadata_metadata");
    // Compiles (the version comes from the code's custom sections), then spins.
    let mut runtime = Runtime::with_fuel(&hostile, None, 1 << 22).unwrap();
    assert_eq!(runtime.spec().spec_version, 103);
    let started = Instant::now();
    let error = call(&mut runtime, "Metadata_metadata").unwrap_err();
    eprintln!(
        "a spinning Metadata_metadata stopped after {:?}: {error}",
        started.elapsed()
    );
    assert!(error.contains("ran out of fuel"), "{error}");
    assert!(error.contains("hostile"), "{error}");
    // Other calls of the same runtime still answer.
    call(&mut runtime, "Core_version").unwrap();
}
