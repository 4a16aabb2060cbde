//! The typed Bittensor client: one API over whichever transport answers.
//!
//! [`BittensorClient`] speaks the new JSON-RPC API (`chainHead_v1_*`, `transactionWatch_v1_*`)
//! to a [`Transport`]: smoldot-light in this process ([`light::LightTransport`]), which verifies
//! every header, justification and storage proof before it answers; or the verified-RPC
//! client ([`verified_rpc::VerifiedTransport`]), which does the same over untrusted JSON-RPC
//! endpoints. The client itself decides what to
//! ask and what the answers mean (through [`crate::metagraph`] and the chain codec); it never
//! touches a socket.
//!
//! Driving it: the owner alternates between [`BittensorClient::pump`] (wait for one message;
//! cancel-safe, so it can sit in a `select` beside other work) and
//! [`BittensorClient::events`] (turn what arrived into [`ChainEvent`]s). Reads
//! ([`BittensorClient::subnets`], [`BittensorClient::metagraph`], …) pump while they wait and
//! leave the chain's events queued for the next `events` call, so blocks are only unpinned
//! between reads, never under one.

pub mod endpoints;
pub mod legacy;
#[cfg(any(feature = "native", feature = "browser"))]
pub mod light;
pub mod trust;
#[cfg(any(feature = "native", feature = "browser"))]
pub mod verified_rpc;
#[cfg(feature = "websocket")]
pub mod websocket;

use crate::header::Header;
use crate::hex::{from_hex, to_hex};
use crate::metadata::Metadata;
use crate::metagraph::{self, Fetched, Metagraph, Reads, SubnetSummary};
use crate::storage::StorageError;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::rc::Rc;

/// Carries JSON-RPC text to a chain and back. Implementations own the connection (smoldot-light
/// in this process, a WebSocket to an endpoint) and nothing else.
#[allow(async_fn_in_trait)] // single-threaded callers (the browser); futures need not be Send
pub trait Transport {
    /// Queues one request (a complete JSON-RPC object).
    fn send(&mut self, request: String) -> Result<(), ClientError>;
    /// The next response or notification; `None` once the transport is gone for good.
    /// Cancel-safe: dropping the future loses no message.
    async fn next(&mut self) -> Option<String>;
    /// Which transport answers, for the user ("smoldot-light (p2p)").
    fn name(&self) -> &'static str;
    /// How many of the newest finalized blocks stay readable after they are unpinned (verified
    /// RPC keeps its proven blocks for a while; smoldot-light serves pinned blocks only: 0).
    fn kept_unpinned(&self) -> u64 {
        0
    }
    /// How many storage items to put in one `chainHead_v1_storage` operation (the rest go in
    /// further operations, run side by side).
    fn storage_items_per_operation(&self) -> usize {
        usize::MAX
    }
}

/// Storage operations one read keeps running at once (smoldot-light gives a follow subscription
/// 32 operation slots; calls and other reads need some).
const STORAGE_OPERATIONS_AT_ONCE: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// The transport is gone (the chain was removed, the connection closed for good).
    Closed,
    /// The transport refused a request for now (its queue is full).
    Busy(String),
    /// The chain answered `method` with an error.
    Rpc { method: String, message: String },
    /// An answer to `method` that is not what the API promises.
    Malformed { method: String, why: String },
    /// The block is no longer (or not yet) readable: its peers do not have it, or it was
    /// unpinned. Read again at the current finalized block.
    Inaccessible { method: String, why: String },
    /// The chain's follow subscription ended (the light client restarted its view of the chain);
    /// the client follows again and the read must be retried.
    Restarted,
    /// No finalized block yet: the client is still syncing.
    NotSynced,
    /// The runtime in force cannot be used (smoldot could not compile it, or it is unknown).
    Runtime(String),
    /// A value in verified storage does not decode as the runtime says it should.
    Storage(String),
    /// An epoch could not be audited (its runtime has no verified algorithm, its input is one the
    /// runtime would refuse).
    Audit(crate::audit::AuditError),
    /// The block is older than what this transport still holds: not a failure of anyone, a limit
    /// (smoldot-light serves pinned blocks only; verified RPC keeps a few hundred).
    NotHeld(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Closed => write!(f, "the light client stopped"),
            ClientError::Busy(why) => write!(f, "the light client is busy: {why}"),
            ClientError::Rpc { method, message } => write!(f, "{method}: {message}"),
            ClientError::Malformed { method, why } => {
                write!(f, "{method}: an answer the API does not allow: {why}")
            }
            ClientError::Inaccessible { method, why } => {
                write!(
                    f,
                    "{method}: the block cannot be read ({why}); reading again at the newest \
                     finalized block"
                )
            }
            ClientError::Restarted => write!(
                f,
                "the light client restarted following the chain; reading again"
            ),
            ClientError::NotSynced => write!(f, "no finalized block yet: still syncing"),
            ClientError::Runtime(why) => write!(f, "the chain's runtime: {why}"),
            ClientError::Storage(why) => write!(f, "verified storage: {why}"),
            ClientError::Audit(why) => write!(f, "the audit: {why}"),
            ClientError::NotHeld(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<StorageError> for ClientError {
    fn from(error: StorageError) -> Self {
        ClientError::Storage(error.to_string())
    }
}

/// An account's nonce and balances (rao).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Account {
    pub nonce: u32,
    pub free: u64,
    pub reserved: u64,
}

/// A block the client follows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlockRef {
    pub number: u64,
    /// `0x`-hex block hash.
    pub hash: String,
}

pub use crate::runtime_spec::RuntimeSpec;

/// What the chain did since the last call to [`BittensorClient::events`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChainEvent {
    /// A new finalized block: every value read at it is verified.
    Finalized(BlockRef),
    /// A new best block (not final; may be reverted).
    Best(BlockRef),
    /// The runtime in force at the finalized block changed (also sent once at start).
    Runtime(RuntimeSpec),
    /// The follow subscription ended and a new one started; pinned blocks are gone.
    Restarted,
}

/// The JSON-RPC methods and notifications used here.
const FOLLOW: &str = "chainHead_v1_follow";
const FOLLOW_EVENT: &str = "chainHead_v1_followEvent";
const TRANSACTION_EVENT: &str = "transactionWatch_v1_watchEvent";

/// What happened to a submitted transaction (`transactionWatch_v1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransactionEvent {
    /// The runtime accepted it for the pool.
    Validated,
    /// Sent to peers.
    Broadcasted,
    /// In a best block (`None`: no longer in the best chain).
    InBestBlock(Option<String>),
    /// In a finalized block (its hash, and the transaction's index in its body where the
    /// transport says): done.
    Finalized(String, Option<u32>),
    /// The runtime refused it, in its words (a bad nonce, too low a balance, a bad signature).
    Invalid(String),
    /// It can no longer be followed, or was dropped from the pool.
    Dropped(String),
    Error(String),
}

impl TransactionEvent {
    /// Whether nothing more will come.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TransactionEvent::Finalized(..)
                | TransactionEvent::Invalid(_)
                | TransactionEvent::Dropped(_)
                | TransactionEvent::Error(_)
        )
    }

    fn from_json(event: &Value) -> Option<Self> {
        let words = || {
            event["error"]
                .as_str()
                .unwrap_or("no reason given")
                .to_string()
        };
        let block = || event["block"]["hash"].as_str().map(str::to_string);
        Some(match event["event"].as_str()? {
            "validated" => TransactionEvent::Validated,
            "broadcasted" => TransactionEvent::Broadcasted,
            "bestChainBlockIncluded" => TransactionEvent::InBestBlock(block()),
            "finalized" => {
                // A number in the specification; a decimal string in some of its drafts.
                let index = &event["block"]["index"];
                let index = index
                    .as_u64()
                    .or_else(|| index.as_str().and_then(|i| i.parse().ok()))
                    .and_then(|i| u32::try_from(i).ok());
                TransactionEvent::Finalized(block()?, index)
            }
            "invalid" => TransactionEvent::Invalid(explain_invalid(&words())),
            "dropped" => TransactionEvent::Dropped(words()),
            "error" => TransactionEvent::Error(words()),
            _ => return None,
        })
    }
}

/// Blocks the chain has announced and not yet finalized or pruned: their runtime, if it
/// changed, and their number once known.
#[derive(Default)]
struct Follow {
    subscription: Option<String>,
    /// Events of the follow subscription, in order.
    events: VecDeque<Value>,
    /// Runtime changes announced by non-finalized blocks, by block hash.
    new_runtimes: HashMap<String, Value>,
    /// The finalized blocks we keep pinned (read at), oldest first: the newest, and as many
    /// before it as [`BittensorClient::keep_pinned`] asks for.
    pinned_finalized: VecDeque<String>,
    /// Each new block's parent (from `newBlock`), while it is pinned.
    parents: HashMap<String, String>,
    /// Block numbers known without a header read (counted from a parent's), bounded.
    numbers: HashMap<String, u64>,
}

