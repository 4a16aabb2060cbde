//! Any runtime value, decoded from SCALE by its metadata type into JSON and encoded back: storage
//! values and keys, call arguments, runtime API inputs and outputs.
//!
//! The JSON shapes are those Bittensor's own tooling uses (so people and fixtures read the same
//! thing): accounts as SS58 (prefix 42), byte arrays and byte vectors as `0x` hex, structs as
//! objects, single-field wrappers as their inner value, tuples and other sequences as arrays,
//! `Option` as the value or `null`, other enums as `"Variant"` or `{"Variant": value}`, integers
//! as exact JSON numbers (u128 included).
//!
//! Bytes are untrusted: every length is checked against what is left, recursion is bounded, and
//! a failure names the type path where it happened.

use crate::ss58;
use parity_scale_codec::{Compact, Decode, Encode};
use scale_info::form::PortableForm;
use scale_info::{Field, PortableRegistry, Type, TypeDef, TypeDefPrimitive};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Deeper than any real runtime type nests (calls in calls in batches included).
const MAX_DEPTH: usize = 64;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ValueError {
    /// A type id that is not in the registry.
    UnknownType(u32),
    /// The bytes end before the value does.
    Truncated { ty: String },
    /// The bytes hold something the type cannot (a bad bool, enum index, char or length).
    Invalid { ty: String, why: String },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A JSON value that does not fit the type it is to be encoded as.
    Mismatch { ty: String, expected: String },
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValueError::UnknownType(id) => write!(f, "type {id} is not in the metadata"),
            ValueError::Truncated { ty } => write!(f, "the bytes end inside a {ty}"),
            ValueError::Invalid { ty, why } => write!(f, "invalid {ty}: {why}"),
            ValueError::TooDeep => write!(f, "value nested more than {MAX_DEPTH} levels deep"),
            ValueError::Mismatch { ty, expected } => {
                write!(f, "a {ty} is expected as {expected}")
            }
        }
    }
}

impl std::error::Error for ValueError {}

/// A type's name for messages: its path (`pallet_balances::types::AccountData`) or its shape.
pub fn type_name(types: &PortableRegistry, id: u32) -> String {
    let Some(ty) = types.resolve(id) else {
        return format!("type {id}");
    };
    if !ty.path.segments.is_empty() {
        return ty.path.segments.join("::");
    }
    match &ty.type_def {
        TypeDef::Primitive(p) => format!("{p:?}").to_lowercase(),
        TypeDef::Sequence(s) => format!("Vec<{}>", type_name(types, s.type_param.id)),
        TypeDef::Array(a) => format!("[{}; {}]", type_name(types, a.type_param.id), a.len),
        TypeDef::Tuple(t) => format!(
            "({})",
            t.fields
                .iter()
                .map(|f| type_name(types, f.id))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        TypeDef::Compact(c) => format!("Compact<{}>", type_name(types, c.type_param.id)),
        TypeDef::BitSequence(_) => "BitVec".into(),
        TypeDef::Composite(_) | TypeDef::Variant(_) => format!("type {id}"),
    }
}

fn resolve(types: &PortableRegistry, id: u32) -> Result<&Type<PortableForm>, ValueError> {
    types.resolve(id).ok_or(ValueError::UnknownType(id))
}

/// Is `id` the 32-byte account id (`AccountId32`)?
fn is_account(ty: &Type<PortableForm>) -> bool {
    ty.path.segments.last().is_some_and(|s| s == "AccountId32")
}

/// Is `id` `u8`?
fn is_u8(types: &PortableRegistry, id: u32) -> bool {
    matches!(
        types.resolve(id).map(|t| &t.type_def),
        Some(TypeDef::Primitive(TypeDefPrimitive::U8))
    )
}

/// Decodes one value of type `id` from the front of `input`.
pub fn decode(types: &PortableRegistry, id: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
    Decoder { types, depth: 0 }.value(id, input)
}

/// Decodes `bytes` as exactly one value of type `id` (no bytes left over).
pub fn decode_all(types: &PortableRegistry, id: u32, bytes: &[u8]) -> Result<Value, ValueError> {
    let mut input = bytes;
    let value = decode(types, id, &mut input)?;
    if input.is_empty() {
        Ok(value)
    } else {
        Err(ValueError::Invalid {
            ty: type_name(types, id),
            why: format!("{} bytes left after the value", input.len()),
        })
    }
}

struct Decoder<'a> {
    types: &'a PortableRegistry,
    depth: usize,
}

/// One level of a two-level runtime enum (`RuntimeCall`, `RuntimeEvent`): the variant and its
/// index byte.
type Level<'a> = (&'a scale_info::Variant<PortableForm>, u8);

impl<'a> Decoder<'a> {
    fn truncated(&self, id: u32) -> ValueError {
        ValueError::Truncated {
            ty: type_name(self.types, id),
        }
    }

