//! The light-client worker: smoldot-light and the typed Bittensor client, off the page's thread
//! so that syncing (warp-sync proofs, runtime compilation, storage proofs) never freezes it.
//!
//! It receives [`ChainRequest`]s as JSON strings and posts [`ChainResponse`]s: a status whenever
//! the chain moves, and one answer per read. Reads run one at a time between the chain's events,
//! so that the block they read at stays pinned under them.

use futures_channel::mpsc::{UnboundedReceiver, UnboundedSender, unbounded};
use futures_util::StreamExt as _;
use futures_util::future::{self, Either};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;
use taoscope_app::chain_protocol::{
    AuditAnswer, ChainRequest, ChainResponse, ChainStatus, Included, Phase, Portfolio, PreparedTx,
    RuntimeMetadata, Sent, SubnetVerdict, TransportChoice, TxIntent, VerdictState, Verified,
    WORKER_READY, YieldsAnswer,
};
use taoscope_app::epoch_protocol::ProvenEpoch;
use taoscope_light_client::audit::{EpochAudit, NotAudited};
use taoscope_light_client::client::light::LightTransport;
use taoscope_light_client::client::verified_rpc;
use taoscope_light_client::client::{
    AnyTransport, BittensorClient, ChainEvent, ClientError, TransactionEvent, Transport,
};
use taoscope_light_client::hex::{from_hex, from_hex_array, to_hex};
use taoscope_light_client::metagraph::SubnetSummary;
use taoscope_light_client::platform::browser::{BrowserPlatform, now_ms, sleep};
use taoscope_light_client::verified::checkpoint::{
    Acceptance, AgePolicy, BITTENSOR_SLOT_MS, Checkpoint,
};
use taoscope_light_client::yields::{EpochPayouts, subnet_yields};
use taoscope_light_client::{extrinsic, runtime_api, ss58, staking, wallet};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent, SharedWorkerGlobalScope};

type Client = BittensorClient<AnyTransport<BrowserPlatform>>;

/// How often verified RPC asks its endpoints for a newer finalized block (Bittensor: 12 s
/// blocks; the localnet's are shorter).
const VERIFIED_POLL_MS: u64 = 1000;

/// How often the peer count is asked for.
const HEALTH_EVERY: Duration = Duration::from_secs(2);
/// Room for smoldot's database with the runtime in it (spec 103's is about 0.4 MiB).
const DATABASE_BYTES: u64 = 4 << 20;
/// A read that takes longer is given up (its operations stopped), so that the status keeps
/// moving when the peers are gone; the page asks again at the next finalized block.
const READ_TIMEOUT: Duration = Duration::from_secs(15);
/// An audit request reads two whole states and recomputes an epoch: it is given longer.
const AUDIT_TIMEOUT: Duration = Duration::from_secs(60);
/// Reads that meet a restarted follow or an unpinned block try once more at once.
const ATTEMPTS: usize = 2;
/// A submitted transaction is followed until final: on a real chain that is two or three
/// blocks of 12 s (past this its end is unknown, and said so).
const SUBMIT_TIMEOUT: Duration = Duration::from_secs(90);
/// Mortality of the transactions prepared for wallets: 64 blocks (about 13 minutes of 12-second
/// blocks) to sign and submit, as btcli gives.
const MORTAL_PERIOD: u64 = 64;
/// Prepared transactions kept for their wallet's answer (the oldest dropped first).
const PENDING_KEPT: usize = 16;

/// Audited epochs kept per subnet in this session (the oldest dropped first).
const AUDITS_KEPT: usize = 64;

/// Transactions prepared for a wallet, by request id, until the wallet answers: what the
/// wallet's signature must verify against.
#[derive(Default)]
struct Pending {
    prepared: BTreeMap<u32, Prepared>,
    /// Submitted and followed from the follow loop, between reads, until final.
    watched: Vec<Watched>,
    /// The RFC-0078 metadata hash each runtime (by code hash) is signed with: `None` where it
    /// has no `CheckMetadataHash`, or was built without the hash (mode 0 then).
    metadata_hashes: BTreeMap<[u8; 32], Option<[u8; 32]>>,
}

/// A submitted transaction being followed.
struct Watched {
    id: u32,
    /// The transport's watch subscription.
    watch: String,
    extrinsic_hash: String,
    /// When it was sent (ms): past [`SUBMIT_TIMEOUT`] its end is unknown.
    since: f64,
    /// The finalized block and index it was included at, once known (and when, ms): its events
    /// are read next.
    included: Option<(String, u32, f64)>,
    /// Validated or sent to peers: from then on a refusal by one node does not mean it will not
    /// be included.
    broadcast: bool,
}

struct Prepared {
    metadata: std::rc::Rc<taoscope_light_client::metadata::Metadata>,
    tx: extrinsic::Transaction,
    call: Vec<u8>,
    account: [u8; 32],
}

/// Epochs audited in this session, by subnet and epoch block, newest last, and what a report of
/// them says was trusted.
struct Audits {
    epochs: BTreeMap<(u16, u64), taoscope_light_client::audit::EpochAudit>,
    /// Epochs that cannot be audited, with why (not asked again).
    refused: BTreeMap<(u16, u64), String>,
    /// Subnets' newest epochs the transport cannot prove (their blocks not held), passed over
    /// by "Audit every subnet" until the subnet's next epoch.
    unprovable: BTreeMap<(u16, u64), String>,
    /// The epoch block before each epoch block walked past (0: none), proven once: finalized
    /// blocks do not change, so a walk through audited epochs reads nothing again.
    previous: BTreeMap<(u16, u64), u64>,
    /// What each audited epoch's validators were paid, read once (for yields).
    payouts: BTreeMap<(u16, u64), EpochPayouts>,
    /// The `Yields` ask that last gave each subnet its turn (round robin: a subnet whose reads
    /// fail or take the whole budget goes behind the others).
    yields_turns: BTreeMap<u16, u64>,
    yields_asks: u64,
    genesis_hash: String,
    trusted: String,
}

impl Audits {
    /// Whether the epoch at `block` of `netuid` was audited or refused already.
    fn knows(&self, netuid: u16, block: u64) -> bool {
        self.epochs.contains_key(&(netuid, block)) || self.refused.contains_key(&(netuid, block))
    }

    /// The proven input and stored results of each of `epochs` in the book (those not in it
    /// are left out).
    fn proven(&self, epochs: &[(u16, u64)]) -> Vec<ProvenEpoch> {
        epochs
            .iter()
            .filter_map(|key| self.epochs.get(key))
            .map(|audit| ProvenEpoch {
                netuid: audit.netuid,
                block: audit.block.number,
                input: audit.input.clone(),
                stored: audit.stored.clone(),
            })
            .collect()
    }

    /// Keeps the newest [`AUDITS_KEPT`] audited and refused epochs of `netuid`, and as many
    /// links of its walk (the walk never goes deeper).
    fn prune(&mut self, netuid: u16) {
        fn keep_newest<V>(map: &mut BTreeMap<(u16, u64), V>, netuid: u16) {
            let blocks: Vec<u64> = map
                .range((netuid, 0)..=(netuid, u64::MAX))
                .map(|(&(_, block), _)| block)
                .collect();
            for block in blocks.iter().take(blocks.len().saturating_sub(AUDITS_KEPT)) {
                map.remove(&(netuid, *block));
            }
        }
        keep_newest(&mut self.epochs, netuid);
        keep_newest(&mut self.refused, netuid);
        keep_newest(&mut self.previous, netuid);
        keep_newest(&mut self.payouts, netuid);
    }

