//! Verified RPC (`taoscope-light-client`'s second transport) against the localnet's JSON-RPC:
//! from a checkpoint made by `taoscope checkpoint`'s code, it follows finality past block 100
//! by GRANDPA justifications alone and reads the metagraph through read proofs, equal to what
//! smoldot-light reads at the same block. Then a loopback proxy that lies in one way at a time
//! stands first in the endpoint list: each lie is rejected with its reason, counted against
//! the proxy, and the same answer comes, verified, from the honest node behind it. Last, a
//! GRANDPA authority set change on the localnet is followed, and transactions go through
//! verified RPC: judged by the proven runtime, seen final only in a body the header commits to.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, follow_until, signed_transfer, spec_over, temp_dir};
use parity_scale_codec::Encode;
use serde_json::{Value, json};
use smol::net::{TcpListener, TcpStream};
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use taoscope_light_client::client::endpoints::Limits;
use taoscope_light_client::client::light::native as light;
use taoscope_light_client::client::verified_rpc::{Settings, TrustReport, native as verified};
use taoscope_light_client::client::{BittensorClient, TransactionEvent};
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
use taoscope_light_client::ss58;
use taoscope_light_client::verified::checkpoint::Checkpoint;
use taoscope_localnet::demo::NETUID;
use taoscope_localnet::genesis::NEXT_GRANDPA_SET;
use taoscope_localnet::grandpa;

const POLL_MS: u64 = 200;

fn number_of(header: &Value) -> u64 {
    u64::from_str_radix(
        header["number"].as_str().unwrap().trim_start_matches("0x"),
        16,
    )
    .unwrap()
}

#[test]
fn follows_finality_and_reads_the_metagraph_through_proofs() {
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc");
    let node = Localnet::start(
        &dir,
        &["--backfill", "120", "--block-ms", "500", "--demo-subnet"],
    );
    let url = node.rpc_url();

    // `taoscope checkpoint --block 1`, and the file it writes read back.
    let checkpoint = verified::make_checkpoint(&url, Some(1)).unwrap();
    assert_eq!(checkpoint.number, 1);
    assert_eq!(checkpoint.source.as_deref(), Some(url.as_str()));
    let file = dir.join("checkpoint.json");
    std::fs::write(&file, checkpoint.to_json().to_string()).unwrap();
    let checkpoint = Checkpoint::from_json(&std::fs::read_to_string(&file).unwrap()).unwrap();

    smol::block_on(async {
        let mut rpc = Rpc::connect(&url).await;
        // The same trust anchor as the node's own export of its head.
        let exported = rpc.call("taoscope_checkpoint", json!([])).await;
        assert_eq!(exported["grandpa"]["setId"], json!(checkpoint.set_id));
        assert_eq!(
            exported["grandpa"]["authorities"][0]["publicKey"],
            json!(to_hex(&checkpoint.authorities[0].public_key))
        );
        let head = number_of(&rpc.call("chain_getHeader", json!([])).await);
        assert!(head >= 120, "the node backfilled to #{head}");

        let mut client = BittensorClient::new(verified::start(
            checkpoint.clone(),
            vec![url.clone()],
            POLL_MS,
        ))
        .unwrap();
        let took = follow_until(&mut client, head).await;
        let report = client.transport().report();
        eprintln!(
            "verified RPC: #{} → #{} in {took:?}: {} headers, {} justifications",
            checkpoint.number,
            report.finalized.as_ref().unwrap().number,
            report.headers_verified,
            report.justifications_verified
        );
        assert!(report.justifications_verified >= 100, "{report:?}");
        assert!(report.headers_verified >= head - 1);
        assert!(report.rejections.is_empty(), "{:?}", report.rejections);
        let runtime = client.runtime().unwrap().clone();
        assert_eq!(
            (runtime.spec_name.as_str(), runtime.spec_version),
            ("node-subtensor", 103)
        );
        assert_eq!(report.runtime.as_ref(), Some(&runtime));

        // smoldot-light reads a metagraph at its finalized block; the verified client reads
        // the same block once it has proven it.
        let spec = spec_over(&dir, "/ws");
        let mut p2p = BittensorClient::new(light::start(&spec, "").unwrap()).unwrap();
        follow_until(&mut p2p, head).await;
        let at = p2p.read_block().unwrap();
        let expected = p2p.metagraph(&at.hash, NETUID).await.unwrap();
        let expected_subnets = p2p.subnets(&at.hash).await.unwrap();
        follow_until(&mut client, at.number).await;
        let started = Instant::now();
        let graph = client.metagraph(&at.hash, NETUID).await.unwrap();
        eprintln!(
            "verified RPC: metagraph of {} uids at #{} in {:?} ({} proofs checked)",
            graph.n,
            at.number,
            started.elapsed(),
            client.transport().report().proofs_verified
        );
        assert_eq!(graph, expected);
        assert!(graph.n >= 10 && !graph.weights.is_empty());
        assert_eq!(client.subnets(&at.hash).await.unwrap(), expected_subnets);
    });
    drop(node);
}

