//! The typed client on smoldot-light (`taoscope-light-client` with feature `native`, smoldot's
//! `DefaultPlatform`) against the localnet over a real WebSocket: it follows finality past
//! block 100 through the new JSON-RPC API, and the subnets and the demonstration subnet's
//! metagraph it reads through proofs equal what the node's own JSON-RPC returns at the same
//! block. Then a second client starts from the first one's saved database.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, follow_until, signed_transfer, spec_over, temp_dir};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use taoscope_light_client::client::light::native;
use taoscope_light_client::client::{BittensorClient, TransactionEvent};
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::keys::Sr25519Signer;
use taoscope_light_client::metagraph::{self, Fetched, Reads};
use taoscope_light_client::{ss58, storage};
use taoscope_localnet::demo::NETUID;

/// The same keys and prefixes read from the node's JSON-RPC (trusted, unproven) at `at`.
async fn from_node(rpc: &mut Rpc, reads: &Reads, at: &str) -> Fetched {
    let mut state = Fetched::new();
    for key in &reads.keys {
        let value = rpc.call("state_getStorage", json!([to_hex(key), at])).await;
        if let Some(value) = value.as_str() {
            state.insert(key.clone(), from_hex(value).unwrap());
        }
    }
    for prefix in &reads.prefixes {
        let keys = rpc
            .call(
                "state_getKeysPaged",
                json!([to_hex(prefix), 1000, null, at]),
            )
            .await;
        for key in keys.as_array().unwrap() {
            let value = rpc.call("state_getStorage", json!([key, at])).await;
            state.insert(
                from_hex(key.as_str().unwrap()).unwrap(),
                from_hex(value.as_str().unwrap()).unwrap(),
            );
        }
    }
    state
}

