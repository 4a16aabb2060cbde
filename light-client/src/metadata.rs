//! Runtime metadata: what the runtime says its storage, calls, constants, runtime APIs and
//! transaction extensions are, with the type registry that describes every value's layout.
//!
//! Bittensor changes these between runtime versions (a `netuid` argument appears in `add_stake`,
//! transaction extensions come and go), so nothing in this crate hard-codes a layout: storage keys,
//! calls and extrinsics are built from the metadata of the runtime being talked to, and typed values
//! are decoded only after checking that the metadata's type is the shape the Rust type expects.
//!
//! Accepted bytes (all untrusted; errors name what is wrong, never a panic):
//! - `state_getMetadata`: `"meta"` ‖ version ‖ metadata;
//! - `Metadata_metadata_at_version(v)` output: `Option<OpaqueMetadata>` (`01` ‖ compact length ‖ …);
//! - `Metadata_metadata` output: `OpaqueMetadata` (compact length ‖ …).
//!
//! Versions 14 and 15 are read (15 adds runtime APIs and names the extrinsic's types).

use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed, v14, v15};
use parity_scale_codec::{Compact, Decode};
use scale_info::form::PortableForm;
use scale_info::{PortableRegistry, TypeDef};
use std::fmt;

pub use frame_metadata::v14::StorageHasher;

/// `"meta"`, little-endian, before the version byte.
const MAGIC: [u8; 4] = *b"meta";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MetadataError {
    /// Not metadata at all (no `meta` magic where it belongs).
    NotMetadata,
    /// `Metadata_metadata_at_version` returned `None`: the runtime does not offer this version.
    VersionNotOffered,
    /// A version this crate does not read.
    UnsupportedVersion(u8),
    /// The bytes end early or contradict themselves.
    Malformed(String),
    /// Decoding finished with bytes left over.
    TrailingBytes(usize),
    /// Something the extrinsic format needs is missing or of an unexpected shape.
    Incomplete(String),
}

impl fmt::Display for MetadataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataError::NotMetadata => write!(
                f,
                "these bytes are not runtime metadata (no \"meta\" magic): expected state_getMetadata or Metadata_metadata_at_version output"
            ),
            MetadataError::VersionNotOffered => {
                write!(f, "the runtime does not offer metadata at this version")
            }
            MetadataError::UnsupportedVersion(v) => write!(
                f,
                "metadata version {v} is not supported (versions 14 and 15 are)"
            ),
            MetadataError::Malformed(why) => write!(f, "malformed metadata: {why}"),
            MetadataError::TrailingBytes(n) => {
                write!(f, "malformed metadata: {n} bytes left after the end")
            }
            MetadataError::Incomplete(why) => write!(f, "incomplete metadata: {why}"),
        }
    }
}

impl std::error::Error for MetadataError {}

/// A pallet's storage entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StorageEntry {
    pub name: String,
    /// `Optional` entries are absent until set; `Default` ones read as `default` when absent.
    pub optional: bool,
    /// Map keys' hashers, one per key part; empty for a plain value.
    pub hashers: Vec<StorageHasher>,
    /// The key type (a tuple of the parts when there are several); `None` for a plain value.
    pub key_ty: Option<u32>,
    pub value_ty: u32,
    /// The SCALE bytes of the value when absent.
    pub default: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constant {
    pub name: String,
    pub ty: u32,
    pub value: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pallet {
    pub name: String,
    /// The pallet's index: the first byte of its calls and events.
    pub index: u8,
    /// Storage prefix (usually the pallet name) and entries.
    pub storage_prefix: String,
    pub storage: Vec<StorageEntry>,
    /// The pallet's call enum type, if it has calls.
    pub calls_ty: Option<u32>,
    /// The pallet's error enum type, if it has errors.
    pub error_ty: Option<u32>,
    pub constants: Vec<Constant>,
}

/// A runtime module error, by name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleError {
    pub pallet: String,
    pub name: String,
    /// Its documentation (empty where the runtime was built without docs).
    pub docs: String,
}

impl std::fmt::Display for ModuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.pallet, self.name)?;
        if !self.docs.is_empty() {
            write!(f, " ({})", self.docs)?;
        }
        Ok(())
    }
}

/// A call as the metadata describes it: pallet index, call index and fields (name, type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInfo {
    pub pallet_index: u8,
    pub call_index: u8,
    pub fields: Vec<(String, u32)>,
}

