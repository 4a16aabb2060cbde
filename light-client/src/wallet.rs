//! Browser wallets (`window.injectedWeb3`): the `SignerPayloadJSON` a wallet is asked to sign,
//! and the checks on what it answers.
//!
//! Threat model: the wallet extension (or whatever injected itself under a wallet's name, or a
//! host page relaying one) is hostile until checked. It may return a signature by another key,
//! over another payload, of another scheme, or of the wrong length; with `withSignedTransaction`
//! it may return a transaction other than the one the user reviewed (another call, another tip,
//! its own extension values). So a signature is used only if it verifies against the payload
//! this crate built and the account the user chose, and a returned transaction only if it is
//! byte for byte the one that signature makes with our call and extensions.
//!
//! The payload follows polkadot{.js}'s `SignerPayloadJSON` (what every injected wallet reads):
//! numbers as big-endian hex of their type's width, the era and call as their SCALE bytes, the
//! extensions' names in the runtime's order, and `mode`/`metadataHash` where the runtime has
//! `CheckMetadataHash` (we send the RFC-0078 hash ourselves, so a wallet has nothing to insert).

use crate::extrinsic::{
    ExtrinsicError, Scheme, Transaction, extensions, signed_extrinsic, signing_payload,
};
use crate::hex::{from_hex, to_hex};
use crate::keys::{Ed25519Signer, Sr25519Signer};
use crate::metadata::Metadata;
use serde_json::{Value, json};
use std::fmt;

/// `SignerPayloadJSON.version`: the extrinsic format signed.
pub const EXTRINSIC_VERSION: u8 = 4;

#[derive(Debug, PartialEq, Eq)]
pub enum WalletError {
    Extrinsic(ExtrinsicError),
    /// The signature is not hex, or not a `MultiSignature` of 64 bytes.
    Malformed(String),
    /// ECDSA (or an unknown scheme): Bittensor accounts are sr25519 or ed25519.
    Scheme(u8),
    /// The signature does not verify for this account over this payload.
    BadSignature,
    /// The signed transaction the wallet returned is not the one it was asked to sign.
    OtherTransaction,
}

impl fmt::Display for WalletError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WalletError::Extrinsic(e) => write!(f, "{e}"),
            WalletError::Malformed(why) => write!(f, "the wallet's signature is malformed: {why}"),
            WalletError::Scheme(tag) => write!(
                f,
                "the wallet signed with scheme {tag} (ECDSA or unknown); Bittensor accounts sign with sr25519 or ed25519"
            ),
            WalletError::BadSignature => write!(
                f,
                "the wallet's signature does not verify for this account and transaction: nothing was submitted"
            ),
            WalletError::OtherTransaction => write!(
                f,
                "the wallet returned a different transaction from the one you reviewed: nothing was submitted"
            ),
        }
    }
}

impl From<ExtrinsicError> for WalletError {
    fn from(e: ExtrinsicError) -> Self {
        WalletError::Extrinsic(e)
    }
}

/// The `SignerPayloadJSON` of `call` from `account` (shown as SS58 with `prefix`).
pub fn signer_payload(
    metadata: &Metadata,
    tx: &Transaction,
    call: &[u8],
    account: &[u8; 32],
    prefix: u16,
) -> Result<Value, WalletError> {
    // The extensions are built first: a runtime with an extension this crate cannot fill is
    // refused before a wallet is asked anything.
    extensions(metadata, tx)?;
    let (era, birth_number, birth_hash) = tx.era();
    let names: Vec<&str> = metadata
        .extrinsic
        .extensions
        .iter()
        .map(|e| e.identifier.as_str())
        .collect();
    let mut payload = json!({
        "address": crate::ss58::encode(account, prefix),
        "blockHash": to_hex(&birth_hash),
        "blockNumber": format!("0x{:08x}", birth_number),
        "era": to_hex(&era),
        "genesisHash": to_hex(&tx.genesis_hash),
        "method": to_hex(call),
        "nonce": format!("0x{:08x}", tx.nonce),
        "signedExtensions": names,
        "specVersion": format!("0x{:08x}", tx.spec_version),
        "tip": format!("0x{:032x}", tx.tip),
        "transactionVersion": format!("0x{:08x}", tx.transaction_version),
        "version": EXTRINSIC_VERSION,
        "withSignedTransaction": true,
    });
    if names.contains(&"CheckMetadataHash") {
        payload["mode"] = json!(u8::from(tx.metadata_hash.is_some()));
        if let Some(hash) = tx.metadata_hash {
            payload["metadataHash"] = json!(to_hex(&hash));
        }
    }
    Ok(payload)
}

