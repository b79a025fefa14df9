//! A vendored AWS service model, parsed: operations and the shapes the validator and the
//! output-conformance check walk. Everything about request shapes comes from here, never from
//! guesses. `registry` holds one per service.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

#[derive(Debug)]
pub struct Operation {
    pub name: String,
    pub input: Option<String>,
    pub output: Option<String>,
}

#[derive(Debug)]
pub struct Member {
    pub name: String,
    pub shape: String,
}

#[derive(Debug)]
pub enum ShapeKind {
    String {
        min: Option<i64>,
        max: Option<i64>,
        pattern: Option<Pattern>,
        enum_values: Option<Vec<String>>,
    },
    /// `integer` (32 bits) or `long` (64 bits, `wide`).
    Integer {
        min: Option<i64>,
        max: Option<i64>,
        wide: bool,
    },
    /// `double` and `float`.
    Double {
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    Timestamp,
    Blob,
    Structure {
        members: Vec<Member>,
        required: Vec<String>,
    },
    List {
        member: String,
        min: Option<i64>,
        max: Option<i64>,
    },
    Map {
        key: String,
        value: String,
        min: Option<i64>,
        max: Option<i64>,
    },
}

/// A string constraint: the pattern as the model writes it (for messages), compiled anchored (AWS
/// matches the whole value) on first use. Compiling all ~200 patterns up front cost several
/// MB of memory and milliseconds of start-up for patterns most runs never check.
#[derive(Debug)]
pub struct Pattern {
    pub source: String,
    compiled: OnceLock<Option<Matcher>>,
}

/// The models' patterns are Java's, which reads `-` right after a class escape in a set
/// (`[\w-_]`, CloudWatch Logs) as a literal dash; Rust's engines refuse it unescaped.
fn java_dashes(pattern: &str) -> String {
    pattern
        .replace(r"\w-", r"\w\-")
        .replace(r"\d-", r"\d\-")
        .replace(r"\s-", r"\s\-")
}

/// `regex` for every pattern it can compile; `fancy-regex` for the few with look-around.
#[derive(Debug)]
enum Matcher {
    Plain(Regex),
    LookAround(Box<fancy_regex::Regex>),
}

impl Pattern {
    fn new(source: String) -> Self {
        Pattern {
            source,
            compiled: OnceLock::new(),
        }
    }

    fn matcher(&self) -> Option<&Matcher> {
        self.compiled
            .get_or_init(|| {
                let anchored = format!("^(?:{})$", java_dashes(&self.source));
                match Regex::new(&anchored) {
                    Ok(re) => Some(Matcher::Plain(re)),
                    Err(_) => fancy_regex::Regex::new(&anchored)
                        .ok()
                        .map(|re| Matcher::LookAround(Box::new(re))),
                }
            })
            .as_ref()
    }

    /// A pattern that does not compile (a unit test proves none does) constrains nothing, and
    /// neither does one whose look-around gives up on a hostile value.
    pub fn is_match(&self, value: &str) -> bool {
        match self.matcher() {
            None => true,
            Some(Matcher::Plain(re)) => re.is_match(value),
            Some(Matcher::LookAround(re)) => re.is_match(value).unwrap_or(true),
        }
    }
}

#[derive(Debug)]
pub struct Shape {
    pub kind: ShapeKind,
}

#[derive(Debug)]
pub struct Model {
    pub operations: BTreeMap<String, Operation>,
    pub shapes: HashMap<String, Shape>,
}

impl Model {
    /// CodePipeline's model (see `registry` for every service's).
    pub fn get() -> &'static Model {
        super::registry::codepipeline()
    }

    pub fn parse(json: &str) -> Result<Model, String> {
        parse(json)
    }

    pub fn shape(&self, name: &str) -> Option<&Shape> {
        self.shapes.get(name)
    }

    pub fn operation(&self, name: &str) -> Option<&Operation> {
        self.operations.get(name)
    }
}

fn int(v: &Value, k: &str) -> Option<i64> {
    v.get(k)
        .and_then(|x| x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)))
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_owned)
}

fn parse(json: &str) -> Result<Model, String> {
    let root: Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let mut operations = BTreeMap::new();
    for (name, op) in root["operations"].as_object().ok_or("no operations")? {
        operations.insert(
            name.clone(),
            Operation {
                name: name.clone(),
                input: op.get("input").and_then(|i| text(i, "shape")),
                output: op.get("output").and_then(|o| text(o, "shape")),
            },
        );
    }
    let mut shapes = HashMap::new();
    for (name, s) in root["shapes"].as_object().ok_or("no shapes")? {
        let kind = match s["type"].as_str().unwrap_or_default() {
            "string" => ShapeKind::String {
                min: int(s, "min"),
                max: int(s, "max"),
                pattern: text(s, "pattern").map(Pattern::new),
                enum_values: s.get("enum").and_then(Value::as_array).map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                }),
            },
            "integer" | "long" => ShapeKind::Integer {
                min: int(s, "min"),
                max: int(s, "max"),
                wide: s["type"] == "long",
            },
            "double" | "float" => ShapeKind::Double {
                min: s.get("min").and_then(Value::as_f64),
                max: s.get("max").and_then(Value::as_f64),
            },
            "boolean" => ShapeKind::Boolean,
            "timestamp" => ShapeKind::Timestamp,
            "blob" => ShapeKind::Blob,
            "structure" => ShapeKind::Structure {
                members: s["members"]
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| Member {
                                name: k.clone(),
                                shape: text(v, "shape").unwrap_or_default(),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
                required: s
                    .get("required")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
            },
            "list" => ShapeKind::List {
                member: text(&s["member"], "shape").unwrap_or_default(),
                min: int(s, "min"),
                max: int(s, "max"),
            },
            "map" => ShapeKind::Map {
                key: text(&s["key"], "shape").unwrap_or_default(),
                value: text(&s["value"], "shape").unwrap_or_default(),
                min: int(s, "min"),
                max: int(s, "max"),
            },
            other => return Err(format!("{name}: unknown shape type {other}")),
        };
        shapes.insert(name.clone(), Shape { kind });
    }
    apply_live_overrides(&mut shapes);
    Ok(Model { operations, shapes })
}

/// Constraints where live AWS and the published model disagree; live AWS wins. Each names the
/// capture that shows it.
fn apply_live_overrides(shapes: &mut HashMap<String, Shape>) {
    // Configuration values up to 50,000 characters are accepted by live AWS, although the model
    // says 1,000: "Map value must satisfy constraint: [Member must have length less than or equal
    // to 50000, Member must have length greater than or equal to 1]" (terraform-provider-aws and
    // aws-cdk threads, 2022-2025; see tests/fidelity/captures.rs).
    if let Some(Shape {
        kind: ShapeKind::String { max, .. },
    }) = shapes.get_mut("ActionConfigurationValue")
    {
        *max = Some(50_000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_of_every_model_compiles() {
        for service in super::super::registry::all() {
            let patterns: Vec<&Pattern> = service
                .model()
                .shapes
                .values()
                .filter_map(|s| match &s.kind {
                    ShapeKind::String { pattern, .. } => pattern.as_ref(),
                    _ => None,
                })
                .collect();
            assert!(!patterns.is_empty(), "{}", service.service);
            for p in patterns {
                assert!(p.matcher().is_some(), "{}: {}", service.service, p.source);
            }
        }
    }
}
