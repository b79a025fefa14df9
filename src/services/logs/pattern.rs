//! FilterLogEvents' filter patterns for unstructured text, as the CloudWatch Logs User Guide
//! defines them: every plain term must appear (`ERROR Exception`), a quoted term matches as
//! a phrase (`"npm ERR"`), `?term`s match when any of them appears, and `-term` excludes.
//! Matching is case-sensitive. JSON (`{ $.x = ... }`) and space-delimited (`[...]`) patterns
//! are refused with a message that says so.

use crate::error::{codes, AwsError};

#[derive(Debug, Default)]
pub struct Pattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

impl Pattern {
    pub fn parse(text: &str) -> Result<Self, AwsError> {
        let text = text.trim();
        if text.starts_with('{') || text.starts_with('[') {
            return Err(AwsError::new(
                codes::INVALID_PARAMETER,
                "codepipeline-local supports term filter patterns only (terms, \"phrases\", ?any, -not), not JSON or space-delimited ones",
            ));
        }
        let mut pattern = Pattern::default();
        let mut rest = text;
        while !rest.is_empty() {
            rest = rest.trim_start();
            let (sigil, body) = match rest.chars().next() {
                Some(c @ ('?' | '-')) => (Some(c), &rest[1..]),
                _ => (None, rest),
            };
            let (term, after) = match body.strip_prefix('"') {
                Some(quoted) => match quoted.find('"') {
                    Some(end) => (&quoted[..end], &quoted[end + 1..]),
                    None => (quoted, ""),
                },
                None => match body.find(char::is_whitespace) {
                    Some(end) => (&body[..end], &body[end..]),
                    None => (body, ""),
                },
            };
            if !term.is_empty() {
                let list = match sigil {
                    Some('?') => &mut pattern.any,
                    Some('-') => &mut pattern.none,
                    _ => &mut pattern.all,
                };
                list.push(term.to_owned());
            }
            rest = after;
        }
        Ok(pattern)
    }

    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    fn matches(pattern: &str, message: &str) -> bool {
        Pattern::parse(pattern).unwrap().matches(message)
    }

    #[test]
    fn terms_phrases_alternatives_and_exclusions() {
        assert!(matches("", "anything"));
        assert!(matches("ERROR npm", "npm ERROR! code 1"));
        assert!(!matches("ERROR npm", "npm ok"));
        assert!(matches("\"tests failed\"", "2 tests failed"));
        assert!(!matches("\"tests failed\"", "tests: 2 failed"));
        assert!(matches("?WARN ?ERROR", "a WARN line"));
        assert!(!matches("?WARN ?ERROR", "an INFO line"));
        assert!(!matches("ERROR -retrying", "ERROR retrying"));
        assert!(!matches("error", "ERROR"), "case-sensitive");
        assert!(Pattern::parse("{ $.level = \"x\" }").is_err());
    }
}
