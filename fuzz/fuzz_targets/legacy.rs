//! The shapes of an endpoint's JSON-RPC answers (headers, blocks, finality proofs, read proofs,
//! key lists), parsed from any JSON: bytes or an error, never a crash; a header that parses
//! decodes (or not) without crashing, and its digest is read the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taoscope_light_client::client::legacy;
use taoscope_light_client::header::Header;

fuzz_target!(|data: &[u8]| {
    let Ok(answer) = serde_json::from_slice::<serde_json::Value>(data) else {
        // Raw bytes as a SCALE header, too.
        if let Ok(header) = Header::decode(data) {
            let _ = header.grandpa_changes();
            let _ = header.aura_slot();
        }
        return;
    };
    if let Ok(scale) = legacy::header(&answer)
        && let Ok(header) = Header::decode(&scale)
    {
        let _ = header.grandpa_changes();
        let _ = header.aura_slot();
        let _ = header.runtime_updated();
    }
    let _ = legacy::hash(&answer);
    let _ = legacy::finality_proof(&answer);
    let _ = legacy::block_justification(&answer);
    let _ = legacy::block_extrinsics(&answer);
    let _ = legacy::read_proof(&answer);
    let _ = legacy::keys(&answer);
    let _ = legacy::bytes(&answer);
});
