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

impl StorageValue for u32 {
    const LAYOUT: &'static str = "u32";
}

impl StorageValue for i16 {
    const LAYOUT: &'static str = "i16";
}

impl StorageValue for (u16, u16) {
    const LAYOUT: &'static str = "(u16,u16)";
}

/// Per-uid vectors of a subnet (`Consensus`, `Incentive`, …: u16 proportions).
impl StorageValue for Vec<u16> {
    const LAYOUT: &'static str = "Vec<u16>";
}

/// `Active`, `ValidatorPermit`.
impl StorageValue for Vec<bool> {
    const LAYOUT: &'static str = "Vec<bool>";
}

/// `Emission` (rao), `LastUpdate` (block numbers).
impl StorageValue for Vec<u64> {
    const LAYOUT: &'static str = "Vec<u64>";
}

/// A `Weights` or `Bonds` row: (uid, u16 value) pairs.
impl StorageValue for Vec<(u16, u16)> {
    const LAYOUT: &'static str = "Vec<(u16,u16)>";
}

/// An account (`Keys`, `SubnetOwner`), as its SS58 address.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Account(pub String);

impl StorageValue for Account {
    const LAYOUT: &'static str = "AccountId";
}