/// How the proxy lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lie {
    /// A byte of a read proof's largest node (a storage value) changed.
    ChangedValue,
    /// The read proof of another block (genesis) for the same keys.
    ForgedProof,
    /// The read proof cut down to its root node.
    TruncatedProof,
    /// A key left out of a `state_getKeysPaged` page.
    OmittedKey,
    /// Finality proofs re-signed by Bob, who is no authority.
    WrongKey,
    /// Finality proofs re-signed by Alice for another authority set id.
    WrongSetId,
    /// Headers with a changed state root (they hash to another block).
    BadHeaderHash,
    /// The finalized head reported as block 1 (as a lagging node, or a replay, would).
    Backwards,
    /// A block's last extrinsic left out of its body (`chain_getBlock`).
    HiddenExtrinsic,
    /// A key the chain does not hold added to a `state_getKeysPaged` page.
    ExtraKey,
    /// The forged chain of a forced authority change: its head is a header after the honest
    /// one carrying `ForcedChange(→ Eve, delay 0)`, then one more, justified by Eve for the next
    /// set id. (The hole this client once had.)
    ForcedChange,
    /// Read proofs answered with 40 MiB of nonsense.
    Oversized,
    /// Nothing answered, ever, after the handshake.
    Stalled,
    /// The proof of `:code` at or after the upgrade block ([`UPGRADE_AT`]) cut short.
    WithheldCode,
}

/// The block that changed the runtime, for [`Lie::WithheldCode`] (0: none yet).
static UPGRADE_AT: AtomicU64 = AtomicU64::new(u64::MAX);

/// The forged headers of [`Lie::ForcedChange`] by hash (as `chain_getHeader` JSON), and the
/// finality proof of the latest forged head.
struct Forged {
    headers: HashMap<[u8; 32], Value>,
    proof: Value,
}

static FORGED: Mutex<Option<Forged>> = Mutex::new(None);

/// A WebSocket endpoint on loopback that forwards to `upstream` and tells `lie`.
fn proxy(upstream: String, lie: Lie) -> String {
    let listener = smol::block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        smol::block_on(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let upstream = upstream.clone();
                smol::spawn(async move {
                    let _ = relay(stream, &upstream, lie).await;
                })
                .detach();
            }
        })
    });
    format!("ws://{address}")
}

async fn relay(stream: TcpStream, upstream: &str, lie: Lie) -> Result<(), String> {
    let _ = stream.set_nodelay(true);
    let mut server = soketto::handshake::Server::new(stream);
    let request = server.receive_request().await.map_err(|e| e.to_string())?;
    let key = request.key();
    server
        .send_response(&soketto::handshake::server::Response::Accept {
            key,
            protocol: None,
        })
        .await
        .map_err(|e| e.to_string())?;
    let mut builder = server.into_builder();
    builder.set_max_message_size(128 * 1024 * 1024);
    builder.set_max_frame_size(128 * 1024 * 1024);
    let (mut sender, mut receiver) = builder.finish();
    let mut node = Rpc::connect(upstream).await;
    loop {
        let mut message = Vec::new();
        receiver
            .receive_data(&mut message)
            .await
            .map_err(|e| e.to_string())?;
        let request: Value = serde_json::from_slice(&message).map_err(|e| e.to_string())?;
        let method = request["method"].as_str().unwrap_or_default().to_string();
        let params = request["params"].clone();
        if lie == Lie::Stalled {
            continue;
        }
        let forged = (lie == Lie::ForcedChange)
            .then(|| forged_answer(&method, &params))
            .flatten();
        let mut reply = match forged {
            Some(result) => json!({ "jsonrpc": "2.0", "result": result }),
            None => node.request(&method, params.clone()).await,
        };
        reply["id"] = request["id"].clone();
        if let Some(result) = reply.get_mut("result") {
            tell(lie, &method, &params, result, &mut node).await;
        }
        sender
            .send_text(reply.to_string())
            .await
            .map_err(|e| e.to_string())?;
        sender.flush().await.map_err(|e| e.to_string())?;
    }
}

