//! Demonstration subnets, driven by real signed extrinsics, so that a fresh localnet has epochs
//! worth looking at within minutes. Subnet 1 (always): a 10-block tempo, four validators (4 000,
//! 3 000, 2 000 and 1 000 TAO of stake) and six miners by default, resizable up to 256 uids and
//! 64 validators (`--demo-uids`, `--demo-validators`); the validators set weights every four
//! blocks (validator 3 disagreeing with the others) and a coldkey adds stake every seven. With
//! `--demo-subnets 3`, subnets 2 and 4 join with other tempos, sizes and hyperparameters (kappa,
//! bonds moving average, activity cutoff), so that audits meet more than one shape. Keys are
//! derived from the development seed: subnet 1's `//Hotkey0`… and `//Coldkey0`…, the others'
//! `//Hotkey<netuid>.<i>` and `//Coldkey<netuid>.<i>`; sudo is `//Alice`.
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

/// Subnet 1, the first demonstration subnet.
pub const NETUID: u16 = 1;
pub const TEMPO: u16 = 9;
const TAO: u64 = 1_000_000_000;
/// Registrations per block: the runtime caps them per subnet and block.
const REGISTRATIONS_PER_BLOCK: usize = 64;
/// The largest demonstration subnet.
pub const MAX_UIDS: u16 = 256;
pub const MAX_VALIDATORS: u16 = 64;

/// One demonstration subnet's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plan {
    pub netuid: u16,
    pub tempo: u16,
    pub uids: u16,
    pub validators: u16,
    /// Hyperparameters set away from the runtime's defaults (`None`: the default).
    pub kappa: Option<u16>,
    pub bonds_moving_average: Option<u64>,
    pub activity_cutoff: Option<u16>,
    /// Its share of the block emission, in percent (the shares of the subnets run sum to 100).
    pub emission_percent: u64,
}

/// Subnet 1 as it has always been: 10 uids, 4 validators, the runtime's hyperparameters.
pub const SUBNET_1: Plan = Plan {
    netuid: NETUID,
    tempo: TEMPO,
    uids: 10,
    validators: 4,
    kappa: None,
    bonds_moving_average: None,
    activity_cutoff: None,
    emission_percent: 100,
};

/// The two others of `--demo-subnets 3` (the testnet genesis already holds a subnet 3).
pub const OTHERS: [Plan; 2] = [
    Plan {
        netuid: 2,
        tempo: 14,
        uids: 32,
        validators: 8,
        kappa: Some(40_000),
        bonds_moving_average: Some(500_000),
        activity_cutoff: Some(1_000),
        emission_percent: 30,
    },
    Plan {
        netuid: 4,
        tempo: 19,
        uids: 16,
        validators: 4,
        kappa: Some(20_000),
        bonds_moving_average: Some(950_000),
        activity_cutoff: None,
        emission_percent: 10,
    },
];

/// The plans for `count` demonstration subnets (1 to 3), subnet 1 sized `uids` × `validators`.
pub fn plans(count: usize, uids: u16, validators: u16) -> Result<Vec<Plan>, String> {
    if !(1..=3).contains(&count) {
        return Err(format!(
            "--demo-subnets: {count}; 1 to 3 demonstration subnets"
        ));
    }
    if !(2..=MAX_UIDS).contains(&uids) {
        return Err(format!("--demo-uids: {uids}; 2 to {MAX_UIDS} uids"));
    }
    if validators == 0 || validators > MAX_VALIDATORS || validators >= uids {
        return Err(format!(
            "--demo-validators: {validators}; 1 to {MAX_VALIDATORS}, and fewer than the uids ({uids})"
        ));
    }
    let mut first = Plan {
        uids,
        validators,
        ..SUBNET_1
    };
    let mut plans = vec![first];
    if count > 1 {
        first.emission_percent = 100
            - OTHERS
                .iter()
                .take(count - 1)
                .map(|p| p.emission_percent)
                .sum::<u64>();
        plans = vec![first];
        plans.extend(OTHERS.iter().take(count - 1).copied());
    }
    Ok(plans)
}

/// A kept state, as the light client's readers take it.
pub struct Kept<'a>(pub &'a Storage);

impl State for Kept<'_> {
    fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.0.get(key).map(|v| v.to_vec())
    }
}

/// One demonstration subnet's plan and keys.
struct Neurons {
    plan: Plan,
    hotkeys: Vec<Sr25519Signer>,
    coldkeys: Vec<Sr25519Signer>,
}

