//! The event bus, one of the two places services meet: every service publishes what happens as
//! EventBridge delivers it (`source`, `detail-type`, `detail`, `resources`), and whoever
//! listens (the console's live feed today; EventBridge rules, and with them source-change
//! detection, next) subscribes. In-process and best effort, as EventBridge is at-least-once:
//! a listener that falls behind is told it lagged and catches up from the APIs.

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::broadcast;

/// An event in EventBridge's envelope.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub version: &'static str,
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    pub account: String,
    /// ISO 8601 to the second, `Z`, as EventBridge writes it.
    pub time: String,
    pub region: String,
    pub resources: Vec<String>,
    pub detail: Value,
    /// The EventBridge bus a `PutEvents` entry named, when not the default one (not part of
    /// the envelope, as in AWS).
    #[serde(skip)]
    pub bus: Option<String>,
}

impl Event {
    /// A new event with a fresh id, happening at `at` (epoch seconds).
    pub fn new(
        source: &str,
        detail_type: &str,
        account: &str,
        region: &str,
        resources: Vec<String>,
        detail: Value,
        at: f64,
    ) -> Self {
        // Not `format`: it parses its pattern on every call, and every step publishes events.
        let time = chrono::DateTime::from_timestamp(at as i64, 0)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        Event {
            version: "0",
            id: uuid::Uuid::new_v4().to_string(),
            detail_type: detail_type.to_owned(),
            source: source.to_owned(),
            account: account.to_owned(),
            time,
            region: region.to_owned(),
            resources,
            detail,
            bus: None,
        }
    }
}

/// A cheap-clone handle on the bus.
#[derive(Clone, Debug)]
pub struct Bus(broadcast::Sender<Arc<Event>>);

impl Default for Bus {
    fn default() -> Self {
        Bus(broadcast::channel(1024).0)
    }
}

impl Bus {
    /// Nobody listening is fine: events are not kept.
    pub fn publish(&self, event: Event) {
        let _ = self.0.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.0.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_eventbridges_envelope() {
        let bus = Bus::default();
        let mut listener = bus.subscribe();
        bus.publish(Event::new(
            "aws.codepipeline",
            "CodePipeline Pipeline Execution State Change",
            "123456789012",
            "us-east-1",
            vec!["arn:aws:codepipeline:us-east-1:123456789012:p".into()],
            serde_json::json!({"pipeline": "p", "state": "STARTED"}),
            1_579_903_387.5,
        ));
        let got = serde_json::to_value(&*listener.try_recv().unwrap()).unwrap();
        assert_eq!(
            got["detail-type"],
            "CodePipeline Pipeline Execution State Change"
        );
        assert_eq!(got["time"], "2020-01-24T22:03:07Z");
        assert_eq!(got["version"], "0");
        assert_eq!(got["detail"]["state"], "STARTED");
    }
}