fn nodes(result: &Value) -> Vec<Vec<u8>> {
    result["proof"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| from_hex(n.as_str().unwrap()).unwrap())
        .collect()
}

fn set_nodes(result: &mut Value, nodes: &[Vec<u8>]) {
    result["proof"] = json!(nodes.iter().map(|n| to_hex(n)).collect::<Vec<_>>());
}

/// Rewrites an honest `result` of `method` into the lie.
async fn tell(lie: Lie, method: &str, params: &Value, result: &mut Value, node: &mut Rpc) {
    match (lie, method) {
        (Lie::ChangedValue, "state_getReadProof") => {
            let mut list = nodes(result);
            let largest = (0..list.len()).max_by_key(|&i| list[i].len()).unwrap();
            let last = list[largest].len() - 1;
            list[largest][last] ^= 0x01;
            set_nodes(result, &list);
        }
        (Lie::ForgedProof, "state_getReadProof") => {
            let genesis = node.call("chain_getBlockHash", json!([0])).await;
            let other = node
                .call("state_getReadProof", json!([params[0], genesis]))
                .await;
            result["proof"] = other["proof"].clone();
        }
        (Lie::TruncatedProof, "state_getReadProof") => {
            let header = node.call("chain_getHeader", json!([params[1]])).await;
            let root = from_hex(header["stateRoot"].as_str().unwrap()).unwrap();
            let list: Vec<Vec<u8>> = nodes(result)
                .into_iter()
                .filter(|n| blake2_256(n)[..] == root[..])
                .collect();
            set_nodes(result, &list);
        }
        (Lie::OmittedKey, "state_getKeysPaged") => {
            if let Some(keys) = result.as_array_mut()
                && keys.len() >= 2
            {
                keys.remove(keys.len() / 2);
            }
        }
        (Lie::WrongKey | Lie::WrongSetId, "grandpa_proveFinality") => {
            let Some(hex) = result.as_str() else { return };
            let bytes = from_hex(hex).unwrap();
            let hash: [u8; 32] = bytes[..32].try_into().unwrap();
            let header = node.call("chain_getHeader", json!([to_hex(&hash)])).await;
            let number = u32::try_from(number_of(&header)).unwrap();
            let (signer, set_id) = match lie {
                Lie::WrongKey => (Ed25519Signer::dev("Bob"), 0),
                _ => (Ed25519Signer::dev("Alice"), 7),
            };
            let justification = grandpa::justification(
                std::slice::from_ref(&signer),
                &hash,
                number,
                u64::from(number),
                set_id,
            );
            let proof = (hash, justification, Vec::<Vec<u8>>::new()).encode();
            *result = json!(to_hex(&proof));
        }
        (Lie::HiddenExtrinsic, "chain_getBlock") => {
            if let Some(extrinsics) = result["block"]["extrinsics"].as_array_mut() {
                extrinsics.pop();
            }
        }
        (Lie::ExtraKey, "state_getKeysPaged") => {
            if let Some(keys) = result.as_array_mut()
                && let Some(first) = keys.first().and_then(Value::as_str)
            {
                let fabricated = format!("{first}00");
                keys.insert(1, json!(fabricated));
            }
        }
        (Lie::ForcedChange, "chain_getFinalizedHead") => {
            *result = forge_forced_change(node, result).await;
        }
        (Lie::Oversized, "state_getReadProof") => {
            *result = json!("0".repeat(40 << 20));
        }
        (Lie::WithheldCode, "state_getReadProof") => {
            let asks_code = params[0]
                .as_array()
                .is_some_and(|keys| keys.iter().any(|k| k == ":code" || k == "0x3a636f6465"));
            let header = node.call("chain_getHeader", json!([params[1]])).await;
            if asks_code && number_of(&header) >= UPGRADE_AT.load(Ordering::SeqCst) {
                let mut list = nodes(result);
                let largest = (0..list.len()).max_by_key(|&i| list[i].len()).unwrap();
                list.remove(largest);
                set_nodes(result, &list);
            }
        }
        (Lie::BadHeaderHash, "chain_getHeader") => {
            result["stateRoot"] = json!(to_hex(&[1u8; 32]));
        }
        (Lie::Backwards, "chain_getFinalizedHead") => {
            *result = node.call("chain_getBlockHash", json!([1])).await;
        }
        _ => {}
    }
}

