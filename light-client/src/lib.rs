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
//!   the development accounts); [`era`]: transaction mortality; [`staking`]: the staking moves
//!   a runtime offers and what each argument is; [`wallet`]: the payload a
//!   browser wallet signs, and the checks on its signature and returned transaction;
//! - [`header`]: block headers and hashes; [`hashing`]: the chain's hash functions; [`hex`]:
//!   bytes as text.
//!
//! The light client, on top of the codec:
//! - [`metagraph`]: which keys the Subnets and subnet pages need, and what they read as;
//! - [`audit`]: a subnet epoch recomputed from proven state and compared value by value;
//! - [`client`]: [`client::BittensorClient`], typed reads and the chain's events over any
//!   [`client::Transport`]; smoldot-light is one (features `native` or `browser`);
//! - [`platform`] (feature `browser`): smoldot-light's platform in a browser or Web Worker;
//! - [`verified`] (features `native` or `browser`): the verified-RPC core (checkpoint,
//!   GRANDPA finality, read proofs, the runtime from proven code), under
//!   [`client::verified_rpc`], the second transport.
//!
//! And what every page needs to show chain values to people:
//! - [`ss58`]: account addresses (network prefix 42), with checksum verification;
//! - [`units`]: TAO and rao (1 TAO = 10⁹ rao), exact, with no floats.

#[cfg(all(feature = "native", feature = "browser"))]
compile_error!(
    "features `native` and `browser` choose smoldot-light's platform: enable one, not both"
);

pub mod audit;
pub mod client;
pub mod epoch_input;
pub mod epoch_v103;
pub mod era;
pub mod extrinsic;
pub mod hashing;
pub mod header;
pub mod hex;
pub mod keys;
pub mod metadata;
pub mod metagraph;
pub mod networks;
#[cfg(feature = "browser")]
pub mod platform;
pub mod runtime_api;
pub mod runtime_spec;
pub mod ss58;
pub mod staking;
pub mod storage;
pub mod subnet;
#[cfg(feature = "websocket")]
pub mod timer;
pub mod types;
pub mod units;
pub mod value;
pub mod verified;
pub mod wallet;
pub mod yields;
