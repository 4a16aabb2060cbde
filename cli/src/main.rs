//! `taoscope`: the chain codec on the command line.
//!
//! ```text
//! taoscope metadata FILE                                       JSON summary
//! taoscope storage --metadata FILE PALLET                    entries, hashers, layouts
//! taoscope storage-key --metadata FILE PALLET ENTRY [KEY_JSON ...]   0x key
//! taoscope call --metadata FILE PALLET CALL ARGS_JSON          0x encoded call
//! taoscope signer-payload --metadata FILE --from ADDRESS --tx TX_JSON PALLET CALL ARGS_JSON
//!                                                  the SignerPayloadJSON a browser wallet signs
//! taoscope signed --metadata FILE --from ADDRESS --tx TX_JSON --signature HEX
//!                 [--returned HEX] PALLET CALL ARGS_JSON   0x signed extrinsic, signature checked
//! taoscope checkpoint --rpc URL --out FILE [--block N]         a verified-RPC trust anchor
//! taoscope audit --netuid N [--network …] [--checkpoint FILE] [--epochs K] [--json]
//!                                                  a subnet's epochs recomputed from proofs
//! taoscope yields --netuid N [--network …] [--checkpoint FILE] [--epochs K] [--json]
//!                                                  what its validators paid per unit of stake
//! ```
//! `audit` is documented in `audit.rs`; it exits 0 when every value matches, 1 on a mismatch.
//! `checkpoint` asks the node at URL (`ws://`) for a finalized block (its head, or block N),
//! its header and its GRANDPA authority set, and writes the checkpoint file the verified-RPC
//! transport starts from. The node is trusted for it: use one you run or trust.
//! FILE holds metadata as hex (with or without `0x`) or as raw bytes: `state_getMetadata` output
//! or `Metadata_metadata_at_version` output. KEY_JSON is one key part as JSON (`1`, `"0x…"`, an
//! SS58 address); ARGS_JSON an object keyed by the call's argument names. TX_JSON says what
//! the signer decides: `{"specVersion", "transactionVersion", "genesisHash", "nonce", "tip"?,
//! "mortal"?: {"period", "birthNumber", "birthHash"}, "metadataHash"?}`. `signed` checks a
//! wallet's `MultiSignature` (and the transaction it returned, if any) against the payload and
//! the account before it prints anything: the wallet path of the app, for scripts and tests.
//! Output is the hex alone; any error is one line on stderr and exit status 2.

mod audit;
mod yields;

use serde_json::{Value, json};
use std::process::ExitCode;
use taoscope_light_client::hex::{from_hex, to_hex};
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::{extrinsic, storage, wallet};

const USAGE: &str = "usage: taoscope metadata FILE\n       taoscope storage --metadata FILE PALLET\n       taoscope storage-key --metadata FILE PALLET ENTRY [KEY_JSON ...]\n       taoscope call --metadata FILE PALLET CALL ARGS_JSON\n       taoscope signer-payload --metadata FILE --from ADDRESS --tx TX_JSON PALLET CALL ARGS_JSON\n       taoscope signed --metadata FILE --from ADDRESS --tx TX_JSON --signature HEX [--returned HEX] PALLET CALL ARGS_JSON\n       taoscope checkpoint --rpc URL --out FILE [--block N]\n       taoscope audit --netuid N [--network localnet|finney|URL] [--rpc URL ...] [--checkpoint FILE]\n                      [--epochs K] [--json] [--what-if NAME=VALUE ...] [--accept-old-checkpoint] [--timeout S]\n       taoscope yields --netuid N [--network localnet|finney|URL] [--rpc URL ...] [--checkpoint FILE] [--epochs K] [--json]";
const HINT: &str = "(see `taoscope --help`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() || args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if let Some(("audit", rest)) = args.split_first().map(|(c, r)| (c.as_str(), r)) {
        return audit::main(rest);
    }
    if let Some(("yields", rest)) = args.split_first().map(|(c, r)| (c.as_str(), r)) {
        return yields::main(rest);
    }
    match run(&args) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let (command, rest) = args
        .split_first()
        .ok_or(format!("missing command {HINT}"))?;
    match command.as_str() {
        "metadata" => match rest {
            [file] => summary(&load(file)?),
            _ => Err(format!("metadata takes one FILE {HINT}")),
        },
        "storage" => {
            let (metadata, rest) = metadata_option(rest)?;
            let [pallet] = rest.as_slice() else {
                return Err(format!("storage needs PALLET {HINT}"));
            };
            storage_entries(&metadata, pallet)
        }
        "storage-key" => {
            let (metadata, rest) = metadata_option(rest)?;
            let [pallet, entry, keys @ ..] = rest.as_slice() else {
                return Err(format!("storage-key needs PALLET and ENTRY {HINT}"));
            };
            let parts = keys
                .iter()
                .enumerate()
                .map(|(i, k)| json_arg(k).map_err(|e| format!("KEY_JSON {}: {e}", i + 1)))
                .collect::<Result<Vec<Value>, String>>()?;
            let key = storage::key(&metadata, pallet, entry, &parts).map_err(|e| e.to_string())?;
            Ok(to_hex(&key))
        }
        "call" => {
            let (metadata, rest) = metadata_option(rest)?;
            let [pallet, call, args] = rest.as_slice() else {
                return Err(format!("call needs PALLET, CALL and ARGS_JSON {HINT}"));
            };
            let args = json_arg(args).map_err(|e| format!("ARGS_JSON: {e}"))?;
            let args = args
                .as_object()
                .ok_or("ARGS_JSON: expected a JSON object keyed by argument name")?;
            let encoded =
                extrinsic::encode_call(&metadata, pallet, call, args).map_err(|e| e.to_string())?;
            Ok(to_hex(&encoded))
        }
        "signer-payload" | "signed" => wallet(command, rest),
        "checkpoint" => checkpoint(rest),
        other => Err(format!("unknown command {other} {HINT}")),
    }
}

