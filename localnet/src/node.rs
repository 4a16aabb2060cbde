//! The running node: a thread that authors a block per slot, and a JSON-RPC server over
//! WebSocket. Everything here is I/O around the sans-I/O parts ([`crate::chain`],
//! [`crate::pool`], [`crate::rpc`]).
//!
//! Every connection is untrusted, and so is every web page the user has open: a page of any
//! site may open `ws://127.0.0.1:9944`. So ([`RpcPolicy`]):
//! - a WebSocket handshake whose `Origin` is not allowed is refused (403): by default no `Origin`
//!   (tools, tests) and pages served from this machine (`127.0.0.1`, `localhost`, `[::1]`, any
//!   port: the app); `--rpc-origin` adds more;
//! - at most `max_connections` connections at once (more are refused with 503), each with at most
//!   `max_subscriptions` subscriptions; a handshake that does not finish within the handshake
//!   timeout, and a connection with no subscription that sends nothing for the idle timeout, are
//!   closed;
//! - bytes that are not a WebSocket handshake, frames over [`MAX_MESSAGE`], text that is not
//!   JSON-RPC: each is logged and answered or dropped, and the node keeps authoring;
//! - a connection whose reader stops reading (its queue of [`OUTBOX`] messages full) is closed,
//!   so that its client sees the connection end rather than a subscription go quiet; so is one
//!   whose subscription cannot be served any more (see `subscribe.rs`, `modern.rs` for their
//!   own limits: keys and bytes per storage subscription, follows per connection, pins).
//!
//! A subscription's reply and first notifications are queued while the chain's lock is held,
//! so that no new block's notification can overtake them; a watched transaction's likewise.
//!
//! The chain lives behind one mutex, which the author thread needs for every block. A request
//! holds it only to take what it needs (a block's state, a runtime); read proofs and runtime
//! calls, which take long on a large state, run after it is released, on the blocking pool.

use crate::chain::Chain;
use crate::demo::DemoSubnet;
use crate::modern::{self, Follow, Operation};
use crate::pool::{Pool, Status};
use crate::proof::Tries;
use crate::rpc::{self, RpcError};
use crate::store::Store;
use crate::subscribe::Kind;
use serde_json::{Value, json};
use smol::channel::{Receiver, Sender, bounded};
use smol::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use taoscope_light_client::extrinsic::extrinsic_hash;
use taoscope_light_client::hex::{from_hex, to_hex};

