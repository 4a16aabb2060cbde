//! What this node answers on Substrate's peer-to-peer protocols, as bytes in and bytes out:
//! block requests, light-client requests (storage and call proofs), GRANDPA warp sync, and the
//! block-announce handshake and announcements. Sans-I/O: the network loop hands requests here
//! and sends back what comes out.
//!
//! Every request is a peer's untrusted bytes: malformed ones get a [`ProtocolError`] (the loop
//! answers with an error and keeps the peer honest or drops it), sizes are capped, and nothing
//! here panics on them.

use crate::chain::{BLOCK_NUMBER_BYTES, Block, Chain};
use crate::proof::{StateTrie, Tries, encode_proof};
use parity_scale_codec::{Compact, Encode};
use smoldot::network::codec;
use std::fmt;

/// Blocks in one block response at most (Substrate's limit is 128 too).
pub const MAX_BLOCKS_PER_RESPONSE: u32 = 128;

/// Keys in one storage proof request at most.
pub const MAX_KEYS_PER_REQUEST: usize = 1024;

/// The protocol names of a chain: `/<genesis hash hex>/<protocol>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProtocolNames {
    pub block_announces: String,
    pub sync: String,
    pub light: String,
    pub warp_sync: String,
    pub grandpa: String,
    pub transactions: String,
}

impl ProtocolNames {
    pub fn of(genesis_hash: &[u8; 32]) -> Self {
        let prefix: String = genesis_hash.iter().map(|b| format!("{b:02x}")).collect();
        let name = |protocol: &str| format!("/{prefix}/{protocol}");
        Self {
            block_announces: name("block-announces/1"),
            sync: name("sync/2"),
            light: name("light/2"),
            warp_sync: name("sync/warp"),
            grandpa: name("grandpa/1"),
            transactions: name("transactions/1"),
        }
    }
}

pub const IDENTIFY: &str = "/ipfs/id/1.0.0";
pub const PING: &str = "/ipfs/ping/1.0.0";

#[derive(Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// The request's bytes are not what the protocol says.
    Malformed(&'static str, String),
    /// The block is not known (or its state is no longer kept).
    UnknownBlock(String),
    /// The runtime call of a call-proof request failed.
    Call(String),
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Malformed(protocol, why) => {
                write!(f, "malformed {protocol} request: {why}")
            }
            ProtocolError::UnknownBlock(which) => write!(f, "unknown block {which}"),
            ProtocolError::Call(why) => write!(f, "call proof: {why}"),
        }
    }
}

impl std::error::Error for ProtocolError {}

fn hex(bytes: &[u8]) -> String {
    taoscope_light_client::hex::to_hex(bytes)
}

fn concat(parts: impl Iterator<Item = impl AsRef<[u8]>>) -> Vec<u8> {
    parts.fold(Vec::new(), |mut out, part| {
        out.extend_from_slice(part.as_ref());
        out
    })
}

/// Our block-announces handshake: a full node at the best (and finalized) block.
pub fn block_announces_handshake(chain: &Chain) -> Vec<u8> {
    let best = chain.best();
    concat(codec::encode_block_announces_handshake(
        codec::BlockAnnouncesHandshakeRef {
            role: codec::Role::Authority,
            best_number: best.number,
            best_hash: &best.hash,
            genesis_hash: &chain.genesis().hash,
        },
        BLOCK_NUMBER_BYTES,
    ))
}

/// The announcement of a new best block.
pub fn block_announce(block: &Block) -> Vec<u8> {
    concat(codec::encode_block_announce(codec::BlockAnnounceRef {
        scale_encoded_header: &block.header,
        is_best: true,
    }))
}

