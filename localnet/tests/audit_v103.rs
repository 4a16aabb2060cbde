//! The live audit: the demonstration subnet set up on the localnet with real extrinsics (sudo,
//! registrations, stake, weights from four validators; see `demo.rs`), run through several
//! epochs by the real spec-103 runtime, and every value the runtime stored at each epoch block recomputed by our engine from
//! the state of the block before. One differing value fails the test, with its field and uid.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use taoscope_consensus::compare::compare_stored_v103;
use taoscope_consensus::v103::run_epoch;
use taoscope_light_client::audit;
use taoscope_light_client::client::{BlockRef, RuntimeSpec};
use taoscope_light_client::epoch_v103::{self, is_epoch_block};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::subnet::State;
use taoscope_localnet::chain::{Chain, Outcome};
use taoscope_localnet::demo::{DemoSubnet, Kept, NETUID, TEMPO};
use taoscope_localnet::genesis::{ChainSpec, apply_dev_overrides};

/// A state that records which keys were read.
struct Recording<'s, S> {
    state: &'s S,
    read: std::cell::RefCell<Vec<Vec<u8>>>,
}

impl<'s, S: State> Recording<'s, S> {
    fn new(state: &'s S) -> Self {
        Self {
            state,
            read: Default::default(),
        }
    }

    fn keys(&self) -> Vec<Vec<u8>> {
        self.read.borrow().clone()
    }
}

impl<S: State> State for Recording<'_, S> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.read.borrow_mut().push(key.to_vec());
        self.state.get(key)
    }
}

/// The chain, and the metadata its state is read with.
struct Net {
    chain: Chain,
    metadata: Metadata,
    slot: u64,
}

impl Net {
    fn new() -> Self {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
        );
        let mut spec = ChainSpec::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
        apply_dev_overrides(&mut spec).unwrap();
        let metadata = spec.metadata().unwrap();
        let chain = Chain::new(spec).unwrap();
        Self {
            chain,
            metadata,
            slot: 1_000_000,
        }
    }

    /// Authors one block with `transactions`; each must be applied.
    fn block(&mut self, transactions: &[Vec<u8>]) -> u64 {
        self.slot += 1;
        let outcomes = self.chain.author(self.slot, transactions).unwrap();
        for (i, outcome) in outcomes.iter().enumerate() {
            assert_eq!(
                outcome,
                &Outcome::Applied,
                "transaction {i} of block {}",
                self.chain.best().number + 1
            );
        }
        self.chain.best().number
    }

    /// The light client's audit of block `b` from the states after `b − 1` and after `b`.
    fn audit_states<S: State>(
        &self,
        before: &S,
        after: &S,
        b: u64,
    ) -> Result<audit::EpochAudit, audit::AuditError> {
        let block = |number: u64| BlockRef {
            number,
            hash: String::new(),
        };
        let spec = RuntimeSpec {
            spec_name: "node-subtensor".into(),
            spec_version: 103,
            transaction_version: 1,
        };
        audit::audit_epoch(
            audit::EpochStates {
                before: (&self.metadata, before),
                after: (&self.metadata, after),
            },
            NETUID,
            &block(b),
            &block(b - 1),
            &spec,
            &[],
        )
    }

    /// Audits the epoch of block `b`: recomputes it from the state after `b − 1` and compares
    /// every stored value with the state after `b`. Returns (values checked, weight rows).
    fn audit(&self, b: u64) -> (usize, usize) {
        let before = self.chain.state(b - 1).unwrap();
        let after = self.chain.state(b).unwrap();
        let input = epoch_v103::epoch_input(&self.metadata, &Kept(&before), NETUID, b).unwrap();
        let recomputed = run_epoch(&input).unwrap_or_else(|e| panic!("block {b}: {e}"));
        let stored = epoch_v103::persisted(&self.metadata, &Kept(&after), NETUID).unwrap();
        let cmp = compare_stored_v103(&stored, &recomputed);
        assert!(
            cmp.is_exact(),
            "epoch at block {b}: {} of {} stored values differ:\n{}",
            cmp.mismatches.len(),
            cmp.checked,
            cmp.mismatches
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
        // And the comparison does see a single value off by one.
        let mut tampered = stored.clone();
        if let Some(d) = tampered.dividends.first_mut() {
            *d ^= 1;
        }
        assert_eq!(
            compare_stored_v103(&tampered, &recomputed).mismatches.len(),
            1
        );
        // The light client's audit of the same two states agrees, and refuses to call the block
        // before an epoch block an epoch (the chain's last step names another block).
        let (kept_before, kept_after) = (Kept(&before), Kept(&after));
        let audited = self.audit_states(&kept_before, &kept_after, b).unwrap();
        assert_eq!(audited.checked, cmp.checked);
        assert!(audited.is_exact(), "{:?}", audited.mismatches);
        // Every key the audit reads is one the light client fetches (`subnet_reads`): a key
        // outside them would read as proven-absent, a default taken for a fact.
        let (seen_before, seen_after) = (Recording::new(&kept_before), Recording::new(&kept_after));
        self.audit_states(&seen_before, &seen_after, b).unwrap();
        let reads = epoch_v103::subnet_reads(&self.metadata, NETUID).unwrap();
        for key in seen_before.keys().into_iter().chain(seen_after.keys()) {
            assert!(
                reads.keys.contains(&key) || reads.prefixes.iter().any(|p| key.starts_with(p)),
                "the audit reads {} that subnet_reads does not fetch",
                taoscope_light_client::hex::to_hex(&key)
            );
        }
        let earlier = self.chain.state(b - 2).unwrap();
        let kept_earlier = Kept(&earlier);
        assert_eq!(
            self.audit_states(&kept_earlier, &kept_before, b - 1)
                .unwrap_err(),
            audit::AuditError::NotAnEpoch {
                netuid: NETUID,
                block: b - 1
            }
        );
        (cmp.checked, input.weights.len())
    }
}

