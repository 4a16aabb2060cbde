//! The chain: blocks authored by this node, each with its state and its finality proof.
//!
//! One author (`//Alice`, the only Aura authority of the development genesis) means one chain
//! and no forks: block `n` is `blocks[n]`. Each block is built by the real runtime through
//! smoldot's block builder (initialize, timestamp inherent, the pool's transactions, finalize),
//! sealed with Alice's sr25519 key, and finalized at once with a GRANDPA justification signed
//! by the authority set in force (Alice's ed25519 key unless a change was scheduled, see
//! `grandpa.rs`), so a light client following this chain checks the same things it checks on a
//! public network.
//!
//! Slots are chosen by the caller: a node starting its clock in the past authors the missed
//! slots back to back (tests get hundreds of blocks in seconds), then one per slot duration.

use crate::genesis::{ChainSpec, GenesisError};
use crate::grandpa::{Authority, Voters};
use crate::proof::StateTrie;
use crate::runtime::{Overlay, Runtime, RuntimeError, Storage};
use parity_scale_codec::{Compact, Decode, Encode};
use smoldot::header;
use std::collections::BTreeMap;
use std::fmt;
use std::num::NonZeroU64;
use std::sync::Arc;
use std::time::Duration;
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::keys::Sr25519Signer;

/// Substrate's `BlockNumber` is a `u32`.
pub const BLOCK_NUMBER_BYTES: usize = 4;

/// States kept for blocks behind the best one; older ones answer "pruned", as a Substrate node's
/// do. At Bittensor's 12-second blocks this is more than three hours.
pub const KEEP_STATES: u64 = 1024;

#[derive(Debug)]
pub enum ChainError {
    Genesis(GenesisError),
    Runtime(RuntimeError),
    /// The runtime's block builder failed (a trap, a bad inherent, a malformed header).
    Build(String),
    /// Alice is not an Aura authority of the best block: this node cannot author.
    NotAuthority,
    /// A slot at or before the best block's slot.
    SlotInPast {
        slot: u64,
        best_slot: u64,
    },
    /// The state of that block was pruned, or the block is unknown.
    NoState(u64),
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Genesis(e) => e.fmt(f),
            ChainError::Runtime(e) => e.fmt(f),
            ChainError::Build(why) => write!(f, "block production failed: {why}"),
            ChainError::NotAuthority => write!(
                f,
                "//Alice is not an Aura authority of this chain: start from a development genesis"
            ),
            ChainError::SlotInPast { slot, best_slot } => write!(
                f,
                "slot {slot} is not after the best block's slot {best_slot}"
            ),
            ChainError::NoState(n) => write!(
                f,
                "the state of block {n} is not kept (only the last {KEEP_STATES} blocks are)"
            ),
        }
    }
}

impl std::error::Error for ChainError {}

impl From<RuntimeError> for ChainError {
    fn from(e: RuntimeError) -> Self {
        ChainError::Runtime(e)
    }
}

impl From<GenesisError> for ChainError {
    fn from(e: GenesisError) -> Self {
        ChainError::Genesis(e)
    }
}

/// A block of this chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub number: u64,
    pub hash: [u8; 32],
    /// SCALE-encoded header, seal included.
    pub header: Vec<u8>,
    /// SCALE-encoded extrinsics, inherents first.
    pub body: Vec<Vec<u8>>,
    /// SCALE-encoded GRANDPA justification (none for genesis).
    pub justification: Option<Vec<u8>>,
}

/// What happened to a transaction offered to a block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Included, and its call succeeded.
    Applied,
    /// Included (fees paid), but its call failed: the runtime's `DispatchError`.
    Failed(String),
    /// Not included: the runtime refused the transaction itself (bad signature, nonce, funds).
    Invalid(String),
    /// Not included yet: its nonce is ahead of the sender's (earlier transactions missing).
    Future,
}

/// The chain and what this node needs to extend it.
pub struct Chain {
    spec: ChainSpec,
    blocks: Vec<Block>,
    /// State after each block, for the last [`KEEP_STATES`] blocks and genesis.
    states: BTreeMap<u64, Arc<Storage>>,
    /// Slot of each block (genesis: 0).
    slots: Vec<u64>,
    /// The runtime of the best block.
    runtime: Runtime,
    slot_duration: NonZeroU64,
    aura: Sr25519Signer,
    /// The GRANDPA set that finalizes the next block, followed from the headers.
    voters: Voters,
    /// The blocks that ended a GRANDPA set (each the last one its set finalized), oldest first.
    set_ends: Vec<u64>,
}

