//! The catalog of AWS-owned (and ThirdParty GitHub v1 / Alexa) action types. It is data:
//! `model/action-types.toml`, with its sources and notes as comments, built into the binary
//! and read once, on first use.

use std::sync::OnceLock;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{ActionTypeInfo, PropertyInfo};
use crate::services::codepipeline::domain::pipeline::ActionTypeId;

const CATALOG: &str = include_str!("../../../../../model/action-types.toml");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    types: Vec<TypeEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct TypeEntry {
    category: String,
    owner: String,
    provider: String,
    version: String,
    input_artifacts: (u32, u32),
    output_artifacts: (u32, u32),
    third_party_configuration_url: Option<String>,
    entity_url_template: Option<String>,
    execution_url_template: Option<String>,
    revision_url_template: Option<String>,
    properties: Vec<PropertyEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PropertyEntry {
    name: String,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    key: bool,
    #[serde(default)]
    secret: bool,
    #[serde(default)]
    queryable: bool,
    #[serde(rename = "type")]
    kind: String,
    description: Option<String>,
}

impl TypeEntry {
    fn into_info(self) -> ActionTypeInfo {
        let mut settings = Map::new();
        for (name, value) in [
            (
                "thirdPartyConfigurationUrl",
                self.third_party_configuration_url,
            ),
            ("entityUrlTemplate", self.entity_url_template),
            ("executionUrlTemplate", self.execution_url_template),
            ("revisionUrlTemplate", self.revision_url_template),
        ] {
            if let Some(v) = value {
                settings.insert(name.to_owned(), Value::String(v));
            }
        }
        ActionTypeInfo {
            id: ActionTypeId {
                category: self.category,
                owner: self.owner,
                provider: self.provider,
                version: self.version,
            },
            input_artifacts: self.input_artifacts,
            output_artifacts: self.output_artifacts,
            properties: self
                .properties
                .into_iter()
                .map(|p| PropertyInfo {
                    name: p.name,
                    required: p.required,
                    key: p.key,
                    secret: p.secret,
                    queryable: p.queryable,
                    description: p.description,
                    kind: Some(p.kind),
                })
                .collect(),
            settings: Value::Object(settings),
        }
    }
}

fn parse(text: &str) -> Result<Vec<ActionTypeInfo>, String> {
    let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
    Ok(file.types.into_iter().map(TypeEntry::into_info).collect())
}

/// Every AWS-owned action type a pipeline may name, plus the two `ThirdParty` types AWS itself
/// operates. The file is part of the binary, so a parse failure is a build defect that the unit
/// test below catches, not a runtime condition.
pub fn aws_action_types() -> &'static [ActionTypeInfo] {
    static TYPES: OnceLock<Vec<ActionTypeInfo>> = OnceLock::new();
    TYPES.get_or_init(|| {
        parse(CATALOG).unwrap_or_else(|e| panic!("model/action-types.toml is invalid: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_file_parses_and_its_types_are_sound() {
        let types = parse(CATALOG).unwrap();
        assert_eq!(types.len(), 30);
        let mut seen = std::collections::HashSet::new();
        for t in &types {
            assert!(seen.insert(t.id.clone()), "duplicate {}", t.id);
            assert!(t.input_artifacts.0 <= t.input_artifacts.1, "{}", t.id);
            assert!(t.output_artifacts.0 <= t.output_artifacts.1, "{}", t.id);
            assert!(["AWS", "ThirdParty"].contains(&t.id.owner.as_str()));
            for p in &t.properties {
                assert!(
                    ["String", "Number", "Boolean"].contains(&p.kind.as_deref().unwrap_or("")),
                    "{} {}",
                    t.id,
                    p.name
                );
            }
        }
    }

    #[test]
    fn a_mistyped_field_is_refused() {
        assert!(parse("[[types]]\ncategory = \"Source\"\ncolour = \"red\"\n").is_err());
    }
}
