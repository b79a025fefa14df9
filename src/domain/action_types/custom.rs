//! Custom action types (`CreateCustomActionType`): the stored record and its catalog view.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{ActionTypeInfo, PropertyInfo};
use crate::domain::pipeline::ActionTypeId;

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
