//! The chainHead façade: serves the new JSON-RPC API ([`crate::client::BittensorClient`]'s
//! language) from untrusted legacy endpoints, answering only with what the verified core
//! ([`crate::verified`]) has proven.
//!
//! - Follow: finality advances by justifications ([`Finality::advance`]) over headers we hash
//!   ourselves; each newly proven block is announced (`newBlock`, `bestBlockChanged`,
//!   `finalized`). Only finalized blocks are served: the best block is the finalized one.
//! - Storage: each value, absence and prefix page comes with a read proof checked against the
//!   block's proven state root ([`Proof`]).
//! - Calls: run in the runtime compiled from the block's proven `:code`; each value the call
//!   reads is proven the same way.
//! - Transactions: judged by that runtime on proven state (`TaggedTransactionQueue`), sent to
//!   every endpoint, and reported final only when found in the body of a proven block, the body
//!   checked against the header's extrinsics root. An endpoint can refuse to pass a
//!   transaction on, or hide it, but cannot make it look included.
//!
//! An answer that fails verification is rejected with the reason, counted against the endpoint
//! ([`Endpoints::reject`]), and the same question goes to the next endpoint. Only when every
//! endpoint fails does the operation fail, with every reason.

use super::endpoints::{Connection, Endpoints, FetchError};
use super::{Rejection, TrustReport};
use crate::client::{BlockRef, RuntimeSpec};
use crate::hashing::blake2_256;
use crate::metadata::{from_hex, to_hex};
use crate::verified::body;
use crate::verified::checkpoint::Checkpoint;
use crate::verified::finality::{self, Finality, FinalityError, VerifiedHeader};
use crate::verified::proof::{Entries, Proof};
use crate::verified::runtime::{Runtime, Step};
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

/// Keys asked per page of a prefix iteration.
const PAGE_SIZE: usize = 256;
/// The most headers fetched to link one justification (a longer gap is closed in steps).
const MAX_GAP: u64 = 4096;
/// Rejections kept for the Trust panel.
const REJECTIONS_KEPT: usize = 32;
/// Proven headers kept readable (about an hour of Bittensor's 12 s blocks, a few MB).
const BLOCKS_KEPT: usize = 512;
/// Finalized blocks a submitted transaction is looked for in before it is reported dropped
/// (Bittensor wallets sign with a 64-block era; an immortal one may still land later).
const WATCH_BLOCKS: u64 = 256;

/// A transaction submitted through this transport, looked for in each newly proven block.
struct Watched {
    subscription: String,
    extrinsic: Vec<u8>,
    /// The finalized block when it was sent.
    sent_at: u64,
}

/// Why an attempt at one endpoint gave nothing.
enum Attempt {
    /// The endpoint could not answer (network, timeout, refusal): try another.
    Fetch(FetchError),
    /// The endpoint answered something that fails verification.
    Rejected(String),
}

impl From<FetchError> for Attempt {
    fn from(error: FetchError) -> Self {
        Attempt::Fetch(error)
    }
}

fn rejected(why: impl Into<String>) -> Attempt {
    Attempt::Rejected(why.into())
}

pub struct Server<C> {
    endpoints: Endpoints<C>,
    finality: Finality,
    genesis_hash: [u8; 32],
    /// The runtime in force at the finalized block, and the block it was read at.
    runtime: Option<Runtime>,
    /// The latest proven headers, by hash: readable whether or not the follower has unpinned
    /// them (a proof at any of them is as good as at the newest), so tools can read two
    /// transports at one block.
    pinned: HashMap<[u8; 32], VerifiedHeader>,
    /// Their hashes, oldest first, for retention.
    pinned_order: VecDeque<[u8; 32]>,
    /// Blocks proven final and not yet announced.
    announce: Vec<VerifiedHeader>,
    follow: Option<String>,
    initialized: bool,
    next_operation: u64,
    watched: Vec<Watched>,
    /// Proven blocks whose bodies are still to be searched for watched transactions.
    unsearched: VecDeque<VerifiedHeader>,
    outgoing: VecDeque<String>,
    report: Arc<Mutex<TrustReport>>,
}

impl<C: Connection> Server<C> {
    pub fn new(
        checkpoint: &Checkpoint,
        urls: &[String],
        report: Arc<Mutex<TrustReport>>,
    ) -> Result<Self, FinalityError> {
        let finality = Finality::new(checkpoint)?;
        let mut pinned = HashMap::new();
        pinned.insert(finality.finalized().hash, finality.finalized().clone());
        let pinned_order = VecDeque::from([finality.finalized().hash]);
        Ok(Server {
            endpoints: Endpoints::new(urls),
            finality,
            genesis_hash: checkpoint.genesis_hash,
            runtime: None,
            pinned,
            pinned_order,
            announce: Vec::new(),
            follow: None,
            initialized: false,
            next_operation: 1,
            watched: Vec::new(),
            unsearched: VecDeque::new(),
            outgoing: VecDeque::new(),
            report,
        })
    }

