//! JSON encoding of records. Each record type carries `formatVersion`; a record written by a
//! newer format is refused rather than misread.

use serde::{de::DeserializeOwned, Serialize};

use super::{StoreError, StoreResult};

pub const FORMAT_VERSION: u32 = 1;

pub fn encode<T: Serialize>(record: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError(format!("encode: {e}")))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| StoreError(format!("decode: {e}")))?;
    let version = value
        .get("formatVersion")
        .and_then(|v| v.as_u64())
        .unwrap_or(0);
    if version > u64::from(FORMAT_VERSION) {
        return Err(StoreError(format!(
            "record format {version} is newer than this build ({FORMAT_VERSION})"
        )));
    }
    serde_json::from_value(value).map_err(|e| StoreError(format!("decode: {e}")))
}
