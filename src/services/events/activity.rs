//! What the bus carried and what rules delivered, lately: the last events and deliveries kept in
//! memory for `GET /_local/events`, so a learner sees what fired and where it went, and a
//! delivery that failed is counted, never lost silently.

use std::collections::VecDeque;
use std::sync::Mutex;

use std::sync::Arc;

use serde_json::Value;

use crate::services::bus::Event;

const KEPT: usize = 200;

#[derive(Default)]
struct Recent {
    /// Kept as published: turned into JSON only when asked for, off the bus's path.
    events: VecDeque<Arc<Event>>,
    deliveries: VecDeque<Value>,
}

#[derive(Default)]
pub struct Activity(Mutex<Recent>);

fn keep<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == KEPT {
        list.pop_front();
    }
    list.push_back(item);
}

impl Activity {
    pub fn event(&self, event: Arc<Event>) {
        if let Ok(mut r) = self.0.lock() {
            keep(&mut r.events, event);
        }
    }

    pub fn delivery(&self, record: Value) {
        if let Ok(mut r) = self.0.lock() {
            keep(&mut r.deliveries, record);
        }
    }

    /// The recent events (newest first) that `wanted` lets through, and the recent deliveries.
    pub fn snapshot(&self, wanted: impl Fn(&Value) -> bool) -> (Vec<Value>, Vec<Value>) {
        let Ok(r) = self.0.lock() else {
            return (Vec::new(), Vec::new());
        };
        (
            r.events
                .iter()
                .rev()
                .filter_map(|e| serde_json::to_value(&**e).ok())
                .filter(|e| wanted(e))
                .collect(),
            r.deliveries.iter().rev().cloned().collect(),
        )
    }
}