    fn take<'b>(&self, id: u32, input: &mut &'b [u8], n: usize) -> Result<&'b [u8], ValueError> {
        if input.len() < n {
            return Err(self.truncated(id));
        }
        let (head, rest) = input.split_at(n);
        *input = rest;
        Ok(head)
    }

    fn length(&self, id: u32, input: &mut &[u8]) -> Result<usize, ValueError> {
        let len = Compact::<u32>::decode(input)
            .map_err(|_| self.truncated(id))?
            .0 as usize;
        // Every element takes at least one byte, except zero-sized ones, which real types do
        // not repeat: a length beyond the input is a lie, refused before allocating.
        if len > input.len() {
            return Err(ValueError::Invalid {
                ty: type_name(self.types, id),
                why: format!("length {len} exceeds the {} bytes left", input.len()),
            });
        }
        Ok(len)
    }

    fn value(&mut self, id: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
        if self.depth >= MAX_DEPTH {
            return Err(ValueError::TooDeep);
        }
        self.depth += 1;
        let result = self.value_inner(id, input);
        self.depth -= 1;
        result
    }

    fn value_inner(&mut self, id: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
        let types = self.types;
        let ty = resolve(types, id)?;
        if is_account(ty) {
            let bytes = self.take(id, input, 32)?;
            let mut key = [0u8; 32];
            key.copy_from_slice(bytes);
            return Ok(Value::String(ss58::encode(&key, ss58::BITTENSOR_PREFIX)));
        }
        if let Some(shape) = Shape::of(ty) {
            return match shape {
                Shape::Event => self.runtime_event(id, input),
                Shape::EventRecord => self.event_record(id, ty, input),
                Shape::Call => self.runtime_call(id, input),
                Shape::MultiAddress => self.multi_address(id, ty, input),
                Shape::U256 => {
                    let bytes = self.take(id, input, 32)?;
                    Ok(number(&u256_to_decimal(bytes)))
                }
                Shape::Era => {
                    let first = self.take(id, input, 1)?.first().copied().unwrap_or(0);
                    if first == 0 {
                        return Ok(Value::String("00".into()));
                    }
                    let second = self.take(id, input, 1)?.first().copied().unwrap_or(0);
                    let (period, phase) = crate::era::decode(u16::from_le_bytes([first, second]));
                    Ok(Value::Array(vec![period.into(), phase.into()]))
                }
                Shape::Map => {
                    let TypeDef::Composite(c) = &ty.type_def else {
                        return Err(ValueError::UnknownType(id));
                    };
                    let pairs = self.fields(&c.fields, input)?;
                    let mut map = Map::new();
                    for pair in pairs.as_array().into_iter().flatten() {
                        if let Some([key, value]) = pair.as_array().map(Vec::as_slice) {
                            let key = match key {
                                Value::String(text) => text.clone(),
                                other => other.to_string(),
                            };
                            map.insert(key, value.clone());
                        }
                    }
                    Ok(Value::Object(map))
                }
            };
        }
        self.generic(id, ty, input)
    }

    /// A value by its type's structure alone.
    fn generic(
        &mut self,
        id: u32,
        ty: &Type<PortableForm>,
        input: &mut &[u8],
    ) -> Result<Value, ValueError> {
        let types = self.types;
        match &ty.type_def {
            TypeDef::Primitive(p) => self.primitive(id, p, input),
            TypeDef::Compact(c) => self.compact(id, c.type_param.id, input),
            TypeDef::Array(a) => {
                if is_u8(types, a.type_param.id) && a.len > 0 {
                    let bytes = self.take(id, input, a.len as usize)?;
                    return Ok(Value::String(crate::hex::to_hex(bytes)));
                }
                let items = (0..a.len)
                    .map(|_| self.value(a.type_param.id, input))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Array(items))
            }
            TypeDef::Sequence(s) => {
                let len = self.length(id, input)?;
                if is_u8(types, s.type_param.id) {
                    // Byte vectors are mostly text (names, URLs, commitments): shown as text
                    // when they are UTF-8, else as hex, as Bittensor's tooling shows them.
                    let bytes = self.take(id, input, len)?;
                    return Ok(Value::String(match std::str::from_utf8(bytes) {
                        Ok(text) if !text.starts_with("0x") => text.to_string(),
                        _ => crate::hex::to_hex(bytes),
                    }));
                }
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(self.value(s.type_param.id, input)?);
                }
                Ok(Value::Array(items))
            }
            TypeDef::Tuple(t) => {
                let items = t
                    .fields
                    .iter()
                    .map(|f| self.value(f.id, input))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Array(items))
            }
            // A struct without fields (a marker type) reads as [] alone and as {} inside another
            // value, as in Bittensor's tooling.
            TypeDef::Composite(c) if c.fields.is_empty() && self.depth == 1 => {
                Ok(Value::Array(Vec::new()))
            }
            TypeDef::Composite(c) => self.fields(&c.fields, input),
            TypeDef::Variant(_) => {
                let (variant, _) = self.variant(id, input)?;
                let is_option = ty.path.segments.last().is_some_and(|s| s == "Option");
                if is_option {
                    return match variant.fields.first() {
                        None => Ok(Value::Null),
                        Some(f) => self.value(f.ty.id, input),
                    };
                }
                if variant.fields.is_empty() {
                    return Ok(Value::String(variant.name.clone()));
                }
                let inner = self.fields(&variant.fields, input)?;
                let mut map = Map::new();
                map.insert(variant.name.clone(), inner);
                Ok(Value::Object(map))
            }
            TypeDef::BitSequence(b) => {
                // Bit vectors: a bit count, then the bits packed in the store type (u8 in every
                // runtime we read), least significant first.
                let bits = Compact::<u32>::decode(input)
                    .map_err(|_| self.truncated(id))?
                    .0 as usize;
                let store = match resolve(types, b.bit_store_type.id)?.type_def {
                    TypeDef::Primitive(TypeDefPrimitive::U8) => 1,
                    TypeDef::Primitive(TypeDefPrimitive::U16) => 2,
                    TypeDef::Primitive(TypeDefPrimitive::U32) => 4,
                    TypeDef::Primitive(TypeDefPrimitive::U64) => 8,
                    _ => {
                        return Err(ValueError::Invalid {
                            ty: "BitVec".into(),
                            why: "unknown bit store type".into(),
                        });
                    }
                };
                let words = bits.div_ceil(8 * store);
                let bytes = self.take(id, input, words * store)?;
                Ok(Value::Array(
                    (0..bits)
                        .map(|i| {
                            let byte = bytes.get(i / 8).copied().unwrap_or(0);
                            Value::Bool(byte >> (i % 8) & 1 == 1)
                        })
                        .collect(),
                ))
            }
        }
    }

    /// The outer call enum: `{"call_module", "call_function", "call_index": "0xppvv",
    /// "call_args": [{"name", "type", "value"}], "call_hash": blake2-256 of the call}`.
    fn runtime_call(&mut self, id: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
        let start: &[u8] = input;
        let ((pallet, pallet_index), (call, call_index)) =
            self.pallet_variant(id, input, "call")?;
        let mut args = Vec::with_capacity(call.fields.len());
        for f in &call.fields {
            let value = self.value(f.ty.id, input)?;
            let mut arg = Map::new();
            arg.insert(
                "name".into(),
                Value::String(f.name.clone().unwrap_or_default()),
            );
            arg.insert(
                "type".into(),
                Value::String(short_type_name(f.type_name.as_deref().unwrap_or_default())),
            );
            arg.insert("value".into(), value);
            args.push(Value::Object(arg));
        }
        let used = start.len() - input.len();
        let bytes = start.get(..used).unwrap_or_default();
        let mut map = Map::new();
        map.insert("call_args".into(), Value::Array(args));
        map.insert("call_function".into(), Value::String(call.name.clone()));
        map.insert(
            "call_hash".into(),
            Value::String(crate::hex::to_hex(&crate::hashing::blake2_256(bytes))),
        );
        map.insert(
            "call_index".into(),
            Value::String(format!("0x{pallet_index:02x}{call_index:02x}")),
        );
        map.insert("call_module".into(), Value::String(pallet.name.clone()));
        Ok(Value::Object(map))
    }

    /// `MultiAddress`: an account id as its SS58 address, an index as its number, the rest as
    /// enums.
    fn multi_address(
        &mut self,
        id: u32,
        ty: &Type<PortableForm>,
        input: &mut &[u8],
    ) -> Result<Value, ValueError> {
        let mut peek: &[u8] = input;
        let (variant, _) = self.variant(id, &mut peek)?;
        match (variant.name.as_str(), variant.fields.first()) {
            ("Id" | "Index", Some(f)) => {
                *input = peek;
                self.value(f.ty.id, input)
            }
            _ => {
                let generic = ty.clone();
                self.generic(id, &generic, input)
            }
        }
    }

    /// The outer event enum: `{"module_id", "event_id", "event_index": "ppvv", "attributes"}`.
    fn runtime_event(&mut self, id: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
        let ((pallet, pallet_index), (event, event_index)) =
            self.pallet_variant(id, input, "event")?;
        let attributes = if event.fields.is_empty() {
            Value::Null
        } else {
            self.fields(&event.fields, input)?
        };
        let mut map = Map::new();
        map.insert("attributes".into(), attributes);
        map.insert("event_id".into(), Value::String(event.name.clone()));
        map.insert(
            "event_index".into(),
            Value::String(format!("{pallet_index:02x}{event_index:02x}")),
        );
        map.insert("module_id".into(), Value::String(pallet.name.clone()));
        Ok(Value::Object(map))
    }

    /// `frame_system::EventRecord`: the event's fields lifted beside `phase`, `extrinsic_idx`
    /// and `topics`, as Bittensor's tooling lists a block's events.
    fn event_record(
        &mut self,
        id: u32,
        ty: &Type<PortableForm>,
        input: &mut &[u8],
    ) -> Result<Value, ValueError> {
        let TypeDef::Composite(c) = &ty.type_def else {
            return Err(ValueError::UnknownType(id));
        };
        let field = |name: &str| {
            c.fields
                .iter()
                .find(|f| f.name.as_deref() == Some(name))
                .map(|f| f.ty.id)
                .ok_or(ValueError::UnknownType(id))
        };
        let phase = self.value(field("phase")?, input)?;
        let event = self.value(field("event")?, input)?;
        let topics = self.value(field("topics")?, input)?;
        let (phase, extrinsic_idx) = match phase {
            Value::Object(map) => match map.into_iter().next() {
                Some((name, index)) => (Value::String(name), index),
                None => (Value::Null, Value::Null),
            },
            other => (other, Value::Null),
        };
        let mut map = Map::new();
        let pallet_index = event
            .get("event_index")
            .and_then(Value::as_str)
            .and_then(|hex| u8::from_str_radix(hex.get(..2)?, 16).ok())
            .unwrap_or(0);
        map.insert(
            "attributes".into(),
            event.get("attributes").cloned().unwrap_or(Value::Null),
        );
        map.insert(
            "event_id".into(),
            event.get("event_id").cloned().unwrap_or(Value::Null),
        );
        map.insert("event_index".into(), Value::from(pallet_index));
        map.insert(
            "module_id".into(),
            event.get("module_id").cloned().unwrap_or(Value::Null),
        );
        map.insert("event".into(), event);
        map.insert("extrinsic_idx".into(), extrinsic_idx);
        map.insert("phase".into(), phase);
        map.insert("topics".into(), topics);
        Ok(Value::Object(map))
    }

    /// Reads an enum's index byte and finds its variant.
    fn variant(&self, id: u32, input: &mut &[u8]) -> Result<Level<'a>, ValueError> {
        let types = self.types;
        let TypeDef::Variant(v) = &resolve(types, id)?.type_def else {
            return Err(ValueError::Invalid {
                ty: type_name(types, id),
                why: "not an enum".into(),
            });
        };
        let index = self.take(id, input, 1)?.first().copied().unwrap_or(0);
        let variant = v
            .variants
            .iter()
            .find(|x| x.index == index)
            .ok_or_else(|| ValueError::Invalid {
                ty: type_name(types, id),
                why: format!("no variant has index {index}"),
            })?;
        Ok((variant, index))
    }

    /// A runtime's outer enum: the pallet's variant, then the variant of the pallet's own enum
    /// it wraps (`what` names it in errors: "call", "event").
    fn pallet_variant(
        &self,
        id: u32,
        input: &mut &[u8],
        what: &str,
    ) -> Result<(Level<'a>, Level<'a>), ValueError> {
        let (pallet, pallet_index) = self.variant(id, input)?;
        let inner = pallet
            .fields
            .first()
            .map(|f| f.ty.id)
            .ok_or_else(|| ValueError::Invalid {
                ty: type_name(self.types, id),
                why: format!("{what} variant {} has no {what}", pallet.name),
            })?;
        Ok(((pallet, pallet_index), self.variant(inner, input)?))
    }

    /// Named fields as an object, one unnamed field as itself, several as an array.
    fn fields(
        &mut self,
        fields: &[Field<PortableForm>],
        input: &mut &[u8],
    ) -> Result<Value, ValueError> {
        match fields {
            [] => Ok(Value::Object(Map::new())),
            [only] if only.name.is_none() => self.value(only.ty.id, input),
            _ if fields.iter().all(|f| f.name.is_some()) => {
                let mut map = Map::new();
                for f in fields {
                    let value = self.value(f.ty.id, input)?;
                    map.insert(f.name.clone().unwrap_or_default(), value);
                }
                Ok(Value::Object(map))
            }
            _ => Ok(Value::Array(
                fields
                    .iter()
                    .map(|f| self.value(f.ty.id, input))
                    .collect::<Result<_, _>>()?,
            )),
        }
    }

    fn primitive(
        &self,
        id: u32,
        p: &TypeDefPrimitive,
        input: &mut &[u8],
    ) -> Result<Value, ValueError> {
        fn int<T: Decode + Into<Value>>(
            d: &Decoder<'_>,
            id: u32,
            input: &mut &[u8],
        ) -> Result<Value, ValueError> {
            T::decode(input)
                .map(Into::into)
                .map_err(|_| d.truncated(id))
        }
        fn big<T: Decode + ToString>(
            d: &Decoder<'_>,
            id: u32,
            input: &mut &[u8],
        ) -> Result<Value, ValueError> {
            let v = T::decode(input).map_err(|_| d.truncated(id))?;
            Ok(number(&v.to_string()))
        }
        match p {
            TypeDefPrimitive::Bool => match self.take(id, input, 1)? {
                [0] => Ok(Value::Bool(false)),
                [1] => Ok(Value::Bool(true)),
                other => Err(ValueError::Invalid {
                    ty: "bool".into(),
                    why: format!("byte {:?} is neither 0 nor 1", other.first()),
                }),
            },
            TypeDefPrimitive::Char => {
                let code = u32::decode(input).map_err(|_| self.truncated(id))?;
                char::from_u32(code)
                    .map(|c| Value::String(c.to_string()))
                    .ok_or_else(|| ValueError::Invalid {
                        ty: "char".into(),
                        why: format!("{code:#x} is not a Unicode scalar value"),
                    })
            }
            TypeDefPrimitive::Str => {
                let len = self.length(id, input)?;
                let bytes = self.take(id, input, len)?;
                String::from_utf8(bytes.to_vec())
                    .map(Value::String)
                    .map_err(|_| ValueError::Invalid {
                        ty: "str".into(),
                        why: "not UTF-8".into(),
                    })
            }
            TypeDefPrimitive::U8 => int::<u8>(self, id, input),
            TypeDefPrimitive::U16 => int::<u16>(self, id, input),
            TypeDefPrimitive::U32 => int::<u32>(self, id, input),
            TypeDefPrimitive::U64 => int::<u64>(self, id, input),
            TypeDefPrimitive::U128 => big::<u128>(self, id, input),
            TypeDefPrimitive::I8 => int::<i8>(self, id, input),
            TypeDefPrimitive::I16 => int::<i16>(self, id, input),
            TypeDefPrimitive::I32 => int::<i32>(self, id, input),
            TypeDefPrimitive::I64 => int::<i64>(self, id, input),
            TypeDefPrimitive::I128 => big::<i128>(self, id, input),
            TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => {
                let bytes = self.take(id, input, 32)?;
                Ok(Value::String(crate::hex::to_hex(bytes)))
            }
        }
    }

    /// A compact integer. The bytes may encode any u128; one wider than the inner type (a
    /// primitive, or a one-field wrapper of one) is refused, as the runtime refuses it.
    fn compact(&self, id: u32, inner: u32, input: &mut &[u8]) -> Result<Value, ValueError> {
        let value = Compact::<u128>::decode(input).map_err(|_| ValueError::Invalid {
            ty: type_name(self.types, id),
            why: "not a compact integer".into(),
        })?;
        if value.0 > compact_max(self.types, inner) {
            return Err(ValueError::Invalid {
                ty: type_name(self.types, id),
                why: format!("{} does not fit", value.0),
            });
        }
        Ok(number(&value.0.to_string()))
    }
}

