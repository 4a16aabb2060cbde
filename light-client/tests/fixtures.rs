//! The codec against real recorded chain data (`../shared/fixtures/`, see its README): metadata,
//! storage keys and values, calls, signing payloads, extrinsics, block 67 and its events, and
//! `state_call` results, byte for byte.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly on bad fixtures

mod common;

use serde_json::{Map, Value, json};
use taoscope_light_client::extrinsic::{self, Mortality, Scheme, Transaction};
use taoscope_light_client::header::Header;
use taoscope_light_client::hex::to_hex;
use taoscope_light_client::metadata::{Metadata, MetadataError};
use taoscope_light_client::types::AccountInfo;
use taoscope_light_client::{runtime_api, storage, value};

fn v14() -> Metadata {
    common::metadata("localnet_spec461_metadata_v14.hex")
}

fn v15() -> Metadata {
    common::metadata("localnet_spec461_metadata_at_version15_option.hex")
}

fn hash32(text: &str) -> [u8; 32] {
    common::hex(text).try_into().unwrap()
}

#[test]
fn all_four_recorded_metadata_files_decode() {
    let local = v14();
    assert_eq!(local.version, 14);
    assert_eq!(local.pallets.len(), 28);
    assert_eq!(
        local.runtime_version(),
        Some(("node-subtensor".into(), 461))
    );
    let extensions: Vec<&str> = local
        .extrinsic
        .extensions
        .iter()
        .map(|e| e.identifier.as_str())
        .collect();
    assert_eq!(
        extensions,
        [
            "CheckNonZeroSender",
            "CheckSpecVersion",
            "CheckTxVersion",
            "CheckGenesis",
            "CheckMortality",
            "CheckNonce",
            "CheckWeight",
            "ChargeTransactionPayment",
            "SudoTransactionExtension",
            "CheckShieldedTxValidity",
            "SubtensorTransactionExtension",
            "DrandPriority",
            "CheckMetadataHash"
        ]
    );
    let v15 = v15();
    assert_eq!(v15.version, 15);
    assert_eq!(v15.spec_version(), 461);
    let neurons = v15
        .runtime_api("NeuronInfoRuntimeApi", "get_neurons_lite")
        .unwrap();
    assert_eq!(neurons.inputs.len(), 1);

    // Real finney before dynamic TAO: add_stake(hotkey, amount_staked), no netuid.
    let finney = common::metadata("finney_spec219_block4898328_metadata_v14.hex");
    assert_eq!(finney.spec_version(), 219);
    let add_stake = finney.call("SubtensorModule", "add_stake").unwrap();
    let names: Vec<&str> = add_stake.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hotkey", "amount_staked"]);
    let now = local.call("SubtensorModule", "add_stake").unwrap();
    let names: Vec<&str> = now.fields.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["hotkey", "netuid", "amount_staked"]);

    let testnet = common::metadata("testfinney_spec224_block3867931_metadata_v14.hex");
    // The file is labelled spec 224 by its source; the runtime's own System.Version constant
    // inside it says 233, and the constant is what the runtime reports.
    assert_eq!(testnet.spec_version(), 233);
    assert!(testnet.call("SubtensorModule", "add_stake").is_some());
}

#[test]
fn metadata_errors_say_what_is_wrong() {
    let error = |bytes: &[u8]| Metadata::decode(bytes).err().unwrap();
    assert_eq!(error(&[0]), MetadataError::VersionNotOffered);
    assert_eq!(error(b"not metadata"), MetadataError::NotMetadata);
    assert_eq!(error(b"meta\x0c"), MetadataError::UnsupportedVersion(12));
    let bytes = common::hex(&common::fixture_text("localnet_spec461_metadata_v14.hex"));
    for cut in [5, 100, bytes.len() / 2, bytes.len() - 1] {
        assert!(matches!(error(&bytes[..cut]), MetadataError::Malformed(_)));
    }
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(error(&longer), MetadataError::TrailingBytes(1));
}

