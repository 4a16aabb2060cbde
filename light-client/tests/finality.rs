//! GRANDPA finality as the verified-RPC core judges it, on hand-built headers and
//! justifications: an authority set change scheduled in a justified header is enacted by the
//! old set's justification of its activation block and only then does the new set (id + 1)
//! sign; a justification that jumps over the activation block, one from the wrong set, a head
//! that goes back and a header that does not link are refused.
#![cfg(feature = "native")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use ed25519_dalek::{Signer as _, SigningKey};
use parity_scale_codec::{Compact, Encode};
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::verified::checkpoint::{Authority, Checkpoint};
use taoscope_light_client::verified::finality::{Finality, FinalityError};

fn voter(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn authority(key: &SigningKey) -> Authority {
    Authority {
        public_key: key.verifying_key().to_bytes(),
        weight: 1,
    }
}

/// A header after `parent`, with a GRANDPA `ScheduledChange` to `next` after `delay` blocks.
fn header(parent: &[u8; 32], number: u32, change: Option<(&[Authority], u32)>) -> Vec<u8> {
    let mut out = parent.to_vec();
    Compact(number).encode_to(&mut out);
    out.extend([number as u8; 32]); // state root
    out.extend([0u8; 32]); // extrinsics root
    match change {
        None => Compact(0u32).encode_to(&mut out),
        Some((next, delay)) => {
            Compact(1u32).encode_to(&mut out);
            let mut log = vec![1u8]; // ConsensusLog::ScheduledChange
            let list: Vec<([u8; 32], u64)> =
                next.iter().map(|a| (a.public_key, a.weight)).collect();
            list.encode_to(&mut log);
            delay.encode_to(&mut log);
            out.push(4); // DigestItem::Consensus
            out.extend(*b"FRNK");
            log.encode_to(&mut out);
        }
    }
    out
}

/// A justification of `(hash, number)` with one precommit by `signer` for `set_id`.
fn justification(signer: &SigningKey, hash: &[u8; 32], number: u32, set_id: u64) -> Vec<u8> {
    let round = u64::from(number);
    let mut payload = vec![1u8];
    payload.extend(hash);
    payload.extend(number.to_le_bytes());
    payload.extend(round.to_le_bytes());
    payload.extend(set_id.to_le_bytes());
    let signature = signer.sign(&payload).to_bytes();
    let mut out = round.to_le_bytes().to_vec();
    out.extend(hash);
    out.extend(number.to_le_bytes());
    Compact(1u32).encode_to(&mut out);
    out.extend(hash);
    out.extend(number.to_le_bytes());
    out.extend(signature);
    out.extend(signer.verifying_key().to_bytes());
    Compact(0u32).encode_to(&mut out);
    out
}

/// Blocks 0..=6; block 2 schedules a change from Alice's set to Bob's, enacted at block 4.
struct Chain {
    headers: Vec<Vec<u8>>,
    hashes: Vec<[u8; 32]>,
}

fn chain(bob: &Authority) -> Chain {
    let mut headers = vec![header(&[0; 32], 0, None)];
    let mut hashes = vec![blake2_256(&headers[0])];
    for number in 1..=6u32 {
        let parent = hashes[number as usize - 1];
        let change = (number == 2).then_some((std::slice::from_ref(bob), 2));
        headers.push(header(&parent, number, change));
        hashes.push(blake2_256(&headers[number as usize]));
    }
    Chain { headers, hashes }
}

fn start(chain: &Chain, alice: &Authority) -> Finality {
    Finality::new(&Checkpoint {
        genesis_hash: chain.hashes[0],
        number: 0,
        hash: chain.hashes[0],
        header: chain.headers[0].clone(),
        set_id: 0,
        authorities: vec![alice.clone()],
        created_at_ms: None,
        source: None,
    })
    .unwrap()
}

const SEED: [u8; 32] = [7; 32];

#[test]
fn a_scheduled_change_is_enacted_by_the_old_set_then_the_new_set_signs() {
    let (alice_key, bob_key) = (voter(1), voter(2));
    let (alice, bob) = (authority(&alice_key), authority(&bob_key));
    let c = chain(&bob);
    let mut finality = start(&c, &alice);
    let range = |from: usize, to: usize| c.headers[from..=to].to_vec();

    // Blocks 1-3 by Alice (set 0): the change is scheduled, not yet in force.
    let proven = finality
        .advance(
            &range(1, 3),
            &justification(&alice_key, &c.hashes[3], 3, 0),
            SEED,
        )
        .unwrap();
    assert_eq!(proven.len(), 3);
    assert_eq!((finality.finalized().number, finality.set_id()), (3, 0));

    // A justification of block 5 jumps over block 4, where the set changes.
    let error = finality
        .advance(
            &range(4, 5),
            &justification(&alice_key, &c.hashes[5], 5, 0),
            SEED,
        )
        .unwrap_err();
    assert_eq!(error, FinalityError::ChangeSkipped { at: 4 });

    // Bob cannot finalize block 4: Alice's set does.
    let error = finality
        .advance(
            &range(4, 4),
            &justification(&bob_key, &c.hashes[4], 4, 1),
            SEED,
        )
        .unwrap_err();
    assert!(
        matches!(error, FinalityError::Justification { set_id: 0, .. }),
        "{error}"
    );
    finality
        .advance(
            &range(4, 4),
            &justification(&alice_key, &c.hashes[4], 4, 0),
            SEED,
        )
        .unwrap();
    assert_eq!(finality.set_id(), 1);
    assert_eq!(finality.authorities(), std::slice::from_ref(&bob));

    // From here Alice's word is worth nothing, for either set id; Bob's for set 1 is final.
    for set_id in [0, 1] {
        let error = finality
            .advance(
                &range(5, 5),
                &justification(&alice_key, &c.hashes[5], 5, set_id),
                SEED,
            )
            .unwrap_err();
        assert!(error.to_string().contains("authority set 1"), "{error}");
    }
    let error = finality
        .advance(
            &range(5, 5),
            &justification(&bob_key, &c.hashes[5], 5, 0),
            SEED,
        )
        .unwrap_err();
    assert!(error.to_string().contains("another set id"), "{error}");
    finality
        .advance(
            &range(5, 6),
            &justification(&bob_key, &c.hashes[6], 6, 1),
            SEED,
        )
        .unwrap();
    assert_eq!(
        (
            finality.finalized().number,
            finality.justifications_verified()
        ),
        (6, 3)
    );

    // A head that goes back, even with a valid justification, is refused.
    let error = finality
        .advance(
            &range(3, 3),
            &justification(&alice_key, &c.hashes[3], 3, 0),
            SEED,
        )
        .unwrap_err();
    assert_eq!(
        error,
        FinalityError::NotNewer {
            finalized: 6,
            claimed: 3
        }
    );
}

#[test]
fn headers_that_do_not_link_or_lead_elsewhere_are_refused() {
    let (alice_key, bob_key) = (voter(1), voter(2));
    let (alice, bob) = (authority(&alice_key), authority(&bob_key));
    let c = chain(&bob);
    let mut finality = start(&c, &alice);

    // Block 2 left out: block 3's parent is not block 1.
    let gap = vec![c.headers[1].clone(), c.headers[3].clone()];
    let error = finality
        .advance(&gap, &justification(&alice_key, &c.hashes[3], 3, 0), SEED)
        .unwrap_err();
    assert!(
        matches!(error, FinalityError::BrokenChain { number: 3, .. }),
        "{error}"
    );

    // A justification of another block than the headers end at.
    let error = finality
        .advance(
            &c.headers[1..=2],
            &justification(&alice_key, &c.hashes[3], 3, 0),
            SEED,
        )
        .unwrap_err();
    assert!(
        matches!(error, FinalityError::TargetMismatch { .. }),
        "{error}"
    );

    // Truncated justification bytes.
    let whole = justification(&alice_key, &c.hashes[1], 1, 0);
    let error = finality
        .advance(&c.headers[1..=1], &whole[..whole.len() - 10], SEED)
        .unwrap_err();
    assert_eq!(error, FinalityError::Undecodable);
    assert_eq!(finality.finalized().number, 0, "nothing changed on errors");
}