/// Block numbers kept in [`Follow::numbers`] at most before the unpinned ones are forgotten.
const NUMBERS_KEPT: usize = 4096;

/// Finalized blocks remembered by number (from the follow's events, and found by walking parent
/// hashes back from them), so that older blocks can be named and read where the transport still
/// holds them. Bounded: the oldest are forgotten first.
const RECENT_KEPT: usize = 1024;

/// At most this many finalized blocks are kept pinned: smoldot-light allows 32 pinned blocks per
/// follow subscription, and the blocks not yet finalized need room too.
pub const MAX_KEEP_PINNED: usize = 16;

/// A runtime's decoded metadata and the bytes it came from.
type KnownMetadata = (Rc<Metadata>, Rc<Vec<u8>>);

/// The typed client. See the module docs for how to drive it.
pub struct BittensorClient<T: Transport> {
    transport: T,
    next_id: u64,
    /// Requests someone waits for, and their answers once they arrive (an answer nobody waits
    /// for any more, after [`BittensorClient::abandon`], is dropped).
    awaited: HashSet<u64>,
    answers: HashMap<u64, Result<Value, ClientError>>,
    /// Events of running operations (`chainHead_v1_storage`, `_call`) by operation id.
    operations: HashMap<String, VecDeque<Value>>,
    follow: Follow,
    /// The pending `chainHead_v1_follow` request, until its subscription id comes back.
    follow_request: Option<u64>,
    /// Set when the follow subscription stopped under an operation.
    stopped: bool,
    finalized: Option<BlockRef>,
    best: Option<BlockRef>,
    runtime: Option<RuntimeSpec>,
    /// Events of watched transactions, by subscription.
    transactions: HashMap<String, VecDeque<TransactionEvent>>,
    /// Metadata per runtime, by the blake2-256 of its proven `:code`, with the bytes it was
    /// decoded from.
    metadata: HashMap<[u8; 32], KnownMetadata>,
    /// Code hashes whose metadata this client read from the runtime itself (not kept from an
    /// earlier run).
    confirmed_metadata: std::collections::HashSet<[u8; 32]>,
    /// The hash of the `:code` in force, read through a proof once per runtime (cleared when the
    /// chain reports a new runtime).
    code_hash: Option<[u8; 32]>,
    /// Finalized blocks by number, oldest first, consecutive (see [`RECENT_KEPT`]).
    recent: VecDeque<BlockRef>,
    /// Runtime versions by the hash of their proven code (read with `Core_version`).
    versions: HashMap<[u8; 32], RuntimeSpec>,
    /// How many finalized blocks stay pinned (1: only the newest).
    keep_pinned: usize,
    /// Blocks a read is using now: kept pinned beyond the window until it is done.
    held: Vec<String>,
}

fn malformed(method: &str, why: impl Into<String>) -> ClientError {
    ClientError::Malformed {
        method: method.into(),
        why: why.into(),
    }
}

fn runtime_spec(runtime: &Value) -> Result<RuntimeSpec, ClientError> {
    match runtime.get("type").and_then(Value::as_str) {
        Some("valid") => {
            let spec = &runtime["spec"];
            Ok(RuntimeSpec {
                spec_name: spec["specName"].as_str().unwrap_or_default().to_string(),
                spec_version: spec["specVersion"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| malformed(FOLLOW_EVENT, "a runtime without specVersion"))?,
                transaction_version: spec["transactionVersion"]
                    .as_u64()
                    .and_then(|v| u32::try_from(v).ok())
                    .unwrap_or(0),
            })
        }
        Some("invalid") => Err(ClientError::Runtime(
            runtime["error"]
                .as_str()
                .unwrap_or("the light client cannot run it")
                .to_string(),
        )),
        _ => Err(malformed(
            FOLLOW_EVENT,
            "a runtime that is neither valid nor invalid",
        )),
    }
}

