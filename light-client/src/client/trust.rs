//! What verified RPC reports to the user: what is trusted (the checkpoint) and what was checked
//! (headers, justifications, proofs, rejected answers per endpoint). Plain data, so that the
//! page (which does not link the transport) can show it.

use super::{BlockRef, RuntimeSpec};

/// What the user sees about one endpoint.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EndpointReport {
    pub url: String,
    /// Answers that failed verification.
    pub rejections: u64,
    /// The last of them, in words.
    pub last_rejection: Option<String>,
    /// Requests that got no answer (unreachable, timed out, refused).
    pub failures: u64,
    pub last_failure: Option<String>,
    /// Whether a connection is open now.
    pub connected: bool,
}

/// An answer that failed verification.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Rejection {
    pub endpoint: String,
    /// What was being read ("finality", "storage").
    pub what: String,
    pub why: String,
}

/// What the user trusts, and what has been checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustReport {
    /// The checkpoint: the only thing taken on trust.
    pub checkpoint_block: BlockRef,
    pub checkpoint_set_id: u64,
    pub checkpoint_created_at_ms: Option<u64>,
    pub checkpoint_source: Option<String>,
    /// The newest block proven final, and the authority set that signs the next ones.
    pub finalized: Option<BlockRef>,
    pub set_id: u64,
    /// The runtime compiled from the proven `:code`.
    pub runtime: Option<RuntimeSpec>,
    pub headers_verified: u64,
    pub justifications_verified: u64,
    /// Read proofs checked (one per value batch or key page).
    pub proofs_verified: u64,
    /// Bytes of the read proofs received (trie nodes), checked or refused.
    #[serde(default)]
    pub proof_bytes: u64,
    /// The latest rejected answers, oldest first.
    pub rejections: Vec<Rejection>,
    pub endpoints: Vec<EndpointReport>,
    /// Why following finality failed last time (every endpoint refused or lied), if it did.
    pub last_error: Option<String>,
    /// The chain forced an authority change: nothing after it can be verified, and a new
    /// checkpoint is needed. What is shown stays as last proven (stale).
    #[serde(default)]
    pub halted: Option<String>,
    /// Why the runtime in force at the finalized block is not usable, if it is not (its code
    /// withheld or not a runtime): reads there are refused.
    #[serde(default)]
    pub runtime_problem: Option<String>,
    /// blake2-256 of the proven `:code` in force (what the metadata cache is keyed by).
    #[serde(default)]
    pub runtime_code_hash: Option<String>,
    /// The finalized block and its authority set as a checkpoint file (JSON), to start from on
    /// the next visit; absent while an authority set change is pending.
    #[serde(default)]
    pub resume_checkpoint: Option<String>,
}

impl TrustReport {
    /// Why what is shown is not being updated, if it is not: the chain forced an authority
    /// change, the runtime in force is not known, or no endpoint could prove a newer block.
    pub fn stale(&self) -> Option<String> {
        self.halted
            .clone()
            .or_else(|| self.runtime_problem.clone())
            .or_else(|| self.last_error.clone())
    }
}
