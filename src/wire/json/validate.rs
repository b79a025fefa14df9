//! Generic request validation against the AWS model, in the order AWS applies it: a member of
//! the wrong JSON type is a `SerializationException` (nothing else is reported), otherwise every
//! constraint violation (required, length, range, pattern, enum) is collected into one
//! `ValidationException` with AWS's message format and member paths (`stages.1.member.name`).

use serde_json::Value;

use super::model::{Model, ShapeKind};
use crate::error::AwsError;

/// Validates `value` against the named input shape.
pub fn validate_input(model: &Model, shape: &str, value: &Value) -> Result<(), AwsError> {
    let mut errors = Vec::new();
    walk(model, shape, value, "", &mut errors)?;
    match errors.len() {
        0 => Ok(()),
        1 => Err(AwsError::validation(format!(
            "1 validation error detected: {}",
            errors[0]
        ))),
        n => Err(AwsError::validation(format!(
            "{n} validation errors detected: {}",
            errors.join("; ")
        ))),
    }
}

/// How AWS shows a rejected value inside a message.
fn render(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        other => other.to_string(),
    }
}

/// `Value 'x' at 'path'`, or `Value at 'path'` inside a pipeline declaration: live AWS echoes
/// no value of a declaration (captures: `Value at 'pipeline.stages.1.member.actions.1.member.
/// namespace'`, awslabs/cloudfront-hosting-toolkit#12; `...member.configuration'`, aws-cdk#19767).
fn value_at(value: &Value, path: &str) -> String {
    if path == "pipeline" || path.starts_with("pipeline.") {
        format!("Value at '{path}'")
    } else {
        format!("Value '{}' at '{path}'", render(value))
    }
}

fn join(path: &str, member: &str) -> String {
    if path.is_empty() {
        member.to_owned()
    } else {
        format!("{path}.{member}")
    }
}

fn type_error(value: &Value, expected: &str) -> AwsError {
    let message = match value {
        Value::Object(_) => "Start of structure or map found where not expected.".to_owned(),
        Value::Array(_) => "Start of list found where not expected".to_owned(),
        Value::String(_) => format!("STRING_VALUE can not be converted to {expected}"),
        Value::Number(_) => format!("NUMBER_VALUE can not be converted to {expected}"),
        Value::Bool(_) => format!("BOOLEAN_VALUE can not be converted to {expected}"),
        Value::Null => format!("null can not be converted to {expected}"),
    };
    AwsError::serialization(message)
}

/// The constraint texts a scalar value violates (without the `Value ... at ...` prefix).
fn scalar_violations(kind: &ShapeKind, value: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match (kind, value) {
        (
            ShapeKind::String {
                min,
                max,
                pattern,
                enum_values,
            },
            Value::String(s),
        ) => {
            let len = s.chars().count() as i64;
            if let Some(max) = max {
                if len > *max {
                    out.push(format!(
                        "Member must have length less than or equal to {max}"
                    ));
                }
            }
            if let Some(min) = min {
                if len < *min {
                    out.push(format!(
                        "Member must have length greater than or equal to {min}"
                    ));
                }
            }
            if let Some(p) = pattern {
                if !p.is_match(s) {
                    out.push(format!(
                        "Member must satisfy regular expression pattern: {}",
                        p.source
                    ));
                }
            }
            if let Some(values) = enum_values {
                if !values.iter().any(|v| v == s) {
                    out.push(format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ));
                }
            }
        }
        (ShapeKind::Double { min, max }, Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(0.0);
            if let Some(max) = max.filter(|m| v > *m) {
                out.push(format!(
                    "Member must have value less than or equal to {max}"
                ));
            }
            if let Some(min) = min.filter(|m| v < *m) {
                out.push(format!(
                    "Member must have value greater than or equal to {min}"
                ));
            }
        }
        (ShapeKind::Integer { min, max, .. }, Value::Number(n)) => {
            let v = n
                .as_i64()
                .unwrap_or_else(|| n.as_f64().map(|f| f.trunc() as i64).unwrap_or(0));
            if let Some(max) = max {
                if v > *max {
                    out.push(format!(
                        "Member must have value less than or equal to {max}"
                    ));
                }
            }
            if let Some(min) = min {
                if v < *min {
                    out.push(format!(
                        "Member must have value greater than or equal to {min}"
                    ));
                }
            }
        }
        _ => {}
    }
    out
}

