//! Calls and signed extrinsics, built from the metadata of the runtime they are sent to.
//!
//! The call is encoded by its pallet and call name with the arguments' metadata types. The
//! transaction extensions (what a signed extrinsic carries besides the call, and what only its
//! signature covers) are read from the metadata in the runtime's order; each one this crate knows
//! gets its value from [`Transaction`], and an unknown one is accepted only when it carries
//! nothing, so a runtime that adds a real extension gets a clear error, not a transaction the
//! chain would reject (or worse, accept with a default the user never chose).
//!
//! Signing happens behind [`Signer`], so a browser wallet extension can sign instead of a key in
//! this process; the payload it signs is exactly the runtime's (hashed when above 256 bytes).

use crate::hashing::blake2_256;
use crate::metadata::Metadata;
use crate::storage::layout;
use crate::value::{self, ValueError};
use parity_scale_codec::{Compact, Decode, Encode};
use serde_json::{Map, Value};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtrinsicError {
    UnknownCall {
        pallet: String,
        call: String,
        spec_version: u32,
    },
    MissingArgument {
        call: String,
        argument: String,
    },
    UnknownArgument {
        call: String,
        argument: String,
        expected: Vec<String>,
    },
    Argument {
        call: String,
        argument: String,
        error: ValueError,
    },
    /// An extension this build cannot fill (it carries data it does not know how to choose).
    UnsupportedExtension {
        identifier: String,
        spec_version: u32,
    },
    /// The wallet or key refused or failed to sign.
    Signing(String),
}

impl fmt::Display for ExtrinsicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExtrinsicError::UnknownCall {
                pallet,
                call,
                spec_version,
            } => write!(f, "runtime spec {spec_version} has no call {pallet}.{call}"),
            ExtrinsicError::MissingArgument { call, argument } => {
                write!(f, "{call}: the argument `{argument}` is missing")
            }
            ExtrinsicError::UnknownArgument {
                call,
                argument,
                expected,
            } => write!(
                f,
                "{call} has no argument `{argument}` (it takes {})",
                expected.join(", ")
            ),
            ExtrinsicError::Argument {
                call,
                argument,
                error,
            } => write!(f, "{call}, argument `{argument}`: {error}"),
            ExtrinsicError::UnsupportedExtension {
                identifier,
                spec_version,
            } => write!(
                f,
                "runtime spec {spec_version} requires the transaction extension {identifier}, which this build cannot fill: update taoscope"
            ),
            ExtrinsicError::Signing(why) => write!(f, "signing failed: {why}"),
        }
    }
}

impl std::error::Error for ExtrinsicError {}

/// Encodes `pallet.call` with `args` (an object keyed by the call's argument names).
pub fn encode_call(
    metadata: &Metadata,
    pallet: &str,
    call: &str,
    args: &Map<String, Value>,
) -> Result<Vec<u8>, ExtrinsicError> {
    let name = format!("{pallet}.{call}");
    let info = metadata
        .call(pallet, call)
        .ok_or_else(|| ExtrinsicError::UnknownCall {
            pallet: pallet.into(),
            call: call.into(),
            spec_version: metadata.spec_version(),
        })?;
    let expected: Vec<String> = info.fields.iter().map(|(n, _)| n.clone()).collect();
    if let Some(extra) = args.keys().find(|k| !expected.contains(k)) {
        return Err(ExtrinsicError::UnknownArgument {
            call: name,
            argument: extra.clone(),
            expected,
        });
    }
    let mut out = vec![info.pallet_index, info.call_index];
    for (argument, ty) in &info.fields {
        let value = args
            .get(argument)
            .ok_or_else(|| ExtrinsicError::MissingArgument {
                call: name.clone(),
                argument: argument.clone(),
            })?;
        value::encode(&metadata.types, *ty, value, &mut out).map_err(|error| {
            ExtrinsicError::Argument {
                call: name.clone(),
                argument: argument.clone(),
                error,
            }
        })?;
    }
    Ok(out)
}