#[test]
fn the_runtime_s_epochs_are_reproduced_value_for_value() {
    let mut net = Net::new();
    let mut demo = DemoSubnet::new(&mut net.chain).unwrap();
    let setup = demo.setup(&net.chain.state(0).unwrap()).unwrap();
    for batch in &setup {
        net.block(batch);
    }
    let mut audited = Vec::new();
    let mut checked = 0;
    while audited.len() < 4 {
        let next = net.chain.best().number + 1;
        let state = net.chain.state(next - 1).unwrap();
        let txs = demo.activity(&state, next).unwrap();
        let b = net.block(&txs);
        let after = net.chain.state(b).unwrap();
        let stepped = epoch_v103::last_step(&net.metadata, &Kept(&after), NETUID).unwrap() == b;
        assert_eq!(
            stepped,
            is_epoch_block(NETUID, TEMPO, b),
            "block {b}: the epoch rule"
        );
        if stepped {
            let (values, weight_rows) = net.audit(b);
            eprintln!(
                "epoch at block {b}: {values} stored values reproduced, {weight_rows} weight rows"
            );
            checked += values;
            audited.push((b, weight_rows));
        }
    }

    // The first epoch had no weights; the three after it had rows from all four validators,
    // and the epochs were consecutive.
    let after_first = &audited[1..];
    assert!(
        after_first.iter().all(|&(_, rows)| rows >= 3),
        "{audited:?}"
    );
    assert!(
        after_first
            .windows(2)
            .all(|w| w[1].0 - w[0].0 == u64::from(TEMPO) + 1),
        "{audited:?}"
    );
    // Bonds were carried: the last epoch's input has stored bond rows from the one before.
    let last = audited.last().unwrap().0;
    let state = net.chain.state(last - 1).unwrap();
    let input = epoch_v103::epoch_input(&net.metadata, &Kept(&state), NETUID, last).unwrap();
    assert_eq!(input.n, 10);
    assert!(
        input
            .bonds
            .iter()
            .filter(|(_, row)| !row.is_empty())
            .count()
            >= 3,
        "{:?}",
        input.bonds
    );
    assert!(input.rao_emission > 0);
    eprintln!(
        "{checked} stored values reproduced over {} epochs",
        audited.len()
    );
}
