//! EventBridge's event patterns, as the User Guide defines them: a pattern mirrors the event's
//! structure; each leaf is an array of matchers, any of which may match (a field holding an
//! array matches when any element does); fields are all required; `$or` offers alternatives
//! at any level. Matchers: exact values (numbers compare as numbers), `prefix`, `suffix`,
//! `equals-ignore-case` (also inside `prefix` and `suffix`), `wildcard`, `anything-but` (a
//! value, a list, or a `prefix`, `suffix`, `equals-ignore-case` or `wildcard` inside),
//! `numeric` ranges, `exists` and `cidr`. A pattern is parsed once into `Pattern` (refusing
//! what EventBridge refuses) and then matched against any number of events.

use serde_json::{Map, Value};

/// The deepest nesting and most matchers a pattern may have: beyond what a real one needs,
/// short of what could exhaust the server.
const MAX_DEPTH: usize = 24;
const MAX_MATCHERS: usize = 2_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Pattern(Node);

#[derive(Debug, Clone, PartialEq)]
struct Node {
    fields: Vec<(String, Field)>,
    /// `$or`: at least one of these must match as well.
    or: Vec<Vec<Node>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Field {
    Nested(Node),
    Leaf(Vec<Matcher>),
}

#[derive(Debug, Clone, PartialEq)]
enum Text {
    Exact(String),
    IgnoreCase(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Matcher {
    Value(Value),
    Prefix(Text),
    Suffix(Text),
    EqualsIgnoreCase(String),
    Wildcard(String),
    AnythingBut(Vec<Value>),
    AnythingButPrefix(String),
    AnythingButSuffix(String),
    AnythingButIgnoreCase(Vec<String>),
    AnythingButWildcard(Vec<String>),
    Numeric(Vec<(String, f64)>),
    Exists(bool),
    Cidr(ipnet::IpNet),
}

/// Why a pattern is refused: the text after `Event pattern is not valid. Reason: `.
pub type Invalid = String;

impl Pattern {
    pub fn parse(text: &str) -> Result<Pattern, Invalid> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| format!("Filter is not valid JSON: {e}"))?;
        let Value::Object(map) = value else {
            return Err("Filter is not an object".to_owned());
        };
        let mut count = 0;
        Ok(Pattern(node(&map, 0, &mut count)?))
    }

    pub fn matches(&self, event: &Value) -> bool {
        node_matches(&self.0, Some(event))
    }
}

fn node(map: &Map<String, Value>, depth: usize, count: &mut usize) -> Result<Node, Invalid> {
    if depth > MAX_DEPTH {
        return Err(format!("Filter is nested deeper than {MAX_DEPTH} levels"));
    }
    let mut out = Node {
        fields: Vec::new(),
        or: Vec::new(),
    };
    for (key, value) in map {
        if key == "$or" {
            let Value::Array(options) = value else {
                return Err("$or must be followed by an array of objects".to_owned());
            };
            if options.len() < 2 {
                return Err("$or must have at least 2 alternatives".to_owned());
            }
            let mut alternatives = Vec::new();
            for option in options {
                let Value::Object(m) = option else {
                    return Err("$or must be followed by an array of objects".to_owned());
                };
                alternatives.push(node(m, depth + 1, count)?);
            }
            out.or.push(alternatives);
            continue;
        }
        let field = match value {
            Value::Object(m) => Field::Nested(node(m, depth + 1, count)?),
            Value::Array(items) => {
                let mut list = Vec::new();
                for item in items {
                    *count += 1;
                    if *count > MAX_MATCHERS {
                        return Err(format!("Filter has more than {MAX_MATCHERS} values"));
                    }
                    list.push(matcher(key, item)?);
                }
                Field::Leaf(list)
            }
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        };
        out.fields.push((key.clone(), field));
    }
    Ok(out)
}

fn text_of(key: &str, op: &str, v: &Value) -> Result<Text, Invalid> {
    match v {
        Value::String(s) => Ok(Text::Exact(s.clone())),
        Value::Object(m) if m.len() == 1 => match m.get("equals-ignore-case") {
            Some(Value::String(s)) => Ok(Text::IgnoreCase(s.clone())),
            _ => Err(format!(
                "Value of {op} must be a string or a valid JSON object at \"{key}\""
            )),
        },
        _ => Err(format!("{op} match pattern must be a string at \"{key}\"")),
    }
}

fn string_of(key: &str, op: &str, v: &Value) -> Result<String, Invalid> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{op} match pattern must be a string at \"{key}\""))
}

