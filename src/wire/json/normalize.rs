//! What a handler sees of a request: only the members the model defines. AWS ignores members it
//! does not know and treats `null` as absent, so after validation unknown members and nulls
//! are removed at every depth. Without this, an unknown member inside a declaration would be
//! stored and echoed back by every later read.

use serde_json::Value;

use super::model::{Model, ShapeKind};

/// Removes, in place, every member `shape` does not define and every `null`.
pub fn normalize(model: &Model, shape: &str, value: &mut Value) {
    let Some(shape) = model.shape(shape) else {
        return;
    };
    match (&shape.kind, value) {
        (ShapeKind::Structure { members, .. }, Value::Object(fields)) => {
            fields.retain(|name, v| !v.is_null() && members.iter().any(|m| &m.name == name));
            for member in members {
                if let Some(v) = fields.get_mut(&member.name) {
                    normalize(model, &member.shape, v);
                }
            }
        }
        (ShapeKind::List { member, .. }, Value::Array(items)) => {
            items.retain(|v| !v.is_null());
            for item in items {
                normalize(model, member, item);
            }
        }
        (ShapeKind::Map { value: of, .. }, Value::Object(entries)) => {
            entries.retain(|_, v| !v.is_null());
            for (_, v) in entries.iter_mut() {
                normalize(model, of, v);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn unknown_members_and_nulls_are_dropped_at_every_depth() {
        let model = Model::get();
        let mut input = json!({
            "pipeline": {
                "name": "p", "bogus": 1, "variables": null,
                "stages": [null, {"name": "S", "extra": true, "actions": [
                    {"name": "A", "deep": {"x": 1}, "configuration": {"K": "v", "N": null}}
                ]}]
            },
            "tags": null,
            "topLevelUnknown": "x"
        });
        normalize(model, "CreatePipelineInput", &mut input);
        assert_eq!(
            input,
            json!({"pipeline": {"name": "p", "stages": [{"name": "S", "actions": [
                {"name": "A", "configuration": {"K": "v"}}
            ]}]}})
        );
    }
}
