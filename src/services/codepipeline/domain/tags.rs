//! Resource tags and the rules AWS applies to them.

use serde::{Deserialize, Serialize};

use crate::error::{codes, AwsError};

pub const MAX_TAGS: usize = 50;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

fn reserved(key: &str) -> bool {
    key.to_ascii_lowercase().starts_with("aws:")
}

/// Checks keys a caller may set or remove.
pub fn check_keys<'a>(keys: impl IntoIterator<Item = &'a str>) -> Result<(), AwsError> {
    for key in keys {
        if reserved(key) {
            return Err(AwsError::new(
                codes::INVALID_TAGS,
                format!("Tag key '{key}' is invalid: keys beginning with 'aws:' are reserved for AWS use"),
            ));
        }
    }
    Ok(())
}

/// Adds or overwrites `new` on `current`, as `TagResource` does, and enforces the per-resource limit.
pub fn merge(current: &[Tag], new: &[Tag]) -> Result<Vec<Tag>, AwsError> {
    check_keys(new.iter().map(|t| t.key.as_str()))?;
    let mut out = current.to_vec();
    for tag in new {
        match out.iter_mut().find(|t| t.key == tag.key) {
            Some(existing) => existing.value = tag.value.clone(),
            None => out.push(tag.clone()),
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AwsError::new(
            codes::TOO_MANY_TAGS,
            format!(
                "The resource would have {} tags; the maximum is {MAX_TAGS}",
                out.len()
            ),
        ));
    }
    Ok(out)
}

pub fn remove(current: &[Tag], keys: &[String]) -> Result<Vec<Tag>, AwsError> {
    check_keys(keys.iter().map(String::as_str))?;
    Ok(current
        .iter()
        .filter(|t| !keys.contains(&t.key))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tag(k: &str, v: &str) -> Tag {
        Tag {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn merge_overwrites_and_limits() {
        let merged = merge(&[tag("a", "1")], &[tag("a", "2"), tag("b", "3")]).unwrap();
        assert_eq!(merged, vec![tag("a", "2"), tag("b", "3")]);
        let many: Vec<Tag> = (0..51).map(|i| tag(&format!("k{i}"), "v")).collect();
        assert_eq!(merge(&[], &many).unwrap_err().code, "TooManyTagsException");
        assert_eq!(
            merge(&[], &[tag("aws:x", "v")]).unwrap_err().code,
            "InvalidTagsException"
        );
    }
}
