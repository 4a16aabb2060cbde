//! Runtime API calls (`state_call`): arguments encoded and results decoded by the V15 metadata's
//! own types, so a runtime that changes a result's layout is read correctly or refused, never
//! misread. The light client proves the call's result (a call proof against a finalized state
//! root); this module only turns intent into bytes and bytes into values.
//!
//! Quotes and stake positions come from here on purpose: the runtime computes them with its own
//! fixed-point pool and share arithmetic, so the numbers a user signs against are the chain's.

use crate::metadata::{Metadata, RuntimeApiMethod};
use crate::value::{self, ValueError};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeApiError {
    /// The runtime does not offer the method (or the metadata is V14, which lists no APIs).
    Unknown {
        api: String,
        method: String,
        spec_version: u32,
    },
    WrongArgumentCount {
        method: String,
        expected: usize,
        given: usize,
    },
    Argument {
        method: String,
        name: String,
        error: ValueError,
    },
    Result {
        method: String,
        error: ValueError,
    },
}

impl fmt::Display for RuntimeApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeApiError::Unknown {
                api,
                method,
                spec_version,
            } => write!(
                f,
                "runtime spec {spec_version} offers no runtime API {api}.{method} (V15 metadata lists them)"
            ),
            RuntimeApiError::WrongArgumentCount {
                method,
                expected,
                given,
            } => write!(f, "{method} takes {expected} arguments, not {given}"),
            RuntimeApiError::Argument {
                method,
                name,
                error,
            } => write!(f, "{method}, argument `{name}`: {error}"),
            RuntimeApiError::Result { method, error } => write!(f, "{method} result: {error}"),
        }
    }
}

impl std::error::Error for RuntimeApiError {}

/// The method's metadata, or an error naming the runtime that lacks it.
fn method_info<'m>(
    metadata: &'m Metadata,
    api: &str,
    method: &str,
) -> Result<&'m RuntimeApiMethod, RuntimeApiError> {
    metadata
        .runtime_api(api, method)
        .ok_or_else(|| RuntimeApiError::Unknown {
            api: api.into(),
            method: method.into(),
            spec_version: metadata.spec_version(),
        })
}

/// A `state_call` ready to send: the method name (`Api_method`) and the encoded arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: String,
    pub data: Vec<u8>,
}

/// Encodes a call of `api.method` with positional `args`.
pub fn request(
    metadata: &Metadata,
    api: &str,
    method: &str,
    args: &[Value],
) -> Result<Request, RuntimeApiError> {
    let name = format!("{api}_{method}");
    let info = method_info(metadata, api, method)?;
    if info.inputs.len() != args.len() {
        return Err(RuntimeApiError::WrongArgumentCount {
            method: name,
            expected: info.inputs.len(),
            given: args.len(),
        });
    }
    let mut data = Vec::new();
    for ((arg_name, ty), arg) in info.inputs.iter().zip(args) {
        value::encode(&metadata.types, *ty, arg, &mut data).map_err(|error| {
            RuntimeApiError::Argument {
                method: name.clone(),
                name: arg_name.clone(),
                error,
            }
        })?;
    }
    Ok(Request { method: name, data })
}

/// Decodes the (proven) result bytes of `api.method`.
pub fn decode(
    metadata: &Metadata,
    api: &str,
    method: &str,
    bytes: &[u8],
) -> Result<Value, RuntimeApiError> {
    let info = method_info(metadata, api, method)?;
    value::decode_all(&metadata.types, info.output, bytes).map_err(|error| {
        RuntimeApiError::Result {
            method: format!("{api}_{method}"),
            error,
        }
    })
}

/// `SwapRuntimeApi.sim_swap_*`: what a swap of this size would give right now.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct SwapQuote {
    pub tao_amount: u64,
    pub alpha_amount: u64,
    pub tao_fee: u64,
    pub alpha_fee: u64,
    pub tao_slippage: u64,
    pub alpha_slippage: u64,
}

/// Decodes a `sim_swap_tao_for_alpha` / `sim_swap_alpha_for_tao` result into a [`SwapQuote`].
pub fn swap_quote(
    metadata: &Metadata,
    method: &str,
    bytes: &[u8],
) -> Result<SwapQuote, RuntimeApiError> {
    let value = decode(metadata, "SwapRuntimeApi", method, bytes)?;
    serde_json::from_value(value).map_err(|e| RuntimeApiError::Result {
        method: format!("SwapRuntimeApi_{method}"),
        error: ValueError::Invalid {
            ty: "SimSwapResult".into(),
            why: e.to_string(),
        },
    })
}

/// The runtime API that prices transactions, and its method.
const PAYMENT: (&str, &str) = ("TransactionPaymentApi", "query_info");

/// `TransactionPaymentApi_query_info(uxt, len)` for `extrinsic` (length-prefixed, as
/// submitted; a dummy signature prices the same, as only the length and the call count).
/// The arguments' layout has not changed since the API has existed, so V14 runtimes, whose
/// metadata lists no APIs, are asked the same way.
pub fn fee_request(extrinsic: &[u8]) -> Request {
    let mut data = extrinsic.to_vec();
    let length = u32::try_from(extrinsic.len()).unwrap_or(u32::MAX);
    data.extend_from_slice(&length.to_le_bytes());
    Request {
        method: format!("{}_{}", PAYMENT.0, PAYMENT.1),
        data,
    }
}

