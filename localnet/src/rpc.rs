//! Substrate's JSON-RPC methods, answered from the chain this node keeps.
//!
//! The legacy API that tools and the app's trusted-RPC mode use (and `chainSpec_v1_*` of the new
//! one, see `modern.rs`): `chain_*`, `state_*`,
//! `author_*`, `system_*`, `grandpa_proveFinality`, `taoscope_checkpoint` (see
//! `checkpoint.rs`) and `taoscope_p2pServed` (what light clients cost the node, `node.rs`).
//! Every request is answered, malformed ones with a JSON-RPC error that says what was wrong;
//! nothing here trusts the caller's bytes.
//! Subscriptions are kept by the connection (see `node.rs`); this module says what they send.

use crate::chain::{BLOCK_NUMBER_BYTES, Block, Chain, ChainError};
use crate::proof::Tries;
use crate::runtime::{Runtime, Storage};
use serde_json::{Value, json};
use smoldot::header;
use smoldot::trie::TrieEntryVersion;
use std::sync::Arc;
use taoscope_light_client::hex::{from_hex, to_hex};

/// Keys per `state_getKeysPaged` page, per `state_queryStorageAt` and per read proof at most
/// (Substrate caps pages at 1000).
pub const MAX_KEYS_PAGE: usize = 1000;

/// A JSON-RPC error: code and message.
#[derive(Debug, PartialEq, Eq)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
}

impl RpcError {
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self {
            code: -32602,
            message: message.into(),
        }
    }

    pub fn not_found(method: &str) -> Self {
        Self {
            code: -32601,
            message: format!("method {method} is not served by this node"),
        }
    }

    /// Substrate's code for a transaction the runtime refused.
    pub fn invalid_transaction(why: impl Into<String>) -> Self {
        Self {
            code: 1010,
            message: format!("Invalid Transaction: {}", why.into()),
        }
    }

    pub fn chain(e: ChainError) -> Self {
        Self {
            code: 4003,
            message: e.to_string(),
        }
    }
}

/// The methods this node serves, for `rpc_methods`.
pub const METHODS: &[&str] = &[
    "author_submitAndWatchExtrinsic",
    "author_submitExtrinsic",
    "author_unwatchExtrinsic",
    "chainHead_v1_body",
    "chainHead_v1_call",
    "chainHead_v1_continue",
    "chainHead_v1_follow",
    "chainHead_v1_header",
    "chainHead_v1_stopOperation",
    "chainHead_v1_storage",
    "chainHead_v1_unfollow",
    "chainHead_v1_unpin",
    "chainSpec_v1_chainName",
    "chainSpec_v1_genesisHash",
    "chainSpec_v1_properties",
    "chain_getBlock",
    "chain_getBlockHash",
    "chain_getFinalizedHead",
    "chain_getHeader",
    "chain_subscribeAllHeads",
    "chain_subscribeFinalizedHeads",
    "chain_subscribeNewHeads",
    "chain_unsubscribeAllHeads",
    "chain_unsubscribeFinalizedHeads",
    "chain_unsubscribeNewHeads",
    "grandpa_proveFinality",
    "rpc_methods",
    "state_call",
    "state_getKeysPaged",
    "state_getMetadata",
    "state_getReadProof",
    "state_getRuntimeVersion",
    "state_getStorage",
    "state_queryStorageAt",
    "state_subscribeRuntimeVersion",
    "state_subscribeStorage",
    "state_unsubscribeRuntimeVersion",
    "state_unsubscribeStorage",
    "sync_state_genSyncSpec",
    "system_accountNextIndex",
    "system_chain",
    "system_chainType",
    "system_health",
    "system_name",
    "system_properties",
    "system_version",
    "taoscope_checkpoint",
    "taoscope_p2pServed",
    "transactionWatch_v1_submitAndWatch",
    "transactionWatch_v1_unwatch",
    "transaction_v1_broadcast",
    "transaction_v1_stop",
];

/// Positional parameter `index`, absent or null as `None`.
fn param(params: &Value, index: usize) -> Option<&Value> {
    params.get(index).filter(|v| !v.is_null())
}

fn hex_param(params: &Value, index: usize, what: &str) -> Result<Vec<u8>, RpcError> {
    let text = param(params, index)
        .and_then(Value::as_str)
        .ok_or_else(|| {
            RpcError::invalid_params(format!("{what}: expected a 0x-prefixed hex string"))
        })?;
    from_hex(text).map_err(|e| RpcError::invalid_params(format!("{what}: {e}")))
}