pub struct DemoSubnet {
    metadata: Metadata,
    spec_version: u32,
    transaction_version: u32,
    genesis_hash: [u8; 32],
    sudo: Sr25519Signer,
    subnets: Vec<Neurons>,
    round: u16,
}

fn derive(name: &str) -> Result<Sr25519Signer, ChainError> {
    Sr25519Signer::dev(name).ok_or_else(|| ChainError::Build(format!("cannot derive //{name}")))
}

impl DemoSubnet {
    /// Subnet 1 as it has always been.
    pub fn new(chain: &mut Chain) -> Result<Self, ChainError> {
        Self::with_plans(chain, &[SUBNET_1])
    }

    pub fn with_plans(chain: &mut Chain, plans: &[Plan]) -> Result<Self, ChainError> {
        let metadata = chain.spec().metadata()?;
        let version = chain
            .runtime()
            .version()
            .ok_or_else(|| ChainError::Build("the runtime has no version".into()))?;
        let subnets = plans
            .iter()
            .map(|&plan| {
                let name = |role: &str, i: u16| match plan.netuid {
                    NETUID => format!("{role}{i}"),
                    netuid => format!("{role}{netuid}.{i}"),
                };
                Ok(Neurons {
                    plan,
                    hotkeys: (0..plan.uids)
                        .map(|i| derive(&name("Hotkey", i)))
                        .collect::<Result<_, ChainError>>()?,
                    coldkeys: (0..plan.uids)
                        .map(|i| derive(&name("Coldkey", i)))
                        .collect::<Result<_, ChainError>>()?,
                })
            })
            .collect::<Result<_, ChainError>>()?;
        Ok(Self {
            metadata,
            spec_version: version.spec_version,
            transaction_version: version.transaction_version.unwrap_or(1),
            genesis_hash: chain.genesis().hash,
            sudo: derive("Alice")?,
            subnets,
            round: 0,
        })
    }

