//! Yields held to the chain: on a localnet with the three demonstration subnets (delegates at
//! 10%, 30% and 18%, nominators, owners' own validators), every validator's payout that
//! `yields` computes from audited epochs, over smoldot-light and over verified RPC, equals an
//! independent computation from the node's own answers (raw storage, decoded here by hand, the
//! take and shares in integer arithmetic), and what each staker's stake actually grew by in the
//! next block is what that computation gives: the yields are what was paid.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

mod common;

use common::{Localnet, Rpc, follow_until, spec_over, temp_dir};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use taoscope_light_client::audit::WhatIf;
use taoscope_light_client::client::light::native as light;
use taoscope_light_client::client::verified_rpc::native as verified;
use taoscope_light_client::client::{AnyTransport, BittensorClient, ClientError, Transport};
use taoscope_light_client::hex::from_hex;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::ss58;
use taoscope_light_client::storage;
use taoscope_light_client::yields::{EpochPayouts, MS_PER_YEAR, subnet_yields};

const SUBNETS: [u16; 3] = [1, 2, 4];
const PALLET: &str = "SubtensorModule";

/// The node's own answers at one block, not through proofs.
struct Raw<'r> {
    rpc: &'r mut Rpc,
    metadata: &'r Metadata,
    hash: String,
}

impl Raw<'_> {
    /// Block `block`'s hash, once the node has it (an epoch's next block may be in the making).
    async fn at(rpc: &mut Rpc, block: u64) -> String {
        for _ in 0..300 {
            if let Some(hash) = rpc
                .call("chain_getBlockHash", json!([block]))
                .await
                .as_str()
            {
                return hash.to_string();
            }
            smol::Timer::after(std::time::Duration::from_millis(100)).await;
        }
        panic!("the node has no block #{block}");
    }

    async fn bytes(&mut self, entry: &str, keys: &[Value]) -> Option<Vec<u8>> {
        let key = storage::key(self.metadata, PALLET, entry, keys).unwrap();
        let hex = taoscope_light_client::hex::to_hex(&key);
        let value = self
            .rpc
            .call("state_getStorage", json!([hex, self.hash]))
            .await;
        value.as_str().map(|v| from_hex(v).unwrap())
    }

    async fn u64(&mut self, entry: &str, keys: &[Value]) -> u64 {
        self.bytes(entry, keys)
            .await
            .map_or(0, |b| u64::from_le_bytes(b.try_into().unwrap()))
    }

    /// `Stake[hotkey]`: every coldkey's stake on it (the Identity-hashed coldkey ends the key).
    async fn stakes(&mut self, hotkey: &str) -> BTreeMap<[u8; 32], u64> {
        let prefix = storage::key(self.metadata, PALLET, "Stake", &[json!(hotkey)]).unwrap();
        let keys = self
            .rpc
            .call(
                "state_getKeysPaged",
                json!([
                    taoscope_light_client::hex::to_hex(&prefix),
                    1000,
                    null,
                    self.hash
                ]),
            )
            .await;
        let mut out = BTreeMap::new();
        for key in keys.as_array().unwrap() {
            let key = from_hex(key.as_str().unwrap()).unwrap();
            let value = self
                .rpc
                .call(
                    "state_getStorage",
                    json!([taoscope_light_client::hex::to_hex(&key), self.hash]),
                )
                .await;
            let stake = u64::from_le_bytes(
                from_hex(value.as_str().unwrap())
                    .unwrap()
                    .try_into()
                    .unwrap(),
            );
            out.insert(key[key.len() - 32..].try_into().unwrap(), stake);
        }
        out
    }
}

/// `LoadedEmission[netuid]` by hand: a compact length, then 32-byte accounts and u64s.
fn loaded_emission(bytes: &[u8]) -> Vec<([u8; 32], u64)> {
    let (len, mut at) = match bytes[0] & 3 {
        0 => (usize::from(bytes[0] >> 2), 1),
        1 => (
            usize::from(u16::from_le_bytes([bytes[0], bytes[1]]) >> 2),
            2,
        ),
        _ => panic!("more tuples than a demo subnet has"),
    };
    (0..len)
        .map(|_| {
            let account = bytes[at..at + 32].try_into().unwrap();
            let rao = u64::from_le_bytes(bytes[at + 32..at + 40].try_into().unwrap());
            at += 40;
            (account, rao)
        })
        .collect()
}

/// The runtime's take and shares in integers: I64F64 is `bits / 2^64`, its division truncates,
/// its product of two values is `(a · b) >> 64`.
fn take_of(take: u16, emission: u64) -> u64 {
    let proportion = (u128::from(take) << 64) / u128::from(u16::MAX);
    ((proportion * u128::from(emission)) >> 64) as u64
}

fn share_of(stake: u64, total: u64, emission: u64) -> u64 {
    if total == 0 {
        return 0;
    }
    let proportion = (u128::from(stake) << 64) / u128::from(total);
    ((proportion * u128::from(emission)) >> 64) as u64
}

