//! The page's side of the light client: one worker for the app's lifetime, the chain spec of the
//! chosen network, smoldot's saved database, and the signals every page reads.
//!
//! Trust: over p2p the page trusts only the chain spec (its genesis). For the localnet the spec
//! is fetched from the node on this machine (`sync_state_genSyncSpec`) or imported by the user;
//! from there the light client verifies every header and value itself. Over verified RPC it
//! trusts only a checkpoint (shipped for the localnet, imported for Finney) and proves every
//! endpoint answer from there. Nothing shown as verified comes from a node's word.
//!
//! A checkpoint must be of the network's chain (its genesis hash) and young enough (its block's
//! Aura slot, not what the file says; 30 days by default, editable), unless the user accepts it
//! explicitly. The last block proven over verified RPC is saved, with its authority set, and the
//! next visit starts from it (after the same checks) rather than from an old checkpoint. What is
//! kept in this browser (metadata, that block) is keyed by the chain's genesis and, for metadata,
//! by the hash of the proven runtime code; importing a checkpoint clears what does not belong to
//! it.

use crate::chain_protocol::{
    AuditAnswer, ChainRequest, ChainResponse, ChainStatus, Phase, Portfolio, PreparedTx, Sent,
    SubnetVerdict, TransportChoice, TxIntent, Verified, WORKER_READY, YieldsAnswer,
};
use crate::rpc::RpcClient;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::json;
use taoscope_light_client::hex::{from_hex_array, to_hex};
use taoscope_light_client::metagraph::{Metagraph, SubnetSummary};
use taoscope_light_client::staking::Move;
use taoscope_light_client::verified::checkpoint::{
    Acceptance, AgePolicy, BITTENSOR_SLOT_MS, Checkpoint, CheckpointError, DEFAULT_MAX_AGE_MS,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{MessageEvent, MessagePort, Worker, WorkerOptions, WorkerType};

/// Where Trunk puts the worker's loader (see `app/index.html`).
// Absolute: the app answers deep links (`/subnets/1/audit`), where a relative URL would miss.
const WORKER_URL: &str = "/light-worker_loader.js";

/// A network the app can follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// `taoscope-localnet` on this machine: the real subtensor runtime, no internet needed.
    Localnet,
    /// The same localnet through verified RPC: its JSON-RPC, every answer proven from the
    /// shipped checkpoint (its genesis).
    LocalnetVerified,
    /// A chain spec the user imported (file or URL).
    Imported,
    /// Bittensor mainnet, through verified RPC.
    Finney,
}

impl Network {
    pub const ALL: [Network; 4] = [
        Network::Localnet,
        Network::LocalnetVerified,
        Network::Imported,
        Network::Finney,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Network::Localnet => "localnet",
            Network::LocalnetVerified => "localnet-verified",
            Network::Imported => "imported",
            Network::Finney => "finney",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Network::Localnet => "Localnet (this machine)",
            Network::LocalnetVerified => "Localnet over verified RPC",
            Network::Imported => "Imported chain spec",
            Network::Finney => "Finney (mainnet, verified RPC)",
        }
    }

    /// The chain, in words ("Finney").
    pub fn chain_name(self) -> &'static str {
        match self {
            Network::Localnet | Network::LocalnetVerified => "the localnet",
            Network::Imported => "the imported chain",
            Network::Finney => "Finney",
        }
    }

    /// Followed through verified RPC (from a checkpoint) rather than smoldot-light (p2p).
    pub fn verified(self) -> bool {
        matches!(self, Network::LocalnetVerified | Network::Finney)
    }

    pub fn from_id(id: &str) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.id() == id)
    }
}

pub use taoscope_light_client::networks::{
    FINNEY_GENESIS, FINNEY_RPC, LOCALNET_CHECKPOINT, LOCALNET_RPC as DEFAULT_LOCALNET_RPC,
};

mod keys {
    pub const NETWORK: &str = "taoscope.network";
    pub const LOCALNET_RPC: &str = "taoscope.localnet.rpc";
    pub const IMPORTED_SPEC: &str = "taoscope.chainspec.imported";

    pub fn spec(network: &str) -> String {
        format!("taoscope.chainspec.{network}")
    }

    pub fn database(network: &str) -> String {
        format!("taoscope.smoldot-db.{network}")
    }

    pub fn metadata(network: &str) -> String {
        format!("taoscope.metadata.{network}")
    }

    pub fn checkpoint(network: &str) -> String {
        format!("taoscope.checkpoint.{network}")
    }

    pub fn endpoints(network: &str) -> String {
        format!("taoscope.endpoints.{network}")
    }

    /// The last block proven over verified RPC, as a checkpoint (the next visit's start).
    pub fn resume(network: &str) -> String {
        format!("taoscope.resume.{network}")
    }

    /// The block hash of a checkpoint the user accepted although it is older than the maximum.
    pub fn accepted(network: &str) -> String {
        format!("taoscope.checkpoint-accepted.{network}")
    }

    /// The maximum checkpoint age in days (all networks).
    pub const MAX_AGE_DAYS: &str = "taoscope.checkpoint-max-age-days";
    /// The genesis of a localnet started with other options, which the user chose to follow.
    pub const LOCALNET_GENESIS: &str = "taoscope.localnet.genesis";
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

pub fn load(key: &str) -> Option<String> {
    storage().and_then(|s| s.get_item(key).ok().flatten())
}

/// Stores `value`; the browser's quota (a few MiB) is the only way this fails, and then the next
/// visit simply starts without it.
pub fn save(key: &str, value: &str) -> bool {
    storage().is_some_and(|s| s.set_item(key, value).is_ok())
}

fn forget(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(key);
    }
}

/// Whether the page came over https (then the browser allows only `wss://`, and `ws://` to
/// this machine).
fn secure_page() -> bool {
    web_sys::window()
        .and_then(|w| w.location().protocol().ok())
        .is_some_and(|p| p == "https:")
}

/// `?log=debug` in the page's address: smoldot's debug logs on the console, for a person
/// diagnosing a connection.
fn verbose() -> bool {
    web_sys::window()
        .and_then(|w| w.location().search().ok())
        .is_some_and(|q| q.contains("log=debug"))
}