    /// Messages for the client, in order.
    pub fn take_outgoing(&mut self) -> Vec<String> {
        self.outgoing.drain(..).collect()
    }

    fn update_report(&self, change: impl FnOnce(&mut TrustReport)) {
        if let Ok(mut report) = self.report.lock() {
            report.endpoints = self.endpoints.reports();
            report.set_id = self.finality.set_id();
            report.justifications_verified = self.finality.justifications_verified();
            let finalized = self.finality.finalized();
            report.finalized = Some(BlockRef {
                number: finalized.number,
                hash: to_hex(&finalized.hash),
            });
            change(&mut report);
        }
    }

    /// Books an attempt that failed at `endpoint`; returns it in words for the final error.
    fn note(&mut self, endpoint: usize, what: &str, attempt: Attempt) -> String {
        let url = self.endpoints.url(endpoint).to_string();
        match attempt {
            Attempt::Fetch(error) => format!("{url}: {error}"),
            Attempt::Rejected(why) => {
                self.endpoints.reject(endpoint, &why);
                let rejection = Rejection {
                    endpoint: url.clone(),
                    what: what.to_string(),
                    why: why.clone(),
                };
                self.update_report(|r| {
                    r.rejections.push(rejection);
                    let excess = r.rejections.len().saturating_sub(REJECTIONS_KEPT);
                    r.rejections.drain(..excess);
                });
                format!("{url}: rejected: {why}")
            }
        }
    }

    fn no_answer(what: &str, reasons: &[String]) -> String {
        if reasons.is_empty() {
            format!("{what}: no endpoint is configured")
        } else {
            format!(
                "{what}: no endpoint gave a verifiable answer ({})",
                reasons.join("; ")
            )
        }
    }

    // ---- Finality ----------------------------------------------------------------------