/// How long a transaction stays valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mortality {
    Immortal,
    /// Valid for `period` blocks from `birth_number`, whose hash is `birth_hash`.
    Mortal {
        period: u64,
        birth_number: u64,
        birth_hash: [u8; 32],
    },
}

/// What the user and the chain's current state decide about a transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transaction {
    pub spec_version: u32,
    pub transaction_version: u32,
    pub genesis_hash: [u8; 32],
    pub mortality: Mortality,
    pub nonce: u32,
    pub tip: u64,
    /// The RFC-0078 metadata hash, when the signer checks it (hardware wallets); `None` leaves
    /// CheckMetadataHash disabled.
    pub metadata_hash: Option<[u8; 32]>,
}

impl Transaction {
    /// The era as the extrinsic carries it, and the block the transaction counts from (number
    /// and hash): the genesis for an immortal one.
    pub fn era(&self) -> (Vec<u8>, u64, [u8; 32]) {
        match self.mortality {
            Mortality::Immortal => (vec![0u8], 0, self.genesis_hash),
            Mortality::Mortal {
                period,
                birth_number,
                birth_hash,
            } => (
                crate::era::mortal(period, birth_number).to_vec(),
                birth_number,
                birth_hash,
            ),
        }
    }
}

/// The extensions' explicit bytes (carried in the extrinsic) and implicit bytes (signed only).
pub fn extensions(
    metadata: &Metadata,
    tx: &Transaction,
) -> Result<(Vec<u8>, Vec<u8>), ExtrinsicError> {
    let mut explicit = Vec::new();
    let mut implicit = Vec::new();
    let (era, _, birth_hash) = tx.era();
    for ext in &metadata.extrinsic.extensions {
        match ext.identifier.as_str() {
            "CheckSpecVersion" => tx.spec_version.encode_to(&mut implicit),
            "CheckTxVersion" => tx.transaction_version.encode_to(&mut implicit),
            "CheckGenesis" => implicit.extend_from_slice(&tx.genesis_hash),
            "CheckMortality" | "CheckEra" => {
                explicit.extend_from_slice(&era);
                implicit.extend_from_slice(&birth_hash);
            }
            "CheckNonce" => Compact(tx.nonce).encode_to(&mut explicit),
            "ChargeTransactionPayment" | "ChargeTransactionPaymentWrapper" => {
                Compact(tx.tip).encode_to(&mut explicit);
            }
            "CheckMetadataHash" => match tx.metadata_hash {
                Some(hash) => {
                    explicit.push(1);
                    implicit.push(1);
                    implicit.extend_from_slice(&hash);
                }
                None => {
                    explicit.push(0);
                    implicit.push(0);
                }
            },
            identifier => {
                // Extensions that carry nothing (CheckNonZeroSender, CheckWeight, Bittensor's
                // own checks) need no value; any other is one we would have to guess.
                let empty = |ty: u32| layout(&metadata.types, ty) == "()";
                if !(empty(ext.ty) && empty(ext.implicit_ty)) {
                    return Err(ExtrinsicError::UnsupportedExtension {
                        identifier: identifier.into(),
                        spec_version: metadata.spec_version(),
                    });
                }
            }
        }
    }
    Ok((explicit, implicit))
}

/// What the signer signs: call ‖ explicit ‖ implicit, blake2-256-hashed above 256 bytes.
pub fn signing_payload(call: &[u8], explicit: &[u8], implicit: &[u8]) -> Vec<u8> {
    let payload = [call, explicit, implicit].concat();
    if payload.len() > 256 {
        blake2_256(&payload).to_vec()
    } else {
        payload
    }
}

/// The signature schemes of `MultiSignature`, with their index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Ed25519 = 0,
    Sr25519 = 1,
}