/// Builds the forged chain on the honest finalized head `honest` (its hash): header H + 1 with
/// a forced change to Eve (delay 0), header H + 2, and Eve's justification of H + 2 for the set
/// after Alice's. Returns the forged head's hash, what this endpoint now calls final.
async fn forge_forced_change(node: &mut Rpc, honest: &Value) -> Value {
    let parent = node.call("chain_getHeader", json!([honest])).await;
    let eve = Ed25519Signer::dev("Eve");
    // ConsensusLog::ForcedChange(median, ScheduledChange { [(Eve, 1)], delay 0 })
    let mut log = vec![2u8];
    0u32.encode_to(&mut log);
    vec![(eve.account(), 1u64)].encode_to(&mut log);
    0u32.encode_to(&mut log);
    let mut item = vec![4u8];
    item.extend(*b"FRNK");
    log.encode_to(&mut item);
    let child = |parent: &Value, parent_hash: &str, logs: Vec<String>| {
        json!({
            "parentHash": parent_hash,
            "number": format!("0x{:x}", number_of(parent) + 1),
            "stateRoot": parent["stateRoot"],
            "extrinsicsRoot": parent["extrinsicsRoot"],
            "digest": { "logs": logs },
        })
    };
    let hash_of = |header: &Value| {
        blake2_256(&taoscope_light_client::client::legacy::header(header).unwrap())
    };
    let first = child(&parent, honest.as_str().unwrap(), vec![to_hex(&item)]);
    let first_hash = hash_of(&first);
    let second = child(&first, &to_hex(&first_hash), vec![]);
    let second_hash = hash_of(&second);
    let number = u32::try_from(number_of(&second)).unwrap();
    let justification = grandpa::justification(
        std::slice::from_ref(&eve),
        &second_hash,
        number,
        u64::from(number),
        1,
    );
    let proof = (second_hash, justification, Vec::<Vec<u8>>::new()).encode();
    let headers = HashMap::from([(first_hash, first), (second_hash, second)]);
    *FORGED.lock().unwrap() = Some(Forged {
        headers,
        proof: json!(to_hex(&proof)),
    });
    json!(to_hex(&second_hash))
}

/// What the forging endpoint says instead of asking the node: the forged headers, and the
/// finality proof of the forged head whatever block it is asked from.
fn forged_answer(method: &str, params: &Value) -> Option<Value> {
    let forged = FORGED.lock().unwrap();
    let forged = forged.as_ref()?;
    match method {
        "chain_getHeader" => {
            let hash: [u8; 32] = from_hex(params[0].as_str()?).ok()?.try_into().ok()?;
            forged.headers.get(&hash).cloned()
        }
        "grandpa_proveFinality" => Some(forged.proof.clone()),
        _ => None,
    }
}

/// The rejections the report holds against `url`.
fn rejections_of<'r>(report: &'r TrustReport, url: &str) -> Vec<&'r str> {
    report
        .rejections
        .iter()
        .filter(|r| r.endpoint == url)
        .map(|r| r.why.as_str())
        .collect()
}

