//! Block headers: decoding, the block hash (blake2-256 of the SCALE header), and what the
//! verified core reads in a digest (GRANDPA authority set changes, the Aura slot, runtime
//! upgrades). The one header decoder of the client: the page, the transports and the verified
//! core all read headers here.

use crate::hashing::blake2_256;
use parity_scale_codec::{Compact, Decode, DecodeAll};
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

/// A GRANDPA authority set change announced in a header (its `FRNK` consensus log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrandpaChange {
    /// Forced changes come with the chain's word only (no set finalized them); scheduled ones
    /// are enacted by the old set's justification of block `number + delay`.
    pub forced: bool,
    pub delay: u32,
    /// (ed25519 key, weight) of each member of the next set.
    pub next_authorities: Vec<([u8; 32], u64)>,
}

/// `sp_consensus_grandpa::ConsensusLog<u32>`, the variants that change the set.
#[derive(Decode)]
enum GrandpaLog {
    #[codec(index = 1)]
    Scheduled(ScheduledChange),
    #[codec(index = 2)]
    /// (the median last finalized block, which light clients do not use; the change)
    Forced(#[allow(dead_code)] u32, ScheduledChange),
    #[codec(index = 3)]
    OnDisabled(#[allow(dead_code)] u64),
    #[codec(index = 4)]
    Pause(#[allow(dead_code)] u32),
    #[codec(index = 5)]
    Resume(#[allow(dead_code)] u32),
}

#[derive(Decode)]
struct ScheduledChange {
    next_authorities: Vec<([u8; 32], u64)>,
    delay: u32,
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
    /// Splits the SCALE header at the front of `input` off it: its bytes (a list of headers is
    /// their encodings one after another, each delimiting itself).
    pub fn split_off<'a>(input: &mut &'a [u8]) -> Result<&'a [u8], HeaderError> {
        let start: &'a [u8] = input;
        let err = |e: parity_scale_codec::Error| HeaderError(e.to_string());
        <[u8; 32]>::decode(input).map_err(err)?;
        Compact::<u32>::decode(input).map_err(err)?;
        <[u8; 32]>::decode(input).map_err(err)?;
        <[u8; 32]>::decode(input).map_err(err)?;
        Vec::<DigestItem>::decode(input).map_err(err)?;
        let used = start.len() - input.len();
        start
            .get(..used)
            .ok_or_else(|| HeaderError("a header runs past its input".into()))
    }

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

    /// The Aura slot the block was authored in (its `aura` pre-runtime digest), if it has one
    /// (a genesis header has none).
    pub fn aura_slot(&self) -> Option<u64> {
        self.digest.iter().find_map(|item| match item {
            DigestItem::PreRuntime([b'a', b'u', b'r', b'a'], data) => {
                <[u8; 8]>::try_from(data.as_slice())
                    .ok()
                    .map(u64::from_le_bytes)
            }
            _ => None,
        })
    }

    /// Whether the block changed the runtime's code or heap pages.
    pub fn runtime_updated(&self) -> bool {
        self.digest
            .iter()
            .any(|item| matches!(item, DigestItem::RuntimeEnvironmentUpdated))
    }

    /// The GRANDPA authority set changes the header announces, in digest order. A GRANDPA log
    /// that does not decode is an error: a change must never be missed for want of reading it.
    pub fn grandpa_changes(&self) -> Result<Vec<GrandpaChange>, HeaderError> {
        let mut changes = Vec::new();
        for item in &self.digest {
            let DigestItem::Consensus(engine, data) = item else {
                continue;
            };
            if engine != b"FRNK" {
                continue;
            }
            let log = GrandpaLog::decode_all(&mut data.as_slice())
                .map_err(|e| HeaderError(format!("a GRANDPA digest log does not decode: {e}")))?;
            let (forced, change) = match log {
                GrandpaLog::Scheduled(change) => (false, change),
                GrandpaLog::Forced(_, change) => (true, change),
                GrandpaLog::OnDisabled(_) | GrandpaLog::Pause(_) | GrandpaLog::Resume(_) => {
                    continue;
                }
            };
            changes.push(GrandpaChange {
                forced,
                delay: change.delay,
                next_authorities: change.next_authorities,
            });
        }
        Ok(changes)
    }
}