/// Checks one epoch's payouts against the node's own answers, and the stake each staker got
/// in the next block. Returns how many stakers' payments were checked.
async fn check_epoch(rpc: &mut Rpc, metadata: &Metadata, epoch: &EpochPayouts) -> usize {
    let netuid = epoch.netuid;
    let hash = Raw::at(rpc, epoch.block).await;
    let next_hash = Raw::at(rpc, epoch.block + 1).await;
    let mut raw = Raw {
        rpc,
        metadata,
        hash,
    };
    let loaded = loaded_emission(&raw.bytes("LoadedEmission", &[json!(netuid)]).await.unwrap());
    let permits = raw
        .bytes("ValidatorPermit", &[json!(netuid)])
        .await
        .unwrap();
    let permitted: Vec<u16> = (0..permits.len().saturating_sub(1) as u16)
        .filter(|&uid| permits[1 + usize::from(uid)] == 1)
        .collect();
    assert_eq!(
        epoch.validators.iter().map(|v| v.uid).collect::<Vec<_>>(),
        permitted,
        "subnet {netuid} #{}: the validators",
        epoch.block
    );
    let mut checked = 0;
    for v in &epoch.validators {
        let at = format!("subnet {netuid} #{} uid {}", epoch.block, v.uid);
        let key: [u8; 32] = raw
            .bytes("Keys", &[json!(netuid), json!(v.uid)])
            .await
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(v.hotkey, ss58::encode(&key, 42), "{at}");
        let emission = loaded
            .iter()
            .find(|(a, _)| *a == key)
            .map_or(0, |(_, e)| *e);
        let take = raw
            .bytes("Delegates", &[json!(v.hotkey)])
            .await
            .map(|b| u16::from_le_bytes(b.try_into().unwrap()));
        let stake = raw.u64("TotalHotkeyStake", &[json!(v.hotkey)]).await;
        let take_rao = take.map_or(0, |t| take_of(t, emission));
        assert_eq!(
            (v.emission, v.delegate_take, v.stake, v.take, v.to_stakers),
            (emission, take, stake, take_rao, emission - take_rao),
            "{at}"
        );
        let owner: [u8; 32] = raw
            .bytes("Owner", &[json!(v.hotkey)])
            .await
            .unwrap()
            .try_into()
            .unwrap();
        let before = raw.stakes(&v.hotkey).await;
        assert_eq!(
            v.nominators as usize,
            before
                .iter()
                .filter(|(c, s)| **c != owner && **s > 0)
                .count(),
            "{at}"
        );
        // What each staker's stake grew by in the next block: the drain pays there, before any
        // transaction (the demo's only later staking is coldkey 2's own add_stake on subnet 1's
        // hotkey 2 every seven blocks: that block is passed over).
        if netuid == 1 && v.uid == 2 && (epoch.block + 1).is_multiple_of(7) {
            continue;
        }
        raw.hash = next_hash.clone();
        let after = raw.stakes(&v.hotkey).await;
        for (coldkey, stake_before) in &before {
            let expected = match take {
                None => emission,
                Some(_) => {
                    share_of(*stake_before, stake, emission - take_rao)
                        + if *coldkey == owner { take_rao } else { 0 }
                }
            };
            let expected = if take.is_none() && *coldkey != owner {
                0
            } else {
                expected
            };
            assert_eq!(
                after[coldkey] - stake_before,
                expected,
                "{at}: what {} got in the next block",
                ss58::encode(coldkey, 42)
            );
            checked += 1;
        }
        raw.hash = Raw::at(raw.rpc, epoch.block).await;
    }
    checked
}

/// The yields of `epochs` recomputed from their payouts by hand.
fn check_yields(epochs: &[EpochPayouts], block_time_ms: u64) {
    let subnet = subnet_yields(epochs, block_time_ms).unwrap();
    let per_year = MS_PER_YEAR as f64 / (block_time_ms * (u64::from(subnet.tempo) + 1)) as f64;
    assert_eq!(subnet.epochs_per_year, per_year);
    let mut newest_first: Vec<&EpochPayouts> = epochs.iter().collect();
    newest_first.sort_by_key(|e| std::cmp::Reverse(e.block));
    for v in &subnet.validators {
        let rates: Vec<f64> = newest_first
            .iter()
            .filter_map(|e| e.validators.iter().find(|p| p.hotkey == v.latest.hotkey))
            .map(|p| p.to_stakers as f64 / p.stake as f64)
            .collect();
        let mean = rates.iter().sum::<f64>() / rates.len() as f64;
        assert_eq!(v.mean_epoch_yield, mean, "{}", v.latest.hotkey);
        assert_eq!(v.annual_yield, mean * per_year);
        assert!(v.all_exact);
    }
}

async fn payouts_of<T: Transport>(
    client: &mut BittensorClient<T>,
    netuid: u16,
    block: u64,
) -> Option<EpochPayouts> {
    // Only a block the transport no longer holds may pass (smoldot-light's pinned window).
    let held = |e: ClientError| -> Option<()> {
        match e {
            ClientError::NotHeld(_) => None,
            other => panic!("subnet {netuid} #{block}: {other}"),
        }
    };
    let audit = client
        .audit_epoch(netuid, block, &[])
        .await
        .map_err(held)
        .ok()?;
    assert!(audit.is_exact(), "{}", audit.verdict());
    client.epoch_payouts(&audit).await.map_err(held).ok()
}

