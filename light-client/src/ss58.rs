//! SS58 addresses: `base58(prefix ‖ public key ‖ checksum)`, where the checksum is the first two
//! bytes of `blake2b-512("SS58PRE" ‖ prefix ‖ public key)`.
//!
//! Bittensor uses the generic Substrate prefix 42. An address typed or pasted by a user is
//! untrusted text: decoding checks the alphabet, the length, the checksum and the prefix, and
//! says which one failed, because sending stake to a mistyped address cannot be undone.

use blake2::{Blake2b512, Digest};
use std::fmt;

/// Bittensor's SS58 network prefix.
pub const BITTENSOR_PREFIX: u16 = 42;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddressError {
    /// A character outside the base58 alphabet (0, O, I and l are not in it).
    NotBase58 { position: usize, character: char },
    /// Decodes to a length that no 32-byte account address has.
    WrongLength(usize),
    /// The checksum does not match: a typo, or a truncated copy.
    BadChecksum,
    /// A valid address of another network.
    WrongNetwork { expected: u16, found: u16 },
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::NotBase58 {
                position,
                character,
            } => write!(
                f,
                "'{character}' at position {} is not a base58 character; check for 0, O, I or l",
                position + 1
            ),
            AddressError::WrongLength(len) => {
                write!(
                    f,
                    "decodes to {len} bytes; an account address is 35 or 36 bytes: is it complete?"
                )
            }
            AddressError::BadChecksum => write!(
                f,
                "checksum does not match: the address has a typo or is cut short"
            ),
            AddressError::WrongNetwork { expected, found } => {
                write!(
                    f,
                    "this address is for network prefix {found}, not Bittensor's {expected}"
                )
            }
        }
    }
}

impl std::error::Error for AddressError {}

fn checksum(payload: &[u8]) -> [u8; 2] {
    let mut hasher = Blake2b512::new();
    hasher.update(b"SS58PRE");
    hasher.update(payload);
    let digest = hasher.finalize();
    [digest[0], digest[1]]
}

/// Encodes the prefix the way SS58 does: one byte below 64, two bytes up to 16383.
fn prefix_bytes(prefix: u16) -> Vec<u8> {
    let prefix = prefix & 0x3fff;
    if prefix < 64 {
        vec![prefix as u8]
    } else {
        let first = ((prefix & 0b1111_1100) >> 2) as u8 | 0b0100_0000;
        let second = ((prefix >> 8) as u8) | ((prefix & 0b11) << 6) as u8;
        vec![first, second]
    }
}

/// The address of a 32-byte public key under `prefix`.
pub fn encode(public_key: &[u8; 32], prefix: u16) -> String {
    let mut bytes = prefix_bytes(prefix);
    bytes.extend_from_slice(public_key);
    let sum = checksum(&bytes);
    bytes.extend_from_slice(&sum);
    bs58::encode(bytes).into_string()
}

/// Decodes any SS58 account address: `(prefix, public key)`.
pub fn decode_any(address: &str) -> Result<(u16, [u8; 32]), AddressError> {
    if let Some((position, character)) = address
        .chars()
        .enumerate()
        .find(|(_, c)| !c.is_ascii_alphanumeric() || "0OIl".contains(*c))
    {
        return Err(AddressError::NotBase58 {
            position,
            character,
        });
    }
    let bytes = bs58::decode(address)
        .into_vec()
        .map_err(|_| AddressError::WrongLength(0))?;
    let (prefix, prefix_len) = match bytes.first() {
        Some(&b) if b < 64 => (u16::from(b), 1),
        Some(&b) if b < 128 => {
            let second = bytes
                .get(1)
                .copied()
                .ok_or(AddressError::WrongLength(bytes.len()))?;
            let lower = (u16::from(b) << 2) | (u16::from(second) >> 6);
            let upper = u16::from(second & 0b0011_1111);
            ((lower & 0xff) | (upper << 8), 2)
        }
        _ => return Err(AddressError::WrongLength(bytes.len())),
    };
    if bytes.len() != prefix_len + 32 + 2 {
        return Err(AddressError::WrongLength(bytes.len()));
    }
    let (payload, sum) = bytes.split_at(prefix_len + 32);
    if checksum(payload) != sum {
        return Err(AddressError::BadChecksum);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(payload.get(prefix_len..).unwrap_or_default());
    Ok((prefix, key))
}

/// Decodes a Bittensor (prefix 42) address.
pub fn decode(address: &str) -> Result<[u8; 32], AddressError> {
    let (prefix, key) = decode_any(address.trim())?;
    if prefix != BITTENSOR_PREFIX {
        return Err(AddressError::WrongNetwork {
            expected: BITTENSOR_PREFIX,
            found: prefix,
        });
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    // //Alice's sr25519 public key and its well-known generic-prefix address.
    const ALICE: [u8; 32] = [
        0xd4, 0x35, 0x93, 0xc7, 0x15, 0xfd, 0xd3, 0x1c, 0x61, 0x14, 0x1a, 0xbd, 0x04, 0xa9, 0x9f,
        0xd6, 0x82, 0x2c, 0x85, 0x58, 0x85, 0x4c, 0xcd, 0xe3, 0x9a, 0x56, 0x84, 0xe7, 0xa5, 0x6d,
        0xa2, 0x7d,
    ];
    const ALICE_42: &str = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";

    #[test]
    fn alice_round_trips() {
        assert_eq!(encode(&ALICE, 42), ALICE_42);
        assert_eq!(decode(ALICE_42), Ok(ALICE));
    }

    #[test]
    fn a_typo_fails_the_checksum() {
        let typo = ALICE_42.replace("Grwva", "Grwvb");
        assert_eq!(decode(&typo), Err(AddressError::BadChecksum));
    }

    #[test]
    fn other_networks_are_named() {
        let polkadot = encode(&ALICE, 0);
        assert_eq!(
            decode(&polkadot),
            Err(AddressError::WrongNetwork {
                expected: 42,
                found: 0
            })
        );
        let kusama_like = encode(&ALICE, 2);
        assert_eq!(decode_any(&kusama_like), Ok((2, ALICE)));
        let two_byte = encode(&ALICE, 1284);
        assert_eq!(decode_any(&two_byte), Ok((1284, ALICE)));
    }

    #[test]
    fn bad_text_is_located() {
        assert_eq!(
            decode("5Grw0"),
            Err(AddressError::NotBase58 {
                position: 4,
                character: '0'
            })
        );
        assert!(matches!(
            decode("5GrwvaEF"),
            Err(AddressError::WrongLength(_))
        ));
        assert!(matches!(decode(""), Err(AddressError::WrongLength(0))));
    }
}