#[test]
fn storage_keys_match_the_recorded_ones() {
    let metadata = v14();
    let vectors = common::vectors();
    for case in vectors["storage_keys"].as_array().unwrap() {
        let (pallet, entry) = (
            case["pallet"].as_str().unwrap(),
            case["storage_function"].as_str().unwrap(),
        );
        let parts = case["params"].as_array().unwrap();
        let key = storage::key(&metadata, pallet, entry, parts).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(to_hex(&key), case["key_hex"], "{pallet}.{entry}");
    }
    for case in vectors["query_maps"].as_array().unwrap() {
        let (pallet, entry) = (
            case["pallet"].as_str().unwrap(),
            case["storage_function"].as_str().unwrap(),
        );
        let parts = case["params"].as_array().unwrap();
        let prefix = storage::key(&metadata, pallet, entry, parts).unwrap();
        assert_eq!(to_hex(&prefix), case["prefix_hex"], "{pallet}.{entry}");
    }
}

#[test]
fn storage_values_decode_as_recorded_with_defaults_for_absent_ones() {
    let metadata = v14();
    for case in common::vectors()["storage_values"].as_array().unwrap() {
        let (pallet, entry) = (
            case["pallet"].as_str().unwrap(),
            case["storage_function"].as_str().unwrap(),
        );
        let raw = case["raw_hex"].as_str().map(common::hex);
        let value = storage::read(&metadata, pallet, entry, raw.as_deref()).unwrap();
        assert_eq!(value, case["decoded"], "{pallet}.{entry}");
    }
}

#[test]
fn typed_reads_check_the_runtime_layout_first() {
    let metadata = v14();
    let case = &common::vectors()["storage_values"][0];
    let raw = common::hex(case["raw_hex"].as_str().unwrap());
    let account: AccountInfo = storage::read_typed(&metadata, "System", "Account", Some(&raw))
        .unwrap()
        .unwrap();
    assert_eq!(account.data.free, 999_998_999_833_753);
    assert_eq!(account.nonce, 1);
    // Tempo is a u16: reading it as an account is refused, naming the entry and runtime.
    let error = storage::read_typed::<AccountInfo>(&metadata, "SubtensorModule", "Tempo", None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("SubtensorModule.Tempo at runtime spec 461 is laid out as u16"),
        "{error}"
    );
    let tempo: u16 = storage::read_typed(&metadata, "SubtensorModule", "Tempo", Some(&[100, 0]))
        .unwrap()
        .unwrap();
    assert_eq!(tempo, 100);
}

#[test]
fn storage_errors_name_the_entry() {
    let metadata = v14();
    let error = storage::key(&metadata, "SubtensorModule", "Nope", &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "runtime spec 461 has no storage entry SubtensorModule.Nope"
    );
    let error =
        storage::key(&metadata, "SubtensorModule", "Tempo", &[json!(1), json!(2)]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "SubtensorModule.Tempo takes 1 key parts, not 2"
    );
    let error = storage::key(&metadata, "System", "Account", &[json!("5Grwva")]).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("System.Account, key part 1: "),
        "{error}"
    );
    let error = storage::read(&metadata, "System", "Account", Some(&[1, 2, 3])).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("System.Account: the bytes end inside"),
        "{error}"
    );
}

/// The recorded calls; nested ones (sudo, batch, proxy) take their inner calls as encoded hex.
#[test]
fn calls_encode_byte_for_byte() {
    let metadata = v14();
    let vectors = common::vectors();
    let calls = vectors["calls"].as_array().unwrap();
    let transfer = |to: &str, amount: u64| {
        let args = json!({"dest": to, "value": amount});
        to_hex(
            &extrinsic::encode_call(
                &metadata,
                "Balances",
                "transfer_keep_alive",
                args.as_object().unwrap(),
            )
            .unwrap(),
        )
    };
    let bob = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty";
    let charlie = "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y";
    for case in calls {
        let (pallet, call) = (
            case["module"].as_str().unwrap(),
            case["function"].as_str().unwrap(),
        );
        let args: Map<String, Value> = match (pallet, call) {
            ("Sudo", "sudo") => {
                let remark = extrinsic::encode_call(
                    &metadata,
                    "System",
                    "remark",
                    json!({"remark": "0xdeadbeef"}).as_object().unwrap(),
                )
                .unwrap();
                Map::from_iter([("call".into(), json!(to_hex(&remark)))])
            }
            ("Utility", "batch") => Map::from_iter([(
                "calls".into(),
                json!([transfer(bob, 1), transfer(charlie, 2)]),
            )]),
            ("Proxy", "proxy") => Map::from_iter([
                ("real".into(), case["params"]["real"].clone()),
                (
                    "force_proxy_type".into(),
                    case["params"]["force_proxy_type"].clone(),
                ),
                ("call".into(), json!(transfer(bob, 1))),
            ]),
            _ => case["params"].as_object().unwrap().clone(),
        };
        let encoded = extrinsic::encode_call(&metadata, pallet, call, &args)
            .unwrap_or_else(|e| panic!("{pallet}.{call}: {e}"));
        assert_eq!(to_hex(&encoded), case["data_hex"], "{pallet}.{call}");
    }
    assert_eq!(transfer(bob, 12345), calls[0]["data_hex"]);
}

