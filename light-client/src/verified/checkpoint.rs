//! The trust anchor: a finalized block and the GRANDPA authority set that finalizes the blocks
//! after it.
//!
//! Everything the verified-RPC transport accepts is checked against what it already trusts, so
//! something must be trusted first. Like the chain spec (which names the genesis block), a
//! checkpoint comes from a source the user chooses: shipped with the app, built by
//! `taoscope checkpoint` against a node the user runs, imported by hand, or saved by the client
//! itself from a block it proved on an earlier visit. What it claims about itself is checked
//! (the header hashes to the block hash, the number matches, the set has weight); what it claims
//! about the world is bounded:
//! - its chain: the genesis hash must be the network's own ([`Checkpoint::accept`]), so a
//!   checkpoint of another chain (a testnet's, a fork's) is refused before anything is asked;
//! - its age: read from the header's own Aura slot (slot × slot duration), never from a field
//!   the file declares about itself. Past the maximum age (30 days by default) it is refused
//!   unless the user accepts it explicitly: the authorities it names may have unbonded long ago,
//!   and keys nobody cares for any more could sign a fork that only this client would follow
//!   (helios's strict checkpoint age, for GRANDPA).
//!
//! Whether its authorities are the chain's real ones cannot be checked, which is why the app
//! shows where it came from and how old it is.
//!
//! The file is JSON, versioned by `version` (a reader refuses versions it does not know):
//! ```json
//! { "version": 1, "genesisHash": "0x…",
//!   "block": { "number": 120, "hash": "0x…", "header": "0x…" },
//!   "grandpa": { "setId": 0, "authorities": [{ "publicKey": "0x…", "weight": 1 }] },
//!   "createdAtMs": 1795000000000, "source": "ws://127.0.0.1:9944" }
//! ```
//! `createdAtMs` and `source` are shown, never trusted. Unknown fields are ignored (the
//! localnet's `taoscope_checkpoint` adds Aura facts and smoldot's database content for the p2p
//! transport).

use crate::header::Header;
use crate::hex::{from_hex, to_hex};
use serde_json::{Value, json};
use std::fmt;

/// The checkpoint format this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// How old a checkpoint may be before it is refused without the user's explicit word.
pub const DEFAULT_MAX_AGE_MS: u64 = 30 * DAY_MS;

const DAY_MS: u64 = 24 * 3600 * 1000;

/// Bittensor's Aura slot (12 s blocks), Finney's and the localnet's: a network fact, not
/// something a checkpoint file may declare.
pub const BITTENSOR_SLOT_MS: u64 = 12_000;

/// How a checkpoint's age is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgePolicy {
    /// Refused when its slot is older than this many milliseconds, or when it has no slot.
    MaxAge(u64),
    /// The user accepted it as it is (or it ships with the app for a chain on this machine).
    Accepted,
}

/// What a network asks of a checkpoint before the client starts from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Acceptance {
    /// The network's genesis hash.
    pub genesis_hash: [u8; 32],
    pub slot_ms: u64,
    pub now_ms: u64,
    pub age: AgePolicy,
}