/// Types shown in Bittensor's own shapes rather than the generic enum/struct ones.
#[derive(Clone, Copy)]
enum Shape {
    Event,
    EventRecord,
    Call,
    MultiAddress,
    U256,
    Map,
    Era,
}

impl Shape {
    fn of(ty: &Type<PortableForm>) -> Option<Self> {
        let segments = &ty.path.segments;
        let variant = matches!(ty.type_def, TypeDef::Variant(_));
        let composite = matches!(ty.type_def, TypeDef::Composite(_));
        match segments.last().map(String::as_str) {
            Some("RuntimeEvent") if variant => Some(Shape::Event),
            Some("RuntimeCall") if variant => Some(Shape::Call),
            Some("MultiAddress") if variant => Some(Shape::MultiAddress),
            Some("EventRecord") if segments.first().is_some_and(|s| s == "frame_system") => {
                Some(Shape::EventRecord)
            }
            Some("U256") if composite => Some(Shape::U256),
            Some("BTreeMap") if composite => Some(Shape::Map),
            Some("Era") if variant => Some(Shape::Era),
            _ => None,
        }
    }
}

/// A field's Rust type name as Bittensor's tooling shows it: `Vec<u8>` is `Bytes`, and the
/// runtime's generic plumbing (`T::`, `<T>`, `<T as Config>::`, `Box<…>`) is dropped.
pub fn short_type_name(name: &str) -> String {
    let mut text = name.to_string();
    while let Some(start) = text.find("<T as ") {
        let Some(end) = text.get(start..).and_then(|rest| rest.find(">::")) else {
            break;
        };
        text.replace_range(start..start + end + 3, "");
    }
    for generic in ["<T, I>", "<T>", "<I>"] {
        text = text.replace(generic, "");
    }
    text = text.replace("T::", "");
    while let Some(inner) = text.strip_prefix("Box<").and_then(|t| t.strip_suffix('>')) {
        text = inner.to_string();
    }
    text.replace("Vec<u8>", "Bytes")
}