    /// Audits one epoch into the book: its audit, or why it cannot be audited (an upgrade next
    /// to it, an unsupported runtime: said beside the others). What may pass (a proof no peer
    /// gave, a block the transport no longer holds) is the caller's to judge.
    async fn audit(
        &mut self,
        client: &mut Client,
        netuid: u16,
        block: u64,
    ) -> Result<(), ClientError> {
        match client.audit_epoch(netuid, block, &[]).await {
            Ok(epoch) => {
                self.epochs.insert((netuid, block), epoch);
            }
            Err(ClientError::Audit(why)) => {
                self.refused.insert((netuid, block), why.to_string());
            }
            Err(error) => return Err(error),
        }
        self.prune(netuid);
        Ok(())
    }
}

fn main() {
    console_error_panic_hook::set_once();
    let (inbox_in, inbox): (
        UnboundedSender<ChainRequest>,
        UnboundedReceiver<ChainRequest>,
    ) = unbounded();
    let global = js_sys::global();
    let outbox = if let Some(scope) = global.dyn_ref::<DedicatedWorkerGlobalScope>() {
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let request = event
                .data()
                .as_string()
                .and_then(|text| serde_json::from_str::<ChainRequest>(&text).ok());
            if let Some(request) = request {
                let _ = inbox_in.unbounded_send(request);
            }
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the worker
        let _ = scope.post_message(&JsValue::from_str(WORKER_READY));
        Outbox::Page(scope.clone())
    } else if let Some(scope) = global.dyn_ref::<SharedWorkerGlobalScope>() {
        frames::listen(scope, inbox_in)
    } else {
        return;
    };
    wasm_bindgen_futures::spawn_local(serve(outbox, inbox));
}

/// Where answers go: the app's page (a dedicated worker), or the widget frames of a shared one.
#[derive(Clone)]
enum Outbox {
    Page(DedicatedWorkerGlobalScope),
    Frames(Rc<RefCell<frames::Frames>>),
}

fn post(scope: &Outbox, response: &ChainResponse) {
    match scope {
        Outbox::Page(page) => {
            if let Ok(text) = serde_json::to_string(response) {
                let _ = page.post_message(&JsValue::from_str(&text));
            }
        }
        Outbox::Frames(frames) => frames.borrow_mut().post(response.clone()),
    }
}

/// The shared worker's side of [`taoscope_app::hub`]: the frames' ports.
mod frames {
    use super::Outbox;
    use futures_channel::mpsc::UnboundedSender;
    use std::cell::RefCell;
    use std::collections::BTreeMap;
    use std::rc::Rc;
    use taoscope_app::chain_protocol::{ChainRequest, ChainResponse, WORKER_READY};
    use taoscope_app::hub::{BYE, Hub, PortId};
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::{MessageEvent, MessagePort, SharedWorkerGlobalScope};

    pub struct Frames {
        hub: Hub,
        ports: BTreeMap<PortId, MessagePort>,
    }

    impl Frames {
        pub fn post(&mut self, response: ChainResponse) {
            let outgoing = self.hub.outbound(response);
            self.send(outgoing);
        }

        fn send(&self, outgoing: Vec<(PortId, ChainResponse)>) {
            for (port, response) in outgoing {
                if let (Some(to), Ok(text)) =
                    (self.ports.get(&port), serde_json::to_string(&response))
                {
                    let _ = to.post_message(&JsValue::from_str(&text));
                }
            }
        }
    }

    /// Takes the frames that connected while the wasm loaded (kept by the worker's start-up
    /// script, `light-shared-worker.js`, in `taoscopePorts`) and every later one.
    pub fn listen(scope: &SharedWorkerGlobalScope, inbox: UnboundedSender<ChainRequest>) -> Outbox {
        let frames = Rc::new(RefCell::new(Frames {
            hub: Hub::default(),
            ports: BTreeMap::new(),
        }));
        let add = {
            let frames = frames.clone();
            move |port: MessagePort| attach(&frames, port, inbox.clone())
        };
        if let Ok(early) = js_sys::Reflect::get(scope, &JsValue::from_str("taoscopePorts"))
            && let Ok(early) = early.dyn_into::<js_sys::Array>()
        {
            for port in early
                .iter()
                .filter_map(|p| p.dyn_into::<MessagePort>().ok())
            {
                add(port);
            }
        }
        let on_connect = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            if let Ok(port) = event.ports().get(0).dyn_into::<MessagePort>() {
                add(port);
            }
        });
        scope.set_onconnect(Some(on_connect.as_ref().unchecked_ref()));
        on_connect.forget();
        Outbox::Frames(frames)
    }

    fn attach(
        frames: &Rc<RefCell<Frames>>,
        port: MessagePort,
        inbox: UnboundedSender<ChainRequest>,
    ) {
        let id = {
            let mut f = frames.borrow_mut();
            let id = f.hub.connect();
            f.ports.insert(id, port.clone());
            id
        };
        let on_message = {
            let frames = frames.clone();
            Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
                let Some(text) = event.data().as_string() else {
                    return;
                };
                let mut f = frames.borrow_mut();
                if text == BYE {
                    f.hub.leave(id);
                    f.ports.remove(&id);
                    return;
                }
                let Ok(request) = serde_json::from_str::<ChainRequest>(&text) else {
                    return;
                };
                let (forward, now) = f.hub.inbound(id, request);
                f.send(now);
                if let Some(request) = forward {
                    let _ = inbox.unbounded_send(request);
                }
            })
        };
        port.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget(); // lives as long as the port
        let _ = port.post_message(&JsValue::from_str(WORKER_READY));
    }
}

struct Start {
    chain_spec: String,
    database: String,
    secure_page: bool,
    metadata: Option<Box<RuntimeMetadata>>,
    verbose: bool,
    transport: TransportChoice,
}

impl Start {
    /// The start `request` asks for, or the request back when it is a read.
    fn from_request(request: ChainRequest) -> Result<Start, ChainRequest> {
        match request {
            ChainRequest::Start {
                chain_spec,
                database,
                secure_page,
                metadata,
                verbose,
                transport,
            } => Ok(Start {
                chain_spec,
                database,
                secure_page,
                metadata,
                verbose,
                transport,
            }),
            other => Err(other),
        }
    }
}