#[test]
fn call_errors_name_the_call_and_argument() {
    let metadata = v14();
    let error = |pallet: &str, call: &str, args: Value| {
        extrinsic::encode_call(&metadata, pallet, call, args.as_object().unwrap())
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        error("SubtensorModule", "stake_everything", json!({})),
        "runtime spec 461 has no call SubtensorModule.stake_everything"
    );
    assert_eq!(
        error(
            "SubtensorModule",
            "add_stake",
            json!({"hotkey": "5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ", "netuid": 1})
        ),
        "SubtensorModule.add_stake: the argument `amount_staked` is missing"
    );
    assert!(
        error(
            "SubtensorModule",
            "add_stake",
            json!({"hotkey": "5G6F", "netuid": 1, "amount_staked": 1})
        )
        .starts_with("SubtensorModule.add_stake, argument `hotkey`: ")
    );
    assert!(error("SubtensorModule", "add_stake", json!({"hotkey": "5G6Fyo6U2fDhJXDJGp4Dr6XViVCdPcryiyLBDsusguSRcYvJ", "netuid": 70000, "amount_staked": 1})).contains("argument `netuid`"));
    assert!(
        error("SubtensorModule", "add_stake", json!({"amount": 1}))
            .contains("has no argument `amount`")
    );
}

fn transaction(case: &Value, genesis: [u8; 32]) -> Transaction {
    let mortality =
        match &case["era"] {
            Value::String(s) if s == "00" => Mortality::Immortal,
            era => Mortality::Mortal {
                period: era["period"].as_u64().unwrap(),
                birth_number: era["current"].as_u64().unwrap(),
                birth_hash: hash32(case["era_birth_block_hash"].as_str().unwrap_or(
                    "0xd9f2d5c7e6b387e32b3f41d7808094cc966fbbbbd4709d96471c52d9b1a2b2aa",
                )),
            },
        };
    Transaction {
        spec_version: 461,
        transaction_version: 1,
        genesis_hash: genesis,
        mortality,
        nonce: case["nonce"].as_u64().unwrap() as u32,
        tip: case["tip"].as_u64().unwrap(),
        metadata_hash: None,
    }
}

#[test]
fn signing_payloads_and_extrinsics_match_byte_for_byte() {
    let metadata = v14();
    let vectors = common::vectors();
    let genesis = hash32(vectors["network"]["genesis_hash"].as_str().unwrap());
    for case in vectors["signature_payloads"].as_array().unwrap() {
        let tx = transaction(case, genesis);
        let call = common::hex(case["call_data_hex"].as_str().unwrap());
        let (explicit, implicit) = extrinsic::extensions(&metadata, &tx).unwrap();
        let payload = extrinsic::signing_payload(&call, &explicit, &implicit);
        assert_eq!(to_hex(&payload), case["payload_hex"]);
    }
    for case in vectors["extrinsics_dummy_signature"].as_array().unwrap() {
        let tx = transaction(case, genesis);
        let call = common::hex(case["call_data_hex"].as_str().unwrap());
        let (explicit, _) = extrinsic::extensions(&metadata, &tx).unwrap();
        let account = hash32(case["public_key_hex"].as_str().unwrap());
        let signature: [u8; 64] = common::hex(case["signature_hex"].as_str().unwrap())
            .try_into()
            .unwrap();
        let xt =
            extrinsic::signed_extrinsic(&call, &explicit, &account, Scheme::Sr25519, &signature);
        assert_eq!(to_hex(&xt), case["extrinsic_hex"]);
        assert_eq!(
            to_hex(&extrinsic::extrinsic_hash(&xt)),
            case["extrinsic_hash"]
        );
    }
}

