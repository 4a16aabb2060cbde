//! A localnet process and a JSON-RPC client over WebSocket, for the node's tests.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // a test fails loudly

use serde_json::{Value, json};
use smol::net::TcpStream;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
            .args(["--dir", dir.to_str().unwrap(), "--rpc-port", "0"])
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