/// A little-endian 256-bit unsigned integer in decimal.
fn u256_to_decimal(bytes: &[u8]) -> String {
    // Four 64-bit limbs, most significant first, divided by 10¹⁹ until zero.
    let mut limbs: Vec<u64> = bytes
        .chunks(8)
        .rev()
        .map(|c| {
            let mut word = [0u8; 8];
            if let Some(w) = word.get_mut(..c.len()) {
                w.copy_from_slice(c);
            }
            u64::from_le_bytes(word)
        })
        .collect();
    const CHUNK: u64 = 10_000_000_000_000_000_000;
    let mut parts = Vec::new();
    while limbs.iter().any(|&l| l != 0) {
        let mut rem: u128 = 0;
        for limb in limbs.iter_mut() {
            let cur = (rem << 64) | u128::from(*limb);
            *limb = (cur / u128::from(CHUNK)) as u64;
            rem = cur % u128::from(CHUNK);
        }
        parts.push(rem as u64);
    }
    let mut text = parts
        .pop()
        .map_or_else(|| "0".to_string(), |p| p.to_string());
    while let Some(p) = parts.pop() {
        text.push_str(&format!("{p:019}"));
    }
    text
}

/// The inverse of [`u256_to_decimal`]; `None` for anything but decimal digits below 2²⁵⁶.
fn decimal_to_u256(text: &str) -> Option<[u8; 32]> {
    let mut limbs = [0u64; 4]; // least significant first
    if text.is_empty() {
        return None;
    }
    for c in text.chars() {
        let mut carry = u128::from(c.to_digit(10)?);
        for limb in limbs.iter_mut() {
            let cur = u128::from(*limb) * 10 + carry;
            *limb = cur as u64;
            carry = cur >> 64;
        }
        if carry != 0 {
            return None;
        }
    }
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_mut(8).zip(limbs) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    Some(out)
}

