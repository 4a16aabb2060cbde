//! A node the user chose to trust, asked from the page (the localnet's chain spec, the Epoch
//! lab's trusted-RPC audit): the light client's one browser JSON-RPC client
//! (`client::websocket`, with its size and time limits), and the words a person needs when the
//! node is not there.
//!
//! It fetches; it does not verify. What it returns is whatever the endpoint said, and the code
//! that shows it must say so until the light client (or a proof check) stands behind it.

use serde_json::Value;
use taoscope_light_client::client::endpoints::{FetchError, Single};
use taoscope_light_client::client::websocket::BrowserConnection;

pub struct RpcClient(Single<BrowserConnection>);

/// Words for a socket that would not open: the browser says nothing more than "error".
fn unreachable(url: &str) -> String {
    format!(
        "cannot reach {url}: is the node running there (for the localnet: `./scripts/run` or \
         `taoscope-localnet --dir DIR`), and is the address right? An https page may only open \
         wss:// addresses."
    )
}

impl RpcClient {
    /// A client of `url`; the connection opens with the first call.
    pub async fn connect(url: &str) -> Result<Self, String> {
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(format!(
                "{url}: a JSON-RPC endpoint is a ws:// or wss:// address"
            ));
        }
        Ok(RpcClient(Single::new(url)))
    }

    /// The `result` of `method(params)`, or the endpoint's error in words.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.0
            .call(method, params)
            .await
            .map_err(|error| match error {
                FetchError::Connection(_) | FetchError::Backoff { .. } => unreachable(self.0.url()),
                FetchError::Refused { message, .. } => format!("{method}: {message}"),
                other => format!("{method}: {other}"),
            })
    }
}
