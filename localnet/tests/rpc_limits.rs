//! The localnet's JSON-RPC server under abuse, on loopback. A page of a foreign origin is refused
//! at the handshake (a web site the user visits could otherwise drive the node), while pages of
//! this machine and tools are let in. 200 connections at once are served, and a flood of
//! malformed, oversized and unfinished messages and handshakes is answered or cut, while the node
//! keeps authoring and finalizing blocks. A read proof of more keys than allowed is refused in
//! words. Connections beyond the cap are refused, and an idle one is closed, freeing its place.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, temp_dir};
use serde_json::{Value, json};
use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::TcpStream;
use std::time::{Duration, Instant};

fn number(header: &Value) -> u64 {
    u64::from_str_radix(
        header["number"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap()
}

/// A WebSocket handshake by hand, with `origin`; the status line of the answer (`None`: the
/// node closed the connection without one).
async fn handshake_status(url: &str, origin: Option<&str>) -> Option<String> {
    let address = url.trim_start_matches("ws://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let origin = origin.map_or(String::new(), |o| format!("Origin: {o}\r\n"));
    let request = format!(
        "GET / HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{origin}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 512];
    let read = smol::future::or(async { stream.read(&mut answer).await.ok() }, async {
        smol::Timer::after(Duration::from_secs(10)).await;
        None
    })
    .await?;
    let text = String::from_utf8_lossy(&answer[..read]).to_string();
    text.lines().next().map(str::to_string)
}

async fn head(rpc: &mut Rpc) -> (u64, u64) {
    let best = number(&rpc.call("chain_getHeader", json!([])).await);
    let finalized_hash = rpc.call("chain_getFinalizedHead", json!([])).await;
    let finalized = number(&rpc.call("chain_getHeader", json!([finalized_hash])).await);
    (best, finalized)
}

#[test]
fn foreign_origins_are_refused_and_floods_do_not_stop_the_chain() {
    let dir = temp_dir("rpc-limits");
    let node = Localnet::start(&dir, &["--backfill", "5", "--block-ms", "300"]);
    let url = node.rpc_url();
    smol::block_on(async {
        // Who gets in.
        for (origin, allowed) in [
            (None, true),
            (Some("http://127.0.0.1:8080"), true),
            (Some("http://localhost:41234"), true),
            (Some("https://evil.example"), false),
            (Some("http://127.0.0.1.evil.example"), false),
            (Some("null"), false),
        ] {
            let status = handshake_status(&url, origin).await.unwrap_or_default();
            eprintln!("Origin {origin:?}: {status}");
            let expected = if allowed { "101" } else { "403" };
            assert!(status.contains(expected), "{origin:?}: {status}");
        }

        let mut watcher = Rpc::connect(&url).await;
        let (best_before, finalized_before) = head(&mut watcher).await;
        let started = Instant::now();

        // A flood: bytes that are no handshake, handshakes never finished, text that is not
        // JSON-RPC, a message over the node's limit, and batches of nonsense.
        let mut junk = Vec::new();
        for _ in 0..10 {
            let mut stream = TcpStream::connect(url.trim_start_matches("ws://"))
                .await
                .unwrap();
            stream.write_all(&[0xff; 4096]).await.unwrap();
            junk.push(stream);
            let mut half = TcpStream::connect(url.trim_start_matches("ws://"))
                .await
                .unwrap();
            half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            junk.push(half);
        }
        let mut noisy = Rpc::connect(&url).await;
        for text in [
            "",
            "{",
            "[]",
            "null",
            "{\"id\":1}",
            "{\"method\":7}",
            "\u{0}\u{1}",
        ] {
            noisy.send_text(text).await;
            let reply = noisy.reply().await;
            assert!(reply.get("error").is_some(), "{text:?}: {reply}");
        }
        let reply = noisy
            .request("state_getStorage", json!(["0xzz", null]))
            .await;
        assert!(
            reply["error"]["message"].as_str().unwrap().contains("hex"),
            "{reply}"
        );
        // Over the 16 MiB a message may have: the connection is cut, nothing else.
        let cut = send_oversized(&url).await;
        eprintln!("a 17 MiB message: {cut}");

        // 200 connections at once, each answered.
        let connections: Vec<_> = (0..200)
            .map(|_| {
                let url = url.clone();
                smol::spawn(async move {
                    let mut rpc = Rpc::connect(&url).await;
                    rpc.call("system_name", json!([])).await
                })
            })
            .collect();
        for connection in connections {
            assert_eq!(connection.await, json!("taoscope-localnet"));
        }

        // Read proofs of more keys than a page may have are refused in words.
        let keys: Vec<String> = (0..1001u32)
            .map(|i| format!("0x{}", hex_of(&i.to_be_bytes())))
            .collect();
        let reply = watcher
            .request("state_getReadProof", json!([keys, null]))
            .await;
        assert!(
            reply["error"]["message"]
                .as_str()
                .unwrap()
                .contains("at most 1000"),
            "{reply}"
        );

        // Meanwhile the chain went on, and still answers.
        smol::Timer::after(Duration::from_secs(2)).await;
        let (best_after, finalized_after) = head(&mut watcher).await;
        eprintln!(
            "during the flood ({:?}): best #{best_before} → #{best_after}, finalized \
             #{finalized_before} → #{finalized_after}",
            started.elapsed()
        );
        assert!(
            best_after >= best_before + 3,
            "#{best_before} → #{best_after}"
        );
        assert!(finalized_after >= finalized_before + 3);
        drop(junk);
        let mut fresh = Rpc::connect(&url).await;
        fresh.call("chain_getHeader", json!([])).await;
    });
    drop(node);
}

/// Sends one 17 MiB text message; what became of the connection.
async fn send_oversized(url: &str) -> String {
    let address = url.trim_start_matches("ws://");
    let stream = TcpStream::connect(address).await.unwrap();
    let mut client = soketto::handshake::Client::new(stream, address, "/");
    client.handshake().await.unwrap();
    let mut builder = client.into_builder();
    builder.set_max_message_size(64 << 20);
    builder.set_max_frame_size(64 << 20);
    let (mut sender, mut receiver) = builder.finish();
    let huge = format!(
        "{{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"system_name\",\"params\":[\"{}\"]}}",
        "a".repeat(17 << 20)
    );
    let sent = async {
        sender.send_text(&huge).await?;
        sender.flush().await?;
        let mut answer = Vec::new();
        receiver.receive_data(&mut answer).await?;
        Ok::<_, soketto::connection::Error>(String::from_utf8_lossy(&answer).to_string())
    };
    match smol::future::or(async { Some(sent.await) }, async {
        smol::Timer::after(Duration::from_secs(20)).await;
        None
    })
    .await
    {
        Some(Ok(answer)) => panic!("a message over the limit was answered: {answer}"),
        Some(Err(e)) => format!("cut ({e})"),
        None => "no answer in 20 s".into(),
    }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn connections_beyond_the_cap_are_refused_and_idle_ones_closed() {
    let dir = temp_dir("rpc-cap");
    let node = Localnet::start(
        &dir,
        &[
            "--backfill",
            "2",
            "--block-ms",
            "500",
            "--rpc-max-connections",
            "4",
            "--rpc-idle-ms",
            "1500",
        ],
    );
    let url = node.rpc_url();
    smol::block_on(async {
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut rpc = Rpc::connect(&url).await;
            rpc.call("system_name", json!([])).await;
            held.push(rpc);
        }
        let refused = handshake_status(&url, None).await.unwrap_or_default();
        assert!(refused.contains("503"), "{refused}");

        // One of them subscribes (kept however quiet); the others say nothing and are closed.
        let subscription = held[0]
            .call("chain_subscribeFinalizedHeads", json!([]))
            .await;
        smol::Timer::after(Duration::from_millis(3000)).await;
        let status = handshake_status(&url, None).await.unwrap_or_default();
        assert!(
            status.contains("101"),
            "an idle connection's place was freed: {status}"
        );
        held[0].notification(&subscription).await;
        held[0].call("system_name", json!([])).await;
    });
    drop(node);
}
