//! Random epochs for the property tests: one seed, one epoch, covering sparse and dense weights,
//! masks, commit-reveal and every hyperparameter.
#![allow(dead_code)] // each test binary uses part of it

use taoscope_consensus::{CommitReveal, EpochInput, TimelockedCommits, WeightCommits};

/// splitmix64: a tiny deterministic generator, so that one proptest seed is one epoch.
pub struct Rng {
    state: u64,
    /// Allow stakes near u64::MAX. The chain sums stakes with a wrapping I64F64 `+`, so such
    /// stakes wrap and "normalised" values exceed 1, on chain and here alike. Real stakes cannot
    /// get there (all TAO ever is 2.1·10¹⁶ rao), so the invariant tests keep stakes real and the
    /// extreme ones only check that nothing panics.
    extreme: bool,
}

impl Rng {
    pub fn new(seed: u64, extreme: bool) -> Self {
        Self {
            state: seed,
            extreme,
        }
    }
    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    pub fn u16(&mut self) -> u16 {
        self.next() as u16
    }
    /// Mostly realistic stakes, sometimes zero, sometimes extreme.
    pub fn stake(&mut self) -> u64 {
        match self.below(10) {
            0 => 0,
            1 if self.extreme => u64::MAX - self.below(3),
            1 => 21_000_000_000_000_000 - self.below(3),
            2 => self.below(1000),
            _ => self.below(21_000_000_000_000_000),
        }
    }
}

pub fn random_rows(
    rng: &mut Rng,
    n: u16,
    dense: bool,
    fill_percent: u64,
) -> Vec<(u16, Vec<(u16, u16)>)> {
    let mut rows = Vec::new();
    for i in 0..n {
        if !rng.chance(fill_percent) {
            continue;
        }
        let len = if dense {
            u64::from(n)
        } else {
            rng.below(8) + 1
        };
        let mut row: Vec<(u16, u16)> = (0..len)
            .map(|_| {
                (
                    rng.below(u64::from(n)) as u16,
                    if rng.chance(10) { 0 } else { rng.u16() },
                )
            })
            .collect();
        if rng.chance(80) {
            row.sort_by_key(|(j, _)| *j);
            row.dedup_by_key(|(j, _)| *j);
        }
        rows.push((i, row));
    }
    rows
}

pub fn random_epoch(seed: u64, n: u16, dense: bool) -> EpochInput {
    random_epoch_with(Rng::new(seed, false), n, dense)
}

pub fn random_epoch_with(mut rng: Rng, n: u16, dense: bool) -> EpochInput {
    let current_block = 1_000 + rng.below(10_000_000);
    let tempo = rng.below(1_000) as u16;
    let hotkeys: Vec<Option<u64>> = (0..n)
        .map(|u| (!rng.chance(5)).then_some(1_000_000 + u64::from(u)))
        .collect();
    let mut commit_reveal = CommitReveal {
        enabled: rng.chance(30),
        current_epoch_with_lookahead: rng.below(100),
        reveal_period: rng.below(5),
        ..CommitReveal::default()
    };
    for _ in 0..rng.below(6) {
        commit_reveal.weight_commits.push(WeightCommits {
            hotkey: 1_000_000 + rng.below(u64::from(n) + 2),
            commits: (0..rng.below(3))
                .map(|_| (rng.below(100), current_block - rng.below(1_000), 0))
                .collect(),
        });
        commit_reveal.timelocked_commits.push(TimelockedCommits {
            commit_epoch: rng.below(100),
            entries: (0..rng.below(3))
                .map(|_| {
                    (
                        1_000_000 + rng.below(u64::from(n)),
                        current_block - rng.below(1_000),
                        0,
                    )
                })
                .collect(),
        });
    }
    EpochInput {
        netuid: 1,
        mechid: 0,
        n,
        current_block,
        tempo,
        activity_cutoff_factor_milli: if rng.chance(50) {
            13_889
        } else {
            rng.next() as u32
        },
        rao_emission: if rng.chance(10) { 0 } else { rng.next() },
        last_update: (0..rng.below(u64::from(n) + 1))
            .map(|_| current_block.saturating_sub(rng.below(20_000)))
            .collect(),
        block_at_registration: (0..n)
            .map(|_| current_block.saturating_sub(rng.below(30_000)))
            .collect(),
        alpha_stake: (0..n).map(|_| rng.stake()).collect(),
        tao_stake: (0..n).map(|_| rng.stake()).collect(),
        tao_weight: if rng.chance(50) {
            971_718_665_099_567_868
        } else {
            rng.next()
        },
        stake_threshold: if rng.chance(70) {
            0
        } else {
            rng.below(1_000_000_000_000)
        },
        owner_uid: rng.chance(50).then(|| rng.below(u64::from(n)) as u16),
        validator_permit: (0..rng.below(u64::from(n) + 1))
            .map(|_| rng.chance(60))
            .collect(),
        max_allowed_validators: rng.below(u64::from(n) + 16) as u16,
        kappa: if rng.chance(50) { 32_767 } else { rng.u16() },
        rho: 10,
        bonds_penalty: if rng.chance(50) { 65_535 } else { rng.u16() },
        bonds_moving_average: if rng.chance(70) {
            rng.below(1_000_001)
        } else {
            rng.next()
        },
        liquid_alpha_enabled: rng.chance(50),
        alpha_values: (rng.u16(), rng.u16()),
        alpha_sigmoid_steepness: rng.next() as i16,
        yuma3_enabled: rng.chance(50),
        last_mechanism_step_block: if rng.chance(50) {
            0
        } else {
            current_block.saturating_sub(rng.below(2 * u64::from(tempo) + 1))
        },
        weights: random_rows(&mut rng, n, dense, 40),
        bonds: random_rows(&mut rng, n, dense, 30),
        hotkeys,
        commit_reveal,
    }
}