    /// Asks the endpoints for a newer finalized block and proves what they offer; announces
    /// what was proven.
    pub async fn poll(&mut self) {
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            match self.advance_from(endpoint).await {
                Ok(()) => {
                    reasons.clear();
                    break;
                }
                Err(attempt) => reasons.push(self.note(endpoint, "finality", attempt)),
            }
        }
        let error = (!reasons.is_empty()).then(|| Self::no_answer("following finality", &reasons));
        self.update_report(|r| r.last_error = error);
        self.announce().await;
        self.watch_transactions().await;
    }

    /// Follows `endpoint`'s finalized head, justification by justification.
    async fn advance_from(&mut self, endpoint: usize) -> Result<(), Attempt> {
        let head_hash = hash_answer(
            self.endpoints
                .request(endpoint, "chain_getFinalizedHead", json!([]))
                .await?,
            "chain_getFinalizedHead",
        )?;
        let head = self.header(endpoint, &head_hash).await?;
        let ours = self.finality.finalized().clone();
        if head.number < ours.number {
            return Err(rejected(
                FinalityError::NotNewer {
                    finalized: ours.number,
                    claimed: head.number,
                }
                .to_string(),
            ));
        }
        if head.number == ours.number {
            if head.hash != ours.hash {
                return Err(rejected(format!(
                    "its finalized block #{} is {}, but {} is proven final at that height",
                    head.number,
                    to_hex(&head.hash),
                    to_hex(&ours.hash)
                )));
            }
            return Ok(());
        }
        while self.finality.finalized().number < head.number {
            let from = self.finality.finalized().number + 1;
            let justification = self
                .justification(endpoint, from, head.number, &head.hash)
                .await?;
            self.apply(endpoint, &justification).await?;
        }
        Ok(())
    }

    /// Verifies `justification` with the headers that link it; on an authority set change
    /// inside the range, first proves the block that enacts it.
    async fn apply(&mut self, endpoint: usize, justification: &[u8]) -> Result<(), Attempt> {
        let (number, hash) =
            finality::justification_target(justification).map_err(|e| rejected(e.to_string()))?;
        let headers = self.chain_to(endpoint, number, hash).await?;
        match self
            .finality
            .advance(&headers, justification, randomness_seed())
        {
            Ok(proven) => {
                self.accept(proven);
                Ok(())
            }
            Err(FinalityError::ChangeSkipped { at }) => {
                let hash = hash_answer(
                    self.endpoints
                        .request(endpoint, "chain_getBlockHash", json!([at]))
                        .await?,
                    "chain_getBlockHash",
                )?;
                let enacting = self
                    .block_justification(endpoint, &hash)
                    .await?
                    .ok_or_else(|| {
                        rejected(format!(
                            "block #{at} changes the authority set but the endpoint has no \
                             justification for it"
                        ))
                    })?;
                let headers = self.chain_to(endpoint, at, hash).await?;
                let proven = self
                    .finality
                    .advance(&headers, &enacting, randomness_seed())
                    .map_err(|e| rejected(e.to_string()))?;
                self.accept(proven);
                Ok(())
            }
            Err(error) => Err(rejected(error.to_string())),
        }
    }

    fn accept(&mut self, proven: Vec<VerifiedHeader>) {
        let count = proven.len() as u64;
        if !self.watched.is_empty() {
            self.unsearched.extend(proven.iter().cloned());
        }
        for header in &proven {
            self.pinned.insert(header.hash, header.clone());
            self.pinned_order.push_back(header.hash);
        }
        while self.pinned_order.len() > BLOCKS_KEPT {
            if let Some(old) = self.pinned_order.pop_front() {
                self.pinned.remove(&old);
            }
        }
        self.announce.extend(proven);
        self.update_report(|r| r.headers_verified += count);
    }

    /// A justification for a block from `from` on: `grandpa_proveFinality` where offered, else
    /// the one stored with the endpoint's finalized head.
    async fn justification(
        &mut self,
        endpoint: usize,
        from: u64,
        head_number: u64,
        head_hash: &[u8; 32],
    ) -> Result<Vec<u8>, Attempt> {
        match self
            .endpoints
            .request(endpoint, "grandpa_proveFinality", json!([from]))
            .await
        {
            Ok(Value::String(hex)) => {
                let bytes = from_hex(&hex).map_err(|e| rejected(format!("finality proof: {e}")))?;
                return finality_proof_justification(&bytes);
            }
            Ok(Value::Null) | Err(FetchError::Refused { .. }) => {}
            Ok(other) => return Err(rejected(format!("finality proof: not hex: {other}"))),
            Err(error) => return Err(error.into()),
        }
        self.block_justification(endpoint, head_hash)
            .await?
            .ok_or_else(|| {
                Attempt::Fetch(FetchError::Refused {
                    code: 0,
                    message: format!("no justification for block #{head_number} yet"),
                })
            })
    }

    /// The GRANDPA justification stored with a block, if any.
    async fn block_justification(
        &mut self,
        endpoint: usize,
        hash: &[u8; 32],
    ) -> Result<Option<Vec<u8>>, Attempt> {
        let block = self
            .endpoints
            .request(endpoint, "chain_getBlock", json!([to_hex(hash)]))
            .await?;
        let Some(list) = block["justifications"].as_array() else {
            return Ok(None);
        };
        for entry in list {
            if bytes_of(&entry[0]).as_deref() == Some(b"FRNK") {
                return bytes_of(&entry[1])
                    .map(Some)
                    .ok_or_else(|| rejected("a justification that is not bytes"));
            }
        }
        Ok(None)
    }

    /// The header with hash `hash`, checked to hash to it.
    async fn header(
        &mut self,
        endpoint: usize,
        hash: &[u8; 32],
    ) -> Result<VerifiedHeaderBytes, Attempt> {
        let json = self
            .endpoints
            .request(endpoint, "chain_getHeader", json!([to_hex(hash)]))
            .await?;
        let scale = header_from_json(&json).map_err(|e| rejected(format!("header: {e}")))?;
        let decoded = smoldot::header::decode(&scale, crate::verified::BLOCK_NUMBER_BYTES)
            .map_err(|e| rejected(format!("header: {e}")))?;
        let computed = decoded.hash(crate::verified::BLOCK_NUMBER_BYTES);
        if &computed != hash {
            return Err(rejected(format!(
                "asked for the header of {}, got one that hashes to {}",
                to_hex(hash),
                to_hex(&computed)
            )));
        }
        Ok(VerifiedHeaderBytes {
            number: decoded.number,
            hash: computed,
            parent_hash: *decoded.parent_hash,
            scale,
        })
    }

    /// The headers after our finalized block up to `(number, hash)`, walking back by parent
    /// hash (each checked to hash to what its child names).
    async fn chain_to(
        &mut self,
        endpoint: usize,
        number: u64,
        hash: [u8; 32],
    ) -> Result<Vec<Vec<u8>>, Attempt> {
        let ours = self.finality.finalized().number;
        if number <= ours {
            return Err(rejected(
                FinalityError::NotNewer {
                    finalized: ours,
                    claimed: number,
                }
                .to_string(),
            ));
        }
        if number - ours > MAX_GAP {
            return Err(rejected(format!(
                "a justification {} blocks ahead; at most {MAX_GAP} are linked at once",
                number - ours
            )));
        }
        let mut headers = Vec::new();
        let mut next = hash;
        for _ in ours..number {
            let header = self.header(endpoint, &next).await?;
            next = header.parent_hash;
            headers.push(header.scale);
        }
        headers.reverse();
        Ok(headers)
    }

    /// Tells the follower about newly proven blocks, loading the runtime where it changed.
    async fn announce(&mut self) {
        if self.follow.is_none() {
            return;
        }
        if !self.initialized {
            let finalized = self.finality.finalized().clone();
            if self.runtime.is_none()
                && let Err(error) = self.load_runtime(&finalized).await
            {
                self.update_report(|r| r.last_error = Some(error));
                return;
            }
            let runtime = self.runtime_json();
            self.announce.clear();
            self.initialized = true;
            self.event(json!({
                "event": "initialized",
                "finalizedBlockHashes": [to_hex(&finalized.hash)],
                "finalizedBlockRuntime": runtime,
            }));
            return;
        }
        if self.announce.is_empty() {
            return;
        }
        let blocks = std::mem::take(&mut self.announce);
        for block in &blocks {
            let new_runtime = if block.runtime_updated {
                match self.load_runtime(block).await {
                    Ok(()) => self.runtime_json(),
                    Err(error) => json!({ "type": "invalid", "error": error }),
                }
            } else {
                Value::Null
            };
            self.event(json!({
                "event": "newBlock",
                "blockHash": to_hex(&block.hash),
                "parentBlockHash": to_hex(&block.parent_hash),
                "newRuntime": new_runtime,
            }));
        }
        if let Some(last) = blocks.last() {
            self.event(json!({ "event": "bestBlockChanged", "bestBlockHash": to_hex(&last.hash) }));
        }
        self.event(json!({
            "event": "finalized",
            "finalizedBlockHashes": blocks.iter().map(|b| to_hex(&b.hash)).collect::<Vec<_>>(),
            "prunedBlockHashes": [],
        }));
    }

    fn runtime_json(&self) -> Value {
        match &self.runtime {
            Some(runtime) => {
                let RuntimeSpec {
                    spec_name,
                    spec_version,
                    transaction_version,
                } = runtime.spec();
                json!({ "type": "valid", "spec": {
                    "specName": spec_name,
                    "implName": spec_name,
                    "specVersion": spec_version,
                    "implVersion": 0,
                    "transactionVersion": transaction_version,
                    "apis": {},
                }})
            }
            None => json!({ "type": "invalid", "error": "the runtime is not loaded" }),
        }
    }

    /// Compiles the runtime from `:code` proven at `block`.
    async fn load_runtime(&mut self, block: &VerifiedHeader) -> Result<(), String> {
        let keys = [b":code".to_vec(), b":heappages".to_vec()];
        let values = self.read_values(block, &keys).await?;
        let code = values
            .first()
            .cloned()
            .flatten()
            .ok_or_else(|| "the proven state has no :code".to_string())?;
        let heap_pages = values.get(1).cloned().flatten();
        let runtime = Runtime::new(&code, heap_pages.as_deref()).map_err(|e| e.to_string())?;
        self.update_report(|r| r.runtime = Some(runtime.spec().clone()));
        self.runtime = Some(runtime);
        Ok(())
    }

    // ---- Storage -------------------------------------------------------------------------

    /// The values at `keys` in `block`'s state, proven.
    async fn read_values(
        &mut self,
        block: &VerifiedHeader,
        keys: &[Vec<u8>],
    ) -> Result<Vec<Option<Vec<u8>>>, String> {
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = async {
                let proof = self.read_proof(endpoint, block, keys).await?;
                keys.iter()
                    .map(|key| proof.value(key).map_err(|e| rejected(e.to_string())))
                    .collect::<Result<Vec<_>, Attempt>>()
            }
            .await;
            match attempt {
                Ok(values) => {
                    self.update_report(|r| r.proofs_verified += 1);
                    return Ok(values);
                }
                Err(attempt) => reasons.push(self.note(endpoint, "storage", attempt)),
            }
        }
        Err(Self::no_answer("reading storage", &reasons))
    }

    /// Every key and value under `prefix` in `block`'s state, page by page, each page proven
    /// complete.
    async fn read_prefix(
        &mut self,
        block: &VerifiedHeader,
        prefix: &[u8],
    ) -> Result<Entries, String> {
        let mut entries = Entries::new();
        loop {
            let after = entries.last().map(|(key, _)| key.clone());
            let mut reasons = Vec::new();
            let mut page = None;
            for endpoint in self.endpoints.in_order() {
                match self.page(endpoint, block, prefix, after.as_deref()).await {
                    Ok(found) => {
                        page = Some(found);
                        break;
                    }
                    Err(attempt) => reasons.push(self.note(endpoint, "storage", attempt)),
                }
            }
            let Some((found, complete)) = page else {
                return Err(Self::no_answer("iterating storage", &reasons));
            };
            self.update_report(|r| r.proofs_verified += 1);
            entries.extend(found);
            if complete {
                return Ok(entries);
            }
        }
    }

    async fn page(
        &mut self,
        endpoint: usize,
        block: &VerifiedHeader,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<(Entries, bool), Attempt> {
        let listed = self
            .endpoints
            .request(
                endpoint,
                "state_getKeysPaged",
                json!([
                    to_hex(prefix),
                    PAGE_SIZE,
                    after.map(to_hex),
                    to_hex(&block.hash)
                ]),
            )
            .await?;
        let claimed = listed
            .as_array()
            .ok_or_else(|| rejected("a key list that is not a list"))?
            .iter()
            .map(|k| {
                k.as_str()
                    .and_then(|k| from_hex(k).ok())
                    .ok_or_else(|| rejected("a key that is not hex"))
            })
            .collect::<Result<Vec<_>, Attempt>>()?;
        // The proof must reach where the page starts as well as every key on it.
        let mut keys = vec![after.unwrap_or(prefix).to_vec()];
        keys.extend(claimed.iter().cloned());
        let proof = self.read_proof(endpoint, block, &keys).await?;
        proof
            .page(prefix, after, &claimed, PAGE_SIZE)
            .map_err(|e| rejected(e.to_string()))
    }

    async fn read_proof(
        &mut self,
        endpoint: usize,
        block: &VerifiedHeader,
        keys: &[Vec<u8>],
    ) -> Result<Proof, Attempt> {
        let keys: Vec<String> = keys.iter().map(|k| to_hex(k)).collect();
        let answer = self
            .endpoints
            .request(
                endpoint,
                "state_getReadProof",
                json!([keys, to_hex(&block.hash)]),
            )
            .await?;
        let nodes = answer["proof"]
            .as_array()
            .ok_or_else(|| rejected("a read proof without a node list"))?
            .iter()
            .map(|n| {
                n.as_str()
                    .and_then(|n| from_hex(n).ok())
                    .ok_or_else(|| rejected("a proof node that is not hex"))
            })
            .collect::<Result<Vec<_>, Attempt>>()?;
        Proof::new(block.state_root, &nodes).map_err(|e| rejected(e.to_string()))
    }

    // ---- Runtime calls -------------------------------------------------------------------

    async fn call(
        &mut self,
        block: &VerifiedHeader,
        function: &str,
        parameter: &[u8],
    ) -> Result<Vec<u8>, String> {
        let Some(mut runtime) = self.runtime.take() else {
            return Err("the runtime is not loaded".into());
        };
        let result = async {
            let mut call = runtime
                .call(function, parameter)
                .map_err(|e| e.to_string())?;
            let result = loop {
                match call.step() {
                    Ok(Step::Done(output)) => break Ok(output),
                    Ok(Step::NeedValue(key)) => {
                        match self.read_values(block, std::slice::from_ref(&key)).await {
                            Ok(values) => {
                                let value = values.into_iter().next().flatten();
                                if let Err(error) = call.resume(value.as_deref()) {
                                    break Err(error.to_string());
                                }
                            }
                            Err(error) => break Err(error),
                        }
                    }
                    Err(error) => break Err(error.to_string()),
                }
            };
            runtime.finish(call);
            result
        }
        .await;
        self.runtime = Some(runtime);
        result
    }

    // ---- Transactions ---------------------------------------------------------------------

    fn transaction_event(&mut self, subscription: &str, result: Value) {
        self.outgoing.push_back(
            json!({
                "jsonrpc": "2.0",
                "method": "transactionWatch_v1_watchEvent",
                "params": { "subscription": subscription, "result": result },
            })
            .to_string(),
        );
    }

    /// Judges `extrinsic` with the runtime in force on proven state, sends it to every
    /// endpoint, and watches for it in the blocks proven from now on.
    async fn submit(&mut self, subscription: String, extrinsic: Vec<u8>) {
        if let Some(why) = shape_error(&extrinsic) {
            let words = format!("not a transaction this runtime can read: {why}");
            self.transaction_event(&subscription, json!({ "event": "invalid", "error": words }));
            return;
        }
        let at = self.finality.finalized().clone();
        if let Err(verdict) = self.validate(&at, &extrinsic).await {
            self.transaction_event(&subscription, verdict);
            return;
        }
        self.transaction_event(&subscription, json!({ "event": "validated" }));
        match self.broadcast(&extrinsic).await {
            Ok(took) => {
                self.transaction_event(
                    &subscription,
                    json!({ "event": "broadcasted", "numPeers": took }),
                );
                self.watched.push(Watched {
                    subscription,
                    extrinsic,
                    sent_at: at.number,
                });
            }
            Err(why) => {
                self.transaction_event(&subscription, json!({ "event": "dropped", "error": why }))
            }
        }
    }

    /// `TaggedTransactionQueue_validate_transaction` at `at`: `Err` is the event that ends the
    /// watch (the runtime's refusal in its words, or why it could not be asked).
    async fn validate(&mut self, at: &VerifiedHeader, extrinsic: &[u8]) -> Result<(), Value> {
        use smoldot::transactions::validate;
        let parameter: Vec<u8> = validate::validate_transaction_runtime_parameters_v3(
            std::iter::once(extrinsic),
            validate::TransactionSource::External,
            &at.hash,
        )
        .flat_map(|part| part.as_ref().to_vec())
        .collect();
        let output = self
            .call(at, "TaggedTransactionQueue_validate_transaction", &parameter)
            .await
            .map_err(|why| {
                json!({ "event": "error", "error": format!("the transaction could not be checked: {why}") })
            })?;
        match validate::decode_validate_transaction_return_value(&output) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(refusal)) => Err(json!({ "event": "invalid", "error": refusal.to_string() })),
            Err(_) => Err(json!({
                "event": "error",
                "error": "the runtime's verdict on the transaction does not decode",
            })),
        }
    }

    /// Hands the transaction to every endpoint; the number that took it, or why none did.
    async fn broadcast(&mut self, extrinsic: &[u8]) -> Result<usize, String> {
        let hash = blake2_256(extrinsic);
        let mut took = 0;
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = match self
                .endpoints
                .request(
                    endpoint,
                    "author_submitExtrinsic",
                    json!([to_hex(extrinsic)]),
                )
                .await
            {
                Ok(answer) => match hash_answer(answer, "author_submitExtrinsic") {
                    Ok(named) if named == hash => {
                        took += 1;
                        continue;
                    }
                    Ok(named) => rejected(format!(
                        "it took the transaction {} as {}",
                        to_hex(&hash),
                        to_hex(&named)
                    )),
                    Err(attempt) => attempt,
                },
                Err(error) => error.into(),
            };
            reasons.push(self.note(endpoint, "transaction", attempt));
        }
        if took > 0 {
            Ok(took)
        } else {
            Err(Self::no_answer("sending the transaction", &reasons))
        }
    }

    /// Searches the bodies of newly proven blocks for watched transactions; reports those found
    /// as final, and those not found within [`WATCH_BLOCKS`] as dropped.
    async fn watch_transactions(&mut self) {
        while let Some(block) = self.unsearched.front().cloned() {
            if self.watched.is_empty() {
                self.unsearched.clear();
                break;
            }
            let body = match self.body(&block).await {
                Ok(body) => body,
                // Searched again at the next poll; nothing is reported dropped meanwhile.
                Err(error) => {
                    self.update_report(|r| r.last_error = Some(error));
                    return;
                }
            };
            self.unsearched.pop_front();
            let (found, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.watched)
                .into_iter()
                .partition(|w| body.contains(&w.extrinsic));
            self.watched = waiting;
            for watched in found {
                let index = body.iter().position(|x| x == &watched.extrinsic);
                self.transaction_event(
                    &watched.subscription,
                    json!({
                        "event": "finalized",
                        "block": { "hash": to_hex(&block.hash), "index": index },
                    }),
                );
            }
        }
        let finalized = self.finality.finalized().number;
        let (expired, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.watched)
            .into_iter()
            .partition(|w| finalized > w.sent_at + WATCH_BLOCKS);
        self.watched = waiting;
        for watched in expired {
            self.transaction_event(
                &watched.subscription,
                json!({
                    "event": "dropped",
                    "error": format!(
                        "not in any of the {WATCH_BLOCKS} blocks finalized since it was sent: an \
                         endpoint dropped it or its era ended; check the account's nonce before \
                         sending it again"
                    ),
                }),
            );
        }
    }

    /// The extrinsics of a proven block, checked against its header.
    async fn body(&mut self, block: &VerifiedHeader) -> Result<Vec<Vec<u8>>, String> {
        let mut reasons = Vec::new();
        for endpoint in self.endpoints.in_order() {
            let attempt = async {
                let answer = self
                    .endpoints
                    .request(endpoint, "chain_getBlock", json!([to_hex(&block.hash)]))
                    .await?;
                if answer.is_null() {
                    return Err(Attempt::Fetch(FetchError::Refused {
                        code: 0,
                        message: format!("it does not have block #{}", block.number),
                    }));
                }
                let extrinsics = answer["block"]["extrinsics"]
                    .as_array()
                    .ok_or_else(|| rejected("a block without an extrinsic list"))?
                    .iter()
                    .map(|x| {
                        x.as_str()
                            .and_then(|x| from_hex(x).ok())
                            .ok_or_else(|| rejected("an extrinsic that is not hex"))
                    })
                    .collect::<Result<Vec<_>, Attempt>>()?;
                body::verify_body(&block.scale, &extrinsics)
                    .map_err(|e| rejected(e.to_string()))?;
                Ok(extrinsics)
            }
            .await;
            match attempt {
                Ok(extrinsics) => return Ok(extrinsics),
                Err(attempt) => reasons.push(self.note(endpoint, "block body", attempt)),
            }
        }
        Err(Self::no_answer("reading a block body", &reasons))
    }

    // ---- The JSON-RPC API ----------------------------------------------------------------

    fn reply(&mut self, id: &Value, result: Value) {
        self.outgoing
            .push_back(json!({ "jsonrpc": "2.0", "id": id, "result": result }).to_string());
    }

    fn error(&mut self, id: &Value, code: i64, message: &str) {
        self.outgoing.push_back(
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
                .to_string(),
        );
    }

    fn event(&mut self, result: Value) {
        let Some(subscription) = self.follow.clone() else {
            return;
        };
        self.outgoing.push_back(
            json!({
                "jsonrpc": "2.0",
                "method": "chainHead_v1_followEvent",
                "params": { "subscription": subscription, "result": result },
            })
            .to_string(),
        );
    }

    fn operation(&mut self) -> String {
        let id = self.next_operation.to_string();
        self.next_operation += 1;
        id
    }

    /// A pinned block named by a `0x` hash parameter.
    fn pinned(&self, hash: &Value) -> Option<VerifiedHeader> {
        let bytes = from_hex(hash.as_str()?).ok()?;
        let hash = <[u8; 32]>::try_from(bytes.as_slice()).ok()?;
        self.pinned.get(&hash).cloned()
    }

    /// Handles one request from the client.
    pub async fn handle(&mut self, text: &str) {
        let Ok(request) = serde_json::from_str::<Value>(text) else {
            self.error(&Value::Null, -32700, "parse error");
            return;
        };
        let id = request["id"].clone();
        let params = &request["params"];
        match request["method"].as_str().unwrap_or_default() {
            "chainSpec_v1_genesisHash" => self.reply(&id, json!(to_hex(&self.genesis_hash))),
            "chainHead_v1_follow" => {
                if self.follow.is_some() {
                    self.error(&id, -32800, "already following");
                    return;
                }
                self.follow = Some("verified-follow".into());
                self.initialized = false;
                self.reply(&id, json!("verified-follow"));
                self.announce().await;
            }
            "chainHead_v1_unfollow" => {
                self.follow = None;
                self.reply(&id, Value::Null);
            }
            "chainHead_v1_header" => match self.pinned(&params[1]) {
                Some(block) => self.reply(&id, json!(to_hex(&block.scale))),
                None => self.reply(&id, Value::Null),
            },
            // Blocks stay readable until retention drops them (see `pinned`).
            "chainHead_v1_unpin" => self.reply(&id, Value::Null),
            "chainHead_v1_continue" | "chainHead_v1_stopOperation" => self.reply(&id, Value::Null),
            "chainHead_v1_storage" => {
                let Some(block) = self.pinned(&params[1]) else {
                    self.error(&id, -32801, "the block is not pinned");
                    return;
                };
                let operation = self.operation();
                self.reply(
                    &id,
                    json!({ "result": "started", "operationId": operation }),
                );
                let items = params[2].as_array().cloned().unwrap_or_default();
                match self.storage(&block, &items).await {
                    Ok(found) => {
                        if !found.is_empty() {
                            self.event(json!({
                                "event": "operationStorageItems",
                                "operationId": operation,
                                "items": found,
                            }));
                        }
                        self.event(json!({
                            "event": "operationStorageDone", "operationId": operation,
                        }));
                    }
                    Err(error) => self.event(json!({
                        "event": "operationError", "operationId": operation, "error": error,
                    })),
                }
            }
            "chainHead_v1_call" => {
                let Some(block) = self.pinned(&params[1]) else {
                    self.error(&id, -32801, "the block is not pinned");
                    return;
                };
                let function = params[2].as_str().unwrap_or_default().to_string();
                let Some(parameter) = params[3].as_str().and_then(|p| from_hex(p).ok()) else {
                    self.error(&id, -32602, "the call parameters are not hex");
                    return;
                };
                let operation = self.operation();
                self.reply(
                    &id,
                    json!({ "result": "started", "operationId": operation }),
                );
                match self.call(&block, &function, &parameter).await {
                    Ok(output) => self.event(json!({
                        "event": "operationCallDone", "operationId": operation,
                        "output": to_hex(&output),
                    })),
                    Err(error) => self.event(json!({
                        "event": "operationError", "operationId": operation, "error": error,
                    })),
                }
            }
            "system_health" => {
                let reachable = self
                    .endpoints
                    .reports()
                    .iter()
                    .filter(|e| e.connected)
                    .count();
                self.reply(
                    &id,
                    json!({ "peers": reachable, "isSyncing": false, "shouldHavePeers": true }),
                );
            }
            "transactionWatch_v1_submitAndWatch" => {
                let Some(extrinsic) = params[0].as_str().and_then(|p| from_hex(p).ok()) else {
                    self.error(&id, -32602, "the transaction is not hex");
                    return;
                };
                let subscription = format!("verified-transaction-{}", self.operation());
                self.reply(&id, json!(subscription));
                self.submit(subscription, extrinsic).await;
            }
            "transactionWatch_v1_unwatch" => {
                let subscription = params[0].as_str().unwrap_or_default();
                self.watched.retain(|w| w.subscription != subscription);
                self.reply(&id, Value::Null);
            }
            other => self.error(&id, -32601, &format!("{other} is not served here")),
        }
    }

    /// The items of a `chainHead_v1_storage` request, proven.
    async fn storage(
        &mut self,
        block: &VerifiedHeader,
        items: &[Value],
    ) -> Result<Vec<Value>, String> {
        let mut keys = Vec::new();
        let mut prefixes = Vec::new();
        for item in items {
            let key = item["key"]
                .as_str()
                .and_then(|k| from_hex(k).ok())
                .ok_or_else(|| "a storage item whose key is not hex".to_string())?;
            match item["type"].as_str() {
                Some("value") => keys.push(key),
                Some("descendantsValues") => prefixes.push(key),
                other => return Err(format!("storage item type {other:?} is not served here")),
            }
        }
        let mut found = Vec::new();
        if !keys.is_empty() {
            let values = self.read_values(block, &keys).await?;
            for (key, value) in keys.iter().zip(values) {
                if let Some(value) = value {
                    found.push(json!({ "key": to_hex(key), "value": to_hex(&value) }));
                }
            }
        }
        for prefix in prefixes {
            for (key, value) in self.read_prefix(block, &prefix).await? {
                found.push(json!({ "key": to_hex(&key), "value": to_hex(&value) }));
            }
        }
        Ok(found)
    }
}