/// The GRANDPA gossip message that tells peers a block is final: a compact commit (targets
/// apart from signatures) rebuilt from the block's justification, for the authority set
/// `set_id`. Light clients follow finality from these between warp syncs.
pub fn grandpa_commit(justification: &[u8], set_id: u64) -> Result<Vec<u8>, ProtocolError> {
    let decoded =
        smoldot::finality::decode::decode_grandpa_justification(justification, BLOCK_NUMBER_BYTES)
            .map_err(|e| ProtocolError::Malformed("justification", e.to_string()))?;
    let number = |n: u64| {
        u32::try_from(n)
            .map_err(|_| ProtocolError::Malformed("justification", format!("block number {n}")))
    };
    let precommits: Vec<_> = decoded.precommits.iter().collect();
    let mut out = vec![1u8]; // GRANDPA message kind 1: commit
    out.extend_from_slice(&decoded.round.to_le_bytes());
    out.extend_from_slice(&set_id.to_le_bytes());
    out.extend_from_slice(decoded.target_hash);
    out.extend_from_slice(&number(decoded.target_number)?.to_le_bytes());
    let count = compact(precommits.len());
    out.extend_from_slice(&count);
    for precommit in &precommits {
        out.extend_from_slice(precommit.target_hash);
        out.extend_from_slice(&number(precommit.target_number)?.to_le_bytes());
    }
    out.extend_from_slice(&count);
    for precommit in &precommits {
        out.extend_from_slice(precommit.signature);
        out.extend_from_slice(precommit.authority_public_key);
    }
    Ok(out)
}

/// The GRANDPA neighbor packet: the voting round, the authority set and the height of the last
/// commit. smoldot-light waits for one (up to 30 s) before it chooses warp sync over
/// downloading every block; Substrate nodes send it when the substream opens and as it changes.
pub fn grandpa_neighbor_packet(round: u64, set_id: u64, commit_finalized_height: u64) -> Vec<u8> {
    concat(
        codec::GrandpaNotificationRef::Neighbor(codec::NeighborPacket {
            round_number: round,
            set_id,
            commit_finalized_height,
        })
        .scale_encoding(BLOCK_NUMBER_BYTES),
    )
}

fn compact(n: usize) -> Vec<u8> {
    use parity_scale_codec::{Compact, Encode};
    Compact(n as u64).encode()
}

/// `/sync/2`: headers, bodies and justifications of a run of blocks.
pub fn answer_block_request(chain: &Chain, request: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    let config = codec::decode_block_request(BLOCK_NUMBER_BYTES, request)
        .map_err(|e| ProtocolError::Malformed("block", e.to_string()))?;
    let first = match config.start {
        codec::BlocksRequestConfigStart::Hash(hash) => {
            chain
                .block_by_hash(&hash)
                .ok_or_else(|| ProtocolError::UnknownBlock(hex(&hash)))?
                .number
        }
        codec::BlocksRequestConfigStart::Number(number) => {
            chain
                .block(number)
                .ok_or_else(|| ProtocolError::UnknownBlock(number.to_string()))?
                .number
        }
    };
    let count = u64::from(config.desired_count.get().min(MAX_BLOCKS_PER_RESPONSE));
    let numbers: Vec<u64> = match config.direction {
        codec::BlocksRequestDirection::Ascending => (first..first.saturating_add(count)).collect(),
        codec::BlocksRequestDirection::Descending => {
            (first.saturating_sub(count - 1)..=first).rev().collect()
        }
    };
    let blocks = numbers
        .into_iter()
        .filter_map(|n| chain.block(n))
        .map(|block| codec::BlockData {
            hash: block.hash,
            header: config.fields.header.then(|| block.header.clone()),
            body: config.fields.body.then(|| block.body.clone()),
            justifications: config.fields.justifications.then(|| {
                block
                    .justification
                    .iter()
                    .map(|j| codec::Justification {
                        engine_id: *b"FRNK",
                        justification: j.clone(),
                    })
                    .collect()
            }),
        })
        .collect();
    Ok(concat(codec::build_block_response(blocks)))
}

