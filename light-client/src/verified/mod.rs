//! The verified-RPC core: checks that turn an untrusted endpoint's answers into chain facts.
//!
//! Pure and I/O-free, on smoldot's primitives (header decoding and hashing, GRANDPA
//! justification verification, trie proof decoding, the runtime executor):
//! - [`checkpoint`]: the trust anchor (a finalized block and its GRANDPA set), its file format
//!   and age;
//! - [`finality`]: headers accepted as final only through justifications of the set in force,
//!   following scheduled authority set changes announced in justified headers, never forced
//!   ones; [`grandpa`]: a justification judged by signatures, vote ancestry and weight;
//! - [`proof`]: storage values, absences and key ranges only through read proofs against a
//!   proven state root;
//! - [`runtime`]: the runtime's version and calls from its proven `:code`, each call with a
//!   fuel limit written into the code ([`fuel`]);
//! - [`body`]: a block's extrinsics only as the list its proven header commits to;
//! - [`follower`]: the proven chain and what it needs next, as typed requests (sans I/O), and
//!   the runtime in force era by era.
//!
//! The fetching side ([`crate::client::verified_rpc`]) asks endpoints, hands the answers here,
//! and tells the user which endpoint lied and how. Nothing here imports from the layers above.

// Every byte here is an adversary's: an index out of range must be an error, not a panic.
#![deny(clippy::indexing_slicing)]

#[cfg(feature = "core")]
pub mod body;
// The checkpoint needs only the codec: the page reads it too (its age, where it came from).
pub mod checkpoint;
#[cfg(feature = "core")]
pub mod finality;
#[cfg(feature = "core")]
pub mod follower;
#[cfg(feature = "core")]
pub mod fuel;
#[cfg(feature = "core")]
pub mod grandpa;
#[cfg(feature = "core")]
pub mod proof;
#[cfg(feature = "core")]
pub mod runtime;

/// Bittensor's block numbers are `u32`: four bytes in headers and GRANDPA votes.
pub const BLOCK_NUMBER_BYTES: usize = 4;
