//! `yuma`: run or time Yuma epochs from `yuma-epoch-vector/v1` files (and run or check the
//! spec-103 epoch from `yuma-epoch-vector/v103` files: the `schema` field selects).
//!
//! ```text
//! yuma epoch FILE [--backend B]                        the persisted values, as JSON
//! yuma bench FILE [--backend B|both] [--iters N] [--batch N]  timing, as JSON
//! yuma check FILE... [--backend B]                     recompute and compare with `expected`
//! ```
//! B is `cpu`, `gpu` or `auto` (the GPU when there is an adapter, else the CPU, saying why on
//! stderr). `bench --batch N` times N what-if variations of the file's epoch (κ varied) run as one
//! batch: one GPU submission per stage, or N epochs one after the other on the CPU. `--backend
//! both` times the two engines on the same inputs, checks that they agree on every value and
//! reports the GPU's speed-up.
//!
//! Bad input (unreadable file, wrong type, mismatched lengths, uid out of range) prints one line
//! naming the field and exits with status 2; a `check` that finds a mismatch exits with 1.

use std::process::ExitCode;
use std::time::Instant;
use taoscope_consensus::compare::compare_outputs_v103;
use taoscope_consensus::v103::{self, EpochOutputV103, VectorFileV103};
use taoscope_consensus::{
    AnyVector, EpochInput, EpochOutput, VectorFile, compare_outputs, run_epoch,
};

const USAGE: &str = "usage: yuma epoch FILE [--backend cpu|gpu|auto]\n       yuma bench FILE [--backend cpu|gpu|auto|both] [--iters N] [--batch N]\n       yuma check FILE... [--backend cpu|gpu|auto]";
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
    Auto,
    Both,
}

struct Options {
    files: Vec<String>,
    backend: Backend,
    iters: usize,
    batch: usize,
}

