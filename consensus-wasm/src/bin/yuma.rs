//! `yuma`: run or time one Yuma epoch from a `yuma-epoch-vector/v1` file.
//!
//! ```text
//! yuma epoch FILE [--backend cpu|gpu]             the persisted values, as JSON
//! yuma bench FILE [--backend cpu|gpu] [--iters N] timing, as JSON
//! yuma check FILE...                              recompute and compare with `expected`
//! ```
//! Bad input (unreadable file, wrong type, mismatched lengths, uid out of range) prints one line
//! naming the field and exits with status 2; a `check` that finds a mismatch exits with 1.

use std::process::ExitCode;
use std::time::Instant;
use taoscope_consensus::{EpochInput, VectorFile, compare_outputs, run_epoch};

const USAGE: &str = "usage: yuma epoch FILE [--backend cpu|gpu]\n       yuma bench FILE [--backend cpu|gpu] [--iters N]\n       yuma check FILE...";
/// Errors stay on one line, so the usage hint is too.
const HINT: &str = "(see `yuma --help`)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Backend {
    Cpu,
    Gpu,
}

struct Options {
    files: Vec<String>,
    backend: Backend,
    iters: usize,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        files: Vec::new(),
        backend: Backend::Cpu,
        iters: 20,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--backend" => {
                options.backend = match it.next().map(String::as_str) {
                    Some("cpu") => Backend::Cpu,
                    Some("gpu") => Backend::Gpu,
                    other => {
                        return Err(format!(
                            "--backend: expected cpu or gpu, got {}",
                            other.unwrap_or("nothing")
                        ));
                    }
                }
            }
            "--iters" => {
                let value = it.next().ok_or("--iters: expected a number")?;
                options.iters = value
                    .parse::<usize>()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| format!("--iters: expected a positive number, got {value}"))?;
            }
            flag if flag.starts_with("--") => {
                return Err(format!("unknown option {flag} {HINT}"));
            }
            file => options.files.push(file.to_string()),
        }
    }
    if options.files.is_empty() {
        return Err(format!("missing FILE {HINT}"));
    }
    Ok(options)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let (command, rest) = args
        .split_first()
        .ok_or(format!("missing command {HINT}"))?;
    let options = parse(rest)?;
    let mut engine = Engine::new(options.backend)?;
    match command.as_str() {
        "epoch" => {
            let input = load(single(&options)?)?;
            let output = engine.run(&input)?;
            println!(
                "{}",
                serde_json::to_string(&output).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        "bench" => {
            let input = load(single(&options)?)?;
            engine.run(&input)?; // warm-up: first use of each pipeline, caches
            let mut times_ms = Vec::with_capacity(options.iters);
            for _ in 0..options.iters {
                let start = Instant::now();
                std::hint::black_box(engine.run(&input)?);
                times_ms.push(start.elapsed().as_secs_f64() * 1e3);
            }
            times_ms.sort_by(f64::total_cmp);
            let median = times_ms.get(times_ms.len() / 2).copied().unwrap_or(0.0);
            let min = times_ms.first().copied().unwrap_or(0.0);
            let report = serde_json::json!({
                "file": single(&options)?,
                "n": input.n,
                "iters": options.iters,
                "median_ms": median,
                "min_ms": min,
                "backend": engine.name(),
                "adapter": engine.adapter(),
            });
            println!("{report}");
            Ok(ExitCode::SUCCESS)
        }
        "check" => {
            let mut failed = 0usize;
            for file in &options.files {
                let vector = load_vector(file)?;
                let expected = vector.expected.ok_or_else(|| {
                    format!("{file}: expected: missing, nothing to check against")
                })?;
                let actual = engine
                    .run(&vector.input)
                    .map_err(|e| format!("{file}: {e}"))?;
                let cmp = compare_outputs(&expected, &actual);
                println!(
                    "{file}: matches the chain: {} of {} values",
                    cmp.matched(),
                    cmp.checked
                );
                for m in &cmp.mismatches {
                    println!("  {m}");
                }
                failed += usize::from(!cmp.is_exact());
            }
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        other => Err(format!("unknown command {other} {HINT}")),
    }
}

/// The engine a command runs on.
enum Engine {
    Cpu,
    #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
    Gpu(Box<taoscope_consensus::gpu::GpuEngine>),
}

impl Engine {
    fn new(backend: Backend) -> Result<Self, String> {
        match backend {
            Backend::Cpu => Ok(Engine::Cpu),
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Backend::Gpu => {
                let ctx = taoscope_consensus::gpu::GpuContext::new_blocking()
                    .map_err(|e| format!("--backend gpu: {e}"))?;
                Ok(Engine::Gpu(Box::new(
                    taoscope_consensus::gpu::GpuEngine::new(ctx),
                )))
            }
            #[cfg(not(all(feature = "gpu", not(target_arch = "wasm32"))))]
            Backend::Gpu => {
                Err("--backend gpu: this build of yuma has no GPU support (feature `gpu`)".into())
            }
        }
    }

    fn run(&mut self, input: &EpochInput) -> Result<taoscope_consensus::EpochOutput, String> {
        match self {
            Engine::Cpu => run_epoch(input).map_err(|e| e.to_string()),
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu.run_epoch(input).map_err(|e| e.to_string()),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Engine::Cpu => "cpu",
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(_) => "gpu",
        }
    }

    fn adapter(&self) -> String {
        match self {
            Engine::Cpu => "cpu".into(),
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu.adapter(),
        }
    }
}

fn single(options: &Options) -> Result<&str, String> {
    match options.files.as_slice() {
        [file] => Ok(file),
        _ => Err(format!("expected exactly one FILE {HINT}")),
    }
}

fn load_vector(path: &str) -> Result<VectorFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    VectorFile::from_json(&text).map_err(|e| format!("{path}: {e}"))
}

fn load(path: &str) -> Result<EpochInput, String> {
    let vector = load_vector(path)?;
    vector
        .input
        .validate()
        .map_err(|e| format!("{path}: {e}"))?;
    Ok(vector.input)
}
