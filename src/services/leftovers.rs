//! What a pruned execution left in other services, as the bus carries it between them: when
//! `--execution-history` deletes an execution, CodePipeline says which artifacts its actions
//! wrote and which external executions (CodeBuild builds) they ran, and the services that
//! hold them forget them (S3 the artifacts; CodeBuild the builds it recorded for that
//! pipeline, with their logs). So a capped server's disk stays flat. The event is internal:
//! EventBridge rules and the console never see it.

use serde::{Deserialize, Serialize};

use super::bus::Event;

const SOURCE: &str = "codepipeline-local";
const DETAIL_TYPE: &str = "Pipeline Execution Pruned";

/// One output artifact's place.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Placed {
    pub bucket: String,
    pub key: String,
}

/// A pruned execution's traces elsewhere.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Leftovers {
    pub pipeline: String,
    pub execution_id: String,
    /// Its actions' external execution ids (a CodeBuild action's is its build id).
    pub external_ids: Vec<String>,
    /// Its actions' output artifacts.
    pub artifacts: Vec<Placed>,
}

impl Leftovers {
    /// Nothing to forget.
    pub fn is_empty(&self) -> bool {
        self.external_ids.is_empty() && self.artifacts.is_empty()
    }

    pub fn event(&self, account: &str, region: &str) -> Event {
        Event::internal(
            SOURCE,
            DETAIL_TYPE,
            account,
            region,
            serde_json::to_value(self).unwrap_or_default(),
        )
    }

    /// What an event says, when it is one of these.
    pub fn of(event: &Event) -> Option<Leftovers> {
        if !is_leftovers(event) {
            return None;
        }
        serde_json::from_value(event.detail.value().clone()).ok()
    }
}

/// A bus interest: the events that carry leftovers.
pub fn is_leftovers(event: &Event) -> bool {
    event.internal && event.source == SOURCE && event.detail_type == DETAIL_TYPE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_travel_as_internal_events_and_come_back_whole() {
        let left = Leftovers {
            pipeline: "p".into(),
            execution_id: "e".into(),
            external_ids: vec!["proj:1234".into()],
            artifacts: vec![Placed {
                bucket: "b".into(),
                key: "p/out/abc".into(),
            }],
        };
        let event = left.event("123456789012", "us-east-1");
        assert!(event.internal);
        assert_eq!(Leftovers::of(&event), Some(left));
        let other = Event::new(
            "aws.codepipeline",
            DETAIL_TYPE,
            "a",
            "r",
            Vec::new(),
            event.detail.clone(),
            0.0,
        );
        assert_eq!(Leftovers::of(&other), None, "only an internal event counts");
    }
}
