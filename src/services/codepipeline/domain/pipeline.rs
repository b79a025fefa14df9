//! The pipeline declaration as the API carries it, typed where our rules read it. Members the
//! rules do not read yet (conditions, triggers, environment variables) are kept as JSON, and
//! any member a newer model adds is kept in `extra`, so a declaration always round-trips.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::enums::{ExecutionMode, PipelineType};

pub type Extra = BTreeMap<String, Value>;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineDeclaration {
    pub name: String,
    pub role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_store: Option<ArtifactStore>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_stores: Option<BTreeMap<String, ArtifactStore>>,
    pub stages: Vec<StageDeclaration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variables: Option<Vec<PipelineVariableDeclaration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ArtifactStore {
    #[serde(rename = "type")]
    pub store_type: String,
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption_key: Option<Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PipelineVariableDeclaration {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StageDeclaration {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blockers: Option<Vec<BlockerDeclaration>>,
    pub actions: Vec<ActionDeclaration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_entry: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlockerDeclaration {
    pub name: String,
    #[serde(rename = "type")]
    pub blocker_type: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ActionTypeId {
    pub category: String,
    pub owner: String,
    pub provider: String,
    pub version: String,
}

impl ActionTypeId {
    /// How job operations name a type: the owner before the provider, unlike declaration errors
    /// (AWS's text from PollForJobs, issue 13, capture 12).
    pub fn job_label(&self) -> String {
        format!(
            "ActionType (Category: '{}', Owner: '{}', Provider: '{}', Version: '{}')",
            self.category, self.owner, self.provider, self.version
        )
    }
}

impl std::fmt::Display for ActionTypeId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ActionType (Category: '{}', Provider: '{}', Owner: '{}', Version: '{}')",
            self.category, self.provider, self.owner, self.version
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionDeclaration {
    pub name: String,
    pub action_type_id: ActionTypeId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_order: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commands: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_artifacts: Option<Vec<OutputArtifact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_artifacts: Option<Vec<InputArtifact>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_variables: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_in_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment_variables: Option<Vec<Value>>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl ActionDeclaration {
    pub fn run_order(&self) -> i64 {
        self.run_order.unwrap_or(1)
    }

    pub fn inputs(&self) -> &[InputArtifact] {
        self.input_artifacts.as_deref().unwrap_or_default()
    }

    pub fn outputs(&self) -> &[OutputArtifact] {
        self.output_artifacts.as_deref().unwrap_or_default()
    }

    pub fn config(&self, key: &str) -> Option<&str> {
        self.configuration
            .as_ref()
            .and_then(|c| c.get(key))
            .map(String::as_str)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutputArtifact {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InputArtifact {
    pub name: String,
}

impl PipelineDeclaration {
    pub fn is_v2(&self) -> bool {
        self.pipeline_type.as_deref().and_then(PipelineType::parse) == Some(PipelineType::V2)
    }

    /// Fills in what AWS fills in when it stores a declaration, so `GetPipeline` shows what AWS
    /// shows: `runOrder` 1, empty artifact lists, the default type and execution mode.
    pub fn normalise(&mut self) {
        self.pipeline_type
            .get_or_insert_with(|| PipelineType::V1.as_str().to_owned());
        self.execution_mode
            .get_or_insert_with(|| ExecutionMode::Superseded.as_str().to_owned());
        for stage in &mut self.stages {
            for action in &mut stage.actions {
                action.run_order.get_or_insert(1);
                action.input_artifacts.get_or_insert_with(Vec::new);
                action.output_artifacts.get_or_insert_with(Vec::new);
            }
        }
    }
}