fn hashes(event: &Value, field: &str) -> Vec<String> {
    event[field]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

impl<T: Transport> BittensorClient<T> {
    /// Starts following the chain (finalized and best blocks, with runtimes).
    pub fn new(transport: T) -> Result<Self, ClientError> {
        let mut client = BittensorClient {
            transport,
            next_id: 1,
            awaited: HashSet::new(),
            answers: HashMap::new(),
            operations: HashMap::new(),
            transactions: HashMap::new(),
            follow: Follow::default(),
            follow_request: None,
            stopped: false,
            finalized: None,
            best: None,
            runtime: None,
            metadata: HashMap::new(),
            confirmed_metadata: Default::default(),
            code_hash: None,
            recent: VecDeque::new(),
            versions: HashMap::new(),
            keep_pinned: 1,
            held: Vec::new(),
        };
        client.start_follow()?;
        Ok(client)
    }

    pub fn transport(&self) -> &T {
        &self.transport
    }

    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    pub fn finalized(&self) -> Option<&BlockRef> {
        self.finalized.as_ref()
    }

    pub fn best(&self) -> Option<&BlockRef> {
        self.best.as_ref()
    }

    pub fn runtime(&self) -> Option<&RuntimeSpec> {
        self.runtime.as_ref()
    }

    /// Asks for a new follow subscription; its id is filed when the answer comes.
    fn start_follow(&mut self) -> Result<(), ClientError> {
        let id = self.send(FOLLOW, json!([true]))?;
        self.follow = Follow::default();
        self.recent.clear();
        self.follow_request = Some(id);
        Ok(())
    }

    fn send(&mut self, method: &str, params: Value) -> Result<u64, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.transport.send(request.to_string())?;
        Ok(id)
    }

    /// Waits for one message from the transport and files it. Cancel-safe.
    pub async fn pump(&mut self) -> Result<(), ClientError> {
        let text = self.transport.next().await.ok_or(ClientError::Closed)?;
        self.file(&text);
        Ok(())
    }

    /// Files one message: an answer by id, a follow or operation event by subscription.
    fn file(&mut self, text: &str) {
        let Ok(message) = serde_json::from_str::<Value>(text) else {
            return; // the transport is ours; it does not send non-JSON
        };
        if let Some(id) = message.get("id").and_then(Value::as_u64) {
            let answer = match message.get("error") {
                Some(error) => Err(ClientError::Rpc {
                    method: String::new(),
                    message: error["message"]
                        .as_str()
                        .unwrap_or("unknown error")
                        .to_string(),
                }),
                None => Ok(message.get("result").cloned().unwrap_or(Value::Null)),
            };
            if Some(id) == self.follow_request {
                self.follow_request = None;
                match answer.as_ref().ok().and_then(Value::as_str) {
                    Some(subscription) => self.follow.subscription = Some(subscription.into()),
                    // Refused (too many subscriptions): try again at the next `events`.
                    None => self.stopped = true,
                }
                return;
            }
            if self.awaited.contains(&id) {
                self.answers.insert(id, answer);
            }
            return;
        }
        if message.get("method").and_then(Value::as_str) == Some(TRANSACTION_EVENT) {
            let params = &message["params"];
            if let (Some(subscription), Some(event)) = (
                params["subscription"].as_str(),
                TransactionEvent::from_json(&params["result"]),
            ) && let Some(events) = self.transactions.get_mut(subscription)
            {
                events.push_back(event);
            }
            return;
        }
        if message.get("method").and_then(Value::as_str) != Some(FOLLOW_EVENT) {
            return;
        }
        let params = &message["params"];
        if params["subscription"].as_str() != self.follow.subscription.as_deref() {
            return; // an old subscription's last words
        }
        let event = params["result"].clone();
        match event["operationId"].as_str() {
            Some(operation) => {
                // Events of an abandoned operation have nobody to go to.
                if let Some(events) = self.operations.get_mut(operation) {
                    events.push_back(event);
                }
            }
            None => {
                self.keep_pins(&event);
                self.follow.events.push_back(event);
            }
        }
    }

    /// Pin bookkeeping for a follow event as it arrives, even under a long read: smoldot-light
    /// stops a subscription that holds more than 32 pinned blocks, and on a fast chain a read of
    /// a large subnet outlasts that many blocks. Unpins what was pruned and the finalized blocks
    /// beyond the newest [`MAX_KEEP_PINNED`] that no read holds (the reader's own, smaller
    /// window is applied between reads, by `events`); learns each new block's number from its
    /// parent's.
    fn keep_pins(&mut self, event: &Value) {
        match event["event"].as_str() {
            Some("stop") => self.stopped = true,
            Some("initialized") => {
                self.follow.pinned_finalized = hashes(event, "finalizedBlockHashes").into();
                self.unpin_beyond(MAX_KEEP_PINNED);
            }
            Some("newBlock") => {
                if let (Some(hash), Some(parent)) = (
                    event["blockHash"].as_str(),
                    event["parentBlockHash"].as_str(),
                ) {
                    if let Some(&number) = self.follow.numbers.get(parent) {
                        self.follow.numbers.insert(hash.into(), number + 1);
                    }
                    self.follow.parents.insert(hash.into(), parent.into());
                }
            }
            Some("finalized") => {
                self.unpin_now(hashes(event, "prunedBlockHashes"));
                self.follow
                    .pinned_finalized
                    .extend(hashes(event, "finalizedBlockHashes"));
                self.unpin_beyond(MAX_KEEP_PINNED);
            }
            _ => {}
        }
    }

    /// Sends `method(params)` and waits for its answer.
    pub async fn request(&mut self, method: &str, params: Value) -> Result<Value, ClientError> {
        let id = self.send(method, params)?;
        self.awaited.insert(id);
        loop {
            if let Some(answer) = self.answers.remove(&id) {
                self.awaited.remove(&id);
                return answer.map_err(|e| match e {
                    ClientError::Rpc { message, .. } => ClientError::Rpc {
                        method: method.into(),
                        message,
                    },
                    other => other,
                });
            }
            self.pump().await?;
        }
    }

    /// Turns the follow events that arrived into [`ChainEvent`]s, unpinning what is no longer
    /// needed. Call it between reads.
    pub async fn events(&mut self) -> Result<Vec<ChainEvent>, ClientError> {
        let mut out = Vec::new();
        if self.stopped && self.follow_request.is_none() {
            self.stopped = false;
            self.operations.clear();
            self.finalized = None;
            self.best = None;
            self.start_follow()?;
            out.push(ChainEvent::Restarted);
            return Ok(out);
        }
        while let Some(event) = self.follow.events.pop_front() {
            match event["event"].as_str() {
                Some("initialized") => {
                    let finalized = hashes(&event, "finalizedBlockHashes");
                    let Some(last) = finalized.last().cloned() else {
                        return Err(malformed(FOLLOW_EVENT, "initialized without a block"));
                    };
                    let spec = runtime_spec(&event["finalizedBlockRuntime"])?;
                    let block = self.block_ref(&last).await?;
                    self.remember_finalized(&finalized, &block);
                    self.unpin_beyond(self.keep_pinned);
                    self.best = Some(block.clone());
                    self.finalized = Some(block.clone());
                    self.runtime = Some(spec.clone());
                    self.code_hash = None;
                    out.push(ChainEvent::Runtime(spec));
                    out.push(ChainEvent::Finalized(block));
                }
                Some("newBlock") => {
                    if let (Some(hash), Some(runtime)) =
                        (event["blockHash"].as_str(), event.get("newRuntime"))
                        && !runtime.is_null()
                    {
                        self.follow
                            .new_runtimes
                            .insert(hash.to_string(), runtime.clone());
                    }
                }
                Some("bestBlockChanged") => {
                    let Some(hash) = event["bestBlockHash"].as_str().map(str::to_string) else {
                        return Err(malformed(FOLLOW_EVENT, "bestBlockChanged without a hash"));
                    };
                    let block = self.block_ref(&hash).await?;
                    self.best = Some(block.clone());
                    out.push(ChainEvent::Best(block));
                }
                Some("finalized") => {
                    let finalized = hashes(&event, "finalizedBlockHashes");
                    let Some(last) = finalized.last().cloned() else {
                        continue;
                    };
                    let block = self.block_ref(&last).await?;
                    for hash in &finalized {
                        if let Some(runtime) = self.follow.new_runtimes.remove(hash) {
                            self.code_hash = None;
                            let spec = runtime_spec(&runtime)?;
                            self.runtime = Some(spec.clone());
                            out.push(ChainEvent::Runtime(spec));
                        }
                    }
                    self.remember_finalized(&finalized, &block);
                    for hash in hashes(&event, "prunedBlockHashes") {
                        self.follow.new_runtimes.remove(&hash);
                    }
                    self.unpin_beyond(self.keep_pinned);
                    self.finalized = Some(block.clone());
                    out.push(ChainEvent::Finalized(block));
                }
                Some("stop") => {
                    self.stopped = true;
                    self.follow.subscription = None;
                    break;
                }
                _ => {}
            }
        }
        Ok(out)
    }

    fn subscription(&self) -> Result<String, ClientError> {
        if self.stopped {
            return Err(ClientError::Restarted);
        }
        self.follow
            .subscription
            .clone()
            .ok_or(ClientError::NotSynced)
    }

    /// Unpins `hashes` without waiting for the answer (a refused unpin leaves a block pinned;
    /// at worst the subscription stops and is followed again).
    fn unpin_now(&mut self, hashes: Vec<String>) {
        if hashes.is_empty() {
            return;
        }
        for hash in &hashes {
            self.follow.parents.remove(hash);
        }
        // Forgotten by age, not by pin: events still queued may name blocks unpinned already.
        if self.follow.numbers.len() > NUMBERS_KEPT {
            let newest = self.follow.numbers.values().copied().max().unwrap_or(0);
            let oldest_kept = newest.saturating_sub(NUMBERS_KEPT as u64 / 2);
            self.follow
                .numbers
                .retain(|_, number| *number >= oldest_kept);
        }
        if let Some(subscription) = self.follow.subscription.clone() {
            let _ = self.send("chainHead_v1_unpin", json!([subscription, hashes]));
        }
    }

    /// Files `hashes` (consecutive finalized blocks, oldest first, the last one `last`) by number.
    fn remember_finalized(&mut self, hashes: &[String], last: &BlockRef) {
        let first = last
            .number
            .saturating_sub(u64::try_from(hashes.len()).unwrap_or(u64::MAX) - 1);
        for (number, hash) in (first..).zip(hashes) {
            self.follow.numbers.insert(hash.clone(), number);
            if self.recent.back().is_some_and(|b| b.number + 1 != number) {
                // A gap (a restart in between): only what links up is kept.
                self.recent.clear();
            }
            self.recent.push_back(BlockRef {
                number,
                hash: hash.clone(),
            });
        }
        while self.recent.len() > RECENT_KEPT {
            self.recent.pop_front();
        }
    }

    /// Unpins the finalized blocks beyond the newest `kept`, except those a read holds (they
    /// go once it is done).
    fn unpin_beyond(&mut self, kept: usize) {
        let excess = self.follow.pinned_finalized.len().saturating_sub(kept);
        let old: Vec<String> = self.follow.pinned_finalized.drain(..excess).collect();
        let (held, free): (Vec<String>, Vec<String>) =
            old.into_iter().partition(|hash| self.held.contains(hash));
        for hash in held.into_iter().rev() {
            self.follow.pinned_finalized.push_front(hash);
        }
        self.unpin_now(free);
    }

    /// Fails in words where `at` is no longer readable: on a transport that serves pinned blocks
    /// only, the window may have moved past it since it was named (blocks are unpinned as
    /// events arrive). Checked once the block is held, so it stays readable from here on.
    fn still_pinned(&self, at: &str) -> Result<(), ClientError> {
        let pinned = self.transport.kept_unpinned() > 0
            || self.follow.pinned_finalized.iter().any(|h| h == at)
            || self.follow.parents.contains_key(at);
        if pinned {
            Ok(())
        } else {
            Err(ClientError::NotHeld(format!(
                "block {at} is no longer held: this transport serves pinned blocks only, and \
                 it was unpinned as newer blocks were finalized"
            )))
        }
    }

    /// Runs `read` with `blocks` kept pinned however long it takes.
    async fn holding<R>(
        &mut self,
        blocks: &[&str],
        read: impl AsyncFnOnce(&mut Self) -> Result<R, ClientError>,
    ) -> Result<R, ClientError> {
        self.held.extend(blocks.iter().map(|b| b.to_string()));
        let result = read(self).await;
        for block in blocks {
            if let Some(at) = self.held.iter().position(|h| h == block) {
                self.held.remove(at);
            }
        }
        self.unpin_beyond(MAX_KEEP_PINNED);
        result
    }

    /// Keeps the newest `count` finalized blocks pinned (1 to [`MAX_KEEP_PINNED`]), so that
    /// recent blocks stay readable on transports that serve pinned blocks only (smoldot-light):
    /// what an audit of an epoch a few blocks back needs.
    pub fn keep_pinned(&mut self, count: usize) {
        self.keep_pinned = count.clamp(1, MAX_KEEP_PINNED);
    }

    /// The finalized block numbered `number`: remembered from the follow, or found by walking
    /// parent hashes back from the oldest remembered block, each header checked to hash to the
    /// hash its child names. Fails in words where the transport no longer holds the block
    /// (smoldot-light serves only pinned blocks; verified RPC keeps a few hundred).
    pub async fn finalized_block(&mut self, number: u64) -> Result<BlockRef, ClientError> {
        const METHOD: &str = "chainHead_v1_header";
        let newest = self.read_block()?;
        if number > newest.number {
            return Err(ClientError::Inaccessible {
                method: METHOD.into(),
                why: format!(
                    "block {number} is not finalized yet (finalized: {})",
                    newest.number
                ),
            });
        }
        let too_old = |why: String| {
            ClientError::NotHeld(format!(
                "block {number} is older than what this transport still holds ({why})"
            ))
        };
        let kept = self.transport.kept_unpinned();
        if kept > 0 && newest.number - number >= kept.min(RECENT_KEPT as u64) {
            return Err(too_old(format!(
                "it keeps the last {} proven blocks",
                kept.min(RECENT_KEPT as u64)
            )));
        }
        loop {
            let Some(oldest) = self.recent.front().cloned() else {
                return Err(ClientError::NotSynced);
            };
            if number >= oldest.number {
                let offset = usize::try_from(number - oldest.number).unwrap_or(usize::MAX);
                let block = self
                    .recent
                    .get(offset)
                    .cloned()
                    .ok_or(ClientError::NotSynced)?;
                if kept == 0 && !self.follow.pinned_finalized.contains(&block.hash) {
                    return Err(too_old(format!(
                        "it serves pinned blocks only: the last {} finalized",
                        self.keep_pinned
                    )));
                }
                return Ok(block);
            }
            if kept == 0 {
                return Err(too_old(format!(
                    "the oldest remembered is {}",
                    oldest.number
                )));
            }
            let header = match self.header_if_held(&oldest.hash).await {
                Ok(Some(header)) => header,
                Ok(None) => return Err(too_old(format!("no header for block {}", oldest.number))),
                Err(ClientError::Rpc { message, .. }) => return Err(too_old(message)),
                Err(other) => return Err(other),
            };
            if u64::from(header.number) != oldest.number {
                return Err(malformed(
                    METHOD,
                    "a header that is not the block asked for",
                ));
            }
            let Some(number) = oldest.number.checked_sub(1) else {
                return Err(too_old("the oldest remembered is the genesis".into()));
            };
            self.recent.push_front(BlockRef {
                number,
                hash: to_hex(&header.parent_hash),
            });
        }
    }

    /// The runtime whose proven `:code` hashes to `code_hash`, as its own `Core_version` says at
    /// block `at` (run once per code).
    pub async fn runtime_of(
        &mut self,
        at: &BlockRef,
        code_hash: [u8; 32],
    ) -> Result<RuntimeSpec, ClientError> {
        if let Some(spec) = self.versions.get(&code_hash) {
            return Ok(spec.clone());
        }
        let bytes = self.call(&at.hash, "Core_version", &[]).await?;
        let spec = RuntimeSpec::decode_core_version(&bytes).map_err(|e| {
            ClientError::Runtime(format!("Core_version at block {}: {e}", at.number))
        })?;
        self.versions.insert(code_hash, spec.clone());
        Ok(spec)
    }

    /// The (verified) header of a readable block, checked to hash to `hash`; `None` where the
    /// transport has no header for it.
    async fn header_if_held(&mut self, hash: &str) -> Result<Option<Header>, ClientError> {
        const METHOD: &str = "chainHead_v1_header";
        let subscription = self.subscription()?;
        let answer = self.request(METHOD, json!([subscription, hash])).await?;
        let Some(text) = answer.as_str() else {
            return Ok(None);
        };
        let bytes = from_hex(text).map_err(|e| malformed(METHOD, e))?;
        let header = Header::decode(&bytes).map_err(|e| malformed(METHOD, e.0))?;
        if to_hex(&header.hash) != hash {
            return Err(malformed(
                METHOD,
                "a header that is not the block asked for",
            ));
        }
        Ok(Some(header))
    }

    /// The (verified) header of a readable block.
    async fn header(&mut self, hash: &str) -> Result<Header, ClientError> {
        self.header_if_held(hash)
            .await?
            .ok_or_else(|| malformed("chainHead_v1_header", "no header for a readable block"))
    }

    /// The number of a pinned block, from its (verified) header.
    async fn block_ref(&mut self, hash: &str) -> Result<BlockRef, ClientError> {
        // Up the parent links to a block whose number is known (a header read where none is):
        // a block announced under a long read may be unpinned before its events are turned
        // into ChainEvents, and its header with it.
        let mut line = vec![hash.to_string()];
        let mut known = None;
        loop {
            let last = line.last().cloned().unwrap_or_default();
            if let Some(&number) = self.follow.numbers.get(&last) {
                known = Some(number);
                break;
            }
            match self.follow.parents.get(&last) {
                Some(parent) if line.len() < NUMBERS_KEPT => line.push(parent.clone()),
                _ => break,
            }
        }
        let top = match known {
            Some(number) => number,
            None => {
                let oldest = line.last().cloned().unwrap_or_default();
                u64::from(self.header(&oldest).await?.number)
            }
        };
        let depth = line.len() as u64 - 1;
        for (below, block) in line.into_iter().rev().enumerate() {
            self.follow.numbers.insert(block, top + below as u64);
        }
        Ok(BlockRef {
            number: top + depth,
            hash: hash.to_string(),
        })
    }

    /// Waits for the next event of `operation`.
    async fn operation_event(&mut self, operation: &str) -> Result<Value, ClientError> {
        loop {
            if let Some(event) = self
                .operations
                .get_mut(operation)
                .and_then(VecDeque::pop_front)
            {
                return Ok(event);
            }
            if self.stopped {
                self.operations.remove(operation);
                return Err(ClientError::Restarted);
            }
            self.pump().await?;
        }
    }

    /// Starts an operation; `None` when the client has too many running (try again later).
    async fn start_operation(
        &mut self,
        method: &str,
        params: Value,
    ) -> Result<Option<(String, u64)>, ClientError> {
        let answer = self.request(method, params).await?;
        match answer["result"].as_str() {
            Some("started") => {
                let operation = answer["operationId"]
                    .as_str()
                    .ok_or_else(|| malformed(method, "started without an operationId"))?;
                let discarded = answer["discardedItems"].as_u64().unwrap_or(0);
                // Events that came before the answer were dropped as nobody's: smoldot sends
                // the answer first.
                self.operations.entry(operation.to_string()).or_default();
                Ok(Some((operation.to_string(), discarded)))
            }
            Some("limitReached") => Ok(None),
            _ => Err(malformed(method, format!("{answer}"))),
        }
    }

    /// Gives up on every read in flight (after its future was dropped, e.g. on a timeout): its
    /// operations are stopped and its answers, when they come, dropped. The client stays usable.
    pub fn abandon(&mut self) {
        self.held.clear();
        self.awaited.clear();
        self.answers.clear();
        let running: Vec<String> = self.operations.keys().cloned().collect();
        self.stop_operations(running);
    }

    /// Reads `reads` at the pinned block `at`: values with their proofs checked by the
    /// transport. Absent keys are not in the result.
    pub async fn storage(&mut self, at: &str, reads: &Reads) -> Result<Fetched, ClientError> {
        self.holding(&[at], async |client| client.storage_held(at, reads).await)
            .await
    }

    async fn storage_held(&mut self, at: &str, reads: &Reads) -> Result<Fetched, ClientError> {
        self.still_pinned(at)?;
        let mut items: VecDeque<Value> = reads
            .keys
            .iter()
            .map(|k| json!({"key": to_hex(k), "type": "value"}))
            .chain(
                reads
                    .prefixes
                    .iter()
                    .map(|p| json!({"key": to_hex(p), "type": "descendantsValues"})),
            )
            .collect();
        let mut running = Vec::new();
        let mut fetched = Fetched::new();
        let read = self
            .read_items(at, &mut items, &mut running, &mut fetched)
            .await;
        if read.is_err() {
            // The others would still fill the operation slots the next reads need.
            self.stop_operations(running);
        }
        read.map(|()| fetched)
    }

    /// Runs `items` as storage operations, up to [`STORAGE_OPERATIONS_AT_ONCE`] at a time,
    /// until all are done. `running` holds the operations started and not yet done.
    async fn read_items(
        &mut self,
        at: &str,
        items: &mut VecDeque<Value>,
        running: &mut Vec<String>,
        fetched: &mut Fetched,
    ) -> Result<(), ClientError> {
        const METHOD: &str = "chainHead_v1_storage";
        let per_operation = self.transport.storage_items_per_operation().max(1);
        while !items.is_empty() || !running.is_empty() {
            while !items.is_empty() && running.len() < STORAGE_OPERATIONS_AT_ONCE {
                let batch: Vec<&Value> = items.iter().take(per_operation).collect();
                let count = batch.len();
                let params = json!([self.subscription()?, at, batch, null]);
                let Some((operation, discarded)) = self.start_operation(METHOD, params).await?
                else {
                    break;
                };
                let started =
                    count.saturating_sub(usize::try_from(discarded).unwrap_or(usize::MAX));
                items.drain(..started);
                running.push(operation);
                if started == 0 {
                    break;
                }
            }
            if running.is_empty() {
                // Nothing of ours runs and the chain takes no more: waiting frees nothing.
                return Err(ClientError::Busy(
                    "the light client takes no more storage reads on this subscription".into(),
                ));
            }
            let (operation, event) = self.any_operation_event(running).await?;
            match event["event"].as_str() {
                Some("operationStorageItems") => {
                    for item in event["items"].as_array().into_iter().flatten() {
                        let (Some(key), Some(value)) =
                            (item["key"].as_str(), item["value"].as_str())
                        else {
                            continue;
                        };
                        let key = from_hex(key).map_err(|e| malformed(METHOD, e))?;
                        let value = from_hex(value).map_err(|e| malformed(METHOD, e))?;
                        fetched.insert(key, value);
                    }
                }
                Some("operationWaitingForContinue") => {
                    let subscription = self.subscription()?;
                    self.request("chainHead_v1_continue", json!([subscription, operation]))
                        .await?;
                }
                Some("operationStorageDone") => {
                    running.retain(|o| *o != operation);
                    self.operations.remove(&operation);
                }
                Some(other) => return Err(operation_failed(METHOD, other, &event)),
                None => return Err(malformed(METHOD, "an event without a name")),
            }
        }
        Ok(())
    }

    /// Waits for the next event of any of `operations`.
    async fn any_operation_event(
        &mut self,
        operations: &[String],
    ) -> Result<(String, Value), ClientError> {
        loop {
            for operation in operations {
                if let Some(event) = self
                    .operations
                    .get_mut(operation)
                    .and_then(VecDeque::pop_front)
                {
                    return Ok((operation.clone(), event));
                }
            }
            if self.stopped {
                for operation in operations {
                    self.operations.remove(operation);
                }
                return Err(ClientError::Restarted);
            }
            self.pump().await?;
        }
    }

    /// Stops `operations` and drops their answers.
    fn stop_operations(&mut self, operations: Vec<String>) {
        for operation in operations {
            self.operations.remove(&operation);
            if let Some(subscription) = self.follow.subscription.clone() {
                let _ = self.send(
                    "chainHead_v1_stopOperation",
                    json!([subscription, operation]),
                );
            }
        }
    }

    /// Calls the runtime function `function` with SCALE `params` at the pinned block `at`;
    /// the output is proven by the transport.
    pub async fn call(
        &mut self,
        at: &str,
        function: &str,
        params: &[u8],
    ) -> Result<Vec<u8>, ClientError> {
        const METHOD: &str = "chainHead_v1_call";
        loop {
            let subscription = self.subscription()?;
            let request = json!([subscription, at, function, to_hex(params)]);
            let Some((operation, _)) = self.start_operation(METHOD, request).await? else {
                self.pump().await?;
                continue;
            };
            let event = self.operation_event(&operation).await?;
            self.operations.remove(&operation);
            return match event["event"].as_str() {
                Some("operationCallDone") => event["output"]
                    .as_str()
                    .ok_or_else(|| malformed(METHOD, "no output"))
                    .and_then(|o| from_hex(o).map_err(|e| malformed(METHOD, e))),
                Some(other) => Err(operation_failed(METHOD, other, &event)),
                None => Err(malformed(METHOD, "an event without a name")),
            };
        }
    }

    /// The blake2-256 of the `:code` in force at the pinned block `at`, through a proof (read
    /// once per runtime): what the runtime's metadata is kept under.
    pub async fn code_hash(&mut self, at: &str) -> Result<[u8; 32], ClientError> {
        if let Some(hash) = self.code_hash {
            return Ok(hash);
        }
        let hash = self.code_hash_at(at).await?;
        self.code_hash = Some(hash);
        Ok(hash)
    }

    /// The blake2-256 of the `:code` at block `at`, read through a proof every time (for blocks
    /// that may be of another runtime than the one in force).
    pub async fn code_hash_at(&mut self, at: &str) -> Result<[u8; 32], ClientError> {
        const METHOD: &str = "chainHead_v1_storage";
        let items = json!([{ "key": to_hex(b":code"), "type": "hash" }]);
        let hash = loop {
            let subscription = self.subscription()?;
            let params = json!([subscription, at, items, null]);
            let Some((operation, _)) = self.start_operation(METHOD, params).await? else {
                self.pump().await?;
                continue;
            };
            let mut found = None;
            loop {
                let event = self.operation_event(&operation).await?;
                match event["event"].as_str() {
                    Some("operationStorageItems") => {
                        found = event["items"]
                            .as_array()
                            .and_then(|items| items.first())
                            .and_then(|item| item["hash"].as_str())
                            .map(crate::hex::from_hex_array::<32>)
                            .transpose()
                            .map_err(|e| malformed(METHOD, e))?;
                    }
                    Some("operationWaitingForContinue") => {
                        let subscription = self.subscription()?;
                        self.request("chainHead_v1_continue", json!([subscription, operation]))
                            .await?;
                    }
                    Some("operationStorageDone") => break,
                    Some(other) => return Err(operation_failed(METHOD, other, &event)),
                    None => return Err(malformed(METHOD, "an event without a name")),
                }
            }
            self.operations.remove(&operation);
            break found.ok_or_else(|| ClientError::Runtime("the state has no :code".into()))?;
        };
        Ok(hash)
    }

    /// The metadata of the runtime in force at the finalized block, read once per runtime
    /// (from a runtime call the transport proves), kept by the hash of its proven code.
    pub async fn metadata(&mut self, at: &str) -> Result<Rc<Metadata>, ClientError> {
        if self.runtime.is_none() {
            return Err(ClientError::NotSynced);
        }
        let code_hash = self.code_hash(at).await?;
        self.metadata_of(at, code_hash).await
    }

    /// The metadata of the runtime in force at block `at`, which may be an older one than the
    /// runtime in force now (an audit reads each block with its own runtime's layouts).
    pub async fn metadata_at(&mut self, at: &str) -> Result<Rc<Metadata>, ClientError> {
        let code_hash = self.code_hash_at(at).await?;
        self.metadata_of(at, code_hash).await
    }

    /// The metadata of the runtime whose proven code at block `at` hashes to `code_hash`:
    /// read from the runtime itself once per runtime and client. Bytes kept from an earlier run
    /// ([`BittensorClient::remember_metadata`]) are the browser's, hostile until checked: they
    /// are compared with the runtime's before their first use, and replaced where they differ.
    async fn metadata_of(
        &mut self,
        at: &str,
        code_hash: [u8; 32],
    ) -> Result<Rc<Metadata>, ClientError> {
        self.confirm_of(at, code_hash).await?;
        self.metadata
            .get(&code_hash)
            .map(|(metadata, _)| metadata.clone())
            .ok_or_else(|| ClientError::Runtime("its metadata was not kept".into()))
    }

    /// Makes the metadata kept for `code_hash` the runtime's own (read at `at`); `Ok(true)`
    /// where it already was (or had been checked before).
    async fn confirm_of(&mut self, at: &str, code_hash: [u8; 32]) -> Result<bool, ClientError> {
        if self.confirmed_metadata.contains(&code_hash) {
            return Ok(true);
        }
        let bytes = self.fetch_metadata(at).await?;
        let same = self
            .metadata
            .get(&code_hash)
            .is_some_and(|(_, kept)| **kept == bytes);
        if !same {
            self.remember_metadata(code_hash, bytes)?;
        }
        self.confirmed_metadata.insert(code_hash);
        Ok(same)
    }

    /// The metadata bytes of the runtime at block `at`, through proven runtime calls: V15
    /// where the runtime offers it (its Metadata API at version 2 or later: V15 adds the
    /// runtime APIs' signatures, for quotes, stake info and fees), V14 otherwise. A failure to
    /// get V15 from a runtime that offers it is an error, not a quiet V14: that would be kept.
    async fn fetch_metadata(&mut self, at: &str) -> Result<Vec<u8>, ClientError> {
        let v14 = self.call(at, "Metadata_metadata", &[]).await?;
        let metadata = Metadata::decode(&v14)
            .map_err(|e| ClientError::Runtime(format!("its metadata: {e}")))?;
        if metadata.version < 15 && metadata.api_version("Metadata").is_some_and(|v| v >= 2) {
            let v15 = self
                .call(at, "Metadata_metadata_at_version", &15u32.to_le_bytes())
                .await?;
            // `None` (not offered after all), or a V15 this build cannot read: V14 serves.
            if Metadata::decode(&v15).is_ok() {
                return Ok(v15);
            }
        }
        Ok(v14)
    }

    /// Whether the metadata kept for the runtime at block `at` was its own: checks it now if it
    /// was not checked yet (it is before any use: [`BittensorClient::metadata`]).
    pub async fn confirm_metadata(&mut self, at: &str) -> Result<bool, ClientError> {
        let code_hash = self.code_hash_at(at).await?;
        self.confirm_of(at, code_hash).await
    }

    /// Keeps `bytes` as the metadata of the runtime whose proven `:code` hashes to `code_hash`:
    /// what [`BittensorClient::metadata`] read on an earlier run (the caller's cache). They are
    /// not trusted: the first use compares them with what the runtime itself answers.
    pub fn remember_metadata(
        &mut self,
        code_hash: [u8; 32],
        bytes: Vec<u8>,
    ) -> Result<Rc<Metadata>, ClientError> {
        let metadata = Rc::new(
            Metadata::decode(&bytes)
                .map_err(|e| ClientError::Runtime(format!("its metadata: {e}")))?,
        );
        self.metadata
            .insert(code_hash, (metadata.clone(), Rc::new(bytes)));
        self.confirmed_metadata.remove(&code_hash);
        Ok(metadata)
    }

    /// The metadata bytes of the runtime with this code hash, if this client has read them, for
    /// the caller to keep.
    pub fn metadata_bytes(&self, code_hash: &[u8; 32]) -> Option<Rc<Vec<u8>>> {
        self.metadata.get(code_hash).map(|(_, bytes)| bytes.clone())
    }

    /// The hash of the `:code` in force, once read.
    pub fn known_code_hash(&self) -> Option<[u8; 32]> {
        self.code_hash
    }

    /// The finalized block to read at, or `NotSynced`.
    pub fn read_block(&self) -> Result<BlockRef, ClientError> {
        self.finalized.clone().ok_or(ClientError::NotSynced)
    }

    /// Every subnet at the pinned block `at`.
    pub async fn subnets(&mut self, at: &str) -> Result<Vec<SubnetSummary>, ClientError> {
        let metadata = self.metadata(at).await?;
        let listed = self
            .storage(at, &metagraph::subnets_reads(&metadata)?)
            .await?;
        let netuids = metagraph::netuids(&metadata, &listed)?;
        let state = self
            .storage(at, &metagraph::subnet_reads(&metadata, &netuids)?)
            .await?;
        Ok(metagraph::subnet_summaries(&metadata, &state, &netuids)?)
    }

    /// The metagraph of `netuid` at the pinned block `at`.
    pub async fn metagraph(&mut self, at: &str, netuid: u16) -> Result<Metagraph, ClientError> {
        let metadata = self.metadata(at).await?;
        let mut state = self
            .storage(at, &metagraph::metagraph_reads(&metadata, netuid)?)
            .await?;
        let hotkeys = metagraph::hotkeys(&metadata, &state, netuid)?;
        let stakes = self
            .storage(at, &metagraph::stake_reads(&metadata, netuid, &hotkeys)?)
            .await?;
        state.extend(stakes);
        Ok(metagraph::metagraph(&metadata, &state, netuid)?)
    }

    /// The last `count` epoch blocks of subnet `netuid` up to the finalized block, newest first,
    /// found from the chain's own state (see [`BittensorClient::latest_epoch`] and
    /// [`BittensorClient::epoch_before`]; never a tempo guess). Stops early, with the reason,
    /// where the transport holds no older block.
    pub async fn epoch_blocks(
        &mut self,
        netuid: u16,
        count: usize,
    ) -> Result<(Vec<u64>, Option<String>), ClientError> {
        let mut found = Vec::new();
        let mut step = self.latest_epoch(netuid).await?;
        while step != 0 && found.len() < count {
            found.push(step);
            if found.len() == count {
                break;
            }
            step = match self.epoch_before(netuid, step).await {
                Ok(step) => step,
                Err(ClientError::NotHeld(why)) => return Ok((found, Some(why))),
                Err(other) => return Err(other),
            };
        }
        Ok((found, None))
    }

    /// The newest epoch block of subnet `netuid` up to the finalized block (0: no epoch yet):
    /// the last step block stored at the finalized block.
    pub async fn latest_epoch(&mut self, netuid: u16) -> Result<u64, ClientError> {
        let at = self.read_block()?;
        self.step_at(&at, netuid).await
    }

    /// The epoch block of subnet `netuid` before the epoch block `epoch` (0: none): the last
    /// step block stored at `epoch − 1`. Finalized blocks do not change, so a caller walking
    /// back may keep the answer.
    pub async fn epoch_before(&mut self, netuid: u16, epoch: u64) -> Result<u64, ClientError> {
        if epoch == 0 {
            return Ok(0);
        }
        let at = self.finalized_block(epoch - 1).await?;
        self.step_at(&at, netuid).await
    }

    /// The last step stored at `at`, 0 where none. A step after the block it was read at
    /// would be a lie of the state, which proofs rule out; reading it as none keeps every walk
    /// strictly going back anyway.
    async fn step_at(&mut self, at: &BlockRef, netuid: u16) -> Result<u64, ClientError> {
        let step = self.last_step_at(&at.hash, netuid).await?;
        Ok(if step > at.number { 0 } else { step })
    }

    /// `LastMechansimStepBlock[netuid]` at the pinned block `at`.
    async fn last_step_at(&mut self, at: &str, netuid: u16) -> Result<u64, ClientError> {
        let metadata = self.metadata_at(at).await?;
        let key = crate::storage::key(
            &metadata,
            "SubtensorModule",
            "LastMechansimStepBlock",
            &[json!(netuid)],
        )?;
        let reads = Reads {
            keys: vec![key],
            prefixes: Vec::new(),
        };
        let state = self.storage(at, &reads).await?;
        Ok(crate::epoch_v103::last_step(&metadata, &state, netuid)?)
    }

    /// Audits subnet `netuid`'s epoch at finalized block `epoch` (an epoch block, e.g. from
    /// [`BittensorClient::epoch_blocks`]): its input read at `epoch − 1` and its stored results
    /// at `epoch`, both through proofs, each with its own runtime's metadata, recomputed with the
    /// algorithm of the runtime that ran it (see [`crate::audit`]). `what_if` changes inputs on
    /// purpose (empty for an audit).
    pub async fn audit_epoch(
        &mut self,
        netuid: u16,
        epoch: u64,
        what_if: &[crate::audit::WhatIf],
    ) -> Result<crate::audit::EpochAudit, ClientError> {
        let block = self.finalized_block(epoch).await?;
        let input_block = self.finalized_block(epoch.saturating_sub(1)).await?;
        let both = [input_block.hash.as_str(), block.hash.as_str()];
        self.holding(&both, async |client| {
            client
                .audit_held(netuid, &block, &input_block, what_if)
                .await
        })
        .await
    }

    /// [`BittensorClient::audit_epoch`] of the epoch at `block`, both blocks held pinned.
    async fn audit_held(
        &mut self,
        netuid: u16,
        block: &BlockRef,
        input_block: &BlockRef,
        what_if: &[crate::audit::WhatIf],
    ) -> Result<crate::audit::EpochAudit, ClientError> {
        self.still_pinned(&input_block.hash)?;
        // The code that ran the epoch is the one in force after B − 1; had it changed at B − 1,
        // B would run the upgrade's migrations before the epoch, so B − 1's state would not be
        // the epoch's input, and had it changed at B, B's state would be read with the wrong
        // layouts. Such epochs are refused rather than half-audited (a block that changed the
        // code says so in its header's digest, which hashes into the proven block hash).
        // B − 1 is B's parent, by B's own (verified) header.
        if to_hex(&self.header(&block.hash).await?.parent_hash) != input_block.hash {
            return Err(ClientError::Malformed {
                method: "chainHead_v1_header".into(),
                why: format!(
                    "block #{} is not the parent of epoch block #{}",
                    input_block.number, block.number
                ),
            });
        }
        for at in [input_block, block] {
            if self.header(&at.hash).await?.runtime_updated() {
                return Err(ClientError::Audit(crate::audit::AuditError::Upgrade(
                    block.number,
                )));
            }
        }
        let code_before = self.code_hash_at(&input_block.hash).await?;
        let runtime = self.runtime_of(input_block, code_before).await?;
        crate::audit::algorithm(&runtime).map_err(ClientError::Audit)?;
        let metadata_before = self.metadata_of(&input_block.hash, code_before).await?;
        let metadata_after = self.metadata_at(&block.hash).await?;
        let before = self
            .storage(
                &input_block.hash,
                &crate::epoch_v103::subnet_reads(&metadata_before, netuid)?,
            )
            .await?;
        let after = self
            .storage(
                &block.hash,
                &crate::epoch_v103::subnet_reads(&metadata_after, netuid)?,
            )
            .await?;
        crate::audit::audit_epoch(
            crate::audit::EpochStates {
                before: (&metadata_before, &before),
                after: (&metadata_after, &after),
            },
            netuid,
            block,
            input_block,
            &runtime,
            what_if,
        )
        .map_err(ClientError::Audit)
    }

    /// What each validator of `audit`'s epoch was paid (see [`crate::yields`]): take, owner,
    /// stakers and stake proven at the epoch block, beside the audited emission.
    pub async fn epoch_payouts(
        &mut self,
        audit: &crate::audit::EpochAudit,
    ) -> Result<crate::yields::EpochPayouts, ClientError> {
        if !audit.what_if.is_empty() {
            // Refused before anything is read (the pure reader refuses it too).
            return Err(crate::yields::epoch_payouts_refused());
        }
        let at = audit.block.hash.clone();
        self.holding(&[at.as_str()], async |client| {
            client.still_pinned(&at)?;
            let metadata = client.metadata_at(&at).await?;
            let reads = crate::yields::payout_reads(&metadata, audit)?;
            let state = client.storage(&at, &reads).await?;
            Ok(crate::yields::epoch_payouts(&metadata, &state, audit)?)
        })
        .await
    }

    /// The block time of the runtime in force at the finalized block (see
    /// [`crate::yields::block_time_ms`]).
    pub async fn block_time_ms(&mut self) -> Result<u64, ClientError> {
        let at = self.read_block()?;
        let metadata = self.metadata_at(&at.hash).await?;
        crate::yields::block_time_ms(&metadata).ok_or_else(|| ClientError::Malformed {
            method: "metadata".into(),
            why: "the runtime has no Timestamp.MinimumPeriod: its block time is unknown".into(),
        })
    }

    /// One storage value, `pallet.entry` at `keys`, at the pinned block `at`, through a proof,
    /// decoded with `metadata` (the default where the state has none).
    async fn read_value(
        &mut self,
        at: &str,
        metadata: &Metadata,
        pallet: &str,
        entry: &str,
        keys: &[Value],
    ) -> Result<Value, ClientError> {
        let key = crate::storage::key(metadata, pallet, entry, keys)?;
        let state = self
            .storage(
                at,
                &Reads {
                    keys: vec![key.clone()],
                    prefixes: Vec::new(),
                },
            )
            .await?;
        Ok(crate::storage::read(
            metadata,
            pallet,
            entry,
            state.get(&key).map(Vec::as_slice),
        )?)
    }

    /// `System.Account` of `address` (SS58) at the pinned block `at`: nonce and balances.
    /// Read by field name, since runtimes lay `AccountData` out differently (spec 103 has
    /// `misc_frozen` and `fee_frozen`, today's runtime `frozen` and `flags`).
    pub async fn account(&mut self, at: &str, address: &str) -> Result<Account, ClientError> {
        let metadata = self.metadata(at).await?;
        let value = self
            .read_value(at, &metadata, "System", "Account", &[json!(address)])
            .await?;
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(&value, |v, name| v.get(name))
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    ClientError::Storage(format!(
                        "System.Account has no {} this build reads",
                        path.join(".")
                    ))
                })
        };
        Ok(Account {
            nonce: u32::try_from(field(&["nonce"])?).unwrap_or(u32::MAX),
            free: field(&["data", "free"])?,
            reserved: field(&["data", "reserved"])?,
        })
    }

    /// The stake positions of `coldkey` (SS58) at the pinned block `at`.
    pub async fn stake_positions(
        &mut self,
        at: &str,
        coldkey: &str,
    ) -> Result<Vec<metagraph::StakePosition>, ClientError> {
        let metadata = self.metadata(at).await?;
        if metadata.storage("SubtensorModule", "Stake").is_some() {
            let state = self
                .storage(at, &metagraph::stake_positions_reads(&metadata)?)
                .await?;
            return Ok(metagraph::stake_positions(&metadata, &state, coldkey)?);
        }
        // Since dynamic TAO, stake is alpha shares per hotkey, coldkey and subnet; the runtime's
        // own accounting (share pools in fixed point) turns them into amounts, so it is asked,
        // on proven state, rather than redone here.
        let infos = self
            .runtime_api(
                at,
                &metadata,
                "StakeInfoRuntimeApi",
                "get_stake_info_for_coldkey",
                &[json!(coldkey)],
            )
            .await?;
        let infos = infos.as_array().ok_or_else(|| {
            ClientError::Storage(format!("StakeInfoRuntimeApi gave {infos}, not a list"))
        })?;
        let mut positions = metagraph::stake_positions_from_info(infos)?;
        for position in &mut positions {
            // The root subnet's stake is TAO; the others' is priced by a simulated sale.
            let Some(netuid) = position.netuid.filter(|&n| n != 0) else {
                continue;
            };
            let quote = self
                .runtime_api(
                    at,
                    &metadata,
                    "SwapRuntimeApi",
                    "sim_swap_alpha_for_tao",
                    &[json!(netuid), json!(position.stake)],
                )
                .await;
            position.tao_value = quote.ok().and_then(|q| q["tao_amount"].as_u64());
        }
        Ok(positions)
    }

    /// Runtime API `api.method(args)` run on the proven state of the pinned block `at`, its
    /// arguments and result by the runtime's V15 types.
    pub async fn runtime_api(
        &mut self,
        at: &str,
        metadata: &Metadata,
        api: &str,
        method: &str,
        args: &[Value],
    ) -> Result<Value, ClientError> {
        let runtime_error =
            |e: crate::runtime_api::RuntimeApiError| ClientError::Runtime(e.to_string());
        let request =
            crate::runtime_api::request(metadata, api, method, args).map_err(runtime_error)?;
        let output = self.call(at, &request.method, &request.data).await?;
        crate::runtime_api::decode(metadata, api, method, &output).map_err(runtime_error)
    }

    /// Submits a signed extrinsic and follows it; read what happens with
    /// [`BittensorClient::transaction_event`]. Returns the watch's subscription.
    pub async fn submit_and_watch(&mut self, extrinsic: &[u8]) -> Result<String, ClientError> {
        const METHOD: &str = "transactionWatch_v1_submitAndWatch";
        let subscription = self.request(METHOD, json!([to_hex(extrinsic)])).await?;
        let subscription = subscription
            .as_str()
            .ok_or_else(|| malformed(METHOD, "no subscription id"))?
            .to_string();
        self.transactions.entry(subscription.clone()).or_default();
        Ok(subscription)
    }

    /// The next event of a watched transaction (waits for it). After a final one the watch is
    /// over.
    pub async fn transaction_event(
        &mut self,
        subscription: &str,
    ) -> Result<TransactionEvent, ClientError> {
        loop {
            let Some(events) = self.transactions.get_mut(subscription) else {
                return Err(ClientError::Malformed {
                    method: TRANSACTION_EVENT.into(),
                    why: format!("no watched transaction {subscription}"),
                });
            };
            if let Some(event) = events.pop_front() {
                if event.is_final() {
                    self.transactions.remove(subscription);
                }
                return Ok(event);
            }
            self.pump().await?;
        }
    }

    /// The next event of a watched transaction if one has come (no waiting: the caller pumps).
    pub fn take_transaction_event(&mut self, subscription: &str) -> Option<TransactionEvent> {
        let event = self.transactions.get_mut(subscription)?.pop_front()?;
        if event.is_final() {
            self.transactions.remove(subscription);
        }
        Some(event)
    }

    /// Stops keeping the events of a watched transaction.
    pub fn forget_transaction(&mut self, subscription: &str) {
        self.transactions.remove(subscription);
    }

    /// What became of the call of the extrinsic at `index` of block `at` (pinned), read
    /// through a proof of `System.Events` at that block: whether the runtime says it succeeded
    /// (or its dispatch error in words), and every event it emitted.
    pub async fn extrinsic_outcome(
        &mut self,
        at: &str,
        index: u32,
    ) -> Result<ExtrinsicOutcome, ClientError> {
        // A block that sets a new runtime was built, and its events written, by the old one:
        // they read by its parent's metadata.
        let header = self.header(at).await?;
        let metadata = if header.runtime_updated() {
            let parent = to_hex(&header.parent_hash);
            let code_hash = self.code_hash_at(&parent).await?;
            self.metadata_of(&parent, code_hash).await?
        } else {
            self.metadata_at(at).await?
        };
        let records = self
            .read_value(at, &metadata, "System", "Events", &[])
            .await?;
        let mut events = Vec::new();
        let mut result = None;
        for record in records.as_array().into_iter().flatten() {
            if record["phase"] != "ApplyExtrinsic"
                || record["extrinsic_idx"].as_u64() != Some(u64::from(index))
            {
                continue;
            }
            let (pallet, name) = (
                record["module_id"].as_str().unwrap_or_default(),
                record["event_id"].as_str().unwrap_or_default(),
            );
            match (pallet, name) {
                ("System", "ExtrinsicSuccess") => result = Some(Ok(())),
                ("System", "ExtrinsicFailed") => {
                    result = Some(Err(dispatch_error_words(
                        &metadata,
                        &record["attributes"]["dispatch_error"],
                    )));
                }
                _ => {}
            }
            events.push(ExtrinsicEvent {
                name: format!("{pallet}.{name}"),
                attributes: record["attributes"].clone(),
            });
        }
        let result = result.ok_or_else(|| {
            ClientError::Storage(format!(
                "the events of block {at} say nothing of extrinsic {index}"
            ))
        })?;
        Ok(ExtrinsicOutcome { result, events })
    }

    /// Peers the transport is connected to (`system_health`).
    pub async fn peers(&mut self) -> Result<u64, ClientError> {
        let health = self.request("system_health", json!([])).await?;
        health["peers"]
            .as_u64()
            .ok_or_else(|| malformed("system_health", "no peer count"))
    }
}