/// Largest JSON-RPC message accepted (a runtime upgrade fits; a flood does not).
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Messages queued for one connection before its subscriptions are cut (a reader that stopped
/// reading must not hold the node's memory).
const OUTBOX: usize = 1024;

/// Who may connect to the JSON-RPC server, and how much one connection may hold.
#[derive(Clone, Debug)]
pub struct RpcPolicy {
    /// Origins allowed besides none and this machine's pages (exact, e.g.
    /// `https://app.example`; `*` allows every origin).
    pub origins: Vec<String>,
    pub max_connections: usize,
    pub max_subscriptions: usize,
    pub handshake_timeout: Duration,
    pub idle_timeout: Duration,
}

impl Default for RpcPolicy {
    fn default() -> Self {
        RpcPolicy {
            origins: Vec::new(),
            max_connections: 256,
            max_subscriptions: 64,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
        }
    }
}

impl RpcPolicy {
    /// Whether a handshake with this `Origin` header is let in.
    pub fn allows(&self, origin: Option<&[u8]>) -> bool {
        let Some(origin) = origin else {
            return true; // not a browser page: a tool on this machine
        };
        let Ok(origin) = std::str::from_utf8(origin) else {
            return false;
        };
        if self.origins.iter().any(|o| o == "*" || o == origin) {
            return true;
        }
        let Some((scheme, rest)) = origin.split_once("://") else {
            return false;
        };
        let host = match rest.strip_prefix('[') {
            Some(v6) => v6.split(']').next().map(|h| format!("[{h}]")),
            None => rest.split(':').next().map(str::to_string),
        };
        matches!(scheme, "http" | "https")
            && matches!(host.as_deref(), Some("127.0.0.1" | "localhost" | "[::1]"))
    }
}

/// How a transaction's submitter hears of it, if it watches: its connection and subscription,
/// in the legacy (`author_extrinsicUpdate`) or the new (`transactionWatch_v1_watchEvent`) shape.
pub type Watcher = Option<Watch>;

pub struct Watch {
    outbox: Sender<String>,
    subscription: String,
    modern: bool,
    /// The transaction's hash, to find its index in the block that includes it.
    hash: [u8; 32],
}

impl Watch {
    fn method(&self) -> &'static str {
        if self.modern {
            "transactionWatch_v1_watchEvent"
        } else {
            "author_extrinsicUpdate"
        }
    }

    /// What the watcher hears of `status` in the new block `best`.
    fn updates(&self, status: &Status, best: &crate::chain::Block) -> Vec<Value> {
        match (status, self.modern) {
            (Status::InBlock(hash), false) => vec![
                json!({ "inBlock": to_hex(hash) }),
                json!({ "finalized": to_hex(hash) }),
            ],
            (Status::InBlock(hash), true) => {
                let index = best
                    .body
                    .iter()
                    .position(|x| extrinsic_hash(x) == self.hash)
                    .unwrap_or_default();
                let block = json!({ "hash": to_hex(hash), "index": index });
                vec![
                    json!({ "event": "bestChainBlockIncluded", "block": block }),
                    json!({ "event": "finalized", "block": block }),
                ]
            }
            (Status::Invalid(_), false) => vec![json!("invalid")],
            (Status::Invalid(why), true) => vec![json!({ "event": "invalid", "error": why })],
            (Status::Dropped, false) => vec![json!("dropped")],
            (Status::Dropped, true) => vec![json!({
                "event": "dropped",
                "error": "it waited too long for the transactions before it",
            })],
        }
    }
}

/// What the author thread and the connections share.
pub struct NodeState {
    pub chain: Chain,
    pub pool: Pool<Watcher>,
    /// The demonstration subnet's activity, when the node runs one (`--demo-subnet`).
    pub demo: Option<DemoSubnet>,
    /// Told of each new block (the peer-to-peer side announces it).
    pub new_block: Option<Sender<()>>,
    /// The chain spec with this node's bootnodes (what `DIR/chainspec.json` holds), answered by
    /// `sync_state_genSyncSpec` so that a browser can fetch it from the node it connects to.
    pub light_client_spec: Option<Value>,
    store: Option<Store>,
    /// Subscriptions: connection outbox, subscription id, what it follows.
    subscriptions: Vec<(Sender<String>, String, Kind)>,
}

pub struct Node {
    state: Mutex<NodeState>,
    next_id: AtomicU64,
    /// Kept outside `state`: read proofs are built without the chain's lock.
    tries: Arc<Tries>,
    /// Light-client requests answered over p2p and the bytes of their answers (storage and call
    /// proofs), for measuring what a light client costs (`taoscope_p2pServed`).
    light_served: [AtomicU64; 2],
}

