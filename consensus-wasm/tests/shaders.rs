//! Every WGSL program the engine compiles is valid WGSL: checked with naga, without a GPU.
#![cfg(all(not(target_arch = "wasm32"), feature = "gpu"))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fails loudly

use taoscope_consensus::gpu;

#[test]
fn every_shader_validates_with_naga() {
    let programs = gpu::programs();
    assert!(programs.len() >= 2);
    for (name, source) in programs {
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name}: {}", e.emit_to_string(&source)));
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::empty(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name}: {e:?}"));
    }
}

#[test]
fn every_wgsl_file_is_one_of_the_programs() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gpu/shaders");
    let names: Vec<&str> = gpu::programs().iter().map(|(name, _)| *name).collect();
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let file = entry.unwrap().file_name().to_string_lossy().into_owned();
        if file.ends_with(".wgsl") {
            assert!(
                names.contains(&file),
                "{file} is not validated: add it to gpu::programs()"
            );
        }
    }
}
