//! Bittensor chain access for taoscope.
//!
//! This crate will hold the light client and the typed Bittensor API (storage, runtime calls,
//! extrinsics). Like the rest of taoscope it keeps verification apart from fetching: the modules
//! here are pure and I/O-free, and transports live at the edge.
//!
//! Today it holds the two pieces every page needs to show chain values to people:
//! - [`ss58`]: account addresses (network prefix 42), with checksum verification;
//! - [`units`]: TAO and rao (1 TAO = 10⁹ rao), exact, with no floats.

pub mod era;
pub mod extrinsic;
pub mod hashing;
pub mod header;
pub mod metadata;
pub mod ss58;
pub mod storage;
pub mod types;
pub mod units;
pub mod value;
