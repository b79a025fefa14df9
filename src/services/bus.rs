//! The event bus, one of the two places services meet: every service publishes what happens as
//! EventBridge delivers it (`source`, `detail-type`, `detail`, `resources`), and whoever
//! listens (the console's live feed today; EventBridge rules, and with them source-change
//! detection, next) subscribes. In-process and best effort, as EventBridge is at-least-once:
//! a listener that falls behind is told it lagged and catches up from the APIs.

use std::sync::{Arc, OnceLock, RwLock};

use serde::{Serialize, Serializer};
use serde_json::Value;
use tokio::sync::{broadcast, mpsc};

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
    pub detail: Detail,
    /// The EventBridge bus a `PutEvents` entry named, when not the default one (not part of
    /// the envelope, as in AWS).
    #[serde(skip)]
    pub bus: Option<String>,
    /// Said by one service to another (what a pruned execution left behind), never delivered
    /// to EventBridge rules or the console's feed.
    #[serde(skip)]
    pub internal: bool,
    /// The `owner` and `provider` of the action an action event is about, for listeners that
    /// pick events by it: reading `detail` would make it (not part of the envelope).
    #[serde(skip)]
    pub action_type: Option<(String, String)>,
    /// What an action event's `detail` says of the run, for listeners that read a few of its
    /// fields: making `detail` costs more than the rest of the event (not part of the envelope).
    #[serde(skip)]
    pub action_run: Option<Arc<ActionRun>>,
}

/// The fields of an action event's `detail` that listeners read, as the detail shows them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ActionRun {
    pub pipeline: String,
    /// `action-execution-id`.
    pub id: Option<String>,
    /// `state`: `STARTED`, `SUCCEEDED`, `FAILED` or `ABANDONED`.
    pub state: &'static str,
    /// `execution-result.external-execution-id`.
    pub external_execution_id: Option<String>,
    /// `execution-result.external-execution-summary`.
    pub external_execution_summary: Option<String>,
    /// The `s3location` (bucket, key) of the first of `input-artifacts` (on `STARTED`).
    pub first_input: Option<(String, String)>,
    /// The `s3location` (bucket, key) of the first of `output-artifacts` (on `SUCCEEDED`).
    pub first_output: Option<(String, String)>,
}

/// An event's `detail`, made when first read. Under load the bus carries tens of thousands of
/// events a second, and most are read by nobody: the activity log keeps the last 200 and
/// rules are rare. Building each one's JSON up front (maps, keys, a build's phases) was a
/// fifth of the CPU of a started execution; what makes it now waits in a closure.
#[derive(Clone)]
pub struct Detail(Arc<DetailCell>);

type MakeDetail = Box<dyn Fn() -> Value + Send + Sync>;

struct DetailCell {
    value: OnceLock<Value>,
    make: Option<MakeDetail>,
}

impl Detail {
    /// A detail made by `make` when first read.
    pub fn lazy(make: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        Detail(Arc::new(DetailCell {
            value: OnceLock::new(),
            make: Some(Box::new(make)),
        }))
    }

    pub fn value(&self) -> &Value {
        self.0
            .value
            .get_or_init(|| self.0.make.as_ref().map_or(Value::Null, |make| make()))
    }
}

impl From<Value> for Detail {
    fn from(value: Value) -> Self {
        Detail(Arc::new(DetailCell {
            value: OnceLock::from(value),
            make: None,
        }))
    }
}

impl std::ops::Deref for Detail {
    type Target = Value;
    fn deref(&self) -> &Value {
        self.value()
    }
}

impl PartialEq for Detail {
    fn eq(&self, other: &Self) -> bool {
        self.value() == other.value()
    }
}

impl std::fmt::Debug for Detail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.value().fmt(f)
    }
}

impl Serialize for Detail {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value().serialize(serializer)
    }
}