/// The answer to `request` when it fails with `why` (`None` for requests without one).
fn failure(request: &ChainRequest, why: String) -> Option<ChainResponse> {
    match request {
        ChainRequest::Subnets { id } => Some(ChainResponse::Subnets {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Metagraph { id, .. } => Some(ChainResponse::Metagraph {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Audit { id, netuid, .. } => Some(ChainResponse::Audit {
            id: *id,
            netuid: *netuid,
            result: Err(why),
        }),
        ChainRequest::AuditAll { id } => Some(ChainResponse::AuditAll {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Portfolio { id, address } => Some(ChainResponse::Portfolio {
            id: *id,
            address: address.clone(),
            result: Err(why),
        }),
        ChainRequest::Prepare { id, .. } => Some(ChainResponse::Prepared {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Quote { id, .. } => Some(ChainResponse::Quote {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Moves { id } => Some(ChainResponse::Moves {
            id: *id,
            result: Err(why),
        }),
        // Not taken up at all: nothing was sent (one that timed out while being sent is the
        // caller's: unknown).
        ChainRequest::Submit { id, .. } => Some(ChainResponse::Submitted {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::AuditInputs { id, .. } => Some(ChainResponse::AuditInputs {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Yields { id, .. } => Some(ChainResponse::Yields {
            id: *id,
            result: Err(why),
        }),
        ChainRequest::Start { .. } | ChainRequest::Database => None,
    }
}

/// Answers reads that arrive while no chain is followed.
fn not_following(scope: &Outbox, request: ChainRequest) {
    let why = "no chain is followed yet: choose a network first".to_string();
    if let Some(response) = failure(&request, why) {
        post(scope, &response);
    }
}

async fn serve(scope: Outbox, mut inbox: UnboundedReceiver<ChainRequest>) {
    let mut next = None;
    loop {
        let start = match next.take() {
            Some(start) => start,
            None => match wait_for_start(&scope, &mut inbox).await {
                Some(start) => start,
                None => return,
            },
        };
        next = follow(&scope, start, &mut inbox).await;
        if next.is_none() {
            return;
        }
    }
}

/// The chain's name from its spec, for the header.
fn chain_name(chain_spec: &str) -> String {
    serde_json::from_str::<serde_json::Value>(chain_spec)
        .ok()
        .and_then(|spec| spec["name"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Follows one chain until the page asks for another (returned) or goes away (`None`).
async fn follow(
    scope: &Outbox,
    start: Start,
    inbox: &mut UnboundedReceiver<ChainRequest>,
) -> Option<Start> {
    let started = now_ms();
    let mut status = ChainStatus {
        phase: Phase::Syncing,
        chain_name: chain_name(&start.chain_spec),
        from_database: !start.database.is_empty(),
        ..ChainStatus::default()
    };
    let transport = match &start.transport {
        TransportChoice::P2p => {
            let platform = BrowserPlatform::new(start.secure_page, start.verbose);
            LightTransport::start(platform, &start.chain_spec, &start.database)
                .map(AnyTransport::P2p)
        }
        TransportChoice::VerifiedRpc {
            checkpoint,
            endpoints,
            genesis_hash,
            max_age_ms,
        } => Checkpoint::from_json(checkpoint)
            .map_err(|e| ClientError::Runtime(e.to_string()))
            .and_then(|checkpoint| {
                // The page checked the checkpoint; the worker holds it to the same rules, so a
                // page bug cannot start the client from another chain or an old checkpoint.
                let acceptance = from_hex_array(genesis_hash)
                    .ok()
                    .map(|genesis_hash| Acceptance {
                        genesis_hash,
                        slot_ms: BITTENSOR_SLOT_MS,
                        now_ms: js_sys::Date::now() as u64,
                        age: max_age_ms.map_or(AgePolicy::Accepted, AgePolicy::MaxAge),
                    });
                if let Some(acceptance) = &acceptance {
                    checkpoint.accept(acceptance).map_err(|e| {
                        ClientError::Runtime(format!("the checkpoint cannot be used: {e}"))
                    })?;
                }
                Ok(AnyTransport::VerifiedRpc(verified_rpc::browser::start(
                    checkpoint,
                    endpoints.clone(),
                    verified_rpc::Settings {
                        poll_ms: VERIFIED_POLL_MS,
                        acceptance,
                        ..verified_rpc::Settings::default()
                    },
                )))
            }),
    };
    let client = transport.and_then(BittensorClient::new);
    let mut client = match client {
        Ok(mut client) => {
            // Recent blocks stay readable over smoldot-light too: an epoch a few blocks back
            // can be audited.
            client.keep_pinned(taoscope_light_client::client::MAX_KEEP_PINNED);
            client
        }
        Err(error) => {
            status.phase = Phase::Failed;
            status.error = Some(error.to_string());
            post(scope, &ChainResponse::Status(status));
            return wait_for_start(scope, inbox).await;
        }
    };
    status.transport = client.transport().name().to_string();
    // The chain's genesis: the chain spec's (p2p) or the checkpoint's (verified RPC), both what
    // the user trusts.
    let genesis_hash = client
        .request("chainSpec_v1_genesisHash", serde_json::json!([]))
        .await
        .ok()
        .and_then(|h| h.as_str().map(str::to_string))
        .unwrap_or_default();
    // Metadata kept from an earlier visit, for this chain only; it is used only once the
    // runtime's code, proven again, hashes to what it was kept under. Anything else is read again.
    if let Some(kept) = &start.metadata
        && kept.genesis_hash == genesis_hash
        && let Ok(code_hash) = from_hex_array::<32>(&kept.code_hash)
        && let Ok(bytes) = from_hex(&kept.hex)
    {
        let _ = client.remember_metadata(code_hash, bytes);
    }
    // The bytes the page keeps now: sent again only when they change (read anew, or kept
    // bytes the runtime's own replaced).
    let mut metadata_sent = client
        .known_code_hash()
        .or_else(|| {
            let kept = start.metadata.as_ref()?;
            from_hex_array::<32>(&kept.code_hash).ok()
        })
        .and_then(|code_hash| client.metadata_bytes(&code_hash));
    post(scope, &ChainResponse::Status(status.clone()));
    let mut posted = status.clone();
    let mut queue: VecDeque<ChainRequest> = VecDeque::new();
    let trusted = match &start.transport {
        TransportChoice::P2p => format!(
            "the chain spec of {} (genesis {genesis_hash})",
            chain_name(&start.chain_spec)
        ),
        TransportChoice::VerifiedRpc { checkpoint, .. } => Checkpoint::from_json(checkpoint)
            .map(|c| {
                format!(
                    "checkpoint at block #{} ({}), GRANDPA set {}",
                    c.number,
                    to_hex(&c.hash),
                    c.set_id
                )
            })
            .unwrap_or_default(),
    };
    let mut audits = Audits {
        epochs: Default::default(),
        refused: Default::default(),
        previous: Default::default(),
        unprovable: Default::default(),
        payouts: Default::default(),
        yields_turns: Default::default(),
        yields_asks: 0,
        genesis_hash: genesis_hash.clone(),
        trusted,
    };
    let mut pending = Pending::default();
    let mut next_health = now_ms();
    loop {
        match client.events().await {
            Ok(events) => apply(&mut status, events, started),
            Err(error) => status.error = Some(error.to_string()),
        }
        if let AnyTransport::VerifiedRpc(transport) = client.transport() {
            let report = transport.report();
            // No finalized block yet and every endpoint failed: say why.
            if status.finalized.is_none() {
                status.error.clone_from(&report.last_error);
            }
            status.trust = Some(Box::new(report));
        }
        // The first value read through proofs, as soon as there is a finalized block.
        if status.phase == Phase::Live && status.first_value_ms.is_none() {
            match read_subnets(&mut client, &mut status, started).await {
                Ok(_) => status.first_value_ms = Some(now_ms() - started),
                Err(error) => status.error = Some(error),
            }
        }
        // The runtime's metadata, once read, for the page to keep (by chain and code hash).
        if let (Some(runtime), Some(code_hash)) = (&status.runtime, client.known_code_hash()) {
            let key = to_hex(&code_hash);
            if let Some(bytes) = client.metadata_bytes(&code_hash)
                && !metadata_sent
                    .as_ref()
                    .is_some_and(|sent| std::rc::Rc::ptr_eq(sent, &bytes))
            {
                post(
                    scope,
                    &ChainResponse::Metadata(RuntimeMetadata {
                        genesis_hash: genesis_hash.clone(),
                        code_hash: key.clone(),
                        spec_name: runtime.spec_name.clone(),
                        spec_version: runtime.spec_version,
                        hex: to_hex(&bytes),
                    }),
                );
                metadata_sent = Some(bytes);
            }
        }
        if now_ms() >= next_health {
            next_health = now_ms() + HEALTH_EVERY.as_secs_f64() * 1000.0;
            let peers = {
                let asked = pin!(client.peers());
                match future::select(asked, sleep(HEALTH_EVERY)).await {
                    Either::Left((answer, _)) => Some(answer),
                    Either::Right(_) => None,
                }
            };
            match peers {
                Some(Ok(peers)) => status.peers = peers,
                Some(Err(error)) => status.error = Some(error.to_string()),
                // smoldot is busy with its sync: ask again next time.
                None => client.abandon(),
            }
        }
        if status != posted {
            post(scope, &ChainResponse::Status(status.clone()));
            posted = status.clone();
        }
        follow_submitted(&mut client, &mut pending, scope).await;
        // One read per turn, so that the status (peers, blocks) keeps moving between reads.
        if let Some(request) = queue.pop_front() {
            let timeout = match request {
                ChainRequest::Audit { .. }
                | ChainRequest::AuditAll { .. }
                | ChainRequest::Yields { .. } => AUDIT_TIMEOUT,
                _ => READ_TIMEOUT,
            };
            let why = format!(
                "no answer within {} s: the peers may be gone or slow",
                timeout.as_secs()
            );
            let too_slow = match &request {
                // It may have been sent before the transport stalled: its end is unknown.
                ChainRequest::Submit { id, .. } => Some(ChainResponse::Submitted {
                    id: *id,
                    result: Ok(Sent::Unknown { why }),
                }),
                _ => failure(&request, why),
            };
            let response = {
                let read = pin!(answer(
                    &mut client,
                    &mut audits,
                    &mut pending,
                    &mut status,
                    started,
                    request
                ));
                match future::select(read, sleep(timeout)).await {
                    Either::Left((response, _)) => response,
                    Either::Right(_) => None,
                }
            };
            match response {
                Some(response) => post(scope, &response),
                None => {
                    client.abandon();
                    if let Some(response) = too_slow {
                        post(scope, &response);
                    }
                }
            }
            continue;
        }

        let wait = Duration::from_secs_f64(((next_health - now_ms()) / 1000.0).max(0.0));
        let woke = {
            let message = pin!(inbox.next());
            let pumped = pin!(client.pump());
            match future::select(message, future::select(pumped, sleep(wait))).await {
                Either::Left((message, _)) => Woke::Page(message),
                Either::Right((Either::Left((Err(error), _)), _)) => Woke::Stopped(error),
                Either::Right(_) => Woke::Chain,
            }
        };
        match woke {
            Woke::Page(Some(request)) => match Start::from_request(request) {
                Ok(start) => {
                    let why = "another network was chosen";
                    let_go_of_submitted(scope, &mut pending, why);
                    unanswered(scope, queue, why);
                    return Some(start);
                }
                Err(request) => queue.push_back(request),
            },
            Woke::Page(None) => return None,
            Woke::Stopped(error) => {
                let_go_of_submitted(scope, &mut pending, &error.to_string());
                unanswered(scope, std::mem::take(&mut queue), &error.to_string());
                status.phase = Phase::Failed;
                status.error = Some(error.to_string());
                post(scope, &ChainResponse::Status(status));
                return wait_for_start(scope, inbox).await;
            }
            Woke::Chain => {}
        }
    }
}

/// What ended a wait of the follow loop.
enum Woke {
    Page(Option<ChainRequest>),
    Stopped(ClientError),
    Chain,
}

async fn wait_for_start(
    scope: &Outbox,
    inbox: &mut UnboundedReceiver<ChainRequest>,
) -> Option<Start> {
    loop {
        match Start::from_request(inbox.next().await?) {
            Ok(start) => return Some(start),
            Err(other) => not_following(scope, other),
        }
    }
}

/// Folds the chain's events into the status.
fn apply(status: &mut ChainStatus, events: Vec<ChainEvent>, started: f64) {
    for event in events {
        match event {
            ChainEvent::Finalized(block) => {
                if status.first_finalized_ms.is_none() {
                    status.first_finalized_ms = Some(now_ms() - started);
                }
                if status.best.as_ref().is_none_or(|b| b.number < block.number) {
                    status.best = Some(block.clone());
                }
                status.finalized = Some(block);
                status.phase = Phase::Live;
                status.error = None;
            }
            ChainEvent::Best(block) => status.best = Some(block),
            ChainEvent::Runtime(spec) => status.runtime = Some(spec),
            ChainEvent::Restarted => {
                // smoldot re-follows after a gap (a peer lost and found again): the numbers
                // shown stay until the new subscription reports.
            }
        }
    }
}

/// Whether a read should be tried again at the next finalized block.
fn retriable(error: &ClientError) -> bool {
    matches!(
        error,
        ClientError::Restarted | ClientError::Inaccessible { .. } | ClientError::NotSynced
    )
}

/// One read at the newest finalized block, `read(client, block hash)`, with the block it was
/// proven at.
async fn read_verified<T>(
    client: &mut Client,
    status: &mut ChainStatus,
    started: f64,
    read: impl AsyncFn(&mut Client, &str) -> Result<T, ClientError>,
) -> Result<Verified<T>, String> {
    let mut last = String::new();
    for _ in 0..ATTEMPTS {
        let at = client.read_block().map_err(|e| e.to_string())?;
        match read(client, &at.hash).await {
            Ok(value) => return Ok(Verified { at, value }),
            Err(error) if retriable(&error) => {
                // Read again at whatever the chain reports now (a new follow subscription, a
                // newer finalized block); a chain that is not moving fails fast instead, and the
                // page keeps what it showed and asks again at the next finalized block.
                last = error.to_string();
                if let Ok(events) = client.events().await {
                    apply(status, events, started);
                }
            }
            Err(error) => return Err(error.to_string()),
        }
    }
    Err(last)
}

async fn read_subnets(
    client: &mut Client,
    status: &mut ChainStatus,
    started: f64,
) -> Result<Verified<Vec<SubnetSummary>>, String> {
    read_verified(
        client,
        status,
        started,
        async |client: &mut Client, at: &str| client.subnets(at).await,
    )
    .await
}

/// Audits subnet `netuid`'s last `epochs` epochs that the transport can prove, one new one per
/// call (so that the status keeps moving between them: a 256-uid subnet's two states are a few
/// thousand proven values; the page asks again at the next finalized block), and answers with
/// every epoch of the subnet audited in this session. The newest epoch not yet audited goes
/// first, so that the first verdict waits for one epoch's reads only.
async fn audit(
    client: &mut Client,
    audits: &mut Audits,
    netuid: u16,
    epochs: u16,
) -> Result<AuditAnswer, String> {
    let at = client.read_block().map_err(|e| e.to_string())?;
    let wanted = usize::from(epochs).min(AUDITS_KEPT);
    let mut older = None;
    let mut passed = 0;
    let mut next = None;
    let mut block = client
        .latest_epoch(netuid)
        .await
        .map_err(|e| e.to_string())?;
    while block != 0 && passed < wanted {
        if !audits.knows(netuid, block) {
            next = Some(block);
            break;
        }
        passed += 1;
        if passed == wanted {
            break;
        }
        block = match audits.previous.get(&(netuid, block)) {
            Some(&before) => before,
            None => match client.epoch_before(netuid, block).await {
                Ok(before) => {
                    audits.previous.insert((netuid, block), before);
                    before
                }
                // Too old for the transport by now: said, not an error.
                Err(ClientError::NotHeld(why)) => {
                    older = Some(why);
                    break;
                }
                // The newer epochs audited stay shown, with why no older one is.
                Err(error) => {
                    older = Some(format!(
                        "the epoch before #{block} could not be found: {error}"
                    ));
                    break;
                }
            },
        };
    }
    if let Some(block) = next {
        match audits.audit(client, netuid, block).await {
            Ok(()) => passed += 1,
            Err(ClientError::NotHeld(why)) => older = Some(why),
            Err(error) => return Err(format!("the epoch at block #{block}: {error}")),
        }
    }
    // An upper bound (the page says "up to"): the walk learns where the epochs the transport
    // can prove end only when it gets there.
    let pending = if next.is_some() && older.is_none() {
        wanted.saturating_sub(passed)
    } else {
        0
    };
    audits.prune(netuid);
    Ok(AuditAnswer {
        at,
        epochs: audits
            .epochs
            .range((netuid, 0)..=(netuid, u64::MAX))
            .rev()
            .map(|(_, epoch)| epoch.clone())
            .collect(),
        pending,
        older,
        not_audited: audits
            .refused
            .range((netuid, 0)..=(netuid, u64::MAX))
            .rev()
            .map(|(&(_, block), why)| NotAudited {
                block,
                why: why.clone(),
            })
            .collect(),
        transport: client.transport().name().to_string(),
        genesis_hash: audits.genesis_hash.clone(),
        trusted: audits.trusted.clone(),
    })
}

/// How long one `Yields` ask may audit and read proofs before it answers with what it has (the
/// rest at the next ask): requests behind it (a transaction to prepare) wait no longer.
const YIELDS_BUDGET_MS: f64 = 5_000.0;

/// Every subnet's yields: each subnet's walk of [`audit`] (one new epoch per ask), then the
/// payouts of its newest `epochs` audited epochs (read once each, kept beside the audits).
/// Subnets take turns (the one served longest ago first); past [`YIELDS_BUDGET_MS`] the others
/// answer from what is kept and their new epochs wait for the next ask. A subnet whose reads
/// fail still shows what it has, with why.
async fn yields(
    client: &mut Client,
    audits: &mut Audits,
    epochs: u16,
) -> Result<YieldsAnswer, String> {
    let started = now_ms();
    let in_budget = || now_ms() - started < YIELDS_BUDGET_MS;
    let at = client.read_block().map_err(|e| e.to_string())?;
    let subnets = client.subnets(&at.hash).await.map_err(|e| e.to_string())?;
    let block_time_ms = client.block_time_ms().await.map_err(|e| e.to_string())?;
    audits.yields_asks += 1;
    let ask = audits.yields_asks;
    let mut order: Vec<u16> = subnets.iter().map(|s| s.netuid).collect();
    order.sort_by_key(|n| audits.yields_turns.get(n).copied().unwrap_or(0));
    let (mut out, mut notes, mut pending) = (Vec::new(), Vec::new(), 0);
    for netuid in order {
        if in_budget() {
            audits.yields_turns.insert(netuid, ask);
            match audit(client, audits, netuid, epochs).await {
                Ok(answer) => {
                    pending += answer.pending;
                    if let Some(why) = answer
                        .not_audited
                        .first()
                        .filter(|_| answer.epochs.is_empty())
                    {
                        notes.push((netuid, why.why.clone()));
                    }
                }
                Err(why) => notes.push((netuid, why)),
            }
        }
        let audited: Vec<EpochAudit> = audits
            .epochs
            .range((netuid, 0)..=(netuid, u64::MAX))
            .rev()
            .map(|(_, epoch)| epoch.clone())
            .collect();
        let mut paid = Vec::new();
        for epoch in audited.iter().take(usize::from(epochs)) {
            let key = (netuid, epoch.block.number);
            if let Some(payouts) = audits.payouts.get(&key) {
                paid.push(payouts.clone());
                continue;
            }
            if !in_budget() {
                pending += 1;
                continue;
            }
            match client.epoch_payouts(epoch).await {
                Ok(payouts) => {
                    paid.push(payouts.clone());
                    audits.payouts.insert(key, payouts);
                }
                Err(ClientError::NotHeld(_)) => notes.push((
                    netuid,
                    format!(
                        "epoch #{}: no longer held by the transport, left out",
                        key.1
                    ),
                )),
                Err(e) => notes.push((netuid, format!("the payouts of #{}: {e}", key.1))),
            }
        }
        match subnet_yields(&paid, block_time_ms) {
            Some(subnet) => out.push(subnet),
            None if !notes.iter().any(|(n, _)| *n == netuid) => {
                notes.push((netuid, "no epoch audited yet".into()));
            }
            None => {}
        }
    }
    out.sort_by_key(|s| s.netuid);
    notes.sort_by_key(|(n, _)| *n);
    Ok(YieldsAnswer {
        at,
        subnets: out,
        pending,
        notes,
        transport: client.transport().name().to_string(),
    })
}

/// The latest epoch of every subnet at the newest finalized block, one new audit per call
/// (kept with the subnets' own audits). A subnet not yet audited in this session goes first, so
/// that one whose epochs come faster than they are audited does not keep the others waiting;
/// until its newest epoch is audited, a subnet shows its latest audited one.
async fn audit_all(
    client: &mut Client,
    audits: &mut Audits,
) -> Result<Verified<Vec<SubnetVerdict>>, String> {
    let at = client.read_block().map_err(|e| e.to_string())?;
    let subnets = client.subnets(&at.hash).await.map_err(|e| e.to_string())?;
    let mut latest = Vec::with_capacity(subnets.len());
    for subnet in &subnets {
        let epoch = client
            .latest_epoch(subnet.netuid)
            .await
            .map_err(|e| e.to_string())?;
        latest.push((subnet.netuid, epoch));
    }
    let newest_audited = |audits: &Audits, netuid: u16| {
        audits
            .epochs
            .range((netuid, 0)..=(netuid, u64::MAX))
            .next_back()
            .map(|(&(_, block), audit)| (block, audit.checked, audit.mismatches.len()))
    };
    // An epoch whose blocks the transport does not hold (a light client that has just started
    // never saw the block before a subnet's newest epoch) is passed over, not refused: the
    // subnet waits for its next epoch, and the others take their turns meanwhile.
    audits
        .unprovable
        .retain(|key, _| latest.iter().any(|newest| newest == key));
    let next = latest
        .iter()
        .filter(|&&(netuid, epoch)| {
            epoch != 0
                && !audits.knows(netuid, epoch)
                && !audits.unprovable.contains_key(&(netuid, epoch))
        })
        // Never audited first, then the one whose newest verdict is oldest: every subnet gets
        // its turn, however fast another's epochs come.
        .min_by_key(|&&(netuid, _)| newest_audited(audits, netuid).map(|(block, ..)| block));
    if let Some(&(netuid, epoch)) = next {
        match audits.audit(client, netuid, epoch).await {
            Ok(()) => {}
            Err(ClientError::NotHeld(why)) => {
                audits.unprovable.insert((netuid, epoch), why);
            }
            Err(error) => return Err(format!("subnet {netuid}: {error}")),
        }
    }
    let verdicts = latest
        .into_iter()
        .map(|(netuid, epoch)| {
            let refused = audits.refused.get(&(netuid, epoch));
            let unprovable = audits.unprovable.get(&(netuid, epoch));
            let newer = (epoch != 0).then_some(epoch);
            let (epoch, state) = match (epoch, refused, newest_audited(audits, netuid), unprovable)
            {
                (0, ..) => (None, VerdictState::Unaudited("no epoch yet".into())),
                (_, Some(why), ..) => (Some(epoch), VerdictState::Unaudited(why.clone())),
                (_, None, Some((block, checked, mismatches)), _) => (
                    Some(block),
                    VerdictState::Audited {
                        checked,
                        mismatches,
                    },
                ),
                (_, None, None, Some(why)) => (
                    Some(epoch),
                    VerdictState::Unaudited(format!("{why}; its next epoch will be")),
                ),
                (_, None, None, None) => (Some(epoch), VerdictState::Pending),
            };
            SubnetVerdict {
                netuid,
                newer: newer.filter(|&newest| Some(newest) != epoch),
                epoch,
                state,
            }
        })
        .collect();
    Ok(Verified {
        at,
        value: verdicts,
    })
}

/// The staking moves of the runtime in force at the newest finalized block.
async fn moves(client: &mut Client) -> Result<Vec<staking::Move>, String> {
    let at = client.read_block().map_err(|e| e.to_string())?;
    let metadata = client.metadata(&at.hash).await.map_err(|e| e.to_string())?;
    Ok(staking::moves(&metadata))
}

/// Builds the intended call from its account for a wallet to sign, at the newest finalized
/// block, with the fee the runtime charges for it there; kept in `pending` (under `id`) for the
/// wallet's answer, or only quoted where there is none.
async fn prepare(
    client: &mut Client,
    pending: &mut Pending,
    keep: bool,
    genesis_hash: &str,
    id: u32,
    intent: TxIntent,
) -> Result<PreparedTx, String> {
    let started = now_ms();
    let TxIntent {
        from,
        pallet,
        call,
        mut args,
        tolerance_ppm,
    } = intent;
    let account = ss58::decode(&from).map_err(|e| format!("the account {from}: {e}"))?;
    let at = client.read_block().map_err(|e| e.to_string())?;
    // The runtime's own (kept bytes are checked against it before their first use).
    let metadata = client.metadata(&at.hash).await.map_err(|e| e.to_string())?;
    let fields = args
        .as_object_mut()
        .ok_or("the call's arguments must be named")?;
    if let Some(tolerance) = tolerance_ppm {
        limit_price(client, &at.hash, &metadata, &call, fields, tolerance).await?;
    }
    let encoded =
        extrinsic::encode_call(&metadata, &pallet, &call, fields).map_err(|e| e.to_string())?;
    let runtime = client
        .runtime()
        .cloned()
        .ok_or("the runtime in force is not known yet")?;
    let genesis = from_hex_array::<32>(genesis_hash)
        .map_err(|_| "the chain's genesis hash is not known".to_string())?;
    let balances = client
        .account(&at.hash, &from)
        .await
        .map_err(|e| e.to_string())?;
    let birth_hash = from_hex_array::<32>(&at.hash).map_err(|e| e.to_string())?;
    let tx = extrinsic::Transaction {
        spec_version: runtime.spec_version,
        transaction_version: runtime.transaction_version,
        genesis_hash: genesis,
        mortality: extrinsic::Mortality::Mortal {
            period: MORTAL_PERIOD,
            birth_number: at.number,
            birth_hash,
        },
        nonce: balances.nonce,
        tip: 0,
        metadata_hash: None,
    };
    let tx = extrinsic::Transaction {
        metadata_hash: metadata_hash(client, pending, &at.hash, &metadata, &tx, &encoded).await,
        ..tx
    };
    let payload =
        wallet::signer_payload(&metadata, &tx, &encoded, &account, ss58::BITTENSOR_PREFIX)
            .map_err(|e| e.to_string())?;
    let fee = fee(client, &at.hash, &metadata, &tx, &encoded, &account).await;
    let swap = swap_quote(client, &at.hash, &metadata, &call, &args).await;
    if keep {
        while pending.prepared.len() >= PENDING_KEPT {
            pending.prepared.pop_first();
        }
        pending.prepared.insert(
            id,
            Prepared {
                metadata,
                tx,
                call: encoded,
                account,
            },
        );
    }
    Ok(PreparedTx {
        payload,
        from,
        pallet,
        call,
        args,
        nonce: balances.nonce,
        birth: at,
        period: MORTAL_PERIOD,
        spec_version: runtime.spec_version,
        fee,
        free: balances.free,
        took_ms: now_ms() - started,
        tolerance_ppm,
        swap,
    })
}

/// The metadata hash to sign `tx` with (mode 1), decided once per runtime. A runtime built
/// without the hash refuses every mode-1 transaction (`CheckMetadataHash` cannot look it up), and
/// one whose hash differs from ours (another token, an encoder bug) refuses every signature made
/// over ours. So the runtime itself is asked first, on proven state: the same call signed over
/// our hash by a throwaway, unfunded key ([`runtime_api::has_our_metadata_hash`] reads its
/// verdict). A verdict is kept for the runtime; a failed ask is not (mode 0 this time, asked
/// again next time), so a passing transport error does not turn mode 1 off for good.
async fn metadata_hash(
    client: &mut Client,
    pending: &mut Pending,
    at: &str,
    metadata: &taoscope_light_client::metadata::Metadata,
    tx: &extrinsic::Transaction,
    call: &[u8],
) -> Option<[u8; 32]> {
    let code_hash = client.known_code_hash()?;
    if let Some(decided) = pending.metadata_hashes.get(&code_hash) {
        return *decided;
    }
    let bytes = client.metadata_bytes(&code_hash)?;
    let Some(hash) = wallet::metadata_hash_to_sign(metadata, &bytes)
        .ok()
        .flatten()
    else {
        // No CheckMetadataHash, or no V15 to hash: mode 0 for this runtime.
        pending.metadata_hashes.insert(code_hash, None);
        return None;
    };
    let probe = extrinsic::Transaction {
        metadata_hash: Some(hash),
        nonce: 0,
        ..tx.clone()
    };
    let throwaway =
        taoscope_light_client::keys::Sr25519Signer::dev("taoscope-metadata-hash-probe")?;
    let signed = extrinsic::sign_ready(metadata, &probe, call, &throwaway).ok()?;
    let request = runtime_api::validity_request(&signed, &from_hex_array::<32>(at).ok()?);
    let validity = client.call(at, &request.method, &request.data).await.ok()?;
    let decided = runtime_api::has_our_metadata_hash(&validity).then_some(hash);
    pending.metadata_hashes.insert(code_hash, decided);
    decided
}

/// The fee the runtime at `at` charges for the transaction: its `TransactionPaymentApi` run on
/// proven state over the extrinsic with a placeholder signature (the same length as the
/// wallet's; the signature itself does not count).
async fn fee(
    client: &mut Client,
    at: &str,
    metadata: &taoscope_light_client::metadata::Metadata,
    tx: &extrinsic::Transaction,
    call: &[u8],
    account: &[u8; 32],
) -> Result<u64, String> {
    let (explicit, _) = extrinsic::extensions(metadata, tx).map_err(|e| e.to_string())?;
    let unsigned = extrinsic::signed_extrinsic(
        call,
        &explicit,
        account,
        extrinsic::Scheme::Sr25519,
        &[0; 64],
    );
    let request = runtime_api::fee_request(&unsigned);
    let output = client
        .call(at, &request.method, &request.data)
        .await
        .map_err(|e| format!("the runtime's fee: {e}"))?;
    runtime_api::decode_fee(metadata, &output).map_err(|e| e.to_string())
}

/// What staking or unstaking this amount on its subnet would give, by the runtime's own swap
/// simulation on the proven state of `at`; `None` where the runtime has no swap (spec 103
/// stakes TAO as it is) or the call moves no amount through a subnet's pool.
async fn swap_quote(
    client: &mut Client,
    at: &str,
    metadata: &taoscope_light_client::metadata::Metadata,
    call: &str,
    args: &serde_json::Value,
) -> Option<Result<runtime_api::SwapQuote, String>> {
    let (method, amount) = if call.starts_with("add_stake") {
        ("sim_swap_tao_for_alpha", args.get("amount_staked")?)
    } else if call.starts_with("remove_stake") {
        ("sim_swap_alpha_for_tao", args.get("amount_unstaked")?)
    } else {
        return None;
    };
    metadata.runtime_api("SwapRuntimeApi", method)?;
    let netuid = args.get("netuid")?.clone();
    let request = runtime_api::request(
        metadata,
        "SwapRuntimeApi",
        method,
        &[netuid, amount.clone()],
    );
    Some(
        async {
            let request = request.map_err(|e| e.to_string())?;
            let output = client
                .call(at, &request.method, &request.data)
                .await
                .map_err(|e| format!("the runtime's swap simulation: {e}"))?;
            runtime_api::swap_quote(metadata, method, &output).map_err(|e| e.to_string())
        }
        .await,
    )
}

/// Fills `limit_price` of a limit call the user gave no price for: the runtime's own current
/// price of the subnet's alpha (`SwapRuntimeApi.current_alpha_price`, run on the proven state of
/// `at`) moved by `tolerance_ppm` against the user (up when buying, down when selling).
async fn limit_price(
    client: &mut Client,
    at: &str,
    metadata: &taoscope_light_client::metadata::Metadata,
    call: &str,
    fields: &mut serde_json::Map<String, serde_json::Value>,
    tolerance_ppm: u32,
) -> Result<(), String> {
    if fields.contains_key("limit_price") {
        return Ok(());
    }
    let buying = call.starts_with("add_stake");
    if !buying && !call.starts_with("remove_stake") {
        return Err(format!(
            "{call} needs a limit price typed in: this page derives one only for adding and removing stake"
        ));
    }
    let netuid = fields
        .get("netuid")
        .cloned()
        .ok_or_else(|| format!("{call} has a limit price but no netuid to price it on"))?;
    let price = client
        .runtime_api(
            at,
            metadata,
            "SwapRuntimeApi",
            "current_alpha_price",
            &[netuid],
        )
        .await
        .map_err(|e| format!("the subnet's price: {e}"))?
        .as_u64()
        .ok_or("the subnet's price is not a whole number of rao")?;
    // A zero price or limit would let a sale go at any price: refused, never signed.
    let limit = runtime_api::limit_price(price, tolerance_ppm, buying);
    if price == 0 || limit == 0 {
        return Err(format!(
            "no safe limit from a price of {price} rao per alpha and a tolerance of {tolerance_ppm} ppm: type a limit price"
        ));
    }
    fields.insert("limit_price".into(), limit.into());
    Ok(())
}

/// Checks a wallet's answer to prepared transaction `id` and submits it; the follow loop then
/// follows it ([`follow_submitted`]). `Err`: nothing was sent.
async fn submit(
    client: &mut Client,
    pending: &mut Pending,
    id: u32,
    signature: &str,
    returned: Option<&str>,
) -> Result<(), String> {
    let prepared = pending
        .prepared
        .remove(&id)
        .ok_or("this transaction was not prepared here, or was submitted already")?;
    let extrinsic = wallet::signed_transaction(
        &prepared.metadata,
        &prepared.tx,
        &prepared.call,
        &prepared.account,
        signature,
        returned,
    )
    .map_err(|e| e.to_string())?;
    let watch = client
        .submit_and_watch(&extrinsic)
        .await
        .map_err(|e| format!("the node did not take it: {e}"))?;
    pending.watched.push(Watched {
        id,
        watch,
        extrinsic_hash: to_hex(&extrinsic::extrinsic_hash(&extrinsic)),
        since: now_ms(),
        included: None,
        broadcast: false,
    });
    Ok(())
}

/// Answers the requests still queued when the chain stops being followed, so that none waits
/// for ever (a queued submission was not sent).
fn unanswered(scope: &Outbox, queue: VecDeque<ChainRequest>, why: &str) {
    for request in queue {
        if let Some(response) = failure(&request, format!("not done: {why}")) {
            post(scope, &response);
        }
    }
}

/// Ends the following of every submitted transaction (the chain is no longer followed): each
/// one's end is unknown, and the page is told so rather than left waiting.
fn let_go_of_submitted(scope: &Outbox, pending: &mut Pending, why: &str) {
    for watched in pending.watched.drain(..) {
        post(
            scope,
            &ChainResponse::Submitted {
                id: watched.id,
                result: Ok(Sent::Unknown {
                    why: format!("no longer followed: {why}"),
                }),
            },
        );
    }
}

/// One turn of following the submitted transactions: what their watches said since the last
/// turn (each stage posted), and for one included in a finalized block, what the runtime's
/// events there say of its call. Once sent, whatever goes wrong is [`Sent::Unknown`], never an
/// error: the transaction may still be included until its mortality ends.
async fn follow_submitted(client: &mut Client, pending: &mut Pending, scope: &Outbox) {
    let mut ended = Vec::new();
    for (at, watched) in pending.watched.iter_mut().enumerate() {
        let unknown = |why: String| Ok(Sent::Unknown { why });
        while watched.included.is_none() {
            let Some(event) = client.take_transaction_event(&watched.watch) else {
                break;
            };
            let stage = match event {
                // Validated: a node may gossip it from then on (nodes no longer say when).
                TransactionEvent::Validated => {
                    watched.broadcast = true;
                    "validated by the runtime".to_string()
                }
                TransactionEvent::Broadcasted => {
                    watched.broadcast = true;
                    "broadcast to peers".to_string()
                }
                TransactionEvent::InBestBlock(Some(block)) => {
                    format!("in block {block}, not final yet")
                }
                TransactionEvent::InBestBlock(None) => "back in the pool".to_string(),
                TransactionEvent::Finalized(block, Some(index)) => {
                    watched.included = Some((block, index, now_ms()));
                    break;
                }
                TransactionEvent::Finalized(block, None) => {
                    ended.push((
                        at,
                        unknown(format!(
                            "included in block {block}, at a place the transport does not say"
                        )),
                    ));
                    break;
                }
                // Refused by the runtime before inclusion: nothing happened, the user may try
                // again.
                TransactionEvent::Invalid(why) if !watched.broadcast => {
                    ended.push((at, Err(format!("the runtime refused it: {why}"))));
                    break;
                }
                // Refused once it was out: peers may still include it.
                TransactionEvent::Invalid(why) => {
                    ended.push((
                        at,
                        unknown(format!("refused after it was broadcast ({why})")),
                    ));
                    break;
                }
                TransactionEvent::Dropped(why) | TransactionEvent::Error(why) => {
                    ended.push((at, unknown(format!("no longer followed ({why})"))));
                    break;
                }
            };
            post(
                scope,
                &ChainResponse::Progress {
                    id: watched.id,
                    stage,
                },
            );
        }
        if ended.last().is_some_and(|(i, _)| *i == at) {
            continue;
        }
        if watched.included.is_none()
            && now_ms() - watched.since > SUBMIT_TIMEOUT.as_secs_f64() * 1000.0
        {
            ended.push((
                at,
                unknown(format!(
                    "no finalized block included it within {} s",
                    SUBMIT_TIMEOUT.as_secs()
                )),
            ));
            continue;
        }
        let Some((block, index, found)) = watched.included.clone() else {
            continue;
        };
        let outcome = {
            let read = pin!(client.extrinsic_outcome(&block, index));
            match future::select(read, sleep(READ_TIMEOUT)).await {
                Either::Left((outcome, _)) => Some(outcome),
                Either::Right(_) => None,
            }
        };
        let outcome = outcome.unwrap_or_else(|| {
            client.abandon();
            Err(ClientError::NotSynced)
        });
        match outcome {
            Ok(outcome) => ended.push((
                at,
                Ok(Sent::Included(Included {
                    extrinsic_hash: watched.extrinsic_hash.clone(),
                    block,
                    index,
                    outcome: outcome.result,
                    events: outcome.events,
                })),
            )),
            // The watch may report the block before this client's follow reaches it: only
            // that is waited out, for a while.
            Err(ClientError::NotHeld(_) | ClientError::Restarted | ClientError::NotSynced)
                if now_ms() - found < SUBMIT_TIMEOUT.as_secs_f64() * 1000.0 => {}
            Err(e) => ended.push((
                at,
                unknown(format!(
                    "included in block {block} at {index}; its events: {e}"
                )),
            )),
        }
        // One events read per turn, so that the status and the page's reads keep moving.
        break;
    }
    for (at, result) in ended.into_iter().rev() {
        let watched = pending.watched.remove(at);
        client.forget_transaction(&watched.watch);
        post(
            scope,
            &ChainResponse::Submitted {
                id: watched.id,
                result,
            },
        );
    }
}

async fn answer(
    client: &mut Client,
    audits: &mut Audits,
    pending: &mut Pending,
    status: &mut ChainStatus,
    started: f64,
    request: ChainRequest,
) -> Option<ChainResponse> {
    Some(match request {
        ChainRequest::AuditAll { id } => ChainResponse::AuditAll {
            id,
            result: audit_all(client, audits).await,
        },
        ChainRequest::AuditInputs { id, epochs } => ChainResponse::AuditInputs {
            id,
            result: serde_json::to_string(&audits.proven(&epochs)).map_err(|e| e.to_string()),
        },
        ChainRequest::Audit { id, netuid, epochs } => ChainResponse::Audit {
            id,
            netuid,
            result: audit(client, audits, netuid, epochs).await,
        },
        ChainRequest::Yields { id, epochs } => ChainResponse::Yields {
            id,
            result: yields(client, audits, epochs).await,
        },
        ChainRequest::Subnets { id } => ChainResponse::Subnets {
            id,
            result: read_subnets(client, status, started).await,
        },
        ChainRequest::Prepare { id, intent } => ChainResponse::Prepared {
            id,
            result: prepare(client, pending, true, &audits.genesis_hash, id, intent).await,
        },
        ChainRequest::Quote { id, intent } => ChainResponse::Quote {
            id,
            result: prepare(client, pending, false, &audits.genesis_hash, id, intent).await,
        },
        ChainRequest::Moves { id } => ChainResponse::Moves {
            id,
            result: moves(client).await,
        },
        ChainRequest::Submit {
            id,
            signature,
            signed_transaction,
        } => match submit(
            client,
            pending,
            id,
            &signature,
            signed_transaction.as_deref(),
        )
        .await
        {
            Ok(()) => ChainResponse::Progress {
                id,
                stage: "submitted".into(),
            },
            Err(why) => ChainResponse::Submitted {
                id,
                result: Err(why),
            },
        },
        ChainRequest::Portfolio { id, address } => ChainResponse::Portfolio {
            id,
            result: read_verified(
                client,
                status,
                started,
                async |client: &mut Client, at: &str| {
                    Ok(Portfolio {
                        account: client.account(at, &address).await?,
                        stakes: client.stake_positions(at, &address).await?,
                    })
                },
            )
            .await,
            address,
        },
        ChainRequest::Metagraph { id, netuid } => ChainResponse::Metagraph {
            id,
            result: read_verified(
                client,
                status,
                started,
                async |client: &mut Client, at: &str| client.metagraph(at, netuid).await,
            )
            .await,
        },
        ChainRequest::Database => {
            let content = client.database(DATABASE_BYTES).await.ok()?;
            let genesis_hash = client
                .request("chainSpec_v1_genesisHash", serde_json::json!([]))
                .await
                .ok()
                .and_then(|h| h.as_str().map(str::to_string))
                .unwrap_or_default();
            ChainResponse::Database {
                genesis_hash,
                content,
            }
        }
        ChainRequest::Start { .. } => return None,
    })
}
