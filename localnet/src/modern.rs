//! The new JSON-RPC interface that smoldot and polkadot-api speak: `chainHead_v1_*` (a follow
//! subscription, and operations on the blocks it pinned), `chainSpec_v1_*` and the transaction
//! groups (answered in `node.rs`, beside the legacy `author_*`). Sans I/O: the node keeps each
//! [`Follow`] with the connection's subscriptions and sends what these functions return.
//!
//! Every block of this chain is final when authored, so a follow reports each new block as
//! new, best and finalized at once, and nothing is ever pruned. A follow pins every block it
//! reports until the client unpins it; one that holds more than [`MAX_PINNED`] blocks, or a
//! block older than [`MAX_PIN_AGE`] (the node keeps the states of its last 1024 blocks), is
//! stopped (the `stop` event), as the specification allows, so that a client that never unpins
//! cannot grow the node's memory or find a pinned block without its state. A connection holds
//! at most [`MAX_FOLLOWS`]. Operations are answered at once, each with its events after the
//! reply; none waits for `chainHead_v1_continue`.
//!
//! Limits: the first [`MAX_STORAGE_ITEMS`] items of a storage request are served and the rest
//! counted as discarded; a descendants item answers at most [`MAX_DESCENDANTS`] keys and a
//! request at most [`MAX_OPERATION_BYTES`] of keys and values (more is an `operationError` that says
//! so, never a silent cut); child tries are not served (this chain has none).

use crate::chain::Chain;
use crate::proof::Tries;
use crate::rpc::{self, Heavy, RpcError};
use crate::runtime::Storage;
use serde_json::{Value, json};
use smoldot::trie::{self, Nibble, TrieEntryVersion};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::hex::{from_hex, to_hex};

/// Blocks one follow subscription may hold pinned.
pub const MAX_PINNED: usize = 512;
/// How many blocks behind the newest a pinned block may fall before its follow is stopped.
pub const MAX_PIN_AGE: u64 = 512;
/// Follow subscriptions one connection may hold (the specification asks for at least 2).
pub const MAX_FOLLOWS: usize = 4;
/// Bytes (keys, values, hashes) one storage operation may answer.
pub const MAX_OPERATION_BYTES: usize = 16 << 20;
/// Items one `chainHead_v1_storage` request may name.
pub const MAX_STORAGE_ITEMS: usize = 1024;
/// Keys one `descendantsValues` / `descendantsHashes` item may answer.
pub const MAX_DESCENDANTS: usize = 65_536;

/// The notification method of a follow subscription's events.
pub const FOLLOW_EVENT: &str = "chainHead_v1_followEvent";

/// A `chainHead_v1_follow` subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Follow {
    with_runtime: bool,
    /// Pinned blocks and their numbers.
    pinned: HashMap<[u8; 32], u64>,
    /// The runtime last reported (the state's own copy of the `:code` it came from).
    code: Option<Arc<[u8]>>,
    next_operation: u64,
    started: bool,
}

impl Follow {
    pub fn new(params: &Value) -> Result<Follow, RpcError> {
        let with_runtime = params
            .get(0)
            .and_then(Value::as_bool)
            .ok_or_else(|| RpcError::invalid_params("withRuntime: expected a boolean"))?;
        Ok(Follow {
            with_runtime,
            pinned: HashMap::new(),
            code: None,
            next_operation: 0,
            started: false,
        })
    }

    /// The events for the chain's best block: `initialized` the first time, then `newBlock`,
    /// `bestBlockChanged` and `finalized` (or `stop` once too many blocks are pinned).
    pub fn events(&mut self, chain: &mut Chain) -> Result<Vec<Value>, RpcError> {
        let best = chain.best().clone();
        let oldest = self.pinned.values().min().copied().unwrap_or(best.number);
        if self.pinned.len() >= MAX_PINNED || best.number.saturating_sub(oldest) > MAX_PIN_AGE {
            return Ok(vec![json!({ "event": "stop" })]);
        }
        let runtime = self.runtime_change(chain)?;
        self.pinned.insert(best.hash, best.number);
        let hash = to_hex(&best.hash);
        if !self.started {
            self.started = true;
            let mut initialized = json!({ "event": "initialized", "finalizedBlockHashes": [hash] });
            if self.with_runtime {
                initialized["finalizedBlockRuntime"] = runtime.unwrap_or(Value::Null);
            }
            return Ok(vec![initialized]);
        }
        let parent = chain
            .block(best.number.saturating_sub(1))
            .map(|b| to_hex(&b.hash))
            .unwrap_or_default();
        let mut new_block =
            json!({ "event": "newBlock", "blockHash": hash, "parentBlockHash": parent });
        if self.with_runtime {
            new_block["newRuntime"] = runtime.unwrap_or(Value::Null);
        }
        Ok(vec![
            new_block,
            json!({ "event": "bestBlockChanged", "bestBlockHash": hash }),
            json!({ "event": "finalized", "finalizedBlockHashes": [hash], "prunedBlockHashes": [] }),
        ])
    }

