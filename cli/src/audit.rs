//! `taoscope audit`: a subnet's last epochs recomputed from proven state, over verified RPC.
//!
//! ```text
//! taoscope audit [--network localnet|finney|URL] [--rpc URL ...] [--checkpoint FILE]
//!                --netuid N [--epochs K] [--json] [--what-if NAME=VALUE ...]
//!                [--accept-old-checkpoint] [--timeout SECONDS]
//! taoscope audit verify REPORT [--network …] [--rpc URL ...] [--checkpoint FILE]
//! ```
//! Trusted: the checkpoint alone (for `localnet`, the one shipped with taoscope, the localnet's
//! genesis, unless `--checkpoint` names another); it must be of the network's chain and, unless
//! accepted, at most 30 days old by its block's slot. Every block, value and runtime after it is
//! proven (see the light client's `verified` module). The endpoints (`--rpc`, or the network's
//! own) are untrusted: their finalized head is only how far to wait before auditing.
//!
//! Exit status: 0 when every value of every epoch matches, 1 on a mismatch (each one printed),
//! 2 on an error (printed in words). `--json` prints an `AuditReport`
//! (`taoscope-audit-report/v1`, README). `verify` audits a saved report's epochs again from the
//! chain and exits 0 when the chain gives exactly what the report says, 1 when it does not.

use serde_json::json;
use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use taoscope_light_client::audit::{
    AuditError, AuditReport, EpochAudit, NotAudited, REPORT_SCHEMA, WhatIf,
};
use taoscope_light_client::client::endpoints::Single;
use taoscope_light_client::client::legacy;
use taoscope_light_client::client::verified_rpc::native::{self, NativeConnection};
use taoscope_light_client::client::verified_rpc::{Settings, VerifiedTransport};
use taoscope_light_client::client::{BittensorClient, ClientError};
use taoscope_light_client::header::Header;
use taoscope_light_client::hex::{from_hex_array, to_hex};
use taoscope_light_client::networks::{
    FINNEY_GENESIS, FINNEY_RPC, LOCALNET_CHECKPOINT, LOCALNET_RPC,
};
use taoscope_light_client::verified::checkpoint::{
    Acceptance, AgePolicy, BITTENSOR_SLOT_MS, Checkpoint, DEFAULT_MAX_AGE_MS,
};

/// The largest report file `audit verify` reads.
const MAX_REPORT_BYTES: u64 = 64 << 20;

pub(crate) struct Options {
    pub(crate) network: String,
    pub(crate) rpc: Vec<String>,
    pub(crate) checkpoint: Option<String>,
    pub(crate) netuid: u16,
    pub(crate) epochs: usize,
    pub(crate) json: bool,
    pub(crate) what_if: Vec<WhatIf>,
    pub(crate) accept_old: bool,
    pub(crate) timeout: Duration,
}

/// Parses the options; `netuid` says whether `--netuid` is required (an audit) or not (verify).
pub(crate) fn options(args: &[String], netuid_required: bool) -> Result<Options, String> {
    let mut options = Options {
        network: "localnet".into(),
        rpc: Vec::new(),
        checkpoint: None,
        netuid: u16::MAX,
        epochs: 8,
        json: false,
        what_if: Vec::new(),
        accept_old: false,
        timeout: Duration::from_secs(120),
    };
    let mut netuid = None;
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg}: expected a value"));
        match arg.as_str() {
            "--network" => options.network = value()?.clone(),
            "--rpc" => options.rpc.push(value()?.clone()),
            "--checkpoint" => options.checkpoint = Some(value()?.clone()),
            "--netuid" => {
                let text = value()?;
                netuid =
                    Some(text.parse::<u16>().map_err(|_| {
                        format!("--netuid: {text} is not a subnet number (0–65535)")
                    })?);
            }
            "--epochs" => {
                let text = value()?;
                options.epochs = text
                    .parse::<usize>()
                    .ok()
                    .filter(|k| (1..=64).contains(k))
                    .ok_or(format!("--epochs: {text} is not a count from 1 to 64"))?;
            }
            "--what-if" => options
                .what_if
                .push(WhatIf::parse(value()?).map_err(|e| e.to_string())?),
            "--timeout" => {
                let text = value()?;
                options.timeout = Duration::from_secs(
                    text.parse::<u64>()
                        .map_err(|_| format!("--timeout: {text} is not a number of seconds"))?,
                );
            }
            "--json" => options.json = true,
            "--accept-old-checkpoint" => options.accept_old = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    options.netuid = match netuid {
        Some(netuid) => netuid,
        None if netuid_required => return Err("audit needs --netuid N".into()),
        None => 0,
    };
    Ok(options)
}

