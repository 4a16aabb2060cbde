//! Untrusted bytes never panic a decoder: truncated, oversized, bit-flipped and random inputs
//! to the metadata, value, storage and header decoders give errors (or values), never a crash.
//! The fuzz targets in `fuzz/` search further; these run in every test run.
#![cfg(not(target_arch = "wasm32"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use proptest::prelude::*;
use std::sync::OnceLock;
use taoscope_light_client::header::Header;
use taoscope_light_client::metadata::Metadata;
use taoscope_light_client::{storage, value};

fn metadata_bytes() -> &'static [u8] {
    static BYTES: OnceLock<Vec<u8>> = OnceLock::new();
    BYTES.get_or_init(|| {
        common::hex(&common::fixture_text(
            "localnet_spec461_metadata_at_version15_option.hex",
        ))
    })
}

fn metadata() -> &'static Metadata {
    static METADATA: OnceLock<Metadata> = OnceLock::new();
    METADATA.get_or_init(|| Metadata::decode(metadata_bytes()).unwrap())
}

#[test]
fn every_truncation_of_real_metadata_is_an_error() {
    let bytes = metadata_bytes();
    // Every cut near the start and the end, and a spread through the middle.
    let cuts = (0..2048)
        .chain((bytes.len() - 2048)..bytes.len())
        .chain((0..bytes.len()).step_by(997));
    for cut in cuts {
        assert!(
            Metadata::decode(&bytes[..cut]).is_err(),
            "cut at {cut} decoded"
        );
    }
}

#[test]
fn every_storage_value_of_every_entry_survives_truncation() {
    // Each entry's default bytes, cut at every length, and padded with garbage.
    let md = metadata();
    for pallet in &md.pallets {
        for entry in &pallet.storage {
            let default = &entry.default;
            for cut in 0..default.len() {
                let _ = storage::read(md, &pallet.name, &entry.name, Some(&default[..cut]));
            }
            let mut longer = default.clone();
            longer.extend([0xff; 9]);
            assert!(
                storage::read(md, &pallet.name, &entry.name, Some(&longer)).is_err(),
                "{}.{} accepted trailing bytes",
                pallet.name,
                entry.name
            );
        }
    }
}

#[test]
fn compact_integers_wider_than_their_type_are_refused() {
    use scale_info::{TypeDef, TypeDefPrimitive};
    let types = &metadata().types;
    let compact_u16 = types
        .types
        .iter()
        .find(|t| match &t.ty.type_def {
            TypeDef::Compact(c) => matches!(
                types.resolve(c.type_param.id).map(|i| &i.type_def),
                Some(TypeDef::Primitive(TypeDefPrimitive::U16))
            ),
            _ => false,
        })
        .map(|t| t.id)
        .unwrap();
    let mut bytes = Vec::new();
    value::encode(types, compact_u16, &serde_json::json!(65535), &mut bytes).unwrap();
    assert_eq!(
        value::decode_all(types, compact_u16, &bytes).unwrap(),
        serde_json::json!(65535)
    );
    assert!(
        value::encode(
            types,
            compact_u16,
            &serde_json::json!(65536),
            &mut Vec::new()
        )
        .is_err()
    );
    // 65536 as a compact: four-byte mode, 65536 << 2 | 0b10.
    let wide = ((65536u32 << 2) | 0b10).to_le_bytes();
    let error = value::decode_all(types, compact_u16, &wide)
        .unwrap_err()
        .to_string();
    assert!(error.contains("65536 does not fit"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_are_not_metadata(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
        let _ = Metadata::decode(&bytes);
        let mut framed = b"meta\x0f".to_vec();
        framed.extend(&bytes);
        prop_assert!(Metadata::decode(&framed).is_err());
    }

    #[test]
    fn flipped_metadata_bytes_never_panic(position in 0usize..1_000_000, bit in 0u8..8) {
        let mut bytes = metadata_bytes().to_vec();
        let position = position % bytes.len();
        bytes[position] ^= 1 << bit;
        let _ = Metadata::decode(&bytes);
    }

    #[test]
    fn random_bytes_as_any_type_never_panic(
        ty in 0u32..820,
        bytes in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        if let Ok(decoded) = value::decode_all(&metadata().types, ty, &bytes) {
            // Whatever decodes re-encodes without error.
            let mut out = Vec::new();
            prop_assert!(value::encode(&metadata().types, ty, &decoded, &mut out).is_ok());
        }
    }

    #[test]
    fn random_headers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = Header::decode(&bytes);
    }

    #[test]
    fn random_json_never_panics_the_encoder(ty in 0u32..820, n in any::<i64>(), text in ".{0,40}") {
        let types = &metadata().types;
        for value in [serde_json::json!(n), serde_json::json!(text), serde_json::json!([n, text]), serde_json::json!({"a": n}), serde_json::Value::Null] {
            let _ = value::encode(types, ty, &value, &mut Vec::new());
        }
    }
}
