//! Messages between the page and the light-client worker, as JSON strings.
//!
//! The worker runs smoldot-light and the typed client; the page only shows what the worker
//! says, and everything the worker says about the chain it has verified (headers through
//! GRANDPA justifications, values through storage proofs against a finalized block's state
//! root).

use serde::{Deserialize, Serialize};
use taoscope_light_client::audit::{EpochAudit, NotAudited};
use taoscope_light_client::client::trust::TrustReport;
use taoscope_light_client::client::{Account, BlockRef, ExtrinsicEvent, RuntimeSpec};
use taoscope_light_client::metagraph::{Metagraph, StakePosition, SubnetSummary};
use taoscope_light_client::runtime_api::SwapQuote;
use taoscope_light_client::staking::Move;
use taoscope_light_client::yields::SubnetYields;

/// What the worker posts once its message handler is installed (earlier messages would be
/// lost while its wasm instantiates).
pub const WORKER_READY: &str = "ready";

/// What the page asks of the worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ChainRequest {
    /// Follow the chain of `chain_spec` (JSON text), starting from `database` (smoldot's saved
    /// content, `""` for none). Replaces any chain followed before.
    Start {
        chain_spec: String,
        database: String,
        /// The page is https: plain `ws://` bootnodes other than this machine cannot be used.
        secure_page: bool,
        /// Runtime metadata kept from an earlier visit, so that the first read need not run
        /// the runtime for it.
        #[serde(default)]
        metadata: Option<Box<RuntimeMetadata>>,
        /// smoldot's debug logs on the console (the page's `?log=debug`).
        #[serde(default)]
        verbose: bool,
        /// smoldot-light over p2p (from `chain_spec`), or verified RPC (from a checkpoint).
        #[serde(default)]
        transport: TransportChoice,
    },
    /// The subnets at the newest finalized block.
    Subnets { id: u32 },
    /// A subnet's metagraph at the newest finalized block.
    Metagraph { id: u32, netuid: u16 },
    /// smoldot's database content, for the page to keep for the next visit.
    Database,
    /// The audit of subnet `netuid`'s last `epochs` epochs that the transport can prove (each
    /// epoch recomputed once; later asks add the epochs that came since).
    Audit { id: u32, netuid: u16, epochs: u16 },
    /// The latest epoch of every subnet at the newest finalized block, audited (a few new ones
    /// per ask).
    AuditAll { id: u32 },
    /// The proven inputs and stored results of epochs audited already, `(netuid, block)`, for
    /// the page to recompute them again as one batch.
    AuditInputs { id: u32, epochs: Vec<(u16, u64)> },
    /// Every subnet's validators with what they paid their stakers over the last `epochs`
    /// audited epochs (each subnet's next epoch is audited per ask, as for [`Self::Audit`]).
    Yields { id: u32, epochs: u16 },
    /// An account's balances and stake at the newest finalized block (`address`: SS58).
    Portfolio { id: u32, address: String },
    /// Builds the intended call for a wallet to sign, with the metadata of the runtime in force,
    /// the account's nonce and a mortality from the newest finalized block. The worker keeps it
    /// under `id` until it is submitted.
    Prepare { id: u32, intent: TxIntent },
    /// The same build as [`ChainRequest::Prepare`], only for its quote (fee, limit price), as
    /// the user types: nothing is kept.
    Quote { id: u32, intent: TxIntent },
    /// The staking moves the runtime in force offers, with their calls' arguments.
    Moves { id: u32 },
    /// A wallet's answer to prepared transaction `id`: checked against what was prepared, then
    /// submitted and followed until final (or refused).
    Submit {
        id: u32,
        signature: String,
        signed_transaction: Option<String>,
    },
}

/// A call a user means to make: `pallet.call(args)` from `from` (SS58).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TxIntent {
    pub from: String,
    pub pallet: String,
    pub call: String,
    /// By the names the runtime's metadata gives the call's arguments.
    pub args: serde_json::Value,
    /// For a call with a limit price the user did not type: the price movement tolerated, in
    /// parts per million of the proven current price (safe staking).
    #[serde(default)]
    pub tolerance_ppm: Option<u32>,
}

/// Which transport follows the chain.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransportChoice {
    /// smoldot-light, connected to the chain spec's bootnodes.
    #[default]
    P2p,
    /// Untrusted JSON-RPC endpoints, every answer proven from `checkpoint` (its JSON file).
    VerifiedRpc {
        checkpoint: String,
        endpoints: Vec<String>,
        /// The network's genesis hash (`0x…`): the checkpoint must be of that chain.
        #[serde(default)]
        genesis_hash: String,
        /// The checkpoint is refused when its block is older than this; `None`: the user
        /// accepted it as it is (or it ships with the app for the localnet).
        #[serde(default)]
        max_age_ms: Option<u64>,
    },
}