/// The runtime's reason for refusing a transaction, with what it means for the person who sent
/// it (smoldot passes the runtime's `InvalidTransaction` variant name).
pub fn explain_invalid(reason: &str) -> String {
    const MEANINGS: [(&str, &str); 8] = [
        (
            "Stale",
            "its nonce was already used: the account sent a transaction since",
        ),
        (
            "Future",
            "its nonce is ahead of the account's: an earlier one is missing",
        ),
        ("Payment", "the account cannot pay the fee"),
        (
            "BadProof",
            "the signature does not match the account and the payload",
        ),
        (
            "AncientBirthBlock",
            "its era began too long ago: sign it again",
        ),
        ("ExhaustsResources", "the block is full: send it again"),
        ("Call", "the runtime does not allow this call"),
        ("BadSigner", "the runtime does not accept this signer"),
    ];
    match MEANINGS.iter().find(|(name, _)| reason.contains(name)) {
        Some((_, meaning)) => format!("{reason}: {meaning}"),
        None => reason.to_string(),
    }
}

fn operation_failed(method: &str, event: &str, body: &Value) -> ClientError {
    let why = body["error"].as_str().unwrap_or(event).to_string();
    match event {
        "operationInaccessible" => ClientError::Inaccessible {
            method: method.into(),
            why: "no peer could prove it".into(),
        },
        "operationError" => ClientError::Rpc {
            method: method.into(),
            message: why,
        },
        other => malformed(method, format!("unexpected event {other}")),
    }
}