#[test]
fn lies_are_rejected_and_the_honest_endpoint_answers() {
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc-lies");
    let node = Localnet::start(
        &dir,
        &["--backfill", "40", "--block-ms", "500", "--demo-subnet"],
    );
    let honest = node.rpc_url();
    smol::block_on(async {
        // The honest reading every lie is held against, at one block.
        let checkpoint = verified::make_checkpoint(&honest, None).unwrap();
        let mut reference = BittensorClient::new(verified::start(
            checkpoint.clone(),
            vec![honest.clone()],
            POLL_MS,
        ))
        .unwrap();
        follow_until(&mut reference, checkpoint.number + 2).await;

        let lies = [
            (Lie::ChangedValue, &["it was changed"][..]),
            (Lie::ForgedProof, &["state root"][..]),
            (Lie::TruncatedProof, &["stops before"][..]),
            (Lie::OmittedKey, &["list of keys"][..]),
            (Lie::WrongKey, &["not in authority set 0"][..]),
            (Lie::WrongSetId, &["another set id"][..]),
            (Lie::BadHeaderHash, &["hashes to"][..]),
            (Lie::ExtraKey, &["does not hold", "of the page is"][..]),
            (Lie::ForcedChange, &["new checkpoint is needed"][..]),
            (Lie::Oversized, &["larger than 32 MiB"][..]),
        ];
        for (lie, words) in lies {
            let liar = proxy(honest.clone(), lie);
            let mut client = BittensorClient::new(verified::start(
                checkpoint.clone(),
                vec![liar.clone(), honest.clone()],
                POLL_MS,
            ))
            .unwrap();
            let target = reference.finalized().unwrap().number + 1;
            follow_until(&mut client, target).await;
            let at = client.read_block().unwrap();
            // The client may be a block or more ahead of the reference: the reference must have
            // proven that block too before it can read there.
            follow_until(&mut reference, at.number).await;
            let graph = client.metagraph(&at.hash, NETUID).await.unwrap();
            assert_eq!(
                graph,
                reference.metagraph(&at.hash, NETUID).await.unwrap(),
                "{lie:?}: what the client shows is the honest chain's"
            );

            let report = client.transport().report();
            let against = rejections_of(&report, &liar);
            eprintln!(
                "{lie:?}: {} rejections, first: {:?}",
                against.len(),
                against.first()
            );
            assert!(
                against
                    .iter()
                    .any(|why| words.iter().any(|w| why.contains(w))),
                "{lie:?}: expected a rejection saying one of {words:?}, got {against:?}"
            );
            assert!(
                rejections_of(&report, &honest).is_empty(),
                "{lie:?}: the honest node was never doubted: {:?}",
                report.rejections
            );
            let liar_report = report.endpoints.iter().find(|e| e.url == liar).unwrap();
            assert!(liar_report.rejections >= 1);
        }
    });
    drop(node);
}

fn authority_keys(checkpoint: &Checkpoint) -> Vec<[u8; 32]> {
    checkpoint
        .authorities
        .iter()
        .map(|a| a.public_key)
        .collect()
}

/// A test-only genesis hands GRANDPA finality from Alice to Bob and Charlie at block
/// `CHANGE_AT` (the header of that block carries the change; the old set justifies it, the new
/// set every block after). The verified client, from a checkpoint before the change, follows it;
/// a checkpoint made after it starts from the new set; smoldot-light warp-syncs from genesis
/// across it; and all read the same state.
#[test]
fn follows_an_authority_set_change() {
    const CHANGE_AT: u64 = 50;
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc-set-change");
    let node = Localnet::start(
        &dir,
        &[
            "--backfill",
            "20",
            "--block-ms",
            "300",
            "--grandpa-change",
            &CHANGE_AT.to_string(),
        ],
    );
    let url = node.rpc_url();
    smol::block_on(async {
        // While the change is pending, the runtime's `CurrentSetId` already counts the next set,
        // so a checkpoint read from storage would name the wrong set: refused.
        let refused = verified::make_checkpoint(&url, None).unwrap_err();
        assert!(refused.contains("pending"), "{refused}");
        // The node's own export follows the headers: still Alice's set 0.
        let mut rpc = Rpc::connect(&url).await;
        let exported = rpc.call("taoscope_checkpoint", json!([])).await;
        let before = Checkpoint::from_json(&exported.to_string()).unwrap();
        assert!(
            before.number < CHANGE_AT,
            "checkpoint at #{}",
            before.number
        );
        assert_eq!(before.set_id, 0);
        assert_eq!(
            authority_keys(&before),
            [Ed25519Signer::dev("Alice").account()]
        );

        let mut client =
            BittensorClient::new(verified::start(before.clone(), vec![url.clone()], POLL_MS))
                .unwrap();
        follow_until(&mut client, CHANGE_AT + 5).await;
        let report = client.transport().report();
        assert_eq!(report.set_id, 1, "{report:?}");
        assert!(report.rejections.is_empty(), "{:?}", report.rejections);

        let after = verified::make_checkpoint(&url, None).unwrap();
        assert!(after.number > CHANGE_AT);
        assert_eq!(after.set_id, 1);
        assert_eq!(
            authority_keys(&after),
            NEXT_GRANDPA_SET.map(|name| Ed25519Signer::dev(name).account())
        );
        let mut from_after =
            BittensorClient::new(verified::start(after.clone(), vec![url.clone()], POLL_MS))
                .unwrap();
        follow_until(&mut from_after, after.number + 3).await;
        assert_eq!(from_after.transport().report().set_id, 1);

        let spec = spec_over(&dir, "/ws");
        let mut p2p = BittensorClient::new(light::start(&spec, "").unwrap()).unwrap();
        follow_until(&mut p2p, after.number + 3).await;
        let at = p2p.read_block().unwrap();
        follow_until(&mut client, at.number).await;
        assert_eq!(
            client.subnets(&at.hash).await.unwrap(),
            p2p.subnets(&at.hash).await.unwrap(),
            "both transports read the same state after the change"
        );
        eprintln!(
            "set change at #{CHANGE_AT}: verified RPC followed from #{} to #{}, smoldot-light \
             warp-synced to #{}",
            before.number,
            client.read_block().unwrap().number,
            at.number
        );
    });
    drop(node);
}