/// Plain `ws://` bootnodes of `spec` that an https page may not open (not this machine).
pub fn blocked_bootnodes(spec: &str) -> Vec<String> {
    if !secure_page() {
        return Vec::new();
    }
    let Ok(spec) = serde_json::from_str::<serde_json::Value>(spec) else {
        return Vec::new();
    };
    spec["bootNodes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|b| b.as_str())
        .filter(|b| b.contains("/ws/") && !b.contains("/wss/"))
        .filter(|b| !(b.starts_with("/ip4/127.") || b.starts_with("/dns/localhost/")))
        .map(str::to_string)
        .collect()
}

/// Checks a chain spec a user gave before the worker sees it: JSON with a genesis or a
/// checkpoint, and at least one bootnode a browser can reach (WebSocket).
pub fn check_spec(text: &str) -> Result<(), String> {
    let spec: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not a JSON chain spec: {e}"))?;
    if spec.get("genesis").is_none() {
        return Err("the chain spec has no `genesis`: export a raw spec (`--raw`)".into());
    }
    let bootnodes = spec["bootNodes"].as_array().cloned().unwrap_or_default();
    if !bootnodes
        .iter()
        .filter_map(|b| b.as_str())
        .any(|b| b.contains("/ws"))
    {
        return Err(
            "the chain spec has no WebSocket bootnode (`…/ws/p2p/…` or `…/wss/p2p/…`); a browser \
             cannot open plain TCP connections"
                .into(),
        );
    }
    Ok(())
}

/// Where the chain spec of the chosen network comes from, and how that went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpecState {
    /// Not asked for yet.
    None,
    Fetching(String),
    /// In use; the words say where it came from.
    Ready(String),
    Failed(String),
}

/// smoldot's database kept for the next visit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedDatabase {
    pub bytes: usize,
}

type Answer<T> = Option<Result<Verified<T>, String>>;
/// A metagraph answer and the netuid it is for.
type MetagraphAnswer = Option<(u16, Result<Verified<Metagraph>, String>)>;
/// An audit answer and the netuid it is for.
type AuditAnswerFor = Option<(u16, Result<AuditAnswer, String>)>;
/// A portfolio answer and the address it is for.
type PortfolioAnswer = Option<(String, Result<Verified<Portfolio>, String>)>;

/// The latest audit verdict, for the header's audit mark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditMark {
    pub netuid: u16,
    pub block: u64,
    pub exact: bool,
    pub verdict: String,
}

/// Everything the pages read about the chain. Cheap to copy (signals).
#[derive(Clone, Copy)]
pub struct Chain {
    pub network: RwSignal<Network>,
    pub status: RwSignal<ChainStatus>,
    pub spec: RwSignal<SpecState>,
    pub saved: RwSignal<Option<SavedDatabase>>,
    pub subnets: RwSignal<Answer<Vec<SubnetSummary>>>,
    /// The metagraph last asked for, with its netuid.
    pub metagraph: RwSignal<MetagraphAnswer>,
    /// The audit last asked for, with its netuid.
    pub audit: RwSignal<AuditAnswerFor>,
    /// The newest audited epoch's verdict (the header's audit mark).
    pub audit_mark: RwSignal<Option<AuditMark>>,
    /// The whole-network audit: the latest epoch of every subnet.
    pub audit_all: RwSignal<Answer<Vec<SubnetVerdict>>>,
    /// The proven inputs of audited epochs last asked for (to recompute them as one batch):
    /// [`crate::epoch_protocol::ProvenEpoch`]s, passed on to the epoch worker unread.
    pub audit_inputs: RwSignal<Option<Result<String, String>>>,
    /// Every subnet's yields (Where to stake).
    pub yields: RwSignal<Option<Result<YieldsAnswer, String>>>,
    /// The portfolio last asked for, with its address.
    pub portfolio: RwSignal<PortfolioAnswer>,
    /// The staking moves of the runtime in force (asked once per runtime the page sees).
    pub moves: RwSignal<Option<Result<Vec<Move>, String>>>,
    /// The transaction last prepared for a wallet, by id.
    pub prepared: RwSignal<Option<(u32, Result<PreparedTx, String>)>>,
    /// The latest quote, and the intent it is for.
    pub quote_answer: RwSignal<Option<(TxIntent, Result<PreparedTx, String>)>>,
    /// The latest stage of a submitted transaction not ended yet, by id.
    pub progress: RwSignal<Option<(u32, String)>>,
    /// Where the transactions submitted in this visit ended, by id (a second answer for an id
    /// does not replace the first).
    pub submitted: RwSignal<Vec<(u32, Result<Sent, String>)>>,
    /// Why the last refresh failed while an older verified answer is still shown (a peer
    /// restarting, a block no peer can prove any more); cleared by the next good answer.
    pub refresh_error: RwSignal<Option<String>>,
    /// Over verified RPC: where the client started (the checkpoint, or the block proven on an
    /// earlier visit).
    pub started_from: RwSignal<Option<String>>,
    /// Over verified RPC: why the checkpoint was refused, and whether the user may accept it as
    /// it is (too old or undated; never another chain's).
    pub refused: RwSignal<Option<(String, bool)>>,
    /// Over verified RPC, the session now followed: the block hash of the checkpoint it started
    /// from and of the user's checkpoint it descends from (statuses of an earlier session, still
    /// on their way, are not kept as the next visit's start).
    session: StoredValue<Option<(String, String)>>,
    /// Request ids of the latest reads (only their answers are shown), and whether each is
    /// still in flight (a new finalized block does not queue another read behind it).
    subnets_id: StoredValue<u32>,
    metagraph_id: StoredValue<(u32, u16)>,
    subnets_busy: StoredValue<bool>,
    metagraph_busy: StoredValue<Option<u16>>,
    audit_id: StoredValue<(u32, u16)>,
    audit_busy: StoredValue<Option<u16>>,
    audit_all_id: StoredValue<u32>,
    audit_all_busy: StoredValue<bool>,
    yields_id: StoredValue<u32>,
    yields_busy: StoredValue<bool>,
    audit_inputs_id: StoredValue<u32>,
    portfolio_id: StoredValue<u32>,
    portfolio_busy: StoredValue<Option<String>>,
    transaction_id: StoredValue<u32>,
    quote_id: StoredValue<u32>,
    moves_id: StoredValue<u32>,
    quote_busy: StoredValue<bool>,
    quote_next: StoredValue<Option<TxIntent>>,
    /// The intent of the quote in flight.
    quote_asked: StoredValue<Option<TxIntent>>,
    worker: StoredValue<Option<LightWorker>, LocalStorage>,
    /// A widget's endpoints (its `rpc` attribute), in place of those kept in this browser.
    endpoints: StoredValue<Option<Vec<String>>>,
}