/// A transaction extension, in the order the runtime expects them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Extension {
    pub identifier: String,
    /// What the extrinsic carries for it (explicit data).
    pub ty: u32,
    /// What only the signing payload carries (implicit data).
    pub implicit_ty: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeApiMethod {
    pub name: String,
    pub inputs: Vec<(String, u32)>,
    pub output: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuntimeApi {
    pub name: String,
    pub methods: Vec<RuntimeApiMethod>,
}

/// The extrinsic format: version byte and the types of its parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtrinsicFormat {
    pub version: u8,
    pub address_ty: u32,
    pub call_ty: u32,
    pub signature_ty: u32,
    pub extensions: Vec<Extension>,
}

/// Decoded metadata, indexed for lookup by name.
#[derive(Clone, Debug)]
pub struct Metadata {
    /// 14 or 15.
    pub version: u8,
    pub types: PortableRegistry,
    pub pallets: Vec<Pallet>,
    pub extrinsic: ExtrinsicFormat,
    /// Runtime APIs (V15 only; empty for V14).
    pub runtime_apis: Vec<RuntimeApi>,
}

impl Metadata {
    /// Decodes metadata in any of the accepted forms (see the module docs).
    pub fn decode(bytes: &[u8]) -> Result<Self, MetadataError> {
        let prefixed = unwrap_opaque(bytes)?;
        let mut input = prefixed;
        let RuntimeMetadataPrefixed(magic, runtime) = RuntimeMetadataPrefixed::decode(&mut input)
            .map_err(|e| match prefixed.get(4) {
            Some(&v) if !(14..=15).contains(&v) => MetadataError::UnsupportedVersion(v),
            _ => MetadataError::Malformed(e.to_string()),
        })?;
        if magic != u32::from_le_bytes(MAGIC) {
            return Err(MetadataError::NotMetadata);
        }
        if !input.is_empty() {
            return Err(MetadataError::TrailingBytes(input.len()));
        }
        match runtime {
            RuntimeMetadata::V14(m) => from_v14(m),
            RuntimeMetadata::V15(m) => from_v15(m),
            other => Err(MetadataError::UnsupportedVersion(other.version() as u8)),
        }
    }

    pub fn pallet(&self, name: &str) -> Option<&Pallet> {
        self.pallets.iter().find(|p| p.name == name)
    }

    pub fn pallet_by_index(&self, index: u8) -> Option<&Pallet> {
        self.pallets.iter().find(|p| p.index == index)
    }

    pub fn storage(&self, pallet: &str, entry: &str) -> Option<(&Pallet, &StorageEntry)> {
        let p = self.pallet(pallet)?;
        p.storage.iter().find(|e| e.name == entry).map(|e| (p, e))
    }

    pub fn constant(&self, pallet: &str, name: &str) -> Option<&Constant> {
        self.pallet(pallet)?
            .constants
            .iter()
            .find(|c| c.name == name)
    }

    pub fn runtime_api(&self, api: &str, method: &str) -> Option<&RuntimeApiMethod> {
        self.runtime_apis
            .iter()
            .find(|a| a.name == api)?
            .methods
            .iter()
            .find(|m| m.name == method)
    }

    /// A module error (`DispatchError::Module`) by name: the pallet at `pallet_index` and the
    /// variant of its error enum that `error`'s first byte names, with its documentation.
    pub fn module_error(&self, pallet_index: u8, error: &[u8]) -> Option<ModuleError> {
        let p = self.pallets.iter().find(|p| p.index == pallet_index)?;
        let ty = self.types.resolve(p.error_ty?)?;
        let TypeDef::Variant(variants) = &ty.type_def else {
            return None;
        };
        let v = variants
            .variants
            .iter()
            .find(|v| Some(&v.index) == error.first())?;
        Some(ModuleError {
            pallet: p.name.clone(),
            name: v.name.clone(),
            docs: v.docs.join(" ").trim().to_string(),
        })
    }

