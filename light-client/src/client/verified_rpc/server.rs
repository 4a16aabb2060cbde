//! The chainHead façade: serves the new JSON-RPC API ([`crate::client::BittensorClient`]'s
//! language) from untrusted legacy endpoints, answering only with what the verified core
//! ([`crate::verified`]) has proven.
//!
//! Three parts, as smoldot splits its sync: the [`Follower`] (pure: the proven chain, what it
//! needs next, the runtime in force), the [`Driver`] (fetches with failover, judges nothing),
//! and this façade (JSON-RPC: the follow subscription, operations, transactions).
//!
//! - Follow: each newly proven block is announced (`newBlock`, `bestBlockChanged`,
//!   `finalized`). Only finalized blocks are served: the best block is the finalized one. A
//!   reader that falls too far behind gets `stop` and follows again.
//! - Storage: each value, absence and prefix page comes with a read proof checked against the
//!   block's proven state root; refused at blocks whose runtime is not known (an upgrade whose
//!   code could not be proven), rather than decoded with the old runtime's metadata.
//! - Calls: run in the runtime compiled from the proven `:code` in force at the block, with a
//!   fuel limit; each value the call reads is proven the same way.
//! - Transactions: judged by that runtime on proven state (`TaggedTransactionQueue`), sent to
//!   every endpoint, and reported final only when found in the body of a proven block, the body
//!   checked against the header's extrinsics root. An endpoint can refuse to pass a
//!   transaction on, or hide it, but cannot make it look included.

use super::TrustReport;
use super::driver::Driver;
use crate::client::endpoints::{Connection, Limits};
use crate::hashing::blake2_256;
use crate::hex::{from_hex, to_hex};
use crate::runtime_spec::RuntimeSpec;
use crate::verified::checkpoint::Checkpoint;
use crate::verified::finality::{FinalityError, VerifiedHeader};
use crate::verified::follower::{FRESH_KEPT, Follower, Fresh};
use crate::verified::runtime::Step;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// Finalized blocks a submitted transaction is looked for in before it is reported dropped
/// (Bittensor wallets sign with a 64-block era; an immortal one may still land later).
const WATCH_BLOCKS: u64 = 256;
/// Transactions watched at once.
const MAX_WATCHED: usize = 64;
/// Proven blocks kept to search for watched transactions, at most.
const UNSEARCHED_KEPT: usize = 4 * WATCH_BLOCKS as usize;

/// A transaction submitted through this transport, looked for in each newly proven block.
struct Watched {
    subscription: String,
    extrinsic: Vec<u8>,
    /// The finalized block when it was sent.
    sent_at: u64,
}

pub struct Server<C> {
    driver: Driver<C>,
    follower: Follower,
    genesis_hash: [u8; 32],
    follow: Option<String>,
    initialized: bool,
    next_operation: u64,
    watched: Vec<Watched>,
    /// Proven blocks whose bodies are still to be searched for watched transactions.
    unsearched: VecDeque<VerifiedHeader>,
    outgoing: VecDeque<String>,
}

impl<C: Connection> Server<C> {
    pub fn new(
        checkpoint: &Checkpoint,
        urls: &[String],
        limits: Limits,
        report: Arc<Mutex<TrustReport>>,
    ) -> Result<Self, FinalityError> {
        Ok(Server {
            driver: Driver::new(urls, limits, report),
            follower: Follower::new(checkpoint)?,
            genesis_hash: checkpoint.genesis_hash,
            follow: None,
            initialized: false,
            next_operation: 1,
            watched: Vec::new(),
            unsearched: VecDeque::new(),
            outgoing: VecDeque::new(),
        })
    }

    /// Messages for the client, in order.
    pub fn take_outgoing(&mut self) -> Vec<String> {
        self.outgoing.drain(..).collect()
    }

    // ---- Finality ----------------------------------------------------------------------

