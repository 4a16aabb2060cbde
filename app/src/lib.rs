//! taoscope's browser app: a Leptos client-side app plus the Web Worker that runs the Yuma engine.
//!
//! - [`shell`]: the router and the header (network choice, connection state).
//! - [`chain`], [`chain_protocol`]: the light client's worker (smoldot-light, `light-worker`), the
//!   chosen network's chain spec, smoldot's saved database, and the signals pages read.
//! - [`embed`]: the widget frames (`/embed/…`) other sites embed through `widgets.js`.
//! - [`pages`]: one module per page; a page exists when it does something.
//! - [`i18n`]: the one text and number-formatting layer (English, Simplified Chinese).
//! - [`install`]: the service worker, the new-version prompt, the offline notice.
//! - [`table`]: the one table (sorting, numbers, copyable hashes) and the empty and failed states.
//! - [`hub`]: the shared light worker's switchboard, one client for every widget frame of a page.
//! - [`history`]: audited epochs kept in IndexedDB across visits (a cache, shown apart).
//! - [`wallet`]: the browser wallet extensions injected into the page, and their accounts.
//! - [`webgpu`]: what the browser's WebGPU adapter is, for the System page and (next) the GPU engine.
//! - [`epoch_protocol`]: the messages between the pages and the epoch worker.
//! - [`worker`]: the page's side of that worker.
//! - [`rpc`]: a JSON-RPC client over the browser's WebSocket (fetching only; nothing it returns
//!   is verified).

pub mod chain;
pub mod chain_protocol;
pub mod embed;
pub mod epoch_protocol;
pub mod history;
pub mod hub;
pub mod i18n;
pub mod install;
pub mod pages;
pub mod rpc;
pub mod shell;
pub mod table;
pub mod wallet;
pub mod webgpu;
pub mod worker;

/// The app's version and the commit it was built from.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
pub const COMMIT: &str = env!("TAOSCOPE_COMMIT");
