//! Blocks authored on the development genesis by the real runtime: sealed, finalized, and
//! checked by smoldot's own verifier as a light client would check them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use serde_json::json;
use smoldot::finality::verify;
use smoldot::header;
use smoldot::verify::header_only;
use std::num::NonZeroU64;
use std::time::{Duration, Instant};
use taoscope_light_client::extrinsic::Signer;
use taoscope_light_client::extrinsic::{self, Mortality, Transaction};
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::storage;
use taoscope_localnet::chain::{BLOCK_NUMBER_BYTES, Chain, Outcome};
use taoscope_localnet::genesis::{ChainSpec, apply_dev_overrides};

fn dev_chain() -> Chain {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/chainspecs/bittensor-testnet-genesis.raw.json"
    );
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e} (tests read ../shared/ beside the repo)"));
    let mut spec = ChainSpec::parse(&text).unwrap();
    apply_dev_overrides(&mut spec).unwrap();
    Chain::new(spec).unwrap()
}

#[test]
fn empty_blocks_are_authored_and_finalized() {
    let mut chain = dev_chain();
    let first_slot = 1_000_000;
    let started = Instant::now();
    for i in 0..20 {
        chain.author(first_slot + i, &[]).unwrap();
    }
    eprintln!("20 blocks in {:?}", started.elapsed());
    let best = chain.best();
    assert_eq!(best.number, 20);
    let header = header::decode(&best.header, BLOCK_NUMBER_BYTES).unwrap();
    assert_eq!(header.number, 20);
    assert_eq!(header.parent_hash, &chain.block(19).unwrap().hash);
    assert_eq!(best.body.len(), 1, "the timestamp inherent alone");

    // smoldot's verifier, as a light client runs it: the Aura seal and slot of every header,
    // and the GRANDPA justification of every block.
    let alice = Sr25519Signer::dev("Alice").unwrap().account();
    let aura = [header::AuraAuthority { public_key: alice }];
    let grandpa = Ed25519Signer::dev("Alice").account();
    for n in 1..=20u64 {
        let parent = chain.block(n - 1).unwrap();
        let block = chain.block(n).unwrap();
        let parent_header = header::decode(&parent.header, BLOCK_NUMBER_BYTES).unwrap();
        let block_header = header::decode(&block.header, BLOCK_NUMBER_BYTES).unwrap();
        header_only::verify(header_only::Config {
            parent_block_header: parent_header,
            block_header,
            block_number_bytes: BLOCK_NUMBER_BYTES,
            consensus: header_only::ConfigConsensus::Aura {
                current_authorities: header::AuraAuthoritiesIter::from_slice(&aura),
                slot_duration: NonZeroU64::new(12_000).unwrap(),
                now_from_unix_epoch: Duration::from_secs(u64::MAX / 2_000),
                allow_equal_slot_number: false,
            },
            finality: header_only::ConfigFinality::Grandpa,
            allow_unknown_consensus_engines: false,
        })
        .unwrap_or_else(|e| panic!("block {n}: {e}"));
        verify::verify_justification(verify::JustificationVerifyConfig {
            justification: block.justification.as_deref().unwrap(),
            block_number_bytes: BLOCK_NUMBER_BYTES,
            authorities_set_id: 0,
            authorities_list: std::iter::once(&grandpa[..]),
            randomness_seed: [0; 32],
        })
        .unwrap_or_else(|e| panic!("block {n}: {e}"));
    }
}

fn free_balance(chain: &Chain, metadata: &Metadata, account: [u8; 32]) -> u64 {
    let best = chain.best().number;
    let state = chain.state(best).unwrap();
    let key = storage::key(metadata, "System", "Account", &[json!(to_hex(&account))]).unwrap();
    let info = storage::read(
        metadata,
        "System",
        "Account",
        state.get(&key).map(|v| &v[..]),
    )
    .unwrap();
    info["data"]["free"].as_u64().unwrap()
}

