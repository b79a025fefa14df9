//! Reading a request body: at most `MAX_BODY_BYTES`, within the body-read timeout, with a
//! distinct error for each way it can go wrong. A body over the limit is read on and thrown
//! away (up to a bound) so the client, still sending, gets the 413 instead of a broken pipe.

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use http_body_util::BodyExt;

use crate::error::{codes, AwsError};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
/// How much of a too-large body is read and discarded before the connection is given up on.
const DRAIN_BYTES: usize = 64 * 1024 * 1024;

pub async fn read(body: Body, timeout: Duration) -> Result<Vec<u8>, AwsError> {
    match tokio::time::timeout(timeout, collect(body)).await {
        Ok(result) => result,
        Err(_) => Err(AwsError::new(
            codes::REQUEST_TIMEOUT,
            "The request body was not received in time",
        )
        .with_status(StatusCode::REQUEST_TIMEOUT)),
    }
}

async fn collect(mut body: Body) -> Result<Vec<u8>, AwsError> {
    let mut bytes = Vec::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            AwsError::serialization(
                "The request body could not be read: it ended early or its chunks are malformed",
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen <= MAX_BODY_BYTES {
            bytes.extend_from_slice(&data);
        } else if seen > DRAIN_BYTES {
            break;
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(AwsError::new(
            codes::REQUEST_ENTITY_TOO_LARGE,
            format!("Request body is larger than the maximum of {MAX_BODY_BYTES} bytes"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE));
    }
    Ok(bytes)
}
