//! Verified RPC in a browser page or Web Worker, over [`crate::client::websocket`].

use super::{Settings, VerifiedTransport, channels, serve};
use crate::client::websocket::BrowserConnection;
use crate::verified::checkpoint::Checkpoint;

/// Starts the verified-RPC transport as a task of this page or worker.
pub fn start(checkpoint: Checkpoint, urls: Vec<String>, settings: Settings) -> VerifiedTransport {
    let (transport, server) = channels(&checkpoint);
    wasm_bindgen_futures::spawn_local(serve::<BrowserConnection>(
        checkpoint, urls, settings, server,
    ));
    transport
}

/// [`super::make_checkpoint`] from the page (importing a checkpoint from a trusted node).
pub async fn make_checkpoint(url: &str, number: Option<u64>) -> Result<Checkpoint, String> {
    let now_ms = js_sys::Date::now() as u64;
    super::make_checkpoint::<BrowserConnection>(url, number, now_ms).await
}
