//! Endpoints over WebSocket natively (tests, the CLI): smol's TCP and soketto's WebSocket
//! codec, the async stack smoldot-light's native platform already brings. `ws://` only: no
//! TLS here (the browser has it).

use super::{Settings, VerifiedTransport, channels, serve};
use crate::client::endpoints::{Connection, FetchError, Limits};
use crate::verified::checkpoint::Checkpoint;
use smol::net::TcpStream;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct NativeConnection {
    sender: soketto::connection::Sender<TcpStream>,
    receiver: soketto::connection::Receiver<TcpStream>,
    limits: Limits,
}

impl NativeConnection {
    fn timeout(&self) -> Duration {
        Duration::from_millis(self.limits.answer_timeout_ms)
    }
}

impl Connection for NativeConnection {
    async fn open(url: &str, limits: Limits) -> Result<Self, FetchError> {
        let failed = |why: String| FetchError::Connection(why);
        let rest = url.strip_prefix("ws://").ok_or_else(|| {
            failed(format!(
                "{url}: the native client speaks ws:// only (no TLS); use the app for wss://"
            ))
        })?;
        let (host, path) = match rest.find('/') {
            Some(slash) => (&rest[..slash], &rest[slash..]),
            None => (rest, "/"),
        };
        let connect = async {
            let stream = TcpStream::connect(host)
                .await
                .map_err(|e| failed(format!("{url}: {e}")))?;
            // One small request, one answer: Nagle's algorithm would hold each back ~40 ms.
            let _ = stream.set_nodelay(true);
            let mut client = soketto::handshake::Client::new(stream, host, path);
            match client.handshake().await {
                Ok(soketto::handshake::ServerResponse::Accepted { .. }) => {}
                Ok(other) => return Err(failed(format!("{url}: handshake refused: {other:?}"))),
                Err(e) => return Err(failed(format!("{url}: handshake: {e}"))),
            }
            let mut builder = client.into_builder();
            builder.set_max_message_size(limits.max_answer_bytes);
            builder.set_max_frame_size(limits.max_answer_bytes);
            let (sender, receiver) = builder.finish();
            Ok(NativeConnection {
                sender,
                receiver,
                limits,
            })
        };
        smol::future::or(connect, async {
            smol::Timer::after(Duration::from_millis(limits.answer_timeout_ms)).await;
            Err(FetchError::Timeout)
        })
        .await
    }

    async fn exchange(&mut self, request: &str) -> Result<String, FetchError> {
        let limit = self.limits.max_answer_bytes;
        let lost = move |e: soketto::connection::Error| match e {
            // Too large as one message, or as one frame of it.
            soketto::connection::Error::MessageTooLarge { .. }
            | soketto::connection::Error::Codec(soketto::base::Error::PayloadTooLarge { .. }) => {
                FetchError::TooLarge { limit }
            }
            e => FetchError::Connection(e.to_string()),
        };
        let timeout = self.timeout();
        self.sender.send_text(request).await.map_err(lost)?;
        self.sender.flush().await.map_err(lost)?;
        let mut message = Vec::new();
        let receive = async {
            self.receiver
                .receive_data(&mut message)
                .await
                .map(|_| ())
                .map_err(lost)
        };
        smol::future::or(receive, async {
            smol::Timer::after(timeout).await;
            Err(FetchError::Timeout)
        })
        .await?;
        String::from_utf8(message).map_err(|e| FetchError::Garbled(e.to_string()))
    }

    async fn sleep(ms: u64) {
        smol::Timer::after(Duration::from_millis(ms)).await;
    }

    fn now_ms() -> u64 {
        static START: OnceLock<Instant> = OnceLock::new();
        u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Starts the verified-RPC transport on a thread of its own, from `checkpoint`, over `urls`
/// (tried in order; failing ones demoted), polling for finality every `poll_ms`.
pub fn start(checkpoint: Checkpoint, urls: Vec<String>, poll_ms: u64) -> VerifiedTransport {
    start_with(
        checkpoint,
        urls,
        Settings {
            poll_ms,
            ..Settings::default()
        },
    )
}

/// [`start`] with every setting chosen.
pub fn start_with(
    checkpoint: Checkpoint,
    urls: Vec<String>,
    settings: Settings,
) -> VerifiedTransport {
    let (transport, server) = channels(&checkpoint);
    std::thread::spawn(move || {
        smol::block_on(serve::<NativeConnection>(
            checkpoint, urls, settings, server,
        ));
    });
    transport
}

/// [`super::make_checkpoint`] natively, blocking.
pub fn make_checkpoint(url: &str, number: Option<u64>) -> Result<Checkpoint, String> {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    smol::block_on(super::make_checkpoint::<NativeConnection>(
        url, number, now_ms,
    ))
}