fn check_wildcard(key: &str, w: &str) -> Result<(), Invalid> {
    if w.contains("**") {
        return Err(format!(
            "Consecutive wildcard characters at \"{key}\" are not allowed"
        ));
    }
    Ok(())
}

fn matcher(key: &str, item: &Value) -> Result<Matcher, Invalid> {
    let Value::Object(m) = item else {
        return match item {
            Value::Array(_) => Err(format!("Match value at \"{key}\" must not be an array")),
            v => Ok(Matcher::Value(v.clone())),
        };
    };
    if m.len() != 1 {
        return Err(format!(
            "Only one key allowed in match expression at \"{key}\""
        ));
    }
    let Some((op, v)) = m.iter().next() else {
        return Err(format!("Empty match expression at \"{key}\""));
    };
    match op.as_str() {
        "prefix" => Ok(Matcher::Prefix(text_of(key, "prefix", v)?)),
        "suffix" => Ok(Matcher::Suffix(text_of(key, "suffix", v)?)),
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(string_of(
            key,
            "equals-ignore-case",
            v,
        )?)),
        "wildcard" => {
            let w = string_of(key, "wildcard", v)?;
            check_wildcard(key, &w)?;
            Ok(Matcher::Wildcard(w))
        }
        "exists" => match v {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err(format!(
                "exists match pattern must be either true or false at \"{key}\""
            )),
        },
        "cidr" => {
            let text = string_of(key, "cidr", v)?;
            text.parse::<ipnet::IpNet>()
                .map(Matcher::Cidr)
                .map_err(|_| format!("Malformed CIDR, one '/' required at \"{key}\""))
        }
        "numeric" => numeric(key, v),
        "anything-but" => anything_but(key, v),
        other => Err(format!("Unrecognized match type {other} at \"{key}\"")),
    }
}

fn numeric(key: &str, v: &Value) -> Result<Matcher, Invalid> {
    let Value::Array(parts) = v else {
        return Err(format!("Value of numeric must be an array at \"{key}\""));
    };
    if parts.is_empty() || parts.len() % 2 != 0 || parts.len() > 4 {
        return Err(format!("Invalid numeric match expression at \"{key}\""));
    }
    let mut bounds = Vec::new();
    for pair in parts.chunks(2) {
        let (Some(op), Some(n)) = (pair[0].as_str(), pair[1].as_f64()) else {
            return Err(format!("Invalid numeric match expression at \"{key}\""));
        };
        if !matches!(op, "<" | "<=" | "=" | ">" | ">=") {
            return Err(format!("Unrecognized numeric range operator: {op}"));
        }
        if op == "=" && parts.len() != 2 {
            return Err(format!("Invalid numeric match expression at \"{key}\""));
        }
        bounds.push((op.to_owned(), n));
    }
    Ok(Matcher::Numeric(bounds))
}

fn anything_but(key: &str, v: &Value) -> Result<Matcher, Invalid> {
    match v {
        Value::String(_) | Value::Number(_) => Ok(Matcher::AnythingBut(vec![v.clone()])),
        Value::Array(items) => {
            let strings = items.iter().all(Value::is_string);
            let numbers = items.iter().all(Value::is_number);
            if !(strings || numbers) {
                return Err(format!(
                    "Inside anything but list, start|null|boolean is not supported at \"{key}\""
                ));
            }
            Ok(Matcher::AnythingBut(items.clone()))
        }
        Value::Object(m) if m.len() == 1 => {
            let Some((op, inner)) = m.iter().next() else {
                return Err(format!("Empty anything-but expression at \"{key}\""));
            };
            let strings = |v: &Value| -> Result<Vec<String>, Invalid> {
                match v {
                    Value::String(s) => Ok(vec![s.clone()]),
                    Value::Array(items) if items.iter().all(Value::is_string) => Ok(items
                        .iter()
                        .filter_map(|i| i.as_str().map(str::to_owned))
                        .collect()),
                    _ => Err(format!(
                        "Value of anything-but {op} must be a string or an array of strings at \"{key}\""
                    )),
                }
            };
            match op.as_str() {
                "prefix" => Ok(Matcher::AnythingButPrefix(string_of(key, "prefix", inner)?)),
                "suffix" => Ok(Matcher::AnythingButSuffix(string_of(key, "suffix", inner)?)),
                "equals-ignore-case" => Ok(Matcher::AnythingButIgnoreCase(strings(inner)?)),
                "wildcard" => {
                    let list = strings(inner)?;
                    for w in &list {
                        check_wildcard(key, w)?;
                    }
                    Ok(Matcher::AnythingButWildcard(list))
                }
                other => Err(format!(
                    "Unsupported anything-but pattern: {other} at \"{key}\""
                )),
            }
        }
        _ => Err(format!(
            "Value of anything-but must be an array or single string/number value at \"{key}\""
        )),
    }
}

