//! Which runtime is in force: what the transports report and the metadata cache is keyed by.

/// A runtime's identity, as its own version section (or `Core_version`) says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuntimeSpec {
    pub spec_name: String,
    pub spec_version: u32,
    pub transaction_version: u32,
}

impl RuntimeSpec {
    /// Reads `Core_version`'s output (`sp_version::RuntimeVersion`): spec name, impl name,
    /// authoring version, spec version, impl version, the API list, transaction version.
    pub fn decode_core_version(bytes: &[u8]) -> Result<Self, String> {
        use parity_scale_codec::Decode;
        type Version = (String, String, u32, u32, u32, Vec<([u8; 8], u32)>, u32);
        let (spec_name, _, _, spec_version, _, _, transaction_version) =
            Version::decode(&mut &bytes[..]).map_err(|e| format!("not a runtime version: {e}"))?;
        Ok(RuntimeSpec {
            spec_name,
            spec_version,
            transaction_version,
        })
    }
}