/// `signer-payload` and `signed`: a wallet's side of a transaction, as the app runs it.
fn wallet(command: &str, args: &[String]) -> Result<String, String> {
    let (metadata, rest) = metadata_option(args)?;
    let (mut from, mut tx, mut signature, mut returned, mut positional) =
        (None, None, None, None, Vec::new());
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg}: expected a value {HINT}"));
        match arg.as_str() {
            "--from" => from = Some(value()?.clone()),
            "--tx" => tx = Some(value()?.clone()),
            "--signature" => signature = Some(value()?.clone()),
            "--returned" => returned = Some(value()?.clone()),
            _ => positional.push(arg.clone()),
        }
    }
    let from = from.ok_or(format!("{command} needs --from ADDRESS {HINT}"))?;
    let account = taoscope_light_client::ss58::decode(&from).map_err(|e| format!("--from: {e}"))?;
    let tx = transaction(&tx.ok_or(format!("{command} needs --tx TX_JSON {HINT}"))?)?;
    let [pallet, call, args] = positional.as_slice() else {
        return Err(format!("{command} needs PALLET, CALL and ARGS_JSON {HINT}"));
    };
    let args = json_arg(args).map_err(|e| format!("ARGS_JSON: {e}"))?;
    let args = args
        .as_object()
        .ok_or("ARGS_JSON: expected a JSON object keyed by argument name")?;
    let call = extrinsic::encode_call(&metadata, pallet, call, args).map_err(|e| e.to_string())?;
    if command == "signer-payload" {
        let payload = wallet::signer_payload(&metadata, &tx, &call, &account, 42)
            .map_err(|e| e.to_string())?;
        return serde_json::to_string_pretty(&payload).map_err(|e| e.to_string());
    }
    let signature = signature.ok_or(format!("signed needs --signature HEX {HINT}"))?;
    let signed = wallet::signed_transaction(
        &metadata,
        &tx,
        &call,
        &account,
        &signature,
        returned.as_deref(),
    )
    .map_err(|e| e.to_string())?;
    Ok(to_hex(&signed))
}

/// TX_JSON: what the signer decides about a transaction.
fn transaction(text: &str) -> Result<extrinsic::Transaction, String> {
    let value: Value = serde_json::from_str(text).map_err(|e| format!("TX_JSON: {e}"))?;
    let number = |field: &str| {
        value[field]
            .as_u64()
            .ok_or(format!("TX_JSON: {field}: expected a non-negative integer"))
    };
    let hash = |value: &Value, field: &str| -> Result<[u8; 32], String> {
        value[field]
            .as_str()
            .and_then(|text| from_hex(text).ok())
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .ok_or(format!(
                "TX_JSON: {field}: expected a 0x-prefixed 32-byte hash"
            ))
    };
    let small = |field: &str| {
        number(field)
            .and_then(|n| u32::try_from(n).map_err(|_| format!("TX_JSON: {field}: too large")))
    };
    let mortality = match value.get("mortal") {
        None | Some(Value::Null) => extrinsic::Mortality::Immortal,
        Some(mortal) => extrinsic::Mortality::Mortal {
            period: mortal["period"]
                .as_u64()
                .ok_or("TX_JSON: mortal.period: expected an integer")?,
            birth_number: mortal["birthNumber"]
                .as_u64()
                .ok_or("TX_JSON: mortal.birthNumber: expected an integer")?,
            birth_hash: hash(mortal, "birthHash")?,
        },
    };
    Ok(extrinsic::Transaction {
        spec_version: small("specVersion")?,
        transaction_version: small("transactionVersion")?,
        genesis_hash: hash(&value, "genesisHash")?,
        mortality,
        nonce: small("nonce")?,
        tip: value.get("tip").map_or(Ok(0), |_| number("tip"))?,
        metadata_hash: match value.get("metadataHash") {
            None | Some(Value::Null) => None,
            Some(_) => Some(hash(&value, "metadataHash")?),
        },
    })
}

