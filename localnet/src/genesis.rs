//! A chain's genesis: the raw storage of a chain spec, development overrides, and the genesis
//! block as a light client computes it.
//!
//! The development chain keeps the real runtime and state of the spec and replaces who may author
//! and finalize (Aura and GRANDPA authorities), who is sudo, and who holds balances, with
//! Substrate's development accounts, so that this node can sign blocks and tests can sign
//! transactions. That changes the genesis hash, as it must: it is another chain.

use crate::runtime::{Runtime, RuntimeError, Storage};
use serde_json::{Map, Value};
use std::fmt;
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hashing::twox_128;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::{storage, value};

#[derive(Debug)]
pub enum GenesisError {
    /// Not a raw chain spec (no `genesis.raw.top`, or a value that is not hex).
    Spec(String),
    Runtime(RuntimeError),
    /// The runtime's metadata does not have what an override writes.
    Metadata(String),
}

impl fmt::Display for GenesisError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GenesisError::Spec(why) => write!(f, "chain spec: {why}"),
            GenesisError::Runtime(e) => e.fmt(f),
            GenesisError::Metadata(why) => write!(f, "genesis overrides: {why}"),
        }
    }
}

impl std::error::Error for GenesisError {}

impl From<RuntimeError> for GenesisError {
    fn from(e: RuntimeError) -> Self {
        GenesisError::Runtime(e)
    }
}

/// A raw chain spec: its JSON, with the genesis storage parsed out.
pub struct ChainSpec {
    pub json: Value,
    pub storage: Storage,
}

impl ChainSpec {
    pub fn parse(text: &str) -> Result<Self, GenesisError> {
        let json: Value =
            serde_json::from_str(text).map_err(|e| GenesisError::Spec(format!("not JSON: {e}")))?;
        let top = json
            .pointer("/genesis/raw/top")
            .and_then(Value::as_object)
            .ok_or_else(|| {
                GenesisError::Spec(
                    "no genesis.raw.top: a raw chain spec (with genesis storage) is needed".into(),
                )
            })?;
        let mut storage = Storage::new();
        for (key, value) in top {
            let value = value
                .as_str()
                .ok_or_else(|| GenesisError::Spec(format!("value of {key} is not a string")))?;
            let key = from_hex(key).map_err(|e| GenesisError::Spec(format!("key {key}: {e}")))?;
            let value = from_hex(value).map_err(|e| GenesisError::Spec(format!("value: {e}")))?;
            storage.insert(key, value.into());
        }
        Ok(Self { json, storage })
    }

    /// The spec as JSON text, with `storage` as its genesis.
    pub fn to_json(&self) -> String {
        let mut json = self.json.clone();
        let top: Map<String, Value> = self
            .storage
            .iter()
            .map(|(k, v)| (to_hex(k), Value::String(to_hex(v))))
            .collect();
        if let Some(slot) = json.pointer_mut("/genesis/raw/top") {
            *slot = Value::Object(top);
        }
        json.to_string()
    }

    /// The genesis block hash, as smoldot (a light client) computes it from this spec.
    pub fn genesis_hash(&self) -> Result<[u8; 32], GenesisError> {
        Ok(smoldot::header::hash_from_scale_encoded_header(
            self.genesis_header()?,
        ))
    }

    /// The SCALE-encoded genesis header, as smoldot computes it from this spec.
    pub fn genesis_header(&self) -> Result<Vec<u8>, GenesisError> {
        let text = self.to_json();
        let spec = smoldot::chain_spec::ChainSpec::from_json_bytes(text.as_bytes())
            .map_err(|e| GenesisError::Spec(e.to_string()))?;
        // smoldot 5 still has `todo!()`s on paths of this function that a strange runtime could
        // take (walking storage keys while building the chain information); a user's spec must
        // get an error, not take the node down.
        let built =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| spec.to_chain_information()))
                .map_err(|_| {
                    GenesisError::Spec(
                        "smoldot cannot build the chain information of this spec's runtime".into(),
                    )
                })?;
        let (info, _) = built.map_err(|e| GenesisError::Spec(e.to_string()))?;
        let info = info.as_ref();
        Ok(info
            .finalized_block_header
            .scale_encoding_vec(usize::from(spec.block_number_bytes())))
    }

    /// The runtime's metadata, from `Metadata_metadata`.
    pub fn metadata(&self) -> Result<Metadata, GenesisError> {
        let mut runtime = Runtime::of(&self.storage)?;
        let (bytes, _) = runtime.call(&self.storage, "Metadata_metadata", &[])?;
        Metadata::decode(&bytes).map_err(|e| GenesisError::Metadata(e.to_string()))
    }
}

/// The development accounts endowed at genesis, and with how much (rao).
pub const DEV_ACCOUNTS: [&str; 6] = ["Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"];
pub const DEV_ENDOWMENT: u64 = 1_000_000 * 1_000_000_000; // 1 000 000 TAO each

fn plain_key(pallet: &str, entry: &str) -> Vec<u8> {
    [twox_128(pallet.as_bytes()), twox_128(entry.as_bytes())].concat()
}