/// A header as fetched: hash checked, place in the chain not yet.
struct VerifiedHeaderBytes {
    number: u64,
    hash: [u8; 32],
    parent_hash: [u8; 32],
    scale: Vec<u8>,
}

fn hash_answer(answer: Value, method: &str) -> Result<[u8; 32], Attempt> {
    answer
        .as_str()
        .and_then(|h| from_hex(h).ok())
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| rejected(format!("{method}: not a block hash")))
}

/// What is wrong with the outer shape of an encoded extrinsic, if anything: a SCALE length
/// prefix that covers the rest exactly, then a format byte of version 4 (signed or not). The
/// runtime checks the rest; bytes without this shape only make it trap, which says nothing.
fn shape_error(extrinsic: &[u8]) -> Option<String> {
    use parity_scale_codec::{Compact, Decode};
    let mut rest = extrinsic;
    let Ok(Compact(length)) = Compact::<u32>::decode(&mut rest) else {
        return Some("it does not start with a length".into());
    };
    if usize::try_from(length).ok() != Some(rest.len()) {
        return Some(format!(
            "its length prefix says {length} bytes, {} follow",
            rest.len()
        ));
    }
    match rest.first().map(|format| format & 0x7f) {
        Some(4) => None,
        Some(version) => Some(format!(
            "extrinsic format version {version}, where this runtime reads version 4"
        )),
        None => Some("it is empty".into()),
    }
}

