//! Verified RPC as a [`Transport`]: untrusted JSON-RPC endpoints, every answer proven.
//!
//! For chains smoldot-light cannot follow (Finney today, see `shared/docs/smoldot-and-finney.md`)
//! and pages that cannot reach a p2p bootnode. The trust anchor is a [`Checkpoint`]; from there
//! the verified core ([`crate::verified`]) accepts finality only through GRANDPA
//! justifications, storage only through read proofs against a proven state root, and the
//! runtime only from its proven `:code`. A server task ([`server`]) serves
//! [`super::BittensorClient`] the same `chainHead_v1` API smoldot-light does, so the app does
//! not care which transport answers; [`VerifiedTransport::report`] says what was trusted and
//! what was checked (the app's Trust panel).
//!
//! Threat model: every endpoint may lie, drop, delay, replay or flood. A lie is caught (the
//! answer does not verify), named and counted against the endpoint, and the question goes to the
//! next one; a flood is cut at [`super::endpoints::Limits`]; a silence times out. What cannot be caught
//! is a checkpoint the user was given by a liar, which is why a checkpoint must be of the
//! network's chain and young ([`Checkpoint::accept`]).
//!
//! The layers: [`crate::verified::follower`] (pure: what is proven, what is needed next),
//! `driver` (fetches with failover), `server` (the JSON-RPC façade), [`super::legacy`] (the shapes
//! of the endpoints' answers), [`super::endpoints`] (connections, limits, backoff).

mod driver;
mod server;

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "native")]
pub mod native;

use super::endpoints::{self, Connection, Limits};
pub use super::trust::{EndpointReport, Rejection, TrustReport};
use super::{BlockRef, ClientError, Transport};
use crate::hex::to_hex;
use crate::verified::checkpoint::{Acceptance, Checkpoint};
use futures_channel::mpsc;
use futures_util::StreamExt;
use futures_util::future::{Either, select};
use std::sync::{Arc, Mutex};

pub struct VerifiedTransport {
    requests: mpsc::UnboundedSender<String>,
    responses: mpsc::UnboundedReceiver<String>,
    report: Arc<Mutex<TrustReport>>,
}

impl VerifiedTransport {
    /// What is trusted and what was checked, now.
    pub fn report(&self) -> TrustReport {
        self.report.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// The channels between a [`VerifiedTransport`] and its server task.
pub struct ServerChannels {
    requests: mpsc::UnboundedReceiver<String>,
    responses: mpsc::UnboundedSender<String>,
    report: Arc<Mutex<TrustReport>>,
}

/// A transport and the other ends of its channels, for a platform to run [`serve`] on.
pub fn channels(checkpoint: &Checkpoint) -> (VerifiedTransport, ServerChannels) {
    let (request_tx, request_rx) = mpsc::unbounded();
    let (response_tx, response_rx) = mpsc::unbounded();
    let report = Arc::new(Mutex::new(TrustReport {
        checkpoint_block: BlockRef {
            number: checkpoint.number,
            hash: to_hex(&checkpoint.hash),
        },
        checkpoint_set_id: checkpoint.set_id,
        checkpoint_created_at_ms: checkpoint.created_at_ms,
        checkpoint_source: checkpoint.source.clone(),
        set_id: checkpoint.set_id,
        ..TrustReport::default()
    }));
    (
        VerifiedTransport {
            requests: request_tx,
            responses: response_rx,
            report: report.clone(),
        },
        ServerChannels {
            requests: request_rx,
            responses: response_tx,
            report,
        },
    )
}

/// How the server task runs.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How often the endpoints are asked for a newer finalized block.
    pub poll_ms: u64,
    pub limits: Limits,
    /// What the network asks of the checkpoint (its chain, its age); `None`: the caller checked.
    pub acceptance: Option<Acceptance>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            poll_ms: 1000,
            limits: Limits::default(),
            acceptance: None,
        }
    }
}

/// The server task: answers the transport's requests and polls the endpoints for finality
/// every `poll_ms`, until the transport is dropped.
pub async fn serve<C: Connection>(
    checkpoint: Checkpoint,
    urls: Vec<String>,
    settings: Settings,
    channels: ServerChannels,
) {
    let ServerChannels {
        mut requests,
        responses,
        report,
    } = channels;
    let refuse = |why: String| {
        if let Ok(mut report) = report.lock() {
            report.last_error = Some(format!("the checkpoint cannot be used: {why}"));
        }
    };
    if let Some(acceptance) = &settings.acceptance
        && let Err(error) = checkpoint.accept(acceptance)
    {
        return refuse(error.to_string());
    }
    let mut server =
        match server::Server::<C>::new(&checkpoint, &urls, settings.limits, report.clone()) {
            Ok(server) => server,
            Err(error) => return refuse(error.to_string()),
        };
    let poll_ms = settings.poll_ms;
    server.poll().await;
    let mut timer = Box::pin(C::sleep(poll_ms));
    loop {
        match select(requests.next(), timer.as_mut()).await {
            Either::Left((Some(request), _)) => server.handle(&request).await,
            Either::Left((None, _)) => return,
            Either::Right(((), _)) => {
                server.poll().await;
                timer = Box::pin(C::sleep(poll_ms));
            }
        }
        for message in server.take_outgoing() {
            if responses.unbounded_send(message).is_err() {
                return;
            }
        }
    }
}

