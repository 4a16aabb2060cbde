//! Read proofs and prefix pages checked against a state root: any nodes, keys and claimed key
//! lists give values, a page or an error, never a crash. The first 32 bytes are the state root;
//! the rest is split into nodes by little-endian u16 length prefixes; the last three parts are a
//! key, a prefix and a claimed key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use taoscope_light_client::verified::proof::Proof;

fuzz_target!(|data: &[u8]| {
    let Some((root, mut rest)) = data.split_first_chunk::<32>() else {
        return;
    };
    let mut parts = Vec::new();
    while rest.len() >= 2 && parts.len() < 256 {
        let length = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        rest = &rest[2..];
        let taken = length.min(rest.len());
        parts.push(rest[..taken].to_vec());
        rest = &rest[taken..];
    }
    let claimed = parts.pop().unwrap_or_default();
    let prefix = parts.pop().unwrap_or_default();
    let key = parts.pop().unwrap_or_default();
    // The root node itself is the proof's first node, hashed to the root, when one is given.
    let root = if let Some(first) = parts.first().filter(|_| root[0] & 1 == 1) {
        taoscope_light_client::hashing::blake2_256(first)
    } else {
        *root
    };
    let Ok(proof) = Proof::new(root, &parts) else {
        return;
    };
    let _ = proof.value(&key);
    let after = (!key.is_empty()).then_some(key.as_slice());
    for page_size in [1, 2, 256] {
        let _ = proof.page(&prefix, after, std::slice::from_ref(&claimed), page_size);
        let _ = proof.page(&prefix, None, &[], page_size);
    }
});