/// Either transport, chosen at run time (the app's network picks one): the same client over
/// both.
#[cfg(any(feature = "native", feature = "browser"))]
pub enum AnyTransport<P: smoldot_light::platform::PlatformRef> {
    P2p(light::LightTransport<P>),
    VerifiedRpc(verified_rpc::VerifiedTransport),
}

#[cfg(any(feature = "native", feature = "browser"))]
impl<P: smoldot_light::platform::PlatformRef> Transport for AnyTransport<P> {
    fn send(&mut self, request: String) -> Result<(), ClientError> {
        match self {
            AnyTransport::P2p(t) => t.send(request),
            AnyTransport::VerifiedRpc(t) => t.send(request),
        }
    }

    async fn next(&mut self) -> Option<String> {
        match self {
            AnyTransport::P2p(t) => t.next().await,
            AnyTransport::VerifiedRpc(t) => t.next().await,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            AnyTransport::P2p(t) => t.name(),
            AnyTransport::VerifiedRpc(t) => t.name(),
        }
    }

    fn kept_unpinned(&self) -> u64 {
        match self {
            AnyTransport::P2p(t) => t.kept_unpinned(),
            AnyTransport::VerifiedRpc(t) => t.kept_unpinned(),
        }
    }

    fn storage_items_per_operation(&self) -> usize {
        match self {
            AnyTransport::P2p(t) => t.storage_items_per_operation(),
            AnyTransport::VerifiedRpc(t) => t.storage_items_per_operation(),
        }
    }
}

