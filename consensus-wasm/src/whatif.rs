//! What-if variations of one epoch: the same subnet under other hyperparameters, each a full
//! epoch. A GPU runs a batch of them in one submission per stage; benchmarks use them as the
//! "many epochs at once" workload, and the audit view will use them to show what a parameter
//! change would have paid.

use crate::input::EpochInput;

/// `count` copies of `input` with κ (the consensus majority) stepped evenly across its range;
/// the first copy keeps the subnet's own κ.
pub fn kappa_variations(input: &EpochInput, count: usize) -> Vec<EpochInput> {
    let count_u64 = count.max(1) as u64;
    (0..count)
        .map(|i| {
            let mut variant = input.clone();
            if i > 0 {
                variant.kappa = (i as u64 * u64::from(u16::MAX) / count_u64) as u16;
            }
            variant
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::kappa_variations;
    use crate::vector::VectorFile;

    #[test]
    fn the_first_variation_is_the_epoch_itself_and_the_rest_differ() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/vectors/yuma/000_pub_small_2uid_one_validator.json"
        );
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let input = match VectorFile::from_json(&text) {
            Ok(vector) => vector.input,
            Err(e) => panic!("{path}: {e}"),
        };
        let variants = kappa_variations(&input, 64);
        assert_eq!(variants.len(), 64);
        assert_eq!(variants.first(), Some(&input));
        let mut kappas: Vec<u16> = variants.iter().skip(1).map(|v| v.kappa).collect();
        kappas.dedup();
        assert_eq!(kappas.len(), 63);
        assert!(kappa_variations(&input, 0).is_empty());
    }
}