    /// The hotkeys of subnet 1, uid by uid.
    pub fn hotkeys(&self) -> &[Sr25519Signer] {
        self.subnets.first().map_or(&[], |s| &s.hotkeys)
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

    /// The blocks of setup, as transaction batches: the subnets and their hyperparameters, then
    /// the neurons (at most [`REGISTRATIONS_PER_BLOCK`] a block) and TAO for the validators' fees.
    pub fn setup(&self, state: &Storage) -> Result<Vec<Vec<Vec<u8>>>, ChainError> {
        let mut first = Vec::new();
        for Neurons { plan, .. } in &self.subnets {
            let n = json!(plan.netuid);
            first.push(self.sudo_call(
                "sudo_add_network",
                json!({"netuid": n, "tempo": plan.tempo, "modality": 0}),
            )?);
            let mut set = |call: &str, name: &str, value: Value| -> Result<(), ChainError> {
                first.push(self.sudo_call(call, json!({"netuid": n, name: value}))?);
                Ok(())
            };
            set(
                "sudo_set_weights_set_rate_limit",
                "weights_set_rate_limit",
                json!(0),
            )?;
            set(
                "sudo_set_min_allowed_weights",
                "min_allowed_weights",
                json!(0),
            )?;
            set(
                "sudo_set_max_weight_limit",
                "max_weight_limit",
                json!(65535),
            )?;
            set(
                "sudo_set_max_allowed_validators",
                "max_allowed_validators",
                json!(plan.validators),
            )?;
            set(
                "sudo_set_max_allowed_uids",
                "max_allowed_uids",
                json!(plan.uids),
            )?;
            set(
                "sudo_set_max_registrations_per_block",
                "max_registrations_per_block",
                json!(REGISTRATIONS_PER_BLOCK),
            )?;
            if let Some(kappa) = plan.kappa {
                set("sudo_set_kappa", "kappa", json!(kappa))?;
            }
            if let Some(average) = plan.bonds_moving_average {
                set(
                    "sudo_set_bonds_moving_average",
                    "bonds_moving_average",
                    json!(average),
                )?;
            }
            if let Some(cutoff) = plan.activity_cutoff {
                set("sudo_set_activity_cutoff", "activity_cutoff", json!(cutoff))?;
            }
        }
        // Emission values must name every subnet (the testnet genesis carries subnet 3) and sum
        // to the block emission.
        let ours = |netuid: u16| self.subnets.iter().find(|s| s.plan.netuid == netuid);
        let subnets: Vec<u16> = (0..64)
            .filter(|&netuid| {
                ours(netuid).is_some()
                    || self
                        .read::<bool>(state, "SubtensorModule", "NetworksAdded", &[json!(netuid)])
                        .unwrap_or(false)
            })
            .collect();
        let block_emission: u64 = self
            .read(state, "SubtensorModule", "BlockEmission", &[])
            .unwrap_or(TAO);
        let mut emission: Vec<u64> = subnets
            .iter()
            .map(|&netuid| {
                ours(netuid).map_or(0, |s| block_emission / 100 * s.plan.emission_percent)
            })
            .collect();
        // What integer shares leave over goes to subnet 1, so the sum is exact.
        let rest = block_emission - emission.iter().sum::<u64>();
        if let Some(i) = subnets.iter().position(|&n| n == NETUID) {
            emission[i] += rest;
        }
        first.push(self.sudo_call(
            "sudo_set_emission_values",
            json!({"netuids": subnets, "emission": emission}),
        )?);

        let mut registrations = Vec::new();
        for Neurons {
            plan,
            hotkeys,
            coldkeys,
        } in &self.subnets
        {
            let validators = usize::from(plan.validators);
            let scale = if plan.netuid == NETUID { 1000 } else { 500 };
            for (i, (hotkey, coldkey)) in hotkeys.iter().zip(coldkeys).enumerate() {
                let stake = if i < validators {
                    (validators - i) as u64 * scale * TAO
                } else {
                    0
                };
                registrations.push(self.sudo_call(
                    "sudo_register",
                    json!({
                        "netuid": plan.netuid,
                        "hotkey": to_hex(&hotkey.account()),
                        "coldkey": to_hex(&coldkey.account()),
                        "stake": stake,
                        "balance": 100 * TAO,
                    }),
                )?);
            }
        }
        let mut batches = vec![first];
        batches.extend(
            registrations
                .chunks(REGISTRATIONS_PER_BLOCK)
                .map(<[Vec<u8>]>::to_vec),
        );
        let mut fees = Vec::new();
        for Neurons { plan, hotkeys, .. } in &self.subnets {
            for hotkey in &hotkeys[..usize::from(plan.validators)] {
                fees.push(self.call(
                    "Balances",
                    "transfer",
                    json!({"dest": to_hex(&hotkey.account()), "value": 10 * TAO}),
                )?);
            }
        }
        if let Some(last) = batches.last_mut() {
            last.extend(fees);
        }
        // Delegates with different takes, so that yields differ by more than weights: spec 103's
        // `become_delegate` takes the default take of the moment, so sudo sets it before each
        // one (and back to the runtime's after), a block apart so that the order is the chain's.
        let delegates = self.delegates();
        let mut takes: Vec<Vec<Vec<u8>>> =
            vec![vec![self.sudo_call(
                "sudo_set_tx_rate_limit",
                json!({"tx_rate_limit": 0}),
            )?]];
        for (take, _) in &delegates {
            takes.push(vec![self.sudo_call(
                "sudo_set_default_take",
                json!({"default_take": take}),
            )?]);
        }
        let default_take: u16 = self
            .read(state, "SubtensorModule", "DefaultTake", &[])
            .unwrap_or(11_796);
        let restore = self.sudo_call(
            "sudo_set_default_take",
            json!({"default_take": default_take}),
        )?;
        // Alice's batches all sign in one run: each one's nonces follow the one before.
        let alice: Vec<Vec<u8>> = batches
            .iter()
            .chain(&takes)
            .flatten()
            .chain(std::iter::once(&restore))
            .cloned()
            .collect();
        let mut signed = self.sign_all(state, &self.sudo, &alice)?.into_iter();
        let mut out: Vec<Vec<Vec<u8>>> = batches
            .iter()
            .chain(&takes[..1])
            .map(|batch| signed.by_ref().take(batch.len()).collect())
            .collect();
        for (_, (owner, hotkey)) in &delegates {
            // Sudo's take for this delegate, then its owner's `become_delegate`, a block apart.
            out.push(signed.by_ref().take(1).collect());
            let call = self.call(
                "SubtensorModule",
                "become_delegate",
                json!({"hotkey": to_hex(&hotkey.account())}),
            )?;
            out.push(self.sign_all(state, owner, &[call])?);
        }
        let mut nominations: Vec<Vec<u8>> = signed.collect();
        for (coldkey, hotkey, tao) in self.nominators() {
            let call = self.call(
                "SubtensorModule",
                "add_stake",
                json!({"hotkey": to_hex(&hotkey.account()), "amount_staked": tao * TAO}),
            )?;
            nominations.extend(self.sign_all(state, coldkey, &[call])?);
        }
        out.push(nominations);
        Ok(out)
    }

    /// The validators that become delegates, each with its take (65535 = 100%) and its owner:
    /// subnet 1's validator 0 at 10% and validator 1 at 30%, the next subnet's validator 0 at
    /// 18%. The others stay owners' own (no take, no nominators).
    fn delegates(&self) -> Vec<(u16, (&Sr25519Signer, &Sr25519Signer))> {
        let mut out = Vec::new();
        for (subnet, takes) in self
            .subnets
            .iter()
            .zip([&[6_553u16, 19_660][..], &[11_796]])
        {
            for (v, take) in takes.iter().enumerate() {
                if v < usize::from(subnet.plan.validators) {
                    out.push((*take, (&subnet.coldkeys[v], &subnet.hotkeys[v])));
                }
            }
        }
        out
    }

    /// Nominations at setup: the coldkeys of each subnet's last miners stake on its delegates
    /// (coldkey, hotkey, TAO), from the 100 TAO each registration gave them.
    fn nominators(&self) -> Vec<(&Sr25519Signer, &Sr25519Signer, u64)> {
        let delegates: Vec<&Sr25519Signer> =
            self.delegates().into_iter().map(|(_, (_, h))| h).collect();
        let mut out = Vec::new();
        for subnet in &self.subnets {
            let ours: Vec<&Sr25519Signer> = subnet
                .hotkeys
                .iter()
                .filter(|h| delegates.iter().any(|d| d.account() == h.account()))
                .collect();
            let miners = &subnet.coldkeys[usize::from(subnet.plan.validators)..];
            for (i, (coldkey, tao)) in miners.iter().rev().zip([40, 25, 10]).enumerate() {
                if let Some(hotkey) = ours.get(i % ours.len().max(1)) {
                    out.push((coldkey, *hotkey, tao));
                }
            }
        }
        out
    }

    /// The subnets' activity for block `next` on top of `state`: once a subnet's first epoch has
    /// given permits, each validator sets weights every four blocks (a quarter of them each
    /// block), and on subnet 1 a coldkey adds stake every seven.
    pub fn activity(&mut self, state: &Storage, next: u64) -> Result<Vec<Vec<u8>>, ChainError> {
        if next.is_multiple_of(4) {
            self.round = self.round.wrapping_add(1) % 1000;
        }
        let mut txs = Vec::new();
        for subnet in &self.subnets {
            let plan = subnet.plan;
            let stepped: u64 = self
                .read(
                    state,
                    "SubtensorModule",
                    "LastMechansimStepBlock",
                    &[json!(plan.netuid)],
                )
                .unwrap_or(0);
            let registered: u16 = self
                .read(
                    state,
                    "SubtensorModule",
                    "SubnetworkN",
                    &[json!(plan.netuid)],
                )
                .unwrap_or(0);
            if stepped == 0 || registered < plan.uids {
                continue;
            }
            let validators = plan.validators;
            let dests: Vec<u16> = (validators..plan.uids).collect();
            for v in 0..validators {
                // Subnet 1 as it always was: every validator every four blocks.
                let due = if plan.netuid == NETUID && plan.uids == SUBNET_1.uids {
                    next.is_multiple_of(4)
                } else {
                    (next + u64::from(v)).is_multiple_of(4)
                };
                if !due {
                    continue;
                }
                let weights: Vec<u16> = dests
                    .iter()
                    .map(|&m| weight(plan, v, m, self.round))
                    .collect();
                let call = self.call(
                    "SubtensorModule",
                    "set_weights",
                    json!({"netuid": plan.netuid, "dests": dests, "weights": weights, "version_key": 0}),
                )?;
                txs.extend(self.sign_all(state, &subnet.hotkeys[usize::from(v)], &[call])?);
            }
            if plan.netuid == NETUID && next.is_multiple_of(7) {
                let call = self.call(
                    "SubtensorModule",
                    "add_stake",
                    json!({"hotkey": to_hex(&subnet.hotkeys[2].account()), "amount_staked": 5 * TAO}),
                )?;
                txs.extend(self.sign_all(state, &subnet.coldkeys[2], &[call])?);
            }
        }
        Ok(txs)
    }
}

/// Validator `v`'s weight on miner `m`: rising with the miner's uid, a little different per
/// validator and round; validator 3 sees the miners the other way round.
fn weight(plan: Plan, v: u16, m: u16, round: u16) -> u16 {
    let miners = plan.uids - plan.validators;
    let rank = m - plan.validators;
    match v {
        3 => 100 + (miners - 1 - rank) * 50 % 20_000 + round,
        _ => 100 + rank * 40 % 20_000 + v * 7 + round,
    }
}
