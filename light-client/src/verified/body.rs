//! Block bodies: an endpoint's list of a block's extrinsics is accepted only when it is exactly
//! the list the block's proven header commits to (its extrinsics root, the ordered trie of the
//! SCALE-encoded extrinsics). A transaction is "in a final block" only through this check.

use crate::header::Header;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyError {
    Header(String),
    /// The list does not hash to the header's extrinsics root.
    Mismatch {
        number: u64,
    },
}

impl fmt::Display for BodyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BodyError::Header(why) => write!(f, "the proven header does not decode: {why}"),
            BodyError::Mismatch { number } => write!(
                f,
                "the body given for block #{number} is not the one its header commits to: \
                 extrinsics were changed, added, left out or reordered"
            ),
        }
    }
}

impl std::error::Error for BodyError {}

/// Checks that `extrinsics` (each SCALE-encoded, length prefix included, as in the block) is the
/// body of the block whose proven SCALE header is `header`.
pub fn verify_body(header: &[u8], extrinsics: &[Vec<u8>]) -> Result<(), BodyError> {
    let decoded = Header::decode(header).map_err(|e| BodyError::Header(e.to_string()))?;
    if smoldot::header::extrinsics_root(extrinsics) == decoded.extrinsics_root {
        Ok(())
    } else {
        Err(BodyError::Mismatch {
            number: u64::from(decoded.number),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::BLOCK_NUMBER_BYTES;
    use super::*;
    use smoldot::header::{DigestRef, HeaderRef};

    fn header_of(extrinsics: &[Vec<u8>]) -> Vec<u8> {
        HeaderRef {
            parent_hash: &[1; 32],
            number: 7,
            state_root: &[2; 32],
            extrinsics_root: &smoldot::header::extrinsics_root(extrinsics),
            digest: DigestRef::empty(),
        }
        .scale_encoding_vec(BLOCK_NUMBER_BYTES)
    }

    #[test]
    fn only_the_committed_list_passes() {
        let body = vec![vec![8, 1, 2], vec![4, 3]];
        let header = header_of(&body);
        assert_eq!(verify_body(&header, &body), Ok(()));
        let reordered = vec![body[1].clone(), body[0].clone()];
        let short = vec![body[0].clone()];
        let changed = vec![vec![8, 1, 9], body[1].clone()];
        for lie in [reordered, short, changed, Vec::new()] {
            assert_eq!(
                verify_body(&header, &lie),
                Err(BodyError::Mismatch { number: 7 })
            );
        }
        assert!(matches!(
            verify_body(&[1, 2, 3], &body),
            Err(BodyError::Header(_))
        ));
    }
}