/// The block named by a hash parameter, or the best block when it is absent.
pub fn block_at<'c>(chain: &'c Chain, params: &Value, index: usize) -> Result<&'c Block, RpcError> {
    match param(params, index) {
        None => Ok(chain.best()),
        Some(_) => {
            let bytes = hex_param(params, index, "block hash")?;
            let hash: [u8; 32] = bytes
                .try_into()
                .map_err(|_| RpcError::invalid_params("block hash: expected 32 bytes"))?;
            chain.block_by_hash(&hash).ok_or_else(|| RpcError {
                code: 4001,
                message: format!("unknown block {}", to_hex(&hash)),
            })
        }
    }
}

/// A header as Substrate's JSON shows it.
pub fn header_json(block: &Block) -> Value {
    let Ok(decoded) = header::decode(&block.header, BLOCK_NUMBER_BYTES) else {
        return Value::Null;
    };
    let logs: Vec<Value> = decoded
        .digest
        .logs()
        .map(|item| {
            let bytes: Vec<u8> =
                item.scale_encoding(BLOCK_NUMBER_BYTES)
                    .fold(Vec::new(), |mut out, part| {
                        out.extend_from_slice(part.as_ref());
                        out
                    });
            Value::String(to_hex(&bytes))
        })
        .collect();
    json!({
        "parentHash": to_hex(decoded.parent_hash),
        "number": format!("0x{:x}", decoded.number),
        "stateRoot": to_hex(decoded.state_root),
        "extrinsicsRoot": to_hex(decoded.extrinsics_root),
        "digest": { "logs": logs },
    })
}

/// GRANDPA's engine id, `FRNK`, as Substrate's JSON writes a `[u8; 4]`.
const FRNK: [u8; 4] = *b"FRNK";

/// A block with its justification, as `chain_getBlock` returns it.
pub fn block_json(block: &Block) -> Value {
    let extrinsics: Vec<Value> = block
        .body
        .iter()
        .map(|x| Value::String(to_hex(x)))
        .collect();
    let justifications = match &block.justification {
        Some(bytes) => json!([[FRNK, bytes]]),
        None => Value::Null,
    };
    json!({
        "block": { "header": header_json(block), "extrinsics": extrinsics },
        "justifications": justifications,
    })
}

/// A runtime for a call at `block`: the best block's unless the code differs there.
fn runtime_for<'c>(
    chain: &'c mut Chain,
    block: u64,
    scratch: &'c mut Option<Runtime>,
) -> Result<&'c mut Runtime, RpcError> {
    let state = chain.state(block).map_err(RpcError::chain)?;
    let best = chain.state(chain.best().number).map_err(RpcError::chain)?;
    if state.get(b":code".as_slice()) == best.get(b":code".as_slice()) {
        return Ok(chain.runtime());
    }
    let runtime = Runtime::of(&state).map_err(|e| RpcError::chain(e.into()))?;
    Ok(scratch.insert(runtime))
}

/// `state_call`'s core: `function(parameter)` on the state of `block`.
pub fn call_at(
    chain: &mut Chain,
    block: u64,
    function: &str,
    parameter: &[u8],
) -> Result<Vec<u8>, RpcError> {
    let state = chain.state(block).map_err(RpcError::chain)?;
    let mut scratch = None;
    let runtime = runtime_for(chain, block, &mut scratch)?;
    runtime
        .call(&state, function, parameter)
        .map(|(output, _)| output)
        .map_err(|e| RpcError {
            code: 4002,
            message: e.to_string(),
        })
}

