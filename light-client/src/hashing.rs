//! The hashes the chain uses for storage keys, block and extrinsic hashes and signing payloads.

use blake2::digest::consts::{U8, U16, U32};
use blake2::{Blake2b, Digest};
use std::hash::Hasher;
use xxhash_rust::xxh64::Xxh64;

/// What runtime API ids are: the API's name hashed to 8 bytes.
pub fn blake2_64(data: &[u8]) -> [u8; 8] {
    Blake2b::<U8>::digest(data).into()
}

pub fn blake2_128(data: &[u8]) -> [u8; 16] {
    Blake2b::<U16>::digest(data).into()
}

pub fn blake2_256(data: &[u8]) -> [u8; 32] {
    Blake2b::<U32>::digest(data).into()
}

/// xxHash64 with seeds 0, 1, …: `n` × 8 bytes, each little-endian.
fn twox<const N: usize>(data: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    for (seed, chunk) in out.chunks_mut(8).enumerate() {
        let mut h = Xxh64::new(seed as u64);
        h.write(data);
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    out
}

pub fn twox_64(data: &[u8]) -> [u8; 8] {
    twox::<8>(data)
}

pub fn twox_128(data: &[u8]) -> [u8; 16] {
    twox::<16>(data)
}

pub fn twox_256(data: &[u8]) -> [u8; 32] {
    twox::<32>(data)
}
