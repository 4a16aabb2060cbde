//! The new JSON-RPC interface and the legacy subscriptions, over a real socket: a follow
//! subscription reports the runtime and each block, operations answer on pinned blocks only (an
//! unpinned block, a child trie, a duplicate unpin, a call without the runtime are refused in
//! words; another connection's or an ended subscription gets the specification's empty
//! answers; items beyond the limit are counted as discarded; a fifth follow is refused), a
//! watched transaction reports its block and index and a refused one its reason, and the legacy
//! storage and runtime-version subscriptions send their first values and refuse what they
//! cannot serve.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, signed_transfer, temp_dir};
use serde_json::{Value, json};
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::keys::Sr25519Signer;

/// The next follow event of `follow` that is not an operation's.
async fn block_event(rpc: &mut Rpc, follow: &Value) -> Value {
    loop {
        let event = rpc.notification(follow).await;
        if !event["event"].as_str().unwrap().starts_with("operation") {
            return event;
        }
    }
}

/// The events of operation `id` of `follow`, up to its last one.
async fn operation_events(rpc: &mut Rpc, follow: &Value, id: &Value) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let event = rpc.notification(follow).await;
        if &event["operationId"] != id {
            continue;
        }
        let last = matches!(
            event["event"].as_str().unwrap(),
            "operationBodyDone" | "operationCallDone" | "operationStorageDone" | "operationError"
        );
        events.push(event);
        if last {
            return events;
        }
    }
}