impl Chain {
    /// A chain at its genesis. The spec must already carry the development authorities.
    pub fn new(spec: ChainSpec) -> Result<Self, ChainError> {
        let genesis_header = spec.genesis_header()?;
        let genesis = Block {
            number: 0,
            hash: header::hash_from_scale_encoded_header(&genesis_header),
            header: genesis_header,
            body: Vec::new(),
            justification: None,
        };
        let mut runtime = Runtime::of(&spec.storage)?;
        let (duration, _) = runtime.call(&spec.storage, "AuraApi_slot_duration", &[])?;
        let slot_duration = duration
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
            .and_then(NonZeroU64::new)
            .ok_or_else(|| ChainError::Build("AuraApi_slot_duration is not a u64 > 0".into()))?;
        let aura = Sr25519Signer::dev("Alice")
            .ok_or_else(|| ChainError::Build("cannot derive //Alice".into()))?;
        let voters =
            Voters::genesis(grandpa_authorities(&spec.storage)?).map_err(ChainError::Build)?;
        let states = BTreeMap::from([(0, Arc::new(spec.storage.clone()))]);
        Ok(Self {
            spec,
            blocks: vec![genesis],
            states,
            slots: vec![0],
            runtime,
            slot_duration,
            aura,
            voters,
            set_ends: Vec::new(),
        })
    }

    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    pub fn genesis(&self) -> &Block {
        &self.blocks[0]
    }

    pub fn best(&self) -> &Block {
        // `blocks` always holds genesis.
        &self.blocks[self.blocks.len() - 1]
    }

    pub fn block(&self, number: u64) -> Option<&Block> {
        self.blocks.get(usize::try_from(number).ok()?)
    }

    pub fn block_by_hash(&self, hash: &[u8; 32]) -> Option<&Block> {
        // Newest first: that is what clients ask about.
        self.blocks.iter().rev().find(|b| &b.hash == hash)
    }

    pub fn state(&self, number: u64) -> Result<Arc<Storage>, ChainError> {
        self.states
            .get(&number)
            .cloned()
            .ok_or(ChainError::NoState(number))
    }

    /// The GRANDPA set that finalizes the blocks after the best one.
    pub fn voters(&self) -> &Voters {
        &self.voters
    }

    /// The id of the GRANDPA set that finalized block `number` (and signed its justification).
    pub fn set_id_of(&self, number: u64) -> u64 {
        self.set_ends.iter().filter(|&&end| end < number).count() as u64
    }

    /// The blocks that ended a GRANDPA set, oldest first: a warp-sync proof's fragments.
    pub fn set_ends(&self) -> &[u64] {
        &self.set_ends
    }

    pub fn slot_duration(&self) -> Duration {
        Duration::from_millis(self.slot_duration.get())
    }

    pub fn best_slot(&self) -> u64 {
        self.slots.last().copied().unwrap_or(0)
    }

    /// The runtime of the best block (for calls against its state).
    pub fn runtime(&mut self) -> &mut Runtime {
        &mut self.runtime
    }

