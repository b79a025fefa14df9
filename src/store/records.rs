//! JSON encoding of records. Each record type carries `formatVersion`; a record written by a
//! newer format is refused rather than misread.

use serde::{de::DeserializeOwned, Serialize};

use super::{StoreError, StoreResult};

pub const FORMAT_VERSION: u32 = 1;

pub fn encode<T: Serialize>(record: &T) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(|e| StoreError(format!("encode: {e}")))
}

pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> StoreResult<T> {
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