#[test]
fn block_67_header_hashes_to_its_recorded_hash_and_its_events_decode() {
    let metadata = v14();
    let vectors = common::vectors();
    let block = &vectors["block_67"];
    let header = Header::decode(&common::hex(
        block["scale_encoded_header_hex"].as_str().unwrap(),
    ))
    .unwrap();
    assert_eq!(to_hex(&header.hash), block["block_hash"]);
    assert_eq!(header.number, 67);
    assert_eq!(
        to_hex(&header.parent_hash),
        block["decoded_header"]["parentHash"]
    );
    assert_eq!(
        to_hex(&header.state_root),
        block["decoded_header"]["stateRoot"]
    );
    assert_eq!(
        header.digest.len(),
        block["decoded_header"]["digest"]["logs"]
            .as_array()
            .unwrap()
            .len()
    );

    let events = &vectors["events_block_67"];
    let key = storage::key(&metadata, "System", "Events", &[]).unwrap();
    assert_eq!(to_hex(&key), events["storage_key"]);
    let raw = common::hex(events["raw_hex"].as_str().unwrap());
    let decoded = storage::read(&metadata, "System", "Events", Some(&raw)).unwrap();
    let golden = common::fixture_json("bittensor-11.3.0_golden_localnet_spec461.json");
    let recorded = golden["events"].get("decoded").cloned();
    let list = decoded.as_array().unwrap();
    assert!(!list.is_empty());
    if let Some(recorded) = recorded {
        assert_eq!(&decoded, &recorded);
    }
    // The transfer's fee withdrawal is there, from Alice.
    assert!(
        list.iter()
            .any(|e| e["module_id"] == "Balances" && e["event_id"] == "Withdraw"),
        "{}",
        common::short(&decoded)
    );
}

#[test]
fn state_call_results_decode_as_recorded() {
    let metadata = v15();
    let vectors = common::vectors();
    for case in vectors["runtime_calls_state_call"].as_array().unwrap() {
        let (api, method) = (
            case["api"].as_str().unwrap(),
            case["method"].as_str().unwrap(),
        );
        let info = metadata
            .runtime_api(api, method)
            .unwrap_or_else(|| panic!("{api}.{method}"));
        // Arguments encode as recorded.
        let mut args = Vec::new();
        for ((_, ty), param) in info.inputs.iter().zip(case["params"].as_array().unwrap()) {
            value::encode(&metadata.types, *ty, param, &mut args).unwrap();
        }
        assert_eq!(
            to_hex(&args).trim_start_matches("0x"),
            case["encoded_params_hex"]
                .as_str()
                .unwrap()
                .trim_start_matches("0x"),
            "{api}.{method}"
        );
        let raw = common::hex(case["raw_hex"].as_str().unwrap());
        let decoded = value::decode_all(&metadata.types, info.output, &raw)
            .unwrap_or_else(|e| panic!("{api}.{method}: {e}"));
        assert_eq!(decoded, case["decoded"], "{api}.{method}");
    }
}

#[test]
fn constants_decode_as_recorded() {
    let metadata = v14();
    for case in common::vectors()["constants"].as_array().unwrap() {
        let (pallet, name) = (
            case["module"].as_str().unwrap(),
            case["name"].as_str().unwrap(),
        );
        let constant = metadata.constant(pallet, name).unwrap();
        let decoded = value::decode_all(&metadata.types, constant.ty, &constant.value).unwrap();
        assert_eq!(decoded, case["decoded"], "{pallet}.{name}");
    }
}

/// Runs a future that is ready at once (the in-process signers').
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(output) => output,
        std::task::Poll::Pending => panic!("not ready"),
    }
}

#[test]
fn dev_accounts_derive_to_their_well_known_keys() {
    use taoscope_light_client::extrinsic::Signer;
    use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
    // //Alice is the account every spec-461 fixture signs with (5GrwvaEF…).
    let alice = Sr25519Signer::dev("Alice").unwrap();
    assert_eq!(
        to_hex(&alice.account()),
        "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
    );
    let bob = Sr25519Signer::dev("Bob").unwrap();
    assert_eq!(
        to_hex(&bob.account()),
        "0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48"
    );
    // GRANDPA's //Alice (ed25519).
    assert_eq!(
        to_hex(&Ed25519Signer::dev("Alice").account()),
        "0x88dc3417d5058ec4b4503e0c12ea1a0a89be200fe98922423d4334014fa6b0ee"
    );
}