/// The checkpoint to start from, the genesis it must carry, and the endpoints to ask.
type TrustAnchor = (Checkpoint, [u8; 32], Vec<String>);

/// The trust anchor of the network named.
fn trust_anchor(options: &Options) -> Result<TrustAnchor, String> {
    let read = |path: &str| {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
        Checkpoint::from_json(&text).map_err(|e| format!("{path}: {e}"))
    };
    let localnet = || Checkpoint::from_json(LOCALNET_CHECKPOINT).map_err(|e| e.to_string());
    let (checkpoint, genesis, default_rpc) = match options.network.as_str() {
        "localnet" => {
            let shipped = localnet()?;
            let genesis = shipped.genesis_hash;
            let checkpoint = match &options.checkpoint {
                Some(path) => read(path)?,
                None => shipped,
            };
            (checkpoint, genesis, LOCALNET_RPC.to_string())
        }
        "finney" => {
            let path = options
                .checkpoint
                .as_deref()
                .ok_or("--network finney needs --checkpoint FILE (the one block you trust)")?;
            let genesis = from_hex_array::<32>(FINNEY_GENESIS).map_err(|e| e.to_string())?;
            (read(path)?, genesis, FINNEY_RPC.to_string())
        }
        url if url.starts_with("ws://") || url.starts_with("wss://") => {
            let path = options.checkpoint.as_deref().ok_or(
                "a network given by URL needs --checkpoint FILE (the one block you trust)",
            )?;
            // No known genesis for an arbitrary chain: the checkpoint the user trusts names it
            // (its age is still judged).
            let checkpoint = read(path)?;
            let genesis = checkpoint.genesis_hash;
            (checkpoint, genesis, url.to_string())
        }
        other => {
            return Err(format!(
                "--network: {other:?} is not localnet, finney or a ws:// URL"
            ));
        }
    };
    let urls = if options.rpc.is_empty() {
        vec![default_rpc]
    } else {
        options.rpc.clone()
    };
    Ok((checkpoint, genesis, urls))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// The lowest and highest finalized block numbers the endpoints claim: only how far to wait
/// (nothing else is taken from them). The client waits for the highest; an endpoint that claims
/// too much costs the timeout, after which the audit starts from what is proven if that reaches
/// the lowest claim.
async fn claimed_heads(urls: &[String]) -> Option<(u64, u64)> {
    let mut claims: Vec<u64> = Vec::new();
    for url in urls {
        let endpoint = Single::<NativeConnection>::new(url);
        let Ok(head) = endpoint.call("chain_getFinalizedHead", json!([])).await else {
            continue;
        };
        let Ok(header) = endpoint.call("chain_getHeader", json!([head])).await else {
            continue;
        };
        let number = legacy::header(&header)
            .ok()
            .and_then(|scale| Header::decode(&scale).ok())
            .map(|h| u64::from(h.number));
        claims.extend(number);
    }
    Some((*claims.iter().min()?, *claims.iter().max()?))
}

/// Follows the chain until block `target` is proven, or the time is up (then it is enough
/// to have proven `enough`).
async fn follow(
    client: &mut BittensorClient<VerifiedTransport>,
    (enough, target): (u64, u64),
    timeout: Duration,
) -> Result<(), String> {
    let started = Instant::now();
    loop {
        client.events().await.map_err(|e| e.to_string())?;
        let report = client.transport().report();
        if let Some(halted) = report.halted {
            return Err(halted);
        }
        if client.finalized().is_some_and(|b| b.number >= target) {
            return Ok(());
        }
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() && client.finalized().is_some_and(|b| b.number >= enough) {
            eprintln!(
                "note: an endpoint claims block #{target}, which could not be proven in time; \
                 auditing from what is proven"
            );
            return Ok(());
        }
        if left.is_zero() {
            let reached = client
                .finalized()
                .map_or("nothing".to_string(), |b| format!("block #{}", b.number));
            return Err(format!(
                "could not prove block #{target} within {}s (proven: {reached}){}",
                timeout.as_secs(),
                report
                    .stale()
                    .map(|why| format!("; {why}"))
                    .unwrap_or_default()
            ));
        }
        let pumped = smol::future::or(async { Some(client.pump().await) }, async {
            smol::Timer::after(left.min(Duration::from_millis(250))).await;
            None
        })
        .await;
        if let Some(Err(e)) = pumped {
            return Err(e.to_string());
        }
    }
}

/// A client following the network of `options` from its trusted checkpoint, proven up to what
/// the endpoints claim; with the words for what was trusted and the chain's genesis.
pub(crate) struct Connected {
    pub(crate) client: BittensorClient<VerifiedTransport>,
    pub(crate) trusted: String,
    pub(crate) genesis_hash: String,
}

pub(crate) async fn connect(options: &Options) -> Result<Connected, String> {
    let (checkpoint, genesis_hash, urls) = trust_anchor(options)?;
    let shipped_genesis = options.network == "localnet" && options.checkpoint.is_none();
    checkpoint
        .accept(&Acceptance {
            genesis_hash,
            slot_ms: BITTENSOR_SLOT_MS,
            now_ms: now_ms(),
            age: if options.accept_old || shipped_genesis {
                AgePolicy::Accepted
            } else {
                AgePolicy::MaxAge(DEFAULT_MAX_AGE_MS)
            },
        })
        .map_err(|e| {
            let hint = if options.accept_old {
                ""
            } else {
                " (--accept-old-checkpoint takes an old one as it is)"
            };
            format!("the checkpoint: {e}{hint}")
        })?;
    let trusted = format!(
        "checkpoint at block #{} ({}), GRANDPA set {}",
        checkpoint.number,
        to_hex(&checkpoint.hash),
        checkpoint.set_id
    );
    let genesis_hash = to_hex(&checkpoint.genesis_hash);
    let target = claimed_heads(&urls)
        .await
        .ok_or_else(|| format!("no endpoint answered ({})", urls.join(", ")))?;
    let settings = Settings {
        poll_ms: 250,
        ..Settings::default()
    };
    let mut client = BittensorClient::new(native::start_with(checkpoint, urls, settings))
        .map_err(|e| e.to_string())?;
    follow(&mut client, target, options.timeout).await?;
    Ok(Connected {
        client,
        trusted,
        genesis_hash,
    })
}

/// Audits subnet `netuid`'s epochs at `blocks` (newest first): the audited ones, and those
/// that cannot be audited with why. An epoch too old for the transport ends the list.
pub(crate) async fn audit_epochs(
    client: &mut BittensorClient<VerifiedTransport>,
    netuid: u16,
    blocks: &[u64],
    what_if: &[WhatIf],
) -> Result<(Vec<EpochAudit>, Vec<NotAudited>), String> {
    let (mut epochs, mut not_audited) = (Vec::new(), Vec::new());
    for &block in blocks {
        match client.audit_epoch(netuid, block, what_if).await {
            Ok(epoch) => epochs.push(epoch),
            Err(ClientError::NotHeld(_)) => break,
            // One that cannot be audited (an upgrade next to it) is said, and the rest go on.
            Err(ClientError::Audit(
                why @ (AuditError::Upgrade(_) | AuditError::NotAnEpoch { .. }),
            )) => not_audited.push(NotAudited {
                block,
                why: why.to_string(),
            }),
            Err(e) => return Err(format!("epoch at block #{block}: {e}")),
        }
    }
    Ok((epochs, not_audited))
}

/// Prints a report as JSON (`--json`) or in words. `Err`: the exit status of a report that
/// could not be written.
pub(crate) fn print_report(
    json: bool,
    as_json: impl FnOnce() -> serde_json::Result<String>,
    words: impl FnOnce() -> String,
) -> Result<(), ExitCode> {
    // A closed pipe (`| head`) ends the output, not the process with a panic.
    let mut out = std::io::stdout().lock();
    let text = if json {
        as_json().map_err(|e| {
            eprintln!("error: {e}");
            ExitCode::from(2)
        })?
    } else {
        words()
    };
    let _ = writeln!(out, "{text}");
    Ok(())
}

fn audit(options: &Options) -> Result<AuditReport, String> {
    smol::block_on(async {
        let Connected {
            mut client,
            trusted,
            genesis_hash,
        } = connect(options).await?;
        let at = client.read_block().map_err(|e| e.to_string())?;
        let counted = |client: &BittensorClient<VerifiedTransport>| {
            let report = client.transport().report();
            (report.proofs_verified, report.proof_bytes)
        };
        let (started, (proofs, bytes)) = (Instant::now(), counted(&client));
        let (blocks, stopped) = client
            .epoch_blocks(options.netuid, options.epochs)
            .await
            .map_err(|e| e.to_string())?;
        if blocks.is_empty() {
            return Err(format!(
                "subnet {} has run no epoch up to block #{} (or does not exist){}",
                options.netuid,
                at.number,
                stopped.map(|why| format!("; {why}")).unwrap_or_default()
            ));
        }
        let (epochs, not_audited) =
            audit_epochs(&mut client, options.netuid, &blocks, &options.what_if).await?;
        // What an audit costs, for the README's measurements (stderr: stdout stays the report).
        let (proofs_now, bytes_now) = counted(&client);
        eprintln!(
            "audited {} epochs in {} ms, {} read proofs checked ({} bytes)",
            epochs.len(),
            started.elapsed().as_millis(),
            proofs_now - proofs,
            bytes_now - bytes
        );
        if epochs.is_empty() {
            return Err(format!(
                "no epoch of subnet {} could be audited{}",
                options.netuid,
                not_audited
                    .first()
                    .map(|n| format!(": {}", n.why))
                    .unwrap_or_default()
            ));
        }
        Ok(AuditReport {
            schema: REPORT_SCHEMA.into(),
            network: options.network.clone(),
            genesis_hash,
            trusted,
            at,
            epochs,
            not_audited,
        })
    })
}

/// `audit verify REPORT`: every epoch of a saved report audited again from the chain (from the
/// checkpoint the user trusts now, never from anything in the report) and compared with what
/// the report says, field by field. Returns what differs, in words (empty: confirmed).
fn verify(report_path: &str, options: &Options) -> Result<(AuditReport, Vec<String>), String> {
    let size = std::fs::metadata(report_path)
        .map_err(|e| format!("{report_path}: {e}"))?
        .len();
    if size > MAX_REPORT_BYTES {
        return Err(format!(
            "{report_path}: {size} bytes; a report is at most {MAX_REPORT_BYTES}"
        ));
    }
    let text = std::fs::read_to_string(report_path).map_err(|e| format!("{report_path}: {e}"))?;
    let report: AuditReport = serde_json::from_str(&text)
        .map_err(|e| format!("{report_path}: not an audit report: {e}"))?;
    if report.schema != REPORT_SCHEMA {
        return Err(format!(
            "{report_path}: schema {:?}; this taoscope reads {REPORT_SCHEMA}",
            report.schema
        ));
    }
    // Hashes are printed: only well-formed ones (no terminal control from a hostile file).
    let well_formed = |hash: &str| hash.starts_with("0x") && from_hex_array::<32>(hash).is_ok();
    if !well_formed(&report.genesis_hash)
        || report.epochs.iter().any(|e| !well_formed(&e.block.hash))
    {
        return Err(format!(
            "{report_path}: a hash that is not 0x and 64 hex digits"
        ));
    }
    let mut blocks: Vec<(u16, u64)> = report
        .epochs
        .iter()
        .map(|e| (e.netuid, e.block.number))
        .collect();
    blocks.sort_unstable();
    blocks.dedup();
    if blocks.is_empty() || blocks.len() != report.epochs.len() || blocks.len() > 64 {
        return Err(format!(
            "{report_path}: a report holds 1 to 64 distinct epochs ({} here)",
            report.epochs.len()
        ));
    }
    smol::block_on(async {
        let Connected {
            mut client,
            genesis_hash,
            ..
        } = connect(options).await?;
        if genesis_hash != report.genesis_hash {
            return Err(format!(
                "the report is of chain {}, the checkpoint of chain {genesis_hash}",
                report.genesis_hash
            ));
        }
        let mut differences = Vec::new();
        for epoch in &report.epochs {
            let at = epoch.block.number;
            let proven = client
                .finalized_block(at)
                .await
                .map_err(|e| format!("epoch at block #{at}: {e}"))?;
            if proven.hash != epoch.block.hash {
                differences.push(format!(
                    "block #{at}: the report names {}, the chain's is {}",
                    epoch.block.hash, proven.hash
                ));
                continue;
            }
            let again = client
                .audit_epoch(epoch.netuid, at, &epoch.what_if)
                .await
                .map_err(|e| format!("epoch at block #{at}: {e}"))?;
            if &again != epoch {
                differences.push(format!(
                    "epoch at block #{at}: the report says {}, the chain gives {}{}",
                    epoch.verdict(),
                    again.verdict(),
                    if again.input != epoch.input || again.stored != epoch.stored {
                        " (its values differ from the chain's)"
                    } else {
                        ""
                    }
                ));
            }
        }
        Ok((report, differences))
    })
}

fn describe(epoch: &EpochAudit) -> String {
    let mut text = format!(
        "epoch at block #{} ({}): {} ({} {}, {})",
        epoch.block.number,
        epoch.block.hash,
        epoch.verdict(),
        epoch.runtime.spec_name,
        epoch.runtime.spec_version,
        epoch.algorithm
    );
    for change in &epoch.what_if {
        text.push_str(&format!("\n  what if {} = {}", change.input, change.value));
    }
    for mismatch in &epoch.mismatches {
        text.push_str(&format!("\n  {mismatch}"));
    }
    text
}

/// The report in words: where it was proven, each epoch, and the verdict.
fn summary(report: &AuditReport) -> String {
    let mut lines = vec![format!(
        "subnet {} on {}: proven from the {} to block #{} ({})",
        report.epochs.first().map_or(0, |e| e.netuid),
        report.network,
        report.trusted,
        report.at.number,
        report.at.hash
    )];
    lines.extend(report.epochs.iter().map(describe));
    lines.extend(
        report
            .not_audited
            .iter()
            .map(|n| format!("epoch at block #{}: not audited: {}", n.block, n.why)),
    );
    let values: usize = report.epochs.iter().map(|e| e.checked).sum();
    let differing: usize = report.epochs.iter().map(|e| e.mismatches.len()).sum();
    lines.push(if differing == 0 {
        format!(
            "every value matches: {values} values over {} epochs",
            report.epochs.len()
        )
    } else {
        format!(
            "MISMATCH: {differing} of {values} values differ over {} epochs",
            report.epochs.len()
        )
    });
    lines.join("\n")
}

/// Runs `taoscope audit ARGS`; prints the result and returns the exit status.
pub fn main(args: &[String]) -> ExitCode {
    if let Some(("verify", rest)) = args.split_first().map(|(c, r)| (c.as_str(), r)) {
        return verify_main(rest);
    }
    let report = match options(args, true).and_then(|options| {
        let report = audit(&options)?;
        Ok((options.json, report))
    }) {
        Ok(done) => done,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let (json, report) = report;
    if let Err(status) = print_report(
        json,
        || serde_json::to_string_pretty(&report),
        || summary(&report),
    ) {
        return status;
    }
    // Every value of every audited epoch matched (with a what-if: nothing it changed moved).
    if report.epochs.iter().all(EpochAudit::is_exact) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verify_main(args: &[String]) -> ExitCode {
    let Some((path, rest)) = args.split_first() else {
        eprintln!("error: audit verify needs the REPORT file");
        return ExitCode::from(2);
    };
    match options(rest, false).and_then(|options| verify(path, &options)) {
        Ok((report, differences)) if differences.is_empty() => {
            let values: usize = report.epochs.iter().map(|e| e.checked).sum();
            println!(
                "confirmed: the chain gives every one of the report's {} epochs ({values} values) \
                 as the report says",
                report.epochs.len()
            );
            if report.is_exact() {
                ExitCode::SUCCESS
            } else {
                // A faithful record of an audit that did not match (or of a what-if).
                println!("and what it records is no match:");
                for epoch in &report.epochs {
                    println!("{}", describe(epoch));
                }
                ExitCode::from(1)
            }
        }
        Ok((_, differences)) => {
            println!("NOT CONFIRMED:");
            for difference in differences {
                println!("  {difference}");
            }
            ExitCode::from(1)
        }
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}