    /// Whether the event list ends the subscription.
    pub fn stopped(events: &[Value]) -> bool {
        events.iter().any(|e| e["event"] == "stop")
    }

    /// The runtime of the best block in the new interface's shape, where it is not the one
    /// reported last (every call where the follow has no runtime).
    fn runtime_change(&mut self, chain: &mut Chain) -> Result<Option<Value>, RpcError> {
        if !self.with_runtime {
            return Ok(None);
        }
        let state = chain.state(chain.best().number).map_err(RpcError::chain)?;
        let code = state.get(b":code".as_slice()).cloned();
        if self.started && code == self.code {
            return Ok(None);
        }
        self.code = code;
        let version = chain.runtime().version_json().ok_or_else(|| RpcError {
            code: 4002,
            message: "the runtime has no version".into(),
        })?;
        Ok(Some(runtime_json(&version)))
    }

    /// A pinned block of this subscription named by parameter `index`.
    fn pinned_block(&self, params: &Value, index: usize) -> Result<[u8; 32], RpcError> {
        let hash = hash_param(params, index)?;
        if !self.pinned.contains_key(&hash) {
            return Err(not_pinned(&hash));
        }
        Ok(hash)
    }

    fn operation_id(&mut self) -> String {
        self.next_operation += 1;
        self.next_operation.to_string()
    }

    /// `chainHead_v1_unpin`: one hash or a list, all pinned, or none is unpinned.
    pub fn unpin(&mut self, params: &Value) -> Result<Value, RpcError> {
        let hashes: Vec<[u8; 32]> = match params.get(1) {
            Some(Value::Array(list)) => list.iter().map(hash_value).collect::<Result<_, _>>()?,
            _ => vec![hash_param(params, 1)?],
        };
        if let Some(missing) = hashes.iter().find(|h| !self.pinned.contains_key(*h)) {
            return Err(not_pinned(missing));
        }
        if hashes.iter().collect::<HashSet<_>>().len() < hashes.len() {
            return Err(RpcError {
                code: -32804,
                message: "the same block hash is given twice".into(),
            });
        }
        for hash in &hashes {
            self.pinned.remove(hash);
        }
        Ok(Value::Null)
    }
}

/// What an operation on a pinned block needs done: answered at once under the node's lock, or
/// work that reads a whole state or runs the runtime, done after the lock is released.
pub enum Operation {
    Now { reply: Value, events: Vec<Value> },
    Later { reply: Value, work: Box<Work> },
}

pub enum Work {
    Call {
        operation: String,
        heavy: Box<Heavy>,
    },
    Storage {
        operation: String,
        block: [u8; 32],
        state: Arc<Storage>,
        version: TrieEntryVersion,
        items: Vec<StorageItem>,
    },
}