/// Every `.json` file of `shared/vectors/<dir>`: its name and text, in name order.
pub fn vector_files(dir: &str) -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/vectors")
        .join(dir);
    let mut paths: Vec<std::path::PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (tests read ../shared/ beside the repo)",
                dir.display()
            )
        })
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, text)
        })
        .collect()
}

/// Every vector of `shared/vectors/<dir>`, by file name, in name order.
pub fn load_vectors(dir: &str) -> Vec<(String, taoscope_consensus::VectorFile)> {
    vector_files(dir)
        .into_iter()
        .map(|(name, text)| {
            let vector = taoscope_consensus::VectorFile::from_json(&text)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, vector)
        })
        .collect()
}

/// Every spec-103 vector (`shared/vectors/yuma-v103`), by file name, in name order.
pub fn load_v103_vectors() -> Vec<(String, taoscope_consensus::v103::VectorFileV103)> {
    vector_files("yuma-v103")
        .into_iter()
        .map(|(name, text)| {
            let vector = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, vector)
        })
        .collect()
}

/// The mismatches of `actual` against the chain's values in `vector`, as one report line with
/// the first few differences; `None` when every value matches.
pub fn mismatch_report(
    name: &str,
    vector: &taoscope_consensus::VectorFile,
    actual: &taoscope_consensus::EpochOutput,
) -> Option<String> {
    let expected = vector
        .expected
        .as_ref()
        .unwrap_or_else(|| panic!("{name}: golden vectors carry expected"));
    let cmp = taoscope_consensus::compare_outputs(expected, actual);
    if cmp.is_exact() {
        return None;
    }
    let shown: Vec<String> = cmp
        .mismatches
        .iter()
        .take(8)
        .map(|m| format!("    {m}"))
        .collect();
    Some(format!(
        "{name}: {} of {} values differ\n{}",
        cmp.mismatches.len(),
        cmp.checked,
        shown.join("\n")
    ))
}

/// Runs every vector of `shared/vectors/<dir>` through `run` and lists each one whose output
/// differs from what the chain persisted (with its first few mismatches). Returns the count read.
pub fn check_vectors(
    dir: &str,
    mut run: impl FnMut(&EpochInput) -> taoscope_consensus::EpochOutput,
) -> (usize, Vec<String>) {
    let vectors = load_vectors(dir);
    let failures = vectors
        .iter()
        .filter_map(|(name, vector)| mismatch_report(name, vector, &run(&vector.input)))
        .collect();
    (vectors.len(), failures)
}