/// Answers a method that needs no subscription. `None`: not one of these.
pub fn answer(chain: &mut Chain, method: &str, params: &Value) -> Option<Result<Value, RpcError>> {
    let result = match method {
        "rpc_methods" => Ok(json!({ "version": 1, "methods": METHODS })),
        "system_name" => Ok(json!("taoscope-localnet")),
        "system_version" => Ok(json!(env!("CARGO_PKG_VERSION"))),
        "system_chain" | "chainSpec_v1_chainName" => Ok(chain
            .spec()
            .json
            .get("name")
            .cloned()
            .unwrap_or(json!("localnet"))),
        "system_chainType" => Ok(json!("Development")),
        "system_properties" | "chainSpec_v1_properties" => Ok(chain
            .spec()
            .json
            .get("properties")
            .cloned()
            .unwrap_or(json!({}))),
        "system_health" => Ok(json!({ "peers": 0, "isSyncing": false, "shouldHavePeers": false })),
        "chain_getBlockHash" => match param(params, 0) {
            None => Ok(json!(to_hex(&chain.best().hash))),
            Some(n) => match n.as_u64() {
                Some(n) => Ok(chain
                    .block(n)
                    .map_or(Value::Null, |b| json!(to_hex(&b.hash)))),
                None => Err(RpcError::invalid_params(
                    "block number: expected an integer",
                )),
            },
        },
        "chain_getFinalizedHead" => Ok(json!(to_hex(&chain.best().hash))),
        "chainSpec_v1_genesisHash" => Ok(chain
            .block(0)
            .map_or(Value::Null, |b| json!(to_hex(&b.hash)))),
        "taoscope_checkpoint" => crate::checkpoint::checkpoint(chain).map_err(RpcError::chain),
        "chain_getHeader" => block_at(chain, params, 0).map(header_json),
        "chain_getBlock" => block_at(chain, params, 0).map(block_json),
        "state_getStorage" => (|| {
            let key = hex_param(params, 0, "storage key")?;
            let number = block_at(chain, params, 1)?.number;
            let state = chain.state(number).map_err(RpcError::chain)?;
            Ok(state.get(&key).map_or(Value::Null, |v| json!(to_hex(v))))
        })(),
        "state_queryStorageAt" => (|| {
            let keys = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("keys: expected an array of hex keys"))?;
            if keys.len() > MAX_KEYS_PAGE {
                return Err(RpcError::invalid_params(format!(
                    "keys: at most {MAX_KEYS_PAGE} at once"
                )));
            }
            let block = block_at(chain, params, 1)?.clone();
            let state = chain.state(block.number).map_err(RpcError::chain)?;
            let changes = keys
                .iter()
                .map(|k| {
                    let text = k
                        .as_str()
                        .ok_or_else(|| RpcError::invalid_params("keys: expected hex strings"))?;
                    let key = from_hex(text)
                        .map_err(|e| RpcError::invalid_params(format!("key: {e}")))?;
                    let value = state.get(&key).map_or(Value::Null, |v| json!(to_hex(v)));
                    Ok(json!([text, value]))
                })
                .collect::<Result<Vec<Value>, RpcError>>()?;
            Ok(json!([{ "block": to_hex(&block.hash), "changes": changes }]))
        })(),
        "state_getKeysPaged" => (|| {
            let prefix = match param(params, 0) {
                None => Vec::new(),
                Some(_) => hex_param(params, 0, "prefix")?,
            };
            let count = param(params, 1)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("count: expected an integer"))?;
            let count = usize::try_from(count)
                .unwrap_or(usize::MAX)
                .min(MAX_KEYS_PAGE);
            let start = match param(params, 2) {
                None => None,
                Some(_) => Some(hex_param(params, 2, "start key")?),
            };
            let number = block_at(chain, params, 3)?.number;
            let state = chain.state(number).map_err(RpcError::chain)?;
            let keys: Vec<Value> = state
                .range(prefix.clone()..)
                .map(|(k, _)| k)
                .take_while(|k| k.starts_with(&prefix))
                .filter(|k| start.as_ref().is_none_or(|s| *k > s))
                .take(count)
                .map(|k| json!(to_hex(k)))
                .collect();
            Ok(Value::Array(keys))
        })(),
        "grandpa_proveFinality" => (|| {
            let number = param(params, 0)
                .and_then(Value::as_u64)
                .ok_or_else(|| RpcError::invalid_params("block number: expected an integer"))?;
            Ok(match chain.block(number) {
                Some(block) => json!(to_hex(&finality_proof(block))),
                None => Value::Null,
            })
        })(),
        _ => return None,
    };
    Some(result)
}

/// A request whose work is long (a read proof builds the trie of a whole state; a runtime call
/// runs the runtime): what it needs, taken from the chain under the node's lock by [`prepare`],
/// and worked out by [`run`] after the lock is released.
pub enum Heavy {
    ReadProof {
        block: [u8; 32],
        state: Arc<Storage>,
        version: TrieEntryVersion,
        keys: Vec<Vec<u8>>,
    },
    Call {
        state: Arc<Storage>,
        /// The runtime in force at the block, or `None`: compile it from the state's `:code`.
        runtime: Option<Runtime>,
        function: String,
        parameter: Vec<u8>,
        /// `state_getMetadata`: the bytes inside the `OpaqueMetadata` vector.
        metadata: bool,
    },
    RuntimeVersion {
        state: Arc<Storage>,
        runtime: Option<Runtime>,
    },
}