/// `checkpoint --rpc URL --out FILE [--block N]`: writes the file, prints what it holds.
fn checkpoint(args: &[String]) -> Result<String, String> {
    let (mut rpc, mut out, mut block) = (None, None, None);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg}: expected a value {HINT}"));
        match arg.as_str() {
            "--rpc" => rpc = Some(value()?.clone()),
            "--out" => out = Some(value()?.clone()),
            "--block" => {
                let text = value()?;
                block = Some(
                    text.parse::<u64>()
                        .map_err(|_| format!("--block: {text} is not a block number"))?,
                );
            }
            other => return Err(format!("checkpoint: unknown argument {other} {HINT}")),
        }
    }
    let rpc = rpc.ok_or(format!("checkpoint needs --rpc URL {HINT}"))?;
    let out = out.ok_or(format!("checkpoint needs --out FILE {HINT}"))?;
    let checkpoint =
        taoscope_light_client::client::verified_rpc::native::make_checkpoint(&rpc, block)
            .map_err(|e| format!("{rpc}: {e}"))?;
    let mut text = serde_json::to_string_pretty(&checkpoint.to_json())
        .map_err(|e| format!("checkpoint: {e}"))?;
    text.push('\n');
    std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))?;
    Ok(format!(
        "checkpoint at block #{} ({}), GRANDPA set {} with {} authorities, written to {out}",
        checkpoint.number,
        to_hex(&checkpoint.hash),
        checkpoint.set_id,
        checkpoint.authorities.len()
    ))
}

/// Splits `--metadata FILE` (anywhere in `args`) from the positional arguments.
fn metadata_option(args: &[String]) -> Result<(Metadata, Vec<String>), String> {
    let mut file = None;
    let mut rest = Vec::new();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--metadata" {
            file = Some(it.next().ok_or("--metadata: expected a FILE")?);
        } else {
            rest.push(arg.clone());
        }
    }
    let file = file.ok_or(format!("missing --metadata FILE {HINT}"))?;
    Ok((load(file)?, rest))
}

fn json_arg(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON ({e}); quote strings: '\"0x…\"'"))
}

/// Metadata from a file of hex text or raw bytes.
fn load(path: &str) -> Result<Metadata, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    let bytes = match std::str::from_utf8(&bytes) {
        Ok(text)
            if !text.trim().is_empty()
                && text
                    .trim()
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b'x') =>
        {
            from_hex(text).map_err(|e| format!("{path}: {e}"))?
        }
        _ => bytes,
    };
    Metadata::decode(&bytes).map_err(|e| format!("{path}: {e}"))
}

/// A pallet's storage entries: name, key hashers and the value's layout, one per line.
fn storage_entries(metadata: &Metadata, pallet: &str) -> Result<String, String> {
    let pallet = metadata
        .pallet(pallet)
        .ok_or_else(|| format!("the runtime has no pallet {pallet}"))?;
    let lines = pallet.storage.iter().map(|entry| {
        let hashers = entry
            .hashers
            .iter()
            .map(|h| format!("{h:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "{} [{hashers}] -> {}",
            entry.name,
            storage::layout(&metadata.types, entry.value_ty)
        )
    });
    Ok(lines.collect::<Vec<_>>().join("\n"))
}

fn summary(metadata: &Metadata) -> Result<String, String> {
    let (spec_name, spec_version) = metadata
        .runtime_version()
        .unwrap_or_else(|| (String::new(), 0));
    let report = json!({
        "metadata_version": metadata.version,
        "spec_name": spec_name,
        "spec_version": spec_version,
        "pallets": metadata.pallets.iter().map(|p| json!({
            "name": p.name,
            "index": p.index,
            "storage": p.storage.len(),
            "calls": p.calls_ty.is_some(),
            "constants": p.constants.len(),
        })).collect::<Vec<_>>(),
        "extrinsic_version": metadata.extrinsic.version,
        "transaction_extensions": metadata.extrinsic.extensions.iter().map(|e| e.identifier.clone()).collect::<Vec<_>>(),
        "runtime_apis": metadata.runtime_apis.iter().map(|a| a.name.clone()).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())
}