impl Transport for VerifiedTransport {
    fn send(&mut self, request: String) -> Result<(), ClientError> {
        self.requests
            .unbounded_send(request)
            .map_err(|_| ClientError::Closed)
    }

    async fn next(&mut self) -> Option<String> {
        self.responses.next().await
    }

    fn name(&self) -> &'static str {
        "verified RPC"
    }

    /// The follower keeps its proven blocks readable ([`crate::verified::follower::BLOCKS_KEPT`])
    /// whether or not the reader unpinned them.
    fn kept_unpinned(&self) -> u64 {
        crate::verified::follower::BLOCKS_KEPT as u64
    }
}

/// Builds a checkpoint from the node at `url` at block `number` (the node's finalized head when
/// `None`). The node is trusted for it, so make checkpoints only from a node you trust: this is
/// `taoscope checkpoint`. `now_ms` dates it.
pub async fn make_checkpoint<C: Connection>(
    url: &str,
    number: Option<u64>,
    now_ms: u64,
) -> Result<Checkpoint, String> {
    use crate::hashing::twox_128;
    use crate::header::Header;
    use crate::hex::from_hex;
    use crate::verified::checkpoint::Authority;
    use parity_scale_codec::Decode;
    use serde_json::{Value, json};

    let mut endpoints = endpoints::Endpoints::<C>::new(&[url.to_string()], Limits::default());
    let mut ask = async |method: &str, params: Value| {
        endpoints
            .request(0, method, params)
            .await
            .map_err(|e| format!("{method}: {e}"))
    };
    let hash_of = |value: Value, what: &str| -> Result<[u8; 32], String> {
        value
            .as_str()
            .and_then(|h| from_hex(h).ok())
            .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
            .ok_or_else(|| format!("{what}: not a block hash"))
    };
    let bytes_of = |value: &Value, what: &str| -> Result<Vec<u8>, String> {
        value
            .as_str()
            .ok_or_else(|| format!("{what}: not hex"))
            .and_then(|h| from_hex(h).map_err(|e| format!("{what}: {e}")))
    };

    let genesis_hash = hash_of(ask("chain_getBlockHash", json!([0])).await?, "genesis hash")?;
    let hash = match number {
        Some(n) => hash_of(ask("chain_getBlockHash", json!([n])).await?, "block hash")?,
        None => hash_of(
            ask("chain_getFinalizedHead", json!([])).await?,
            "finalized head",
        )?,
    };
    let at = to_hex(&hash);
    let header_json = ask("chain_getHeader", json!([at])).await?;
    let header = super::legacy::header(&header_json)?;
    let decoded =
        Header::decode(&header).map_err(|e| format!("the header does not decode: {e}"))?;
    if decoded.hash != hash {
        return Err("the node's header does not hash to the block hash it gave".into());
    }

    let pallet_key = |entry: &[u8]| to_hex(&[twox_128(b"Grandpa"), twox_128(entry)].concat());
    if !ask(
        "state_getStorage",
        json!([pallet_key(b"PendingChange"), at]),
    )
    .await?
    .is_null()
    {
        return Err(format!(
            "an authority set change is pending at block #{}; make the checkpoint at a later block",
            decoded.number
        ));
    }
    let set_id = match ask("state_getStorage", json!([pallet_key(b"CurrentSetId"), at])).await? {
        Value::Null => 0,
        value => u64::decode(&mut &bytes_of(&value, "Grandpa::CurrentSetId")?[..])
            .map_err(|e| format!("Grandpa::CurrentSetId: {e}"))?,
    };
    let output = ask(
        "state_call",
        json!(["GrandpaApi_grandpa_authorities", "0x", at]),
    )
    .await?;
    let list = Vec::<([u8; 32], u64)>::decode(&mut &bytes_of(&output, "authorities")?[..])
        .map_err(|e| format!("GrandpaApi_grandpa_authorities: {e}"))?;
    let checkpoint = Checkpoint {
        genesis_hash,
        number: u64::from(decoded.number),
        hash,
        header,
        set_id,
        authorities: list
            .into_iter()
            .map(|(public_key, weight)| Authority { public_key, weight })
            .collect(),
        created_at_ms: Some(now_ms),
        source: Some(url.to_string()),
    };
    // What the file will say must read back as a checkpoint.
    Checkpoint::from_json(&checkpoint.to_json().to_string()).map_err(|e| e.to_string())
}