#[test]
fn the_new_interface_serves_pinned_blocks_only_and_refuses_what_it_cannot_serve() {
    let dir = temp_dir("modern-rpc");
    let node = Localnet::start(&dir, &["--backfill", "4", "--block-ms", "300"]);
    smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        let mut other = Rpc::connect(&node.rpc_url()).await;
        let methods = rpc.call("rpc_methods", json!([])).await;
        for method in ["chainHead_v1_follow", "transactionWatch_v1_submitAndWatch"] {
            assert!(
                methods["methods"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(method))
            );
        }
        let genesis = rpc.call("chainSpec_v1_genesisHash", json!([])).await;
        assert_eq!(genesis, rpc.call("chain_getBlockHash", json!([0])).await);

        let follow = rpc.call("chainHead_v1_follow", json!([true])).await;
        let initialized = rpc.notification(&follow).await;
        assert_eq!(initialized["event"], "initialized");
        assert_eq!(
            initialized["finalizedBlockRuntime"]["spec"]["specVersion"],
            103
        );
        let finalized = initialized["finalizedBlockHashes"][0].clone();
        let new_block = block_event(&mut rpc, &follow).await;
        assert_eq!(new_block["event"], "newBlock");
        assert_eq!(new_block["parentBlockHash"], finalized);
        assert_eq!(new_block["newRuntime"], Value::Null);
        let hash = new_block["blockHash"].clone();
        assert_eq!(
            block_event(&mut rpc, &follow).await["event"],
            "bestBlockChanged"
        );
        assert_eq!(
            block_event(&mut rpc, &follow).await["finalizedBlockHashes"],
            json!([hash])
        );

        // A pinned block's header is its encoding; a block never reported, or one unpinned,
        // is refused; another connection cannot use this subscription.
        let header = rpc.call("chainHead_v1_header", json!([follow, hash])).await;
        let legacy = rpc.call("chain_getHeader", json!([hash])).await;
        assert_eq!(
            taoscope_light_client::hashing::blake2_256(
                &from_hex(header.as_str().unwrap()).unwrap()
            ),
            <[u8; 32]>::try_from(from_hex(hash.as_str().unwrap()).unwrap()).unwrap(),
            "{legacy}"
        );
        let unknown = json!(to_hex(&[7u8; 32]));
        let refused = rpc
            .request("chainHead_v1_header", json!([follow, unknown]))
            .await;
        assert_eq!(refused["error"]["code"], -32801, "{refused}");
        // Another connection's subscription is none of its own: empty answers, nothing read.
        let foreign = other
            .request("chainHead_v1_header", json!([follow, hash]))
            .await;
        assert_eq!(foreign["result"], Value::Null, "{foreign}");
        let foreign = other
            .request("chainHead_v1_body", json!([follow, hash]))
            .await;
        assert_eq!(foreign["result"]["result"], "limitReached", "{foreign}");
        let twice = rpc
            .request("chainHead_v1_unpin", json!([follow, [hash, hash]]))
            .await;
        assert_eq!(twice["error"]["code"], -32804, "{twice}");
        assert_eq!(
            rpc.call("chainHead_v1_unpin", json!([follow, [finalized]]))
                .await,
            Value::Null
        );
        let again = rpc
            .request("chainHead_v1_header", json!([follow, finalized]))
            .await;
        assert_eq!(again["error"]["code"], -32801, "{again}");

        // Storage: a value, the hashes below a prefix, and the closest descendant's Merkle
        // value; a child trie and too many items are refused.
        let metadata = rpc.metadata().await;
        let number_key =
            taoscope_light_client::storage::key(&metadata, "System", "Number", &[]).unwrap();
        let started = rpc
            .call(
                "chainHead_v1_storage",
                json!([follow, hash, [
                    { "key": to_hex(&number_key), "type": "value" },
                    { "key": to_hex(&number_key[..16]), "type": "descendantsHashes" },
                    { "key": "0x", "type": "closestDescendantMerkleValue" },
                ], null]),
            )
            .await;
        assert_eq!(started["result"], "started");
        let events = operation_events(&mut rpc, &follow, &started["operationId"]).await;
        assert_eq!(
            events.last().unwrap()["event"],
            "operationStorageDone",
            "{events:?}"
        );
        let items = &events[0]["items"];
        let stored = rpc
            .call("state_getStorage", json!([to_hex(&number_key), hash]))
            .await;
        assert_eq!(items[0]["value"], stored);
        assert!(items.as_array().unwrap().len() > 2, "{items}");
        let root = &items.as_array().unwrap().last().unwrap()["closestDescendantMerkleValue"];
        let legacy_root = &legacy["stateRoot"];
        assert_eq!(
            root, legacy_root,
            "the Merkle value of the root is the state root"
        );
        let child = rpc
            .request("chainHead_v1_storage", json!([follow, hash, [], "0x01"]))
            .await;
        assert!(
            child["error"]["message"]
                .as_str()
                .unwrap()
                .contains("child tries"),
            "{child}"
        );
        let many: Vec<Value> = (0..1025)
            .map(|_| json!({ "key": to_hex(&number_key), "type": "value" }))
            .collect();
        let too_many = rpc
            .call("chainHead_v1_storage", json!([follow, hash, many, null]))
            .await;
        assert_eq!(too_many["discardedItems"], 1, "{too_many}");
        let events = operation_events(&mut rpc, &follow, &too_many["operationId"]).await;
        assert_eq!(events[0]["items"].as_array().unwrap().len(), 1024);

        // A runtime call, and one the runtime does not have (an operation error, in words).
        let version = rpc
            .call(
                "chainHead_v1_call",
                json!([follow, hash, "Core_version", "0x"]),
            )
            .await;
        let events = operation_events(&mut rpc, &follow, &version["operationId"]).await;
        assert_eq!(events[0]["event"], "operationCallDone", "{events:?}");
        let missing = rpc
            .call(
                "chainHead_v1_call",
                json!([follow, hash, "Nothing_here", "0x"]),
            )
            .await;
        let events = operation_events(&mut rpc, &follow, &missing["operationId"]).await;
        assert_eq!(events[0]["event"], "operationError", "{events:?}");

        // A watched transfer: validated, then its block and index, final.
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let bob = Sr25519Signer::dev("Bob").unwrap();
        let genesis_hash: [u8; 32] = from_hex(genesis.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let transfer = signed_transfer(
            &metadata,
            genesis_hash,
            &alice,
            &to_hex(&bob.account()),
            1_000_000_000,
            0,
        );
        let watch = other
            .call(
                "transactionWatch_v1_submitAndWatch",
                json!([to_hex(&transfer)]),
            )
            .await;
        assert_eq!(other.notification(&watch).await["event"], "validated");
        let included = other.notification(&watch).await;
        assert_eq!(included["event"], "bestChainBlockIncluded", "{included}");
        let block = &included["block"];
        assert!(
            block["index"].as_u64().unwrap() >= 1,
            "after the inherents: {included}"
        );
        assert_eq!(
            other.notification(&watch).await,
            json!({ "event": "finalized", "block": block })
        );
        let body = other.call("chain_getBlock", json!([block["hash"]])).await;
        let index = block["index"].as_u64().unwrap() as usize;
        assert_eq!(body["block"]["extrinsics"][index], json!(to_hex(&transfer)));
        // The same transaction again, watched: an id, then the runtime's reason.
        let stale = other
            .call(
                "transactionWatch_v1_submitAndWatch",
                json!([to_hex(&transfer)]),
            )
            .await;
        let refused = other.notification(&stale).await;
        assert_eq!(refused["event"], "invalid", "{refused}");
        assert!(
            refused["error"].as_str().unwrap().contains("nonce"),
            "{refused}"
        );

        // A follow without the runtime cannot call it; a fifth follow on a connection is refused.
        let bare = rpc.call("chainHead_v1_follow", json!([false])).await;
        let bare_hash = rpc.notification(&bare).await["finalizedBlockHashes"][0].clone();
        let no_runtime = rpc
            .request(
                "chainHead_v1_call",
                json!([bare, bare_hash, "Core_version", "0x"]),
            )
            .await;
        assert_eq!(no_runtime["error"]["code"], -32802, "{no_runtime}");
        for _ in 0..2 {
            rpc.call("chainHead_v1_follow", json!([false])).await;
        }
        let fifth = rpc.request("chainHead_v1_follow", json!([false])).await;
        assert_eq!(fifth["error"]["code"], -32800, "{fifth}");

        // Unfollowed: its operations get the specification's empty answers.
        assert_eq!(
            rpc.call("chainHead_v1_unfollow", json!([follow])).await,
            Value::Null
        );
        let after = rpc
            .request("chainHead_v1_header", json!([follow, hash]))
            .await;
        assert_eq!(after["result"], Value::Null, "{after}");

        // Legacy subscriptions: the runtime version and a storage key send their values first;
        // a storage subscription without keys is refused in words.
        let runtime = rpc.call("state_subscribeRuntimeVersion", json!([])).await;
        assert_eq!(rpc.notification(&runtime).await["specVersion"], 103);
        let storage = rpc
            .call("state_subscribeStorage", json!([[to_hex(&number_key)]]))
            .await;
        let first = rpc.notification(&storage).await;
        assert_eq!(first["changes"][0][0], json!(to_hex(&number_key)));
        let next = rpc.notification(&storage).await;
        assert_ne!(
            next["changes"][0][1], first["changes"][0][1],
            "the block number moved"
        );
        let everything = rpc.request("state_subscribeStorage", json!([[]])).await;
        assert!(
            everything["error"]["message"]
                .as_str()
                .unwrap()
                .contains("non-empty"),
            "{everything}"
        );
        assert_eq!(
            rpc.call("state_unsubscribeStorage", json!([storage])).await,
            json!(true)
        );
        let alice_nonce = rpc
            .call(
                "system_accountNextIndex",
                json!([taoscope_light_client::ss58::encode(&alice.account(), 42)]),
            )
            .await;
        assert_eq!(alice_nonce, json!(1));
    });
    node.stop();
}
