//! The live audit: a subnet set up on the localnet with real extrinsics (sudo, registrations,
//! stake, weights from several validators), run through several epochs by the real spec-103
//! runtime, and every value the runtime stored at each epoch block recomputed by our engine from
//! the state of the block before. One differing value fails the test, with its field and uid.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use serde_json::{Value, json};
use std::collections::HashMap;
use taoscope_consensus::compare::compare_outputs_v103;
use taoscope_consensus::v103::run_epoch;
use taoscope_light_client::epoch_v103::{self, is_epoch_block};
use taoscope_light_client::extrinsic::{self, Mortality, Signer, Transaction};
use taoscope_light_client::keys::Sr25519Signer;
use taoscope_light_client::metadata::{Metadata, to_hex};
use taoscope_light_client::subnet::State;
use taoscope_localnet::chain::{Chain, Outcome};
use taoscope_localnet::genesis::{ChainSpec, apply_dev_overrides};
use taoscope_localnet::runtime::Storage;

const NETUID: u16 = 1;
const TEMPO: u16 = 9;
const TAO: u64 = 1_000_000_000;

/// A block's state as the light client's readers take it.
struct Kept<'a>(&'a Storage);

impl State for Kept<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).map(|v| v.to_vec())
    }
}

fn now<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(future).poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => panic!("a local signer never waits"),
    }
}

/// The chain, and what signing on it needs.
struct Net {
    chain: Chain,
    metadata: Metadata,
    spec_version: u32,
    transaction_version: u32,
    nonces: HashMap<[u8; 32], u32>,
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
        let mut chain = Chain::new(spec).unwrap();
        let version = chain.runtime().version().unwrap();
        Self {
            chain,
            metadata,
            spec_version: version.spec_version,
            transaction_version: version.transaction_version.unwrap(),
            nonces: HashMap::new(),
            slot: 1_000_000,
        }
    }

    fn call(&self, pallet: &str, call: &str, args: Value) -> Vec<u8> {
        extrinsic::encode_call(&self.metadata, pallet, call, args.as_object().unwrap())
            .unwrap_or_else(|e| panic!("{pallet}.{call}: {e}"))
    }

    fn sudo(&self, call: &str, args: Value) -> Vec<u8> {
        let inner = self.call("SubtensorModule", call, args);
        self.call("Sudo", "sudo", json!({ "call": to_hex(&inner) }))
    }

    fn sign(&mut self, signer: &Sr25519Signer, call: &[u8]) -> Vec<u8> {
        let nonce = self.nonces.entry(signer.account()).or_insert(0);
        let tx = Transaction {
            spec_version: self.spec_version,
            transaction_version: self.transaction_version,
            genesis_hash: self.chain.genesis().hash,
            mortality: Mortality::Immortal,
            nonce: *nonce,
            tip: 0,
            metadata_hash: None,
        };
        *nonce += 1;
        now(extrinsic::sign(&self.metadata, &tx, call, signer)).unwrap()
    }

    /// `SubtensorModule.entry[keys]` at block `number`.
    fn read<T: taoscope_light_client::storage::StorageValue>(
        &self,
        number: u64,
        entry: &str,
        keys: &[Value],
    ) -> T {
        let state = self.chain.state(number).unwrap();
        taoscope_light_client::subnet::read(&self.metadata, &Kept(&state), entry, keys).unwrap()
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

    /// Audits the epoch of block `b`: recomputes it from the state after `b − 1` and compares
    /// every stored value with the state after `b`. Returns (values checked, weight rows).
    fn audit(&self, b: u64) -> (usize, usize) {
        let before = self.chain.state(b - 1).unwrap();
        let after = self.chain.state(b).unwrap();
        let input = epoch_v103::epoch_input(&self.metadata, &Kept(&before), NETUID, b).unwrap();
        let mut recomputed = run_epoch(&input).unwrap_or_else(|e| panic!("block {b}: {e}"));
        let stored = epoch_v103::persisted(&self.metadata, &Kept(&after), NETUID).unwrap();
        // Which rows the epoch wrote is not stored anywhere; the rows themselves are compared.
        recomputed.bonds_written.clear();
        let cmp = compare_outputs_v103(&stored, &recomputed);
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
            compare_outputs_v103(&tampered, &recomputed)
                .mismatches
                .len(),
            1
        );
        (cmp.checked, input.weights.len())
    }
}