impl Node {
    pub fn new(chain: Chain, store: Option<Store>) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(NodeState {
                chain,
                pool: Pool::default(),
                demo: None,
                new_block: None,
                light_client_spec: None,
                store,
                subscriptions: Vec::new(),
            }),
            next_id: AtomicU64::new(1),
            tries: Arc::default(),
            light_served: Default::default(),
        })
    }

    /// Counts one light-client answer of `bytes` sent to a peer.
    pub fn light_answered(&self, bytes: usize) {
        self.light_served[0].fetch_add(1, Ordering::Relaxed);
        self.light_served[1].fetch_add(bytes as u64, Ordering::Relaxed);
    }

    /// Light-client requests answered so far, and the bytes of the answers.
    pub fn light_served(&self) -> (u64, u64) {
        (
            self.light_served[0].load(Ordering::Relaxed),
            self.light_served[1].load(Ordering::Relaxed),
        )
    }

    /// The state tries that read proofs are built from.
    pub fn tries(&self) -> &Tries {
        &self.tries
    }

    /// The shared state; a panic elsewhere does not make it unreadable (its data stays valid:
    /// every change to it is whole before the lock is released).
    pub fn lock(&self) -> MutexGuard<'_, NodeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn subscription_id(&self) -> String {
        format!("{:016x}", self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Queues this node's own transactions (the demonstration subnet's), refused ones with the
    /// runtime's reason.
    pub fn submit_local(&self, transactions: Vec<Vec<u8>>) -> Result<(), String> {
        let mut guard = self.lock();
        let state = &mut *guard;
        for tx in transactions {
            state
                .pool
                .submit(&mut state.chain, tx, None)
                .map_err(|e| format!("demo subnet transaction refused: {e}"))?;
        }
        Ok(())
    }

    /// Authors the block of `slot` with the pool's transactions, stores it and tells watchers
    /// and subscribers.
    pub fn author(&self, slot: u64) -> Result<u64, String> {
        let mut guard = self.lock();
        let state = &mut *guard;
        if let Some(demo) = &mut state.demo {
            let best = state.chain.best().number;
            let kept = state.chain.state(best).map_err(|e| e.to_string())?;
            let activity = demo.activity(&kept, best + 1).map_err(|e| e.to_string())?;
            for tx in activity {
                if let Err(e) = state.pool.submit(&mut state.chain, tx, None) {
                    eprintln!("demo subnet transaction refused: {e}");
                }
            }
        }
        let told = state
            .pool
            .author(&mut state.chain, slot)
            .map_err(|e| e.to_string())?;
        let best = state.chain.best().clone();
        if let Some(store) = &mut state.store {
            store
                .append(&best.header, &best.body)
                .map_err(|e| format!("cannot store block {}: {e}", best.number))?;
        }
        for (watcher, status) in told {
            if let Status::Invalid(why) = &status {
                eprintln!("transaction refused in block {}: {why}", best.number);
            }
            let Some(watch) = watcher else {
                continue;
            };
            for update in watch.updates(&status, &best) {
                deliver(
                    &watch.outbox,
                    notification(watch.method(), &watch.subscription, update),
                );
            }
        }
        if let Some(new_block) = &state.new_block {
            let _ = new_block.try_send(());
        }
        let chain = &mut state.chain;
        state
            .subscriptions
            .retain_mut(|(outbox, subscription, kind)| match kind.update(chain) {
                Ok(updates) => {
                    let stopped = Follow::stopped(&updates);
                    let delivered = updates.into_iter().all(|update| {
                        deliver(
                            outbox,
                            notification(kind.notification(), subscription, update),
                        )
                    });
                    delivered && !stopped
                }
                // The client learns of it by the connection closing, not by silence.
                Err(e) => {
                    eprintln!(
                        "rpc: subscription {subscription}: {}: closing its connection",
                        e.message
                    );
                    outbox.close();
                    false
                }
            });
        Ok(best.number)
    }
}

/// An account as SS58 text or 0x-prefixed hex of its 32 bytes (parameter 0).
fn account_param(params: &Value) -> Result<[u8; 32], RpcError> {
    let text = params
        .get(0)
        .and_then(Value::as_str)
        .ok_or_else(|| RpcError::invalid_params("account: expected an SS58 address"))?;
    let account = if text.starts_with("0x") {
        from_hex(text)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
    } else {
        taoscope_light_client::ss58::decode_any(text)
            .ok()
            .map(|(_, key)| key)
    };
    account.ok_or_else(|| RpcError::invalid_params(format!("account: {text} is not an address")))
}