/// Transactions over verified RPC: one the runtime refuses (its signer cannot pay) ends with
/// the runtime's reason, bytes that are no transaction are refused in words, and a transfer is judged
/// valid, sent, and reported final in a block whose body was checked against its header, while
/// the endpoint first in line hides an extrinsic of every body it gives.
#[test]
fn transactions_are_judged_sent_and_seen_final_through_proofs() {
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc-submit");
    let node = Localnet::start(&dir, &["--backfill", "20", "--block-ms", "300"]);
    let honest = node.rpc_url();
    smol::block_on(async {
        let checkpoint = verified::make_checkpoint(&honest, None).unwrap();
        let liar = proxy(honest.clone(), Lie::HiddenExtrinsic);
        let mut client = BittensorClient::new(verified::start(
            checkpoint.clone(),
            vec![liar.clone(), honest.clone()],
            POLL_MS,
        ))
        .unwrap();
        follow_until(&mut client, checkpoint.number + 1).await;
        let at = client.read_block().unwrap();
        let metadata = client.metadata(&at.hash).await.unwrap();
        let bob = ss58::encode(&Sr25519Signer::dev("Bob").unwrap().account(), 42);
        let transfer = |signer: &Sr25519Signer, amount: u64, nonce: u32| {
            signed_transfer(
                &metadata,
                checkpoint.genesis_hash,
                signer,
                &bob,
                amount,
                nonce,
            )
        };
        let watch_to_the_end = async |client: &mut BittensorClient<_>, bytes: &[u8]| {
            let watch = client.submit_and_watch(bytes).await.unwrap();
            let mut events = Vec::new();
            loop {
                let event = client.transaction_event(&watch).await.unwrap();
                events.push(event.clone());
                if event.is_final() {
                    return events;
                }
            }
        };

        let pauper = Sr25519Signer::dev("Pauper").unwrap();
        let events = watch_to_the_end(&mut client, &transfer(&pauper, 1, 0)).await;
        eprintln!("an account without funds: {events:?}");
        assert!(
            matches!(&events[..], [TransactionEvent::Invalid(why)] if why.contains("cannot pay the fee")),
            "{events:?}"
        );
        let events = watch_to_the_end(&mut client, &[0x10, 1, 2, 3, 4]).await;
        eprintln!("bytes that are no transaction: {events:?}");
        assert!(
            matches!(&events[..], [TransactionEvent::Invalid(why)] if why.contains("format version 1")),
            "{events:?}"
        );

        let alice = Sr25519Signer::dev("Alice").unwrap();
        let before = client.account(&at.hash, &bob).await.unwrap().free;
        let nonce = client
            .account(&at.hash, &ss58::encode(&alice.account(), 42))
            .await
            .unwrap()
            .nonce;
        let started = Instant::now();
        let events = watch_to_the_end(&mut client, &transfer(&alice, 5_000_000_000, nonce)).await;
        eprintln!("a transfer, in {:?}: {events:?}", started.elapsed());
        let Some(TransactionEvent::Finalized(block, _)) = events.last() else {
            panic!("the transfer did not make it: {events:?}");
        };
        assert_eq!(events[0], TransactionEvent::Validated);
        assert!(matches!(events[1], TransactionEvent::Broadcasted));
        let after = client.account(block, &bob).await.unwrap().free;
        assert_eq!(after, before + 5_000_000_000, "Bob's balance at {block}");

        let report = client.transport().report();
        let against = rejections_of(&report, &liar);
        assert!(
            against
                .iter()
                .any(|why| why.contains("not the one its header commits to")),
            "the hidden extrinsic is caught: {against:?}"
        );
        assert!(rejections_of(&report, &honest).is_empty());
    });
    drop(node);
}