/// The heavy requests' part under the lock. `None`: not one of them.
pub fn prepare(chain: &mut Chain, method: &str, params: &Value) -> Option<Result<Heavy, RpcError>> {
    let prepared = match method {
        "state_getReadProof" => (|| {
            let keys = param(params, 0)
                .and_then(Value::as_array)
                .ok_or_else(|| RpcError::invalid_params("keys: expected an array of hex keys"))?;
            if keys.len() > MAX_KEYS_PAGE {
                return Err(RpcError::invalid_params(format!(
                    "keys: at most {MAX_KEYS_PAGE} at once"
                )));
            }
            let keys: Vec<Vec<u8>> = keys
                .iter()
                .map(|k| {
                    k.as_str()
                        .ok_or_else(|| RpcError::invalid_params("keys: expected hex strings"))
                        .and_then(|k| {
                            from_hex(k).map_err(|e| RpcError::invalid_params(format!("key: {e}")))
                        })
                })
                .collect::<Result<_, _>>()?;
            let block = block_at(chain, params, 1)?.clone();
            let state = chain.state(block.number).map_err(RpcError::chain)?;
            Ok(Heavy::ReadProof {
                block: block.hash,
                state,
                version: chain.runtime().state_version(),
                keys,
            })
        })(),
        "state_call" | "state_getMetadata" => (|| {
            let metadata = method == "state_getMetadata";
            let (function, parameter, at) = if metadata {
                ("Metadata_metadata".to_string(), Vec::new(), 0)
            } else {
                let function = param(params, 0)
                    .and_then(Value::as_str)
                    .ok_or_else(|| RpcError::invalid_params("method: expected a runtime API name"))?
                    .to_string();
                (function, hex_param(params, 1, "call data")?, 2)
            };
            let number = block_at(chain, params, at)?.number;
            let (state, runtime) = runtime_at(chain, number)?;
            Ok(Heavy::Call {
                state,
                runtime,
                function,
                parameter,
                metadata,
            })
        })(),
        "state_getRuntimeVersion" => (|| {
            let number = block_at(chain, params, 0)?.number;
            let (state, runtime) = runtime_at(chain, number)?;
            Ok(Heavy::RuntimeVersion { state, runtime })
        })(),
        _ => return None,
    };
    Some(prepared)
}

/// The state of block `number` and a copy of the runtime in force there, when it is the best
/// block's (`None`: compile it from the state's `:code`, which is for [`run`] to do).
fn runtime_at(chain: &mut Chain, number: u64) -> Result<(Arc<Storage>, Option<Runtime>), RpcError> {
    let state = chain.state(number).map_err(RpcError::chain)?;
    let best = chain.state(chain.best().number).map_err(RpcError::chain)?;
    let same_code = state.get(b":code".as_slice()) == best.get(b":code".as_slice());
    Ok((state, same_code.then(|| chain.runtime().clone())))
}

/// The heavy requests' work, without the lock.
pub fn run(heavy: Heavy, tries: &Tries) -> Result<Value, RpcError> {
    let compiled = |state: &Storage, runtime: Option<Runtime>| match runtime {
        Some(runtime) => Ok(runtime),
        None => Runtime::of(state).map_err(|e| RpcError::chain(e.into())),
    };
    match heavy {
        Heavy::ReadProof {
            block,
            state,
            version,
            keys,
        } => {
            let proof: Vec<Value> = tries
                .read_proof(block, &state, version, keys.iter().map(Vec::as_slice))
                .iter()
                .map(|node| json!(to_hex(node)))
                .collect();
            Ok(json!({ "at": to_hex(&block), "proof": proof }))
        }
        Heavy::Call {
            state,
            runtime,
            function,
            parameter,
            metadata,
        } => {
            let mut runtime = compiled(&state, runtime)?;
            let (output, _) =
                runtime
                    .call(&state, &function, &parameter)
                    .map_err(|e| RpcError {
                        code: 4002,
                        message: e.to_string(),
                    })?;
            if !metadata {
                return Ok(json!(to_hex(&output)));
            }
            // `OpaqueMetadata` is a byte vector; the RPC returns the bytes inside.
            let inner = strip_compact_prefix(&output).ok_or_else(|| RpcError {
                code: 4002,
                message: "Metadata_metadata: not a byte vector".into(),
            })?;
            Ok(json!(to_hex(inner)))
        }
        Heavy::RuntimeVersion { state, runtime } => compiled(&state, runtime)?
            .version_json()
            .ok_or_else(|| RpcError {
                code: 4002,
                message: "the runtime has no version".into(),
            }),
    }
}

/// `FinalityProof { block, justification, unknown_headers }`: every block has its own
/// justification here, so no headers between are needed.
pub fn finality_proof(block: &Block) -> Vec<u8> {
    use parity_scale_codec::Encode;
    let justification = block.justification.clone().unwrap_or_default();
    (block.hash, justification, Vec::<Vec<u8>>::new()).encode()
}

fn strip_compact_prefix(bytes: &[u8]) -> Option<&[u8]> {
    use parity_scale_codec::{Compact, Decode};
    let mut input = bytes;
    let len = usize::try_from(Compact::<u32>::decode(&mut input).ok()?.0).ok()?;
    (input.len() == len).then_some(input)
}
