//! Checks a reply against its operation's output shape: only members the model names, JSON
//! types the SDKs expect (timestamps as epoch numbers), enum values, required members present.
//! Tests turn it on for every reply with `--check-replies`; it never runs in normal serving.

use serde_json::Value;

use super::model::{Model, ShapeKind};

/// The one member of ours a reply may carry beyond the model: a note where codepipeline-local
/// does less than AWS (EventBridge targets nothing here delivers to). Clients skip it.
pub const LOCAL_NOTE: &str = "CodePipelineLocalNote";

/// The problems found in `reply` for `operation`; empty when it conforms.
pub fn check_reply(model: &Model, operation: &str, reply: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    match model
        .operation(operation)
        .and_then(|op| op.output.as_deref())
    {
        Some(shape) => walk(model, shape, reply, operation, &mut problems),
        None => {
            if reply.as_object().is_some_and(|o| !o.is_empty()) {
                problems.push(format!(
                    "{operation} has no output shape but replied {reply}"
                ));
            }
        }
    }
    problems
}

fn walk(model: &Model, shape_name: &str, value: &Value, path: &str, problems: &mut Vec<String>) {
    let Some(shape) = model.shape(shape_name) else {
        problems.push(format!("{path}: unknown shape {shape_name}"));
        return;
    };
    let mut wrong = |expected: &str| {
        problems.push(format!(
            "{path}: expected {expected} ({shape_name}), got {value}"
        ))
    };
    match &shape.kind {
        ShapeKind::String { enum_values, .. } => match value.as_str() {
            None => wrong("string"),
            Some(s) => {
                if let Some(values) = enum_values {
                    if !values.iter().any(|v| v == s) {
                        problems.push(format!("{path}: '{s}' is not one of {values:?}"));
                    }
                }
            }
        },
        ShapeKind::Integer { .. } => {
            if !value.is_i64() && !value.is_u64() {
                wrong("integer")
            }
        }
        ShapeKind::Double { .. } => {
            if !value.is_number() {
                wrong("number")
            }
        }
        ShapeKind::Boolean => {
            if !value.is_boolean() {
                wrong("boolean")
            }
        }
        ShapeKind::Timestamp => {
            if !value.is_number() {
                wrong("epoch-seconds number")
            }
        }
        ShapeKind::Blob => {
            if !value.is_string() {
                wrong("base64 string")
            }
        }
        ShapeKind::Structure { members, required } => {
            let Some(fields) = value.as_object() else {
                return wrong("object");
            };
            for (key, v) in fields.iter().filter(|(k, _)| *k != LOCAL_NOTE) {
                match members.iter().find(|m| &m.name == key) {
                    Some(m) => walk(model, &m.shape, v, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}: member '{key}' is not in {shape_name}")),
                }
            }
            for r in required {
                if fields.get(r).is_none_or(Value::is_null) {
                    problems.push(format!(
                        "{path}: required member '{r}' of {shape_name} is missing"
                    ));
                }
            }
        }
        ShapeKind::List { member, .. } => match value.as_array() {
            None => wrong("array"),
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(model, member, item, &format!("{path}[{i}]"), problems);
                }
            }
        },
        ShapeKind::Map {
            value: value_shape, ..
        } => match value.as_object() {
            None => wrong("object"),
            Some(entries) => {
                for (k, v) in entries {
                    walk(model, value_shape, v, &format!("{path}.{k}"), problems);
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_must_be_numbers() {
        let reply = json!({"pipelines": [{"name": "p", "created": "2026-01-01T00:00:00Z"}]});
        assert_eq!(check_reply(Model::get(), "ListPipelines", &reply).len(), 1);
        let reply = json!({"pipelines": [{"name": "p", "created": 1.5, "pipelineType": "V1"}]});
        assert!(check_reply(Model::get(), "ListPipelines", &reply).is_empty());
    }

    #[test]
    fn unknown_members_and_enums_are_reported() {
        let reply = json!({"pipelines": [{"name": "p", "pipelineType": "V3", "extra": 1}]});
        assert_eq!(check_reply(Model::get(), "ListPipelines", &reply).len(), 2);
        // Our one note is allowed, and only under its own name.
        let reply = json!({"pipelines": [{"name": "p", LOCAL_NOTE: "ours"}]});
        assert!(check_reply(Model::get(), "ListPipelines", &reply).is_empty());
    }
}
