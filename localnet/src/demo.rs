//! A demonstration subnet, driven by real signed extrinsics, so that a fresh localnet has
//! epochs worth looking at within minutes: subnet 1 with a 10-block tempo, four validators
//! (4 000, 3 000, 2 000 and 1 000 TAO of stake) and six miners, the validators setting weights
//! every four blocks (validator 3 disagreeing with the others), and a coldkey adding stake
//! every seven. Keys are derived from the development seed: `//Hotkey0`…`//Hotkey9`,
//! `//Coldkey0`…`//Coldkey9`; sudo is `//Alice`.
//!
//! Everything goes through the runtime as a user's transactions would: sudo calls
//! (`sudo_add_network`, hyperparameters, `sudo_register`), transfers, `set_weights`,
//! `add_stake`, each signed and included by the block builder.

use crate::chain::{Chain, ChainError};
use crate::runtime::Storage;
use serde_json::{Value, json};
use taoscope_light_client::extrinsic::{self, Mortality, Signer, Transaction};
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::keys::Sr25519Signer;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::storage::{self, StorageValue};
use taoscope_light_client::subnet::State;

pub const NETUID: u16 = 1;
pub const TEMPO: u16 = 9;
const TAO: u64 = 1_000_000_000;
const NEURONS: usize = 10;
const VALIDATORS: usize = 4;

/// A kept state, as the light client's readers take it.
pub struct Kept<'a>(pub &'a Storage);

impl State for Kept<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).map(|v| v.to_vec())
    }
}

pub struct DemoSubnet {
    metadata: Metadata,
    spec_version: u32,
    transaction_version: u32,
    genesis_hash: [u8; 32],
    sudo: Sr25519Signer,
    pub hotkeys: Vec<Sr25519Signer>,
    pub coldkeys: Vec<Sr25519Signer>,
    round: u16,
}

fn derive(name: &str) -> Result<Sr25519Signer, ChainError> {
    Sr25519Signer::dev(name).ok_or_else(|| ChainError::Build(format!("cannot derive //{name}")))
}