#[test]
fn the_runtime_s_epochs_are_reproduced_value_for_value() {
    let mut net = Net::new();
    let alice = Sr25519Signer::dev("Alice").unwrap();
    let hotkeys: Vec<Sr25519Signer> = (0..10)
        .map(|i| Sr25519Signer::dev(&format!("Hotkey{i}")).unwrap())
        .collect();
    let coldkeys: Vec<Sr25519Signer> = (0..10)
        .map(|i| Sr25519Signer::dev(&format!("Coldkey{i}")).unwrap())
        .collect();

    // The subnet: a 10-block tempo, weights settable every block, 4 validator permits, an
    // emission of 1 TAO a block.
    let n1 = json!(NETUID);
    let setup = [
        net.sudo(
            "sudo_add_network",
            json!({"netuid": n1, "tempo": TEMPO, "modality": 0}),
        ),
        net.sudo(
            "sudo_set_weights_set_rate_limit",
            json!({"netuid": n1, "weights_set_rate_limit": 0}),
        ),
        net.sudo(
            "sudo_set_min_allowed_weights",
            json!({"netuid": n1, "min_allowed_weights": 0}),
        ),
        net.sudo(
            "sudo_set_max_weight_limit",
            json!({"netuid": n1, "max_weight_limit": 65535}),
        ),
        net.sudo(
            "sudo_set_max_allowed_validators",
            json!({"netuid": n1, "max_allowed_validators": 4}),
        ),
        net.sudo(
            "sudo_set_max_registrations_per_block",
            json!({"netuid": n1, "max_registrations_per_block": 64}),
        ),
    ];
    // Emission values must name every subnet (the testnet genesis carries subnet 3) and sum to
    // the block emission.
    let existing: Vec<u16> = (0..64)
        .filter(|&netuid| {
            netuid == NETUID || net.read::<bool>(0, "NetworksAdded", &[json!(netuid)])
        })
        .collect();
    let block_emission: u64 = net.read(0, "BlockEmission", &[]);
    let emission: Vec<u64> = existing
        .iter()
        .map(|&netuid| if netuid == NETUID { block_emission } else { 0 })
        .collect();
    let mut setup = setup.to_vec();
    setup.push(net.sudo(
        "sudo_set_emission_values",
        json!({"netuids": existing, "emission": emission}),
    ));
    let setup: Vec<Vec<u8>> = setup.iter().map(|c| net.sign(&alice, c)).collect();
    net.block(&setup);
    // Ten neurons: four validators with stake (4000, 3000, 2000, 1000 TAO), six miners with
    // none; the validators' hotkeys get TAO for fees, the coldkeys some to stake with later.
    let mut registrations = Vec::new();
    for (i, (hotkey, coldkey)) in hotkeys.iter().zip(&coldkeys).enumerate() {
        let stake = if i < 4 {
            (4 - i as u64) * 1000 * TAO
        } else {
            0
        };
        let call = net.sudo(
            "sudo_register",
            json!({
                "netuid": n1,
                "hotkey": to_hex(&hotkey.account()),
                "coldkey": to_hex(&coldkey.account()),
                "stake": stake,
                "balance": 100 * TAO,
            }),
        );
        registrations.push(net.sign(&alice, &call));
    }
    for hotkey in &hotkeys[..4] {
        let call = net.call(
            "Balances",
            "transfer",
            json!({"dest": to_hex(&hotkey.account()), "value": 10 * TAO}),
        );
        registrations.push(net.sign(&alice, &call));
    }
    net.block(&registrations);

    // Weights from the four validators on the miners (uids 4..9); validator 3 disagrees.
    let weights_of = |v: usize, round: u16| -> (Vec<u16>, Vec<u16>) {
        let dests: Vec<u16> = (4..10).collect();
        let values: Vec<u16> = dests
            .iter()
            .map(|&m| match v {
                3 => 100 + (9 - m) * 50 + round,
                _ => 100 + (m - 4) * 40 + u16::try_from(v).unwrap() * 7 + round,
            })
            .collect();
        (dests, values)
    };
    let mut audited = Vec::new();
    let mut checked = 0;
    let mut round = 0;
    while audited.len() < 4 {
        let next = net.chain.best().number + 1;
        let mut txs = Vec::new();
        // After the first epoch has given permits, validators set weights every few blocks,
        // and a coldkey adds stake: bonds and stake move between epochs.
        let permitted = !audited.is_empty();
        if permitted && next.is_multiple_of(4) {
            round += 1;
            for (v, hotkey) in hotkeys.iter().enumerate().take(4) {
                let (dests, values) = weights_of(v, round);
                let call = net.call(
                    "SubtensorModule",
                    "set_weights",
                    json!({"netuid": n1, "dests": dests, "weights": values, "version_key": 0}),
                );
                txs.push(net.sign(hotkey, &call));
            }
        }
        if permitted && next.is_multiple_of(7) {
            let call = net.call(
                "SubtensorModule",
                "add_stake",
                json!({"hotkey": to_hex(&hotkeys[2].account()), "amount_staked": 5 * TAO}),
            );
            txs.push(net.sign(&coldkeys[2], &call));
        }
        let b = net.block(&txs);
        let stepped =
            epoch_v103::last_step(&net.metadata, &Kept(&net.chain.state(b).unwrap()), NETUID)
                .unwrap()
                == b;
        assert_eq!(
            stepped,
            is_epoch_block(NETUID, TEMPO, b),
            "block {b}: the epoch rule"
        );
        if is_epoch_block(NETUID, TEMPO, b) {
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