/// Replaces authorities, sudo and balances with the development accounts (see the module docs).
pub fn apply_dev_overrides(spec: &mut ChainSpec) -> Result<(), GenesisError> {
    let metadata = spec.metadata()?;
    let alice = Sr25519Signer::dev("Alice")
        .ok_or_else(|| GenesisError::Metadata("cannot derive //Alice".into()))?;
    let grandpa_alice = Ed25519Signer::dev("Alice");

    // Aura: Vec<sr25519 public key>.
    let mut aura = vec![4u8]; // compact length 1
    aura.extend_from_slice(&alice.account());
    spec.storage
        .insert(plain_key("Aura", "Authorities"), aura.into());
    // GRANDPA: version 1, then Vec<(ed25519 public key, weight u64)>.
    let mut grandpa = vec![1u8, 4u8];
    grandpa.extend_from_slice(&grandpa_alice.account());
    grandpa.extend_from_slice(&1u64.to_le_bytes());
    spec.storage
        .insert(b":grandpa_authorities".to_vec(), grandpa.into());
    // Sudo: Alice.
    if metadata.storage("Sudo", "Key").is_some() {
        spec.storage
            .insert(plain_key("Sudo", "Key"), alice.account().to_vec().into());
    }

    // Balances: each dev account gets a fresh AccountInfo with the endowment, encoded with the
    // runtime's own layout; the total issuance follows.
    let (_, account_entry) = storage::entry(&metadata, "System", "Account")
        .map_err(|e| GenesisError::Metadata(e.to_string()))?;
    let template = value::decode_all(
        &metadata.types,
        account_entry.value_ty,
        &account_entry.default,
    )
    .map_err(|e| GenesisError::Metadata(format!("System.Account default: {e}")))?;
    let mut issued: u64 = 0;
    for name in DEV_ACCOUNTS {
        let signer = Sr25519Signer::dev(name)
            .ok_or_else(|| GenesisError::Metadata(format!("cannot derive //{name}")))?;
        let account = to_hex(&signer.account());
        let mut info = template.clone();
        if let Some(providers) = info.get_mut("providers") {
            *providers = Value::from(1);
        }
        let free = info
            .get_mut("data")
            .and_then(|d| d.get_mut("free"))
            .ok_or_else(|| GenesisError::Metadata("System.Account has no data.free".into()))?;
        *free = Value::from(DEV_ENDOWMENT);
        let key = storage::key(&metadata, "System", "Account", &[Value::String(account)])
            .map_err(|e| GenesisError::Metadata(e.to_string()))?;
        let mut bytes = Vec::new();
        value::encode(&metadata.types, account_entry.value_ty, &info, &mut bytes)
            .map_err(|e| GenesisError::Metadata(format!("System.Account: {e}")))?;
        if spec.storage.insert(key, bytes.into()).is_none() {
            issued = issued.saturating_add(DEV_ENDOWMENT);
        }
    }
    let issuance_key = plain_key("Balances", "TotalIssuance");
    let previous = spec
        .storage
        .get(&issuance_key)
        .and_then(|v| v.get(..8))
        .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap_or([0; 8])));
    spec.storage.insert(
        issuance_key,
        previous
            .saturating_add(issued)
            .to_le_bytes()
            .to_vec()
            .into(),
    );

    // Not a public network any more: nobody to boot from but this node.
    if let Some(obj) = spec.json.as_object_mut() {
        obj.insert("bootNodes".into(), Value::Array(Vec::new()));
        obj.insert("name".into(), Value::String("Bittensor localnet".into()));
        obj.insert("id".into(), Value::String("bittensor_localnet".into()));
    }
    Ok(())
}

/// The development accounts that form the GRANDPA set after `--grandpa-change`: two voters of
/// equal weight, so that a justification needs both (more than two thirds).
pub const NEXT_GRANDPA_SET: [&str; 2] = ["Bob", "Charlie"];

/// Test-only genesis: the GRANDPA set changes at block `at` to [`NEXT_GRANDPA_SET`].
///
/// The state is the one a runtime leaves when it schedules a change (as a session rotation
/// does): `Grandpa::PendingChange` for block `at` with delay 0, and `Grandpa::CurrentSetId`
/// already counting the next set. The runtime's `on_finalize` at block `at` then puts the
/// `ScheduledChange` digest in that block's header and enacts the change, so the new set
/// finalizes from block `at + 1` on. Nothing here signs or finalizes: the node follows the
/// header like any client.
pub fn schedule_grandpa_change(spec: &mut ChainSpec, at: u32) -> Result<(), GenesisError> {
    if at == 0 {
        return Err(GenesisError::Metadata(
            "a GRANDPA change is scheduled for a block after genesis".into(),
        ));
    }
    let metadata = spec.metadata()?;
    // StoredPendingChange { scheduled_at, delay, next_authorities: Vec<(key, weight)>, forced }.
    let mut pending = Vec::new();
    pending.extend_from_slice(&at.to_le_bytes());
    pending.extend_from_slice(&0u32.to_le_bytes());
    pending.push(u8::try_from(NEXT_GRANDPA_SET.len() << 2).unwrap_or(0));
    for name in NEXT_GRANDPA_SET {
        pending.extend_from_slice(&Ed25519Signer::dev(name).account());
        pending.extend_from_slice(&1u64.to_le_bytes());
    }
    pending.push(0); // forced: None
    // Written by hand, checked against the runtime's own type: a runtime whose layout differs
    // gets an error here rather than a genesis it would misread.
    let (_, entry) = storage::entry(&metadata, "Grandpa", "PendingChange")
        .map_err(|e| GenesisError::Metadata(e.to_string()))?;
    value::decode_all(&metadata.types, entry.value_ty, &pending)
        .map_err(|e| GenesisError::Metadata(format!("Grandpa.PendingChange: {e}")))?;
    spec.storage
        .insert(plain_key("Grandpa", "PendingChange"), pending.into());
    let set_id_key = plain_key("Grandpa", "CurrentSetId");
    let set_id = spec
        .storage
        .get(&set_id_key)
        .and_then(|v| v.get(..8))
        .and_then(|b| b.try_into().ok())
        .map_or(0, u64::from_le_bytes);
    spec.storage
        .insert(set_id_key, (set_id + 1).to_le_bytes().to_vec().into());
    Ok(())
}