#[test]
fn sr25519_and_ed25519_signers_make_extrinsics_that_verify() {
    use taoscope_light_client::extrinsic::Signer;
    use taoscope_light_client::keys::{Ed25519Signer, Sr25519Signer};
    let metadata = v14();
    let vectors = common::vectors();
    let genesis = hash32(vectors["network"]["genesis_hash"].as_str().unwrap());
    let case = &vectors["signature_payloads"][1];
    let tx = transaction(case, genesis);
    let call = common::hex(case["call_data_hex"].as_str().unwrap());
    let (explicit, implicit) = extrinsic::extensions(&metadata, &tx).unwrap();
    let payload = extrinsic::signing_payload(&call, &explicit, &implicit);

    let alice = Sr25519Signer::dev("Alice").unwrap();
    let xt = ready(extrinsic::sign(&metadata, &tx, &call, &alice)).unwrap();
    // Same bytes as the recorded extrinsic but for the (random) signature.
    let recorded = common::hex(
        vectors["extrinsics_dummy_signature"][1]["extrinsic_hex"]
            .as_str()
            .unwrap(),
    );
    let mut tx11 = tx.clone();
    tx11.nonce = 11;
    let xt11 = ready(extrinsic::sign(&metadata, &tx11, &call, &alice)).unwrap();
    assert_eq!(xt11.len(), recorded.len());
    assert_eq!(xt11[..37], recorded[..37]);
    assert_eq!(xt11[37 + 64..], recorded[37 + 64..]);
    let signature: [u8; 64] = xt[37..37 + 64].try_into().unwrap();
    assert!(Sr25519Signer::verify(
        &alice.account(),
        &payload,
        &signature
    ));
    assert!(!Sr25519Signer::verify(
        &alice.account(),
        b"another payload",
        &signature
    ));

    let ed = Ed25519Signer::dev("Alice");
    let xt = ready(extrinsic::sign(&metadata, &tx, &call, &ed)).unwrap();
    assert_eq!(xt[36], 0, "MultiSignature::Ed25519");
    let signature: [u8; 64] = xt[37..37 + 64].try_into().unwrap();
    assert!(Ed25519Signer::verify(&ed.account(), &payload, &signature));
}

#[test]
fn long_payloads_are_signed_as_their_hash() {
    let long = vec![7u8; 300];
    assert_eq!(
        extrinsic::signing_payload(&long, &[], &[]),
        taoscope_light_client::hashing::blake2_256(&long).to_vec()
    );
    assert_eq!(
        extrinsic::signing_payload(&long[..256], &[], &[]).len(),
        256
    );
}

#[test]
fn the_rfc_0078_metadata_hash_matches_the_recorded_one() {
    use taoscope_light_client::metadata::{ChainInfo, metadata_hash};
    let vectors = common::vectors();
    let case = &vectors["metadata_hash_rfc78"];
    let bytes = common::hex(&common::fixture_text(
        "localnet_spec461_metadata_at_version15_option.hex",
    ));
    let chain = ChainInfo {
        spec_name: case["spec_name"].as_str().unwrap().into(),
        spec_version: case["spec_version"].as_u64().unwrap() as u32,
        ss58_prefix: case["base58_prefix"].as_u64().unwrap() as u16,
        decimals: case["decimals"].as_u64().unwrap() as u8,
        token_symbol: case["token_symbol"].as_str().unwrap().into(),
    };
    let hash = metadata_hash(&bytes, &chain).unwrap();
    assert_eq!(
        to_hex(&hash),
        format!("0x{}", case["metadata_hash_hex"].as_str().unwrap())
    );
    // What the worker signs with: the same hash from the metadata alone (its version, its
    // SS58 prefix, Bittensor's token); none from V14, over which the hash is not defined.
    assert_eq!(
        taoscope_light_client::wallet::metadata_hash_to_sign(&v15(), &bytes).unwrap(),
        Some(hash)
    );
    assert_eq!(
        taoscope_light_client::wallet::metadata_hash_to_sign(&v14(), &bytes).unwrap(),
        None
    );

    // Signed with CheckMetadataHash enabled, the implicit data ends in Some(hash), as recorded.
    let metadata = v15();
    let genesis = hash32(vectors["network"]["genesis_hash"].as_str().unwrap());
    let tx = Transaction {
        spec_version: 461,
        transaction_version: 1,
        genesis_hash: genesis,
        mortality: Mortality::Immortal,
        nonce: 0,
        tip: 0,
        metadata_hash: Some(hash),
    };
    let (explicit, implicit) = extrinsic::extensions(&metadata, &tx).unwrap();
    assert_eq!(
        to_hex(&explicit).trim_start_matches("0x"),
        case["included_in_extrinsic_hex"].as_str().unwrap()
    );
    assert_eq!(
        to_hex(&implicit).trim_start_matches("0x"),
        case["included_in_signed_data_hex"].as_str().unwrap()
    );
}