/// What the worker tells the page.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum ChainResponse {
    Status(ChainStatus),
    Subnets {
        id: u32,
        result: Result<Verified<Vec<SubnetSummary>>, String>,
    },
    Metagraph {
        id: u32,
        result: Result<Verified<Metagraph>, String>,
    },
    Database {
        genesis_hash: String,
        content: String,
    },
    /// The metadata of the runtime in force, read through a proven runtime call, for the page
    /// to keep for the next visit.
    Metadata(RuntimeMetadata),
    Audit {
        id: u32,
        netuid: u16,
        result: Result<AuditAnswer, String>,
    },
    AuditAll {
        id: u32,
        result: Result<Verified<Vec<SubnetVerdict>>, String>,
    },
    /// [`crate::epoch_protocol::ProvenEpoch`]s as JSON text: the page passes them on to the
    /// epoch worker without reading them (nor linking their readers).
    AuditInputs {
        id: u32,
        result: Result<String, String>,
    },
    Yields {
        id: u32,
        result: Result<YieldsAnswer, String>,
    },
    Portfolio {
        id: u32,
        address: String,
        result: Result<Verified<Portfolio>, String>,
    },
    Moves {
        id: u32,
        result: Result<Vec<Move>, String>,
    },
    Prepared {
        id: u32,
        result: Result<PreparedTx, String>,
    },
    Quote {
        id: u32,
        result: Result<PreparedTx, String>,
    },
    /// Where a submitted transaction is (submitted, validated, broadcast, in a block), before
    /// its [`ChainResponse::Submitted`].
    Progress {
        id: u32,
        stage: String,
    },
    /// `Err`: nothing was sent (the wallet's answer failed the checks, or the node refused it).
    Submitted {
        id: u32,
        result: Result<Sent, String>,
    },
}

/// A transaction ready for a wallet: the `SignerPayloadJSON` to sign and what to show the user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PreparedTx {
    pub payload: serde_json::Value,
    pub from: String,
    pub pallet: String,
    pub call: String,
    /// The arguments as encoded (by name, as the runtime's metadata names them).
    pub args: serde_json::Value,
    pub nonce: u32,
    /// Valid from this block for `period` blocks.
    pub birth: BlockRef,
    pub period: u64,
    pub spec_version: u32,
    /// The fee the runtime charges for it (`TransactionPaymentApi.query_info` run on the proven
    /// state of `birth`), or why it is not known.
    pub fee: Result<u64, String>,
    /// The account's free balance at `birth`, for the review to compare with amount and fee.
    pub free: u64,
    /// How long the worker took to build it (ms): the quote's latency.
    pub took_ms: f64,
    /// The tolerance a derived limit price came from (the intent's).
    pub tolerance_ppm: Option<u32>,
    /// Where the runtime prices alpha and the call stakes or unstakes on a subnet: its swap
    /// simulation of this amount on proven state (amounts, fees, slippage), or why not.
    #[serde(default)]
    pub swap: Option<Result<SwapQuote, String>>,
}

/// What became of a transaction that was sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sent {
    Included(Included),
    /// Sent, and then no longer followed (the transport dropped the watch, or it took too
    /// long): it may still be included until its mortality ends. Never a failure: trying again
    /// before the account's nonce is checked could stake twice.
    Unknown {
        why: String,
    },
}

/// Where a submitted transaction ended, and what the runtime's events say of its call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Included {
    pub extrinsic_hash: String,
    pub block: String,
    pub index: u32,
    /// `Err`: the runtime's dispatch error (the fee was paid, the call did nothing).
    pub outcome: Result<(), String>,
    /// The extrinsic's events, from the proven `System.Events` of `block`.
    pub events: Vec<ExtrinsicEvent>,
}

/// An account's balances and every stake it holds, read through proofs at one block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Portfolio {
    pub account: Account,
    pub stakes: Vec<StakePosition>,
}

/// One subnet's latest epoch in the whole-network audit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubnetVerdict {
    pub netuid: u16,
    /// The epoch block the verdict is for: its latest, or, while that one is being audited,
    /// its latest audited one.
    pub epoch: Option<u64>,
    /// Its latest epoch block, where newer than `epoch` (not yet audited).
    pub newer: Option<u64>,
    pub state: VerdictState,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VerdictState {
    /// Not audited yet (a few are audited per ask).
    Pending,
    /// Audited: values compared and how many differ.
    Audited { checked: usize, mismatches: usize },
    /// No epoch yet, or this one cannot be audited: why.
    Unaudited(String),
}

