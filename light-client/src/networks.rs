//! The networks taoscope knows by name: facts every front end (the app, the CLI) shares.

/// Finney's genesis hash (`../shared/chainspecs/README.md`): a Finney checkpoint must carry it.
pub const FINNEY_GENESIS: &str =
    "0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03";

/// Finney's public JSON-RPC endpoint (untrusted: every answer is proven).
pub const FINNEY_RPC: &str = "wss://entrypoint-finney.opentensor.ai:443";

/// Where `taoscope-localnet` serves JSON-RPC by default.
pub const LOCALNET_RPC: &str = "ws://127.0.0.1:9944";

/// The localnet's checkpoint: its genesis, made by `taoscope checkpoint --block 0` (the
/// localnet's genesis is fixed by the testnet spec and the development keys), as the app ships it.
pub const LOCALNET_CHECKPOINT: &str = include_str!("../../public/checkpoints/localnet.json");