#[test]
fn a_signed_transfer_is_included_and_a_bad_one_is_refused_with_the_runtime_reason() {
    let mut chain = dev_chain();
    let metadata = chain.spec().metadata().unwrap();
    let version = chain.runtime().version().unwrap();
    let alice = Sr25519Signer::dev("Alice").unwrap();
    let bob = Sr25519Signer::dev("Bob").unwrap();
    chain.author(1_000_000, &[]).unwrap();

    let tx = |nonce| Transaction {
        spec_version: version.spec_version,
        transaction_version: version.transaction_version.unwrap(),
        genesis_hash: chain.genesis().hash,
        mortality: Mortality::Immortal,
        nonce,
        tip: 0,
        metadata_hash: None,
    };
    let one_tao = 1_000_000_000u64;
    let call = extrinsic::encode_call(
        &metadata,
        "Balances",
        "transfer",
        json!({"dest": to_hex(&bob.account()), "value": one_tao})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let transfer = extrinsic::sign_ready(&metadata, &tx(0), &call, &alice).unwrap();
    // The same nonce again: the runtime refuses it as stale once the first is in.
    let replay = extrinsic::sign_ready(&metadata, &tx(0), &call, &alice).unwrap();
    let bob_before = free_balance(&chain, &metadata, bob.account());

    let outcomes = chain
        .author(1_000_001, &[transfer.clone(), replay])
        .unwrap();
    assert_eq!(outcomes[0], Outcome::Applied);
    assert!(
        matches!(&outcomes[1], Outcome::Invalid(why) if why.contains("Stale") || why.contains("stale")),
        "{outcomes:?}"
    );
    assert_eq!(chain.best().body.len(), 2, "timestamp and the transfer");
    assert_eq!(chain.best().body[1], transfer);
    assert_state_root(&mut chain, 2);
    assert_eq!(
        free_balance(&chain, &metadata, bob.account()),
        bob_before + one_tao
    );

    // Another node re-executes the blocks (the runtime checks state and extrinsics roots) and
    // reaches the same chain; a block with its body changed is refused.
    let mut replica = dev_chain();
    for n in 1..=2 {
        let block = chain.block(n).unwrap();
        replica.import(&block.header, block.body.clone()).unwrap();
        assert_eq!(replica.best(), block);
    }
    assert_eq!(*replica.state(2).unwrap(), *chain.state(2).unwrap());
    let mut tampered = dev_chain();
    let first = chain.block(1).unwrap();
    tampered.import(&first.header, first.body.clone()).unwrap();
    let block = chain.block(2).unwrap();
    let error = tampered
        .import(&block.header, vec![block.body[0].clone()])
        .unwrap_err();
    eprintln!("tampered block: {error}");
}

/// The header's state root is the trie root of the state this node keeps for the block
/// (computed independently, by smoldot's plain trie code), in the runtime's trie version.
fn assert_state_root(chain: &mut Chain, n: u64) {
    let version = chain.runtime().state_version();
    let state = chain.state(n).unwrap();
    let entries: Vec<(&Vec<u8>, &[u8])> = state.iter().map(|(k, v)| (k, &v[..])).collect();
    let root = smoldot::trie::trie_root(version, smoldot::trie::HashFunction::Blake2, &entries);
    let header = header::decode(&chain.block(n).unwrap().header, BLOCK_NUMBER_BYTES).unwrap();
    assert_eq!(to_hex(header.state_root), to_hex(&root), "block {n}");
}

#[test]
fn state_roots_are_the_trie_roots_of_the_states() {
    let mut chain = dev_chain();
    for slot in 1_000_000..1_000_003 {
        chain.author(slot, &[]).unwrap();
    }
    for n in 0..=3 {
        assert_state_root(&mut chain, n);
    }
}

/// Read proofs check out in smoldot's proof decoder against the header's state root: values
/// that are there (small, and hashed out of their node), and keys that are not.
#[test]
fn read_proofs_prove_values_and_absences_against_the_state_root() {
    use taoscope_localnet::proof::{StateTrie, encode_proof};
    let mut chain = dev_chain();
    chain.author(1_000_000, &[]).unwrap();
    let version = chain.runtime().state_version();
    let state = chain.state(1).unwrap();
    let mut trie = StateTrie::new(&state, version);
    let header = header::decode(&chain.block(1).unwrap().header, BLOCK_NUMBER_BYTES).unwrap();
    assert_eq!(&trie.root(), header.state_root);

    let absent = b"no such key".to_vec();
    let mut keys: Vec<Vec<u8>> = state.keys().cloned().collect();
    keys.push(absent.clone());
    let proof = encode_proof(&trie.read_proof(keys.iter().map(Vec::as_slice)));
    let decoded =
        smoldot::trie::proof_decode::decode_and_verify_proof(smoldot::trie::proof_decode::Config {
            proof: &proof[..],
        })
        .unwrap();
    for key in &keys {
        let proven = decoded.storage_value(header.state_root, key).unwrap();
        assert_eq!(
            proven.map(|(v, _)| v),
            state.get(key).map(|v| &v[..]),
            "{}",
            to_hex(key)
        );
    }
    // One key's proof proves that key, not the others.
    let code = b":code".to_vec();
    let small = encode_proof(&trie.read_proof([code.as_slice()]));
    let decoded =
        smoldot::trie::proof_decode::decode_and_verify_proof(smoldot::trie::proof_decode::Config {
            proof: &small[..],
        })
        .unwrap();
    assert!(
        decoded
            .storage_value(header.state_root, &code)
            .unwrap()
            .is_some()
    );
    let whole = encode_proof(&trie.whole_proof());
    assert!(whole.len() >= small.len());
}

/// What smoldot-light asks when it starts from a saved database: a proof of the key of the
/// closest trie node above `:code` (its nibbles cut to whole bytes) and of `:heappages`, from
/// which it reads `:code`'s Merkle value to compare with the runtime it kept, instead of
/// downloading the runtime again.
#[test]
fn proofs_answer_smoldots_runtime_code_hint_request() {
    use smoldot::trie::{self, proof_decode};
    use taoscope_localnet::proof::{StateTrie, encode_proof};
    let mut chain = dev_chain();
    chain.author(1_000_000, &[]).unwrap();
    let version = chain.runtime().state_version();
    let state = chain.state(1).unwrap();
    let mut trie = StateTrie::new(&state, version);
    let header = header::decode(&chain.block(1).unwrap().header, BLOCK_NUMBER_BYTES).unwrap();

    // The closest ancestor of `:code`, from a whole proof (as smoldot learns it when it saves).
    let whole = encode_proof(&trie.whole_proof());
    let whole =
        proof_decode::decode_and_verify_proof(proof_decode::Config { proof: &whole[..] }).unwrap();
    let code: Vec<_> = trie::bytes_to_nibbles(b":code".iter().copied()).collect();
    let ancestor: Vec<_> = whole
        .closest_ancestor_in_proof(header.state_root, code[..code.len() - 1].iter().copied())
        .unwrap()
        .unwrap()
        .collect();
    let expected = whole
        .trie_node_info(header.state_root, ancestor.iter().copied())
        .unwrap()
        .children
        .child(code[ancestor.len()])
        .merkle_value()
        .unwrap()
        .to_vec();

    let key: Vec<u8> = trie::nibbles_to_bytes_truncate(ancestor.iter().copied()).collect();
    let proof = encode_proof(&trie.read_proof([key.as_slice(), b":heappages".as_slice()]));
    let decoded =
        proof_decode::decode_and_verify_proof(proof_decode::Config { proof: &proof[..] }).unwrap();
    let found: Vec<_> = decoded
        .closest_ancestor_in_proof(header.state_root, code[..code.len() - 1].iter().copied())
        .unwrap()
        .unwrap()
        .collect();
    assert_eq!(
        found,
        ancestor,
        "ancestor nibbles {ancestor:?}, key {}",
        to_hex(&key)
    );
    let merkle = decoded
        .trie_node_info(header.state_root, found.iter().copied())
        .unwrap()
        .children
        .child(code[found.len()])
        .merkle_value()
        .unwrap()
        .to_vec();
    assert_eq!(merkle, expected);
    decoded
        .storage_value(header.state_root, b":heappages")
        .unwrap();
}
