//! JSON encoding of records. Each record type carries `formatVersion`; a record written by a
//! newer format is refused rather than misread. `encode_packed` stores a very large record
//! deflated behind one marker byte (JSON never starts with it), for the records every engine
//! step rewrites (executions, pipelines' runtimes). Only very large ones: the store's tables
//! deflate whole blocks of records, which shrinks plain JSON more than deflating each record
//! did, and deflating every execution on every step cost ~7% of the CPU of a started execution.
//! `decode` reads both forms.

use serde::{de::DeserializeOwned, Serialize};

use super::deflate::{deflate_into, inflate, Framing};
use super::{StoreError, StoreResult};

pub const FORMAT_VERSION: u32 = 1;

/// The first byte of a deflated record.
const DEFLATED: u8 = 0x01;
/// Records shorter than this are stored as JSON: the tables deflate them with their neighbours.
/// Longer ones (executions of pipelines with hundreds of actions) are deflated while they sit in
/// sled, which keeps whole records.
const DEFLATE_FROM: usize = 8 * 1024;
/// A deflated record never inflates beyond this (a damaged or hostile value cannot balloon).
const INFLATED_MAX: usize = 64 * 1024 * 1024;

pub fn encode<T: Serialize>(record: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError(format!("encode: {e}")))
}

/// `encode`, deflated when that makes it smaller and it is large enough to gain.
pub fn encode_packed<T: Serialize>(record: &T) -> StoreResult<Vec<u8>> {
    let json = encode(record)?;
    if json.len() < DEFLATE_FROM {
        return Ok(json);
    }
    let mut out = Vec::with_capacity(json.len() / 2);
    out.push(DEFLATED);
    deflate_into(&json, Framing::Raw, &mut out).map_err(|e| StoreError(format!("encode: {e}")))?;
    Ok(if out.len() < json.len() { out } else { json })
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    if let Some((&DEFLATED, packed)) = bytes.split_first() {
        let json = inflate(packed, Framing::Raw, INFLATED_MAX)
            .map_err(|e| StoreError(format!("decode: {e}")))?;
        return decode_json(&json);
    }
    decode_json(bytes)
}

fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    // Reading only the format version skips every other value without building it, which costs
    // a fraction of decoding the record through a `serde_json::Value` first.
    #[derive(serde::Deserialize)]
    struct Format {
        #[serde(rename = "formatVersion", default)]
        format_version: u64,
    }
    let Format { format_version } =
        serde_json::from_slice(bytes).map_err(|e| StoreError(format!("decode: {e}")))?;
    if format_version > u64::from(FORMAT_VERSION) {
        return Err(StoreError(format!(
            "record format {format_version} is newer than this build ({FORMAT_VERSION})"
        )));
    }
    serde_json::from_slice(bytes).map_err(|e| StoreError(format!("decode: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn large_records_are_deflated_and_read_back_as_written() {
        let small = json!({"formatVersion": 1, "name": "p"});
        assert_eq!(
            encode_packed(&small).unwrap(),
            serde_json::to_vec(&small).unwrap()
        );
        let large = json!({"formatVersion": 1, "runs": vec!["the same words again"; 500]});
        assert_eq!(encode(&large).unwrap(), serde_json::to_vec(&large).unwrap());
        let bytes = encode_packed(&large).unwrap();
        assert_eq!(bytes[0], DEFLATED);
        assert!(bytes.len() * 4 < serde_json::to_vec(&large).unwrap().len());
        assert_eq!(decode::<Value>(&bytes).unwrap(), large);
        // Records written before deflate read back too.
        let plain = serde_json::to_vec(&large).unwrap();
        assert_eq!(decode::<Value>(&plain).unwrap(), large);
    }

    #[test]
    fn damaged_deflated_records_are_errors() {
        assert!(decode::<Value>(&[DEFLATED, 0xff, 0x00, 0x13]).is_err());
        assert!(decode::<Value>(&[DEFLATED]).is_err());
    }
}
