//! Hex, the one way bytes are written in JSON-RPC, checkpoints, fixtures and on the command line.

/// Parses hex (with or without `0x`, surrounding whitespace ignored).
pub fn from_hex(text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let digits = text.strip_prefix("0x").unwrap_or(text).as_bytes();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    let nibble = |at: usize| {
        digits
            .get(at)
            .and_then(|d| char::from(*d).to_digit(16))
            .and_then(|d| u8::try_from(d).ok())
            .ok_or_else(|| format!("not a hex digit at position {}", at + 1))
    };
    (0..digits.len() / 2)
        .map(|i| Ok((nibble(2 * i)? << 4) | nibble(2 * i + 1)?))
        .collect()
}

/// Parses hex of exactly `N` bytes (a hash, a key).
pub fn from_hex_array<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = from_hex(text)?;
    <[u8; N]>::try_from(bytes.as_slice())
        .map_err(|_| format!("{} bytes where {N} are expected", bytes.len()))
}

/// `0x`-prefixed lowercase hex.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2 + 2 * bytes.len());
    text.push_str("0x");
    for b in bytes {
        text.push(char::from(DIGITS[usize::from(b >> 4)]));
        text.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_says_what_is_wrong() {
        assert_eq!(to_hex(&[0, 0xab, 0xff]), "0x00abff");
        assert_eq!(from_hex(" 0x00ABff\n"), Ok(vec![0, 0xab, 0xff]));
        assert_eq!(from_hex("00abff"), Ok(vec![0, 0xab, 0xff]));
        assert_eq!(from_hex("0x"), Ok(vec![]));
        assert!(from_hex("0xabc").unwrap_err().contains("odd"));
        assert!(from_hex("0xag").unwrap_err().contains("position 2"));
        assert!(from_hex("0x+1").is_err(), "a sign is not a digit");
        assert_eq!(from_hex_array::<2>("0x0102"), Ok([1, 2]));
        assert!(
            from_hex_array::<32>("0x01")
                .unwrap_err()
                .contains("1 bytes")
        );
    }
}