/// A GRANDPA voter: its ed25519 key and voting weight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    pub public_key: [u8; 32],
    pub weight: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub genesis_hash: [u8; 32],
    pub number: u64,
    pub hash: [u8; 32],
    /// The SCALE header of the block, which hashes to `hash`.
    pub header: Vec<u8>,
    /// The GRANDPA set that finalizes the blocks after this one, and its id.
    pub set_id: u64,
    pub authorities: Vec<Authority>,
    /// When the checkpoint was made (Unix milliseconds), if the file says: shown, never used
    /// to judge its age (see [`Checkpoint::slot_time_ms`]).
    pub created_at_ms: Option<u64>,
    /// Where it was made from (an endpoint, "shipped with taoscope"), if the file says.
    pub source: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointError {
    NotJson(String),
    /// The file is of a format version this code does not read.
    Version {
        found: u64,
    },
    /// A field is missing or not of its type.
    Field {
        field: &'static str,
        why: String,
    },
    /// The header does not hash to the block hash the file names.
    HashMismatch {
        claimed: String,
        computed: String,
    },
    /// The header's number is not the block number the file names.
    NumberMismatch {
        claimed: u64,
        in_header: u64,
    },
    /// No authority with a weight: nothing could ever be finalized from here.
    NoAuthorities,
    /// The checkpoint is of another chain than the network's.
    OtherChain {
        found: String,
        expected: String,
    },
    /// The checkpoint's block is older than the maximum age.
    TooOld {
        age_days: u64,
        max_days: u64,
    },
    /// The checkpoint's header carries no Aura slot (a genesis header), so its age is unknown.
    Undated,
    /// The checkpoint's block is dated more than a day after now: a clock is wrong, or the file.
    FromTheFuture {
        days: u64,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::NotJson(why) => write!(f, "the checkpoint is not JSON: {why}"),
            CheckpointError::Version { found } => write!(
                f,
                "the checkpoint is of format version {found}; this taoscope reads version \
                 {FORMAT_VERSION}. Make a new one with `taoscope checkpoint`"
            ),
            CheckpointError::Field { field, why } => {
                write!(f, "the checkpoint's `{field}` is unusable: {why}")
            }
            CheckpointError::HashMismatch { claimed, computed } => write!(
                f,
                "the checkpoint's header hashes to {computed}, not to the block hash it names \
                 ({claimed}): the file is corrupt or was edited"
            ),
            CheckpointError::NumberMismatch { claimed, in_header } => write!(
                f,
                "the checkpoint names block #{claimed} but its header is block #{in_header}"
            ),
            CheckpointError::NoAuthorities => write!(
                f,
                "the checkpoint's GRANDPA authority set is empty (or every weight is 0)"
            ),
            CheckpointError::OtherChain { found, expected } => write!(
                f,
                "the checkpoint is of another chain (genesis {found}), not this network's \
                 (genesis {expected}): make one with `taoscope checkpoint --rpc URL` against an \
                 endpoint of this network"
            ),
            CheckpointError::TooOld { age_days, max_days } => write!(
                f,
                "the checkpoint's block is {age_days} days old (more than {max_days}): the \
                 authorities it names may no longer be bonded, and their old keys could sign a \
                 fork only this client would follow. Make a new one with `taoscope checkpoint` \
                 from a node you trust, or accept this one explicitly"
            ),
            CheckpointError::FromTheFuture { days } => write!(
                f,
                "the checkpoint's block is dated {days} days from now by its slot: this \
                 computer's clock is wrong, or the checkpoint is not of this network"
            ),
            CheckpointError::Undated => write!(
                f,
                "the checkpoint's block carries no Aura slot (a genesis block), so its age is \
                 unknown: accept it explicitly, or make one at a later block with `taoscope \
                 checkpoint`"
            ),
        }
    }
}

impl std::error::Error for CheckpointError {}

fn field(field: &'static str, why: impl Into<String>) -> CheckpointError {
    CheckpointError::Field {
        field,
        why: why.into(),
    }
}

fn hash32(value: &Value, name: &'static str) -> Result<[u8; 32], CheckpointError> {
    let text = value
        .as_str()
        .ok_or_else(|| field(name, "not a hex string"))?;
    let bytes = from_hex(text).map_err(|e| field(name, e))?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| field(name, format!("{} bytes, not 32", bytes.len())))
}

/// `value[key]`, or `null` (a missing field reads as absent, never panics).
fn at<'v>(value: &'v Value, key: &str) -> &'v Value {
    value.get(key).unwrap_or(&Value::Null)
}

fn integer(value: &Value, name: &'static str) -> Result<u64, CheckpointError> {
    value
        .as_u64()
        .ok_or_else(|| field(name, "not a non-negative integer"))
}