struct LightWorker {
    worker: WorkerPort,
    ready: bool,
    waiting: Vec<String>,
}

/// The app's own worker, or a widget frame's port to the worker its page's frames share.
enum WorkerPort {
    Dedicated(Worker),
    Shared(MessagePort),
}

impl WorkerPort {
    fn post(&self, message: &str) {
        let message = JsValue::from_str(message);
        let _ = match self {
            Self::Dedicated(worker) => worker.post_message(&message),
            Self::Shared(port) => port.post_message(&message),
        };
    }
}

impl LightWorker {
    fn send(&mut self, message: String) {
        if self.ready {
            self.worker.post(&message);
        } else {
            self.waiting.push(message);
        }
    }

    fn on_ready(&mut self) {
        self.ready = true;
        for message in std::mem::take(&mut self.waiting) {
            self.worker.post(&message);
        }
    }
}

/// Where the widget frames' shared worker starts (see `public/light-shared-worker.js`).
const SHARED_WORKER_URL: &str = "/light-shared-worker.js";
/// A shared worker not ready by then is given up for one of the frame's own.
const SHARED_READY: std::time::Duration = std::time::Duration::from_secs(10);

pub fn stored_network() -> Network {
    load(keys::NETWORK)
        .and_then(|id| Network::from_id(&id))
        .unwrap_or(Network::Localnet)
}

/// The chain spec last used for `network`, if any.
pub fn stored_spec(network: Network) -> Option<String> {
    match network {
        Network::Imported => load(keys::IMPORTED_SPEC),
        other => load(&keys::spec(other.id())),
    }
}

pub fn localnet_rpc() -> String {
    load(keys::LOCALNET_RPC).unwrap_or_else(|| DEFAULT_LOCALNET_RPC.to_string())
}

/// The checkpoint `network` starts from (JSON) and whether it is the one shipped with the app.
pub fn checkpoint_for(network: Network) -> Option<(String, bool)> {
    match load(&keys::checkpoint(network.id())) {
        Some(text) => Some((text, false)),
        None => (network == Network::LocalnetVerified).then(|| (LOCALNET_CHECKPOINT.into(), true)),
    }
}

/// The genesis hash a checkpoint of `network` must carry: Finney's, or the localnet's (the
/// shipped checkpoint's, unless the user chose a localnet started with other options).
pub fn known_genesis(network: Network) -> Option<[u8; 32]> {
    match network {
        Network::Finney => from_hex_array(FINNEY_GENESIS).ok(),
        Network::LocalnetVerified => load(keys::LOCALNET_GENESIS)
            .and_then(|g| from_hex_array(&g).ok())
            .or_else(|| {
                Checkpoint::from_json(LOCALNET_CHECKPOINT)
                    .ok()
                    .map(|c| c.genesis_hash)
            }),
        Network::Localnet | Network::Imported => None,
    }
}

/// How old a checkpoint may be (the user's setting, 30 days by default).
pub fn max_age_ms() -> u64 {
    load(keys::MAX_AGE_DAYS)
        .and_then(|d| d.trim().parse::<u64>().ok())
        .filter(|d| *d > 0)
        .map_or(DEFAULT_MAX_AGE_MS, |days| days.saturating_mul(86_400_000))
}

pub fn set_max_age_days(days: u64) {
    save(keys::MAX_AGE_DAYS, &days.to_string());
}

/// Whether the user accepted `checkpoint` as it is (its age), for `network`.
pub fn accepted(network: Network, checkpoint: &Checkpoint) -> bool {
    load(&keys::accepted(network.id())).is_some_and(|hash| hash == to_hex(&checkpoint.hash))
}

/// The age rule for `checkpoint`: the maximum, unless the user accepted it or it is the
/// localnet's genesis shipped with the app (a chain made on this machine).
pub fn age_policy(network: Network, checkpoint: &Checkpoint, shipped: bool) -> AgePolicy {
    if shipped || accepted(network, checkpoint) {
        AgePolicy::Accepted
    } else {
        AgePolicy::MaxAge(max_age_ms())
    }
}

/// Whether `network` may start from `checkpoint`, now.
pub fn check_checkpoint(
    network: Network,
    checkpoint: &Checkpoint,
    shipped: bool,
) -> Result<(), CheckpointError> {
    let Some(genesis_hash) = known_genesis(network) else {
        return Ok(());
    };
    checkpoint.accept(&Acceptance {
        genesis_hash,
        slot_ms: BITTENSOR_SLOT_MS,
        now_ms: js_sys::Date::now() as u64,
        age: age_policy(network, checkpoint, shipped),
    })
}

/// The block proven on an earlier visit, when it may be started from: proven from `anchor`
/// (its `anchorHash`), newer, and young enough.
fn resume_point(network: Network, anchor: &Checkpoint) -> Option<(Checkpoint, String)> {
    let text = load(&keys::resume(network.id()))?;
    let proven_from = serde_json::from_str::<serde_json::Value>(&text)
        .ok()?
        .get("anchorHash")?
        .as_str()?
        .to_string();
    let resume = Checkpoint::from_json(&text).ok()?;
    (proven_from == to_hex(&anchor.hash)
        && resume.genesis_hash == anchor.genesis_hash
        && resume.number > anchor.number
        && check_checkpoint(network, &resume, false).is_ok())
    .then_some((resume, text))
}

