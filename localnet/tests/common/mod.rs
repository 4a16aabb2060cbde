//! A localnet process and a JSON-RPC client over WebSocket, for the node's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // a test fails loudly

use serde_json::{Value, json};
use smol::net::TcpStream;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use taoscope_light_client::client::{BittensorClient, ChainEvent, Transport};

pub fn spec_path() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    )
    .to_string()
}

/// A running `taoscope-localnet --dir DIR`, stopped (SIGTERM) when dropped.
pub struct Localnet {
    pub child: Child,
    pub dir: PathBuf,
    pub ready: Value,
}

impl Localnet {
    pub fn start(dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_taoscope-localnet"))
            .args([
                "--dir",
                dir.to_str().unwrap(),
                "--rpc-port",
                "0",
                "--p2p-port",
                "0",
                "--ws-port",
                "0",
            ])
            .args(["--chain-spec", &spec_path()])
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a ready line: {line:?} ({e})"));
        Self {
            child,
            dir: dir.to_path_buf(),
            ready,
        }
    }

    pub fn rpc_url(&self) -> String {
        self.ready["rpc"].as_str().unwrap().to_string()
    }

    /// SIGTERM, then the exit status.
    pub fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        self.child.wait().unwrap()
    }
}

impl Drop for Localnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("taoscope-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A JSON-RPC client: requests by id, notifications kept in arrival order.
pub struct Rpc {
    sender: soketto::connection::Sender<TcpStream>,
    receiver: soketto::connection::Receiver<TcpStream>,
    next_id: u64,
    pub notifications: Vec<Value>,
}

impl Rpc {
    pub async fn connect(url: &str) -> Self {
        let address = url.trim_start_matches("ws://");
        let stream = TcpStream::connect(address).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let mut client = soketto::handshake::Client::new(stream, address, "/");
        match client.handshake().await.unwrap() {
            soketto::handshake::ServerResponse::Accepted { .. } => {}
            other => panic!("handshake refused: {other:?}"),
        }
        let mut builder = client.into_builder();
        builder.set_max_message_size(64 * 1024 * 1024);
        let (sender, receiver) = builder.finish();
        Self {
            sender,
            receiver,
            next_id: 1,
            notifications: Vec::new(),
        }
    }

    pub async fn send_text(&mut self, text: &str) {
        self.sender.send_text(text).await.unwrap();
        self.sender.flush().await.unwrap();
    }

    pub async fn receive(&mut self) -> Value {
        let mut message = Vec::new();
        let receive = self.receiver.receive_data(&mut message);
        smol::future::or(async { Some(receive.await) }, async {
            smol::Timer::after(Duration::from_secs(60)).await;
            None
        })
        .await
        .expect("no message from the node in 60 s")
        .unwrap();
        serde_json::from_slice(&message).unwrap()
    }

    /// The next message that is not a subscription notification (those are kept for
    /// [`Rpc::notification`]): the reply to something sent with [`Rpc::send_text`].
    pub async fn reply(&mut self) -> Value {
        loop {
            let message = self.receive().await;
            if message.get("method").is_none() {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The whole reply object (`result` or `error`).
    pub async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let request = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        self.send_text(&request.to_string()).await;
        loop {
            let message = self.receive().await;
            if message["id"] == json!(id) {
                return message;
            }
            self.notifications.push(message);
        }
    }

    /// The runtime's metadata at the best block (`state_getMetadata`), decoded.
    pub async fn metadata(&mut self) -> taoscope_light_client::metadata::Metadata {
        let hex = self.call("state_getMetadata", json!([])).await;
        taoscope_light_client::metadata::Metadata::decode(
            &taoscope_light_client::hex::from_hex(hex.as_str().unwrap()).unwrap(),
        )
        .unwrap()
    }

    /// The `result` of a request that must succeed.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params.clone()).await;
        assert!(
            reply.get("error").is_none(),
            "{method}({params}) failed: {}",
            reply["error"]
        );
        reply["result"].clone()
    }

    /// The next notification of `subscription`.
    pub async fn notification(&mut self, subscription: &Value) -> Value {
        if let Some(i) = self
            .notifications
            .iter()
            .position(|n| &n["params"]["subscription"] == subscription)
        {
            return self.notifications.remove(i)["params"]["result"].clone();
        }
        loop {
            let message = self.receive().await;
            if &message["params"]["subscription"] == subscription {
                return message["params"]["result"].clone();
            }
            self.notifications.push(message);
        }
    }
}

/// smoldot-light's logs (warnings and up; everything with `SMOLDOT_LOG=debug`), on stderr.
struct StderrLog;

impl log::Log for StderrLog {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }
    fn log(&self, record: &log::Record) {
        // smoldot-light's platform logs through `log::logger()` directly, past the level check.
        if !self.enabled(record.metadata()) {
            return;
        }
        let elapsed = START.get_or_init(Instant::now).elapsed().as_secs_f64();
        eprintln!(
            "[{elapsed:7.3}] smoldot-light {} {}: {}",
            record.level(),
            record.target(),
            record.args()
        );
    }
    fn flush(&self) {}
}

static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();

/// Sends smoldot-light's logs to stderr: warnings and up, everything with `SMOLDOT_LOG=debug`
/// (or `trace`).
pub fn smoldot_logs() {
    let _ = log::set_logger(&StderrLog);
    log::set_max_level(match std::env::var("SMOLDOT_LOG").as_deref() {
        Ok("debug") => log::LevelFilter::Debug,
        Ok("trace") => log::LevelFilter::Trace,
        _ => log::LevelFilter::Warn,
    });
}

/// The chain spec the node wrote, with only the bootnodes whose address contains `transport`.
pub fn spec_over(dir: &Path, transport: &str) -> String {
    let mut spec: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("chainspec.json")).unwrap())
            .unwrap();
    let bootnodes: Vec<Value> = spec["bootNodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            let a = a.as_str().unwrap();
            a.contains(transport) && (transport == "/ws" || !a.contains("/ws"))
        })
        .cloned()
        .collect();
    assert_eq!(
        bootnodes.len(),
        1,
        "one {transport} bootnode in {}",
        spec["bootNodes"]
    );
    spec["bootNodes"] = json!(bootnodes);
    spec.to_string()
}