    /// Authors the block of `slot` on top of the best block, with the timestamp of the slot's
    /// start, offering it `transactions` in order; finalizes it. Returns what happened to each
    /// transaction; invalid ones are not in the block.
    pub fn author(
        &mut self,
        slot: u64,
        transactions: &[Vec<u8>],
    ) -> Result<Vec<Outcome>, ChainError> {
        let best_slot = self.best_slot();
        if slot <= best_slot && self.best().number > 0 {
            return Err(ChainError::SlotInPast { slot, best_slot });
        }
        let parent = self.best().clone();
        let parent_state = self.state(parent.number)?;
        let (authorities, _) = self
            .runtime
            .call(&parent_state, "AuraApi_authorities", &[])?;
        let authorities = header::AuraAuthoritiesIter::decode(&authorities)
            .map_err(|e| ChainError::Build(format!("AuraApi_authorities: {e}")))?;
        // Aura's rule: the slot belongs to authority `slot mod count`.
        let alice = self.aura.account();
        let count = u64::try_from(authorities.len()).unwrap_or(u64::MAX);
        match authorities.clone().position(|a| a.public_key == &alice) {
            None => return Err(ChainError::NotAuthority),
            Some(index) if slot.checked_rem(count) != u64::try_from(index).ok() => {
                return Err(ChainError::Build(format!("slot {slot} is not Alice's")));
            }
            Some(_) => {}
        }
        // The block is built by the runtime's own block builder API, call by call, each on the
        // state the previous ones left (smoldot's `author` module would do this, but panics on
        // the signature checks of signed transactions).
        let number = parent.number + 1;
        let pre_digest =
            header::DigestItem::AuraPreDigest(header::AuraPreDigest { slot_number: slot });
        let partial_header = header::HeaderRef {
            parent_hash: &parent.hash,
            number,
            extrinsics_root: &[0; 32],
            state_root: &[0; 32],
            digest: header::DigestRef::from_slice(std::slice::from_ref(&pre_digest))
                .map_err(|e| ChainError::Build(format!("Aura pre-digest: {e}")))?,
        }
        .scale_encoding_vec(BLOCK_NUMBER_BYTES);
        let base: &Storage = &parent_state;
        let mut trie = StateTrie::new(base, self.runtime.state_version());
        let (_, overlay) = self.runtime.call_on(
            base,
            None,
            Overlay::empty(),
            "Core_initialize_block",
            &partial_header,
        )?;
        let timestamp = slot.saturating_mul(self.slot_duration.get());
        let (inherents, _) = self.runtime.call_on(
            base,
            None,
            overlay.clone(),
            "BlockBuilder_inherent_extrinsics",
            &timestamp_inherent(timestamp),
        )?;
        let inherents = split_extrinsics(&inherents).ok_or_else(|| {
            ChainError::Build("BlockBuilder_inherent_extrinsics: not a list of extrinsics".into())
        })?;
        let mut overlay = overlay;
        let mut body = Vec::with_capacity(inherents.len() + transactions.len());
        for inherent in inherents {
            let (output, next) = self.runtime.call_on(
                base,
                None,
                overlay,
                "BlockBuilder_apply_extrinsic",
                &inherent,
            )?;
            match apply_result(&output) {
                Some(Ok(Ok(()))) => {}
                other => {
                    return Err(ChainError::Build(format!(
                        "the runtime refused its own inherent: {other:?}"
                    )));
                }
            }
            overlay = next;
            body.push(inherent);
        }
        let mut outcomes = Vec::with_capacity(transactions.len());
        for tx in transactions {
            // A refused transaction leaves no trace: its call ran on a copy of the overlay.
            let attempt = self.runtime.call_on(
                base,
                None,
                overlay.clone(),
                "BlockBuilder_apply_extrinsic",
                tx,
            );
            let outcome = match attempt {
                // A transaction that traps the runtime is the sender's problem, not the block's.
                Err(e) => Outcome::Invalid(format!("the runtime trapped: {e}")),
                Ok((output, next)) => match apply_result(&output) {
                    None => Outcome::Invalid("the runtime's answer does not decode".into()),
                    Some(Err(validity)) if validity == [0, 2] => Outcome::Future,
                    Some(Err(validity)) => Outcome::Invalid(validity_error(&validity)),
                    Some(Ok(result)) => {
                        overlay = next;
                        body.push(tx.clone());
                        match result {
                            Ok(()) => Outcome::Applied,
                            Err(dispatch) => Outcome::Failed(dispatch),
                        }
                    }
                },
            };
            outcomes.push(outcome);
        }
        let (unsealed, overlay) = self.runtime.call_on(
            base,
            Some(&mut trie),
            overlay,
            "BlockBuilder_finalize_block",
            &[],
        )?;
        let mut state = base.clone();
        apply_overlay(&mut state, overlay);
        let sealed = self.seal_header(&unsealed)?;
        self.store(slot, sealed, body, state)?;
        Ok(outcomes)
    }

    /// Asks the runtime whether `extrinsic` may go into the next block
    /// (`TaggedTransactionQueue_validate_transaction`, version 3: source, transaction, block).
    pub fn validate(&mut self, extrinsic: &[u8]) -> Result<crate::pool::Validity, ChainError> {
        const EXTERNAL: u8 = 2;
        let best = self.best().clone();
        let state = self.state(best.number)?;
        let mut parameter = vec![EXTERNAL];
        parameter.extend_from_slice(extrinsic);
        parameter.extend_from_slice(&best.hash);
        let output = match self.runtime.call(
            &state,
            "TaggedTransactionQueue_validate_transaction",
            &parameter,
        ) {
            Ok((output, _)) => output,
            // Bytes that are not a transaction trap the runtime's decoder.
            Err(e) => {
                return Ok(crate::pool::Validity::Invalid(format!(
                    "not a transaction this runtime can decode ({e})"
                )));
            }
        };
        crate::pool::decode_validity(&output).ok_or_else(|| {
            ChainError::Build("TaggedTransactionQueue_validate_transaction: undecodable".into())
        })
    }