/// `/sync/warp`: from any block, the proof that the latest block is final: one fragment (header
/// and justification) for the last block of each GRANDPA set since then, whose header carries
/// the change to the next set, and one for the latest block.
pub fn answer_warp_sync(chain: &Chain, request: &[u8]) -> Result<Vec<u8>, ProtocolError> {
    let begin: [u8; 32] = request.try_into().map_err(|_| {
        ProtocolError::Malformed(
            "warp sync",
            format!("{} bytes, not a block hash", request.len()),
        )
    })?;
    let begin = chain
        .block_by_hash(&begin)
        .ok_or_else(|| ProtocolError::UnknownBlock(hex(&begin)))?;
    let best = chain.best().number;
    let mut numbers: Vec<u64> = chain
        .set_ends()
        .iter()
        .copied()
        .filter(|&end| end > begin.number)
        .collect();
    if begin.number < best && numbers.last() != Some(&best) {
        numbers.push(best);
    }
    let fragments: Vec<&Block> = numbers
        .iter()
        .filter_map(|&n| chain.block(n))
        .filter(|block| block.justification.is_some())
        .collect();
    let mut out = Vec::new();
    Compact(u32::try_from(fragments.len()).unwrap_or(u32::MAX)).encode_to(&mut out);
    for block in fragments {
        out.extend_from_slice(&block.header);
        out.extend_from_slice(block.justification.as_deref().unwrap_or_default());
    }
    out.push(1); // is_finished
    Ok(out)
}

/// One protobuf field: number and (for length-delimited fields) its bytes.
fn protobuf_fields(mut bytes: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let tag = varint(&mut bytes)?;
        match tag & 0b111 {
            0 => {
                varint(&mut bytes)?;
            }
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).ok()?;
                let (value, rest) = (bytes.get(..len)?, bytes.get(len..)?);
                fields.push((tag >> 3, value));
                bytes = rest;
            }
            _ => return None,
        }
    }
    Some(fields)
}

fn protobuf_bytes(field: u64, value: &[u8], out: &mut Vec<u8>) {
    let varint = |mut v: u64, out: &mut Vec<u8>| loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    };
    varint((field << 3) | 2, out);
    varint(value.len() as u64, out);
    out.extend_from_slice(value);
}

/// `/light/2`: a storage proof (remote read) or a call proof (remote call) at a block. Reads
/// prove from `tries`' kept trie of the block.
pub fn answer_light_request(
    chain: &mut Chain,
    tries: &Tries,
    request: &[u8],
) -> Result<Vec<u8>, ProtocolError> {
    let malformed = |why: &str| ProtocolError::Malformed("light-client", why.to_string());
    let fields = protobuf_fields(request).ok_or_else(|| malformed("not protobuf"))?;
    let (kind, body) = match fields.as_slice() {
        [(kind @ (1 | 2), body)] => (*kind, *body),
        [(4, _)] => {
            return Err(malformed(
                "child tries are not served (this chain has none)",
            ));
        }
        _ => return Err(malformed("expected one remote call or remote read request")),
    };
    let inner = protobuf_fields(body).ok_or_else(|| malformed("not protobuf"))?;
    let block: [u8; 32] = inner
        .iter()
        .find(|(n, _)| *n == 2)
        .and_then(|(_, v)| (*v).try_into().ok())
        .ok_or_else(|| malformed("no 32-byte block hash"))?;
    let number = chain
        .block_by_hash(&block)
        .ok_or_else(|| ProtocolError::UnknownBlock(hex(&block)))?
        .number;
    let state = chain
        .state(number)
        .map_err(|e| ProtocolError::UnknownBlock(e.to_string()))?;
    let version = chain.runtime().state_version();
    let proof = if kind == 2 {
        let keys: Vec<&[u8]> = inner
            .iter()
            .filter(|(n, _)| *n == 3)
            .map(|(_, k)| *k)
            .collect();
        if keys.len() > MAX_KEYS_PER_REQUEST {
            return Err(malformed("too many keys"));
        }
        tries.read_proof(block, &state, version, keys)
    } else {
        let method = inner
            .iter()
            .find(|(n, _)| *n == 3)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .ok_or_else(|| malformed("no method name"))?;
        let data = inner
            .iter()
            .find(|(n, _)| *n == 4)
            .map_or(&[][..], |(_, v)| *v);
        // The call must succeed here for its proof to mean anything to the asker.
        crate::rpc::call_at(chain, number, method, data)
            .map_err(|e| ProtocolError::Call(e.message))?;
        // The whole (small) trie: every node any call on this state can read.
        StateTrie::new(&state, version).whole_proof()
    };
    let mut inner = Vec::new();
    protobuf_bytes(2, &encode_proof(&proof), &mut inner);
    let mut out = Vec::new();
    protobuf_bytes(kind, &inner, &mut out);
    Ok(out)
}
