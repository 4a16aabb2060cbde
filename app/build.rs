//! Stamps the build with the commit it was built from, for the System page.
use std::process::Command;

fn main() {
    let commit = std::env::var("TAOSCOPE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_string())
        });
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output()
        .ok()
        .is_some_and(|o| !o.stdout.is_empty());
    let commit = match commit {
        Some(c) if dirty => format!("{c}+local changes"),
        Some(c) => c,
        None => "unknown (built outside git)".to_string(),
    };
    println!("cargo:rustc-env=TAOSCOPE_COMMIT={commit}");
    println!("cargo:rerun-if-env-changed=TAOSCOPE_COMMIT");
    println!("cargo:rerun-if-changed=../.git/HEAD");
    println!("cargo:rerun-if-changed=../.git/index");
}
