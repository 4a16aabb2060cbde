//! Transactions waiting for a block, checked by the runtime when they arrive.
//!
//! A transaction is accepted only if the runtime's `TaggedTransactionQueue` says it is valid
//! now, or will be once earlier transactions of the same sender are in (a nonce ahead); any
//! other answer goes back to the sender with the runtime's reason. A transaction that is refused
//! when its block is built (its nonce taken meanwhile) is reported to its watcher, never dropped
//! silently; one still waiting for its nonce after [`MAX_WAIT_BLOCKS`] blocks is dropped, and
//! its watcher told so.

use crate::chain::{Chain, ChainError, Outcome, validity_error};
use std::fmt;
use taoscope_light_client::extrinsic::{extrinsic_hash, signer};

/// Blocks a transaction with a nonce ahead may wait for the transactions before it.
pub const MAX_WAIT_BLOCKS: u64 = 64;

/// Transactions kept at once; more are refused ("pool full"), not silently dropped.
pub const MAX_POOL: usize = 4096;

/// What becomes of a pending transaction when a block is built (its watcher heard `ready` when
/// it was accepted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Included; every block of this chain is final at once.
    InBlock([u8; 32]),
    /// Refused when its block was built, with the runtime's reason.
    Invalid(String),
    /// Waited too long for the transactions before it.
    Dropped,
}

#[derive(Debug, PartialEq, Eq)]
pub enum SubmitError {
    /// The runtime says it is not valid, and why.
    Invalid(String),
    AlreadyInPool,
    Full,
    Chain(String),
}

impl fmt::Display for SubmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitError::Invalid(why) => write!(f, "{why}"),
            SubmitError::AlreadyInPool => write!(f, "this transaction is already in the pool"),
            SubmitError::Full => write!(f, "the transaction pool is full: try again in a block"),
            SubmitError::Chain(why) => write!(f, "{why}"),
        }
    }
}

pub struct Pending<W> {
    pub extrinsic: Vec<u8>,
    pub hash: [u8; 32],
    /// Best block number when it arrived.
    pub since: u64,
    pub watcher: W,
}

/// The pool; `W` is how a watcher is reached (a channel in the node, nothing in tests).
pub struct Pool<W> {
    pending: Vec<Pending<W>>,
}

impl<W> Default for Pool<W> {
    fn default() -> Self {
        Self {
            pending: Vec::new(),
        }
    }
}

impl<W> Pool<W> {
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// The watchers of the pending transactions.
    pub fn watchers(&self) -> impl Iterator<Item = &W> {
        self.pending.iter().map(|p| &p.watcher)
    }

    pub fn watchers_mut(&mut self) -> impl Iterator<Item = &mut W> {
        self.pending.iter_mut().map(|p| &mut p.watcher)
    }

    /// Pending transactions signed by `account`: the nonces they take are not on chain yet.
    pub fn pending_from(&self, account: &[u8; 32]) -> usize {
        self.pending
            .iter()
            .filter(|p| signer(&p.extrinsic).as_ref() == Some(account))
            .count()
    }

    /// Checks `extrinsic` against the best block's state and queues it.
    pub fn submit(
        &mut self,
        chain: &mut Chain,
        extrinsic: Vec<u8>,
        watcher: W,
    ) -> Result<[u8; 32], SubmitError> {
        let hash = extrinsic_hash(&extrinsic);
        if self.pending.iter().any(|p| p.hash == hash) {
            return Err(SubmitError::AlreadyInPool);
        }
        if self.pending.len() >= MAX_POOL {
            return Err(SubmitError::Full);
        }
        match chain.validate(&extrinsic) {
            Ok(Validity::Valid) | Ok(Validity::Future) => {}
            Ok(Validity::Invalid(why)) => return Err(SubmitError::Invalid(why)),
            Err(e) => return Err(SubmitError::Chain(e.to_string())),
        }
        self.pending.push(Pending {
            extrinsic,
            hash,
            since: chain.best().number,
            watcher,
        });
        Ok(hash)
    }

    /// Authors the block of `slot` with every pending transaction; returns what each watcher
    /// must hear. Transactions whose nonce is still ahead stay for the next block.
    pub fn author(&mut self, chain: &mut Chain, slot: u64) -> Result<Vec<(W, Status)>, ChainError> {
        let offered: Vec<Vec<u8>> = self.pending.iter().map(|p| p.extrinsic.clone()).collect();
        let outcomes = chain.author(slot, &offered)?;
        let block = chain.best().hash;
        let number = chain.best().number;
        let mut told = Vec::new();
        let mut kept = Vec::new();
        for (pending, outcome) in std::mem::take(&mut self.pending).into_iter().zip(outcomes) {
            match outcome {
                Outcome::Applied | Outcome::Failed(_) => {
                    told.push((pending.watcher, Status::InBlock(block)));
                }
                Outcome::Future => {
                    if number.saturating_sub(pending.since) >= MAX_WAIT_BLOCKS {
                        told.push((pending.watcher, Status::Dropped));
                    } else {
                        kept.push(pending);
                    }
                }
                Outcome::Invalid(why) => told.push((pending.watcher, Status::Invalid(why))),
            }
        }
        self.pending = kept;
        Ok(told)
    }
}

/// The runtime's verdict on a transaction before a block.
#[derive(Debug, PartialEq, Eq)]
pub enum Validity {
    Valid,
    /// Valid once transactions with lower nonces are in.
    Future,
    Invalid(String),
}

/// `TransactionValidity`: `Result<ValidTransaction, TransactionValidityError>`.
pub fn decode_validity(output: &[u8]) -> Option<Validity> {
    match output {
        [0, ..] => Some(Validity::Valid),
        [1, 0, 2] => Some(Validity::Future),
        [1, error @ ..] => Some(Validity::Invalid(validity_error(error))),
        _ => None,
    }
}
