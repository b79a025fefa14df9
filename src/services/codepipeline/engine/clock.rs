//! The engine's clock: wall-clock time plus an offset that `/_local/clock` can advance, so
//! approval expiry and long actions can be tested without waiting.

use std::sync::atomic::{AtomicI64, Ordering};

#[derive(Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// Epoch seconds, milliseconds precision, as replies carry them.
    pub fn now(&self) -> f64 {
        let ms = chrono::Utc::now().timestamp_millis() + self.offset_ms.load(Ordering::SeqCst);
        ms as f64 / 1000.0
    }

    pub fn advance(&self, seconds: f64) {
        self.offset_ms
            .fetch_add((seconds * 1000.0) as i64, Ordering::SeqCst);
    }

    pub fn offset_seconds(&self) -> f64 {
        self.offset_ms.load(Ordering::SeqCst) as f64 / 1000.0
    }
}
