//! Any bytes given to the metadata decoder give metadata or an error, never a crash. Seeds: the
//! recorded metadata files (hex text is decoded first, so they can be passed as they are).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::hex::from_hex;

fuzz_target!(|data: &[u8]| {
    let bytes = std::str::from_utf8(data)
        .ok()
        .and_then(|text| from_hex(text).ok())
        .unwrap_or_else(|| data.to_vec());
    let _ = Metadata::decode(&bytes);
});
