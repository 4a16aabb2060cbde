//! Storage keys and values, built and read from the runtime's own metadata.
//!
//! A key is `twox128(pallet prefix) ‖ twox128(entry)` followed, for maps, by each key part
//! encoded by its metadata type and hashed by its hasher. Fewer parts than the map has give the
//! prefix under which to iterate. A value is read by its metadata type; an absent value is the
//! entry's default (or `null` for `Optional` entries), exactly as the runtime reads it.
//!
//! Typed reads (`read_typed`) first compare the metadata's layout of the entry with the layout
//! the Rust type was written for: a runtime that changes a field's width or order gets an error
//! naming the entry and the runtime version, not a silently wrong number.

use crate::hashing::{blake2_128, blake2_256, twox_64, twox_128, twox_256};
use crate::metadata::{Metadata, StorageEntry, StorageHasher};
use crate::value::{self, ValueError};
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use serde_json::Value;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageError {
    UnknownEntry {
        pallet: String,
        entry: String,
        spec_version: u32,
    },
    TooManyKeys {
        entry: String,
        given: usize,
        expected: usize,
    },
    Key {
        entry: String,
        part: usize,
        error: ValueError,
    },
    Value {
        entry: String,
        error: ValueError,
    },
    /// The runtime's layout of the entry is not the one this build reads.
    Layout {
        entry: String,
        spec_version: u32,
        runtime: String,
        expected: String,
    },
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::UnknownEntry {
                pallet,
                entry,
                spec_version,
            } => write!(
                f,
                "runtime spec {spec_version} has no storage entry {pallet}.{entry}"
            ),
            StorageError::TooManyKeys {
                entry,
                given,
                expected,
            } => write!(f, "{entry} takes {expected} key parts, not {given}"),
            StorageError::Key { entry, part, error } => {
                write!(f, "{entry}, key part {}: {error}", part + 1)
            }
            StorageError::Value { entry, error } => write!(f, "{entry}: {error}"),
            StorageError::Layout {
                entry,
                spec_version,
                runtime,
                expected,
            } => write!(
                f,
                "{entry} at runtime spec {spec_version} is laid out as {runtime}, but this build reads {expected}: update taoscope for this runtime"
            ),
        }
    }
}

impl std::error::Error for StorageError {}

fn hash(hasher: &StorageHasher, data: &[u8]) -> Vec<u8> {
    match hasher {
        StorageHasher::Blake2_128 => blake2_128(data).to_vec(),
        StorageHasher::Blake2_256 => blake2_256(data).to_vec(),
        StorageHasher::Blake2_128Concat => [blake2_128(data).as_slice(), data].concat(),
        StorageHasher::Twox128 => twox_128(data).to_vec(),
        StorageHasher::Twox256 => twox_256(data).to_vec(),
        StorageHasher::Twox64Concat => [twox_64(data).as_slice(), data].concat(),
        StorageHasher::Identity => data.to_vec(),
    }
}

/// Looks an entry up, with an error naming the runtime when it is not there.
pub fn entry<'m>(
    metadata: &'m Metadata,
    pallet: &str,
    name: &str,
) -> Result<(&'m str, &'m StorageEntry), StorageError> {
    metadata
        .storage(pallet, name)
        .map(|(p, e)| (p.storage_prefix.as_str(), e))
        .ok_or_else(|| StorageError::UnknownEntry {
            pallet: pallet.into(),
            entry: name.into(),
            spec_version: metadata.spec_version(),
        })
}

/// The type of each key part of a map entry (empty for a plain value).
fn key_types(types: &PortableRegistry, entry: &StorageEntry) -> Vec<u32> {
    let Some(key_ty) = entry.key_ty else {
        return Vec::new();
    };
    if entry.hashers.len() > 1
        && let Some(TypeDef::Tuple(t)) = types.resolve(key_ty).map(|t| &t.type_def)
    {
        return t.fields.iter().map(|f| f.id).collect();
    }
    vec![key_ty]
}

/// The storage key of `pallet.name` for the given key parts (all of them: one value's key;
/// fewer: the prefix of the values under them).
pub fn key(
    metadata: &Metadata,
    pallet: &str,
    name: &str,
    parts: &[Value],
) -> Result<Vec<u8>, StorageError> {
    let (prefix, entry) = entry(metadata, pallet, name)?;
    let types = key_types(&metadata.types, entry);
    if parts.len() > types.len() {
        return Err(StorageError::TooManyKeys {
            entry: format!("{pallet}.{name}"),
            given: parts.len(),
            expected: types.len(),
        });
    }
    let mut key = [twox_128(prefix.as_bytes()), twox_128(name.as_bytes())].concat();
    for (part, ((value, ty), hasher)) in parts.iter().zip(&types).zip(&entry.hashers).enumerate() {
        let mut encoded = Vec::new();
        value::encode(&metadata.types, *ty, value, &mut encoded).map_err(|error| {
            StorageError::Key {
                entry: format!("{pallet}.{name}"),
                part,
                error,
            }
        })?;
        key.extend(hash(hasher, &encoded));
    }
    Ok(key)
}

