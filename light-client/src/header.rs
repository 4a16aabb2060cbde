//! Block headers: decoding and the block hash (blake2-256 of the SCALE header).

use crate::hashing::blake2_256;
use parity_scale_codec::{Compact, Decode};
use std::fmt;

/// A digest item, by the variants light clients read (consensus engine id, data).
#[derive(Clone, Debug, PartialEq, Eq, Decode)]
pub enum DigestItem {
    #[codec(index = 6)]
    PreRuntime([u8; 4], Vec<u8>),
    #[codec(index = 4)]
    Consensus([u8; 4], Vec<u8>),
    #[codec(index = 5)]
    Seal([u8; 4], Vec<u8>),
    #[codec(index = 0)]
    Other(Vec<u8>),
    #[codec(index = 8)]
    RuntimeEnvironmentUpdated,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub parent_hash: [u8; 32],
    pub number: u32,
    pub state_root: [u8; 32],
    pub extrinsics_root: [u8; 32],
    pub digest: Vec<DigestItem>,
    /// blake2-256 of the bytes it was decoded from: the block hash.
    pub hash: [u8; 32],
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeaderError(pub String);

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed block header: {}", self.0)
    }
}

impl std::error::Error for HeaderError {}

impl Header {
    /// Decodes a SCALE header; the whole input must be the header.
    pub fn decode(bytes: &[u8]) -> Result<Self, HeaderError> {
        let mut input = bytes;
        let err = |e: parity_scale_codec::Error| HeaderError(e.to_string());
        let parent_hash = <[u8; 32]>::decode(&mut input).map_err(err)?;
        let number = Compact::<u32>::decode(&mut input).map_err(err)?.0;
        let state_root = <[u8; 32]>::decode(&mut input).map_err(err)?;
        let extrinsics_root = <[u8; 32]>::decode(&mut input).map_err(err)?;
        let digest = Vec::<DigestItem>::decode(&mut input).map_err(err)?;
        if !input.is_empty() {
            return Err(HeaderError(format!(
                "{} bytes after the digest",
                input.len()
            )));
        }
        Ok(Header {
            parent_hash,
            number,
            state_root,
            extrinsics_root,
            digest,
            hash: blake2_256(bytes),
        })
    }
}