impl DemoSubnet {
    pub fn new(chain: &mut Chain) -> Result<Self, ChainError> {
        let metadata = chain.spec().metadata()?;
        let version = chain
            .runtime()
            .version()
            .ok_or_else(|| ChainError::Build("the runtime has no version".into()))?;
        Ok(Self {
            metadata,
            spec_version: version.spec_version,
            transaction_version: version.transaction_version.unwrap_or(1),
            genesis_hash: chain.genesis().hash,
            sudo: derive("Alice")?,
            hotkeys: (0..NEURONS)
                .map(|i| derive(&format!("Hotkey{i}")))
                .collect::<Result<_, _>>()?,
            coldkeys: (0..NEURONS)
                .map(|i| derive(&format!("Coldkey{i}")))
                .collect::<Result<_, _>>()?,
            round: 0,
        })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    fn read<T: StorageValue>(
        &self,
        state: &Storage,
        pallet: &str,
        entry: &str,
        keys: &[Value],
    ) -> Option<T> {
        let key = storage::key(&self.metadata, pallet, entry, keys).ok()?;
        let bytes = state.get(&key).map(|v| v.to_vec());
        storage::read_typed::<T>(&self.metadata, pallet, entry, bytes.as_deref())
            .ok()
            .flatten()
    }

    fn call(&self, pallet: &str, call: &str, args: Value) -> Result<Vec<u8>, ChainError> {
        let args = args.as_object().cloned().unwrap_or_default();
        extrinsic::encode_call(&self.metadata, pallet, call, &args)
            .map_err(|e| ChainError::Build(format!("{pallet}.{call}: {e}")))
    }

    fn sudo_call(&self, call: &str, args: Value) -> Result<Vec<u8>, ChainError> {
        let inner = self.call("SubtensorModule", call, args)?;
        self.call("Sudo", "sudo", json!({ "call": to_hex(&inner) }))
    }

    /// Signs `calls` by `signer` with consecutive nonces from its nonce in `state`.
    fn sign_all(
        &self,
        state: &Storage,
        signer: &Sr25519Signer,
        calls: &[Vec<u8>],
    ) -> Result<Vec<Vec<u8>>, ChainError> {
        let key = storage::key(
            &self.metadata,
            "System",
            "Account",
            &[json!(to_hex(&signer.account()))],
        )
        .map_err(|e| ChainError::Build(e.to_string()))?;
        let bytes = state.get(&key).map(|v| v.to_vec());
        let account = storage::read(&self.metadata, "System", "Account", bytes.as_deref())
            .map_err(|e| ChainError::Build(e.to_string()))?;
        let first = account.get("nonce").and_then(Value::as_u64).unwrap_or(0);
        calls
            .iter()
            .enumerate()
            .map(|(i, call)| {
                let tx = Transaction {
                    spec_version: self.spec_version,
                    transaction_version: self.transaction_version,
                    genesis_hash: self.genesis_hash,
                    mortality: Mortality::Immortal,
                    nonce: u32::try_from(first + i as u64).unwrap_or(u32::MAX),
                    tip: 0,
                    metadata_hash: None,
                };
                extrinsic::sign_ready(&self.metadata, &tx, call, signer)
                    .map_err(|e| ChainError::Build(e.to_string()))
            })
            .collect()
    }

    /// The two blocks of setup, as transaction batches: the subnet and its hyperparameters,
    /// then the neurons (and TAO for the validators' fees).
    pub fn setup(&self, state: &Storage) -> Result<[Vec<Vec<u8>>; 2], ChainError> {
        let n1 = json!(NETUID);
        let mut first = vec![
            self.sudo_call(
                "sudo_add_network",
                json!({"netuid": n1, "tempo": TEMPO, "modality": 0}),
            )?,
            self.sudo_call(
                "sudo_set_weights_set_rate_limit",
                json!({"netuid": n1, "weights_set_rate_limit": 0}),
            )?,
            self.sudo_call(
                "sudo_set_min_allowed_weights",
                json!({"netuid": n1, "min_allowed_weights": 0}),
            )?,
            self.sudo_call(
                "sudo_set_max_weight_limit",
                json!({"netuid": n1, "max_weight_limit": 65535}),
            )?,
            self.sudo_call(
                "sudo_set_max_allowed_validators",
                json!({"netuid": n1, "max_allowed_validators": VALIDATORS}),
            )?,
            self.sudo_call(
                "sudo_set_max_registrations_per_block",
                json!({"netuid": n1, "max_registrations_per_block": 64}),
            )?,
        ];
        // Emission values must name every subnet (the testnet genesis carries subnet 3) and sum
        // to the block emission.
        let subnets: Vec<u16> = (0..64)
            .filter(|&netuid| {
                netuid == NETUID
                    || self
                        .read::<bool>(state, "SubtensorModule", "NetworksAdded", &[json!(netuid)])
                        .unwrap_or(false)
            })
            .collect();
        let block_emission: u64 = self
            .read(state, "SubtensorModule", "BlockEmission", &[])
            .unwrap_or(TAO);
        let emission: Vec<u64> = subnets
            .iter()
            .map(|&netuid| if netuid == NETUID { block_emission } else { 0 })
            .collect();
        first.push(self.sudo_call(
            "sudo_set_emission_values",
            json!({"netuids": subnets, "emission": emission}),
        )?);

        let mut second = Vec::new();
        for (i, (hotkey, coldkey)) in self.hotkeys.iter().zip(&self.coldkeys).enumerate() {
            let stake = if i < VALIDATORS {
                (VALIDATORS - i) as u64 * 1000 * TAO
            } else {
                0
            };
            second.push(self.sudo_call(
                "sudo_register",
                json!({
                    "netuid": n1,
                    "hotkey": to_hex(&hotkey.account()),
                    "coldkey": to_hex(&coldkey.account()),
                    "stake": stake,
                    "balance": 100 * TAO,
                }),
            )?);
        }
        for hotkey in &self.hotkeys[..VALIDATORS] {
            second.push(self.call(
                "Balances",
                "transfer",
                json!({"dest": to_hex(&hotkey.account()), "value": 10 * TAO}),
            )?);
        }
        // Both batches are Alice's: the second's nonces follow the first's.
        let all: Vec<Vec<u8>> = first.iter().chain(&second).cloned().collect();
        let mut signed = self.sign_all(state, &self.sudo, &all)?;
        let second_signed = signed.split_off(first.len());
        Ok([signed, second_signed])
    }

    /// The subnet's activity for block `next` on top of `state`: weights every four blocks
    /// once the first epoch has given permits, and an `add_stake` every seven.
    pub fn activity(&mut self, state: &Storage, next: u64) -> Result<Vec<Vec<u8>>, ChainError> {
        let stepped: u64 = self
            .read(
                state,
                "SubtensorModule",
                "LastMechansimStepBlock",
                &[json!(NETUID)],
            )
            .unwrap_or(0);
        let registered: u16 = self
            .read(state, "SubtensorModule", "SubnetworkN", &[json!(NETUID)])
            .unwrap_or(0);
        if stepped == 0 || usize::from(registered) < NEURONS {
            return Ok(Vec::new());
        }
        let mut txs = Vec::new();
        if next.is_multiple_of(4) {
            self.round = self.round.wrapping_add(1) % 1000;
            for v in 0..VALIDATORS {
                let dests: Vec<u16> = (VALIDATORS as u16..NEURONS as u16).collect();
                let weights: Vec<u16> = dests
                    .iter()
                    .map(|&m| match v {
                        // One validator sees the miners the other way round.
                        3 => 100 + (9 - m) * 50 + self.round,
                        _ => 100 + (m - 4) * 40 + v as u16 * 7 + self.round,
                    })
                    .collect();
                let call = self.call(
                    "SubtensorModule",
                    "set_weights",
                    json!({"netuid": NETUID, "dests": dests, "weights": weights, "version_key": 0}),
                )?;
                txs.extend(self.sign_all(state, &self.hotkeys[v], &[call])?);
            }
        }
        if next.is_multiple_of(7) {
            let call = self.call(
                "SubtensorModule",
                "add_stake",
                json!({"hotkey": to_hex(&self.hotkeys[2].account()), "amount_staked": 5 * TAO}),
            )?;
            txs.extend(self.sign_all(state, &self.coldkeys[2], &[call])?);
        }
        Ok(txs)
    }
}