#[test]
fn metagraph_through_the_light_client_equals_the_nodes_answer() {
    common::smoldot_logs();
    let dir = temp_dir("bittensor-client");
    let node = Localnet::start(
        &dir,
        &["--backfill", "120", "--block-ms", "500", "--demo-subnet"],
    );
    smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        let metadata = rpc.metadata().await;

        // The spec a browser fetches from the node equals the one it wrote for tools.
        let served = rpc.call("sync_state_genSyncSpec", json!([true])).await;
        let written: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("chainspec.json")).unwrap())
                .unwrap();
        assert_eq!(served, written);
        // Only its WebSocket bootnode: what a browser can use.
        let spec = spec_over(&dir, "/ws");
        let genesis: [u8; 32] = from_hex(
            rpc.call("chain_getBlockHash", json!([0]))
                .await
                .as_str()
                .unwrap(),
        )
        .unwrap()
        .try_into()
        .unwrap();
        let mut client = BittensorClient::new(native::start(&spec, "").unwrap()).unwrap();
        let synced = follow_until(&mut client, 100).await;
        eprintln!("from genesis: finalized #100+ after {synced:?}");
        let runtime = client.runtime().unwrap().clone();
        assert_eq!(
            (runtime.spec_name.as_str(), runtime.spec_version),
            ("node-subtensor", 103)
        );
        assert!(client.peers().await.unwrap() >= 1);

        let at = client.read_block().unwrap();
        let started = Instant::now();
        let subnets = client.subnets(&at.hash).await.unwrap();
        let graph = client.metagraph(&at.hash, NETUID).await.unwrap();
        eprintln!(
            "read {} subnets and a metagraph of {} uids at #{} in {:?}",
            subnets.len(),
            graph.n,
            at.number,
            started.elapsed()
        );

        // The node's answers for the same keys at the same block, through the same readers.
        let listed = from_node(
            &mut rpc,
            &metagraph::subnets_reads(&metadata).unwrap(),
            &at.hash,
        )
        .await;
        let netuids = metagraph::netuids(&metadata, &listed).unwrap();
        assert!(netuids.contains(&NETUID), "{netuids:?}");
        let state = from_node(
            &mut rpc,
            &metagraph::subnet_reads(&metadata, &netuids).unwrap(),
            &at.hash,
        )
        .await;
        assert_eq!(
            subnets,
            metagraph::subnet_summaries(&metadata, &state, &netuids).unwrap()
        );
        let mut state = from_node(
            &mut rpc,
            &metagraph::metagraph_reads(&metadata, NETUID).unwrap(),
            &at.hash,
        )
        .await;
        let hotkeys = metagraph::hotkeys(&metadata, &state, NETUID).unwrap();
        state.extend(
            from_node(
                &mut rpc,
                &metagraph::stake_reads(&metadata, NETUID, &hotkeys).unwrap(),
                &at.hash,
            )
            .await,
        );
        let expected = metagraph::metagraph(&metadata, &state, NETUID).unwrap();
        assert_eq!(graph, expected);
        assert!(graph.n >= 10, "the demonstration subnet has ten uids");
        assert!(graph.neurons.iter().all(|n| n.hotkey.is_some()));
        assert!(graph.neurons.iter().any(|n| n.stake > 0));
        assert_eq!(graph.stake_entry.as_deref(), Some("TotalHotkeyStake"));
        assert!(
            !graph.weights.is_empty(),
            "the demo's validators set weights"
        );
        assert!(!graph.bonds.is_empty(), "and hold bonds after an epoch");

        // Balances and stake positions through proofs, equal to the node's answers.
        let coldkey = Sr25519Signer::dev("Coldkey0").unwrap();
        let coldkey_ss58 = ss58::encode(&coldkey.account(), 42);
        let positions = client
            .stake_positions(&at.hash, &coldkey_ss58)
            .await
            .unwrap();
        assert!(!positions.is_empty(), "the demo's coldkey 0 stakes");
        for position in &positions {
            let key = storage::key(
                &metadata,
                "SubtensorModule",
                "Stake",
                &[json!(position.hotkey), json!(coldkey_ss58)],
            )
            .unwrap();
            let node = rpc
                .call("state_getStorage", json!([to_hex(&key), at.hash]))
                .await;
            let node = u64::from_le_bytes(
                from_hex(node.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap(),
            );
            assert_eq!(
                position.stake, node,
                "stake of {coldkey_ss58} on {}",
                position.hotkey
            );
        }

        // Metadata kept from an earlier run is the browser's word: bytes that are not the
        // runtime's (here spec 461's, kept under this runtime's code hash) are found out before
        // their first use and replaced by the runtime's own.
        let code_hash = client.code_hash(&at.hash).await.unwrap();
        assert!(client.confirm_metadata(&at.hash).await.unwrap());
        let real = client.metadata_bytes(&code_hash).unwrap();
        let planted = from_hex(
            std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../shared/fixtures/localnet_spec461_metadata_v14.hex"
            ))
            .unwrap()
            .trim(),
        )
        .unwrap();
        client
            .remember_metadata(code_hash, planted.clone())
            .unwrap();
        // Found out at its first use: what is read is the runtime's.
        assert_eq!(client.metadata(&at.hash).await.unwrap().spec_version(), 103);
        assert_eq!(client.metadata_bytes(&code_hash).unwrap(), real);
        client.remember_metadata(code_hash, planted).unwrap();
        assert!(
            !client.confirm_metadata(&at.hash).await.unwrap(),
            "the planted metadata is found out"
        );
        assert_eq!(client.metadata_bytes(&code_hash).unwrap(), real);

        // A transfer submitted and watched through the light client until final, and one the
        // runtime refuses, with its reason.
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let bob = ss58::encode(&Sr25519Signer::dev("Bob").unwrap().account(), 42);
        let before = client.account(&at.hash, &bob).await.unwrap().free;
        let nonce = client
            .account(&at.hash, &ss58::encode(&alice.account(), 42))
            .await
            .unwrap()
            .nonce;
        let transfer = |amount: u64, nonce: u32| {
            signed_transfer(&metadata, genesis, &alice, &bob, amount, nonce)
        };
        assert!(nonce > 0, "Alice has signed the demo's sudo calls");
        let watch = client
            .submit_and_watch(&transfer(1, nonce - 1))
            .await
            .unwrap();
        let event = client.transaction_event(&watch).await.unwrap();
        eprintln!("a used nonce: {event:?}");
        assert!(
            matches!(&event, TransactionEvent::Invalid(why) if why.contains("nonce was already used")),
            "a used nonce is refused with the runtime's reason: {event:?}"
        );
        let watch = client
            .submit_and_watch(&transfer(5_000_000_000, nonce))
            .await
            .unwrap();
        let (finalized_in, index) = loop {
            match client.transaction_event(&watch).await.unwrap() {
                TransactionEvent::Finalized(block, index) => break (block, index),
                event if event.is_final() => panic!("the transfer did not make it: {event:?}"),
                _ => {}
            }
        };
        // smoldot's transaction watch may see the block that includes it before this client's
        // follow reports that block finalized: read at finalized blocks until one has it (a
        // few blocks at most), and never a balance other than before or before + the amount.
        let mut after = before;
        for _ in 0..20 {
            let next = client.read_block().unwrap().number + 1;
            follow_until(&mut client, next).await;
            let now = client.read_block().unwrap();
            after = client.account(&now.hash, &bob).await.unwrap().free;
            assert!(
                after == before || after == before + 5_000_000_000,
                "{after}"
            );
            if after != before {
                break;
            }
        }
        assert_eq!(
            after,
            before + 5_000_000_000,
            "Bob's balance after block {finalized_in}"
        );
        // What the runtime's events say of it, through a proof at its block.
        let index = index.expect("smoldot-light says where in the block it is");
        let outcome = client
            .extrinsic_outcome(&finalized_in, index)
            .await
            .unwrap();
        assert_eq!(
            outcome.result,
            Ok(()),
            "the transfer at {finalized_in}/{index}"
        );
        let names: Vec<&str> = outcome.events.iter().map(|e| e.name.as_str()).collect();
        eprintln!("the transfer's events: {names:?}");
        assert_eq!(
            outcome
                .event("Balances.Transfer")
                .map(|t| t["amount"].clone()),
            Some(serde_json::json!(5_000_000_000u64)),
            "{:?}",
            outcome.events
        );

        // The database a browser would save, then two fresh clients, one without it and one
        // with it, each until its first metagraph at a block at least as new as the node's
        // finalized head when it started.
        let database = client.database(DATABASE_BYTES).await.unwrap();
        assert!(
            database.contains("code"),
            "the runtime is saved with the database"
        );
        drop(client);
        let (cold, graph) = first_metagraph(&spec, "", &mut rpc).await;
        assert_eq!(graph.n, expected.n);
        let (warm, graph) = first_metagraph(&spec, &database, &mut rpc).await;
        assert_eq!(graph.n, expected.n);
        eprintln!(
            "first verified metagraph: {cold:?} from genesis, {warm:?} from the saved database \
             ({} KiB)",
            database.len() / 1024
        );
    });
    drop(node);
}

/// Room for smoldot's database with the runtime in it (spec 103's is about 1.3 MiB, in base64).
const DATABASE_BYTES: u64 = 4 << 20;

/// A fresh client's time to its first metagraph at a block at least as new as the node's
/// finalized head when it started.
async fn first_metagraph(
    spec: &str,
    database: &str,
    rpc: &mut Rpc,
) -> (Duration, metagraph::Metagraph) {
    let head = finalized_number(rpc).await;
    let started = Instant::now();
    let mut client = BittensorClient::new(native::start(spec, database).unwrap()).unwrap();
    follow_until(&mut client, head).await;
    let at = client.read_block().unwrap();
    let graph = client.metagraph(&at.hash, NETUID).await.unwrap();
    (started.elapsed(), graph)
}

async fn finalized_number(rpc: &mut Rpc) -> u64 {
    let hash = rpc.call("chain_getFinalizedHead", json!([])).await;
    let header = rpc.call("chain_getHeader", json!([hash])).await;
    u64::from_str_radix(
        header["number"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap()
    // the node finalizes one block behind what it gossips
    .saturating_sub(2)
}