impl Event {
    /// A new event with a fresh id, happening at `at` (epoch seconds).
    pub fn new(
        source: &str,
        detail_type: &str,
        account: &str,
        region: &str,
        resources: Vec<String>,
        detail: impl Into<Detail>,
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
            detail: detail.into(),
            bus: None,
            internal: false,
            action_type: None,
            action_run: None,
        }
    }

    /// An event only services hear (see `internal`).
    pub fn internal(
        source: &str,
        detail_type: &str,
        account: &str,
        region: &str,
        detail: Value,
    ) -> Self {
        Event {
            internal: true,
            ..Event::new(
                source,
                detail_type,
                account,
                region,
                Vec::new(),
                detail,
                0.0,
            )
        }
    }
}

/// Which events a selective listener takes.
pub type Interest = fn(&Event) -> bool;

/// A selective listener: what it takes, and its queue.
type Selective = (Interest, mpsc::UnboundedSender<Arc<Event>>);

/// A cheap-clone handle on the bus.
#[derive(Clone)]
pub struct Bus {
    all: broadcast::Sender<Arc<Event>>,
    /// Listeners that record what some events say (a build, a source change) and so must not
    /// miss one: each gets the events it takes on a queue of its own. A broadcast listener
    /// that falls 1,024 events behind (about 60 executions' worth under load) misses them.
    selective: Arc<RwLock<Vec<Selective>>>,
}

impl std::fmt::Debug for Bus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bus").finish_non_exhaustive()
    }
}

impl Default for Bus {
    fn default() -> Self {
        Bus {
            all: broadcast::channel(1024).0,
            selective: Arc::default(),
        }
    }
}

impl Bus {
    /// Nobody listening is fine: events are not kept. An internal event reaches only the
    /// selective listeners that take it.
    pub fn publish(&self, event: Event) {
        let event = Arc::new(event);
        if let Ok(listeners) = self.selective.read() {
            for (takes, queue) in listeners.iter() {
                if takes(&event) {
                    let _ = queue.send(event.clone());
                }
            }
        }
        if !event.internal {
            let _ = self.all.send(event);
        }
    }

    /// Every event, best effort: a listener that falls behind is told how many it missed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.all.subscribe()
    }

    /// The events `takes` accepts, every one of them, in order. Decided as each is published,
    /// so keep `takes` to a few comparisons.
    pub fn subscribe_to(&self, takes: Interest) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (queue, events) = mpsc::unbounded_channel();
        if let Ok(mut listeners) = self.selective.write() {
            listeners.retain(|(_, q)| !q.is_closed());
            listeners.push((takes, queue));
        }
        events
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

    #[test]
    fn selective_listeners_get_every_event_they_take_however_far_behind() {
        let bus = Bus::default();
        let mut all = bus.subscribe();
        let mut stages = bus.subscribe_to(|e| e.detail_type.starts_with("CodePipeline Stage"));
        for i in 0..3000 {
            let kind = if i % 3 == 0 { "Stage" } else { "Action" };
            bus.publish(Event::new(
                "aws.codepipeline",
                &format!("CodePipeline {kind} Execution State Change"),
                "123456789012",
                "us-east-1",
                Vec::new(),
                serde_json::json!({ "n": i }),
                0.0,
            ));
        }
        for i in (0..3000).step_by(3) {
            assert_eq!(stages.try_recv().unwrap().detail["n"], i);
        }
        assert!(stages.try_recv().is_err());
        assert!(matches!(
            all.try_recv(),
            Err(broadcast::error::TryRecvError::Lagged(_))
        ));
    }

    #[test]
    fn internal_events_reach_only_the_listeners_that_take_them() {
        let bus = Bus::default();
        let mut all = bus.subscribe();
        let mut rules = bus.subscribe_to(|e| !e.internal);
        let mut services = bus.subscribe_to(|e| e.internal);
        bus.publish(Event::internal(
            "local",
            "Pruned",
            "a",
            "r",
            serde_json::json!({}),
        ));
        assert!(services.try_recv().is_ok());
        assert!(rules.try_recv().is_err(), "not for EventBridge rules");
        assert!(all.try_recv().is_err(), "not for the console's feed");
    }
}