#[test]
fn subnet_hyperparameters_and_vectors_read_with_layout_checks() {
    use std::collections::HashMap;
    use taoscope_light_client::subnet;
    let metadata = v14();
    let vectors = common::vectors();
    // The recorded Tempo of netuid 1, at its recorded key; everything else absent (defaults).
    let tempo = vectors["storage_values"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["storage_function"] == "Tempo")
        .unwrap();
    let mut state: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    state.insert(
        common::hex(tempo["key_hex"].as_str().unwrap()),
        common::hex(tempo["raw_hex"].as_str().unwrap()),
    );
    let params = subnet::hyperparameters(&metadata, &state, 1).unwrap();
    assert_eq!(params.tempo, 100);
    // Defaults are the runtime's own (from the metadata), e.g. κ = 32767 (half of u16).
    let kappa_default = storage::read(&metadata, "SubtensorModule", "Kappa", None).unwrap();
    assert_eq!(json!(params.kappa), kappa_default);
    let uids = subnet::uid_vectors(&metadata, &state, 1).unwrap();
    assert!(uids.consensus.is_empty() && uids.n == 0);
    let row = subnet::row(&metadata, &state, "Weights", 1, 0).unwrap();
    assert!(row.is_empty());

    // Before dynamic TAO (finney spec 219) there was no Yuma3On: the error names it and the spec.
    let old = common::metadata("finney_spec219_block4898328_metadata_v14.hex");
    let error = subnet::hyperparameters(&old, &state, 1)
        .unwrap_err()
        .to_string();
    assert!(error.contains("spec 219"), "{error}");
}

#[test]
fn the_product_runtime_apis_exist_at_spec_461_and_refuse_bad_calls() {
    let metadata = v15();
    for (api, method, args) in [
        ("SubnetInfoRuntimeApi", "get_metagraph", json!([1])),
        ("SubnetInfoRuntimeApi", "get_dynamic_info", json!([1])),
        ("NeuronInfoRuntimeApi", "get_neurons_lite", json!([1])),
        (
            "SubnetInfoRuntimeApi",
            "get_subnet_hyperparams_v2",
            json!([1]),
        ),
        (
            "StakeInfoRuntimeApi",
            "get_stake_info_for_coldkey",
            json!(["5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"]),
        ),
        (
            "SwapRuntimeApi",
            "sim_swap_tao_for_alpha",
            json!([1, 1_000_000_000u64]),
        ),
        ("SwapRuntimeApi", "current_alpha_price", json!([1])),
    ] {
        let request = runtime_api::request(&metadata, api, method, args.as_array().unwrap())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(request.method, format!("{api}_{method}"));
    }
    // A quote decodes into its struct.
    let quote_bytes: Vec<u8> = [1_000_000_000u64, 990_000, 0, 3_000, 0, 7_000]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let quote = runtime_api::swap_quote(&metadata, "sim_swap_tao_for_alpha", &quote_bytes).unwrap();
    assert_eq!(quote.alpha_amount, 990_000);
    assert!(
        runtime_api::swap_quote(&metadata, "sim_swap_tao_for_alpha", &quote_bytes[..40]).is_err()
    );

    let e = runtime_api::request(&metadata, "SwapRuntimeApi", "sim_swap", &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "runtime spec 461 offers no runtime API SwapRuntimeApi.sim_swap (V15 metadata lists them)"
    );
    let e = runtime_api::request(&metadata, "SwapRuntimeApi", "current_alpha_price", &[])
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "SwapRuntimeApi_current_alpha_price takes 1 arguments, not 0"
    );
    let e = runtime_api::request(
        &metadata,
        "SwapRuntimeApi",
        "current_alpha_price",
        &[json!(-1)],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("SwapRuntimeApi_current_alpha_price, argument `netuid`"),
        "{e}"
    );
}

