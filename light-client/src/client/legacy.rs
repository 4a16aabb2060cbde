//! Substrate's legacy JSON-RPC answers (`chain_*`, `state_*`, `grandpa_*`), parsed into bytes.
//!
//! The one home for their shapes. Parsing is not believing: a parsed header or proof is handed
//! to the verified core, which judges it. Every function here takes an endpoint's `result` and
//! says in words what is wrong with its shape; none panics or allocates more than the answer.

use crate::hex::{from_hex, from_hex_array};
use parity_scale_codec::{Compact, Decode, Encode};
use serde_json::Value;

/// A block hash (`chain_getFinalizedHead`, `chain_getBlockHash`, `author_submitExtrinsic`).
pub fn hash(answer: &Value) -> Result<[u8; 32], String> {
    answer
        .as_str()
        .ok_or_else(|| "not a block hash".to_string())
        .and_then(from_hex_array)
}

/// Bytes written as a `0x` hex string or as a JSON array of numbers (Substrate writes a
/// block's justifications the second way).
pub fn bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::String(hex) => from_hex(hex).ok(),
        Value::Array(items) => items
            .iter()
            .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
            .collect(),
        _ => None,
    }
}

/// The SCALE encoding of a header in `chain_getHeader`'s JSON form.
pub fn header(json: &Value) -> Result<Vec<u8>, String> {
    let hash = |field: &str| -> Result<[u8; 32], String> {
        json[field]
            .as_str()
            .ok_or_else(|| format!("no {field}"))
            .and_then(|text| from_hex_array(text).map_err(|e| format!("{field}: {e}")))
    };
    let number = json["number"]
        .as_str()
        .and_then(|n| n.strip_prefix("0x"))
        .and_then(|n| u32::from_str_radix(n, 16).ok())
        .ok_or("the number is not a 0x-hex u32")?;
    let logs = json["digest"]["logs"]
        .as_array()
        .ok_or("no digest logs")?
        .iter()
        .map(|log| {
            log.as_str()
                .ok_or("a digest log that is not hex".to_string())
                .and_then(from_hex)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut out = hash("parentHash")?.to_vec();
    Compact(number).encode_to(&mut out);
    out.extend(hash("stateRoot")?);
    out.extend(hash("extrinsicsRoot")?);
    Compact(u32::try_from(logs.len()).map_err(|_| "too many digest logs")?).encode_to(&mut out);
    for log in logs {
        out.extend(log);
    }
    Ok(out)
}

/// A justification and the headers that link it (`grandpa_proveFinality`'s answer).
pub type FinalityProof = (Vec<u8>, Vec<Vec<u8>>);

/// The justification inside `grandpa_proveFinality`'s answer, hex of a SCALE
/// `FinalityProof { block, justification, unknown_headers }`, and its headers (SCALE, each);
/// `None` when the endpoint has no proof for that block yet (`null`).
pub fn finality_proof(answer: &Value) -> Result<Option<FinalityProof>, String> {
    let hex = match answer {
        Value::Null => return Ok(None),
        Value::String(hex) => hex,
        other => return Err(format!("finality proof: not hex: {other}")),
    };
    let bytes = from_hex(hex).map_err(|e| format!("finality proof: {e}"))?;
    let mut input = bytes.get(32..).ok_or("a finality proof too short")?;
    let justification =
        Vec::<u8>::decode(&mut input).map_err(|e| format!("finality proof: {e}"))?;
    // Older nodes end the proof there; the count is read only where there is one.
    let mut headers = Vec::new();
    if !input.is_empty() {
        let Compact(count) = Compact::<u32>::decode(&mut input)
            .map_err(|e| format!("finality proof's headers: {e}"))?;
        for _ in 0..count {
            let header = crate::header::Header::split_off(&mut input)
                .map_err(|e| format!("finality proof's headers: {e}"))?;
            headers.push(header.to_vec());
        }
    }
    if !input.is_empty() {
        return Err(format!("finality proof: {} bytes after it", input.len()));
    }
    Ok(Some((justification, headers)))
}

/// The GRANDPA justification in `chain_getBlock`'s answer, if it carries one.
pub fn block_justification(block: &Value) -> Result<Option<Vec<u8>>, String> {
    if block.is_null() {
        return Ok(None);
    }
    let Some(list) = block["justifications"].as_array() else {
        return Ok(None);
    };
    for entry in list {
        if bytes(&entry[0]).as_deref() == Some(b"FRNK") {
            return bytes(&entry[1])
                .map(Some)
                .ok_or_else(|| "a justification that is not bytes".into());
        }
    }
    Ok(None)
}

/// The extrinsics in `chain_getBlock`'s answer; `None` when the endpoint does not have the block.
pub fn block_extrinsics(block: &Value) -> Result<Option<Vec<Vec<u8>>>, String> {
    if block.is_null() {
        return Ok(None);
    }
    block["block"]["extrinsics"]
        .as_array()
        .ok_or("a block without an extrinsic list")?
        .iter()
        .map(|x| {
            x.as_str()
                .and_then(|x| from_hex(x).ok())
                .ok_or_else(|| "an extrinsic that is not hex".to_string())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// The trie nodes of `state_getReadProof`'s answer.
pub fn read_proof(answer: &Value) -> Result<Vec<Vec<u8>>, String> {
    answer["proof"]
        .as_array()
        .ok_or("a read proof without a node list")?
        .iter()
        .map(|n| {
            n.as_str()
                .and_then(|n| from_hex(n).ok())
                .ok_or_else(|| "a proof node that is not hex".to_string())
        })
        .collect()
}

/// The keys of `state_getKeysPaged`'s answer.
pub fn keys(answer: &Value) -> Result<Vec<Vec<u8>>, String> {
    answer
        .as_array()
        .ok_or("a key list that is not a list")?
        .iter()
        .map(|k| {
            k.as_str()
                .and_then(|k| from_hex(k).ok())
                .ok_or_else(|| "a key that is not hex".to_string())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes_are_parsed_or_named() {
        let zero = format!("0x{}", "00".repeat(32));
        let header_json = json!({
            "parentHash": zero, "number": "0x1f", "stateRoot": zero, "extrinsicsRoot": zero,
            "digest": { "logs": ["0x0401"] },
        });
        let scale = header(&header_json).unwrap();
        assert_eq!(scale.len(), 32 + 1 + 64 + 1 + 2);
        let mut broken = header_json.clone();
        broken["number"] = json!("31");
        assert!(header(&broken).unwrap_err().contains("number"));
        broken = header_json.clone();
        broken["stateRoot"] = json!("0x01");
        assert!(header(&broken).unwrap_err().contains("stateRoot"));
        assert!(header(&json!(null)).is_err());

        assert_eq!(finality_proof(&json!(null)), Ok(None));
        assert!(
            finality_proof(&json!("0x01"))
                .unwrap_err()
                .contains("too short")
        );
        assert!(finality_proof(&json!(7)).is_err());
        let mut proof = vec![0u8; 32];
        vec![1u8, 2, 3].encode_to(&mut proof);
        assert_eq!(
            finality_proof(&json!(crate::hex::to_hex(&proof))),
            Ok(Some((vec![1, 2, 3], vec![])))
        );
        // With its headers: two, each delimiting itself.
        let header = |n: u32| {
            let mut h = vec![0u8; 32];
            Compact(n).encode_to(&mut h);
            h.extend([0u8; 64]);
            h.push(0);
            h
        };
        let mut with_headers = proof.clone();
        Compact(2u32).encode_to(&mut with_headers);
        with_headers.extend(header(5));
        with_headers.extend(header(6));
        assert_eq!(
            finality_proof(&json!(crate::hex::to_hex(&with_headers))),
            Ok(Some((vec![1, 2, 3], vec![header(5), header(6)])))
        );
        with_headers.pop();
        assert!(finality_proof(&json!(crate::hex::to_hex(&with_headers))).is_err());

        let block = json!({ "block": { "extrinsics": ["0x00"] },
                            "justifications": [[[70, 82, 78, 75], [9, 9]]] });
        assert_eq!(block_justification(&block), Ok(Some(vec![9, 9])));
        assert_eq!(block_extrinsics(&block), Ok(Some(vec![vec![0]])));
        assert_eq!(block_extrinsics(&json!(null)), Ok(None));
        assert!(block_extrinsics(&json!({ "block": {} })).is_err());
        assert!(read_proof(&json!({ "proof": [1] })).is_err());
        assert!(keys(&json!(["0x0g"])).is_err());
        assert!(hash(&json!("0x01")).is_err());
    }
}
