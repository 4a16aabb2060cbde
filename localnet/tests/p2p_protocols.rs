//! The node's answers on Substrate's peer-to-peer protocols, read back with smoldot's own
//! client-side decoders and verifiers: what a light client would receive and check.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use smoldot::finality::verify;
use smoldot::network::codec;
use smoldot::trie::proof_decode;
use std::num::NonZeroU32;
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::keys::Ed25519Signer;
use taoscope_localnet::chain::{BLOCK_NUMBER_BYTES, Chain};
use taoscope_localnet::genesis::{ChainSpec, apply_dev_overrides};
use taoscope_localnet::p2p::protocols::{self, ProtocolError, ProtocolNames};
use taoscope_localnet::proof::Tries;

fn chain_with_blocks(n: u64) -> Chain {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    );
    let mut spec = ChainSpec::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    apply_dev_overrides(&mut spec).unwrap();
    let mut chain = Chain::new(spec).unwrap();
    for slot in 0..n {
        chain.author(1_000_000 + slot, &[]).unwrap();
    }
    chain
}

fn concat(parts: impl Iterator<Item = impl AsRef<[u8]>>) -> Vec<u8> {
    parts.fold(Vec::new(), |mut out, p| {
        out.extend_from_slice(p.as_ref());
        out
    })
}

#[test]
fn block_requests_are_answered_in_both_directions_with_justifications() {
    let chain = chain_with_blocks(5);
    let request = |start, count, direction| {
        concat(codec::build_block_request(
            BLOCK_NUMBER_BYTES,
            &codec::BlocksRequestConfig {
                start,
                desired_count: NonZeroU32::new(count).unwrap(),
                direction,
                fields: codec::BlocksRequestFields {
                    header: true,
                    body: true,
                    justifications: true,
                },
            },
        ))
    };
    let best = chain.best().clone();
    let answer = protocols::answer_block_request(
        &chain,
        &request(
            codec::BlocksRequestConfigStart::Hash(best.hash),
            3,
            codec::BlocksRequestDirection::Descending,
        ),
    )
    .unwrap();
    let blocks = codec::decode_block_response(&answer).unwrap();
    assert_eq!(blocks.len(), 3);
    assert_eq!(blocks[0].hash, best.hash);
    assert_eq!(blocks[0].header.as_deref(), Some(&best.header[..]));
    assert_eq!(blocks[2].hash, chain.block(3).unwrap().hash);
    let justification = &blocks[0].justifications.as_ref().unwrap()[0];
    assert_eq!(&justification.engine_id, b"FRNK");

    let answer = protocols::answer_block_request(
        &chain,
        &request(
            codec::BlocksRequestConfigStart::Number(0),
            100,
            codec::BlocksRequestDirection::Ascending,
        ),
    )
    .unwrap();
    assert_eq!(codec::decode_block_response(&answer).unwrap().len(), 6);

    // Garbage and unknown blocks get errors, not panics.
    assert!(matches!(
        protocols::answer_block_request(&chain, &[0xff; 7]),
        Err(ProtocolError::Malformed(..))
    ));
    let unknown = request(
        codec::BlocksRequestConfigStart::Hash([9; 32]),
        1,
        codec::BlocksRequestDirection::Ascending,
    );
    assert!(matches!(
        protocols::answer_block_request(&chain, &unknown),
        Err(ProtocolError::UnknownBlock(_))
    ));
}

#[test]
fn warp_sync_from_genesis_ends_at_the_best_block_with_a_valid_justification() {
    let chain = chain_with_blocks(4);
    let answer = protocols::answer_warp_sync(&chain, &chain.genesis().hash).unwrap();
    let response = codec::decode_grandpa_warp_sync_response(&answer, BLOCK_NUMBER_BYTES).unwrap();
    assert!(response.is_finished);
    assert_eq!(response.fragments.len(), 1);
    let fragment = &response.fragments[0];
    assert_eq!(fragment.scale_encoded_header, &chain.best().header[..]);
    let alice = Ed25519Signer::dev("Alice").account();
    verify::verify_justification(verify::JustificationVerifyConfig {
        justification: fragment.scale_encoded_justification,
        block_number_bytes: BLOCK_NUMBER_BYTES,
        authorities_set_id: 0,
        authorities_list: std::iter::once(&alice[..]),
        randomness_seed: [0; 32],
    })
    .unwrap();
    // From the best block itself there is nothing newer.
    let answer = protocols::answer_warp_sync(&chain, &chain.best().hash).unwrap();
    let response = codec::decode_grandpa_warp_sync_response(&answer, BLOCK_NUMBER_BYTES).unwrap();
    assert!(response.fragments.is_empty() && response.is_finished);
    assert!(protocols::answer_warp_sync(&chain, &[1, 2, 3]).is_err());
}

