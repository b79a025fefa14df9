//! The action-type catalog: AWS-owned types compiled in (`aws_catalog`), plus the custom types an
//! account created, seen through one shape ([`ActionTypeInfo`]) by validation and the API.

mod aws_catalog;
mod custom;
pub mod spec;

pub use aws_catalog::aws_action_types;
pub use custom::{from_declaration, ArtifactDetails, ConfigurationProperty, CustomActionType};

use serde_json::{json, Value};

use super::pipeline::ActionTypeId;

/// One configuration property, owned.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyInfo {
    pub name: String,
    pub required: bool,
    pub key: bool,
    pub secret: bool,
    pub queryable: bool,
    pub description: Option<String>,
    pub kind: Option<String>,
}

/// An action type as validation and the API see it, whoever owns it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionTypeInfo {
    pub id: ActionTypeId,
    pub input_artifacts: (u32, u32),
    pub output_artifacts: (u32, u32),
    pub properties: Vec<PropertyInfo>,
    /// `ActionTypeSettings` as the API shows it.
    pub settings: Value,
}

impl ActionTypeInfo {
    /// The console link of an action: `entityUrlTemplate` with `{Config:Key}` filled in from the
    /// action's configuration (and `{Config:Region}` from the region when not configured).
    pub fn entity_url(
        &self,
        config: &std::collections::BTreeMap<String, String>,
        region: &str,
    ) -> Option<String> {
        let template = self.settings.get("entityUrlTemplate")?.as_str()?;
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("{Config:") {
            out.push_str(&rest[..start]);
            let end = rest[start..].find('}')? + start;
            let key = &rest[start + "{Config:".len()..end];
            let value = config
                .get(key)
                .map(String::as_str)
                .or((key == "Region").then_some(region))?;
            out.push_str(value);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    /// The `ActionType` shape `ListActionTypes` returns.
    pub fn to_api(&self) -> Value {
        let properties: Vec<Value> = self
            .properties
            .iter()
            .map(|p| {
                let mut v = json!({"name": p.name, "required": p.required, "key": p.key, "secret": p.secret, "queryable": p.queryable});
                if let Some(d) = &p.description {
                    v["description"] = json!(d);
                }
                if let Some(t) = &p.kind {
                    v["type"] = json!(t);
                }
                v
            })
            .collect();
        json!({
            "id": self.id,
            "settings": self.settings,
            "actionConfigurationProperties": properties,
            "inputArtifactDetails": {"minimumCount": self.input_artifacts.0, "maximumCount": self.input_artifacts.1},
            "outputArtifactDetails": {"minimumCount": self.output_artifacts.0, "maximumCount": self.output_artifacts.1},
        })
    }

    /// The `ActionTypeDeclaration` shape `GetActionType` returns.
    pub fn to_declaration(&self) -> Value {
        let properties: Vec<Value> = self
            .properties
            .iter()
            .map(|p| {
                let mut v = json!({"name": p.name, "optional": !p.required, "key": p.key, "noEcho": p.secret, "queryable": p.queryable});
                if let Some(d) = &p.description {
                    v["description"] = json!(d);
                }
                v
            })
            .collect();
        let mut urls = serde_json::Map::new();
        for (from, to) in [
            ("thirdPartyConfigurationUrl", "configurationUrl"),
            ("entityUrlTemplate", "entityUrlTemplate"),
            ("executionUrlTemplate", "executionUrlTemplate"),
            ("revisionUrlTemplate", "revisionUrlTemplate"),
        ] {
            if let Some(v) = self.settings.get(from) {
                urls.insert(to.to_owned(), v.clone());
            }
        }
        json!({
            "id": self.id,
            "executor": {"configuration": {"jobWorkerExecutorConfiguration": {}}, "type": "JobWorker"},
            "inputArtifactDetails": {"minimumCount": self.input_artifacts.0, "maximumCount": self.input_artifacts.1},
            "outputArtifactDetails": {"minimumCount": self.output_artifacts.0, "maximumCount": self.output_artifacts.1},
            "properties": properties,
            "urls": urls,
        })
    }
}

/// The action types one account and region can use: the AWS catalog plus its custom types.
pub struct Catalog<'a> {
    custom: &'a [CustomActionType],
}

impl<'a> Catalog<'a> {
    pub fn new(custom: &'a [CustomActionType]) -> Self {
        Catalog { custom }
    }

    /// A stored type (custom, or a third-party type changed by `UpdateActionType`) wins over
    /// the compiled-in catalog.
    pub fn find(&self, id: &ActionTypeId) -> Option<ActionTypeInfo> {
        if let Some(stored) = self.custom.iter().find(|c| &c.id == id) {
            return Some(stored.info());
        }
        if id.owner == "Custom" {
            return None;
        }
        aws_action_types().iter().find(|t| &t.id == id).cloned()
    }

    /// The stored record of `id`, for its full declaration.
    pub fn stored(&self, id: &ActionTypeId) -> Option<&'a CustomActionType> {
        self.custom.iter().find(|c| &c.id == id)
    }

    /// Every type, AWS-owned first, optionally of one owner.
    pub fn all(&self, owner: Option<&str>) -> Vec<ActionTypeInfo> {
        aws_action_types()
            .iter()
            .filter(|t| !self.custom.iter().any(|c| c.id == t.id))
            .cloned()
            .chain(self.custom.iter().map(CustomActionType::info))
            .filter(|t| owner.is_none_or(|o| t.id.owner == o))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_issue_s_providers_are_all_there() {
        let cat = Catalog::new(&[]);
        for (category, provider) in [
            ("Source", "S3"),
            ("Source", "CodeCommit"),
            ("Source", "ECR"),
            ("Source", "CodeStarSourceConnection"),
            ("Build", "CodeBuild"),
            ("Build", "ECRBuildAndPublish"),
            ("Compute", "Commands"),
            ("Test", "CodeBuild"),
            ("Test", "DeviceFarm"),
            ("Deploy", "S3"),
            ("Deploy", "CodeDeploy"),
            ("Deploy", "CloudFormation"),
            ("Deploy", "CloudFormationStackSet"),
            ("Deploy", "CloudFormationStackInstances"),
            ("Deploy", "ECS"),
            ("Deploy", "CodeDeployToECS"),
            ("Deploy", "ElasticBeanstalk"),
            ("Deploy", "AppConfig"),
            ("Deploy", "EC2"),
            ("Deploy", "EKS"),
            ("Invoke", "Lambda"),
            ("Invoke", "StepFunctions"),
            ("Invoke", "InspectorScan"),
            ("Approval", "Manual"),
        ] {
            let id = ActionTypeId {
                category: category.into(),
                owner: "AWS".into(),
                provider: provider.into(),
                version: "1".into(),
            };
            assert!(cat.find(&id).is_some(), "{category}/{provider} missing");
        }
        let github = ActionTypeId {
            category: "Source".into(),
            owner: "ThirdParty".into(),
            provider: "GitHub".into(),
            version: "1".into(),
        };
        assert!(cat.find(&github).is_some());
    }
}