/// Queues `message` on a connection; one whose reader stopped reading (its queue full) is
/// closed, so that its client sees the connection end rather than a subscription go quiet.
fn deliver(outbox: &Sender<String>, message: String) -> bool {
    match outbox.try_send(message) {
        Ok(()) => true,
        Err(_) => {
            outbox.close();
            false
        }
    }
}

fn notification(method: &str, subscription: &str, result: Value) -> String {
    json!({
        "jsonrpc": "2.0",
        "method": method,
        "params": { "subscription": subscription, "result": result },
    })
    .to_string()
}

fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// How the author thread paces blocks.
#[derive(Clone, Copy, Debug)]
pub struct Pace {
    /// Time between blocks; less than a slot makes the chain's clock run fast, from a start far
    /// enough in the past that it does not catch up with the wall clock for days.
    pub block_time: Duration,
}

/// Slots the fast clock starts behind the wall clock: 7 days of 12-second slots. Enough for a
/// day and more of 2-second blocks before it reaches the wall clock (after that blocks come at
/// the slot pace); short enough that a checkpoint of this chain is never older, by its slot,
/// than a light client's 30-day limit.
pub const FAST_CLOCK_LEAD: u64 = 7 * 24 * 300;

/// The slot the next block takes: the one after the best block's, unless the chain runs at
/// the slot pace and the wall clock is ahead (a node that was stopped skips the slots it
/// missed, as Aura allows).
pub fn next_slot(best_slot: u64, slot: Duration, pace: Pace) -> u64 {
    let wall = (now().as_millis() / slot.as_millis().max(1)) as u64;
    if pace.block_time < slot {
        best_slot + 1
    } else {
        (best_slot + 1).max(wall)
    }
}

/// The first slot of a fresh chain that authors `backfill` blocks at once.
pub fn first_slot(slot: Duration, pace: Pace, backfill: u64) -> u64 {
    let wall = (now().as_millis() / slot.as_millis().max(1)) as u64;
    let lead = if pace.block_time < slot {
        FAST_CLOCK_LEAD
    } else {
        0
    };
    wall.saturating_sub(backfill + lead).max(1)
}

/// Runs the author thread until `stop` says so; each block waits for its slot's start (wall
/// clock) and for `pace` after the previous one.
pub fn spawn_author(
    node: Arc<Node>,
    pace: Pace,
    stop: mpsc::Receiver<()>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        loop {
            let (slot_duration, best_slot) = {
                let state = node.lock();
                (state.chain.slot_duration(), state.chain.best_slot())
            };
            let slot = next_slot(best_slot, slot_duration, pace);
            let slot_start = Duration::from_millis(
                slot.saturating_mul(u64::try_from(slot_duration.as_millis()).unwrap_or(12_000)),
            );
            let wait = slot_start.saturating_sub(now()).max(pace.block_time);
            match stop.recv_timeout(wait) {
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Asked to stop, or the node is gone.
                _ => return,
            }
            if let Err(e) = node.author(slot) {
                eprintln!("block production failed (retrying next slot): {e}");
            }
        }
    })
}

