//! System: what this build is and what the browser offers it (WebGPU adapter and limits).

use crate::webgpu::{self, GpuStatus};
use crate::{COMMIT, VERSION};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn SystemPage() -> impl IntoView {
    let gpu: RwSignal<Option<GpuStatus>> = RwSignal::new(None);
    spawn_local(async move { gpu.set(Some(webgpu::probe().await)) });

    view! {
        <section class="page">
            <h1>"System"</h1>
            <h2>"Build"</h2>
            <dl class="facts">
                <dt>"Version"</dt><dd data-testid="app-version">{VERSION}</dd>
                <dt>"Commit"</dt><dd data-testid="app-commit"><code>{COMMIT}</code></dd>
            </dl>
            <h2>"WebGPU"</h2>
            <div data-testid="webgpu" aria-live="polite">
                {move || match gpu.get() {
                    None => view! { <p class="muted" data-testid="webgpu-status">"Asking the browser for a WebGPU adapter…"</p> }.into_any(),
                    Some(GpuStatus::Unsupported(why)) | Some(GpuStatus::NoAdapter(why)) => view! {
                        <p class="notice" data-testid="webgpu-status" data-state="none">{why}</p>
                    }.into_any(),
                    Some(GpuStatus::Adapter(report)) => view! { <AdapterView report/> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn AdapterView(report: webgpu::AdapterReport) -> impl IntoView {
    let fallback = match report.is_fallback {
        Some(true) => "yes: a software (CPU) implementation; correct, but slow",
        Some(false) => "no: a hardware adapter",
        None => "not reported by this browser",
    };
    let name = report.name();
    let features = if report.features.is_empty() {
        "none".to_string()
    } else {
        report.features.join(", ")
    };
    view! {
        <p data-testid="webgpu-status" data-state="adapter">"Adapter available"</p>
        <dl class="facts">
            <dt>"Adapter"</dt><dd data-testid="webgpu-adapter">{name}</dd>
            <dt>"Vendor"</dt><dd>{report.vendor.clone()}</dd>
            <dt>"Architecture"</dt><dd data-testid="webgpu-architecture">{report.architecture.clone()}</dd>
            <dt>"Fallback adapter"</dt><dd data-testid="webgpu-fallback">{fallback}</dd>
            <dt>"Features"</dt><dd>{features}</dd>
        </dl>
        <h3>"Compute limits"</h3>
        <table class="limits" data-testid="webgpu-limits">
            <thead><tr><th scope="col">"Limit"</th><th scope="col" class="num">"Value"</th></tr></thead>
            <tbody>
                {report.limits.into_iter().map(|(name, value)| view! {
                    <tr>
                        <td><code>{name}</code></td>
                        <td class="num">{value.map(format_limit).unwrap_or_else(|| "not reported".into())}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// Limits are byte counts or counts; show bytes in binary units so 134217728 reads as 128 MiB.
fn format_limit(value: f64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if value >= MIB && value % MIB == 0.0 {
        format!("{} ({} MiB)", value, value / MIB)
    } else {
        format!("{value}")
    }
}