#[test]
fn a_module_error_reads_as_its_pallet_and_name_and_anything_else_as_json() {
    use scale_info::TypeDef;
    use taoscope_light_client::client::dispatch_error_words;
    let metadata = v15();
    let pallet = metadata.pallet("SubtensorModule").unwrap();
    let ty = metadata.types.resolve(pallet.error_ty.unwrap()).unwrap();
    let TypeDef::Variant(variants) = &ty.type_def else {
        panic!("SubtensorModule's error is not an enum")
    };
    let variant = variants
        .variants
        .iter()
        .find(|v| v.name == "NotEnoughBalanceToStake")
        .unwrap();
    // Today's ModuleError carries 4 bytes; older runtimes one byte as a number.
    for error in [
        json!(format!("0x{:02x}000000", variant.index)),
        json!(variant.index),
    ] {
        let words = dispatch_error_words(
            &metadata,
            &json!({"Module": {"index": pallet.index, "error": error}}),
        );
        assert!(
            words.starts_with("SubtensorModule.NotEnoughBalanceToStake"),
            "{words}"
        );
    }
    // A pallet or error the metadata does not have, and other dispatch errors: as given.
    let unknown = json!({"Module": {"index": 250, "error": "0x00000000"}});
    assert_eq!(
        dispatch_error_words(&metadata, &unknown),
        unknown.to_string()
    );
    assert_eq!(
        dispatch_error_words(&metadata, &json!("BadOrigin")),
        "\"BadOrigin\""
    );
}

/// Spec 461's staking moves, read from its metadata alone: every move of the staking issue is
/// there, carried by the limit variant where the runtime has one, with its arguments by kind;
/// and a call built from a move's arguments is the recorded `add_stake`.
#[test]
fn spec_461_offers_every_staking_move_with_safe_variants_first() {
    use taoscope_light_client::staking::{self, ArgKind as K};
    let metadata = v14();
    let moves = staking::moves(&metadata);
    let shape = |label: &str| {
        let m = moves
            .iter()
            .find(|m| m.label == label)
            .unwrap_or_else(|| panic!("{label} missing"));
        let args: Vec<(&str, K)> = m.args.iter().map(|a| (a.name.as_str(), a.kind)).collect();
        (m.call.clone(), args)
    };
    assert_eq!(
        shape("Add stake"),
        (
            "add_stake_limit".into(),
            vec![
                ("hotkey", K::Account),
                ("netuid", K::Netuid),
                ("amount_staked", K::Amount),
                ("limit_price", K::LimitPrice),
                ("allow_partial", K::Flag),
            ]
        )
    );
    let (remove, removed) = shape("Remove stake");
    assert_eq!(remove, "remove_stake_limit");
    // Stake held per subnet is alpha: what comes out of it is counted in alpha, not τ.
    assert!(
        removed.contains(&("amount_unstaked", K::Alpha)),
        "{removed:?}"
    );
    assert_eq!(shape("Swap stake").0, "swap_stake_limit");
    assert_eq!(
        shape("Transfer TAO"),
        (
            "transfer_keep_alive".into(),
            vec![("dest", K::Account), ("value", K::Amount)]
        )
    );
    // Unstaking everything is safe staking too: its optional limit is asked as a limit.
    assert_eq!(shape("Unstake all").0, "remove_stake_full_limit");
    assert!(
        shape("Unstake all")
            .1
            .contains(&("limit_price", K::LimitPrice))
    );
    for label in ["Move stake", "Transfer stake"] {
        shape(label);
    }
    let moved = shape("Move stake").1;
    assert!(
        moved.contains(&("origin_netuid", K::Netuid))
            && moved.contains(&("destination_hotkey", K::Account))
            && moved.contains(&("alpha_amount", K::Alpha)),
        "{moved:?}"
    );
    // The plain variant is still the runtime's: built by name, it is the recorded bytes.
    let recorded = &common::vectors()["calls"][2];
    let call = extrinsic::encode_call(
        &metadata,
        "SubtensorModule",
        "add_stake",
        recorded["params"].as_object().unwrap(),
    )
    .unwrap();
    assert_eq!(to_hex(&call), recorded["data_hex"]);
}