    /// Re-executes a block this node authored before (read back from its own store): the
    /// runtime's `Core_execute_block` checks the state and extrinsics roots, so a damaged store
    /// is refused, not believed.
    pub fn import(&mut self, sealed_header: &[u8], body: Vec<Vec<u8>>) -> Result<(), ChainError> {
        let mut decoded = header::decode(sealed_header, BLOCK_NUMBER_BYTES)
            .map_err(|e| ChainError::Build(format!("stored header: {e}")))?;
        let parent = self.best();
        if decoded.number != parent.number + 1 || decoded.parent_hash != &parent.hash {
            return Err(ChainError::Build(format!(
                "stored block {} does not follow block {}",
                decoded.number, parent.number
            )));
        }
        let slot = decoded
            .digest
            .aura_pre_runtime()
            .map(|pre| pre.slot_number)
            .ok_or_else(|| ChainError::Build("stored header has no Aura slot".into()))?;
        // The runtime executes the header as it built it: without the seal.
        decoded
            .digest
            .pop_seal()
            .ok_or_else(|| ChainError::Build("stored header has no seal".into()))?;
        let mut block = decoded.scale_encoding_vec(BLOCK_NUMBER_BYTES);
        Compact(u32::try_from(body.len()).unwrap_or(u32::MAX)).encode_to(&mut block);
        for extrinsic in &body {
            block.extend_from_slice(extrinsic);
        }
        let mut state = (*self.state(parent.number)?).clone();
        let mut trie = StateTrie::new(&state, self.runtime.state_version());
        let (_, overlay) = self.runtime.call_on(
            &state,
            Some(&mut trie),
            Overlay::empty(),
            "Core_execute_block",
            &block,
        )?;
        apply_overlay(&mut state, overlay);
        self.store(slot, sealed_header.to_vec(), body, state)
    }

    /// Appends Aura's seal: Alice's signature of the unsealed header's hash.
    fn seal_header(&self, unsealed: &[u8]) -> Result<Vec<u8>, ChainError> {
        let decoded = header::decode(unsealed, BLOCK_NUMBER_BYTES).map_err(|e| {
            ChainError::Build(format!(
                "the runtime produced a header that does not decode: {e}"
            ))
        })?;
        let signature = self
            .aura
            .sign_now(&header::hash_from_scale_encoded_header(unsealed));
        Ok(decoded
            .scale_encoding_with_extra_digest_item(
                BLOCK_NUMBER_BYTES,
                header::DigestItemRef::AuraSeal(&signature),
            )
            .fold(Vec::new(), |mut out, part| {
                out.extend_from_slice(part.as_ref());
                out
            }))
    }

    /// Stores an authored block, its state and its justification.
    fn store(
        &mut self,
        slot: u64,
        header: Vec<u8>,
        body: Vec<Vec<u8>>,
        state: Storage,
    ) -> Result<(), ChainError> {
        let number = self.best().number + 1;
        let parent_code = self.state(number - 1)?;
        let code_changed = [b":code".as_slice(), b":heappages"]
            .iter()
            .any(|key| parent_code.get(*key) != state.get(*key));
        if code_changed {
            self.runtime = Runtime::of(&state)?;
        }
        let hash = header::hash_from_scale_encoded_header(&header);
        let justification = self.voters.justify(
            &hash,
            u32::try_from(number).map_err(|_| ChainError::Build("block number over u32".into()))?,
        );
        // A change this block schedules is enacted at once: the old set finalized this block,
        // the new one finalizes the next.
        if let Some(next) = self
            .voters
            .after(&header, BLOCK_NUMBER_BYTES)
            .map_err(ChainError::Build)?
        {
            self.voters = next;
            self.set_ends.push(number);
        }
        self.blocks.push(Block {
            number,
            hash,
            header,
            body,
            justification: Some(justification),
        });
        self.slots.push(slot);
        self.states.insert(number, Arc::new(state));
        if let Some(oldest) = number.checked_sub(KEEP_STATES) {
            // Genesis stays: a light client's chain spec starts there.
            self.states.retain(|&n, _| n == 0 || n > oldest);
        }
        Ok(())
    }
}

fn apply_overlay(state: &mut Storage, overlay: Overlay) {
    for (key, value, ()) in overlay.diff_into_iter_unordered() {
        match value {
            Some(value) => state.insert(key, value.into()),
            None => state.remove(&key),
        };
    }
}

/// `InherentData` with the timestamp alone: `BTreeMap<[u8; 8], Vec<u8>>` with `timstap0` → the
/// milliseconds as a SCALE-encoded u64.
fn timestamp_inherent(millis: u64) -> Vec<u8> {
    let mut out = vec![1 << 2];
    out.extend_from_slice(b"timstap0");
    out.push(8 << 2);
    out.extend_from_slice(&millis.to_le_bytes());
    out
}

