//! The audit over smoldot-light (p2p) against a localnet whose subnet 1 has 256 uids and 64
//! validators: every epoch the light client can prove (its pinned blocks) is recomputed from
//! proven state and matches what the runtime stored. Prints what each epoch cost the node in
//! light-client answers (proofs) and bytes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, follow_until, spec_over, temp_dir};
use serde_json::{Value, json};
use std::time::Instant;
use taoscope_light_client::client::light::native;
use taoscope_light_client::client::{AnyTransport, BittensorClient};

#[test]
fn a_256_uid_subnet_is_audited_over_smoldot_light() {
    common::smoldot_logs();
    let dir = temp_dir("audit-p2p");
    let node = Localnet::start(
        &dir,
        &[
            "--backfill",
            "60",
            "--block-ms",
            "300",
            "--demo-subnet",
            "--demo-uids",
            "256",
            "--demo-validators",
            "64",
        ],
    );
    smol::block_on(async {
        let mut rpc = Rpc::connect(&node.rpc_url()).await;
        let spec = spec_over(&dir, "/ws");
        // Through `AnyTransport`, as the app's light worker holds it.
        let transport = AnyTransport::P2p(native::start(&spec, "").unwrap());
        let mut client = BittensorClient::new(transport).unwrap();
        client.keep_pinned(16);
        let finalized = follow_until(&mut client, 60).await;
        // Pinned blocks only: wait for two epochs (tempo 9) after the client started following.
        let now = client.read_block().unwrap().number;
        follow_until(&mut client, now + 21).await;
        eprintln!("following after {finalized:?}");
        let (blocks, stopped) = client.epoch_blocks(1, 8).await.unwrap();
        eprintln!("epoch blocks {blocks:?} ({stopped:?})");
        let mut audited = 0;
        for block in blocks {
            let started = Instant::now();
            let served = rpc.call("taoscope_p2pServed", json!([])).await;
            let audit = client.audit_epoch(1, block, &[]).await;
            let cost = served_since(&served, &rpc.call("taoscope_p2pServed", json!([])).await);
            match audit {
                Ok(epoch) => {
                    eprintln!(
                        "#{block}: {} in {:?}; the node answered {cost}",
                        epoch.verdict(),
                        started.elapsed()
                    );
                    assert!(epoch.mismatches.is_empty(), "{:?}", epoch.mismatches);
                    assert!(epoch.checked >= 2560, "{}", epoch.checked);
                    audited += 1;
                }
                Err(e) => eprintln!("#{block}: {e} after {:?}", started.elapsed()),
            }
        }
        // The last 16 finalized blocks are pinned, 5 s of this chain: one or two epochs.
        assert!(audited >= 1, "no epoch audited over smoldot-light");
    });
    node.stop();
}

/// "N light-client requests (B bytes)" between two `taoscope_p2pServed` answers.
fn served_since(before: &Value, after: &Value) -> String {
    let count = |field: &str| after[field].as_u64().unwrap() - before[field].as_u64().unwrap();
    format!(
        "{} light-client requests ({} bytes)",
        count("lightRequests"),
        count("lightBytes")
    )
}
