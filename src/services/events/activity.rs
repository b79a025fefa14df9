//! What the bus carried and what rules delivered, lately: the last events and deliveries kept in
//! memory for `GET /_local/events`, and a feed of each new one for those who follow
//! (`?follow`, the console's activity page), so a learner sees what fired and where it went,
//! and a delivery that failed is counted, never lost silently.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast;

use crate::services::bus::Event;

const KEPT: usize = 200;

/// One thing that happened: an event on the bus, or a rule's delivery of one.
#[derive(Clone, Debug)]
pub enum Entry {
    /// Kept as published: turned into JSON only when asked for, off the bus's path.
    Event(Arc<Event>),
    Delivery(Arc<Value>),
}

impl Entry {
    /// `{"event": {...}}` or `{"delivery": {...}}`, as `?follow` writes each line.
    pub fn to_json(&self) -> Value {
        match self {
            Entry::Event(e) => serde_json::json!({ "event": &**e }),
            Entry::Delivery(d) => serde_json::json!({ "delivery": &**d }),
        }
    }
}

/// Each kept entry with its place in the order things happened, so the two lists merge back.
#[derive(Default)]
struct Recent {
    next: u64,
    events: VecDeque<(u64, Arc<Event>)>,
    deliveries: VecDeque<(u64, Arc<Value>)>,
}

impl Recent {
    fn place(&mut self) -> u64 {
        self.next += 1;
        self.next
    }
}

pub struct Activity {
    recent: Mutex<Recent>,
    feed: broadcast::Sender<Entry>,
}

impl Default for Activity {
    fn default() -> Self {
        Activity {
            recent: Mutex::default(),
            feed: broadcast::channel(1024).0,
        }
    }
}

fn keep<T>(list: &mut VecDeque<T>, item: T) {
    if list.len() == KEPT {
        list.pop_front();
    }
    list.push_back(item);
}

impl Activity {
    pub fn event(&self, event: Arc<Event>) {
        if let Ok(mut r) = self.recent.lock() {
            let place = r.place();
            keep(&mut r.events, (place, event.clone()));
            // Sent under the lock, so a follower's history and feed neither overlap nor miss.
            let _ = self.feed.send(Entry::Event(event));
        }
    }

    pub fn delivery(&self, record: Value) {
        let record = Arc::new(record);
        if let Ok(mut r) = self.recent.lock() {
            let place = r.place();
            keep(&mut r.deliveries, (place, record.clone()));
            let _ = self.feed.send(Entry::Delivery(record));
        }
    }

    /// The recent events (newest first) that `wanted` lets through, and the recent deliveries.
    pub fn snapshot(&self, wanted: impl Fn(&Value) -> bool) -> (Vec<Value>, Vec<Value>) {
        let Ok(r) = self.recent.lock() else {
            return (Vec::new(), Vec::new());
        };
        (
            r.events
                .iter()
                .rev()
                .filter_map(|(_, e)| serde_json::to_value(&**e).ok())
                .filter(|e| wanted(e))
                .collect(),
            r.deliveries
                .iter()
                .rev()
                .map(|(_, d)| (**d).clone())
                .collect(),
        )
    }

    /// Everything kept, oldest first, and a receiver of everything after it.
    pub fn follow(&self) -> (Vec<Entry>, broadcast::Receiver<Entry>) {
        let Ok(r) = self.recent.lock() else {
            return (Vec::new(), self.feed.subscribe());
        };
        let mut history: Vec<(u64, Entry)> = r
            .events
            .iter()
            .map(|(place, e)| (*place, Entry::Event(e.clone())))
            .chain(
                r.deliveries
                    .iter()
                    .map(|(place, d)| (*place, Entry::Delivery(d.clone()))),
            )
            .collect();
        history.sort_by_key(|(place, _)| *place);
        let history = history.into_iter().map(|(_, e)| e).collect();
        (history, self.feed.subscribe())
    }

    /// A receiver of every new event and delivery (the console's live feed).
    pub fn subscribe(&self) -> broadcast::Receiver<Entry> {
        self.feed.subscribe()
    }
}
