//! Bittensor chain access for taoscope.
//!
//! This crate turns verified chain bytes into Bittensor facts, and a user's intent into a
//! correctly signed extrinsic. Like the rest of taoscope it keeps verification apart from
//! fetching: every module here is pure and I/O-free (no sockets, clocks or storage), and the
//! transports (smoldot-light, verified RPC) sit at the edge and hand it bytes they have proven.
//!
//! Threat model: every byte comes from outside (a peer, an RPC server, a file a user dropped)
//! and every string from a person. Decoders return errors naming what is wrong (the entry, the
//! argument, the runtime version), never a panic and never a value read with the wrong layout.
//!
//! The chain codec follows the runtime it talks to, through its metadata:
//! - [`metadata`]: V14/V15 metadata decoded and indexed by name; RFC-0078 metadata hashes;
//! - [`value`]: any runtime value, SCALE ⇄ JSON by metadata type, in Bittensor's JSON shapes;
//! - [`storage`]: storage keys (every hasher, prefixes for iteration) and values, with typed
//!   reads that check the runtime's layout first ([`types`] are the Rust types read so);
//! - [`subnet`]: a subnet's hyperparameters and per-uid vectors from one block's state;
//! - [`epoch_input`]: the complete input of a Yuma epoch for the consensus engine;
//! - [`runtime_api`]: `state_call` requests and results; swap quotes; slippage limit prices;
//! - [`extrinsic`]: calls by name, transaction extensions from metadata, signing payloads,
//!   signed extrinsics behind the [`extrinsic::Signer`] trait ([`keys`]: sr25519/ed25519 and
//!   the development accounts); [`era`]: transaction mortality;
//! - [`header`]: block headers and hashes; [`hashing`]: the chain's hash functions.
//!
//! And what every page needs to show chain values to people:
//! - [`ss58`]: account addresses (network prefix 42), with checksum verification;
//! - [`units`]: TAO and rao (1 TAO = 10⁹ rao), exact, with no floats.

pub mod epoch_input;
pub mod epoch_v103;
pub mod era;
pub mod extrinsic;
pub mod hashing;
pub mod header;
pub mod keys;
pub mod metadata;
pub mod runtime_api;
pub mod ss58;
pub mod storage;
pub mod subnet;
pub mod types;
pub mod units;
pub mod value;
