//! What the bus carried and what rules delivered, lately: the last events and deliveries kept in
//! memory for `GET /_local/events`, so a learner sees what fired and where it went, and a
//! delivery that failed is counted, never lost silently.

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::Value;

const KEPT: usize = 200;

#[derive(Default)]
struct Recent {
    events: VecDeque<Value>,
    deliveries: VecDeque<Value>,
}

#[derive(Default)]
pub struct Activity(Mutex<Recent>);

fn keep(list: &mut VecDeque<Value>, item: Value) {
    if list.len() == KEPT {
        list.pop_front();
    }
    list.push_back(item);
}

impl Activity {
    pub fn event(&self, envelope: Value) {
        if let Ok(mut r) = self.0.lock() {
            keep(&mut r.events, envelope);
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
                .filter(|e| wanted(e))
                .cloned()
                .collect(),
            r.deliveries.iter().rev().cloned().collect(),
        )
    }
}
