//! `taoscope yields`: what each validator of a subnet paid its stakers per unit of stake over
//! its last audited epochs, over verified RPC (the same trust as `taoscope audit`: the
//! checkpoint alone).
//!
//! ```text
//! taoscope yields --netuid N [--network localnet|finney|URL] [--rpc URL ...]
//!                 [--checkpoint FILE] [--epochs K] [--json] [--accept-old-checkpoint]
//! ```
//! Each epoch is audited first (`taoscope audit`); its payouts are the audited emission split by
//! the runtime's rule with the take and stake proven at the epoch block
//! (`taoscope_light_client::yields`). Exit status: 0 when every epoch used matched, 1 when one did
//! not (its yields are still printed, marked), 2 on an error. `--json` prints a `YieldsReport`
//! (`taoscope-yields/v1`).

use crate::audit::{Connected, audit_epochs, connect, options, print_report};
use std::process::ExitCode;
use taoscope_light_client::units::format_tao;
use taoscope_light_client::yields::{
    DEFAULT_EPOCHS, SubnetYields, YIELDS_SCHEMA, YieldsReport, subnet_yields,
};

fn yields(args: &[String]) -> Result<(bool, YieldsReport), String> {
    let mut options = options(args, true)?;
    if !options.what_if.is_empty() {
        return Err("yields: --what-if changes an epoch's input, and what the chain paid does not change with it".into());
    }
    if !args.iter().any(|a| a == "--epochs") {
        options.epochs = DEFAULT_EPOCHS;
    }
    smol::block_on(async {
        let Connected {
            mut client,
            genesis_hash,
            ..
        } = connect(&options).await?;
        let at = client.read_block().map_err(|e| e.to_string())?;
        let netuid = options.netuid;
        let block_time_ms = client.block_time_ms().await.map_err(|e| e.to_string())?;
        let (blocks, _) = client
            .epoch_blocks(netuid, options.epochs)
            .await
            .map_err(|e| e.to_string())?;
        let (audited, not_used) = audit_epochs(&mut client, netuid, &blocks, &[]).await?;
        let mut epochs = Vec::new();
        for audit in &audited {
            epochs.push(
                client
                    .epoch_payouts(audit)
                    .await
                    .map_err(|e| format!("payouts at block #{}: {e}", audit.block.number))?,
            );
        }
        let subnet = subnet_yields(&epochs, block_time_ms).ok_or_else(|| {
            format!(
                "subnet {netuid} has no audited epoch up to block #{}{}",
                at.number,
                not_used
                    .first()
                    .map(|n| format!(": {}", n.why))
                    .unwrap_or_default()
            )
        })?;
        Ok((
            options.json,
            YieldsReport {
                schema: YIELDS_SCHEMA.into(),
                network: options.network.clone(),
                genesis_hash,
                at: at.number,
                subnets: vec![subnet],
                not_used,
            },
        ))
    })
}

fn percent(x: f64) -> String {
    format!("{:.4}%", x * 100.0)
}

fn summary(subnet: &SubnetYields) -> String {
    let mut lines = vec![format!(
        "subnet {} at epoch block #{} ({}): {} epochs ({}), tempo {}, {} ms blocks, {:.1} epochs a \
         year",
        subnet.netuid,
        subnet.block,
        subnet.verdict,
        subnet.epochs.len(),
        if subnet.all_exact {
            "every one audited as matching"
        } else {
            "NOT every one matching"
        },
        subnet.tempo,
        subnet.block_time_ms,
        subnet.epochs_per_year
    )];
    lines.push("uid  hotkey                                            take      stake (TAO)         nominators  yield/epoch  yearly".into());
    for v in &subnet.validators {
        let l = &v.latest;
        lines.push(format!(
            "{:<4} {:<49} {:<9} {:<19} {:<11} {:<12} {}{}",
            l.uid,
            l.hotkey,
            l.delegate_take
                .map_or("—".into(), |t| percent(f64::from(t) / 65535.0)),
            format_tao(l.stake),
            l.nominators,
            percent(v.mean_epoch_yield),
            percent(v.annual_yield),
            if v.all_exact {
                ""
            } else {
                "  (an epoch did not match)"
            }
        ));
    }
    lines.push(
        "yield/epoch: what the stakers got (emission − take) over the hotkey's stake, averaged; \
         yearly: that × epochs a year, not compounded"
            .into(),
    );
    lines.join("\n")
}

/// Runs `taoscope yields ARGS`; prints the result and returns the exit status.
pub fn main(args: &[String]) -> ExitCode {
    let (json, report) = match yields(args) {
        Ok(done) => done,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let words = || {
        let mut lines: Vec<String> = report.subnets.iter().map(summary).collect();
        lines.extend(
            report
                .not_used
                .iter()
                .map(|n| format!("epoch at block #{}: not used: {}", n.block, n.why)),
        );
        lines.join("\n")
    };
    if let Err(status) = print_report(json, || serde_json::to_string_pretty(&report), words) {
        return status;
    }
    if report.subnets.iter().all(|s| s.all_exact) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
