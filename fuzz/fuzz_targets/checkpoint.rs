//! Any text given as a checkpoint file reads as a checkpoint or an error, never a crash; one that
//! reads writes back to itself, and judging its chain and age does not crash either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taoscope_light_client::verified::checkpoint::{Acceptance, AgePolicy, Checkpoint};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(checkpoint) = Checkpoint::from_json(text) else {
        return;
    };
    let again = Checkpoint::from_json(&checkpoint.to_json().to_string());
    assert_eq!(again.as_ref(), Ok(&checkpoint));
    for age in [AgePolicy::MaxAge(1), AgePolicy::Accepted] {
        let _ = checkpoint.accept(&Acceptance {
            genesis_hash: checkpoint.genesis_hash,
            slot_ms: u64::MAX,
            now_ms: u64::MAX,
            age,
        });
    }
});