    /// Asks the endpoints for a newer finalized block and proves what they offer, reads the
    /// runtime where it changed, announces what was proven.
    pub async fn poll(&mut self) {
        let error = self.driver.advance(&mut self.follower).await.err();
        self.driver.load_runtime(&mut self.follower).await;
        let fresh = self.follower.take_fresh();
        if !self.watched.is_empty() {
            match &fresh {
                Fresh::Blocks(blocks) => self.unsearched.extend(blocks.iter().cloned()),
                Fresh::Overflowed => self.lost_track(),
            }
            // Bodies that no endpoint gives are not waited for without end.
            let excess = self.unsearched.len().saturating_sub(UNSEARCHED_KEPT);
            self.unsearched.drain(..excess);
        }
        let resume = self
            .follower
            .checkpoint(0, "proven by taoscope from its checkpoint".into())
            .map(|mut c| {
                c.created_at_ms = None;
                c.to_json().to_string()
            });
        self.driver.report(&self.follower, |r| {
            r.last_error = error;
            r.resume_checkpoint = resume;
        });
        self.announce(fresh);
        self.watch_transactions().await;
    }

    /// More blocks were proven at once than are kept: the watched transactions may be in blocks
    /// no longer searchable, so their end is not known here.
    fn lost_track(&mut self) {
        for watched in std::mem::take(&mut self.watched) {
            self.transaction_event(
                &watched.subscription,
                json!({
                    "event": "error",
                    "error": format!(
                        "the client proved more than {FRESH_KEPT} blocks at once and can no \
                         longer search them all: whether the transaction was included is not \
                         known here; check the account's nonce before sending it again"
                    ),
                }),
            );
        }
        self.unsearched.clear();
    }