impl Checkpoint {
    /// Reads and checks a checkpoint file.
    pub fn from_json(text: &str) -> Result<Self, CheckpointError> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| CheckpointError::NotJson(e.to_string()))?;
        let version = integer(at(&json, "version"), "version")?;
        if version != FORMAT_VERSION {
            return Err(CheckpointError::Version { found: version });
        }
        let block = at(&json, "block");
        let header_hex = at(block, "header")
            .as_str()
            .ok_or_else(|| field("block.header", "not a hex string"))?;
        let header = from_hex(header_hex).map_err(|e| field("block.header", e))?;
        let grandpa = at(&json, "grandpa");
        let authorities = at(grandpa, "authorities")
            .as_array()
            .ok_or_else(|| field("grandpa.authorities", "not a list"))?
            .iter()
            .map(|entry| {
                Ok(Authority {
                    public_key: hash32(at(entry, "publicKey"), "grandpa.authorities[].publicKey")?,
                    weight: integer(at(entry, "weight"), "grandpa.authorities[].weight")?,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let checkpoint = Checkpoint {
            genesis_hash: hash32(at(&json, "genesisHash"), "genesisHash")?,
            number: integer(at(block, "number"), "block.number")?,
            hash: hash32(at(block, "hash"), "block.hash")?,
            header,
            set_id: integer(at(grandpa, "setId"), "grandpa.setId")?,
            authorities,
            created_at_ms: at(&json, "createdAtMs").as_u64(),
            source: at(&json, "source").as_str().map(str::to_string),
        };
        checkpoint.check()?;
        Ok(checkpoint)
    }

    /// What the file claims about itself holds together.
    fn check(&self) -> Result<(), CheckpointError> {
        let decoded = Header::decode(&self.header)
            .map_err(|e| field("block.header", format!("not a block header: {e}")))?;
        let computed = decoded.hash;
        if computed != self.hash {
            return Err(CheckpointError::HashMismatch {
                claimed: to_hex(&self.hash),
                computed: to_hex(&computed),
            });
        }
        if u64::from(decoded.number) != self.number {
            return Err(CheckpointError::NumberMismatch {
                claimed: self.number,
                in_header: u64::from(decoded.number),
            });
        }
        if self.authorities.iter().all(|a| a.weight == 0) {
            return Err(CheckpointError::NoAuthorities);
        }
        Ok(())
    }

    /// The file's JSON (what [`Checkpoint::from_json`] reads back).
    pub fn to_json(&self) -> Value {
        let mut json = json!({
            "version": FORMAT_VERSION,
            "genesisHash": to_hex(&self.genesis_hash),
            "block": {
                "number": self.number,
                "hash": to_hex(&self.hash),
                "header": to_hex(&self.header),
            },
            "grandpa": {
                "setId": self.set_id,
                "authorities": self.authorities.iter().map(|a| json!({
                    "publicKey": to_hex(&a.public_key),
                    "weight": a.weight,
                })).collect::<Vec<_>>(),
            },
        });
        if let Some(fields) = json.as_object_mut() {
            if let Some(at) = self.created_at_ms {
                fields.insert("createdAtMs".into(), json!(at));
            }
            if let Some(source) = &self.source {
                fields.insert("source".into(), json!(source));
            }
        }
        json
    }

    /// When the checkpoint's block was authored (Unix milliseconds): its Aura slot times the
    /// slot duration. `None` for a header without a slot (genesis).
    pub fn slot_time_ms(&self, slot_ms: u64) -> Option<u64> {
        let slot = Header::decode(&self.header).ok()?.aura_slot()?;
        slot.checked_mul(slot_ms)
    }

    /// How old the checkpoint's block is at `now_ms`, by its slot.
    pub fn age_ms(&self, now_ms: u64, slot_ms: u64) -> Option<u64> {
        self.slot_time_ms(slot_ms)
            .map(|at| now_ms.saturating_sub(at))
    }

    /// Whether a network may start from this checkpoint: of its chain, and young enough (or
    /// accepted as it is).
    pub fn accept(&self, acceptance: &Acceptance) -> Result<(), CheckpointError> {
        if self.genesis_hash != acceptance.genesis_hash {
            return Err(CheckpointError::OtherChain {
                found: to_hex(&self.genesis_hash),
                expected: to_hex(&acceptance.genesis_hash),
            });
        }
        let AgePolicy::MaxAge(max_age_ms) = acceptance.age else {
            return Ok(());
        };
        let Some(at) = self.slot_time_ms(acceptance.slot_ms) else {
            return Err(CheckpointError::Undated);
        };
        if at > acceptance.now_ms.saturating_add(DAY_MS) {
            return Err(CheckpointError::FromTheFuture {
                days: (at - acceptance.now_ms).div_ceil(DAY_MS),
            });
        }
        match self.age_ms(acceptance.now_ms, acceptance.slot_ms) {
            None => Err(CheckpointError::Undated),
            Some(age) if age > max_age_ms => Err(CheckpointError::TooOld {
                age_days: age / DAY_MS,
                max_days: max_age_ms / DAY_MS,
            }),
            Some(_) => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A header with parent 0 and number `number`, authored in Aura `slot` (none: genesis-like).
    fn header(number: u32, slot: Option<u64>) -> Vec<u8> {
        use parity_scale_codec::{Compact, Encode};
        let mut bytes = vec![0u8; 32];
        bytes.extend(Compact(number).encode());
        bytes.extend([1u8; 32]); // state root
        bytes.extend([2u8; 32]); // extrinsics root
        match slot {
            None => bytes.push(0),
            Some(slot) => {
                bytes.push(4); // one digest item
                bytes.push(6); // PreRuntime
                bytes.extend(*b"aura");
                slot.to_le_bytes().to_vec().encode_to(&mut bytes);
            }
        }
        bytes
    }

    /// Slot 1 000 000 of 12 s: block time 12 000 000 000 ms (139 days after the epoch).
    const SLOT_TIME: u64 = 12_000_000_000;

    fn sample() -> Checkpoint {
        let header = header(7, Some(1_000_000));
        Checkpoint {
            genesis_hash: [9; 32],
            number: 7,
            hash: crate::hashing::blake2_256(&header),
            header,
            set_id: 3,
            authorities: vec![Authority {
                public_key: [4; 32],
                weight: 1,
            }],
            created_at_ms: Some(1_000),
            source: Some("test".into()),
        }
    }

    #[test]
    fn round_trips_through_json() {
        let checkpoint = sample();
        let text = checkpoint.to_json().to_string();
        assert_eq!(Checkpoint::from_json(&text), Ok(checkpoint));
    }

    #[test]
    fn refuses_what_does_not_hold_together() {
        let mut json = sample().to_json();
        json["block"]["hash"] = json!(to_hex(&[0; 32]));
        let error = Checkpoint::from_json(&json.to_string()).unwrap_err();
        assert!(
            matches!(error, CheckpointError::HashMismatch { .. }),
            "{error}"
        );

        let mut json = sample().to_json();
        json["block"]["number"] = json!(8);
        let error = Checkpoint::from_json(&json.to_string()).unwrap_err();
        assert_eq!(
            error,
            CheckpointError::NumberMismatch {
                claimed: 8,
                in_header: 7
            }
        );

        let mut json = sample().to_json();
        json["version"] = json!(2);
        assert_eq!(
            Checkpoint::from_json(&json.to_string()),
            Err(CheckpointError::Version { found: 2 })
        );

        let mut json = sample().to_json();
        json["grandpa"]["authorities"][0]["weight"] = json!(0);
        assert_eq!(
            Checkpoint::from_json(&json.to_string()),
            Err(CheckpointError::NoAuthorities)
        );

        let mut json = sample().to_json();
        json["block"]["header"] = json!("0x0102");
        let error = Checkpoint::from_json(&json.to_string()).unwrap_err();
        assert!(error.to_string().contains("block.header"), "{error}");

        assert!(matches!(
            Checkpoint::from_json("{"),
            Err(CheckpointError::NotJson(_))
        ));
    }

    #[test]
    fn age_comes_from_the_slot_and_the_chain_must_be_the_networks() {
        let checkpoint = sample();
        assert_eq!(checkpoint.slot_time_ms(BITTENSOR_SLOT_MS), Some(SLOT_TIME));
        let at = |now_ms, age| Acceptance {
            genesis_hash: [9; 32],
            slot_ms: BITTENSOR_SLOT_MS,
            now_ms,
            age,
        };
        let young = SLOT_TIME + 29 * DAY_MS;
        let old = SLOT_TIME + 31 * DAY_MS;
        let limit = AgePolicy::MaxAge(DEFAULT_MAX_AGE_MS);
        assert_eq!(checkpoint.accept(&at(young, limit)), Ok(()));
        assert_eq!(
            checkpoint.accept(&at(old, limit)),
            Err(CheckpointError::TooOld {
                age_days: 31,
                max_days: 30
            })
        );
        assert_eq!(checkpoint.accept(&at(old, AgePolicy::Accepted)), Ok(()));
        // A block dated well after now is no checkpoint of this network's clock.
        let before = SLOT_TIME - 3 * DAY_MS;
        assert_eq!(
            checkpoint.accept(&at(before, limit)),
            Err(CheckpointError::FromTheFuture { days: 3 })
        );
        assert_eq!(checkpoint.accept(&at(SLOT_TIME - 3_600_000, limit)), Ok(()));
        // What the file says about its own making does not count.
        let claims_young = Checkpoint {
            created_at_ms: Some(old),
            ..sample()
        };
        assert!(claims_young.accept(&at(old, limit)).is_err());

        let genesis_like = Checkpoint {
            header: header(7, None),
            hash: crate::hashing::blake2_256(&header(7, None)),
            ..sample()
        };
        assert_eq!(
            genesis_like.accept(&at(young, limit)),
            Err(CheckpointError::Undated)
        );
        assert_eq!(genesis_like.accept(&at(young, AgePolicy::Accepted)), Ok(()));

        let elsewhere = Acceptance {
            genesis_hash: [8; 32],
            ..at(young, AgePolicy::Accepted)
        };
        let error = checkpoint.accept(&elsewhere).unwrap_err();
        assert!(
            matches!(error, CheckpointError::OtherChain { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("another chain"), "{error}");
    }
}
