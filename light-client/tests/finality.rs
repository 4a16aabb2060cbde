//! GRANDPA finality as the verified-RPC core judges it, on hand-built headers and
//! justifications. What is accepted: a scheduled authority set change enacted by the old set's
//! justification of its activation block, after which only the new set (id + 1) signs;
//! precommits on descendants of the target linked by their vote ancestry; signers holding more
//! than two thirds of the set's weight, however the weights are spread. What is refused, with
//! nothing changed: the forged chain of a forced change (a header with `ForcedChange(→ the
//! attacker's key)` and a justification by that key), a justification that jumps over the
//! activation block or comes from the wrong set, a head that goes back, headers that do not link,
//! too little weight (unequal weights, weights that would overflow `u64`), precommits on another
//! fork, and missing or unused ancestry.
#![cfg(feature = "native")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use ed25519_dalek::{Signer as _, SigningKey};
use parity_scale_codec::{Compact, Encode};
use taoscope_light_client::hashing::blake2_256;
use taoscope_light_client::verified::checkpoint::{Authority, Checkpoint};
use taoscope_light_client::verified::finality::{Finality, FinalityError};
use taoscope_light_client::verified::grandpa::JustificationError;

fn voter(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn weighted(key: &SigningKey, weight: u64) -> Authority {
    Authority {
        public_key: key.verifying_key().to_bytes(),
        weight,
    }
}

fn authority(key: &SigningKey) -> Authority {
    weighted(key, 1)
}

/// A GRANDPA digest log of a header.
enum Log<'a> {
    Scheduled(&'a [Authority], u32),
    Forced(&'a [Authority], u32),
}

/// A header after `parent`; `salt` makes siblings differ (it is the state root's byte).
fn header(parent: &[u8; 32], number: u32, salt: u8, logs: &[Log]) -> Vec<u8> {
    let mut out = parent.to_vec();
    Compact(number).encode_to(&mut out);
    out.extend([salt; 32]); // state root
    out.extend([0u8; 32]); // extrinsics root
    Compact(logs.len() as u32).encode_to(&mut out);
    for log in logs {
        let (kind, next, delay) = match log {
            Log::Scheduled(next, delay) => (1u8, next, delay),
            Log::Forced(next, delay) => (2u8, next, delay),
        };
        let mut data = vec![kind];
        if kind == 2 {
            0u32.encode_to(&mut data); // the median last finalized block
        }
        let list: Vec<([u8; 32], u64)> = next.iter().map(|a| (a.public_key, a.weight)).collect();
        list.encode_to(&mut data);
        delay.encode_to(&mut data);
        out.push(4); // DigestItem::Consensus
        out.extend(*b"FRNK");
        data.encode_to(&mut out);
    }
    out
}

/// A justification of `(hash, number)` in round `number`: one precommit per `(signer, block)`,
/// with `ancestry` headers.
fn justification_of(
    target: (&[u8; 32], u32),
    votes: &[(&SigningKey, [u8; 32], u32)],
    set_id: u64,
    ancestry: &[Vec<u8>],
) -> Vec<u8> {
    let (hash, number) = target;
    let round = u64::from(number);
    let mut out = round.to_le_bytes().to_vec();
    out.extend(hash);
    out.extend(number.to_le_bytes());
    Compact(votes.len() as u32).encode_to(&mut out);
    for (signer, voted, voted_number) in votes {
        let mut payload = vec![1u8];
        payload.extend(voted);
        payload.extend(voted_number.to_le_bytes());
        payload.extend(round.to_le_bytes());
        payload.extend(set_id.to_le_bytes());
        out.extend(voted);
        out.extend(voted_number.to_le_bytes());
        out.extend(signer.sign(&payload).to_bytes());
        out.extend(signer.verifying_key().to_bytes());
    }
    Compact(ancestry.len() as u32).encode_to(&mut out);
    for header in ancestry {
        out.extend(header);
    }
    out
}

/// A justification of `(hash, number)` by `signers`, each precommitting to the target itself.
fn signed_by(signers: &[&SigningKey], hash: &[u8; 32], number: u32, set_id: u64) -> Vec<u8> {
    let votes: Vec<_> = signers.iter().map(|s| (*s, *hash, number)).collect();
    justification_of((hash, number), &votes, set_id, &[])
}

fn justification(signer: &SigningKey, hash: &[u8; 32], number: u32, set_id: u64) -> Vec<u8> {
    signed_by(&[signer], hash, number, set_id)
}

/// Blocks 0..=6; block 2 schedules a change to `next` with delay 2 (enacted at block 4).
struct Chain {
    headers: Vec<Vec<u8>>,
    hashes: Vec<[u8; 32]>,
}

impl Chain {
    fn build(logs_at: impl Fn(u32) -> Vec<Log<'static>>) -> Chain {
        let mut headers = vec![header(&[0; 32], 0, 0, &[])];
        let mut hashes = vec![blake2_256(&headers[0])];
        for number in 1..=6u32 {
            let parent = hashes[number as usize - 1];
            headers.push(header(&parent, number, number as u8, &logs_at(number)));
            hashes.push(blake2_256(&headers[number as usize]));
        }
        Chain { headers, hashes }
    }

    fn range(&self, from: usize, to: usize) -> Vec<Vec<u8>> {
        self.headers[from..=to].to_vec()
    }
}

fn chain(next: &Authority) -> Chain {
    let next: &'static [Authority] = Box::leak(Box::new([next.clone()]));
    Chain::build(|n| {
        if n == 2 {
            vec![Log::Scheduled(next, 2)]
        } else {
            vec![]
        }
    })
}

fn plain_chain() -> Chain {
    Chain::build(|_| vec![])
}

fn start_with(chain: &Chain, authorities: Vec<Authority>) -> Finality {
    Finality::new(&Checkpoint {
        genesis_hash: chain.hashes[0],
        number: 0,
        hash: chain.hashes[0],
        header: chain.headers[0].clone(),
        set_id: 0,
        authorities,
        created_at_ms: None,
        source: None,
    })
    .unwrap()
}

fn start(chain: &Chain, alice: &Authority) -> Finality {
    start_with(chain, vec![alice.clone()])
}

#[test]
fn a_scheduled_change_is_enacted_by_the_old_set_then_the_new_set_signs() {
    let (alice_key, bob_key) = (voter(1), voter(2));
    let (alice, bob) = (authority(&alice_key), authority(&bob_key));
    let c = chain(&bob);
    let mut finality = start(&c, &alice);

    // Blocks 1-3 by Alice (set 0): the change is scheduled, not yet in force.
    let proven = finality
        .advance(
            &c.range(1, 3),
            &justification(&alice_key, &c.hashes[3], 3, 0),
        )
        .unwrap();
    assert_eq!(proven.len(), 3);
    assert_eq!((finality.finalized().number, finality.set_id()), (3, 0));
    assert!(
        finality.checkpoint(0, "test".into()).is_none(),
        "a pending change cannot be saved as a checkpoint"
    );

    // A justification of block 5 jumps over block 4, where the set changes.
    let error = finality
        .advance(
            &c.range(4, 5),
            &justification(&alice_key, &c.hashes[5], 5, 0),
        )
        .unwrap_err();
    assert_eq!(error, FinalityError::ChangeSkipped { at: 4 });

    // Bob cannot finalize block 4: Alice's set does.
    let error = finality
        .advance(&c.range(4, 4), &justification(&bob_key, &c.hashes[4], 4, 1))
        .unwrap_err();
    assert!(
        matches!(error, FinalityError::Justification { set_id: 0, .. }),
        "{error}"
    );
    finality
        .advance(
            &c.range(4, 4),
            &justification(&alice_key, &c.hashes[4], 4, 0),
        )
        .unwrap();
    assert_eq!(finality.set_id(), 1);
    assert_eq!(finality.authorities(), std::slice::from_ref(&bob));

    // From here Alice's word is worth nothing, for either set id; Bob's for set 1 is final.
    for set_id in [0, 1] {
        let error = finality
            .advance(
                &c.range(5, 5),
                &justification(&alice_key, &c.hashes[5], 5, set_id),
            )
            .unwrap_err();
        assert!(error.to_string().contains("authority set 1"), "{error}");
    }
    let error = finality
        .advance(&c.range(5, 5), &justification(&bob_key, &c.hashes[5], 5, 0))
        .unwrap_err();
    assert!(error.to_string().contains("another set id"), "{error}");
    finality
        .advance(&c.range(5, 6), &justification(&bob_key, &c.hashes[6], 6, 1))
        .unwrap();
    assert_eq!(
        (
            finality.finalized().number,
            finality.justifications_verified()
        ),
        (6, 3)
    );

    // The state now saves as a checkpoint that starts where this one stands.
    let saved = finality.checkpoint(42, "proven".into()).unwrap();
    assert_eq!((saved.number, saved.set_id), (6, 1));
    let mut resumed =
        Finality::new(&Checkpoint::from_json(&saved.to_json().to_string()).unwrap()).unwrap();
    assert_eq!(resumed.finalized(), finality.finalized());
    assert_eq!(resumed.authorities(), std::slice::from_ref(&bob));

    // A head that goes back, even with a valid justification, is refused.
    let error = resumed
        .advance(
            &c.range(3, 3),
            &justification(&alice_key, &c.hashes[3], 3, 0),
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
        .advance(&gap, &justification(&alice_key, &c.hashes[3], 3, 0))
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
        )
        .unwrap_err();
    assert!(
        matches!(error, FinalityError::TargetMismatch { .. }),
        "{error}"
    );

    // Truncated justification bytes.
    let whole = justification(&alice_key, &c.hashes[1], 1, 0);
    let error = finality
        .advance(&c.headers[1..=1], &whole[..whole.len() - 10])
        .unwrap_err();
    assert_eq!(error, FinalityError::Undecodable);
    assert_eq!(finality.finalized().number, 0, "nothing changed on errors");
}

/// The hole this module once had: a lying endpoint serves header 1 with a forced change to its
/// own key (delay 0, or due at block 2), header 2, and a justification of block 2 signed by its
/// key for the next set id. Refused with the words that say a new checkpoint is needed, and
/// nothing from the forged chain is taken; the honest chain still advances after.
#[test]
fn a_forged_forced_change_is_refused_and_a_new_checkpoint_is_asked_for() {
    let (alice_key, mallory_key) = (voter(1), voter(66));
    let (alice, mallory) = (authority(&alice_key), authority(&mallory_key));
    let honest = plain_chain();
    let mut finality = start(&honest, &alice);

    for delay in [0, 1] {
        let forged_1 = header(
            &honest.hashes[0],
            1,
            0xee,
            &[Log::Forced(std::slice::from_ref(&mallory), delay)],
        );
        let forged_2 = header(&blake2_256(&forged_1), 2, 0xee, &[]);
        let target = blake2_256(&forged_2);
        for set_id in [0, 1] {
            let error = finality
                .advance(
                    &[forged_1.clone(), forged_2.clone()],
                    &justification(&mallory_key, &target, 2, set_id),
                )
                .unwrap_err();
            assert_eq!(
                error,
                FinalityError::ForcedChange {
                    at: 1,
                    authenticated: false
                }
            );
            let words = error.to_string();
            assert!(words.contains("forced"), "{words}");
            assert!(words.contains("new checkpoint is needed"), "{words}");
        }
        // The forged header alone, justified by the attacker, is no better.
        let error = finality
            .advance(
                std::slice::from_ref(&forged_1),
                &justification(&mallory_key, &blake2_256(&forged_1), 1, 1),
            )
            .unwrap_err();
        assert!(
            matches!(error, FinalityError::ForcedChange { .. }),
            "{error}"
        );
    }
    assert_eq!(finality.finalized().number, 0);
    assert_eq!(finality.set_id(), 0);
    assert_eq!(finality.authorities(), std::slice::from_ref(&alice));
    assert_eq!(finality.halted(), None);

    // The honest chain is followed as if nothing had been offered.
    finality
        .advance(
            &honest.range(1, 3),
            &justification(&alice_key, &honest.hashes[3], 3, 0),
        )
        .unwrap();
    assert_eq!(finality.finalized().number, 3);
}

/// A forced change in a header the set in force did finalize is the chain's own word: those
/// headers are taken, and the client stops there, asking for a new checkpoint.
#[test]
fn a_forced_change_the_set_in_force_finalized_halts_the_client() {
    let (alice_key, bob_key) = (voter(1), voter(2));
    let (alice, bob) = (authority(&alice_key), authority(&bob_key));
    let next: &'static [Authority] = Box::leak(Box::new([bob.clone()]));
    let c = Chain::build(|n| {
        if n == 2 {
            vec![Log::Forced(next, 1)]
        } else {
            vec![]
        }
    });
    let mut finality = start(&c, &alice);
    finality
        .advance(
            &c.range(1, 3),
            &justification(&alice_key, &c.hashes[3], 3, 0),
        )
        .unwrap();
    assert_eq!(finality.finalized().number, 3);
    let halted = finality.halted().unwrap();
    assert_eq!(
        halted,
        FinalityError::ForcedChange {
            at: 2,
            authenticated: true
        }
    );
    assert!(halted.to_string().contains("new checkpoint is needed"));
    assert!(finality.checkpoint(0, "x".into()).is_none());
    // Neither set moves it on.
    for (key, set_id) in [(&alice_key, 0), (&bob_key, 1)] {
        let error = finality
            .advance(&c.range(4, 4), &justification(key, &c.hashes[4], 4, set_id))
            .unwrap_err();
        assert_eq!(error, halted);
    }
    assert_eq!(finality.finalized().number, 3);
}

/// Weights, not heads: {A: 3, B: 1, C: 1} needs 4 of 5. A and B (two of three signers, which
/// a count of heads would refuse) pass; B and C (two of three, 2 of 5) and A alone fail.
#[test]
fn signers_are_weighed_not_counted() {
    let (a, b, c) = (voter(1), voter(2), voter(3));
    let set = vec![weighted(&a, 3), weighted(&b, 1), weighted(&c, 1)];
    let chain = plain_chain();
    let target = (&chain.hashes[1], 1);

    for signers in [&[&b, &c][..], &[&a][..]] {
        let mut finality = start_with(&chain, set.clone());
        let error = finality
            .advance(&chain.range(1, 1), &signed_by(signers, target.0, 1, 0))
            .unwrap_err();
        assert!(
            matches!(
                error,
                FinalityError::Justification {
                    error: JustificationError::InsufficientWeight {
                        needed: 4,
                        total: 5,
                        ..
                    },
                    ..
                }
            ),
            "{error}"
        );
        assert!(
            error.to_string().contains("more than two thirds"),
            "{error}"
        );
    }
    let mut finality = start_with(&chain, set.clone());
    finality
        .advance(&chain.range(1, 1), &signed_by(&[&a, &b], target.0, 1, 0))
        .unwrap();

    // Two authorities of weight u64::MAX and one of 2: their sum wraps a u64 to 0, where any
    // signature would then pass. Summed wide, C alone carries 2 of 2^65: refused.
    let set = vec![
        weighted(&a, u64::MAX),
        weighted(&b, u64::MAX),
        weighted(&c, 2),
    ];
    let mut finality = start_with(&chain, set.clone());
    let error = finality
        .advance(&chain.range(1, 1), &signed_by(&[&c], target.0, 1, 0))
        .unwrap_err();
    assert!(
        matches!(
            error,
            FinalityError::Justification {
                error: JustificationError::InsufficientWeight { signed: 2, .. },
                ..
            }
        ),
        "{error}"
    );
    finality
        .advance(&chain.range(1, 1), &signed_by(&[&a, &b], target.0, 1, 0))
        .unwrap();

    // Signing twice (an equivocation, which GRANDPA commits may carry) does not double a signer's
    // weight: A twice is still 1 of 2.
    let mut finality = start_with(&chain, vec![weighted(&a, 1), weighted(&b, 1)]);
    let error = finality
        .advance(&chain.range(1, 1), &signed_by(&[&a, &a], target.0, 1, 0))
        .unwrap_err();
    assert!(
        matches!(
            error,
            FinalityError::Justification {
                error: JustificationError::InsufficientWeight { signed: 1, .. },
                ..
            }
        ),
        "{error}"
    );
    finality
        .advance(
            &chain.range(1, 1),
            &signed_by(&[&a, &b, &a], target.0, 1, 0),
        )
        .unwrap();
}

/// Precommits may target descendants of the justified block, linked through the vote ancestry
/// headers. A link left out, a header no precommit needs, and a precommit on a sibling of the
/// target (another fork) are each refused.
#[test]
fn vote_ancestry_must_link_every_precommit_to_the_target_and_nothing_else() {
    let (a, b, c) = (voter(1), voter(2), voter(3));
    let set = vec![authority(&a), authority(&b), authority(&c)];
    let chain = plain_chain();
    let h = &chain.hashes;
    let target = (&h[2], 2u32);
    let fresh = || start_with(&chain, set.clone());

    // A on block 4, B on block 3, C on the target: ancestry 4 → 3 → 2.
    let votes = [(&a, h[4], 4), (&b, h[3], 3), (&c, h[2], 2)];
    let ancestry = vec![chain.headers[4].clone(), chain.headers[3].clone()];
    let mut finality = fresh();
    finality
        .advance(
            &chain.range(1, 2),
            &justification_of(target, &votes, 0, &ancestry),
        )
        .unwrap();
    assert_eq!(finality.finalized().number, 2);

    let refused = |votes: &[(&SigningKey, [u8; 32], u32)], ancestry: &[Vec<u8>]| {
        let mut finality = fresh();
        let error = finality
            .advance(
                &chain.range(1, 2),
                &justification_of(target, votes, 0, ancestry),
            )
            .unwrap_err();
        assert_eq!(finality.finalized().number, 0);
        match error {
            FinalityError::Justification { error, .. } => error,
            other => panic!("not a justification error: {other}"),
        }
    };

    // Block 3's header left out: block 4 does not link.
    let error = refused(&votes, &[chain.headers[4].clone()]);
    assert!(
        matches!(error, JustificationError::NotDescendant { number: 4, .. }),
        "{error}"
    );
    // Block 5's header rides along, needed by no precommit.
    let mut extra = ancestry.clone();
    extra.push(chain.headers[5].clone());
    let error = refused(&votes, &extra);
    assert_eq!(error, JustificationError::UnusedAncestry { count: 1 });
    // A precommit below the target.
    let error = refused(&[(&a, h[1], 1), (&b, h[2], 2), (&c, h[2], 2)], &[]);
    assert!(
        matches!(error, JustificationError::BelowTarget { number: 1, .. }),
        "{error}"
    );

    // C precommits to a sibling of block 2 (another fork, child of block 1).
    let sibling = header(&h[1], 2, 0x5b, &[]);
    let sibling_hash = blake2_256(&sibling);
    let error = refused(&[(&a, h[2], 2), (&b, h[2], 2), (&c, sibling_hash, 2)], &[]);
    assert!(
        matches!(error, JustificationError::NotDescendant { number: 2, .. }),
        "{error}"
    );
    // Or to a child of that sibling, its ancestry given: still not on the target's branch.
    let nephew = header(&sibling_hash, 3, 0x5b, &[]);
    let error = refused(
        &[(&a, h[2], 2), (&b, h[2], 2), (&c, blake2_256(&nephew), 3)],
        std::slice::from_ref(&nephew),
    );
    assert!(
        matches!(error, JustificationError::NotDescendant { number: 3, .. }),
        "{error}"
    );
    // An ancestry header that claims another height than its place on the walk.
    let liar = header(&h[2], 7, 0x33, &[]);
    let error = refused(
        &[(&a, h[2], 2), (&b, h[2], 2), (&c, blake2_256(&liar), 3)],
        &[liar],
    );
    assert!(
        matches!(error, JustificationError::NotDescendant { .. }),
        "{error}"
    );
}

mod follower {
    //! The follower's `Advance`, driven by hand: what it asks, what it takes.
    use super::*;
    use taoscope_light_client::verified::follower::{
        Advance, Follower, MAX_HEADER_BYTES, Request, Response, Stop,
    };

    fn follower(chain: &Chain, alice: &Authority) -> Follower {
        Follower::new(&Checkpoint {
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

    /// Answers `advance`'s questions from `answer` until it stops; the questions asked.
    fn drive(
        advance: &mut Advance,
        follower: &mut Follower,
        answer: impl Fn(&Request) -> Response,
    ) -> (Vec<Request>, Result<(), Stop>) {
        let mut asked = Vec::new();
        while let Some(request) = advance.request() {
            let response = answer(&request);
            asked.push(request);
            if let Err(stop) = advance.respond(follower, response) {
                return (asked, Err(stop));
            }
        }
        (asked, Ok(()))
    }

    /// An honest endpoint of `chain`: its head is block 6, justified by Alice; its finality
    /// proofs carry `with_headers` of the headers between.
    fn honest<'c>(
        chain: &'c Chain,
        alice: &'c SigningKey,
        with_headers: std::ops::RangeInclusive<usize>,
    ) -> impl Fn(&Request) -> Response + 'c {
        move |request| match request {
            Request::FinalizedHead => Response::Hash(chain.hashes[6]),
            Request::Header(hash) => {
                let index = chain.hashes.iter().position(|h| h == hash).unwrap();
                Response::Header(chain.headers[index].clone())
            }
            Request::FinalityProof { .. } => Response::Justification {
                justification: Some(justification(alice, &chain.hashes[6], 6, 0)),
                headers: chain.headers[with_headers.clone()].to_vec(),
            },
            Request::BlockJustification(_) => Response::Justification {
                justification: None,
                headers: Vec::new(),
            },
        }
    }

    #[test]
    fn headers_that_come_with_the_proof_save_the_round_trips() {
        let alice_key = voter(1);
        let alice = authority(&alice_key);
        let chain = plain_chain();

        // Substrate's proofs carry the headers after the block asked for: only block 1 is
        // fetched on its own.
        let mut follower = follower(&chain, &alice);
        let mut advance = Advance::new();
        let (asked, outcome) = drive(
            &mut advance,
            &mut follower,
            honest(&chain, &alice_key, 2..=6),
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(follower.finalized().number, 6);
        let headers: Vec<_> = asked
            .iter()
            .filter(|r| matches!(r, Request::Header(_)))
            .collect();
        assert_eq!(headers.len(), 2, "the head's, and block 1's: {asked:?}");

        // Without them, each is fetched; with headers of another chain, those are ignored.
        let mut follower = super::follower::follower(&chain, &alice);
        let (asked, outcome) = drive(
            &mut Advance::new(),
            &mut follower,
            honest(&chain, &alice_key, 0..=0),
        );
        assert_eq!(outcome, Ok(()));
        assert_eq!(follower.finalized().number, 6);
        assert_eq!(
            asked
                .iter()
                .filter(|r| matches!(r, Request::Header(_)))
                .count(),
            7
        );
    }

    #[test]
    fn a_lagging_endpoint_is_no_liar_but_a_header_out_of_place_is() {
        let alice_key = voter(1);
        let alice = authority(&alice_key);
        let chain = plain_chain();
        let mut follower = follower(&chain, &alice);
        drive(
            &mut Advance::new(),
            &mut follower,
            honest(&chain, &alice_key, 2..=6),
        )
        .1
        .unwrap();

        // Its head is block 3, behind our 6: not believed, not a lie.
        let lagging = |request: &Request| match request {
            Request::FinalizedHead => Response::Hash(chain.hashes[3]),
            other => honest(&chain, &alice_key, 0..=0)(other),
        };
        let (_, outcome) = drive(&mut Advance::new(), &mut follower, lagging);
        assert!(
            matches!(&outcome, Err(Stop::UpToDate(Some(why))) if why.contains("behind")),
            "{outcome:?}"
        );

        // A header of another height than the walk down needs, and one too large to be a
        // header, are lies.
        let mut fresh = super::follower::follower(&chain, &alice);
        let misplaced = |request: &Request| match request {
            Request::FinalizedHead => Response::Hash(chain.hashes[2]),
            Request::FinalityProof { .. } => Response::Justification {
                // Block 2's hash, but claimed as block 3 by the justification.
                justification: Some(justification(&alice_key, &chain.hashes[2], 3, 0)),
                headers: Vec::new(),
            },
            other => honest(&chain, &alice_key, 0..=0)(other),
        };
        let (_, outcome) = drive(&mut Advance::new(), &mut fresh, misplaced);
        assert!(
            matches!(&outcome, Err(Stop::Lie(why)) if why.contains("needs #3")),
            "{outcome:?}"
        );
        let huge = header(&chain.hashes[0], 1, 9, &[]);
        let mut huge = huge;
        huge.truncate(huge.len() - 1);
        let padding = vec![0u8; MAX_HEADER_BYTES];
        huge.push(4); // one digest item: Other
        huge.push(0);
        padding.encode_to(&mut huge);
        let huge_hash = blake2_256(&huge);
        let oversized = |request: &Request| match request {
            Request::FinalizedHead => Response::Hash(huge_hash),
            Request::Header(hash) if *hash == huge_hash => Response::Header(huge.clone()),
            Request::FinalityProof { .. } => Response::Justification {
                justification: Some(justification(&alice_key, &huge_hash, 1, 0)),
                headers: Vec::new(),
            },
            other => honest(&chain, &alice_key, 0..=0)(other),
        };
        let mut fresh = super::follower::follower(&chain, &alice);
        let (_, outcome) = drive(&mut Advance::new(), &mut fresh, oversized);
        assert!(
            matches!(&outcome, Err(Stop::Lie(why)) if why.contains("at most")),
            "{outcome:?}"
        );
        assert_eq!(fresh.finalized().number, 0);
    }
}
