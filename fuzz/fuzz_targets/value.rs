//! Any bytes, read as any type of the spec-461 registry (chosen by the first two bytes), decode
//! or fail cleanly; whatever decodes re-encodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::hex::from_hex;
use taoscope_light_client::value;

fn metadata() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(|| {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/fixtures/localnet_spec461_metadata_at_version15_option.hex"
        );
        let text = std::fs::read_to_string(path).expect("the spec-461 metadata fixture");
        Metadata::decode(&from_hex(&text).expect("hex")).expect("metadata")
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((ty, bytes)) = data.split_first_chunk::<2>() else {
        return;
    };
    let ty = u32::from(u16::from_le_bytes(*ty)) % 820;
    let types = &metadata().types;
    if let Ok(decoded) = value::decode_all(types, ty, bytes) {
        let mut out = Vec::new();
        assert!(value::encode(types, ty, &decoded, &mut out).is_ok());
    }
});