/// With only a forging endpoint, the forged chain of a forced change is never taken: the
/// client stays at what it proved and says a new checkpoint is needed. A stalled endpoint costs
/// a timeout, is counted as a failure (not a lie), and the honest one behind it is followed.
#[test]
fn a_forged_forced_change_alone_moves_nothing_and_a_stalled_endpoint_times_out() {
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc-forced");
    let node = Localnet::start(&dir, &["--backfill", "20", "--block-ms", "300"]);
    let honest = node.rpc_url();
    smol::block_on(async {
        let checkpoint = verified::make_checkpoint(&honest, None).unwrap();
        let settings = Settings {
            poll_ms: POLL_MS,
            limits: Limits {
                answer_timeout_ms: 1500,
                ..Limits::default()
            },
            acceptance: None,
        };

        let forger = proxy(honest.clone(), Lie::ForcedChange);
        let client = BittensorClient::new(verified::start_with(
            checkpoint.clone(),
            vec![forger],
            settings,
        ))
        .unwrap();
        let words = loop {
            let report = client.transport().report();
            if let Some(error) = report.last_error.filter(|e| e.contains("forced")) {
                break error;
            }
            smol::Timer::after(Duration::from_millis(100)).await;
        };
        eprintln!("only a forging endpoint: {words}");
        assert!(words.contains("new checkpoint is needed"), "{words}");
        let report = client.transport().report();
        assert_eq!(
            report.finalized.unwrap().number,
            checkpoint.number,
            "nothing of the forged chain is proven"
        );
        assert_eq!(report.set_id, checkpoint.set_id);

        let stalled = proxy(honest.clone(), Lie::Stalled);
        let mut client = BittensorClient::new(verified::start_with(
            checkpoint.clone(),
            vec![stalled.clone(), honest.clone()],
            settings,
        ))
        .unwrap();
        let started = Instant::now();
        follow_until(&mut client, checkpoint.number + 5).await;
        let report = client.transport().report();
        let silent = report.endpoints.iter().find(|e| e.url == stalled).unwrap();
        eprintln!(
            "a stalled endpoint first: followed to #{} in {:?}; it: {} failures ({:?})",
            report.finalized.as_ref().unwrap().number,
            started.elapsed(),
            silent.failures,
            silent.last_failure
        );
        assert!(silent.failures >= 1 && silent.rejections == 0, "{silent:?}");
        assert!(
            silent
                .last_failure
                .as_deref()
                .is_some_and(|f| f.contains("in time") || f.contains("asked again")),
            "{silent:?}"
        );

        // An endpoint whose head is behind (lagging, or replaying an old one) first: it does not
        // move the client back, and it is no liar; the one ahead of it is heard.
        let behind = proxy(honest.clone(), Lie::Backwards);
        let mut client = BittensorClient::new(verified::start(
            checkpoint.clone(),
            vec![behind.clone(), honest.clone()],
            POLL_MS,
        ))
        .unwrap();
        follow_until(&mut client, checkpoint.number + 3).await;
        let report = client.transport().report();
        assert!(
            rejections_of(&report, &behind).is_empty(),
            "{:?}",
            report.rejections
        );
        assert!(report.last_error.is_none(), "{:?}", report.last_error);
    });
    drop(node);
}