/// What the runtime's events say of one extrinsic.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtrinsicOutcome {
    /// `Err`: the dispatch error in words (the fee was paid, the call did nothing).
    pub result: Result<(), String>,
    /// Its events in order, `System.ExtrinsicSuccess`/`Failed` included.
    pub events: Vec<ExtrinsicEvent>,
}

impl ExtrinsicOutcome {
    /// The first event named `name` (`Pallet.Event`), if it emitted one.
    pub fn event(&self, name: &str) -> Option<&Value> {
        self.events
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.attributes)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExtrinsicEvent {
    /// `Pallet.Event`.
    pub name: String,
    /// Its fields as decoded by the runtime's metadata.
    pub attributes: Value,
}

/// A `DispatchError` as decoded from events, in words: a module error by its pallet and name
/// with its documentation (`{"Module": {"index": 7, "error": "0x06000000"}}`, or the older
/// `"error": 6`), anything else as the runtime's JSON.
pub fn dispatch_error_words(metadata: &Metadata, error: &Value) -> String {
    let module = &error["Module"];
    let index = module["index"].as_u64().and_then(|i| u8::try_from(i).ok());
    let bytes = match &module["error"] {
        Value::String(hex) => crate::hex::from_hex(hex).ok(),
        Value::Number(n) => n
            .as_u64()
            .and_then(|e| u8::try_from(e).ok())
            .map(|e| vec![e]),
        _ => None,
    };
    match (index, bytes) {
        (Some(index), Some(bytes)) => metadata
            .module_error(index, &bytes)
            .map_or_else(|| error.to_string(), |e| e.to_string()),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A chain that says nothing by itself: the test files its messages; what the client sends
    /// is recorded.
    struct Scripted(Rc<RefCell<Vec<Value>>>);

    impl Transport for Scripted {
        fn send(&mut self, request: String) -> Result<(), ClientError> {
            let request =
                serde_json::from_str(&request).map_err(|e| malformed("send", e.to_string()))?;
            self.0.borrow_mut().push(request);
            Ok(())
        }
        async fn next(&mut self) -> Option<String> {
            None
        }
        fn name(&self) -> &'static str {
            "scripted"
        }
    }

    fn event(client: &mut BittensorClient<Scripted>, result: Value) {
        let message = json!({"jsonrpc": "2.0", "method": FOLLOW_EVENT,
            "params": {"subscription": "s", "result": result}});
        client.file(&message.to_string());
    }

    /// Under a long read no `events` call comes, yet the follow keeps at most the newest 16
    /// finalized blocks pinned (smoldot-light stops a subscription past 32), except a block a
    /// read holds; a block the window has passed is refused before it is read; block numbers
    /// follow from parents without a header read.
    #[test]
    fn pins_are_kept_as_events_arrive_and_held_blocks_stay() {
        let sent = Rc::new(RefCell::new(Vec::new()));
        let mut client = BittensorClient::new(Scripted(sent.clone())).unwrap();
        client.file(&json!({"jsonrpc": "2.0", "id": 1, "result": "s"}).to_string());
        event(
            &mut client,
            json!({"event": "initialized", "finalizedBlockHashes": ["h0"]}),
        );
        client.follow.numbers.insert("h0".into(), 0); // as the first `events` reads its header
        client.held.push("h3".into());
        for n in 1..=40 {
            event(
                &mut client,
                json!({"event": "newBlock", "blockHash": format!("h{n}"),
                "parentBlockHash": format!("h{}", n - 1)}),
            );
            event(
                &mut client,
                json!({"event": "finalized",
                "finalizedBlockHashes": [format!("h{n}")], "prunedBlockHashes": []}),
            );
        }
        let unpinned: Vec<String> = sent
            .borrow()
            .iter()
            .filter(|r| r["method"] == "chainHead_v1_unpin")
            .flat_map(|r| r["params"][1].as_array().cloned().unwrap_or_default())
            .filter_map(|h| h.as_str().map(str::to_string))
            .collect();
        let pinned = &client.follow.pinned_finalized;
        assert_eq!(pinned.len(), MAX_KEEP_PINNED + 1, "{pinned:?}");
        assert_eq!(
            pinned.front().map(String::as_str),
            Some("h3"),
            "held, so kept"
        );
        assert_eq!(pinned.back().map(String::as_str), Some("h40"));
        assert!(!unpinned.contains(&"h3".to_string()));
        assert!(unpinned.contains(&"h2".to_string()) && unpinned.contains(&"h24".to_string()));
        assert!(matches!(
            client.still_pinned("h2"),
            Err(ClientError::NotHeld(_))
        ));
        assert!(client.still_pinned("h3").is_ok() && client.still_pinned("h40").is_ok());
        assert_eq!(client.follow.numbers.get("h40"), Some(&40));

        // Released, it goes with the next finalized block.
        client.held.clear();
        event(
            &mut client,
            json!({"event": "newBlock", "blockHash": "h41", "parentBlockHash": "h40"}),
        );
        event(
            &mut client,
            json!({"event": "finalized", "finalizedBlockHashes": ["h41"], "prunedBlockHashes": []}),
        );
        assert_eq!(client.follow.pinned_finalized.len(), MAX_KEEP_PINNED);
        assert!(!client.follow.pinned_finalized.contains(&"h3".to_string()));
    }
}