/// `Vec<OpaqueExtrinsic>` into the extrinsics, each with its own length prefix (the form that
/// `apply_extrinsic` and block bodies take).
fn split_extrinsics(bytes: &[u8]) -> Option<Vec<Vec<u8>>> {
    let mut input = bytes;
    let count = Compact::<u32>::decode(&mut input).ok()?.0;
    let mut out = Vec::new();
    for _ in 0..count {
        let before = input;
        let len = usize::try_from(Compact::<u32>::decode(&mut input).ok()?.0).ok()?;
        let prefix = before.len() - input.len();
        let whole = before.get(..prefix + len)?;
        input = &before[prefix + len..];
        out.push(whole.to_vec());
    }
    input.is_empty().then_some(out)
}

/// `ApplyExtrinsicResult`: `Result<Result<(), DispatchError>, TransactionValidityError>`, the
/// dispatch error in words, the validity error as its bytes (see [`validity_error`]).
fn apply_result(output: &[u8]) -> Option<Result<Result<(), String>, Vec<u8>>> {
    match output {
        [0, 0] => Some(Ok(Ok(()))),
        [0, 1, error @ ..] => Some(Ok(Err(dispatch_error(error)))),
        [1, validity @ ..] if !validity.is_empty() => Some(Err(validity.to_vec())),
        _ => None,
    }
}

/// `TransactionValidityError` in words: `Invalid(InvalidTransaction)` or
/// `Unknown(UnknownTransaction)`.
pub fn validity_error(bytes: &[u8]) -> String {
    match bytes {
        [0, invalid @ ..] => invalid_transaction(invalid),
        [1, 0] => "the transaction's origin cannot be looked up".into(),
        [1, 1] => "no unsigned validator for this call".into(),
        [1, 2, code] => format!("validity unknown (custom code {code})"),
        _ => format!("transaction refused: {}", to_hex(bytes)),
    }
}

/// `InvalidTransaction`, as the runtime's docs word each case.
fn invalid_transaction(bytes: &[u8]) -> String {
    match bytes {
        [0] => "invalid transaction: the call is not expected".into(),
        [1] => "invalid transaction: cannot pay the fees (balance too low)".into(),
        [2] => {
            "invalid transaction: nonce too high (Future): earlier transactions are missing".into()
        }
        [3] => "invalid transaction: nonce already used (Stale)".into(),
        [4] => "invalid transaction: bad signature (BadProof)".into(),
        [5] => "invalid transaction: the birth block is too old (AncientBirthBlock)".into(),
        [6] => "invalid transaction: it would exhaust the block's resources".into(),
        [7, code] => format!("invalid transaction: custom code {code}"),
        [8] => "invalid transaction: a mandatory dispatch failed".into(),
        [9] => "invalid transaction: a mandatory transaction sent as an ordinary one".into(),
        [10] => "invalid transaction: bad signer".into(),
        _ => format!("invalid transaction: {}", to_hex(bytes)),
    }
}

/// `DispatchError`: module errors as `module #index error #code` (names come from the
/// metadata, one level up); the other cases as words.
fn dispatch_error(bytes: &[u8]) -> String {
    match bytes {
        [0] => "dispatch failed: other".into(),
        [1] => "dispatch failed: cannot look up an account".into(),
        [2] => "dispatch failed: bad origin".into(),
        [3, index, error, ..] => format!("dispatch failed: module #{index} error #{error}"),
        [4] => "dispatch failed: the account has consumers remaining".into(),
        [5] => "dispatch failed: the account has no providers".into(),
        [6] => "dispatch failed: too many consumers".into(),
        [7, ..] => "dispatch failed: a token error".into(),
        [8, ..] => "dispatch failed: an arithmetic error".into(),
        _ => format!("dispatch failed: {}", to_hex(bytes)),
    }
}

/// `:grandpa_authorities`: a version byte, then the ed25519 keys with their weights.
pub fn grandpa_authorities(state: &Storage) -> Result<Vec<Authority>, ChainError> {
    let bytes = state
        .get(&b":grandpa_authorities"[..])
        .map(|v| v.to_vec())
        .unwrap_or_default();
    match bytes.split_first() {
        Some((1, mut list)) => Vec::<Authority>::decode(&mut list)
            .map_err(|e| ChainError::Build(format!(":grandpa_authorities: {e}"))),
        _ => Err(ChainError::Build(
            ":grandpa_authorities is missing or of an unknown version".into(),
        )),
    }
}