fn node_matches(node: &Node, value: Option<&Value>) -> bool {
    let fields = value.and_then(Value::as_object);
    let field_ok = node.fields.iter().all(|(key, field)| {
        let got = fields.and_then(|m| m.get(key));
        match field {
            Field::Nested(inner) => match got {
                // A nested pattern over an array matches when an element does.
                Some(Value::Array(items)) => items.iter().any(|i| node_matches(inner, Some(i))),
                other => node_matches(inner, other),
            },
            Field::Leaf(matchers) => leaf_matches(matchers, got),
        }
    });
    field_ok
        && node
            .or
            .iter()
            .all(|alternatives| alternatives.iter().any(|a| node_matches(a, value)))
}

fn leaf_matches(matchers: &[Matcher], got: Option<&Value>) -> bool {
    matchers.iter().any(|m| match (m, got) {
        (Matcher::Exists(want), got) => {
            let is_leaf = got.is_some_and(|v| !v.is_object());
            *want == is_leaf
        }
        (_, None) => false,
        (m, Some(Value::Array(items))) => items.iter().any(|i| one(m, i)),
        (m, Some(v)) => one(m, v),
    })
}

/// Exact matching compares numbers as written, as the User Guide says EventBridge does ("300,
/// 300.0, and 3.0e2 are not considered equal"): serde_json keeps integers and decimals apart,
/// though it reads `3.0e2` and `300.0` alike. Numeric ranges compare values.
fn numbers_equal(a: &Value, b: &Value) -> bool {
    a == b
}

/// `*` stands for any run of characters; `\*` is a star, `\\` a backslash.
fn wildcard(pattern: &str, text: &str) -> bool {
    let mut expr = String::from("^");
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => expr += &regex::escape(&n.to_string()),
                None => expr += &regex::escape("\\"),
            },
            '*' => expr += "(?s:.*)",
            other => expr += &regex::escape(&other.to_string()),
        }
    }
    expr += "$";
    regex::Regex::new(&expr).is_ok_and(|r| r.is_match(text))
}

fn one(m: &Matcher, v: &Value) -> bool {
    let s = v.as_str();
    match m {
        Matcher::Value(want) => numbers_equal(want, v),
        Matcher::Prefix(Text::Exact(p)) => s.is_some_and(|s| s.starts_with(p.as_str())),
        Matcher::Prefix(Text::IgnoreCase(p)) => {
            s.is_some_and(|s| s.to_lowercase().starts_with(&p.to_lowercase()))
        }
        Matcher::Suffix(Text::Exact(p)) => s.is_some_and(|s| s.ends_with(p.as_str())),
        Matcher::Suffix(Text::IgnoreCase(p)) => {
            s.is_some_and(|s| s.to_lowercase().ends_with(&p.to_lowercase()))
        }
        Matcher::EqualsIgnoreCase(p) => s.is_some_and(|s| s.to_lowercase() == p.to_lowercase()),
        Matcher::Wildcard(p) => s.is_some_and(|s| wildcard(p, s)),
        Matcher::AnythingBut(values) => !values.iter().any(|x| numbers_equal(x, v)),
        Matcher::AnythingButPrefix(p) => s.is_some_and(|s| !s.starts_with(p.as_str())),
        Matcher::AnythingButSuffix(p) => s.is_some_and(|s| !s.ends_with(p.as_str())),
        Matcher::AnythingButIgnoreCase(list) => {
            s.is_some_and(|s| !list.iter().any(|x| x.to_lowercase() == s.to_lowercase()))
        }
        Matcher::AnythingButWildcard(list) => {
            s.is_some_and(|s| !list.iter().any(|p| wildcard(p, s)))
        }
        Matcher::Numeric(bounds) => v.as_f64().filter(|_| v.is_number()).is_some_and(|n| {
            bounds.iter().all(|(op, x)| match op.as_str() {
                "<" => n < *x,
                "<=" => n <= *x,
                "=" => n == *x,
                ">" => n > *x,
                _ => n >= *x,
            })
        }),
        Matcher::Cidr(net) => s
            .and_then(|s| s.parse::<std::net::IpAddr>().ok())
            .is_some_and(|ip| net.contains(&ip)),
        Matcher::Exists(_) => false,
    }
}

#[cfg(test)]
mod tests;
