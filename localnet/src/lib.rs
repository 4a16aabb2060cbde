//! `taoscope-localnet`: a local Bittensor chain that runs the real subtensor runtime, for light
//! clients to sync from and for the app to work offline.
//!
//! Built in steps (see the localnet issue). Here now:
//! - [`genesis`]: a raw chain spec's genesis storage, with development overrides (Aura and
//!   GRANDPA authorities, sudo key and balances set to `//Alice`, `//Bob`, …);
//! - [`runtime`]: the runtime of a state, executed by smoldot's executor (calls with storage
//!   access, unresolved benchmark imports allowed);
//! - the genesis block and its hash, computed by smoldot as a light client computes them.
//!
//! Next: block authoring (Aura, timestamp inherent, transaction pool), GRANDPA finality, the
//! libp2p protocols and JSON-RPC.

pub mod chain;
pub mod demo;
pub mod genesis;
pub mod grandpa;
pub mod launch;
pub mod node;
pub mod p2p;
pub mod pool;
pub mod proof;
pub mod rpc;
pub mod runtime;
pub mod store;
