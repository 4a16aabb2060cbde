//! Which runtime is in force: what the transports report and the metadata cache is keyed by.

/// A runtime's identity, as its own version section (or `Core_version`) says.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuntimeSpec {
    pub spec_name: String,
    pub spec_version: u32,
    pub transaction_version: u32,
}