/// Every constraint of a scalar shape, broken or not: AWS lists them all when a member of a list
/// or map breaks one ("Member must satisfy constraint: [max, min, pattern]").
fn all_constraints(kind: &ShapeKind) -> Vec<String> {
    let mut out = Vec::new();
    match kind {
        ShapeKind::String {
            min,
            max,
            pattern,
            enum_values,
        } => {
            out.extend(max.map(|m| format!("Member must have length less than or equal to {m}")));
            out.extend(
                min.map(|m| format!("Member must have length greater than or equal to {m}")),
            );
            out.extend(pattern.as_ref().map(|p| {
                format!(
                    "Member must satisfy regular expression pattern: {}",
                    p.source
                )
            }));
            out.extend(
                enum_values
                    .as_ref()
                    .map(|v| format!("Member must satisfy enum value set: [{}]", v.join(", "))),
            );
        }
        ShapeKind::Integer { min, max, .. } => {
            out.extend(max.map(|m| format!("Member must have value less than or equal to {m}")));
            out.extend(min.map(|m| format!("Member must have value greater than or equal to {m}")));
        }
        ShapeKind::Double { min, max } => {
            out.extend(max.map(|m| format!("Member must have value less than or equal to {m}")));
            out.extend(min.map(|m| format!("Member must have value greater than or equal to {m}")));
        }
        _ => {}
    }
    out
}