/// A subnet's audited epochs, newest first, as the worker has them at the finalized block `at`:
/// those it could prove now and those it audited earlier in this session (each was proven when
/// audited).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditAnswer {
    pub at: BlockRef,
    pub epochs: Vec<EpochAudit>,
    /// Epochs the worker found and will audit at the next ask (it audits a few per ask, so that
    /// the chain's status keeps moving).
    pub pending: usize,
    /// Why no older epoch could be audited (the transport no longer holds its blocks), if so.
    pub older: Option<String>,
    /// Epoch blocks found and not audited, with why (an upgrade next to them, a runtime with no
    /// verified algorithm), newest first.
    pub not_audited: Vec<NotAudited>,
    /// The transport that proved them, in words.
    pub transport: String,
    /// The chain's genesis hash and what was trusted (the checkpoint, or the chain spec), for
    /// an exported report.
    pub genesis_hash: String,
    pub trusted: String,
}

/// Every subnet's yields at the finalized block `at`, from the epochs audited in this session
/// (see `taoscope_light_client::yields`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct YieldsAnswer {
    pub at: BlockRef,
    pub subnets: Vec<SubnetYields>,
    /// Epochs found and still to audit (up to; audited at the next asks).
    pub pending: usize,
    /// Subnets without yields, with why (no epoch yet, an upgrade, an unsupported runtime).
    pub notes: Vec<(u16, String)>,
    /// The transport that proved them, in words.
    pub transport: String,
}

/// A runtime's metadata (hex SCALE, as `Metadata_metadata` returns it) and which runtime: the
/// chain (genesis hash) and the blake2-256 of the proven `:code` it came from. A kept copy is
/// used only for that chain and that code, both proven again on the next visit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeMetadata {
    pub genesis_hash: String,
    pub code_hash: String,
    pub spec_name: String,
    pub spec_version: u32,
    pub hex: String,
}

/// A value and the finalized block it was proven at.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verified<T> {
    pub at: BlockRef,
    pub value: T,
}

/// Where the light client is, in the terms the header and the Network page show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    /// Nothing started (no chain spec yet).
    #[default]
    Idle,
    /// Looking for peers and syncing: no finalized block yet.
    Syncing,
    /// Following the chain: a finalized block is known and verified.
    Live,
    /// The chain could not be started (bad chain spec, runtime refused); see `error`.
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChainStatus {
    pub phase: Phase,
    /// The transport, in words ("smoldot-light (p2p)").
    pub transport: String,
    pub chain_name: String,
    pub peers: u64,
    pub finalized: Option<BlockRef>,
    pub best: Option<BlockRef>,
    pub runtime: Option<RuntimeSpec>,
    /// Milliseconds from the start to the first finalized block, and to the first value read
    /// through a proof (the subnets list), when reached.
    pub first_finalized_ms: Option<f64>,
    pub first_value_ms: Option<f64>,
    /// Whether smoldot was given a saved database at the start.
    pub from_database: bool,
    /// The last error, in words (cleared when the chain moves again).
    pub error: Option<String>,
    /// Over verified RPC: what is trusted and what was checked (the Trust panel).
    #[serde(default)]
    pub trust: Option<Box<TrustReport>>,
    /// How many pages this client serves: 1 for the app's own worker; for a shared worker
    /// (widgets), the frames connected to it (see [`crate::hub`]).
    #[serde(default)]
    pub pages: u32,
}

impl ChainRequest {
    /// The request's id, where it has one (a `Submit`'s is its `Prepare`'s).
    pub fn id_mut(&mut self) -> Option<&mut u32> {
        match self {
            Self::Subnets { id }
            | Self::Metagraph { id, .. }
            | Self::Audit { id, .. }
            | Self::AuditAll { id }
            | Self::AuditInputs { id, .. }
            | Self::Yields { id, .. }
            | Self::Portfolio { id, .. }
            | Self::Prepare { id, .. }
            | Self::Quote { id, .. }
            | Self::Moves { id }
            | Self::Submit { id, .. } => Some(id),
            Self::Start { .. } | Self::Database => None,
        }
    }
}

impl ChainResponse {
    /// The id of the request this answers; `None` for what is said to every page.
    pub fn id_mut(&mut self) -> Option<&mut u32> {
        match self {
            Self::Subnets { id, .. }
            | Self::Metagraph { id, .. }
            | Self::Audit { id, .. }
            | Self::AuditAll { id, .. }
            | Self::AuditInputs { id, .. }
            | Self::Yields { id, .. }
            | Self::Portfolio { id, .. }
            | Self::Moves { id, .. }
            | Self::Prepared { id, .. }
            | Self::Quote { id, .. }
            | Self::Progress { id, .. }
            | Self::Submitted { id, .. } => Some(id),
            Self::Status(_) | Self::Database { .. } | Self::Metadata(_) => None,
        }
    }
}