/// Reads a value: `bytes` is what the (verified) state holds at the key, `None` when absent.
pub fn read(
    metadata: &Metadata,
    pallet: &str,
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<Value, StorageError> {
    let (_, entry) = entry(metadata, pallet, name)?;
    let bytes = match bytes {
        Some(bytes) => bytes,
        None if entry.optional => return Ok(Value::Null),
        None => &entry.default,
    };
    value::decode_all(&metadata.types, entry.value_ty, bytes).map_err(|error| StorageError::Value {
        entry: format!("{pallet}.{name}"),
        error,
    })
}

/// A Rust type read from storage, with the layout it expects the runtime to use (see
/// [`layout`]).
pub trait StorageValue: serde::de::DeserializeOwned {
    const LAYOUT: &'static str;
}

/// Reads a value into `T` after checking that the runtime lays the entry out as `T` expects.
pub fn read_typed<T: StorageValue>(
    metadata: &Metadata,
    pallet: &str,
    name: &str,
    bytes: Option<&[u8]>,
) -> Result<Option<T>, StorageError> {
    let (_, entry) = entry(metadata, pallet, name)?;
    let runtime = layout(&metadata.types, entry.value_ty);
    if runtime != T::LAYOUT {
        return Err(StorageError::Layout {
            entry: format!("{pallet}.{name}"),
            spec_version: metadata.spec_version(),
            runtime,
            expected: T::LAYOUT.into(),
        });
    }
    let value = read(metadata, pallet, name, bytes)?;
    if value.is_null() {
        return Ok(None);
    }
    serde_json::from_value(value)
        .map(Some)
        .map_err(|e| StorageError::Value {
            entry: format!("{pallet}.{name}"),
            error: ValueError::Invalid {
                ty: T::LAYOUT.into(),
                why: e.to_string(),
            },
        })
}

/// A type's layout in one line: what decides how its bytes read, without names of wrappers.
/// `{nonce:u32,data:{free:u64,flags:u128}}`, `Vec<(u16,u16)>`, `AccountId`, `Option<u64>`.
pub fn layout(types: &PortableRegistry, id: u32) -> String {
    layout_at(types, id, 0)
}

fn layout_at(types: &PortableRegistry, id: u32, depth: usize) -> String {
    if depth > 16 {
        return "…".into();
    }
    let Some(ty) = types.resolve(id) else {
        return format!("?{id}");
    };
    let inner = |id: u32| layout_at(types, id, depth + 1);
    if ty.path.segments.last().is_some_and(|s| s == "AccountId32") {
        return "AccountId".into();
    }
    match &ty.type_def {
        TypeDef::Primitive(p) => match p {
            TypeDefPrimitive::Bool => "bool",
            TypeDefPrimitive::Char => "char",
            TypeDefPrimitive::Str => "str",
            TypeDefPrimitive::U8 => "u8",
            TypeDefPrimitive::U16 => "u16",
            TypeDefPrimitive::U32 => "u32",
            TypeDefPrimitive::U64 => "u64",
            TypeDefPrimitive::U128 => "u128",
            TypeDefPrimitive::U256 => "u256",
            TypeDefPrimitive::I8 => "i8",
            TypeDefPrimitive::I16 => "i16",
            TypeDefPrimitive::I32 => "i32",
            TypeDefPrimitive::I64 => "i64",
            TypeDefPrimitive::I128 => "i128",
            TypeDefPrimitive::I256 => "i256",
        }
        .into(),
        TypeDef::Compact(c) => format!("Compact<{}>", inner(c.type_param.id)),
        TypeDef::Array(a) => format!("[{};{}]", inner(a.type_param.id), a.len),
        TypeDef::Sequence(s) => format!("Vec<{}>", inner(s.type_param.id)),
        TypeDef::Tuple(t) => format!(
            "({})",
            t.fields
                .iter()
                .map(|f| inner(f.id))
                .collect::<Vec<_>>()
                .join(",")
        ),
        TypeDef::BitSequence(_) => "BitVec".into(),
        TypeDef::Composite(c) => match c.fields.as_slice() {
            [] => "()".into(),
            [only] if only.name.is_none() => inner(only.ty.id),
            fields if fields.iter().all(|f| f.name.is_some()) => format!(
                "{{{}}}",
                fields
                    .iter()
                    .map(|f| format!(
                        "{}:{}",
                        f.name.as_deref().unwrap_or_default(),
                        inner(f.ty.id)
                    ))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            fields => format!(
                "({})",
                fields
                    .iter()
                    .map(|f| inner(f.ty.id))
                    .collect::<Vec<_>>()
                    .join(",")
            ),
        },
        TypeDef::Variant(v) => {
            if ty.path.segments.last().is_some_and(|s| s == "Option")
                && let Some(f) = v.variants.iter().find_map(|x| x.fields.first())
            {
                return format!("Option<{}>", inner(f.ty.id));
            }
            format!(
                "enum{{{}}}",
                v.variants
                    .iter()
                    .map(|x| x.name.clone())
                    .collect::<Vec<_>>()
                    .join("|")
            )
        }
    }
}