#[test]
fn storage_and_call_proofs_verify_against_the_header_state_root() {
    let mut chain = chain_with_blocks(2);
    let best = chain.best().clone();
    let root = *smoldot::header::decode(&best.header, BLOCK_NUMBER_BYTES)
        .unwrap()
        .state_root;
    let read = concat(codec::build_storage_proof_request(
        codec::StorageProofRequestConfig {
            block_hash: best.hash,
            keys: [
                b":code".to_vec(),
                b":heappages".to_vec(),
                b"absent".to_vec(),
            ]
            .into_iter(),
        },
    ));
    let answer = protocols::answer_light_request(&mut chain, &Tries::default(), &read).unwrap();
    let proof = codec::decode_storage_or_call_proof_response(
        codec::StorageOrCallProof::StorageProof,
        &answer,
    )
    .unwrap()
    .unwrap();
    let decoded = proof_decode::decode_and_verify_proof(proof_decode::Config { proof }).unwrap();
    let state = chain.state(best.number).unwrap();
    for key in [&b":code"[..], b":heappages", b"absent"] {
        let proven = decoded.storage_value(&root, key).unwrap().map(|(v, _)| v);
        assert_eq!(proven, state.get(key).map(|v| &v[..]));
    }

    let call = concat(codec::build_call_proof_request(
        codec::CallProofRequestConfig {
            block_hash: best.hash,
            method: "AuraApi_authorities".into(),
            parameter_vectored: std::iter::empty::<Vec<u8>>(),
        },
    ));
    let answer = protocols::answer_light_request(&mut chain, &Tries::default(), &call).unwrap();
    let proof =
        codec::decode_storage_or_call_proof_response(codec::StorageOrCallProof::CallProof, &answer)
            .unwrap()
            .unwrap();
    let decoded = proof_decode::decode_and_verify_proof(proof_decode::Config { proof }).unwrap();
    assert!(decoded.storage_value(&root, b":code").unwrap().is_some());

    let failing = concat(codec::build_call_proof_request(
        codec::CallProofRequestConfig {
            block_hash: best.hash,
            method: "NoSuchApi_method".into(),
            parameter_vectored: std::iter::empty::<Vec<u8>>(),
        },
    ));
    assert!(matches!(
        protocols::answer_light_request(&mut chain, &Tries::default(), &failing),
        Err(ProtocolError::Call(_))
    ));
    assert!(
        protocols::answer_light_request(&mut chain, &Tries::default(), b"\x0a\x03abc").is_err()
    );
    assert!(protocols::answer_light_request(&mut chain, &Tries::default(), &[0xff; 9]).is_err());
}

#[test]
fn protocol_names_and_the_handshake() {
    let chain = chain_with_blocks(1);
    let names = ProtocolNames::of(&chain.genesis().hash);
    assert!(names.block_announces.starts_with("/8a20ceb0"));
    assert!(names.block_announces.ends_with("/block-announces/1"));
    let handshake = protocols::block_announces_handshake(&chain);
    let decoded = codec::decode_block_announces_handshake(BLOCK_NUMBER_BYTES, &handshake).unwrap();
    assert_eq!(decoded.best_number, 1);
    assert_eq!(decoded.genesis_hash, &chain.genesis().hash);
    let announce = protocols::block_announce(chain.best());
    let decoded = codec::decode_block_announce(&announce, BLOCK_NUMBER_BYTES).unwrap();
    assert_eq!(decoded.scale_encoded_header, &chain.best().header[..]);
}

/// The commit gossiped for a final block passes smoldot's commit verification for the chain's
/// set id (Alice the only authority) and fails for another set id.
#[test]
fn grandpa_commit_messages_verify_for_the_set() {
    let chain = chain_with_blocks(2);
    let best = chain.best();
    let justification = best.justification.as_ref().unwrap();
    let commit = protocols::grandpa_commit(justification, 0).unwrap();
    match codec::decode_grandpa_notification(&commit, BLOCK_NUMBER_BYTES).unwrap() {
        codec::GrandpaNotificationRef::Commit(c) => {
            assert_eq!(c.target_hash, &best.hash);
            assert_eq!(c.target_number, best.number);
        }
        other => panic!("not a commit: {other:?}"),
    }
    let alice = Ed25519Signer::dev("Alice").account();
    let verify = |set_id: u64| {
        let mut state = verify::verify_commit(verify::CommitVerifyConfig {
            commit: &commit[1..],
            block_number_bytes: BLOCK_NUMBER_BYTES,
            expected_authorities_set_id: set_id,
            num_authorities: 1,
            randomness_seed: [0; 32],
        });
        loop {
            state = match state {
                verify::CommitVerify::Finished(result) => return result.map_err(|e| e.to_string()),
                verify::CommitVerify::FinishedUnknown => return Err("unknown".to_string()),
                verify::CommitVerify::IsAuthority(next) => {
                    let is_alice = next.authority_public_key() == &alice;
                    next.resume(is_alice)
                }
                verify::CommitVerify::IsParent(next) => {
                    let same = next.block_hash() == next.target_block_hash();
                    next.resume(Some(same))
                }
            };
        }
    };
    verify(0).unwrap();
    assert!(verify(1).is_err());
    assert!(protocols::grandpa_commit(b"not a justification", 0).is_err());
}

#[test]
fn grandpa_neighbor_packets_decode() {
    let packet = protocols::grandpa_neighbor_packet(7, 0, 42);
    match codec::decode_grandpa_notification(&packet, BLOCK_NUMBER_BYTES).unwrap() {
        codec::GrandpaNotificationRef::Neighbor(n) => {
            assert_eq!(
                (n.round_number, n.set_id, n.commit_finalized_height),
                (7, 0, 42)
            );
        }
        other => panic!("not a neighbor packet: {other:?}"),
    }
}
