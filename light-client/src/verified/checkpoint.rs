//! The trust anchor: a finalized block and the GRANDPA authority set that finalizes the blocks
//! after it.
//!
//! Everything the verified-RPC transport accepts is checked against what it already trusts, so
//! something must be trusted first. Like the chain spec (which names the genesis block), a
//! checkpoint comes from a source the user chooses: shipped with the app, built by
//! `taoscope checkpoint` against a node the user runs, or imported by hand. What it claims
//! about itself is checked (the header hashes to the block hash, the number matches, the set
//! is usable); whether its authorities are the chain's real ones cannot be checked, which is
//! why the app shows where it came from and how old it is.
//!
//! The file is JSON, versioned by `version` (a reader refuses versions it does not know):
//! ```json
//! { "version": 1, "genesisHash": "0x…",
//!   "block": { "number": 120, "hash": "0x…", "header": "0x…" },
//!   "grandpa": { "setId": 0, "authorities": [{ "publicKey": "0x…", "weight": 1 }] },
//!   "createdAtMs": 1795000000000, "source": "ws://127.0.0.1:9944" }
//! ```
//! Unknown fields are ignored (the localnet's `taoscope_checkpoint` adds Aura facts and
//! smoldot's database content for the p2p transport).

use crate::header::Header;
use crate::metadata::{from_hex, to_hex};
use serde_json::{Value, json};
use std::fmt;

/// The checkpoint format this code reads and writes.
pub const FORMAT_VERSION: u64 = 1;

/// How old a checkpoint may be before the app warns: GRANDPA authorities of an old set may have
/// unbonded, and keys they no longer care about could sign a fork nobody else follows.
pub const DEFAULT_MAX_AGE_MS: u64 = 14 * 24 * 3600 * 1000;

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
    /// When the checkpoint was made (Unix milliseconds), if the file says.
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
        let version = integer(&json["version"], "version")?;
        if version != FORMAT_VERSION {
            return Err(CheckpointError::Version { found: version });
        }
        let block = &json["block"];
        let header_hex = block["header"]
            .as_str()
            .ok_or_else(|| field("block.header", "not a hex string"))?;
        let header = from_hex(header_hex).map_err(|e| field("block.header", e))?;
        let authorities = json["grandpa"]["authorities"]
            .as_array()
            .ok_or_else(|| field("grandpa.authorities", "not a list"))?
            .iter()
            .map(|entry| {
                Ok(Authority {
                    public_key: hash32(&entry["publicKey"], "grandpa.authorities[].publicKey")?,
                    weight: integer(&entry["weight"], "grandpa.authorities[].weight")?,
                })
            })
            .collect::<Result<Vec<_>, CheckpointError>>()?;
        let checkpoint = Checkpoint {
            genesis_hash: hash32(&json["genesisHash"], "genesisHash")?,
            number: integer(&block["number"], "block.number")?,
            hash: hash32(&block["hash"], "block.hash")?,
            header,
            set_id: integer(&json["grandpa"]["setId"], "grandpa.setId")?,
            authorities,
            created_at_ms: json["createdAtMs"].as_u64(),
            source: json["source"].as_str().map(str::to_string),
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
        if let Some(at) = self.created_at_ms {
            json["createdAtMs"] = json!(at);
        }
        if let Some(source) = &self.source {
            json["source"] = json!(source);
        }
        json
    }

    /// How old the checkpoint is at `now_ms`, when it says when it was made.
    pub fn age_ms(&self, now_ms: u64) -> Option<u64> {
        self.created_at_ms.map(|at| now_ms.saturating_sub(at))
    }

    /// A warning for the user when the checkpoint is older than `max_age_ms` (or undated).
    pub fn age_warning(&self, now_ms: u64, max_age_ms: u64) -> Option<String> {
        match self.age_ms(now_ms) {
            None => Some(
                "the checkpoint does not say when it was made; check its source, or make a new \
                 one with `taoscope checkpoint`"
                    .into(),
            ),
            Some(age) if age > max_age_ms => Some(format!(
                "the checkpoint is {} days old (more than {}): the authorities it names may no \
                 longer be bonded; make a new one with `taoscope checkpoint` from a node you trust",
                age / 86_400_000,
                max_age_ms / 86_400_000
            )),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A genesis-like header: parent 0, number `number`, empty digest.
    fn header(number: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 32];
        bytes.extend(parity_scale_codec::Encode::encode(
            &parity_scale_codec::Compact(number),
        ));
        bytes.extend([1u8; 32]); // state root
        bytes.extend([2u8; 32]); // extrinsics root
        bytes.push(0); // no digest items
        bytes
    }

    fn sample() -> Checkpoint {
        let header = header(7);
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
    fn warns_when_old_or_undated() {
        let checkpoint = sample();
        assert_eq!(checkpoint.age_warning(2_000, DEFAULT_MAX_AGE_MS), None);
        let later = 1_000 + 20 * 86_400_000;
        let warning = checkpoint.age_warning(later, DEFAULT_MAX_AGE_MS).unwrap();
        assert!(warning.contains("20 days old"), "{warning}");
        let undated = Checkpoint {
            created_at_ms: None,
            ..sample()
        };
        assert!(undated.age_warning(later, DEFAULT_MAX_AGE_MS).is_some());
    }
}
