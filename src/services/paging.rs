//! `nextToken` paging, one way for every list: a token is the hex of where the page ended (a
//! store key for lists read from the store, an offset for lists built in memory), so it never
//! looks like a name, and any token that does not decode to a place in this list answers
//! `InvalidNextTokenException`.

use serde_json::Value;

use crate::error::{codes, AwsError};

fn invalid() -> AwsError {
    AwsError::new(codes::INVALID_NEXT_TOKEN, "The next token is not valid")
}

fn decode(token: &str) -> Result<String, AwsError> {
    let bytes = hex::decode(token).map_err(|_| invalid())?;
    String::from_utf8(bytes).map_err(|_| invalid())
}

pub fn key_token(last_key: &str) -> String {
    hex::encode(last_key)
}

/// Store paging: the key to continue after, which must lie under `prefix` (a token of another
/// list, account or region is refused).
pub fn key_after(token: Option<&str>, prefix: &str) -> Result<Option<String>, AwsError> {
    let Some(t) = token else {
        return Ok(None);
    };
    let key = decode(t)?;
    if key.starts_with(prefix) {
        Ok(Some(key))
    } else {
        Err(invalid())
    }
}

/// In-memory paging: the offset a token names, at most `len` when the length is known.
pub fn offset(token: Option<&str>, len: Option<usize>) -> Result<usize, AwsError> {
    let Some(t) = token else {
        return Ok(0);
    };
    decode(t)?
        .parse::<usize>()
        .ok()
        .filter(|i| len.is_none_or(|len| *i <= len))
        .ok_or_else(invalid)
}

pub fn offset_token(next: usize) -> String {
    hex::encode(next.to_string())
}

/// The page of `items` that `token` and `limit` choose, under `member`, with `nextToken` when
/// more follow.
pub fn page_of<T: serde::Serialize>(
    member: &str,
    items: &[T],
    token: Option<&str>,
    limit: usize,
) -> Result<Value, AwsError> {
    page_named(member, "nextToken", items, token, limit)
}

/// The same, with the continuation token under `token_member` (EventBridge says `NextToken`).
pub fn page_named<T: serde::Serialize>(
    member: &str,
    token_member: &str,
    items: &[T],
    token: Option<&str>,
    limit: usize,
) -> Result<Value, AwsError> {
    let start = offset(token, Some(items.len()))?;
    let end = start.saturating_add(limit).min(items.len());
    let mut reply = serde_json::json!({ member: &items[start..end] });
    if end < items.len() {
        reply[token_member] = Value::String(offset_token(end));
    }
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_name_a_place_in_their_own_list_only() {
        let items = [1, 2, 3, 4, 5];
        let first = page_of("n", &items, None, 2).unwrap();
        assert_eq!(first["n"], serde_json::json!([1, 2]));
        let token = first["nextToken"].as_str().unwrap().to_owned();
        let second = page_of("n", &items, Some(&token), 10).unwrap();
        assert_eq!(second["n"], serde_json::json!([3, 4, 5]));
        assert!(second.get("nextToken").is_none());
        for bad in ["zz", "ffff", &offset_token(6)] {
            assert_eq!(
                page_of("n", &items, Some(bad), 2).unwrap_err().code,
                codes::INVALID_NEXT_TOKEN
            );
        }
        let key = key_token("pipeline/a/b/p1");
        assert_eq!(
            key_after(Some(&key), "pipeline/a/b/").unwrap().as_deref(),
            Some("pipeline/a/b/p1")
        );
        assert!(key_after(Some(&key), "pipeline/other/").is_err());
        assert_eq!(key_after(None, "x").unwrap(), None);
    }
}