    /// The variant of `pallet`'s call enum named `call`.
    pub fn call(&self, pallet: &str, call: &str) -> Option<CallInfo> {
        let p = self.pallet(pallet)?;
        let ty = self.types.resolve(p.calls_ty?)?;
        let TypeDef::Variant(variants) = &ty.type_def else {
            return None;
        };
        let v = variants.variants.iter().find(|v| v.name == call)?;
        let fields = v
            .fields
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone().unwrap_or_else(|| i.to_string()), f.ty.id))
            .collect();
        Some(CallInfo {
            pallet_index: p.index,
            call_index: v.index,
            fields,
        })
    }

    /// The runtime's version (`System.Version`): spec name and spec version.
    pub fn runtime_version(&self) -> Option<(String, u32)> {
        let value = &self.constant("System", "Version")?.value;
        let mut input = value.as_slice();
        let spec_name = String::decode(&mut input).ok()?;
        let _impl_name = String::decode(&mut input).ok()?;
        let _authoring_version = u32::decode(&mut input).ok()?;
        let spec_version = u32::decode(&mut input).ok()?;
        Some((spec_name, spec_version))
    }

    /// The version of runtime API `api` (`"Metadata"`, `"TransactionPaymentApi"`) the runtime
    /// implements, from the `apis` of its `System.Version`; `None` when it lists no such API.
    /// V14 metadata lists no API methods, but every runtime's version lists its APIs by id.
    pub fn api_version(&self, api: &str) -> Option<u32> {
        let value = &self.constant("System", "Version")?.value;
        let mut input = value.as_slice();
        String::decode(&mut input).ok()?; // spec_name
        String::decode(&mut input).ok()?; // impl_name
        <[u32; 3]>::decode(&mut input).ok()?; // authoring, spec and impl versions
        let apis = Vec::<([u8; 8], u32)>::decode(&mut input).ok()?;
        let id = crate::hashing::blake2_64(api.as_bytes());
        apis.into_iter().find(|(a, _)| *a == id).map(|(_, v)| v)
    }

    /// The spec version, or 0 when the metadata does not say (used in error messages).
    pub fn spec_version(&self) -> u32 {
        self.runtime_version().map_or(0, |(_, v)| v)
    }
}

/// Strips `Option<OpaqueMetadata>` or `OpaqueMetadata` framing, returning `"meta"`-prefixed bytes.
fn unwrap_opaque(bytes: &[u8]) -> Result<&[u8], MetadataError> {
    if bytes.starts_with(&MAGIC) {
        return Ok(bytes);
    }
    fn framed(mut input: &[u8]) -> Option<&[u8]> {
        let len = Compact::<u32>::decode(&mut input).ok()?.0 as usize;
        (input.len() == len && input.starts_with(&MAGIC)).then_some(input)
    }
    match bytes.first() {
        Some(0) if bytes.len() == 1 => Err(MetadataError::VersionNotOffered),
        Some(1) => bytes
            .get(1..)
            .and_then(framed)
            .or_else(|| framed(bytes))
            .ok_or(MetadataError::NotMetadata),
        Some(_) => framed(bytes).ok_or(MetadataError::NotMetadata),
        None => Err(MetadataError::Malformed("no bytes".into())),
    }
}

fn storage_entries(
    storage: Option<v14::PalletStorageMetadata<PortableForm>>,
) -> (String, Vec<StorageEntry>) {
    let Some(storage) = storage else {
        return (String::new(), Vec::new());
    };
    let entries = storage
        .entries
        .into_iter()
        .map(|e| {
            let optional = matches!(e.modifier, v14::StorageEntryModifier::Optional);
            let (hashers, key_ty, value_ty) = match e.ty {
                v14::StorageEntryType::Plain(ty) => (Vec::new(), None, ty.id),
                v14::StorageEntryType::Map {
                    hashers,
                    key,
                    value,
                } => (hashers, Some(key.id), value.id),
            };
            StorageEntry {
                name: e.name,
                optional,
                hashers,
                key_ty,
                value_ty,
                default: e.default,
            }
        })
        .collect();
    (storage.prefix, entries)
}

/// One pallet of either version (V15 reuses V14's storage, call and constant types).
fn pallet(
    name: String,
    index: u8,
    storage: Option<v14::PalletStorageMetadata<PortableForm>>,
    calls: Option<v14::PalletCallMetadata<PortableForm>>,
    error: Option<v14::PalletErrorMetadata<PortableForm>>,
    constant_list: Vec<v14::PalletConstantMetadata<PortableForm>>,
) -> Pallet {
    let (storage_prefix, storage) = storage_entries(storage);
    Pallet {
        name,
        index,
        storage_prefix,
        storage,
        calls_ty: calls.map(|c| c.ty.id),
        error_ty: error.map(|e| e.ty.id),
        constants: constants(constant_list),
    }
}

fn constants(constants: Vec<v14::PalletConstantMetadata<PortableForm>>) -> Vec<Constant> {
    constants
        .into_iter()
        .map(|c| Constant {
            name: c.name,
            ty: c.ty.id,
            value: c.value,
        })
        .collect()
}

