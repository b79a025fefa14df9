//! Custom action types (`CreateCustomActionType`): the stored record and its catalog view.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionTypeInfo, PropertyInfo};
use crate::services::codepipeline::domain::pipeline::ActionTypeId;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactDetails {
    pub minimum_count: u32,
    pub maximum_count: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationProperty {
    pub name: String,
    pub required: bool,
    pub key: bool,
    pub secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queryable: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// The stored record of a custom action type.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CustomActionType {
    pub format_version: u32,
    pub id: ActionTypeId,
    #[serde(default)]
    pub settings: Option<Value>,
    #[serde(default)]
    pub configuration_properties: Vec<ConfigurationProperty>,
    pub input_artifact_details: ArtifactDetails,
    pub output_artifact_details: ArtifactDetails,
    pub arn: String,
    /// Third-party types changed by `UpdateActionType`: the declaration as given, which
    /// `GetActionType` returns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<Value>,
}

impl CustomActionType {
    pub fn info(&self) -> ActionTypeInfo {
        ActionTypeInfo {
            id: self.id.clone(),
            input_artifacts: (
                self.input_artifact_details.minimum_count,
                self.input_artifact_details.maximum_count,
            ),
            output_artifacts: (
                self.output_artifact_details.minimum_count,
                self.output_artifact_details.maximum_count,
            ),
            properties: self
                .configuration_properties
                .iter()
                .map(|p| PropertyInfo {
                    name: p.name.clone(),
                    required: p.required,
                    key: p.key,
                    secret: p.secret,
                    queryable: p.queryable.unwrap_or(false),
                    description: p.description.clone(),
                    kind: p.kind.clone(),
                })
                .collect(),
            settings: self
                .settings
                .clone()
                .unwrap_or_else(|| Value::Object(Default::default())),
        }
    }
}

/// A third-party type as `UpdateActionType` declares it, in the shape the catalog reads.
pub fn from_declaration(declaration: &Value, arn: String) -> Option<CustomActionType> {
    let id: ActionTypeId = serde_json::from_value(declaration.get("id")?.clone()).ok()?;
    let details = |key: &str| -> Option<ArtifactDetails> {
        let d = declaration.get(key)?;
        Some(ArtifactDetails {
            minimum_count: d.get("minimumCount")?.as_u64()? as u32,
            maximum_count: d.get("maximumCount")?.as_u64()? as u32,
        })
    };
    let properties = declaration
        .get("properties")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    Some(ConfigurationProperty {
                        name: p.get("name")?.as_str()?.to_owned(),
                        required: !p.get("optional")?.as_bool()?,
                        key: p.get("key")?.as_bool()?,
                        secret: p.get("noEcho")?.as_bool()?,
                        queryable: p.get("queryable").and_then(Value::as_bool),
                        description: p
                            .get("description")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                        kind: None,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let mut settings = serde_json::Map::new();
    for (from, to) in [
        ("configurationUrl", "thirdPartyConfigurationUrl"),
        ("entityUrlTemplate", "entityUrlTemplate"),
        ("executionUrlTemplate", "executionUrlTemplate"),
        ("revisionUrlTemplate", "revisionUrlTemplate"),
    ] {
        if let Some(v) = declaration.get("urls").and_then(|u| u.get(from)) {
            settings.insert(to.to_owned(), v.clone());
        }
    }
    Some(CustomActionType {
        format_version: crate::store::FORMAT_VERSION,
        id,
        settings: Some(Value::Object(settings)),
        configuration_properties: properties,
        input_artifact_details: details("inputArtifactDetails")?,
        output_artifact_details: details("outputArtifactDetails")?,
        arn,
        declaration: Some(declaration.clone()),
    })
}