/// `chainHead_v1_header`, `_body`, `_call`, `_storage`, `_continue` and `_stopOperation` on
/// `follow`. `None`: not one of these.
pub fn operation(
    follow: &mut Follow,
    chain: &mut Chain,
    method: &str,
    params: &Value,
) -> Option<Result<Operation, RpcError>> {
    let now = |reply: Value| {
        Ok(Operation::Now {
            reply,
            events: Vec::new(),
        })
    };
    Some(match method {
        "chainHead_v1_header" => (|| {
            let hash = follow.pinned_block(params, 1)?;
            let block = chain
                .block_by_hash(&hash)
                .ok_or_else(|| not_pinned(&hash))?;
            now(json!(to_hex(&block.header)))
        })(),
        "chainHead_v1_body" => (|| {
            let hash = follow.pinned_block(params, 1)?;
            let block = chain
                .block_by_hash(&hash)
                .ok_or_else(|| not_pinned(&hash))?;
            let value: Vec<Value> = block.body.iter().map(|x| json!(to_hex(x))).collect();
            let operation = follow.operation_id();
            Ok(Operation::Now {
                reply: started(&operation),
                events: vec![
                    json!({ "event": "operationBodyDone", "operationId": operation, "value": value }),
                ],
            })
        })(),
        "chainHead_v1_call" => (|| {
            let hash = follow.pinned_block(params, 1)?;
            if !follow.with_runtime {
                return Err(RpcError {
                    code: -32802,
                    message: "this follow subscription was started without withRuntime".into(),
                });
            }
            let function = params
                .get(2)
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("function: expected a runtime API name"))?;
            let parameter = params
                .get(3)
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("callParameters: expected hex"))?;
            let legacy = json!([function, parameter, to_hex(&hash)]);
            let heavy = rpc::prepare(chain, "state_call", &legacy).ok_or_else(|| RpcError {
                code: 4002,
                message: "state_call is not prepared".into(),
            })??;
            let operation = follow.operation_id();
            Ok(Operation::Later {
                reply: started(&operation),
                work: Box::new(Work::Call {
                    operation,
                    heavy: Box::new(heavy),
                }),
            })
        })(),
        "chainHead_v1_storage" => (|| {
            let hash = follow.pinned_block(params, 1)?;
            if params.get(3).is_some_and(|v| !v.is_null()) {
                return Err(RpcError::invalid_params(
                    "childTrie: this chain has no child tries",
                ));
            }
            let (items, discarded) = storage_items(params.get(2))?;
            let number = chain
                .block_by_hash(&hash)
                .ok_or_else(|| not_pinned(&hash))?
                .number;
            let state = chain.state(number).map_err(RpcError::chain)?;
            let version = chain.runtime().state_version();
            let operation = follow.operation_id();
            let mut reply = started(&operation);
            reply["discardedItems"] = json!(discarded);
            Ok(Operation::Later {
                reply,
                work: Box::new(Work::Storage {
                    operation,
                    block: hash,
                    state,
                    version,
                    items,
                }),
            })
        })(),
        // Operations finish before their reply is sent: nothing waits, nothing to stop.
        "chainHead_v1_continue" | "chainHead_v1_stopOperation" => now(Value::Null),
        _ => return None,
    })
}

/// The events of work done after the lock.
pub fn finish(work: Work, tries: &Tries) -> Vec<Value> {
    match work {
        Work::Call { operation, heavy } => vec![match rpc::run(*heavy, tries) {
            Ok(output) => {
                json!({ "event": "operationCallDone", "operationId": operation, "output": output })
            }
            Err(e) => {
                json!({ "event": "operationError", "operationId": operation, "error": e.message })
            }
        }],
        Work::Storage {
            operation,
            block,
            state,
            version,
            items,
        } => match storage(&state, block, version, &items, tries) {
            Ok(found) => {
                let mut events = Vec::new();
                if !found.is_empty() {
                    events.push(json!({ "event": "operationStorageItems", "operationId": operation, "items": found }));
                }
                events.push(json!({ "event": "operationStorageDone", "operationId": operation }));
                events
            }
            Err(why) => {
                vec![json!({ "event": "operationError", "operationId": operation, "error": why })]
            }
        },
    }
}