/// The largest value a compact of type `inner` may hold: its primitive's maximum, looking
/// through single-field wrappers; u128's when it is something else.
fn compact_max(types: &PortableRegistry, inner: u32) -> u128 {
    let mut id = inner;
    for _ in 0..MAX_DEPTH {
        match types.resolve(id).map(|t| &t.type_def) {
            Some(TypeDef::Primitive(p)) => {
                return match p {
                    TypeDefPrimitive::U8 => u128::from(u8::MAX),
                    TypeDefPrimitive::U16 => u128::from(u16::MAX),
                    TypeDefPrimitive::U32 => u128::from(u32::MAX),
                    TypeDefPrimitive::U64 => u128::from(u64::MAX),
                    _ => u128::MAX,
                };
            }
            Some(TypeDef::Composite(c)) if c.fields.len() == 1 => {
                id = c.fields.first().map_or(id, |f| f.ty.id);
            }
            Some(TypeDef::Tuple(t)) if t.fields.len() == 1 => {
                id = t.fields.first().map_or(id, |f| f.id);
            }
            _ => return u128::MAX,
        }
    }
    u128::MAX
}

/// A JSON number from decimal digits (exact at any size: serde_json's arbitrary precision).
fn number(digits: &str) -> Value {
    digits
        .parse::<Number>()
        .map(Value::Number)
        .unwrap_or_else(|_| Value::String(digits.to_string()))
}