/// Whoever signs: a key held here, or a browser wallet extension asked through the page.
pub trait Signer {
    /// The signing account's public key.
    fn account(&self) -> [u8; 32];
    fn scheme(&self) -> Scheme;
    /// Signs the payload; a wallet may refuse (an error the user can act on).
    fn sign(&self, payload: &[u8]) -> impl Future<Output = Result<[u8; 64], String>>;
}

/// The signed extrinsic (version 4) with its compact length prefix.
pub fn signed_extrinsic(
    call: &[u8],
    explicit: &[u8],
    account: &[u8; 32],
    scheme: Scheme,
    signature: &[u8; 64],
) -> Vec<u8> {
    let mut body = vec![0x84, 0x00]; // signed, version 4; MultiAddress::Id
    body.extend_from_slice(account);
    body.push(scheme as u8);
    body.extend_from_slice(signature);
    body.extend_from_slice(explicit);
    body.extend_from_slice(call);
    let mut out = Compact(body.len() as u32).encode();
    out.extend(body);
    out
}

/// Builds, signs and assembles a signed extrinsic.
pub async fn sign<S: Signer>(
    metadata: &Metadata,
    tx: &Transaction,
    call: &[u8],
    signer: &S,
) -> Result<Vec<u8>, ExtrinsicError> {
    let (explicit, implicit) = extensions(metadata, tx)?;
    let payload = signing_payload(call, &explicit, &implicit);
    let signature = signer
        .sign(&payload)
        .await
        .map_err(ExtrinsicError::Signing)?;
    Ok(signed_extrinsic(
        call,
        &explicit,
        &signer.account(),
        signer.scheme(),
        &signature,
    ))
}

/// [`sign`] for a signer that answers at once (a key held here, not a wallet): no executor
/// needed. A signer that would make the caller wait is an error, not a hang.
pub fn sign_ready<S: Signer>(
    metadata: &Metadata,
    tx: &Transaction,
    call: &[u8],
    signer: &S,
) -> Result<Vec<u8>, ExtrinsicError> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(sign(metadata, tx, call, signer)).poll(&mut cx) {
        std::task::Poll::Ready(result) => result,
        std::task::Poll::Pending => Err(ExtrinsicError::Signing(
            "this signer answers later (a wallet): await `sign` instead".into(),
        )),
    }
}

/// The account that signed `extrinsic` (length-prefixed, as submitted), where it is a signed
/// version-4 extrinsic from a `MultiAddress::Id`; `None` for anything else (unsigned, another
/// version or address kind, too short).
pub fn signer(extrinsic: &[u8]) -> Option<[u8; 32]> {
    let mut rest = extrinsic;
    Compact::<u32>::decode(&mut rest).ok()?;
    match rest {
        [0x84, 0x00, account @ ..] => account.get(..32)?.try_into().ok(),
        _ => None,
    }
}

/// The extrinsic's hash, as block explorers and `author_submitExtrinsic` show it.
pub fn extrinsic_hash(extrinsic: &[u8]) -> [u8; 32] {
    blake2_256(extrinsic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signer_is_read_from_a_signed_extrinsic_and_nothing_else() {
        let account = [7u8; 32];
        let signed = signed_extrinsic(&[5, 0], &[0, 0, 0], &account, Scheme::Sr25519, &[1; 64]);
        assert_eq!(signer(&signed), Some(account));
        // Unsigned (version 4 without the signed bit), another address kind, cut short.
        let mut unsigned = Compact(3u32).encode();
        unsigned.extend([0x04, 5, 0]);
        assert_eq!(signer(&unsigned), None);
        let mut index = signed.clone();
        let address = signed.iter().position(|&b| b == 0x84).unwrap() + 1;
        index[address] = 0x01; // MultiAddress::Index
        assert_eq!(signer(&index), None);
        assert_eq!(signer(&signed[..20]), None);
        assert_eq!(signer(&[]), None);
    }
}