fn storage(
    state: &Storage,
    block: [u8; 32],
    version: TrieEntryVersion,
    items: &[StorageItem],
    tries: &Tries,
) -> Result<Vec<Value>, String> {
    let hash = |value: &[u8]| to_hex(&blake2_256(value));
    let mut found = Vec::new();
    let mut bytes = 0usize;
    // Keys, values and hashes alike: a descendants item repeated a thousand times is as large.
    let mut count = |n: usize| {
        bytes += n;
        if bytes > MAX_OPERATION_BYTES {
            return Err(format!(
                "the answer would exceed {MAX_OPERATION_BYTES} bytes: ask for fewer items"
            ));
        }
        Ok(())
    };
    for (key, kind) in items {
        match kind.as_str() {
            "value" | "hash" => {
                if let Some(value) = state.get(key) {
                    count(key.len() + if kind == "value" { value.len() } else { 32 })?;
                    let field = if kind == "value" {
                        to_hex(value)
                    } else {
                        hash(value)
                    };
                    found.push(json!({ "key": to_hex(key), kind.as_str(): field }));
                }
            }
            "descendantsValues" | "descendantsHashes" => {
                let values = kind == "descendantsValues";
                let below: Vec<_> = state
                    .range(key.clone()..)
                    .take_while(|(k, _)| k.starts_with(key))
                    .take(MAX_DESCENDANTS + 1)
                    .collect();
                if below.len() > MAX_DESCENDANTS {
                    return Err(format!(
                        "more than {MAX_DESCENDANTS} keys start with {}: ask for a longer prefix",
                        to_hex(key)
                    ));
                }
                for (k, v) in below {
                    count(k.len() + if values { v.len() } else { 32 })?;
                    found.push(if values {
                        json!({ "key": to_hex(k), "value": to_hex(v) })
                    } else {
                        json!({ "key": to_hex(k), "hash": hash(v) })
                    });
                }
            }
            "closestDescendantMerkleValue" => {
                let nibbles: Vec<Nibble> = trie::bytes_to_nibbles(key.iter().copied()).collect();
                let merkle = tries.with_trie(block, state, version, |trie| {
                    trie.closest_descendant_merkle_value(&nibbles)
                });
                if let Some(merkle) = merkle {
                    count(key.len() + merkle.len())?;
                    found.push(json!({ "key": to_hex(key), "closestDescendantMerkleValue": to_hex(&merkle) }));
                }
            }
            other => {
                return Err(format!(
                    "storage item type {other:?} is not one of the five"
                ));
            }
        }
    }
    Ok(found)
}

/// A storage item asked for: its key and type.
type StorageItem = (Vec<u8>, String);

/// The items served and how many beyond [`MAX_STORAGE_ITEMS`] were discarded.
fn storage_items(items: Option<&Value>) -> Result<(Vec<StorageItem>, usize), RpcError> {
    let items = items
        .and_then(Value::as_array)
        .ok_or_else(|| RpcError::invalid_params("items: expected an array"))?;
    let discarded = items.len().saturating_sub(MAX_STORAGE_ITEMS);
    let served = items
        .iter()
        .take(MAX_STORAGE_ITEMS)
        .map(|item| {
            let key = item
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("item: expected a hex key"))
                .and_then(|k| {
                    from_hex(k).map_err(|e| RpcError::invalid_params(format!("key: {e}")))
                })?;
            let kind = item
                .get("type")
                .and_then(Value::as_str)
                .ok_or_else(|| RpcError::invalid_params("item: expected a type"))?;
            Ok((key, kind.to_string()))
        })
        .collect::<Result<_, RpcError>>()?;
    Ok((served, discarded))
}

/// A runtime version in the new interface's shape (its APIs as an object).
pub fn runtime_json(version: &Value) -> Value {
    let apis: serde_json::Map<String, Value> = version["apis"]
        .as_array()
        .map(|apis| {
            apis.iter()
                .filter_map(|api| Some((api.get(0)?.as_str()?.to_string(), api.get(1)?.clone())))
                .collect()
        })
        .unwrap_or_default();
    json!({
        "type": "valid",
        "spec": {
            "specName": version["specName"],
            "implName": version["implName"],
            "specVersion": version["specVersion"],
            "implVersion": version["implVersion"],
            "transactionVersion": version["transactionVersion"],
            "apis": apis,
        },
    })
}

fn started(operation: &str) -> Value {
    json!({ "result": "started", "operationId": operation })
}

fn not_pinned(hash: &[u8; 32]) -> RpcError {
    RpcError {
        code: -32801,
        message: format!("block {} is not pinned by this subscription", to_hex(hash)),
    }
}

fn hash_param(params: &Value, index: usize) -> Result<[u8; 32], RpcError> {
    hash_value(params.get(index).unwrap_or(&Value::Null))
}

fn hash_value(value: &Value) -> Result<[u8; 32], RpcError> {
    value
        .as_str()
        .and_then(|text| from_hex(text).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or_else(|| RpcError::invalid_params("hash: expected a 0x-prefixed 32-byte hash"))
}