/// (identifier, explicit type, implicit type) of each extension, in order.
fn extensions(list: impl Iterator<Item = (String, u32, u32)>) -> Vec<Extension> {
    list.map(|(identifier, ty, implicit_ty)| Extension {
        identifier,
        ty,
        implicit_ty,
    })
    .collect()
}

fn from_v14(m: v14::RuntimeMetadataV14) -> Result<Metadata, MetadataError> {
    // V14 names the extrinsic's address, call and signature types only as the type parameters
    // of `UncheckedExtrinsic<Address, Call, Signature, Extra>`.
    let ext_ty = m.types.resolve(m.extrinsic.ty.id).ok_or_else(|| {
        MetadataError::Incomplete("the extrinsic type is not in the registry".into())
    })?;
    let param = |name: &str| -> Result<u32, MetadataError> {
        ext_ty
            .type_params
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.ty.map(|t| t.id))
            .ok_or_else(|| {
                MetadataError::Incomplete(format!(
                    "the extrinsic type has no `{name}` type parameter"
                ))
            })
    };
    let extrinsic = ExtrinsicFormat {
        version: m.extrinsic.version,
        address_ty: param("Address")?,
        call_ty: param("Call")?,
        signature_ty: param("Signature")?,
        extensions: extensions(
            m.extrinsic
                .signed_extensions
                .into_iter()
                .map(|e| (e.identifier, e.ty.id, e.additional_signed.id)),
        ),
    };
    let pallets = m
        .pallets
        .into_iter()
        .map(|p| pallet(p.name, p.index, p.storage, p.calls, p.error, p.constants))
        .collect();
    Ok(Metadata {
        version: 14,
        types: m.types,
        pallets,
        extrinsic,
        runtime_apis: Vec::new(),
    })
}

fn from_v15(m: v15::RuntimeMetadataV15) -> Result<Metadata, MetadataError> {
    let extrinsic = ExtrinsicFormat {
        version: m.extrinsic.version,
        address_ty: m.extrinsic.address_ty.id,
        call_ty: m.extrinsic.call_ty.id,
        signature_ty: m.extrinsic.signature_ty.id,
        extensions: extensions(
            m.extrinsic
                .signed_extensions
                .into_iter()
                .map(|e| (e.identifier, e.ty.id, e.additional_signed.id)),
        ),
    };
    let pallets = m
        .pallets
        .into_iter()
        .map(|p| pallet(p.name, p.index, p.storage, p.calls, p.error, p.constants))
        .collect();
    let runtime_apis = m
        .apis
        .into_iter()
        .map(|api| RuntimeApi {
            name: api.name,
            methods: api
                .methods
                .into_iter()
                .map(|method| RuntimeApiMethod {
                    name: method.name,
                    inputs: method
                        .inputs
                        .into_iter()
                        .map(|i| (i.name, i.ty.id))
                        .collect(),
                    output: method.output.id,
                })
                .collect(),
        })
        .collect();
    Ok(Metadata {
        version: 15,
        types: m.types,
        pallets,
        extrinsic,
        runtime_apis,
    })
}

/// What RFC-0078's metadata hash covers besides the metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainInfo {
    pub spec_name: String,
    pub spec_version: u32,
    pub ss58_prefix: u16,
    pub decimals: u8,
    pub token_symbol: String,
}

/// The RFC-0078 metadata hash of metadata `bytes` (V15 or later, any of the accepted forms):
/// what `CheckMetadataHash` signs, so a hardware wallet can check the metadata it decodes with.
pub fn metadata_hash(bytes: &[u8], chain: &ChainInfo) -> Result<[u8; 32], MetadataError> {
    let mut input = unwrap_opaque(bytes)?;
    let RuntimeMetadataPrefixed(_, runtime) = RuntimeMetadataPrefixed::decode(&mut input)
        .map_err(|e| MetadataError::Malformed(e.to_string()))?;
    let digest = merkleized_metadata::generate_metadata_digest(
        &runtime,
        merkleized_metadata::ExtraInfo {
            spec_version: chain.spec_version,
            spec_name: chain.spec_name.clone(),
            base58_prefix: chain.ss58_prefix,
            decimals: chain.decimals,
            token_symbol: chain.token_symbol.clone(),
        },
    )
    .map_err(MetadataError::Incomplete)?;
    Ok(digest.hash())
}