#[test]
fn yields_are_what_the_chain_paid_over_both_transports() {
    common::smoldot_logs();
    let dir = temp_dir("yields");
    let node = Localnet::start(
        &dir,
        &[
            "--backfill",
            "40",
            "--block-ms",
            "300",
            "--demo-subnets",
            "3",
        ],
    );
    let url = node.rpc_url();
    smol::block_on(async {
        let mut rpc = Rpc::connect(&url).await;
        let metadata = rpc.metadata().await;
        let checkpoint = verified::make_checkpoint(&url, Some(1)).unwrap();
        let mut over_rpc =
            BittensorClient::new(verified::start(checkpoint, vec![url.clone()], 200)).unwrap();
        let spec = spec_over(&dir, "/ws");
        let mut over_p2p =
            BittensorClient::new(AnyTransport::P2p(light::start(&spec, "").unwrap())).unwrap();
        over_p2p.keep_pinned(16);

        // smoldot-light serves pinned blocks only: each epoch is read as it is finalized, until
        // every subnet has two.
        let start = follow_until(&mut over_p2p, 40).await;
        eprintln!("smoldot-light following after {start:?}");
        let mut p2p: BTreeMap<u16, BTreeMap<u64, EpochPayouts>> = BTreeMap::new();
        while SUBNETS
            .iter()
            .any(|n| p2p.get(n).map_or(0, BTreeMap::len) < 2)
        {
            let now = over_p2p.read_block().unwrap().number;
            follow_until(&mut over_p2p, now + 1).await;
            for netuid in SUBNETS {
                let latest = over_p2p.latest_epoch(netuid).await.unwrap();
                if latest == 0 || p2p.get(&netuid).is_some_and(|e| e.contains_key(&latest)) {
                    continue;
                }
                if let Some(epoch) = payouts_of(&mut over_p2p, netuid, latest).await {
                    p2p.entry(netuid).or_default().insert(latest, epoch);
                }
            }
        }
        let head = over_p2p.read_block().unwrap().number;
        follow_until(&mut over_rpc, head).await;
        let block_time_ms = over_rpc.block_time_ms().await.unwrap();
        assert_eq!(block_time_ms, over_p2p.block_time_ms().await.unwrap());
        assert_eq!(block_time_ms, 12_000, "spec 103's Aura slot");

        let mut stakers = 0;
        for netuid in SUBNETS {
            let (blocks, _) = over_rpc.epoch_blocks(netuid, 4).await.unwrap();
            assert!(blocks.len() >= 2, "subnet {netuid}: {blocks:?}");
            let mut epochs = Vec::new();
            for block in blocks {
                let epoch = payouts_of(&mut over_rpc, netuid, block).await.unwrap();
                // The same epoch over both transports: the same payouts.
                if let Some(seen) = p2p[&netuid].get(&block) {
                    assert_eq!(
                        seen, &epoch,
                        "subnet {netuid} #{block}: p2p and verified RPC"
                    );
                }
                stakers += check_epoch(&mut rpc, &metadata, &epoch).await;
                epochs.push(epoch);
            }
            for epoch in p2p[&netuid].values() {
                stakers += check_epoch(&mut rpc, &metadata, epoch).await;
            }
            check_yields(&epochs, block_time_ms);
            check_yields(
                &p2p[&netuid].values().cloned().collect::<Vec<_>>(),
                block_time_ms,
            );
            let subnet = subnet_yields(&epochs, block_time_ms).unwrap();
            eprintln!(
                "subnet {netuid}: {} validators over epochs {:?}: {:?}",
                subnet.validators.len(),
                subnet.epochs,
                subnet
                    .validators
                    .iter()
                    .map(|v| (
                        v.latest.uid,
                        v.latest.delegate_take,
                        v.latest.nominators,
                        v.annual_yield
                    ))
                    .collect::<Vec<_>>()
            );
            if netuid == 1 {
                let takes: Vec<Option<u16>> = subnet
                    .validators
                    .iter()
                    .map(|v| v.latest.delegate_take)
                    .collect();
                assert_eq!(takes, [Some(6_553), Some(19_660), None, None]);
                assert!(subnet.validators[0].latest.nominators >= 2);
            }
        }
        assert!(stakers >= 20, "{stakers} stakers' payments checked");

        // An epoch recomputed with another input (what if) is not what the chain paid: no
        // payouts are made of it.
        let block = over_rpc.latest_epoch(1).await.unwrap();
        let altered = over_rpc
            .audit_epoch(1, block, &[WhatIf::parse("kappa=0").unwrap()])
            .await
            .unwrap();
        assert!(!altered.is_exact());
        let refused = over_rpc.epoch_payouts(&altered).await.unwrap_err();
        assert!(refused.to_string().contains("what if"), "{refused}");
    });
    node.stop();
}