/// Encodes `value` (in the JSON shapes of [`decode`]) as type `id`.
pub fn encode(
    types: &PortableRegistry,
    id: u32,
    value: &Value,
    out: &mut Vec<u8>,
) -> Result<(), ValueError> {
    Encoder { types, depth: 0 }.value(id, value, out)
}

struct Encoder<'a> {
    types: &'a PortableRegistry,
    depth: usize,
}

impl Encoder<'_> {
    fn mismatch(&self, id: u32, expected: &str) -> ValueError {
        ValueError::Mismatch {
            ty: type_name(self.types, id),
            expected: expected.into(),
        }
    }

    fn value(&mut self, id: u32, value: &Value, out: &mut Vec<u8>) -> Result<(), ValueError> {
        if self.depth >= MAX_DEPTH {
            return Err(ValueError::TooDeep);
        }
        self.depth += 1;
        let result = self.value_inner(id, value, out);
        self.depth -= 1;
        result
    }

    fn value_inner(&mut self, id: u32, value: &Value, out: &mut Vec<u8>) -> Result<(), ValueError> {
        let types = self.types;
        let ty = resolve(types, id)?;
        if is_account(ty) {
            let key = account_bytes(value)
                .ok_or_else(|| self.mismatch(id, "an SS58 address or 0x-prefixed 32-byte hex"))?;
            out.extend_from_slice(&key);
            return Ok(());
        }
        match Shape::of(ty) {
            Some(shape @ (Shape::Event | Shape::EventRecord)) => {
                return self.event(id, ty, shape, value, out);
            }
            Some(Shape::Call) => {
                // An already encoded call (from `extrinsic::encode_call`), as 0x hex.
                if let Some(bytes) = hex_bytes(value) {
                    out.extend_from_slice(&bytes);
                    return Ok(());
                }
                let text = |key: &str| value.get(key).and_then(Value::as_str);
                if let (Some(module), Some(function)) = (text("call_module"), text("call_function"))
                {
                    let args: Map<String, Value> = value
                        .get("call_args")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|a| {
                            Some((
                                a.get("name")?.as_str()?.to_string(),
                                a.get("value")?.clone(),
                            ))
                        })
                        .collect();
                    let generic = Value::Object(Map::from_iter([(
                        module.to_string(),
                        Value::Object(Map::from_iter([(
                            function.to_string(),
                            Value::Object(args),
                        )])),
                    )]));
                    return self.generic_variant(id, ty, &generic, out);
                }
            }
            Some(Shape::MultiAddress) => {
                let TypeDef::Variant(v) = &ty.type_def else {
                    return Err(ValueError::UnknownType(id));
                };
                let by_name = |name: &str| v.variants.iter().find(|x| x.name == name);
                let pick = match value {
                    Value::String(_) => by_name("Id"),
                    Value::Number(_) => by_name("Index"),
                    _ => None,
                };
                if let Some(variant) = pick {
                    out.push(variant.index);
                    let inner = variant.fields.first().map(|f| f.ty.id).unwrap_or(0);
                    return self.value(inner, value, out);
                }
            }
            Some(Shape::Era) => {
                match value {
                    Value::String(text) if text == "00" => out.push(0),
                    Value::Array(items) => match (
                        items.first().and_then(Value::as_u64),
                        items.get(1).and_then(Value::as_u64),
                    ) {
                        (Some(period), Some(phase)) => {
                            let encoded = crate::era::encode_raw(period, phase)
                                .ok_or_else(|| self.mismatch(id, "a valid [period, phase]"))?;
                            out.extend_from_slice(&encoded.to_le_bytes());
                        }
                        _ => return Err(self.mismatch(id, "[period, phase] or \"00\"")),
                    },
                    _ => return Err(self.mismatch(id, "[period, phase] or \"00\"")),
                }
                return Ok(());
            }
            Some(Shape::U256) => {
                let bytes = match value {
                    Value::Number(n) => decimal_to_u256(&n.to_string()),
                    Value::String(text) => decimal_to_u256(text.trim()),
                    _ => None,
                }
                .ok_or_else(|| self.mismatch(id, "an integer below 2^256"))?;
                out.extend_from_slice(&bytes);
                return Ok(());
            }
            Some(Shape::Map) => {
                if let (Value::Object(map), TypeDef::Composite(c)) = (value, &ty.type_def) {
                    let pairs = Value::Array(
                        map.iter()
                            .map(|(k, v)| Value::Array(vec![Value::String(k.clone()), v.clone()]))
                            .collect(),
                    );
                    return self.fields(id, &c.fields, &pairs, out);
                }
            }
            None => {}
        }
        match &ty.type_def {
            TypeDef::Primitive(p) => self.primitive(id, p, value, out),
            TypeDef::Compact(c) => {
                let n: u128 = integer(value)
                    .filter(|&n| n <= compact_max(types, c.type_param.id))
                    .ok_or_else(|| self.mismatch(id, "a non-negative integer in range"))?;
                Compact(n).encode_to(out);
                Ok(())
            }
            TypeDef::Array(a) => {
                if is_u8(types, a.type_param.id) && a.len > 0 {
                    let bytes = hex_bytes(value)
                        .filter(|b| b.len() == a.len as usize)
                        .ok_or_else(|| self.mismatch(id, &format!("0x hex of {} bytes", a.len)))?;
                    out.extend_from_slice(&bytes);
                    return Ok(());
                }
                let items = value
                    .as_array()
                    .filter(|items| items.len() == a.len as usize)
                    .ok_or_else(|| self.mismatch(id, &format!("an array of {}", a.len)))?;
                items
                    .iter()
                    .try_for_each(|item| self.value(a.type_param.id, item, out))
            }
            TypeDef::Sequence(s) => {
                if is_u8(types, s.type_param.id) {
                    let bytes = match value {
                        Value::String(text) if !text.starts_with("0x") => text.as_bytes().to_vec(),
                        _ => hex_bytes(value).ok_or_else(|| self.mismatch(id, "text or 0x hex"))?,
                    };
                    Compact(bytes.len() as u32).encode_to(out);
                    out.extend_from_slice(&bytes);
                    return Ok(());
                }
                let items = value
                    .as_array()
                    .ok_or_else(|| self.mismatch(id, "an array"))?;
                Compact(items.len() as u32).encode_to(out);
                items
                    .iter()
                    .try_for_each(|item| self.value(s.type_param.id, item, out))
            }
            TypeDef::Tuple(t) => {
                let items = value
                    .as_array()
                    .filter(|items| items.len() == t.fields.len())
                    .ok_or_else(|| self.mismatch(id, &format!("an array of {}", t.fields.len())))?;
                t.fields
                    .iter()
                    .zip(items)
                    .try_for_each(|(f, item)| self.value(f.id, item, out))
            }
            TypeDef::Composite(c) if c.fields.is_empty() => Ok(()),
            TypeDef::Composite(c) => self.fields(id, &c.fields, value, out),
            TypeDef::Variant(v) => {
                let is_option = ty.path.segments.last().is_some_and(|s| s == "Option");
                if is_option {
                    let none = v.variants.iter().find(|x| x.fields.is_empty());
                    let some = v.variants.iter().find(|x| !x.fields.is_empty());
                    return match (value, none, some) {
                        (Value::Null, Some(none), _) => {
                            out.push(none.index);
                            Ok(())
                        }
                        (_, _, Some(some)) => {
                            out.push(some.index);
                            let inner = some.fields.first().map(|f| f.ty.id).unwrap_or(0);
                            self.value(inner, value, out)
                        }
                        _ => Err(self.mismatch(id, "a value or null")),
                    };
                }
                self.generic_variant(id, ty, value, out)
            }
            TypeDef::BitSequence(_) => {
                let bits = value
                    .as_array()
                    .ok_or_else(|| self.mismatch(id, "an array of booleans"))?;
                Compact(bits.len() as u32).encode_to(out);
                let mut bytes = vec![0u8; bits.len().div_ceil(8)];
                for (i, bit) in bits.iter().enumerate() {
                    if bit.as_bool().ok_or_else(|| self.mismatch(id, "booleans"))?
                        && let Some(b) = bytes.get_mut(i / 8)
                    {
                        *b |= 1 << (i % 8);
                    }
                }
                out.extend_from_slice(&bytes);
                Ok(())
            }
        }
    }

    /// The inverse of the decoder's event shapes.
    fn event(
        &mut self,
        id: u32,
        ty: &Type<PortableForm>,
        shape: Shape,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), ValueError> {
        let text = |key: &str| value.get(key).and_then(Value::as_str);
        match shape {
            Shape::Event => {
                let (Some(module), Some(event)) = (text("module_id"), text("event_id")) else {
                    return Err(self.mismatch(id, "an object with module_id and event_id"));
                };
                let attributes = value.get("attributes").cloned().unwrap_or(Value::Null);
                let inner = if attributes.is_null() {
                    Value::String(event.into())
                } else {
                    Value::Object(Map::from_iter([(event.to_string(), attributes)]))
                };
                let generic = Value::Object(Map::from_iter([(module.to_string(), inner)]));
                self.generic_variant(id, ty, &generic, out)
            }
            _ => {
                let TypeDef::Composite(c) = &ty.type_def else {
                    return Err(ValueError::UnknownType(id));
                };
                let phase = match (text("phase"), value.get("extrinsic_idx")) {
                    (Some(name), Some(index)) if !index.is_null() => {
                        Value::Object(Map::from_iter([(name.to_string(), index.clone())]))
                    }
                    (Some(name), _) => Value::String(name.into()),
                    _ => return Err(self.mismatch(id, "an object with a phase")),
                };
                let generic = Value::Object(Map::from_iter([
                    ("phase".to_string(), phase),
                    (
                        "event".to_string(),
                        value.get("event").cloned().unwrap_or(Value::Null),
                    ),
                    (
                        "topics".to_string(),
                        value.get("topics").cloned().unwrap_or(Value::Null),
                    ),
                ]));
                self.fields(id, &c.fields, &generic, out)
            }
        }
    }

    fn generic_variant(
        &mut self,
        id: u32,
        ty: &Type<PortableForm>,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), ValueError> {
        let TypeDef::Variant(v) = &ty.type_def else {
            return Err(ValueError::UnknownType(id));
        };
        let (name, inner) = match value {
            Value::String(name) => (name.as_str(), &Value::Null),
            Value::Object(map) if map.len() == 1 => match map.iter().next() {
                Some((name, inner)) => (name.as_str(), inner),
                None => return Err(self.mismatch(id, "{\"Variant\": value}")),
            },
            _ => return Err(self.mismatch(id, "\"Variant\" or {\"Variant\": value}")),
        };
        let variant = v.variants.iter().find(|x| x.name == name).ok_or_else(|| {
            let names: Vec<&str> = v.variants.iter().map(|x| x.name.as_str()).collect();
            self.mismatch(id, &format!("one of {}", names.join(", ")))
        })?;
        out.push(variant.index);
        self.fields(id, &variant.fields, inner, out)
    }

    fn fields(
        &mut self,
        id: u32,
        fields: &[Field<PortableForm>],
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), ValueError> {
        match fields {
            [] => Ok(()),
            [only] if only.name.is_none() => self.value(only.ty.id, value, out),
            _ if fields.iter().all(|f| f.name.is_some()) => {
                let map = value
                    .as_object()
                    .ok_or_else(|| self.mismatch(id, "an object"))?;
                for f in fields {
                    let name = f.name.as_deref().unwrap_or_default();
                    let field = map.get(name).ok_or_else(|| ValueError::Mismatch {
                        ty: type_name(self.types, id),
                        expected: format!("an object with the field `{name}`"),
                    })?;
                    self.value(f.ty.id, field, out)?;
                }
                Ok(())
            }
            _ => {
                let items = value
                    .as_array()
                    .filter(|items| items.len() == fields.len())
                    .ok_or_else(|| self.mismatch(id, &format!("an array of {}", fields.len())))?;
                fields
                    .iter()
                    .zip(items)
                    .try_for_each(|(f, item)| self.value(f.ty.id, item, out))
            }
        }
    }

    fn primitive(
        &self,
        id: u32,
        p: &TypeDefPrimitive,
        value: &Value,
        out: &mut Vec<u8>,
    ) -> Result<(), ValueError> {
        let int = || integer::<i128>(value).ok_or_else(|| self.mismatch(id, "an integer"));
        let range = || self.mismatch(id, "an integer in range");
        match p {
            TypeDefPrimitive::Bool => {
                let b = value
                    .as_bool()
                    .ok_or_else(|| self.mismatch(id, "true or false"))?;
                out.push(u8::from(b));
            }
            TypeDefPrimitive::Char => {
                let c = value
                    .as_str()
                    .and_then(|s| {
                        let mut chars = s.chars();
                        chars.next().filter(|_| chars.next().is_none())
                    })
                    .ok_or_else(|| self.mismatch(id, "a one-character string"))?;
                (c as u32).encode_to(out);
            }
            TypeDefPrimitive::Str => value
                .as_str()
                .ok_or_else(|| self.mismatch(id, "a string"))?
                .encode_to(out),
            TypeDefPrimitive::U8 => u8::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::U16 => u16::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::U32 => u32::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::U64 => u64::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::U128 => integer::<u128>(value)
                .ok_or_else(|| self.mismatch(id, "a non-negative integer below 2^128"))?
                .encode_to(out),
            TypeDefPrimitive::I8 => i8::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::I16 => i16::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::I32 => i32::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::I64 => i64::try_from(int()?).map_err(|_| range())?.encode_to(out),
            TypeDefPrimitive::I128 => int()?.encode_to(out),
            TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => {
                let bytes = hex_bytes(value)
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| self.mismatch(id, "0x hex of 32 bytes"))?;
                out.extend_from_slice(&bytes);
            }
        }
        Ok(())
    }
}

/// An integer from a JSON number or a decimal string (for values above 2⁵³ typed by people).
fn integer<T: std::str::FromStr>(value: &Value) -> Option<T> {
    match value {
        Value::Number(n) => n.to_string().parse().ok(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn hex_bytes(value: &Value) -> Option<Vec<u8>> {
    let text = value.as_str()?;
    text.starts_with("0x")
        .then(|| crate::hex::from_hex(text).ok())
        .flatten()
}

/// An account from SS58 (any network prefix is refused but 42's) or 32-byte hex.
fn account_bytes(value: &Value) -> Option<[u8; 32]> {
    let text = value.as_str()?;
    if text.starts_with("0x") {
        let bytes = crate::hex::from_hex(text).ok()?;
        return bytes.try_into().ok();
    }
    ss58::decode(text).ok()
}