    /// Tells the follower about newly proven blocks.
    fn announce(&mut self, fresh: Fresh) {
        if self.follow.is_none() {
            return;
        }
        if !self.initialized {
            if self.follower.current_runtime().is_none() {
                // Nothing to serve yet: the runtime is still to be proven (said in the report).
                return;
            }
            let finalized = self.follower.finalized().clone();
            let runtime = self.runtime_json(finalized.number);
            self.initialized = true;
            self.event(json!({
                "event": "initialized",
                "finalizedBlockHashes": [to_hex(&finalized.hash)],
                "finalizedBlockRuntime": runtime,
            }));
            return;
        }
        let blocks = match fresh {
            Fresh::Blocks(blocks) => blocks,
            Fresh::Overflowed => {
                // The reader fell behind what is kept: it follows again from the newest block.
                self.event(json!({ "event": "stop" }));
                self.follow = None;
                self.initialized = false;
                return;
            }
        };
        let Some(last) = blocks.last() else {
            return;
        };
        let last = to_hex(&last.hash);
        for block in &blocks {
            let new_runtime = if block.runtime_updated {
                self.runtime_json(block.number)
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
        self.event(json!({ "event": "bestBlockChanged", "bestBlockHash": last }));
        self.event(json!({
            "event": "finalized",
            "finalizedBlockHashes": blocks.iter().map(|b| to_hex(&b.hash)).collect::<Vec<_>>(),
            "prunedBlockHashes": [],
        }));
    }

    /// The runtime in force at block `number`, as the follow events describe it.
    fn runtime_json(&self, number: u64) -> Value {
        match self.follower.runtime_at(number) {
            Err(why) => json!({ "type": "invalid", "error": why }),
            Ok(runtime) => {
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
        }
    }

    // ---- Runtime calls -------------------------------------------------------------------

    async fn call(
        &mut self,
        block: &VerifiedHeader,
        function: &str,
        parameter: &[u8],
    ) -> Result<Vec<u8>, String> {
        let mut runtime = self.follower.take_runtime(block.number)?;
        let result = async {
            let mut call = runtime
                .call(function, parameter)
                .map_err(|e| e.to_string())?;
            let result = loop {
                match call.step() {
                    Ok(Step::Done(output)) => break Ok(output),
                    Ok(Step::NeedValue(key)) => {
                        match self
                            .driver
                            .read_values(block, std::slice::from_ref(&key))
                            .await
                        {
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
        self.follower.put_runtime(block.number, runtime);
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
        let at = self.follower.finalized().clone();
        if let Err(verdict) = self.validate(&at, &extrinsic).await {
            self.transaction_event(&subscription, verdict);
            return;
        }
        self.transaction_event(&subscription, json!({ "event": "validated" }));
        match self.driver.broadcast(&extrinsic).await {
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

    /// Searches the bodies of newly proven blocks for watched transactions; reports those found
    /// as final, and those not found within [`WATCH_BLOCKS`] as dropped.
    async fn watch_transactions(&mut self) {
        while let Some(block) = self.unsearched.front().cloned() {
            if self.watched.is_empty() {
                self.unsearched.clear();
                break;
            }
            let body = match self.driver.body(&block).await {
                Ok(body) => body,
                // Searched again at the next poll; nothing is reported dropped meanwhile.
                Err(error) => {
                    self.driver
                        .report(&self.follower, |r| r.last_error = Some(error));
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
        let finalized = self.follower.finalized().number;
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

    /// A kept proven block named by a `0x` hash parameter (blocks stay readable whether or not
    /// the reader unpinned them, so tools can read two transports at one block).
    fn pinned(&self, hash: &Value) -> Option<VerifiedHeader> {
        let hash = crate::hex::from_hex_array::<32>(hash.as_str()?).ok()?;
        self.follower.block(&hash).cloned()
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
                self.follow = Some(format!("verified-follow-{}", self.operation()));
                self.initialized = false;
                let subscription = self.follow.clone();
                self.reply(&id, json!(subscription));
                self.driver.load_runtime(&mut self.follower).await;
                self.announce(Fresh::Blocks(Vec::new()));
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
                let reachable = self.driver.connected();
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
                if self.watched.len() >= MAX_WATCHED {
                    self.error(
                        &id,
                        -32800,
                        &format!("{MAX_WATCHED} transactions are watched already"),
                    );
                    return;
                }
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

    /// The items of a `chainHead_v1_storage` request, proven. Refused where the runtime in
    /// force is not known: the reader would decode the values with the wrong metadata.
    async fn storage(
        &mut self,
        block: &VerifiedHeader,
        items: &[Value],
    ) -> Result<Vec<Value>, String> {
        self.follower.readable(block.number)?;
        let mut values = Vec::new();
        let mut hashes = Vec::new();
        let mut prefixes = Vec::new();
        for item in items {
            let key = item["key"]
                .as_str()
                .and_then(|k| from_hex(k).ok())
                .ok_or_else(|| "a storage item whose key is not hex".to_string())?;
            match item["type"].as_str() {
                Some("value") => values.push(key),
                Some("hash") => hashes.push(key),
                Some("descendantsValues") => prefixes.push(key),
                other => return Err(format!("storage item type {other:?} is not served here")),
            }
        }
        let mut found = Vec::new();
        if !values.is_empty() {
            let read = self.driver.read_values(block, &values).await?;
            for (key, value) in values.iter().zip(read) {
                if let Some(value) = value {
                    found.push(json!({ "key": to_hex(key), "value": to_hex(&value) }));
                }
            }
        }
        for key in hashes {
            // The code's hash is known from the runtime compiled from it: no megabytes again.
            let known = (key == b":code")
                .then(|| self.follower.runtime_at(block.number).ok())
                .flatten()
                .map(|runtime| *runtime.code_hash());
            let hash = match known {
                Some(hash) => Some(hash),
                None => self
                    .driver
                    .read_values(block, std::slice::from_ref(&key))
                    .await?
                    .into_iter()
                    .next()
                    .flatten()
                    .map(|value| blake2_256(&value)),
            };
            if let Some(hash) = hash {
                found.push(json!({ "key": to_hex(&key), "hash": to_hex(&hash) }));
            }
        }
        for prefix in prefixes {
            for (key, value) in self.driver.read_prefix(block, &prefix).await? {
                found.push(json!({ "key": to_hex(&key), "value": to_hex(&value) }));
            }
        }
        Ok(found)
    }
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