/// The fee (`partial_fee`, rao) from a proven `query_info` result: by the V15 metadata's type
/// where it has one; for V14, `RuntimeDispatchInfo` as every weight-v2 runtime lays it out
/// (`ref_time` and `proof_size` compact, the class, a u64 balance), every byte accounted for.
pub fn decode_fee(metadata: &Metadata, bytes: &[u8]) -> Result<u64, RuntimeApiError> {
    let (api, method) = PAYMENT;
    let error = |why: String| RuntimeApiError::Result {
        method: format!("{api}_{method}"),
        error: ValueError::Invalid {
            ty: "RuntimeDispatchInfo".into(),
            why,
        },
    };
    if metadata.runtime_api(api, method).is_some() {
        let info = decode(metadata, api, method, bytes)?;
        return info["partial_fee"]
            .as_u64()
            .ok_or_else(|| error(format!("no u64 partial_fee in {info}")));
    }
    // The weight-v2 layout came with the API's version 2; an older one is not guessed at.
    if metadata.api_version(api).is_none_or(|v| v < 2) {
        return Err(error(format!(
            "this runtime's {api} is not version 2 or later, whose result layout this build reads"
        )));
    }
    use parity_scale_codec::{Compact, Decode};
    let mut rest = bytes;
    let weight = Compact::<u64>::decode(&mut rest).and_then(|_| Compact::<u64>::decode(&mut rest));
    match (weight, rest) {
        (Ok(_), [class, fee @ ..]) if *class <= 2 && fee.len() == 8 => {
            let fee: [u8; 8] = fee.try_into().map_err(|_| error("short".into()))?;
            Ok(u64::from_le_bytes(fee))
        }
        _ => Err(error(format!(
            "{} bytes that are not a weight-v2 dispatch info with a u64 fee",
            bytes.len()
        ))),
    }
}

/// `TaggedTransactionQueue_validate_transaction(source, tx, block_hash)` for `extrinsic`
/// (length-prefixed) as if it came from outside (`TransactionSource::External`), at `block_hash`:
/// how the runtime judges it there (the layout of the API's version 3, in every runtime since
/// 2021).
pub fn validity_request(extrinsic: &[u8], block_hash: &[u8; 32]) -> Request {
    const EXTERNAL: u8 = 2;
    let mut data = vec![EXTERNAL];
    data.extend_from_slice(extrinsic);
    data.extend_from_slice(block_hash);
    Request {
        method: "TaggedTransactionQueue_validate_transaction".into(),
        data,
    }
}

/// Whether a (proven) `validate_transaction` result for a transaction signed over our metadata
/// hash by a fresh, unfunded key shows that the runtime checks the same hash: the signature
/// passed, so the payload (our hash included) is the runtime's; what remains is valid
/// (`Ok`) or the key cannot pay (`Err(Invalid(Payment))`). Any other answer, from a refusal
/// before the signature was checked (`Unknown(CannotLookup)`: no hash in this runtime) to a
/// signature over another payload (`Invalid(BadProof)`: another hash), leaves the hash untested:
/// `false`.
pub fn has_our_metadata_hash(validity: &[u8]) -> bool {
    const PAYMENT: [u8; 3] = [1, 0, 1];
    validity.first() == Some(&0) || validity == PAYMENT
}

/// The limit price (rao per alpha) for `add_stake_limit` / `remove_stake_limit` that tolerates
/// `tolerance_ppm` parts per million of price movement from `price` (rao per alpha, as
/// `SwapRuntimeApi.current_alpha_price` returns it): buying (staking) may pay up to
/// price · (1 + t), rounded up; selling (unstaking) accepts down to price · (1 − t), rounded down.
/// Rounding is toward the user's stated tolerance, never past it.
pub fn limit_price(price: u64, tolerance_ppm: u32, buying: bool) -> u64 {
    let price = u128::from(price);
    let ppm = u128::from(tolerance_ppm.min(1_000_000));
    let limit = if buying {
        (price * (1_000_000 + ppm)).div_ceil(1_000_000)
    } else {
        price * (1_000_000 - ppm) / 1_000_000
    };
    u64::try_from(limit).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::{has_our_metadata_hash, limit_price, validity_request};

    /// A probe signed over our hash by an unfunded key: only a verdict reached after the
    /// signature passed (valid, or cannot pay) says the hash is the runtime's; everything else
    /// (no hash, another hash, a refusal before the signature) means mode 0.
    #[test]
    fn the_metadata_hash_probe_reads_the_runtimes_verdict() {
        assert!(!has_our_metadata_hash(&[1, 1, 0])); // Unknown(CannotLookup)
        assert!(!has_our_metadata_hash(&[1, 0, 4])); // Invalid(BadProof)
        assert!(!has_our_metadata_hash(&[1, 0, 0])); // Invalid(Call): before the signature? untested
        assert!(!has_our_metadata_hash(&[1, 1, 1]));
        assert!(!has_our_metadata_hash(&[]));
        assert!(has_our_metadata_hash(&[1, 0, 1])); // Invalid(Payment): signature passed
        assert!(has_our_metadata_hash(&[0, 1, 2])); // Ok(ValidTransaction …)
        let request = validity_request(&[0x04, 0xaa], &[7; 32]);
        assert_eq!(
            request.method,
            "TaggedTransactionQueue_validate_transaction"
        );
        assert_eq!(request.data[..3], [2, 0x04, 0xaa]);
        assert_eq!(request.data[3..], [7; 32]);
    }

    #[test]
    fn limit_prices_round_toward_the_tolerance() {
        assert_eq!(limit_price(1_000_000_000, 5_000, true), 1_005_000_000);
        assert_eq!(limit_price(1_000_000_000, 5_000, false), 995_000_000);
        assert_eq!(limit_price(3, 500_000, true), 5); // 4.5 up
        assert_eq!(limit_price(3, 500_000, false), 1); // 1.5 down
        assert_eq!(limit_price(u64::MAX, 1_000_000, true), u64::MAX);
        assert_eq!(limit_price(7, 2_000_000, false), 0);
        assert_eq!(limit_price(7, 0, true), 7);
    }
}