/// The RFC-0078 metadata hash to sign with (`mode` 1), for a runtime with `CheckMetadataHash`
/// whose V15 metadata (`bytes`, as `Metadata_metadata_at_version(15)` returned them) is known:
/// wallets that insert the hash themselves then return exactly the transaction we built, and
/// Ledger-style signers can check what they show. `None` (mode 0) for a runtime without the
/// extension or where only V14 metadata was read (the hash is defined over V15). The token is
/// Bittensor's: TAO with 9 decimals; the prefix is the runtime's own `SS58Prefix`.
pub fn metadata_hash_to_sign(
    metadata: &Metadata,
    bytes: &[u8],
) -> Result<Option<[u8; 32]>, crate::metadata::MetadataError> {
    let checks_hash = metadata
        .extrinsic
        .extensions
        .iter()
        .any(|e| e.identifier == "CheckMetadataHash");
    let Some((spec_name, spec_version)) = metadata.runtime_version() else {
        return Ok(None);
    };
    if !checks_hash || metadata.version < 15 {
        return Ok(None);
    }
    let ss58_prefix = metadata
        .constant("System", "SS58Prefix")
        .and_then(|c| <[u8; 2]>::try_from(c.value.as_slice()).ok())
        .map_or(crate::ss58::BITTENSOR_PREFIX, u16::from_le_bytes);
    let chain = crate::metadata::ChainInfo {
        spec_name,
        spec_version,
        ss58_prefix,
        decimals: 9,
        token_symbol: "TAO".into(),
    };
    crate::metadata::metadata_hash(bytes, &chain).map(Some)
}

/// Checks a wallet's `signature` (hex of a `MultiSignature`: a scheme byte, then 64 bytes)
/// over the payload of `call` and `tx` for `account`; the scheme and signature to assemble the
/// extrinsic with.
pub fn check_signature(
    metadata: &Metadata,
    tx: &Transaction,
    call: &[u8],
    account: &[u8; 32],
    signature: &str,
) -> Result<(Scheme, [u8; 64]), WalletError> {
    let bytes = from_hex(signature).map_err(|e| WalletError::Malformed(e.to_string()))?;
    let (scheme, raw) = match bytes.as_slice() {
        [0, raw @ ..] => (Scheme::Ed25519, raw),
        [1, raw @ ..] => (Scheme::Sr25519, raw),
        [tag, ..] if bytes.len() == 65 || bytes.len() == 66 => {
            return Err(WalletError::Scheme(*tag));
        }
        _ => {
            return Err(WalletError::Malformed(format!(
                "{} bytes, expected a scheme byte and 64 signature bytes",
                bytes.len()
            )));
        }
    };
    let raw: [u8; 64] = raw.try_into().map_err(|_| {
        WalletError::Malformed(format!("{} signature bytes, expected 64", raw.len()))
    })?;
    let (explicit, implicit) = extensions(metadata, tx)?;
    let payload = signing_payload(call, &explicit, &implicit);
    let verified = match scheme {
        Scheme::Sr25519 => Sr25519Signer::verify(account, &payload, &raw),
        Scheme::Ed25519 => Ed25519Signer::verify(account, &payload, &raw),
    };
    if !verified {
        return Err(WalletError::BadSignature);
    }
    Ok((scheme, raw))
}

