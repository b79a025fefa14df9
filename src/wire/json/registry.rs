//! The awsJson services of this endpoint: each a vendored botocore model (`model/`), found by
//! the `X-Amz-Target` prefix a request names. Models are parsed on first use, so a server that
//! only ever sees CodePipeline never parses the others.

use std::sync::OnceLock;

use super::model::Model;

/// One service's model and the names the wire needs before parsing it.
pub struct ServiceModel {
    /// The service's key in the handler tables and in health (`codepipeline`).
    pub service: &'static str,
    /// `X-Amz-Target: <prefix>.<Operation>`; the model's `metadata.targetPrefix`.
    pub target_prefix: &'static str,
    /// The SigV4 scope's service name; the model's `metadata.signingName` or `endpointPrefix`.
    pub signing_name: &'static str,
    /// The model's `metadata.jsonVersion`: replies are `application/x-amz-json-<version>`.
    pub json_version: &'static str,
    source: &'static str,
    parsed: OnceLock<Model>,
    /// The operation names alone, for health: read without building the model.
    names: OnceLock<Vec<String>>,
}

impl ServiceModel {
    const fn new(
        service: &'static str,
        target_prefix: &'static str,
        signing_name: &'static str,
        source: &'static str,
    ) -> Self {
        ServiceModel {
            service,
            target_prefix,
            signing_name,
            json_version: "1.1",
            source,
            parsed: OnceLock::new(),
            names: OnceLock::new(),
        }
    }

    /// The model's operation names, sorted: from the parsed model when there is one, else
    /// read from the file without keeping anything else of it, so asking (health does) does not
    /// cost a model's memory for a service nobody calls.
    pub fn operation_names(&self) -> &[String] {
        self.names.get_or_init(|| {
            let mut names: Vec<String> = match self.parsed.get() {
                Some(model) => model.operations.keys().cloned().collect(),
                None => {
                    #[derive(serde::Deserialize)]
                    struct Names {
                        operations: std::collections::BTreeMap<String, serde::de::IgnoredAny>,
                    }
                    serde_json::from_str::<Names>(self.source)
                        .map(|n| n.operations.into_keys().collect())
                        .unwrap_or_else(|_| self.model().operations.keys().cloned().collect())
                }
            };
            names.sort_unstable();
            names
        })
    }

    /// The parsed model. The files are part of the binary, so a parse failure is a build
    /// defect that the registry's unit test catches, not a runtime condition.
    pub fn model(&self) -> &Model {
        self.parsed.get_or_init(|| {
            Model::parse(self.source)
                .unwrap_or_else(|e| panic!("vendored model of {} is invalid: {e}", self.service))
        })
    }

    pub fn content_type(&self) -> &'static str {
        match self.json_version {
            "1.0" => "application/x-amz-json-1.0",
            _ => "application/x-amz-json-1.1",
        }
    }
}

static SERVICES: [ServiceModel; 5] = [
    ServiceModel::new(
        "codepipeline",
        "CodePipeline_20150709",
        "codepipeline",
        include_str!("../../../model/codepipeline-2015-07-09.json"),
    ),
    ServiceModel::new(
        "codebuild",
        "CodeBuild_20161006",
        "codebuild",
        include_str!("../../../model/codebuild-2016-10-06.json"),
    ),
    ServiceModel::new(
        "codecommit",
        "CodeCommit_20150413",
        "codecommit",
        include_str!("../../../model/codecommit-2015-04-13.json"),
    ),
    ServiceModel::new(
        "events",
        "AWSEvents",
        "events",
        include_str!("../../../model/events-2015-10-07.json"),
    ),
    ServiceModel::new(
        "logs",
        "Logs_20140328",
        "logs",
        include_str!("../../../model/logs-2014-03-28.json"),
    ),
];

pub fn all() -> &'static [ServiceModel] {
    &SERVICES
}

pub fn by_target_prefix(prefix: &str) -> Option<&'static ServiceModel> {
    SERVICES.iter().find(|s| s.target_prefix == prefix)
}

pub fn named(service: &str) -> Option<&'static ServiceModel> {
    SERVICES.iter().find(|s| s.service == service)
}

/// CodePipeline's model, which its own code reads (enums, shapes of replies).
pub fn codepipeline() -> &'static Model {
    SERVICES[0].model()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_each_models_metadata() {
        for s in all() {
            let meta: serde_json::Value = serde_json::from_str(s.source).unwrap();
            let meta = &meta["metadata"];
            assert_eq!(meta["targetPrefix"], s.target_prefix, "{}", s.service);
            assert_eq!(meta["jsonVersion"], s.json_version, "{}", s.service);
            assert_eq!(meta["protocol"], "json", "{}", s.service);
            let signing = meta["signingName"]
                .as_str()
                .or(meta["endpointPrefix"].as_str());
            assert_eq!(signing, Some(s.signing_name), "{}", s.service);
            assert!(s.model().operations.len() > 40, "{}", s.service);
        }
    }
}
