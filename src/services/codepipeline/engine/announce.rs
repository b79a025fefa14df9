//! Announces steps' events in the order the steps ran. A step takes a ticket while it holds its
//! pipeline, then encodes, writes and waits for the disk without it; two steps of one pipeline
//! can reach the disk together and wake in either order. Events wait here for every earlier
//! ticket, so an execution's SUCCEEDED is never published before its STARTED.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::events::{self, EngineEvent};
use crate::services::bus::{Bus, Event};

/// One step's events: for the log, and as EventBridge carries them.
pub type Happened = Vec<(EngineEvent, Event)>;

pub struct Announcer {
    bus: Bus,
    order: Mutex<Order>,
}

#[derive(Default)]
struct Order {
    issued: u64,
    /// The next ticket to announce; later tickets that came back first wait in `waiting`.
    next: u64,
    waiting: BTreeMap<u64, Happened>,
}

/// A place in the announcement order. Dropped without being announced (the step failed, or
/// its writes did not reach the disk), it announces nothing, so it never holds later steps.
pub struct Ticket {
    announcer: Arc<Announcer>,
    number: u64,
    happened: Happened,
    handed_in: bool,
}

impl Announcer {
    pub fn new(bus: Bus) -> Arc<Self> {
        Arc::new(Announcer {
            bus,
            order: Mutex::new(Order::default()),
        })
    }

    /// Takes the next place; call it while holding what orders the steps.
    pub fn ticket(self: &Arc<Self>) -> Ticket {
        let number = match self.order.lock() {
            Ok(mut order) => {
                order.issued += 1;
                order.issued - 1
            }
            // A poisoned order cannot hold anyone back: announce out of turn.
            Err(_) => u64::MAX,
        };
        Ticket {
            announcer: self.clone(),
            number,
            happened: Vec::new(),
            handed_in: false,
        }
    }

    /// Publishes a services' internal event at once, outside the order: it follows its step's
    /// writes, not other steps' events.
    pub fn tell(&self, event: Event) {
        self.bus.publish(event);
    }

    fn hand_in(&self, number: u64, happened: Happened) {
        let Ok(mut order) = self.order.lock() else {
            return self.publish(happened);
        };
        order.waiting.insert(number, happened);
        // Published under the lock, so another step's turn cannot overtake this one.
        loop {
            let turn = order.next;
            let Some(next) = order.waiting.remove(&turn) else {
                break;
            };
            order.next += 1;
            self.publish(next);
        }
    }

    fn publish(&self, happened: Happened) {
        for (event, published) in happened {
            events::log(&event);
            self.bus.publish(published);
        }
    }
}

impl Ticket {
    /// What the step will announce once its writes are on disk.
    pub fn set(&mut self, happened: Happened) {
        self.happened = happened;
    }

    /// The writes are on disk: publish, in turn.
    pub fn announce(mut self) {
        self.handed_in = true;
        let happened = std::mem::take(&mut self.happened);
        self.announcer.hand_in(self.number, happened);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        if !self.handed_in {
            self.announcer.hand_in(self.number, Vec::new());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::codepipeline::engine::events::EventKind;

    fn happened(execution: &str) -> Happened {
        let event = EngineEvent {
            account: "000000000000".into(),
            region: "us-east-1".into(),
            pipeline: "p".into(),
            execution: execution.into(),
            kind: EventKind::ExecutionStopping,
        };
        let published = Event::new(
            "aws.codepipeline",
            "CodePipeline Pipeline Execution State Change",
            "000000000000",
            "us-east-1",
            Vec::new(),
            serde_json::json!({ "execution": execution }),
            0.0,
        );
        vec![(event, published)]
    }

    fn heard(rx: &mut tokio::sync::broadcast::Receiver<Arc<Event>>) -> Vec<String> {
        std::iter::from_fn(|| rx.try_recv().ok())
            .map(|e| {
                e.detail["execution"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            })
            .collect()
    }

    #[test]
    fn a_later_step_waits_for_the_earlier_one_to_be_announced() {
        let bus = Bus::default();
        let mut rx = bus.subscribe();
        let announcer = Announcer::new(bus);
        let mut first = announcer.ticket();
        let mut second = announcer.ticket();
        first.set(happened("started"));
        second.set(happened("succeeded"));
        second.announce();
        assert!(
            heard(&mut rx).is_empty(),
            "the second step waits for the first"
        );
        first.announce();
        assert_eq!(heard(&mut rx), ["started", "succeeded"]);
    }

    #[test]
    fn a_dropped_ticket_announces_nothing_and_holds_nobody() {
        let bus = Bus::default();
        let mut rx = bus.subscribe();
        let announcer = Announcer::new(bus);
        let mut failed = announcer.ticket();
        let mut later = announcer.ticket();
        failed.set(happened("lost"));
        later.set(happened("kept"));
        drop(failed);
        later.announce();
        assert_eq!(heard(&mut rx), ["kept"]);
    }
}