fn length_violations(len: usize, min: &Option<i64>, max: &Option<i64>) -> Vec<String> {
    let len = len as i64;
    let mut out = Vec::new();
    if let Some(max) = max {
        if len > *max {
            out.push(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
    }
    if let Some(min) = min {
        if len < *min {
            out.push(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
    }
    out
}

fn is_scalar(kind: &ShapeKind) -> bool {
    matches!(
        kind,
        ShapeKind::String { .. }
            | ShapeKind::Integer { .. }
            | ShapeKind::Double { .. }
            | ShapeKind::Boolean
    )
}

/// Checks the JSON type of `value` against `shape` and collects constraint violations.
fn walk(
    model: &Model,
    shape: &str,
    value: &Value,
    path: &str,
    errors: &mut Vec<String>,
) -> Result<(), AwsError> {
    let Some(shape) = model.shape(shape) else {
        return Ok(());
    };
    match &shape.kind {
        ShapeKind::String { .. } => {
            if !value.is_string() {
                return Err(type_error(value, "String"));
            }
        }
        ShapeKind::Integer { wide: false, .. } => match value {
            Value::Number(n) if n.as_i64().is_some_and(|v| i32::try_from(v).is_ok()) => {}
            Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() < i32::MAX as f64) => {}
            _ => return Err(type_error(value, "Integer")),
        },
        ShapeKind::Integer { wide: true, .. } => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => {}
            Value::Number(n) if n.as_f64().is_some_and(|f| f.abs() < i64::MAX as f64) => {}
            _ => return Err(type_error(value, "Long")),
        },
        ShapeKind::Double { .. } => {
            if !value.is_number() {
                return Err(type_error(value, "Double"));
            }
        }
        ShapeKind::Boolean => {
            if !value.is_boolean() {
                return Err(type_error(value, "Boolean"));
            }
        }
        ShapeKind::Timestamp => {
            if !(value.is_number() || value.is_string()) {
                return Err(type_error(value, "Date"));
            }
        }
        ShapeKind::Blob => {
            if !value.is_string() {
                return Err(type_error(value, "ByteBuffer"));
            }
        }
        ShapeKind::Structure { members, required } => {
            let Value::Object(fields) = value else {
                return Err(type_error(value, "Structure"));
            };
            for member in members {
                match fields.get(&member.name) {
                    None | Some(Value::Null) => {
                        if required.contains(&member.name) {
                            errors.push(format!(
                                "Value null at '{}' failed to satisfy constraint: Member must not be null",
                                join(path, &member.name)
                            ));
                        }
                    }
                    Some(v) => {
                        let member_path = join(path, &member.name);
                        let before = errors.len();
                        walk(model, &member.shape, v, &member_path, errors)?;
                        if let Some(s) = model.shape(&member.shape) {
                            let mut found = scalar_violations(&s.kind, v);
                            if let ShapeKind::List { min, max, .. }
                            | ShapeKind::Map { min, max, .. } = &s.kind
                            {
                                let len = v
                                    .as_array()
                                    .map(Vec::len)
                                    .or_else(|| v.as_object().map(|o| o.len()));
                                found.extend(length_violations(len.unwrap_or(0), min, max));
                            }
                            // Own violations come before those of nested members, as AWS lists them.
                            for (i, violation) in found.into_iter().enumerate() {
                                errors.insert(
                                    before + i,
                                    format!(
                                        "{} failed to satisfy constraint: {violation}",
                                        value_at(v, &member_path)
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
        ShapeKind::List { member, .. } => {
            let Value::Array(items) = value else {
                return Err(type_error(value, "List"));
            };
            let member_kind = model.shape(member).map(|s| &s.kind);
            let mut member_broken = false;
            for (i, item) in items.iter().enumerate() {
                if item.is_null() {
                    continue;
                }
                let item_path = format!("{}.{}.member", path, i + 1);
                walk(model, member, item, &item_path, errors)?;
                if let Some(kind) = member_kind.filter(|k| is_scalar(k)) {
                    member_broken |= !scalar_violations(kind, item).is_empty();
                }
            }
            if let (true, Some(kind)) = (member_broken, member_kind) {
                errors.push(format!(
                    "{} failed to satisfy constraint: Member must satisfy constraint: [{}]",
                    value_at(value, path),
                    all_constraints(kind).join(", ")
                ));
            }
        }
        ShapeKind::Map {
            key,
            value: value_shape,
            ..
        } => {
            let Value::Object(entries) = value else {
                return Err(type_error(value, "Map"));
            };
            let key_kind = model.shape(key).map(|s| &s.kind);
            let value_kind = model.shape(value_shape).map(|s| &s.kind);
            let (mut key_broken, mut value_broken) = (false, false);
            for (k, v) in entries {
                if v.is_null() {
                    continue;
                }
                let entry_path = format!("{path}.{k}");
                walk(model, value_shape, v, &entry_path, errors)?;
                if let Some(kind) = key_kind {
                    key_broken |= !scalar_violations(kind, &Value::String(k.clone())).is_empty();
                }
                if let Some(kind) = value_kind.filter(|k| is_scalar(k)) {
                    value_broken |= !scalar_violations(kind, v).is_empty();
                }
            }
            // A map is never echoed: action configurations hold secrets (`OAuthToken`), and AWS
            // writes `Value at '...'` for them too.
            for (what, broken, kind) in [
                ("Map keys", key_broken, key_kind),
                ("Map value", value_broken, value_kind),
            ] {
                if let (true, Some(kind)) = (broken, kind) {
                    errors.push(format!(
                        "Value at '{path}' failed to satisfy constraint: {what} must satisfy constraint: [{}]",
                        all_constraints(kind).join(", ")
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(shape: &str, v: Value) -> Result<(), AwsError> {
        validate_input(Model::get(), shape, &v)
    }

    #[test]
    fn missing_required_member_is_named() {
        let e = check("GetPipelineInput", json!({})).unwrap_err();
        assert_eq!(e.code, "ValidationException");
        assert_eq!(
            e.message,
            "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
        );
    }

    #[test]
    fn pattern_and_length_are_reported_together() {
        let long = "x".repeat(101);
        let e = check("GetPipelineInput", json!({ "name": format!("{long}!") })).unwrap_err();
        assert!(
            e.message.starts_with("2 validation errors detected: "),
            "{}",
            e.message
        );
        assert!(e
            .message
            .contains("Member must have length less than or equal to 100"));
        assert!(e
            .message
            .contains(r"Member must satisfy regular expression pattern: [A-Za-z0-9.@\-_]+"));
    }

    #[test]
    fn nested_paths_are_one_based() {
        let v = json!({"pipeline": {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/r",
            "stages": [{"name": "S", "actions": [{"name": "ok", "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}},
                                                  {"name": "bad name", "actionTypeId": {"category": "Nope", "owner": "AWS", "provider": "S3", "version": "1"}}]}]}});
        let e = check("CreatePipelineInput", v).unwrap_err();
        assert!(
            e.message
                .contains("at 'pipeline.stages.1.member.actions.2.member.name'"),
            "{}",
            e.message
        );
        assert!(
            e.message
                .contains("at 'pipeline.stages.1.member.actions.2.member.actionTypeId.category'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn wrong_json_type_is_a_serialization_error() {
        let e = check("GetPipelineInput", json!({"name": 5})).unwrap_err();
        assert_eq!(e.code, "SerializationException");
        let e = check("GetPipelineInput", json!({"name": "p", "version": "1"})).unwrap_err();
        assert_eq!(e.code, "SerializationException");
    }

    #[test]
    fn range_is_checked() {
        let e = check("ListPipelinesInput", json!({"maxResults": 0})).unwrap_err();
        assert!(
            e.message
                .contains("Member must have value greater than or equal to 1"),
            "{}",
            e.message
        );
    }

    #[test]
    fn list_of_strings_reports_member_constraints() {
        let e = check(
            "UntagResourceInput",
            json!({"resourceArn": "arn:aws:codepipeline:us-east-1:123456789012:p", "tagKeys": [""]}),
        )
        .unwrap_err();
        assert!(e.message.contains("at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 128, Member must have length greater than or equal to 1"), "{}", e.message);
    }

    #[test]
    fn configuration_values_take_live_aws_bounds_and_are_never_echoed() {
        let decl = |value: String| {
            json!({"pipeline": {"name": "p", "roleArn": "arn:aws:iam::123456789012:role/r",
                "stages": [{"name": "S", "actions": [{"name": "a", "configuration": {"OAuthToken": value},
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}]}]}})
        };
        assert!(check("CreatePipelineInput", decl("x".repeat(50_000))).is_ok());
        let e = check("CreatePipelineInput", decl("secret".repeat(10_000))).unwrap_err();
        assert_eq!(
            e.message,
            "1 validation error detected: Value at 'pipeline.stages.1.member.actions.1.member.configuration' failed to satisfy constraint: \
             Map value must satisfy constraint: [Member must have length less than or equal to 50000, Member must have length greater than or equal to 1]"
        );
        assert!(!e.message.contains("secret"));
    }
}
