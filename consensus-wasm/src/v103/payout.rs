//! What spec 103 pays out of one hotkey's epoch emission: `drain_emission` in the block after the
//! epoch hands each `(hotkey, rao)` tuple of `LoadedEmission` to
//! `emit_inflation_through_hotkey_account`. A hotkey that is not a delegate gets it all as stake;
//! a delegate keeps its take (`Delegates[hotkey]` / 65535 of the emission) and the rest is split
//! over every coldkey staked on it (the owner included) in proportion to its stake of the
//! hotkey's total, each share rounded down, then the take is added to the owner's stake.
//!
//! The runtime computes both parts in `I64F64` with plain operators (a release build: they
//! wrap), so they are reproduced here in the same type with `wrapping_*` operations, as the rest
//! of this module does; on sane inputs nothing wraps.

use crate::fixed::I64F64;

/// The delegate's take of `emission` (`calculate_delegate_proportional_take`): `take / 65535`
/// of it, rounded down.
pub fn delegate_take(take: u16, emission: u64) -> u64 {
    let proportion = I64F64::from_num(take).wrapping_div(I64F64::from_num(u16::MAX));
    proportion
        .wrapping_mul(I64F64::from_num(emission))
        .to_num::<u64>()
}

/// One staker's part of `emission` for `stake` of a hotkey's `total`
/// (`calculate_stake_proportional_emission`): 0 when the total is 0.
pub fn stake_share(stake: u64, total: u64, emission: u64) -> u64 {
    if total == 0 {
        return 0;
    }
    let proportion = I64F64::from_num(stake).wrapping_div(I64F64::from_num(total));
    I64F64::from_num(emission)
        .wrapping_mul(proportion)
        .to_num::<u64>()
}

/// How one hotkey's epoch emission is split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Payout {
    /// Kept by the delegate before the split (0 for a hotkey that is not a delegate).
    pub take: u64,
    /// Shared over the hotkey's stakers in proportion to their stake.
    pub to_stakers: u64,
}

/// The split of `emission` for a hotkey whose delegate take is `take` (`None`: not a delegate,
/// so everything goes to its owner's stake, which is its stakers' share).
pub fn payout(take: Option<u16>, emission: u64) -> Payout {
    let take = take.map_or(0, |take| delegate_take(take, emission));
    Payout {
        take,
        to_stakers: emission.wrapping_sub(take),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_and_shares_round_down() {
        // 18% (the default take, 11 796 / 65 535) of 1 TAO.
        assert_eq!(delegate_take(11_796, 1_000_000_000), 179_995_422);
        assert_eq!(delegate_take(0, 1_000_000_000), 0);
        assert_eq!(delegate_take(u16::MAX, 1_000_000_000), 1_000_000_000);
        assert_eq!(stake_share(1, 3, 10), 3);
        assert_eq!(stake_share(5, 0, 10), 0);
        assert_eq!(stake_share(7, 7, 123_456_789), 123_456_789);
        assert_eq!(
            payout(Some(11_796), 1_000_000_000),
            Payout {
                take: 179_995_422,
                to_stakers: 820_004_578
            }
        );
        assert_eq!(
            payout(None, 42),
            Payout {
                take: 0,
                to_stakers: 42
            }
        );
    }
}