/// The signed extrinsic to submit: ours, assembled from the checked signature, or the one the
/// wallet returned (`signed_transaction`) if it is exactly that.
pub fn signed_transaction(
    metadata: &Metadata,
    tx: &Transaction,
    call: &[u8],
    account: &[u8; 32],
    signature: &str,
    returned: Option<&str>,
) -> Result<Vec<u8>, WalletError> {
    let (scheme, raw) = check_signature(metadata, tx, call, account, signature)?;
    let (explicit, _) = extensions(metadata, tx)?;
    let ours = signed_extrinsic(call, &explicit, account, scheme, &raw);
    match returned {
        Some(theirs) if from_hex(theirs).ok().as_deref() != Some(ours.as_slice()) => {
            Err(WalletError::OtherTransaction)
        }
        _ => Ok(ours),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extrinsic::Mortality;
    use crate::extrinsic::Signer;

    const METADATA_V14: &str =
        include_str!("../../../shared/fixtures/localnet_spec461_metadata_v14.hex");

    fn metadata() -> Metadata {
        Metadata::decode(&from_hex(METADATA_V14.trim()).unwrap()).unwrap()
    }

    fn transaction(metadata_hash: Option<[u8; 32]>) -> Transaction {
        Transaction {
            spec_version: 461,
            transaction_version: 1,
            genesis_hash: [0x1d; 32],
            mortality: Mortality::Mortal {
                period: 64,
                birth_number: 66,
                birth_hash: [0xd9; 32],
            },
            nonce: 3,
            tip: 0,
            metadata_hash,
        }
    }

    #[test]
    fn the_payload_names_every_extension_in_order_with_numbers_as_wallets_read_them() {
        let metadata = metadata();
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let payload =
            signer_payload(&metadata, &transaction(None), &[5, 3], &alice.account(), 42).unwrap();
        assert_eq!(
            payload["address"],
            "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
        );
        assert_eq!(payload["nonce"], "0x00000003");
        assert_eq!(payload["blockNumber"], "0x00000042");
        assert_eq!(payload["era"], "0x2500");
        assert_eq!(payload["specVersion"], "0x000001cd");
        assert_eq!(payload["tip"], format!("0x{}", "0".repeat(32)));
        let names = payload["signedExtensions"].as_array().unwrap();
        assert_eq!(names.len(), metadata.extrinsic.extensions.len());
        assert!(names.contains(&json!("CheckMetadataHash")));
        assert_eq!(payload["mode"], 0);
        assert!(payload.get("metadataHash").is_none());
        let hashed = signer_payload(
            &metadata,
            &transaction(Some([0xaf; 32])),
            &[5, 3],
            &alice.account(),
            42,
        )
        .unwrap();
        assert_eq!(hashed["mode"], 1);
        assert_eq!(hashed["metadataHash"], json!(to_hex(&[0xaf; 32])));
    }

    #[test]
    fn a_signature_is_used_only_if_it_verifies_for_this_account_and_payload() {
        let metadata = metadata();
        let tx = transaction(None);
        let call = [5u8, 3, 0];
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let (explicit, implicit) = extensions(&metadata, &tx).unwrap();
        let payload = signing_payload(&call, &explicit, &implicit);
        let signature = [&[1u8][..], &alice.sign_now(&payload)].concat();
        let good = to_hex(&signature);
        assert!(check_signature(&metadata, &tx, &call, &alice.account(), &good).is_ok());
        // Another account, another payload (nonce), a flipped bit, ECDSA, the wrong length.
        let bob = Sr25519Signer::dev("Bob").unwrap();
        assert_eq!(
            check_signature(&metadata, &tx, &call, &bob.account(), &good),
            Err(WalletError::BadSignature)
        );
        let other = Transaction {
            nonce: 4,
            ..tx.clone()
        };
        assert_eq!(
            check_signature(&metadata, &other, &call, &alice.account(), &good),
            Err(WalletError::BadSignature)
        );
        let mut flipped = signature.clone();
        flipped[10] ^= 1;
        assert_eq!(
            check_signature(&metadata, &tx, &call, &alice.account(), &to_hex(&flipped)),
            Err(WalletError::BadSignature)
        );
        let mut ecdsa = signature.clone();
        ecdsa[0] = 2;
        ecdsa.push(0);
        assert_eq!(
            check_signature(&metadata, &tx, &call, &alice.account(), &to_hex(&ecdsa)),
            Err(WalletError::Scheme(2))
        );
        assert!(matches!(
            check_signature(
                &metadata,
                &tx,
                &call,
                &alice.account(),
                &to_hex(&signature[..40])
            ),
            Err(WalletError::Malformed(_))
        ));
        assert!(matches!(
            check_signature(&metadata, &tx, &call, &alice.account(), "not hex"),
            Err(WalletError::Malformed(_))
        ));

        // A returned transaction is used only if it is exactly ours.
        let ours =
            signed_transaction(&metadata, &tx, &call, &alice.account(), &good, None).unwrap();
        assert_eq!(
            signed_transaction(
                &metadata,
                &tx,
                &call,
                &alice.account(),
                &good,
                Some(&to_hex(&ours))
            ),
            Ok(ours.clone())
        );
        let mut changed = ours.clone();
        *changed.last_mut().unwrap() ^= 1;
        assert_eq!(
            signed_transaction(
                &metadata,
                &tx,
                &call,
                &alice.account(),
                &good,
                Some(&to_hex(&changed))
            ),
            Err(WalletError::OtherTransaction)
        );
    }
}
