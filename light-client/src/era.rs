//! Transaction mortality (`Era`): how many blocks a signed transaction stays valid.
//!
//! A mortal era is two bytes: the low 4 bits hold log2(period) − 1, the high 12 bits the phase
//! divided by a quantisation factor (period / 4096, at least 1). Immortal is one zero byte.

/// (period, phase) of an encoded mortal era.
pub fn decode(encoded: u16) -> (u64, u64) {
    let period = 2u64 << (encoded % (1 << 4));
    let quantize_factor = (period >> 12).max(1);
    let phase = u64::from(encoded >> 4) * quantize_factor;
    (period, phase)
}

/// The two-byte encoding of (period, phase) exactly as given; `None` when no two bytes decode
/// to them (period a power of two in 2..=65536, phase a multiple of the quantisation factor that
/// fits 12 bits). Bytes on chain may hold eras no wallet builds (phase ≥ period); they still
/// round-trip, and the runtime, not the codec, refuses them.
pub fn encode_raw(period: u64, phase: u64) -> Option<u16> {
    if !period.is_power_of_two() || !(2..=65_536).contains(&period) {
        return None;
    }
    let quantize_factor = (period >> 12).max(1);
    if !phase.is_multiple_of(quantize_factor) || phase / quantize_factor >= 4096 {
        return None;
    }
    let low = u16::try_from(period.trailing_zeros().saturating_sub(1)).ok()?;
    let high = u16::try_from(phase / quantize_factor).ok()?;
    Some(low | (high << 4))
}

/// The era a wallet uses for a transaction signed at `block`, valid for about `period` blocks
/// (rounded up to a power of two in 4..=65536), as Substrate's `Era::mortal` builds it.
pub fn mortal(period: u64, block: u64) -> [u8; 2] {
    let period = period
        .checked_next_power_of_two()
        .unwrap_or(65_536)
        .clamp(4, 65_536);
    let phase = block % period;
    let quantize_factor = (period >> 12).max(1);
    let quantized_phase = phase / quantize_factor * quantize_factor;
    encode_raw(period, quantized_phase)
        .unwrap_or(0)
        .to_le_bytes()
}

/// The block an era's validity starts at, for a transaction seen at `current` block.
pub fn birth(period: u64, phase: u64, current: u64) -> u64 {
    current.saturating_sub(phase) / period * period + phase
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_and_matches_substrate_examples() {
        // Substrate's own example: period 64, phase 42 → 0x52 0x02... (low 5, high 42).
        assert_eq!(encode_raw(64, 42), Some(5 | (42 << 4)));
        for encoded in 0u16..=u16::MAX {
            let (period, phase) = decode(encoded);
            if period <= 65_536 {
                assert_eq!(encode_raw(period, phase), Some(encoded), "{encoded:#x}");
            }
        }
        assert_eq!(encode_raw(3, 0), None);
        assert_eq!(encode_raw(64, 64 * 4096), None);
        let bytes = mortal(64, 100);
        assert_eq!(decode(u16::from_le_bytes(bytes)), (64, 36));
        assert_eq!(birth(64, 36, 100), 100);
        assert_eq!(birth(64, 36, 130), 100);
    }
}