/// The JSON-RPC endpoints `network` asks, in the user's order.
pub fn endpoints_for(network: Network) -> Vec<String> {
    let stored: Vec<String> = load(&keys::endpoints(network.id()))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if !stored.is_empty() {
        return stored;
    }
    match network {
        Network::Finney => vec![FINNEY_RPC.to_string()],
        _ => vec![localnet_rpc()],
    }
}

impl Chain {
    /// Starts the worker and follows the stored network. Call once, in the app's root.
    pub fn provide() -> Chain {
        let chain = Chain::new(stored_network(), None);
        chain.spawn();
        provide_context(chain);
        chain.connect();
        chain
    }

    /// A widget frame's chain: `network` through `endpoints` (or those kept in this browser),
    /// on the worker shared by every frame of this browser that follows the same (see
    /// [`crate::hub`]). Call once, in the frame's root.
    pub fn provide_shared(network: Network, endpoints: Option<Vec<String>>) -> Chain {
        let chain = Chain::new(network, endpoints);
        let name = format!(
            "taoscope {} {}",
            network.id(),
            chain.endpoints_now().join(" ")
        );
        // Where the browser has no shared workers, the frame gets a worker of its own.
        let shared = js_sys::Reflect::has(&js_sys::global(), &JsValue::from_str("SharedWorker"))
            .unwrap_or(false)
            .then(|| web_sys::SharedWorker::new_with_str(SHARED_WORKER_URL, &name).ok())
            .flatten();
        match shared {
            Some(shared) => {
                let port = shared.port();
                chain.listen(&port);
                // A port listened to with `addEventListener` delivers nothing until started.
                port.start();
                // A shared worker that cannot start (its script refused, its wasm failing) says
                // little: one not ready in time, or erring, is replaced by a worker of the frame's
                // own, which gets what was waiting.
                let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_| chain.fall_back());
                shared.set_onerror(Some(on_error.as_ref().unchecked_ref()));
                on_error.forget();
                spawn_local(async move {
                    taoscope_light_client::platform::browser::sleep(SHARED_READY).await;
                    chain.fall_back();
                });
                // The worker stops serving this frame when it goes (its count of pages); a frame
                // the browser brings back from its back/forward cache starts again.
                let bye = port.clone();
                let on_hide = Closure::<dyn Fn()>::new(move || {
                    let _ = bye.post_message(&JsValue::from_str(crate::hub::BYE));
                });
                let on_show = Closure::<dyn Fn(web_sys::PageTransitionEvent)>::new(
                    |event: web_sys::PageTransitionEvent| {
                        if event.persisted() {
                            let _ = web_sys::window().map(|w| w.location().reload());
                        }
                    },
                );
                if let Some(window) = web_sys::window() {
                    window.set_onpagehide(Some(on_hide.as_ref().unchecked_ref()));
                    window.set_onpageshow(Some(on_show.as_ref().unchecked_ref()));
                }
                on_hide.forget();
                on_show.forget();
                chain.worker.set_value(Some(LightWorker {
                    worker: WorkerPort::Shared(port),
                    ready: false,
                    waiting: Vec::new(),
                }));
            }
            None => chain.spawn(),
        }
        provide_context(chain);
        chain.connect();
        chain
    }

    /// Replaces a shared worker that is not ready by a dedicated one (nothing when it is ready).
    fn fall_back(self) {
        let waiting = self.worker.try_update_value(|w| match w {
            Some(LightWorker {
                worker: WorkerPort::Shared(port),
                ready: false,
                waiting,
            }) => {
                port.close();
                Some(std::mem::take(waiting))
            }
            _ => None,
        });
        let Some(Some(waiting)) = waiting else {
            return;
        };
        self.spawn();
        for message in waiting {
            self.worker.update_value(|w| {
                if let Some(w) = w.as_mut() {
                    w.send(message);
                }
            });
        }
    }

    fn new(network: Network, endpoints: Option<Vec<String>>) -> Chain {
        Chain {
            endpoints: StoredValue::new(endpoints),
            network: RwSignal::new(network),
            status: RwSignal::new(ChainStatus::default()),
            spec: RwSignal::new(SpecState::None),
            saved: RwSignal::new(None),
            subnets: RwSignal::new(None),
            metagraph: RwSignal::new(None),
            refresh_error: RwSignal::new(None),
            started_from: RwSignal::new(None),
            refused: RwSignal::new(None),
            session: StoredValue::new(None),
            subnets_id: StoredValue::new(0),
            metagraph_id: StoredValue::new((0, 0)),
            subnets_busy: StoredValue::new(false),
            metagraph_busy: StoredValue::new(None),
            audit: RwSignal::new(None),
            audit_mark: RwSignal::new(None),
            audit_id: StoredValue::new((0, 0)),
            audit_busy: StoredValue::new(None),
            audit_all: RwSignal::new(None),
            audit_all_id: StoredValue::new(0),
            audit_all_busy: StoredValue::new(false),
            yields: RwSignal::new(None),
            yields_id: StoredValue::new(0),
            yields_busy: StoredValue::new(false),
            audit_inputs: RwSignal::new(None),
            audit_inputs_id: StoredValue::new(0),
            portfolio: RwSignal::new(None),
            portfolio_id: StoredValue::new(0),
            portfolio_busy: StoredValue::new(None),
            moves: RwSignal::new(None),
            progress: RwSignal::new(None),
            quote_answer: RwSignal::new(None),
            quote_id: StoredValue::new(0),
            moves_id: StoredValue::new(0),
            quote_busy: StoredValue::new(false),
            quote_next: StoredValue::new(None),
            quote_asked: StoredValue::new(None),
            prepared: RwSignal::new(None),
            submitted: RwSignal::new(Vec::new()),
            transaction_id: StoredValue::new(0),
            worker: StoredValue::new_local(None),
        }
    }

    /// The endpoints the chosen network asks.
    pub fn endpoints_now(self) -> Vec<String> {
        self.endpoints
            .get_value()
            .unwrap_or_else(|| endpoints_for(self.network.get_untracked()))
    }

    fn stopped(self) {
        self.status.update(|s| {
            s.phase = Phase::Failed;
            s.error = Some(
                "the light client stopped with an error; reload the page to start it again".into(),
            );
        });
    }

    /// Takes the worker's messages from `port` (a dedicated worker, or a shared one's port).
    fn listen(self, port: &web_sys::EventTarget) {
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |event: MessageEvent| {
            let text = event.data().as_string();
            if text.as_deref() == Some(WORKER_READY) {
                self.worker.update_value(|w| {
                    if let Some(w) = w.as_mut() {
                        w.on_ready();
                    }
                });
                return;
            }
            if let Some(response) = text.and_then(|t| serde_json::from_str(&t).ok()) {
                self.on_response(response);
            }
        });
        let _ =
            port.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref());
        on_message.forget();
    }

    fn spawn(self) {
        let options = WorkerOptions::new();
        options.set_type(WorkerType::Classic);
        let Ok(worker) = Worker::new_with_options(WORKER_URL, &options) else {
            self.status.update(|s| {
                s.phase = Phase::Failed;
                s.error =
                    Some("this browser refused to start a Web Worker for the light client".into());
            });
            return;
        };
        self.listen(&worker);
        let on_error = Closure::<dyn Fn(web_sys::Event)>::new(move |_| self.stopped());
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.worker.set_value(Some(LightWorker {
            worker: WorkerPort::Dedicated(worker),
            ready: false,
            waiting: Vec::new(),
        }));
    }

    fn send(self, request: &ChainRequest) {
        if let Ok(text) = serde_json::to_string(request) {
            self.worker.update_value(|w| {
                if let Some(w) = w.as_mut() {
                    w.send(text);
                }
            });
        }
    }

    fn on_response(self, response: ChainResponse) {
        match response {
            ChainResponse::Status(status) => {
                let first_value = status.first_value_ms.is_some()
                    && self.status.with_untracked(|s| s.first_value_ms.is_none());
                self.keep_resume_point(&status);
                if let (Phase::Live, Some(block)) = (status.phase, status.finalized.as_ref()) {
                    let changed = self
                        .status
                        .with_untracked(|s| s.finalized.as_ref() != Some(block));
                    if changed {
                        let network = self.network.get_untracked();
                        crate::install::remember_proved(network.id(), block.number, &block.hash);
                    }
                }
                self.status.set(status);
                // Keep the database once the client has proven something: the next visit
                // starts from it.
                if first_value {
                    self.send(&ChainRequest::Database);
                }
            }
            ChainResponse::Subnets { id, result } => {
                if id == self.subnets_id.get_value() {
                    self.subnets_busy.set_value(false);
                    let shown = self.subnets.with_untracked(|s| matches!(s, Some(Ok(_))));
                    self.settle(shown, result, |result| self.subnets.set(Some(result)));
                }
            }
            ChainResponse::Portfolio {
                id,
                address,
                result,
            } => {
                if id == self.portfolio_id.get_value() {
                    self.portfolio_busy.set_value(None);
                    let shown = self
                        .portfolio
                        .with_untracked(|p| matches!(p, Some((a, Ok(_))) if *a == address));
                    self.settle(shown, result, |result| {
                        self.portfolio.set(Some((address, result)));
                    });
                }
            }
            ChainResponse::Prepared { id, result } => self.prepared.set(Some((id, result))),
            ChainResponse::Moves { id, result } => {
                if id == self.moves_id.get_value() {
                    self.moves.set(Some(result));
                }
            }
            ChainResponse::Progress { id, stage } => self.progress.set(Some((id, stage))),
            ChainResponse::Quote { id, result } => {
                if id == self.quote_id.get_value() {
                    self.quote_busy.set_value(false);
                    if let Some(intent) = self.quote_asked.get_value() {
                        self.quote_answer.set(Some((intent, result)));
                    }
                    if let Some(next) = self.quote_next.get_value() {
                        self.quote_next.set_value(None);
                        self.quote(next);
                    }
                }
            }
            ChainResponse::Submitted { id, result } => self.submitted.update(|all| {
                if !all.iter().any(|(seen, _)| *seen == id) {
                    all.push((id, result));
                }
            }),
            ChainResponse::Metagraph { id, result } => {
                let (wanted, netuid) = self.metagraph_id.get_value();
                if id == wanted {
                    self.metagraph_busy.set_value(None);
                    let shown = self
                        .metagraph
                        .with_untracked(|m| matches!(m, Some((n, Ok(_))) if *n == netuid));
                    self.settle(shown, result, |result| {
                        self.metagraph.set(Some((netuid, result)));
                    });
                }
            }
            ChainResponse::Audit { id, netuid, result } => {
                let (wanted, _) = self.audit_id.get_value();
                if id == wanted {
                    self.audit_busy.set_value(None);
                    let shown = self
                        .audit
                        .with_untracked(|a| matches!(a, Some((n, Ok(_))) if *n == netuid));
                    self.settle(shown, result, |result| {
                        if let Ok(answer) = &result
                            && let Some(newest) = answer.epochs.first()
                        {
                            self.audit_mark.set(Some(AuditMark {
                                netuid,
                                block: newest.block.number,
                                exact: newest.is_exact(),
                                verdict: newest.verdict(),
                            }));
                        }
                        self.audit.set(Some((netuid, result)));
                    });
                }
            }
            ChainResponse::AuditAll { id, result } => {
                if id == self.audit_all_id.get_value() {
                    self.audit_all_busy.set_value(false);
                    let shown = self.audit_all.with_untracked(|a| matches!(a, Some(Ok(_))));
                    self.settle(shown, result, |result| self.audit_all.set(Some(result)));
                }
            }
            ChainResponse::AuditInputs { id, result } => {
                if id == self.audit_inputs_id.get_value() {
                    self.audit_inputs.set(Some(result));
                }
            }
            ChainResponse::Yields { id, result } => {
                if id == self.yields_id.get_value() {
                    self.yields_busy.set_value(false);
                    let shown = self.yields.with_untracked(|y| matches!(y, Some(Ok(_))));
                    self.settle(shown, result, |result| self.yields.set(Some(result)));
                }
            }
            ChainResponse::Metadata(metadata) => {
                if let Ok(text) = serde_json::to_string(&metadata) {
                    save(&keys::metadata(self.network.get_untracked().id()), &text);
                }
            }
            ChainResponse::Database { content, .. } => {
                let network = self.network.get_untracked().id();
                let bytes = content.len();
                if save(&keys::database(network), &content) {
                    self.saved.set(Some(SavedDatabase { bytes }));
                }
            }
        }
    }

    /// Saves the newest block the worker proved over verified RPC (with its authority set) as the
    /// next visit's start, dated now.
    fn keep_resume_point(self, status: &ChainStatus) {
        let Some(text) = status
            .trust
            .as_ref()
            .and_then(|t| t.resume_checkpoint.as_ref())
        else {
            return;
        };
        let Some((started, anchor)) = self.session.get_value() else {
            return;
        };
        if status
            .trust
            .as_ref()
            .is_none_or(|t| t.checkpoint_block.hash != started)
        {
            return; // a status of an earlier session
        }
        let network = self.network.get_untracked();
        let Ok(mut resume) = Checkpoint::from_json(text) else {
            return;
        };
        let kept = load(&keys::resume(network.id())).and_then(|t| Checkpoint::from_json(&t).ok());
        if kept.is_some_and(|k| k.number >= resume.number && k.genesis_hash == resume.genesis_hash)
        {
            return;
        }
        resume.created_at_ms = Some(js_sys::Date::now() as u64);
        resume.source = Some(format!(
            "proven by taoscope in this browser, from the checkpoint of block #{}",
            status
                .trust
                .as_ref()
                .map_or(0, |t| t.checkpoint_block.number)
        ));
        let mut json = resume.to_json();
        if let Some(fields) = json.as_object_mut() {
            fields.insert("anchorHash".into(), anchor.into());
        }
        save(&keys::resume(network.id()), &json.to_string());
    }

    /// Switches to `network` and follows it.
    pub fn choose(self, network: Network) {
        save(keys::NETWORK, network.id());
        self.network.set(network);
        self.connect();
    }

    /// (Re)starts following the chosen network: its chain spec, then the worker.
    pub fn connect(self) {
        self.session.set_value(None);
        self.subnets.set(None);
        self.metagraph.set(None);
        self.audit.set(None);
        self.audit_mark.set(None);
        self.audit_all.set(None);
        self.audit_all_busy.set_value(false);
        self.yields.set(None);
        self.yields_busy.set_value(false);
        self.yields_id.update_value(|id| *id += 1);
        self.audit_inputs.set(None);
        self.portfolio.set(None);
        self.moves.set(None);
        self.quote_answer.set(None);
        self.quote_busy.set_value(false);
        self.quote_next.set_value(None);
        // Answers from the network followed before (still in the worker's queue when it
        // switched) are not this one's: every request id moves on, so none matches.
        self.quote_id.update_value(|id| *id += 1);
        self.subnets_id.update_value(|id| *id += 1);
        self.metagraph_id.update_value(|(id, _)| *id += 1);
        self.audit_id.update_value(|(id, _)| *id += 1);
        self.audit_all_id.update_value(|id| *id += 1);
        self.audit_inputs_id.update_value(|id| *id += 1);
        self.portfolio_id.update_value(|id| *id += 1);
        self.transaction_id.update_value(|id| *id += 1);
        self.moves_id.update_value(|id| *id += 1);
        self.portfolio_busy.set_value(None);
        self.subnets_busy.set_value(false);
        self.metagraph_busy.set_value(None);
        self.audit_busy.set_value(None);
        let network = self.network.get_untracked();
        match network {
            Network::LocalnetVerified | Network::Finney => match checkpoint_for(network) {
                Some((checkpoint, shipped)) => {
                    self.spec.set(SpecState::Ready(if shipped {
                        "the checkpoint shipped with taoscope (the localnet's genesis)".into()
                    } else {
                        "the checkpoint you imported".into()
                    }));
                    self.start_verified(network, checkpoint, shipped);
                }
                None => {
                    self.spec.set(SpecState::Failed(
                        "no checkpoint yet: import one below. Make it with `taoscope checkpoint \
                         --rpc URL --out FILE` against a node you trust (smoldot-light 3 cannot \
                         follow Finney's runtime, so Finney is followed through verified RPC)."
                            .into(),
                    ));
                    self.status.set(ChainStatus::default());
                }
            },
            Network::Imported => match load(keys::IMPORTED_SPEC) {
                Some(spec) => {
                    self.spec
                        .set(SpecState::Ready("the chain spec you imported".into()));
                    self.start(network, spec);
                }
                None => {
                    self.spec.set(SpecState::Failed(
                        "no chain spec imported yet: import one on the Network page".into(),
                    ));
                    self.status.set(ChainStatus::default());
                }
            },
            Network::Localnet => {
                let url = localnet_rpc();
                self.spec.set(SpecState::Fetching(format!(
                    "asking {url} for its chain spec…"
                )));
                spawn_local(async move {
                    let fetched = fetch_localnet_spec(&url).await;
                    // The user may have chosen another network while the node answered.
                    if self.network.get_untracked() != network {
                        return;
                    }
                    match fetched {
                        Ok(spec) => {
                            save(&keys::spec(network.id()), &spec);
                            self.spec.set(SpecState::Ready(format!(
                                "from the localnet at {url} (its genesis is what you trust)"
                            )));
                            self.start(network, spec);
                        }
                        // The node may be restarting: its last spec still names its peers.
                        Err(why) => match load(&keys::spec(network.id())) {
                            Some(spec) => {
                                self.spec.set(SpecState::Ready(format!(
                                    "saved from an earlier visit ({why})"
                                )));
                                self.start(network, spec);
                            }
                            None => self.spec.set(SpecState::Failed(why)),
                        },
                    }
                });
            }
        }
    }

    /// Follows `network` over p2p from `chain_spec`, with smoldot's saved database.
    fn start(self, network: Network, chain_spec: String) {
        let database = load(&keys::database(network.id())).unwrap_or_default();
        self.saved
            .set((!database.is_empty()).then_some(SavedDatabase {
                bytes: database.len(),
            }));
        self.send_start(network, chain_spec, database, TransportChoice::P2p);
    }

    /// Follows `network` over verified RPC from `anchor` (or from the block proven on an
    /// earlier visit, when that passes the same checks), once the checkpoint is of the network's
    /// chain and young enough (or accepted).
    fn start_verified(self, network: Network, anchor: String, shipped: bool) {
        self.saved.set(None);
        self.refused.set(None);
        self.started_from.set(None);
        self.session.set_value(None);
        let checkpoint = match Checkpoint::from_json(&anchor) {
            Ok(checkpoint) => checkpoint,
            Err(error) => return self.refuse(error.to_string(), false),
        };
        let checkpoint_hash = checkpoint.hash;
        let (start, text, words) = match resume_point(network, &checkpoint) {
            Some((resume, text)) => {
                let words = format!(
                    "the block proven on an earlier visit (#{}), from the checkpoint of block #{}",
                    resume.number, checkpoint.number
                );
                (resume, text, words)
            }
            None => {
                if let Err(error) = check_checkpoint(network, &checkpoint, shipped) {
                    let acceptable = matches!(
                        error,
                        CheckpointError::TooOld { .. } | CheckpointError::Undated
                    );
                    return self.refuse(error.to_string(), acceptable);
                }
                let words = format!("the checkpoint of block #{}", checkpoint.number);
                (checkpoint, anchor, words)
            }
        };
        self.started_from.set(Some(words));
        self.session
            .set_value(Some((to_hex(&start.hash), to_hex(&checkpoint_hash))));
        let chain_spec = json!({ "name": network.label() }).to_string();
        let transport = TransportChoice::VerifiedRpc {
            checkpoint: text,
            endpoints: self.endpoints_now(),
            genesis_hash: known_genesis(network).map_or_else(String::new, |g| to_hex(&g)),
            max_age_ms: match age_policy(network, &start, shipped) {
                AgePolicy::MaxAge(ms) => Some(ms),
                AgePolicy::Accepted => None,
            },
        };
        self.send_start(network, chain_spec, String::new(), transport);
    }

    /// Stops at a checkpoint the network may not start from, saying why.
    fn refuse(self, why: String, acceptable: bool) {
        self.refused.set(Some((why.clone(), acceptable)));
        self.status.set(ChainStatus {
            phase: Phase::Failed,
            error: Some(format!("the checkpoint cannot be used: {why}")),
            ..ChainStatus::default()
        });
    }

    /// Accepts the chosen network's checkpoint as it is (its age), and starts from it.
    pub fn accept_checkpoint(self) {
        let network = self.network.get_untracked();
        if let Some((text, _)) = checkpoint_for(network)
            && let Ok(checkpoint) = Checkpoint::from_json(&text)
        {
            save(&keys::accepted(network.id()), &to_hex(&checkpoint.hash));
        }
        self.connect();
    }

    /// Asks the worker to follow `network`, with the metadata kept from an earlier visit.
    fn send_start(
        self,
        network: Network,
        chain_spec: String,
        database: String,
        transport: TransportChoice,
    ) {
        self.status.set(ChainStatus {
            phase: Phase::Syncing,
            ..ChainStatus::default()
        });
        let metadata =
            load(&keys::metadata(network.id())).and_then(|text| serde_json::from_str(&text).ok());
        self.send(&ChainRequest::Start {
            chain_spec,
            database,
            secure_page: secure_page(),
            metadata,
            verbose: verbose(),
            transport,
        });
    }

    /// Uses `text` as the chosen network's checkpoint, once it reads as one of the network's
    /// chain. Whatever was kept from another checkpoint (the block proven from it, the metadata,
    /// an accepted age) goes.
    pub fn import_checkpoint(self, text: &str) -> Result<(), CheckpointImportError> {
        let checkpoint = Checkpoint::from_json(text)
            .map_err(|e| CheckpointImportError::Unreadable(e.to_string()))?;
        let network = self.network.get_untracked();
        if let Some(expected) = known_genesis(network)
            && checkpoint.genesis_hash != expected
        {
            let name = network.chain_name();
            return Err(CheckpointImportError::OtherChain {
                why: format!(
                    "this checkpoint is of another chain (genesis {}), not {name} (genesis {}): \
                     make one with `taoscope checkpoint --rpc URL` against an endpoint of {name}",
                    to_hex(&checkpoint.genesis_hash),
                    to_hex(&expected)
                ),
                // A localnet started with other options has another genesis, and it is the
                // user's own chain: they may say so. Finney's genesis is fixed.
                localnet_genesis: (network == Network::LocalnetVerified)
                    .then(|| to_hex(&checkpoint.genesis_hash)),
            });
        }
        self.use_checkpoint(network, text);
        Ok(())
    }

    /// Follows a localnet with another genesis (started with other options), from `text`.
    pub fn import_localnet_checkpoint(self, text: &str) -> Result<(), String> {
        let checkpoint = Checkpoint::from_json(text).map_err(|e| e.to_string())?;
        save(keys::LOCALNET_GENESIS, &to_hex(&checkpoint.genesis_hash));
        self.use_checkpoint(Network::LocalnetVerified, text);
        Ok(())
    }

    fn use_checkpoint(self, network: Network, text: &str) {
        save(&keys::checkpoint(network.id()), text);
        for key in [
            keys::resume(network.id()),
            keys::metadata(network.id()),
            keys::accepted(network.id()),
        ] {
            forget(&key);
        }
        self.connect();
    }

    /// Sets the chosen network's endpoints (one per line) and reconnects.
    pub fn set_endpoints(self, text: &str) {
        let network = self.network.get_untracked();
        save(&keys::endpoints(network.id()), text);
        self.connect();
    }

    /// Imports a chain spec (already checked) and follows it.
    pub fn import(self, spec: String) {
        save(keys::IMPORTED_SPEC, &spec);
        forget(&keys::database(Network::Imported.id()));
        forget(&keys::metadata(Network::Imported.id()));
        self.choose(Network::Imported);
    }

    /// Sets the localnet's JSON-RPC address (where its chain spec comes from) and reconnects.
    pub fn set_localnet_rpc(self, url: &str) {
        save(keys::LOCALNET_RPC, url);
        if matches!(
            self.network.get_untracked(),
            Network::Localnet | Network::LocalnetVerified
        ) {
            self.connect();
        }
    }

    /// Forgets the saved database of the chosen network (the next start warp-syncs from genesis).
    pub fn forget_database(self) {
        let network = self.network.get_untracked().id();
        forget(&keys::database(network));
        forget(&keys::metadata(network));
        self.saved.set(None);
    }

    /// Shows a read's `result`, unless it failed while a good answer is on screen (`shown`):
    /// then that answer stays and the failure goes to `refresh_error`.
    fn settle<T>(
        self,
        shown: bool,
        result: Result<T, String>,
        show: impl FnOnce(Result<T, String>),
    ) {
        match result {
            Err(why) if shown => self.refresh_error.set(Some(why)),
            result => {
                self.refresh_error.set(None);
                show(result);
            }
        }
    }

    pub fn request_subnets(self) {
        if self.subnets_busy.get_value() {
            return;
        }
        self.subnets_busy.set_value(true);
        let id = self.subnets_id.get_value() + 1;
        self.subnets_id.set_value(id);
        self.send(&ChainRequest::Subnets { id });
    }

    /// Asks the worker to build `intent` for a wallet to sign; the answer comes in
    /// [`Chain::prepared`] under the id returned.
    pub fn prepare(self, intent: TxIntent) -> u32 {
        let id = self.transaction_id.get_value() + 1;
        self.transaction_id.set_value(id);
        self.prepared.set(None);
        self.send(&ChainRequest::Prepare { id, intent });
        id
    }

    /// Asks for `intent`'s quote (fee, limit price) as the user types; the answer comes in
    /// [`Chain::quote`]. One is asked at a time: the newest intent waits for the answer before
    /// it, and intents typed meanwhile are passed over.
    pub fn quote(self, intent: TxIntent) {
        if self.quote_busy.get_value() {
            self.quote_next.set_value(Some(intent));
            return;
        }
        self.quote_busy.set_value(true);
        let id = self.quote_id.get_value() + 1;
        self.quote_id.set_value(id);
        self.quote_asked.set_value(Some(intent.clone()));
        self.send(&ChainRequest::Quote { id, intent });
    }

    /// Asks which staking moves the runtime in force offers; the answer comes in
    /// [`Chain::moves`].
    pub fn request_moves(self) {
        let id = self.moves_id.get_value();
        self.send(&ChainRequest::Moves { id });
    }

    /// Hands a wallet's answer to prepared transaction `id` to the worker, which checks it,
    /// submits it and answers in [`Chain::submitted`] once it is final (or no longer followed).
    pub fn submit(self, id: u32, signature: String, signed_transaction: Option<String>) {
        self.send(&ChainRequest::Submit {
            id,
            signature,
            signed_transaction,
        });
    }

    /// Asks for `address`'s balances and stake at the newest finalized block.
    pub fn request_portfolio(self, address: String) {
        if self.portfolio_busy.get_value().as_ref() == Some(&address) {
            return;
        }
        self.portfolio_busy.set_value(Some(address.clone()));
        let id = self.portfolio_id.get_value() + 1;
        self.portfolio_id.set_value(id);
        self.send(&ChainRequest::Portfolio { id, address });
    }

    pub fn request_metagraph(self, netuid: u16) {
        if self.metagraph_busy.get_value() == Some(netuid) {
            return;
        }
        self.metagraph_busy.set_value(Some(netuid));
        let id = self.metagraph_id.get_value().0 + 1;
        self.metagraph_id.set_value((id, netuid));
        self.send(&ChainRequest::Metagraph { id, netuid });
    }

    /// Asks for the latest epoch of every subnet, audited (a few new ones per ask).
    pub fn request_audit_all(self) {
        if self.audit_all_busy.get_value() {
            return;
        }
        self.audit_all_busy.set_value(true);
        let id = self.audit_all_id.get_value() + 1;
        self.audit_all_id.set_value(id);
        self.send(&ChainRequest::AuditAll { id });
    }

    /// Asks for the proven inputs of audited epochs `(netuid, block)` (answered in
    /// [`Chain::audit_inputs`]).
    pub fn request_audit_inputs(self, epochs: Vec<(u16, u64)>) {
        let id = self.audit_inputs_id.get_value() + 1;
        self.audit_inputs_id.set_value(id);
        self.audit_inputs.set(None);
        self.send(&ChainRequest::AuditInputs { id, epochs });
    }

    /// Asks for every subnet's yields over its last `epochs` audited epochs (a new epoch per
    /// subnet per ask; ask again at each finalized block).
    pub fn request_yields(self, epochs: u16) {
        if self.yields_busy.get_value() {
            return;
        }
        self.yields_busy.set_value(true);
        let id = self.yields_id.get_value() + 1;
        self.yields_id.set_value(id);
        self.send(&ChainRequest::Yields { id, epochs });
    }

    /// Asks for subnet `netuid`'s last `epochs` audited epochs (new ones are audited a few per
    /// ask; ask again at each finalized block).
    pub fn request_audit(self, netuid: u16, epochs: u16) {
        if self.audit_busy.get_value() == Some(netuid) {
            return;
        }
        self.audit_busy.set_value(Some(netuid));
        let id = self.audit_id.get_value().0 + 1;
        self.audit_id.set_value((id, netuid));
        self.send(&ChainRequest::Audit { id, netuid, epochs });
    }
}

/// Why a checkpoint was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointImportError {
    Unreadable(String),
    /// Of another chain; for the localnet, the genesis the user may choose to follow instead.
    OtherChain {
        why: String,
        localnet_genesis: Option<String>,
    },
}

impl std::fmt::Display for CheckpointImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unreadable(why) | Self::OtherChain { why, .. } => write!(f, "{why}"),
        }
    }
}

/// The localnet's chain spec (with its bootnodes), from its JSON-RPC.
async fn fetch_localnet_spec(url: &str) -> Result<String, String> {
    let rpc = RpcClient::connect(url).await?;
    let spec = rpc.call("sync_state_genSyncSpec", json!([true])).await?;
    if !spec.is_object() {
        return Err(format!(
            "{url} answered sync_state_genSyncSpec with no chain spec"
        ));
    }
    Ok(spec.to_string())
}
