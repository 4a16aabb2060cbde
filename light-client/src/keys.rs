//! Keys held in this process: sr25519 and ed25519 signers, and Substrate's development accounts
//! (`//Alice`, `//Bob`, …) derived the standard way, for the local chain and tests.
//!
//! A user's real keys stay in their wallet extension, which signs through the same
//! [`Signer`] trait; these are for development and for the CLI.

use crate::extrinsic::{Scheme, Signer};
use crate::hashing::blake2_256;
use parity_scale_codec::Encode;
use schnorrkel::{ExpansionMode, MiniSecretKey, derive::ChainCode};

/// The seed of Substrate's development phrase ("bottom drive obey lake curtain smoke basket hold
/// race lonely fit walk"), from which `//Alice`, `//Bob`, … are hard-derived.
pub const DEV_SEED: [u8; 32] = [
    0xfa, 0xc7, 0x95, 0x9d, 0xbf, 0xe7, 0x2f, 0x05, 0x2e, 0x5a, 0x0c, 0x3c, 0x8d, 0x65, 0x30, 0xf2,
    0x02, 0xb0, 0x2f, 0xd8, 0xf9, 0xf5, 0xca, 0x35, 0x80, 0xec, 0x8d, 0xeb, 0x77, 0x97, 0x47, 0x9e,
];

/// The development accounts' sr25519 addresses (SS58 prefix 42), for pages that offer them on a
/// local chain without linking sr25519 to derive them (a test holds them to the derivation).
/// The demonstration subnet's `//Coldkey0` and `//Coldkey1` own hotkeys and stake.
pub const DEV_ACCOUNTS: [(&str, &str); 8] = [
    ("Alice", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"),
    ("Bob", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"),
    (
        "Charlie",
        "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
    ),
    ("Dave", "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy"),
    ("Eve", "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw"),
    ("Ferdie", "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL"),
    (
        "Coldkey0",
        "5GbVCSDEfFWeuXFvYeB3zwaQajNvPrSZWwkKiwaZnWVDtWn5",
    ),
    (
        "Coldkey1",
        "5GbYXoBPh1dpVW9ew8SaDj7EV51g1NBn1tZiVq4TLLTWo5bc",
    ),
];

/// A hard junction's chain code: the SCALE encoding of the name, zero-padded to 32 bytes, or its
/// blake2-256 when longer.
fn chain_code(junction: &str) -> [u8; 32] {
    let encoded = junction.encode();
    let mut code = [0u8; 32];
    if encoded.len() > 32 {
        code = blake2_256(&encoded);
    } else if let Some(head) = code.get_mut(..encoded.len()) {
        head.copy_from_slice(&encoded);
    }
    code
}

/// An sr25519 key pair, signing in Substrate's `substrate` context.
pub struct Sr25519Signer {
    keypair: schnorrkel::Keypair,
}

impl Sr25519Signer {
    pub fn from_seed(seed: &[u8; 32]) -> Option<Self> {
        let mini = MiniSecretKey::from_bytes(seed).ok()?;
        Some(Self {
            keypair: mini.expand_to_keypair(ExpansionMode::Ed25519),
        })
    }

    /// `seed//junction` (hard derivation), e.g. the dev seed and "Alice".
    pub fn derive(seed: &[u8; 32], junction: &str) -> Option<Self> {
        let mini = MiniSecretKey::from_bytes(seed).ok()?;
        let (child, _) = mini.hard_derive_mini_secret_key(
            Some(ChainCode(chain_code(junction))),
            b"",
            ExpansionMode::Ed25519,
        );
        Self::from_seed(&child.to_bytes())
    }

    /// A development account: `//Alice`, `//Bob`, ….
    pub fn dev(name: &str) -> Option<Self> {
        Self::derive(&DEV_SEED, name)
    }

    /// Signs at once (a node sealing its own blocks needs no wallet round trip).
    pub fn sign_now(&self, payload: &[u8]) -> [u8; 64] {
        self.keypair.sign_simple(b"substrate", payload).to_bytes()
    }

    pub fn verify(public: &[u8; 32], payload: &[u8], signature: &[u8; 64]) -> bool {
        let (Ok(public), Ok(signature)) = (
            schnorrkel::PublicKey::from_bytes(public),
            schnorrkel::Signature::from_bytes(signature),
        ) else {
            return false;
        };
        public
            .verify_simple(b"substrate", payload, &signature)
            .is_ok()
    }
}

impl Signer for Sr25519Signer {
    fn account(&self) -> [u8; 32] {
        self.keypair.public.to_bytes()
    }

    fn scheme(&self) -> Scheme {
        Scheme::Sr25519
    }

    fn sign(&self, payload: &[u8]) -> impl Future<Output = Result<[u8; 64], String>> {
        std::future::ready(Ok(self.sign_now(payload)))
    }
}

/// An ed25519 key (GRANDPA's scheme; also valid for accounts).
pub struct Ed25519Signer {
    key: ed25519_dalek::SigningKey,
}

impl Ed25519Signer {
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        Self {
            key: ed25519_dalek::SigningKey::from_bytes(seed),
        }
    }

    /// `seed//junction`: blake2-256 of ("Ed25519HDKD", seed, chain code), SCALE-encoded.
    pub fn derive(seed: &[u8; 32], junction: &str) -> Self {
        let child = blake2_256(&("Ed25519HDKD", *seed, chain_code(junction)).encode());
        Self::from_seed(&child)
    }

    pub fn dev(name: &str) -> Self {
        Self::derive(&DEV_SEED, name)
    }

    /// Signs at once (a node signing its own GRANDPA votes).
    pub fn sign_now(&self, payload: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer as _;
        self.key.sign(payload).to_bytes()
    }

    pub fn verify(public: &[u8; 32], payload: &[u8], signature: &[u8; 64]) -> bool {
        let Ok(public) = ed25519_dalek::VerifyingKey::from_bytes(public) else {
            return false;
        };
        public
            .verify_strict(payload, &ed25519_dalek::Signature::from_bytes(signature))
            .is_ok()
    }
}

impl Signer for Ed25519Signer {
    fn account(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    fn scheme(&self) -> Scheme {
        Scheme::Ed25519
    }

    fn sign(&self, payload: &[u8]) -> impl Future<Output = Result<[u8; 64], String>> {
        std::future::ready(Ok(self.sign_now(payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_development_accounts_table_is_their_derivation() {
        for (name, address) in DEV_ACCOUNTS {
            let key = Sr25519Signer::dev(name).unwrap().account();
            assert_eq!(crate::ss58::encode(&key, 42), address, "//{name}");
        }
    }
}
