//! `Finality::advance` with any headers and any justification: an error or an advance, never a
//! crash, and never an advance that is not newer. The bytes are split into headers and a
//! justification by one-byte length prefixes (little-endian u16), so that both are reached.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::verified::checkpoint::{Authority, Checkpoint};
use taoscope_light_client::verified::finality::Finality;

/// A genesis-like header of block 0.
fn genesis() -> Vec<u8> {
    let mut header = vec![0u8; 32];
    header.push(0); // number 0, compact
    header.extend([1u8; 32]);
    header.extend([2u8; 32]);
    header.push(0); // no digest
    header
}

fuzz_target!(|data: &[u8]| {
    let mut parts = Vec::new();
    let mut rest = data;
    while rest.len() >= 2 && parts.len() < 64 {
        let length = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        let taken = length.min(rest.len());
        parts.push(rest[..taken].to_vec());
        rest = &rest[taken..];
    }
    let Some(justification) = parts.pop() else {
        return;
    };
    let header = genesis();
    let checkpoint = Checkpoint {
        genesis_hash: blake2_256(&header),
        number: 0,
        hash: blake2_256(&header),
        header,
        set_id: u64::from(data.first().copied().unwrap_or(0)),
        authorities: vec![
            Authority { public_key: [7; 32], weight: u64::MAX },
            Authority { public_key: [8; 32], weight: 1 },
        ],
        created_at_ms: None,
        source: None,
    };
    let Ok(mut finality) = Finality::new(&checkpoint) else {
        return;
    };
    if let Ok(proven) = finality.advance(&parts, &justification) {
        assert!(finality.finalized().number > 0);
        assert_eq!(proven.last(), Some(finality.finalized()));
    }
});
