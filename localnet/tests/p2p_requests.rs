//! Requests a misbehaving peer could send, over a real libp2p connection (a litep2p client on
//! TCP): garbage on every request protocol, a request larger than the node takes, a request for
//! a block it does not have. Each is refused (the substream closes) and the node answers the
//! next well-formed request: a warp-sync proof that smoldot's decoder reads.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, temp_dir};
use futures::StreamExt;
use litep2p::protocol::request_response::{
    self, DialOptions, RequestResponseEvent, RequestResponseHandle,
};
use litep2p::types::protocol::ProtocolName;
use litep2p::{Litep2p, Litep2pEvent, PeerId};
use serde_json::Value;
use std::str::FromStr;
use std::time::Duration;
use taoscope_light_client::hex::from_hex;
use taoscope_localnet::chain::BLOCK_NUMBER_BYTES;
use taoscope_localnet::p2p::protocols::ProtocolNames;

/// Sends one request and returns the answer, or the error's description.
async fn ask(
    handle: &mut RequestResponseHandle,
    peer: PeerId,
    request: Vec<u8>,
) -> Result<Vec<u8>, String> {
    handle
        .send_request(peer, request, DialOptions::Reject)
        .await
        .unwrap();
    let event = tokio::time::timeout(Duration::from_secs(30), handle.next())
        .await
        .expect("no answer and no error within 30 s")
        .unwrap();
    match event {
        RequestResponseEvent::ResponseReceived { response, .. } => Ok(response),
        RequestResponseEvent::RequestFailed { error, .. } => Err(format!("{error:?}")),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn malformed_requests_are_refused_and_the_next_is_answered() {
    let dir = temp_dir("p2p-requests");
    let node = Localnet::start(&dir, &["--backfill", "20", "--block-ms", "300"]);
    let genesis: [u8; 32] = from_hex(node.ready["genesis_hash"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let names = ProtocolNames::of(&genesis);
    let endpoints: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("endpoints.json")).unwrap())
            .unwrap();
    let address = endpoints["p2p"][0].as_str().unwrap().to_string();
    assert!(!address.contains("/ws"), "TCP first: {address}");
    let peer = PeerId::from_str(address.rsplit('/').next().unwrap()).unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let protocol = |name: &str| {
            request_response::ConfigBuilder::new(ProtocolName::from(name.to_string()))
                .with_max_size(32 * 1024 * 1024)
                .with_timeout(Duration::from_secs(20))
                .build()
        };
        let (sync_config, mut sync) = protocol(&names.sync);
        let (light_config, mut light) = protocol(&names.light);
        let (warp_config, mut warp) = protocol(&names.warp_sync);
        let mut client = Litep2p::new(
            litep2p::config::ConfigBuilder::new()
                .with_tcp(litep2p::transport::tcp::config::Config {
                    listen_addresses: vec!["/ip4/127.0.0.1/tcp/0".parse().unwrap()],
                    ..Default::default()
                })
                .with_request_response_protocol(sync_config)
                .with_request_response_protocol(light_config)
                .with_request_response_protocol(warp_config)
                .build(),
        )
        .unwrap();
        client.dial_address(address.parse().unwrap()).await.unwrap();
        loop {
            match tokio::time::timeout(Duration::from_secs(30), client.next_event()).await {
                Ok(Some(Litep2pEvent::ConnectionEstablished { .. })) => break,
                Ok(Some(_)) => {}
                other => panic!("no connection to the node: {other:?}"),
            }
        }
        tokio::spawn(async move { while client.next_event().await.is_some() {} });
        // The protocols learn of the connection through their own channels.
        tokio::time::sleep(Duration::from_millis(200)).await;

        let garbage: Vec<u8> = (0..300u32).map(|i| (i * 7919 % 251) as u8).collect();
        #[derive(Clone, Copy)]
        enum On {
            Sync,
            Light,
            Warp,
        }
        for (what, on, request) in [
            ("garbage block request", On::Sync, garbage.clone()),
            ("garbage light request", On::Light, garbage.clone()),
            (
                "warp sync from a block nobody has",
                On::Warp,
                vec![0x42; 32],
            ),
            (
                "warp sync request of the wrong length",
                On::Warp,
                vec![1, 2, 3],
            ),
            (
                "17 MiB block request",
                On::Sync,
                vec![0x0a; 17 * 1024 * 1024],
            ),
        ] {
            let handle = match on {
                On::Sync => &mut sync,
                On::Light => &mut light,
                On::Warp => &mut warp,
            };
            let answer = ask(handle, peer, request).await;
            eprintln!("{what}: {:?}", answer.as_ref().map(Vec::len));
            assert!(answer.is_err(), "{what} was answered");
        }

        let proof = ask(&mut warp, peer, genesis.to_vec())
            .await
            .expect("a warp-sync proof");
        let decoded =
            smoldot::network::codec::decode_grandpa_warp_sync_response(&proof, BLOCK_NUMBER_BYTES)
                .unwrap();
        assert!(decoded.is_finished);
        assert_eq!(decoded.fragments.len(), 1);
    });
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
