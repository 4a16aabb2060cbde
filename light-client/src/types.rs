//! Bittensor values the product reads as Rust types, each with the storage layout it was
//! written for (checked against the runtime's metadata before decoding; see
//! [`crate::storage::read_typed`]).

use crate::storage::StorageValue;
use serde::Deserialize;

/// `System.Account`: Bittensor's balances are u64 rao.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AccountInfo {
    pub nonce: u32,
    pub consumers: u32,
    pub providers: u32,
    pub sufficients: u32,
    pub data: AccountData,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct AccountData {
    pub free: u64,
    pub reserved: u64,
    pub frozen: u64,
    pub flags: u128,
}

impl StorageValue for AccountInfo {
    const LAYOUT: &'static str = "{nonce:u32,consumers:u32,providers:u32,sufficients:u32,data:{free:u64,reserved:u64,frozen:u64,flags:u128}}";
}

/// A per-subnet u16 hyperparameter (`Tempo`, `Kappa`, `MaxAllowedValidators`, …).
impl StorageValue for u16 {
    const LAYOUT: &'static str = "u16";
}

impl StorageValue for u64 {
    const LAYOUT: &'static str = "u64";
}

impl StorageValue for bool {
    const LAYOUT: &'static str = "bool";
}