fn positive(flag: &str, value: Option<&String>) -> Result<usize, String> {
    let value = value.ok_or_else(|| format!("{flag}: expected a number"))?;
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{flag}: expected a positive number, got {value}"))
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        files: Vec::new(),
        backend: Backend::Cpu,
        iters: 20,
        batch: 1,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--backend" => {
                options.backend = match it.next().map(String::as_str) {
                    Some("cpu") => Backend::Cpu,
                    Some("gpu") => Backend::Gpu,
                    Some("auto") => Backend::Auto,
                    Some("both") => Backend::Both,
                    other => {
                        return Err(format!(
                            "--backend: expected cpu, gpu, auto or both, got {}",
                            other.unwrap_or("nothing")
                        ));
                    }
                }
            }
            "--iters" => options.iters = positive("--iters", it.next())?,
            "--batch" => options.batch = positive("--batch", it.next())?,
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
    if options.backend == Backend::Both && command != "bench" {
        return Err(format!(
            "--backend both: only `bench` runs both engines {HINT}"
        ));
    }
    match command.as_str() {
        "epoch" => {
            let file = single(&options)?;
            if let AnyVector::V103(vector) = load_any(file)? {
                let output = run_v103(file, &vector, options.backend)?;
                println!(
                    "{}",
                    serde_json::to_string(&output).map_err(|e| e.to_string())?
                );
                return Ok(ExitCode::SUCCESS);
            }
            let input = load(file)?;
            let mut engine = Engine::new(options.backend)?;
            let output = engine.run(&input)?;
            println!(
                "{}",
                serde_json::to_string(&output).map_err(|e| e.to_string())?
            );
            Ok(ExitCode::SUCCESS)
        }
        "bench" => bench(&options),
        "check" => {
            let mut engine = Engine::new(options.backend)?;
            let mut failed = 0usize;
            for file in &options.files {
                let missing = || format!("{file}: expected: missing, nothing to check against");
                let cmp = match load_any(file)? {
                    AnyVector::V1(vector) => {
                        let expected = vector.expected.ok_or_else(missing)?;
                        let actual = engine
                            .run(&vector.input)
                            .map_err(|e| format!("{file}: {e}"))?;
                        compare_outputs(&expected, &actual)
                    }
                    AnyVector::V103(vector) => {
                        let expected = vector.expected.clone().ok_or_else(missing)?;
                        let actual = run_v103(file, &vector, options.backend)?;
                        compare_outputs_v103(&expected, &actual)
                    }
                };
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

fn bench(options: &Options) -> Result<ExitCode, String> {
    let file = single(options)?;
    let input = load(file)?;
    let inputs = taoscope_consensus::whatif::kappa_variations(&input, options.batch);
    let engines: Vec<Engine> = match options.backend {
        Backend::Both => vec![Engine::new(Backend::Cpu)?, Engine::new(Backend::Gpu)?],
        backend => vec![Engine::new(backend)?],
    };
    let mut runs = Vec::new();
    let mut outputs: Vec<Vec<EpochOutput>> = Vec::new();
    let mut medians = Vec::new();
    for mut engine in engines {
        let warm = engine.run_batch(&inputs)?; // first use of each pipeline, caches
        let before = engine.submissions();
        let mut times_ms = Vec::with_capacity(options.iters);
        for _ in 0..options.iters {
            let start = Instant::now();
            std::hint::black_box(engine.run_batch(&inputs)?);
            times_ms.push(start.elapsed().as_secs_f64() * 1e3);
        }
        times_ms.sort_by(f64::total_cmp);
        let median = times_ms.get(times_ms.len() / 2).copied().unwrap_or(0.0);
        let min = times_ms.first().copied().unwrap_or(0.0);
        let mut run = serde_json::json!({
            "backend": engine.name(),
            "adapter": engine.adapter(),
            "median_ms": median,
            "min_ms": min,
            "per_epoch_ms": median / inputs.len() as f64,
        });
        if engine.name() == "gpu" {
            let submitted = engine.submissions().saturating_sub(before);
            run["submissions_per_run"] = serde_json::json!(submitted / options.iters as u64);
            run["peak_submission_bytes"] = serde_json::json!(engine.peak_submission_bytes());
        }
        runs.push(run);
        outputs.push(warm);
        medians.push(median);
    }
    let mut report = serde_json::json!({
        "file": file,
        "n": input.n,
        "batch": inputs.len(),
        "iters": options.iters,
        "runs": runs,
    });
    if let ([cpu, gpu], [cpu_ms, gpu_ms]) = (outputs.as_slice(), medians.as_slice()) {
        let agree = cpu
            .iter()
            .zip(gpu)
            .all(|(c, g)| compare_outputs(c, g).is_exact());
        report["agree"] = serde_json::json!(agree);
        report["gpu_speedup"] = serde_json::json!(cpu_ms / gpu_ms.max(f64::MIN_POSITIVE));
        if !agree {
            println!("{report}");
            return Err("the CPU and GPU engines disagree on this input".into());
        }
    }
    println!("{report}");
    Ok(ExitCode::SUCCESS)
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
            Backend::Gpu | Backend::Both => Self::gpu().map_err(|e| format!("--backend gpu: {e}")),
            Backend::Auto => Ok(Self::gpu().unwrap_or_else(|why| {
                eprintln!("yuma: no GPU ({why}); computing on the CPU");
                Engine::Cpu
            })),
        }
    }

    #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
    fn gpu() -> Result<Self, String> {
        let ctx = taoscope_consensus::gpu::GpuContext::new_blocking().map_err(|e| e.to_string())?;
        Ok(Engine::Gpu(Box::new(
            taoscope_consensus::gpu::GpuEngine::new(ctx),
        )))
    }

    #[cfg(not(all(feature = "gpu", not(target_arch = "wasm32"))))]
    fn gpu() -> Result<Self, String> {
        Err("this build of yuma has no GPU support (feature `gpu`)".into())
    }

    fn run(&mut self, input: &EpochInput) -> Result<EpochOutput, String> {
        match self {
            Engine::Cpu => run_epoch(input).map_err(|e| e.to_string()),
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu.run_epoch(input).map_err(|e| e.to_string()),
        }
    }

    /// Every epoch of `inputs`: one after the other on the CPU, as one batch on the GPU.
    fn run_batch(&mut self, inputs: &[EpochInput]) -> Result<Vec<EpochOutput>, String> {
        match self {
            Engine::Cpu => inputs.iter().map(|input| self.run(input)).collect(),
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu
                .run_batch(inputs)
                .map_err(|e| e.to_string())?
                .into_iter()
                .map(|r| r.map_err(|e| e.to_string()))
                .collect(),
        }
    }

    fn submissions(&self) -> u64 {
        match self {
            Engine::Cpu => 0,
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu.submissions(),
        }
    }

    fn peak_submission_bytes(&self) -> u64 {
        match self {
            Engine::Cpu => 0,
            #[cfg(all(feature = "gpu", not(target_arch = "wasm32")))]
            Engine::Gpu(gpu) => gpu.peak_submission_bytes(),
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

fn load_any(path: &str) -> Result<AnyVector, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: cannot read: {e}"))?;
    AnyVector::from_json(&text).map_err(|e| format!("{path}: {e}"))
}

/// The spec-103 epoch has one engine, the CPU's.
fn run_v103(
    path: &str,
    vector: &VectorFileV103,
    backend: Backend,
) -> Result<EpochOutputV103, String> {
    if backend == Backend::Gpu {
        return Err(format!(
            "{path}: the spec-103 epoch runs on the CPU engine only (use --backend cpu or auto)"
        ));
    }
    v103::run_epoch(&vector.input).map_err(|e| format!("{path}: input.{e}"))
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
