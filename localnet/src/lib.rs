//! `taoscope-localnet`: a local Bittensor chain that runs the real subtensor runtime, for light
//! clients to sync from and for the app to work offline.
//!
//! - [`genesis`]: a raw chain spec's genesis storage, with development overrides (Aura and
//!   GRANDPA authorities, sudo key and balances set to `//Alice`, `//Bob`, …);
//! - [`runtime`]: the runtime of a state, executed by smoldot's executor;
//! - [`chain`]: blocks authored with the runtime's block builder, sealed (Aura) and finalized
//!   (GRANDPA, [`grandpa`]), their states kept; [`pool`] for transactions; [`proof`] for state
//!   roots and proofs; [`checkpoint`] for a client's starting point;
//! - [`p2p`]: the peer-to-peer protocols (answers in `protocols`, litep2p in `network`);
//! - [`rpc`] and [`node`]: JSON-RPC over WebSocket; [`store`] keeps the blocks in a directory;
//!   [`launch`] puts it together; [`demo`] runs a demonstration subnet.

pub mod chain;
pub mod checkpoint;
pub mod demo;
pub mod genesis;
pub mod grandpa;
pub mod launch;
pub mod modern;
pub mod node;
pub mod p2p;
pub mod pool;
pub mod proof;
pub mod rpc;
pub mod runtime;
pub mod store;
pub mod subscribe;
