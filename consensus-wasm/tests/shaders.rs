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
