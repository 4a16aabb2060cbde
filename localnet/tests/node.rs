//! The node as a process: JSON-RPC over WebSocket, blocks that advance and are final, proofs
//! checked against headers, a transfer submitted and watched to finality, bad input refused,
//! and a restart that keeps the chain.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, temp_dir};
use serde_json::{Value, json};
use smoldot::finality::verify;
use taoscope_light_client::extrinsic::{self, Mortality, Signer, Transaction};
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::storage;

fn hex(value: &Value) -> Vec<u8> {
    from_hex(value.as_str().unwrap()).unwrap()
}

fn number(header: &Value) -> u64 {
    u64::from_str_radix(
        header["number"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap()
}

async fn free_balance(rpc: &mut Rpc, metadata: &Metadata, account: [u8; 32]) -> u64 {
    let key = storage::key(metadata, "System", "Account", &[json!(to_hex(&account))]).unwrap();
    let value = rpc.call("state_getStorage", json!([to_hex(&key)])).await;
    let bytes = value.as_str().map(|v| from_hex(v).unwrap());
    let info = storage::read(metadata, "System", "Account", bytes.as_deref()).unwrap();
    info["data"]["free"].as_u64().unwrap()
}

#[test]
fn the_node_serves_verifiable_blocks_and_state_over_json_rpc() {
    let dir = temp_dir("node-rpc");
    let node = Localnet::start(&dir, &["--backfill", "120", "--block-ms", "300"]);
    assert!(node.ready["best"].as_u64().unwrap() >= 120);
    let endpoints: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("endpoints.json")).unwrap())
            .unwrap();
    assert_eq!(endpoints["rpc"].as_str(), Some(node.rpc_url().as_str()));
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("chainspec.json")).unwrap())
            .unwrap();
    assert_eq!(spec["name"], "Bittensor localnet");

    smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        let genesis = rpc.call("chain_getBlockHash", json!([0])).await;
        assert_eq!(genesis, node.ready["genesis_hash"]);
        let version = rpc.call("state_getRuntimeVersion", json!([])).await;
        assert_eq!(version["specVersion"], 103);
        assert_eq!(
            rpc.call("system_chain", json!([])).await,
            "Bittensor localnet"
        );

        // Finality: the finalized head's block carries a GRANDPA justification that smoldot
        // accepts for Alice's set.
        let head = rpc.call("chain_getFinalizedHead", json!([])).await;
        let block = rpc.call("chain_getBlock", json!([head])).await;
        let justification = &block["justifications"][0];
        assert_eq!(justification[0], json!(b"FRNK"));
        let bytes: Vec<u8> = serde_json::from_value(justification[1].clone()).unwrap();
        let grandpa = Ed25519Signer::dev("Alice").account();
        verify::verify_justification(verify::JustificationVerifyConfig {
            justification: &bytes[..],
            block_number_bytes: 4,
            authorities_set_id: 0,
            authorities_list: std::iter::once(&grandpa[..]),
            randomness_seed: [0; 32],
        })
        .unwrap();

        // State through a proof: Alice's account, checked against the header's state root.
        let metadata =
            Metadata::decode(&hex(&rpc.call("state_getMetadata", json!([])).await)).unwrap();
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let key = storage::key(
            &metadata,
            "System",
            "Account",
            &[json!(to_hex(&alice.account()))],
        )
        .unwrap();
        let header = rpc.call("chain_getHeader", json!([head])).await;
        let proof = rpc
            .call("state_getReadProof", json!([[to_hex(&key)], head]))
            .await;
        let nodes: Vec<Vec<u8>> = proof["proof"].as_array().unwrap().iter().map(hex).collect();
        let encoded = parity_scale_codec::Encode::encode(&nodes);
        let decoded = smoldot::trie::proof_decode::decode_and_verify_proof(
            smoldot::trie::proof_decode::Config {
                proof: &encoded[..],
            },
        )
        .unwrap();
        let root: [u8; 32] = hex(&header["stateRoot"]).try_into().unwrap();
        let proven = decoded
            .storage_value(&root, &key)
            .unwrap()
            .map(|(v, _)| v.to_vec());
        let direct = rpc
            .call("state_getStorage", json!([to_hex(&key), head]))
            .await;
        assert_eq!(
            proven.map(|v| to_hex(&v)),
            direct.as_str().map(String::from)
        );

        // Several values at once, as the app's audit reads them.
        let at_once = rpc
            .call(
                "state_queryStorageAt",
                json!([[to_hex(&key), "0x00"], head]),
            )
            .await;
        assert_eq!(at_once[0]["block"], head);
        assert_eq!(at_once[0]["changes"][0][1], direct);
        assert_eq!(at_once[0]["changes"][1][1], Value::Null);

        // Keys, and a runtime call.
        let keys = rpc
            .call("state_getKeysPaged", json!([to_hex(&key[..32]), 3]))
            .await;
        assert_eq!(keys.as_array().unwrap().len(), 3);
        let core_version = rpc.call("state_call", json!(["Core_version", "0x"])).await;
        assert!(!hex(&core_version).is_empty());

        // New finalized heads arrive.
        let subscription = rpc.call("chain_subscribeFinalizedHeads", json!([])).await;
        let first = number(&rpc.notification(&subscription).await);
        let second = number(&rpc.notification(&subscription).await);
        assert!(second > first, "{second} after {first}");

        // A transfer, watched until final; its effect is visible; a replay is refused with
        // the runtime's reason; so are bytes that are no transaction.
        let bob = Sr25519Signer::dev("Bob").unwrap();
        let bob_before = free_balance(&mut rpc, &metadata, bob.account()).await;
        let tx = Transaction {
            spec_version: 103,
            transaction_version: version["transactionVersion"].as_u64().unwrap() as u32,
            genesis_hash: hex(&genesis).try_into().unwrap(),
            mortality: Mortality::Immortal,
            nonce: 0,
            tip: 0,
            metadata_hash: None,
        };
        let call = extrinsic::encode_call(
            &metadata,
            "Balances",
            "transfer",
            json!({"dest": to_hex(&bob.account()), "value": 5_000_000_000u64})
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let signed = extrinsic::sign_ready(&metadata, &tx, &call, &alice).unwrap();
        let watch = rpc
            .call("author_submitAndWatchExtrinsic", json!([to_hex(&signed)]))
            .await;
        assert_eq!(rpc.notification(&watch).await, "ready");
        let in_block = rpc.notification(&watch).await;
        let finalized = rpc.notification(&watch).await;
        assert!(in_block.get("inBlock").is_some(), "{in_block}");
        assert_eq!(finalized["finalized"], in_block["inBlock"]);
        let included = rpc
            .call("chain_getBlock", json!([finalized["finalized"]]))
            .await;
        assert!(
            included["block"]["extrinsics"]
                .as_array()
                .unwrap()
                .contains(&json!(to_hex(&signed)))
        );
        assert_eq!(
            free_balance(&mut rpc, &metadata, bob.account()).await,
            bob_before + 5_000_000_000
        );
        let replay = rpc
            .request("author_submitExtrinsic", json!([to_hex(&signed)]))
            .await;
        assert_eq!(replay["error"]["code"], 1010, "{replay}");
        assert!(
            replay["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Stale"),
            "{replay}"
        );
        let garbage = rpc
            .request("author_submitExtrinsic", json!(["0x0102"]))
            .await;
        assert_eq!(garbage["error"]["code"], 1010, "{garbage}");

        // Malformed requests get errors that say why; the node keeps authoring.
        rpc.send_text("{not json").await;
        // Notifications of the watches above may still be on their way.
        let reply = rpc.reply().await;
        assert_eq!(reply["error"]["code"], -32700);
        let unknown = rpc.request("no_such_method", json!([])).await;
        assert_eq!(unknown["error"]["code"], -32601);
        let bad_hash = rpc.request("chain_getHeader", json!(["0x12"])).await;
        assert_eq!(bad_hash["error"]["code"], -32602);
    });

    // Garbage on the socket itself, and a peer that vanishes mid-handshake.
    use std::io::Write as _;
    let address = node.rpc_url().trim_start_matches("ws://").to_string();
    let mut raw = std::net::TcpStream::connect(&address).unwrap();
    raw.write_all(&[0xff; 4096]).unwrap();
    drop(raw);
    let mut half = std::net::TcpStream::connect(&address).unwrap();
    half.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap();
    drop(half);
    let best_before_restart = smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        let subscription = rpc.call("chain_subscribeNewHeads", json!([])).await;
        let a = number(&rpc.notification(&subscription).await);
        let b = number(&rpc.notification(&subscription).await);
        assert!(b > a);
        b
    });

    // SIGTERM stops it cleanly; a restart re-executes the stored blocks and goes on.
    let status = node.stop();
    assert!(status.success(), "{status}");
    let node = Localnet::start(&dir, &["--block-ms", "300"]);
    assert!(node.ready["best"].as_u64().unwrap() >= best_before_restart);
    smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        assert_eq!(
            rpc.call("chain_getBlockHash", json!([0])).await,
            node.ready["genesis_hash"]
        );
    });
    drop(node);
    let _ = std::fs::remove_dir_all(&dir);
}