/// Bytes written as a `0x` hex string or as a JSON array of numbers (Substrate writes a
/// block's justifications the second way).
fn bytes_of(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(hex) => from_hex(hex).ok(),
        Value::Array(items) => items
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => None,
    }
}

/// The justification inside a SCALE `FinalityProof { block, justification, unknown_headers }`.
fn finality_proof_justification(bytes: &[u8]) -> Result<Vec<u8>, Attempt> {
    use parity_scale_codec::Decode;
    let mut input = bytes
        .get(32..)
        .ok_or_else(|| rejected("a finality proof too short"))?;
    Vec::<u8>::decode(&mut input).map_err(|e| rejected(format!("finality proof: {e}")))
}

/// The SCALE encoding of a header in `chain_getHeader`'s JSON form.
pub(super) fn header_from_json(json: &Value) -> Result<Vec<u8>, String> {
    use parity_scale_codec::{Compact, Encode};
    let hash = |field: &str| -> Result<Vec<u8>, String> {
        let bytes = json[field]
            .as_str()
            .ok_or_else(|| format!("no {field}"))
            .and_then(from_hex)?;
        if bytes.len() != 32 {
            return Err(format!("{field} is {} bytes", bytes.len()));
        }
        Ok(bytes)
    };
    let number = json["number"]
        .as_str()
        .and_then(|n| u32::from_str_radix(n.trim_start_matches("0x"), 16).ok())
        .ok_or("the number is not a hex u32")?;
    let logs = json["digest"]["logs"]
        .as_array()
        .ok_or("no digest logs")?
        .iter()
        .map(|log| {
            log.as_str()
                .ok_or("a digest log that is not hex".to_string())
                .and_then(from_hex)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = hash("parentHash")?;
    Compact(number).encode_to(&mut out);
    out.extend(hash("stateRoot")?);
    out.extend(hash("extrinsicsRoot")?);
    Compact(logs.len() as u32).encode_to(&mut out);
    for log in logs {
        out.extend(log);
    }
    Ok(out)
}

/// Randomness for smoldot's batch signature verification (which must not be predictable to
/// whoever forges signatures).
fn randomness_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    // Without an entropy source the check still holds for honest signatures; batch
    // verification's resistance to crafted ones is what randomness adds.
    let _ = getrandom::getrandom(&mut seed);
    seed
}

#[cfg(test)]
mod tests {
    use super::shape_error;

    #[test]
    fn the_outer_shape_of_an_extrinsic_is_checked_in_words() {
        // Signed (0x84) and unsigned (0x04) version-4 extrinsics pass; the runtime judges the rest.
        assert_eq!(shape_error(&[0x0c, 0x84, 1, 2]), None);
        assert_eq!(shape_error(&[0x04, 0x04]), None);
        let said = |bytes: &[u8]| shape_error(bytes).unwrap_or_default();
        assert!(said(&[0x10, 1, 2]).contains("says 4 bytes, 2 follow"));
        assert!(said(&[0x08, 0x85, 0]).contains("format version 5"));
        assert!(said(&[0x00]).contains("empty"));
        assert!(said(&[]).contains("does not start with a length"));
    }
}