/// How long a light client may take to reach a finalized block.
pub const FOLLOW_WAIT: Duration = Duration::from_secs(120);
/// Drives the client until its finalized block is at least `number`.
pub async fn follow_until<T: Transport>(client: &mut BittensorClient<T>, number: u64) -> Duration {
    let started = Instant::now();
    loop {
        for event in client.events().await.unwrap() {
            if let ChainEvent::Finalized(block) = event
                && block.number >= number
            {
                return started.elapsed();
            }
        }
        let pumped = smol::future::or(async { Some(client.pump().await) }, async {
            smol::Timer::after(FOLLOW_WAIT.saturating_sub(started.elapsed())).await;
            None
        })
        .await;
        pumped
            .unwrap_or_else(|| panic!("no finalized block #{number} within {FOLLOW_WAIT:?}"))
            .unwrap();
    }
}

/// A `Balances::transfer` of `amount` rao to `dest` (SS58) signed by `signer` with `nonce`,
/// immortal, for spec 103.
pub fn signed_transfer(
    metadata: &taoscope_light_client::metadata::Metadata,
    genesis_hash: [u8; 32],
    signer: &taoscope_light_client::keys::Sr25519Signer,
    dest: &str,
    amount: u64,
    nonce: u32,
) -> Vec<u8> {
    use taoscope_light_client::extrinsic::{self, Mortality, Transaction};
    let call = extrinsic::encode_call(
        metadata,
        "Balances",
        "transfer",
        json!({"dest": dest, "value": amount}).as_object().unwrap(),
    )
    .unwrap();
    let tx = Transaction {
        spec_version: 103,
        transaction_version: 1,
        genesis_hash,
        mortality: Mortality::Immortal,
        nonce,
        tip: 0,
        metadata_hash: None,
    };
    extrinsic::sign_ready(metadata, &tx, &call, signer).unwrap()
}
