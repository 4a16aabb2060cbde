//! The JSON-RPC subscriptions that follow the chain: the legacy `chain_subscribe*Heads`,
//! `state_subscribeRuntimeVersion` and `state_subscribeStorage`, and the new interface's
//! `chainHead_v1_follow` (see `modern.rs`): what each sends when it starts and after each new
//! block. Sans I/O: the node (`node.rs`) keeps them per connection and delivers what they say.
//!
//! Every block of this chain is final when authored, so the new, all and finalized heads are
//! the same header, each under its own notification method. The storage subscription sends
//! the values of all its keys first, then only the keys a block changed, as Substrate does;
//! it is refused without keys (Substrate would send every change of the chain), with more
//! than [`MAX_STORAGE_KEYS`] distinct keys, or when its values exceed
//! [`MAX_NOTIFICATION_BYTES`] (`:code` a thousand times over would be gigabytes of hex); it keeps
//! the values it last sent as the state's own shared copies, not new ones.

use crate::chain::Chain;
use crate::modern::{FOLLOW_EVENT, Follow};
use crate::rpc::{self, RpcError};
use serde_json::{Value, json};
use std::sync::Arc;
use taoscope_light_client::hex::{from_hex, to_hex};

/// Keys one storage subscription may watch.
pub const MAX_STORAGE_KEYS: usize = 1024;
/// Value bytes one storage notification may carry.
pub const MAX_NOTIFICATION_BYTES: usize = 8 << 20;

/// What a subscription follows, with what it last sent where it sends changes only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    NewHeads,
    FinalizedHeads,
    AllHeads,
    RuntimeVersion {
        last: Value,
    },
    Storage {
        keys: Vec<Vec<u8>>,
        last: Vec<Option<Arc<[u8]>>>,
    },
    Follow(Follow),
}

impl Kind {
    /// The subscription `method` starts, with its parameters; `None`: not a subscribing method.
    pub fn of(method: &str, params: &Value) -> Option<Result<Kind, RpcError>> {
        Some(match method {
            "chain_subscribeNewHeads" => Ok(Kind::NewHeads),
            "chain_subscribeFinalizedHeads" => Ok(Kind::FinalizedHeads),
            "chain_subscribeAllHeads" => Ok(Kind::AllHeads),
            "state_subscribeRuntimeVersion" => Ok(Kind::RuntimeVersion { last: Value::Null }),
            "state_subscribeStorage" => storage_keys(params).map(|keys| Kind::Storage {
                last: Vec::new(),
                keys,
            }),
            "chainHead_v1_follow" => Follow::new(params).map(Kind::Follow),
            _ => return None,
        })
    }

    /// Whether `method` ends a subscription of this kind.
    pub fn ended_by(&self, method: &str) -> bool {
        method
            == match self {
                Kind::NewHeads => "chain_unsubscribeNewHeads",
                Kind::FinalizedHeads => "chain_unsubscribeFinalizedHeads",
                Kind::AllHeads => "chain_unsubscribeAllHeads",
                Kind::RuntimeVersion { .. } => "state_unsubscribeRuntimeVersion",
                Kind::Storage { .. } => "state_unsubscribeStorage",
                Kind::Follow(_) => "chainHead_v1_unfollow",
            }
    }

    /// The method of its notifications.
    pub fn notification(&self) -> &'static str {
        match self {
            Kind::NewHeads => "chain_newHead",
            Kind::FinalizedHeads => "chain_finalizedHead",
            Kind::AllHeads => "chain_allHead",
            Kind::RuntimeVersion { .. } => "state_runtimeVersion",
            Kind::Storage { .. } => "state_storage",
            Kind::Follow(_) => FOLLOW_EVENT,
        }
    }

    /// What to send for the chain's best block: everything on the first call (the
    /// subscription's start), then only what changed since the last call (often nothing).
    pub fn update(&mut self, chain: &mut Chain) -> Result<Vec<Value>, RpcError> {
        Ok(match self {
            Kind::Follow(follow) => follow.events(chain)?,
            _ => self.legacy_update(chain)?.into_iter().collect(),
        })
    }

    fn legacy_update(&mut self, chain: &mut Chain) -> Result<Option<Value>, RpcError> {
        let best = chain.best();
        match self {
            Kind::Follow(_) => Ok(None),
            Kind::NewHeads | Kind::FinalizedHeads | Kind::AllHeads => {
                Ok(Some(rpc::header_json(best)))
            }
            Kind::RuntimeVersion { last } => {
                let version = chain.runtime().version_json().ok_or_else(|| RpcError {
                    code: 4002,
                    message: "the runtime has no version".into(),
                })?;
                if *last == version {
                    return Ok(None);
                }
                *last = version.clone();
                Ok(Some(version))
            }
            Kind::Storage { keys, last } => {
                let state = chain.state(best.number).map_err(RpcError::chain)?;
                let first = last.is_empty();
                let now: Vec<Option<Arc<[u8]>>> =
                    keys.iter().map(|k| state.get(k).cloned()).collect();
                let changed: Vec<usize> = (0..keys.len())
                    .filter(|&i| first || last.get(i) != now.get(i))
                    .collect();
                let bytes: usize = changed
                    .iter()
                    .filter_map(|&i| now.get(i)?.as_ref().map(|v| v.len()))
                    .sum();
                if bytes > MAX_NOTIFICATION_BYTES {
                    return Err(RpcError::invalid_params(format!(
                        "the watched values are {bytes} bytes, over {MAX_NOTIFICATION_BYTES} per notification: watch fewer or smaller keys"
                    )));
                }
                let changes: Vec<Value> = changed
                    .iter()
                    .map(|&i| {
                        let value = now.get(i).cloned().flatten();
                        json!([to_hex(&keys[i]), value.as_deref().map(to_hex)])
                    })
                    .collect();
                *last = now;
                if changes.is_empty() {
                    return Ok(None);
                }
                Ok(Some(
                    json!({ "block": to_hex(&best.hash), "changes": changes }),
                ))
            }
        }
    }
}

fn storage_keys(params: &Value) -> Result<Vec<Vec<u8>>, RpcError> {
    let keys = params
        .get(0)
        .and_then(Value::as_array)
        .filter(|keys| !keys.is_empty())
        .ok_or_else(|| {
            RpcError::invalid_params(
                "keys: expected a non-empty array of hex keys (this node does not send every change of the chain)",
            )
        })?;
    if keys.len() > MAX_STORAGE_KEYS {
        return Err(RpcError::invalid_params(format!(
            "keys: at most {MAX_STORAGE_KEYS} per subscription"
        )));
    }
    let mut seen = std::collections::HashSet::new();
    let mut distinct = Vec::new();
    for key in keys {
        let key = key
            .as_str()
            .ok_or_else(|| RpcError::invalid_params("keys: expected hex strings"))
            .and_then(|text| {
                from_hex(text).map_err(|e| RpcError::invalid_params(format!("key: {e}")))
            })?;
        if seen.insert(key.clone()) {
            distinct.push(key);
        }
    }
    Ok(distinct)
}