/// A transaction's fee from `TransactionPaymentApi.query_info`: the same result bytes read by
/// spec 461's V15 types and by the V14 layout give the same fee (the recorded golden transfer's
/// weight and fee), and bytes of any other length are refused rather than misread.
#[test]
fn fees_decode_by_the_v15_types_and_the_v14_layout_alike() {
    use parity_scale_codec::{Compact, Encode};
    let golden = common::fixture_json("bittensor-11.3.0_golden_localnet_spec461.json");
    let weight = &golden["payment_info"]["weight"];
    let fee = golden["receipt"]["total_fee_amount"].as_u64().unwrap();
    let mut bytes = Compact(weight["ref_time"].as_u64().unwrap()).encode();
    bytes.extend(Compact(weight["proof_size"].as_u64().unwrap()).encode());
    bytes.push(0); // DispatchClass::Normal
    bytes.extend(fee.to_le_bytes());
    assert_eq!(runtime_api::decode_fee(&v15(), &bytes).unwrap(), fee);
    assert_eq!(runtime_api::decode_fee(&v14(), &bytes).unwrap(), fee);
    for bad in [
        &bytes[..bytes.len() - 1],
        &[bytes.as_slice(), &[0]].concat()[..],
    ] {
        assert!(runtime_api::decode_fee(&v14(), bad).is_err());
        assert!(runtime_api::decode_fee(&v15(), bad).is_err());
    }
    let request = runtime_api::fee_request(&[0x08, 0xaa, 0xbb]);
    assert_eq!(request.method, "TransactionPaymentApi_query_info");
    assert_eq!(request.data, [0x08, 0xaa, 0xbb, 3, 0, 0, 0]);
}

/// Which runtime APIs a runtime implements, from its version's `apis` (in V14 metadata too):
/// spec 461 offers V15 metadata (Metadata API 2) and prices transactions; a name it lacks is
/// `None`.
#[test]
fn runtime_api_versions_read_from_the_runtime_version() {
    for metadata in [v14(), v15()] {
        assert_eq!(metadata.api_version("Metadata"), Some(2));
        assert!(
            metadata
                .api_version("TransactionPaymentApi")
                .is_some_and(|v| v >= 2)
        );
        assert_eq!(metadata.api_version("NoSuchApi"), None);
    }
    let finney = common::metadata("finney_spec219_block4898328_metadata_v14.hex");
    assert!(finney.api_version("Core").is_some());
}

/// Today's portfolio: spec 461 keeps no `Stake` map (stake is alpha per hotkey, coldkey and
/// subnet), so positions come from `StakeInfoRuntimeApi`, decoded by the V15 types. The recorded
/// `StakeInfo` (a zero stake on subnet 1) reads as no position, and the same record with a stake
/// reads as one on its hotkey and subnet; a record without a stake is refused.
#[test]
fn todays_stake_reads_from_the_recorded_stake_info() {
    use taoscope_light_client::metagraph::{StakePosition, stake_positions_from_info};
    let metadata = v15();
    assert!(metadata.storage("SubtensorModule", "Stake").is_none());
    assert!(
        metadata
            .runtime_api("StakeInfoRuntimeApi", "get_stake_info_for_coldkey")
            .is_some()
    );
    let case = &common::vectors()["runtime_calls_state_call"][2];
    assert_eq!(case["method"], "get_stake_info_for_hotkey_coldkey_netuid");
    let info = runtime_api::decode(
        &metadata,
        "StakeInfoRuntimeApi",
        "get_stake_info_for_hotkey_coldkey_netuid",
        &common::hex(case["raw_hex"].as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(
        stake_positions_from_info(std::slice::from_ref(&info)).unwrap(),
        vec![]
    );
    let mut staked = info.clone();
    staked["stake"] = json!(1_500_000_000u64);
    assert_eq!(
        stake_positions_from_info(&[staked]).unwrap(),
        vec![StakePosition {
            hotkey: case["params"][0].as_str().unwrap().into(),
            stake: 1_500_000_000,
            netuid: Some(1),
            tao_value: None,
        }]
    );
    let mut broken = info;
    broken.as_object_mut().unwrap().remove("stake");
    assert!(stake_positions_from_info(&[broken]).is_err());
}