/// A runtime upgrade (`set_code_without_checks` through sudo, the same code, so the block says
/// the runtime changed), followed through an endpoint that withholds `:code` from that block on:
/// reads at blocks before it still work, and reads at or after it are refused with the reason,
/// never decoded with the old runtime's metadata.
#[test]
fn withheld_code_at_an_upgrade_refuses_reads_after_it() {
    use taoscope_light_client::extrinsic::{self, Mortality, Transaction};
    common::smoldot_logs();
    let dir = temp_dir("verified-rpc-upgrade");
    let node = Localnet::start(&dir, &["--backfill", "10", "--block-ms", "300"]);
    let honest = node.rpc_url();
    smol::block_on(async {
        let checkpoint = verified::make_checkpoint(&honest, None).unwrap();
        let withholding = proxy(honest.clone(), Lie::WithheldCode);
        let mut client = BittensorClient::new(verified::start(
            checkpoint.clone(),
            vec![withholding.clone()],
            POLL_MS,
        ))
        .unwrap();
        follow_until(&mut client, checkpoint.number + 1).await;
        let before = client.read_block().unwrap();
        let subnets_before = client.subnets(&before.hash).await.unwrap();

        // The upgrade, by sudo.
        let mut rpc = Rpc::connect(&honest).await;
        let metadata = rpc.metadata().await;
        let code = rpc.call("state_getStorage", json!(["0x3a636f6465"])).await;
        let set_code = extrinsic::encode_call(
            &metadata,
            "System",
            "set_code_without_checks",
            json!({ "code": code }).as_object().unwrap(),
        )
        .unwrap();
        let sudo = extrinsic::encode_call(
            &metadata,
            "Sudo",
            "sudo_unchecked_weight",
            json!({ "call": to_hex(&set_code), "weight": { "ref_time": 0, "proof_size": 0 } })
                .as_object()
                .unwrap(),
        )
        .unwrap();
        let alice = Sr25519Signer::dev("Alice").unwrap();
        let nonce = client
            .account(&before.hash, &ss58::encode(&alice.account(), 42))
            .await
            .unwrap()
            .nonce;
        let tx = Transaction {
            spec_version: 103,
            transaction_version: 1,
            genesis_hash: checkpoint.genesis_hash,
            mortality: Mortality::Immortal,
            nonce,
            tip: 0,
            metadata_hash: None,
        };
        let signed = extrinsic::sign_ready(&metadata, &tx, &sudo, &alice).unwrap();
        let subscription = rpc
            .call("author_submitAndWatchExtrinsic", json!([to_hex(&signed)]))
            .await;
        let upgrade_block = loop {
            let update = rpc.notification(&subscription).await;
            if let Some(hash) = update["inBlock"].as_str() {
                break number_of(&rpc.call("chain_getHeader", json!([hash])).await);
            }
            assert!(update.is_string(), "the upgrade failed: {update}");
        };
        UPGRADE_AT.store(upgrade_block, Ordering::SeqCst);
        eprintln!("the runtime changed at block #{upgrade_block}");

        // The client follows past the upgrade; its runtime cannot be read from there on.
        let words = loop {
            let report = client.transport().report();
            if let Some(problem) = report.runtime_problem.clone()
                && report.finalized.as_ref().unwrap().number >= upgrade_block
            {
                break problem;
            }
            // Events carry the invalid runtime as an error: the client says so and goes on.
            let _ = client.events().await;
            let _ = smol::future::or(async { client.pump().await.ok() }, async {
                smol::Timer::after(Duration::from_millis(200)).await;
                None
            })
            .await;
        };
        eprintln!("after the upgrade: {words}");
        assert!(
            words.contains(&format!("block #{upgrade_block}")),
            "{words}"
        );
        assert!(
            words.contains("refused rather than answered by the old runtime"),
            "{words}"
        );

        // Reads before the upgrade still answer, the same as before; at the newest block, refused.
        assert_eq!(client.subnets(&before.hash).await.unwrap(), subnets_before);
        let report = client.transport().report();
        let newest = report.finalized.unwrap();
        let refused = client.subnets(&newest.hash).await.unwrap_err().to_string();
        eprintln!("a read at #{}: {refused}", newest.number);
        assert!(refused.contains("refused"), "{refused}");
    });
    drop(node);
}