/// Accepts WebSocket connections until the listener fails.
pub async fn serve(listener: TcpListener, node: Arc<Node>, policy: RpcPolicy) {
    let policy = Arc::new(policy);
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let (node, policy, open) = (node.clone(), policy.clone(), open.clone());
                smol::spawn(async move {
                    let admitted = open.fetch_add(1, Ordering::SeqCst) < policy.max_connections;
                    if let Err(e) = connection(stream, node, &policy, admitted).await {
                        eprintln!("rpc {peer}: {e}");
                    }
                    open.fetch_sub(1, Ordering::SeqCst);
                })
                .detach();
            }
            Err(e) => {
                eprintln!("rpc: accept failed: {e}");
                smol::Timer::after(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Runs `work` for at most `limit`; `None` when it took longer.
async fn within<T>(limit: Duration, work: impl std::future::Future<Output = T>) -> Option<T> {
    smol::future::or(async { Some(work.await) }, async {
        smol::Timer::after(limit).await;
        None
    })
    .await
}

async fn connection(
    stream: TcpStream,
    node: Arc<Node>,
    policy: &RpcPolicy,
    admitted: bool,
) -> Result<(), String> {
    use soketto::handshake::server::Response;
    // Request and answer, one at a time: without this each small reply waits for an ACK.
    let _ = stream.set_nodelay(true);
    let mut server = soketto::handshake::Server::new(stream);
    let request = within(policy.handshake_timeout, server.receive_request())
        .await
        .ok_or("no WebSocket handshake in time")?
        .map_err(|e| format!("not a WebSocket handshake: {e}"))?;
    let origin = request.headers().origin.map(<[u8]>::to_vec);
    let key = request.key();
    let refusal = if !admitted {
        Some((
            503,
            format!("{} connections are open already", policy.max_connections),
        ))
    } else if !policy.allows(origin.as_deref()) {
        Some((
            403,
            format!(
                "origin {} is not allowed (--rpc-origin adds one)",
                String::from_utf8_lossy(origin.as_deref().unwrap_or_default())
            ),
        ))
    } else {
        None
    };
    if let Some((status_code, why)) = refusal {
        let _ = server
            .send_response(&Response::Reject { status_code })
            .await;
        return Err(format!("refused: {why}"));
    }
    server
        .send_response(&Response::Accept {
            key,
            protocol: None,
        })
        .await
        .map_err(|e| format!("handshake: {e}"))?;
    let mut builder = server.into_builder();
    builder.set_max_message_size(MAX_MESSAGE);
    let (mut sender, mut receiver) = builder.finish();
    let (outbox, inbox): (Sender<String>, Receiver<String>) = bounded(OUTBOX);
    let writer = smol::spawn(async move {
        while let Ok(message) = inbox.recv().await {
            if sender.send_text_owned(message).await.is_err() || sender.flush().await.is_err() {
                break;
            }
        }
        let _ = sender.close().await;
        inbox.close();
    });
    let mut message = Vec::new();
    let result = loop {
        message.clear();
        // A connection that only listens (subscriptions) may be quiet for long; one that does
        // neither is closed after the idle timeout.
        let subscribed = subscriptions_of(&node.lock(), &outbox) > 0;
        let received = if subscribed {
            Some(receiver.receive_data(&mut message).await)
        } else {
            within(policy.idle_timeout, receiver.receive_data(&mut message)).await
        };
        match received {
            Some(Ok(_)) => {}
            Some(Err(soketto::connection::Error::Closed)) => break Ok(()),
            Some(Err(e)) => break Err(format!("dropped: {e}")),
            None => break Err("idle: closed".into()),
        }
        let mut delivered = true;
        for reply in handle(&node, &outbox, &message, policy).await {
            delivered &= outbox.send(reply).await.is_ok();
        }
        if !delivered {
            break Ok(());
        }
    };
    outbox.close();
    writer.await;
    result
}

/// One JSON-RPC request: the reply (errors included), then what an operation sends after it.
/// A request that starts a subscription queues its reply and first notifications itself, under
/// the node's lock, so that no block's notification can overtake them.
async fn handle(
    node: &Node,
    outbox: &Sender<String>,
    message: &[u8],
    policy: &RpcPolicy,
) -> Vec<String> {
    let request: Value = match serde_json::from_slice(message) {
        Ok(request) => request,
        Err(e) => {
            let error = json!({
                "jsonrpc": "2.0",
                "id": null,
                "error": { "code": -32700, "message": format!("not JSON: {e}") },
            });
            return vec![error.to_string()];
        }
    };
    let id = request.get("id").cloned().unwrap_or(Value::Null);
    let method = request.get("method").and_then(Value::as_str).unwrap_or("");
    let params = request.get("params").cloned().unwrap_or(json!([]));
    if method.starts_with("chainHead_v1_")
        && !matches!(method, "chainHead_v1_follow" | "chainHead_v1_unfollow")
    {
        return chain_head(node, outbox, &id, method, &params).await;
    }
    if method == "system_accountNextIndex" {
        return vec![reply(&id, account_next_index(node, &params).await)];
    }
    // Read proofs and runtime calls: what they need is taken under the lock, the work is done
    // after it is released, away from the connections' executor.
    let prepared = rpc::prepare(&mut node.lock().chain, method, &params);
    let answer = match prepared {
        Some(Ok(heavy)) => {
            let tries = Arc::clone(&node.tries);
            smol::unblock(move || rpc::run(heavy, &tries)).await
        }
        Some(Err(error)) => Err(error),
        None => match dispatch(node, outbox, &id, method, &params, policy) {
            Ok(Answered::Reply(result)) => Ok(result),
            Ok(Answered::Queued) => return Vec::new(),
            Err(error) => Err(error),
        },
    };
    vec![reply(&id, answer)]
}

/// The account's nonce on chain (the runtime's own answer, run after the lock is released),
/// plus its transactions still in the pool: the nonce its next transaction takes.
async fn account_next_index(node: &Node, params: &Value) -> Result<Value, RpcError> {
    let account = account_param(params)?;
    let heavy = {
        let mut state = node.lock();
        let best = to_hex(&state.chain.best().hash);
        let call = json!(["AccountNonceApi_account_nonce", to_hex(&account), best]);
        rpc::prepare(&mut state.chain, "state_call", &call).ok_or_else(|| RpcError {
            code: 4002,
            message: "state_call is not prepared".into(),
        })??
    };
    let tries = Arc::clone(&node.tries);
    let output = smol::unblock(move || rpc::run(heavy, &tries)).await?;
    let bytes = output
        .as_str()
        .and_then(|text| from_hex(text).ok())
        .unwrap_or_default();
    let on_chain = match bytes.as_slice() {
        [a, b, c, d] => u64::from(u32::from_le_bytes([*a, *b, *c, *d])),
        bytes => u64::from_le_bytes(bytes.try_into().map_err(|_| RpcError {
            code: 4002,
            message: "AccountNonceApi_account_nonce: not a u32 or u64".into(),
        })?),
    };
    let pending = node.lock().pool.pending_from(&account) as u64;
    Ok(json!(on_chain + pending))
}

/// What `dispatch` did with a request.
enum Answered {
    /// The result, for the caller to reply with.
    Reply(Value),
    /// The reply and what follows it are queued on the connection already.
    Queued,
}

/// Subscriptions of the connection with `outbox`: its follows and legacy subscriptions, and its
/// watched transactions still in the pool.
fn subscriptions_of(state: &NodeState, outbox: &Sender<String>) -> usize {
    let watched = state
        .pool
        .watchers()
        .filter(|w| w.as_ref().is_some_and(|w| w.outbox.same_channel(outbox)))
        .count();
    watched
        + state
            .subscriptions
            .iter()
            .filter(|(o, ..)| o.same_channel(outbox))
            .count()
}

fn reply(id: &Value, answer: Result<Value, RpcError>) -> String {
    match answer {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(RpcError { code, message }) => {
            json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
        }
    }
    .to_string()
}

/// An operation of the new interface on a block pinned by one of this connection's follow
/// subscriptions: the reply, then the operation's events (work that reads a whole state or runs
/// the runtime is done after the lock is released).
async fn chain_head(
    node: &Node,
    outbox: &Sender<String>,
    id: &Value,
    method: &str,
    params: &Value,
) -> Vec<String> {
    let follow_id = params
        .get(0)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let operation = {
        let mut guard = node.lock();
        let NodeState {
            subscriptions,
            chain,
            ..
        } = &mut *guard;
        let follow = subscriptions
            .iter_mut()
            .find_map(|(o, s, kind)| match kind {
                Kind::Follow(follow) if *s == follow_id && o.same_channel(outbox) => Some(follow),
                _ => None,
            });
        match follow {
            // A follow that ended (unfollowed, or stopped by the node) or was never this
            // connection's: what the specification answers for each, no error.
            None => Ok(Operation::Now {
                reply: match method {
                    "chainHead_v1_body" | "chainHead_v1_call" | "chainHead_v1_storage" => {
                        json!({ "result": "limitReached" })
                    }
                    _ => Value::Null,
                },
                events: Vec::new(),
            }),
            Some(follow) if method == "chainHead_v1_unpin" => {
                follow.unpin(params).map(|reply| Operation::Now {
                    reply,
                    events: Vec::new(),
                })
            }
            Some(follow) => modern::operation(follow, chain, method, params)
                .unwrap_or_else(|| Err(RpcError::not_found(method))),
        }
    };
    let (answer, events) = match operation {
        Err(error) => (Err(error), Vec::new()),
        Ok(Operation::Now { reply, events }) => (Ok(reply), events),
        Ok(Operation::Later { reply, work }) => {
            let tries = Arc::clone(&node.tries);
            let events = smol::unblock(move || modern::finish(*work, &tries)).await;
            (Ok(reply), events)
        }
    };
    std::iter::once(reply(id, answer))
        .chain(
            events
                .into_iter()
                .map(|event| notification(modern::FOLLOW_EVENT, &follow_id, event)),
        )
        .collect()
}

fn dispatch(
    node: &Node,
    outbox: &Sender<String>,
    request_id: &Value,
    method: &str,
    params: &Value,
    policy: &RpcPolicy,
) -> Result<Answered, RpcError> {
    let mut guard = node.lock();
    let state = &mut *guard;
    let subscriptions = subscriptions_of(state, outbox);
    let subscribes = method.contains("_subscribe")
        || matches!(
            method,
            "author_submitAndWatchExtrinsic"
                | "chainHead_v1_follow"
                | "transactionWatch_v1_submitAndWatch"
        );
    if subscribes && subscriptions >= policy.max_subscriptions {
        return Err(RpcError {
            code: -32000,
            message: format!(
                "{} subscriptions are open on this connection already",
                policy.max_subscriptions
            ),
        });
    }
    if let Some(answer) = rpc::answer(&mut state.chain, method, params) {
        return answer.map(Answered::Reply);
    }
    if method == "taoscope_p2pServed" {
        let (requests, bytes) = node.light_served();
        return Ok(Answered::Reply(
            json!({ "lightRequests": requests, "lightBytes": bytes }),
        ));
    }
    if method == "sync_state_genSyncSpec" {
        // Substrate's answer carries a BABE `lightSyncState`; this Aura chain has none, and
        // smoldot-light starts from genesis and warp-syncs (a checkpoint is `taoscope_checkpoint`).
        return state
            .light_client_spec
            .clone()
            .map(Answered::Reply)
            .ok_or(RpcError {
                code: 4003,
                message: "the node is not serving peers yet".into(),
            });
    }
    if method == "chainHead_v1_follow" {
        let follows = state
            .subscriptions
            .iter()
            .filter(|(o, _, kind)| o.same_channel(outbox) && matches!(kind, Kind::Follow(_)))
            .count();
        if follows >= modern::MAX_FOLLOWS {
            return Err(RpcError {
                code: -32800,
                message: format!(
                    "{} follow subscriptions are open on this connection already",
                    modern::MAX_FOLLOWS
                ),
            });
        }
    }
    if let Some(kind) = Kind::of(method, params) {
        let mut kind = kind?;
        let id = node.subscription_id();
        // What it follows now first, as Substrate does; queued with the reply under the lock.
        let first = kind.update(&mut state.chain)?;
        deliver(outbox, reply(request_id, Ok(json!(id))));
        for event in first {
            deliver(outbox, notification(kind.notification(), &id, event));
        }
        state.subscriptions.push((outbox.clone(), id, kind));
        return Ok(Answered::Queued);
    }
    let unfollow = method == "chainHead_v1_unfollow";
    if (method.contains("_unsubscribe") || unfollow) && rpc::METHODS.contains(&method) {
        let id = params.get(0).and_then(Value::as_str).unwrap_or("");
        let before = state.subscriptions.len();
        state
            .subscriptions
            .retain(|(o, s, kind)| !(s == id && o.same_channel(outbox) && kind.ended_by(method)));
        let ended = state.subscriptions.len() < before;
        return Ok(Answered::Reply(if unfollow {
            Value::Null
        } else {
            json!(ended)
        }));
    }
    match method {
        "author_submitExtrinsic"
        | "author_submitAndWatchExtrinsic"
        | "transactionWatch_v1_submitAndWatch"
        | "transaction_v1_broadcast" => {
            let text = params.get(0).and_then(Value::as_str).ok_or_else(|| {
                RpcError::invalid_params("extrinsic: expected a 0x-prefixed hex string")
            })?;
            let extrinsic =
                from_hex(text).map_err(|e| RpcError::invalid_params(format!("extrinsic: {e}")))?;
            let modern = method.starts_with("transaction");
            let watch = matches!(
                method,
                "author_submitAndWatchExtrinsic" | "transactionWatch_v1_submitAndWatch"
            );
            let subscription = node.subscription_id();
            let watcher = watch.then(|| Watch {
                outbox: outbox.clone(),
                subscription: subscription.clone(),
                modern,
                hash: extrinsic_hash(&extrinsic),
            });
            let submitted = state.pool.submit(&mut state.chain, extrinsic, watcher);
            if modern {
                // The new interface answers with an id whatever becomes of the transaction;
                // a watcher hears why it was refused, a broadcast's refusal is logged.
                let refused = submitted.err().map(|e| match e {
                    crate::pool::SubmitError::Invalid(why) => {
                        json!({ "event": "invalid", "error": why })
                    }
                    other => json!({ "event": "dropped", "error": other.to_string() }),
                });
                deliver(outbox, reply(request_id, Ok(json!(subscription))));
                if watch {
                    let first = refused.unwrap_or_else(|| json!({ "event": "validated" }));
                    deliver(
                        outbox,
                        notification("transactionWatch_v1_watchEvent", &subscription, first),
                    );
                } else if let Some(why) = refused {
                    eprintln!("rpc: broadcast transaction refused: {}", why["error"]);
                }
                return Ok(Answered::Queued);
            }
            let hash = submitted.map_err(|e| match e {
                crate::pool::SubmitError::Invalid(why) => RpcError::invalid_transaction(why),
                other => RpcError {
                    code: 1012,
                    message: other.to_string(),
                },
            })?;
            if !watch {
                return Ok(Answered::Reply(json!(to_hex(&hash))));
            }
            deliver(outbox, reply(request_id, Ok(json!(subscription))));
            deliver(
                outbox,
                notification("author_extrinsicUpdate", &subscription, json!("ready")),
            );
            Ok(Answered::Queued)
        }
        "transaction_v1_stop" => Ok(Answered::Reply(Value::Null)),
        "transactionWatch_v1_unwatch" | "author_unwatchExtrinsic" => {
            let id = params.get(0).and_then(Value::as_str).unwrap_or("");
            let mut found = false;
            for watcher in state.pool.watchers_mut() {
                if watcher
                    .as_ref()
                    .is_some_and(|w| w.subscription == id && w.outbox.same_channel(outbox))
                {
                    *watcher = None;
                    found = true;
                }
            }
            Ok(Answered::Reply(if method == "author_unwatchExtrinsic" {
                json!(found)
            } else {
                Value::Null
            }))
        }
        _ => Err(RpcError::not_found(method)),
    }
}
