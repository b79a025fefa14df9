//! Batches reach the store in the order their places were taken, not the order they were
//! worked out. A writer takes a place (a `Slot`) while it holds whatever orders its writes (the
//! engine's lock on a pipeline), lets go, works out the writes (encoding, events) while the
//! next writer already runs, then fills the slot. Whoever fills finds the next unapplied places
//! filled and applies them as one batch, so concurrent writers pay for one store batch between
//! them and a later write to a key replaces an earlier one before it reaches the log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use super::{Store, StoreError, StoreResult, Write};

/// How many failed batches are remembered for the writers that wait on them.
const FAILURES_KEPT: usize = 64;

pub struct WriteQueue {
    store: Arc<dyn Store>,
    state: Mutex<Places>,
    /// Every place below this number is in the store (or failed).
    applied: AtomicU64,
    /// Woken after each applied batch, for writers that block.
    drained: Condvar,
    /// Woken after each applied batch, for writers that await.
    notify: tokio::sync::Notify,
}

#[derive(Default)]
struct Places {
    /// The number the next place gets.
    taken: u64,
    /// The first place no applier has taken yet.
    next: u64,
    /// Filled places waiting for the places before them.
    filled: BTreeMap<u64, Vec<Write>>,
    /// Someone is applying: fillers leave their writes to it.
    applying: bool,
    /// `(first, last, why)` of recent batches the store refused.
    failures: VecDeque<(u64, u64, String)>,
}

/// A place in the order. Dropping it unfilled fills it with nothing, so an error between taking
/// and filling never holds up the writers after it.
pub struct Slot {
    number: u64,
    queue: Arc<WriteQueue>,
    filled: bool,
}

impl Slot {
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Hands over the writes of this place; they are applied once every place before is.
    pub fn fill(mut self, writes: Vec<Write>) {
        self.filled = true;
        self.queue.fill(self.number, writes);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.filled {
            self.queue.fill(self.number, Vec::new());
        }
    }
}

fn poisoned() -> StoreError {
    StoreError("write queue lock poisoned".to_owned())
}

impl WriteQueue {
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(WriteQueue {
            store,
            state: Mutex::new(Places::default()),
            applied: AtomicU64::new(0),
            drained: Condvar::new(),
            notify: tokio::sync::Notify::new(),
        })
    }

    fn places(&self) -> StoreResult<MutexGuard<'_, Places>> {
        self.state.lock().map_err(|_| poisoned())
    }

    /// Takes the next place. Take it while holding what orders the writes; fill it without.
    pub fn reserve(self: &Arc<Self>) -> StoreResult<Slot> {
        let mut places = self.places()?;
        let number = places.taken;
        places.taken += 1;
        Ok(Slot {
            number,
            queue: self.clone(),
            filled: false,
        })
    }

    /// Places below this number are in the store.
    pub fn applied(&self) -> u64 {
        self.applied.load(Ordering::SeqCst)
    }

    fn fill(&self, number: u64, writes: Vec<Write>) {
        let Ok(mut places) = self.places() else {
            return;
        };
        places.filled.insert(number, writes);
        if places.applying {
            // The applier looks for filled places again before it stops.
            return;
        }
        places.applying = true;
        loop {
            let first = places.next;
            let mut batch = Vec::new();
            while let Some(writes) = {
                let next = places.next;
                places.filled.remove(&next)
            } {
                batch.extend(writes);
                places.next += 1;
            }
            let end = places.next;
            if end == first {
                places.applying = false;
                return;
            }
            drop(places);
            let result = if batch.is_empty() {
                Ok(())
            } else {
                self.store.apply(batch)
            };
            let Ok(mut again) = self.places() else {
                return;
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "a batch of writes failed");
                again.failures.push_back((first, end - 1, e.0));
                if again.failures.len() > FAILURES_KEPT {
                    again.failures.pop_front();
                }
            }
            self.applied.store(end, Ordering::SeqCst);
            self.drained.notify_all();
            self.notify.notify_waiters();
            places = again;
        }
    }

    /// The failure of the batch that held place `number`, if it failed.
    fn failure_of(&self, number: u64) -> StoreResult<()> {
        let places = self.places()?;
        match places
            .failures
            .iter()
            .find(|(first, last, _)| (*first..=*last).contains(&number))
        {
            Some((_, _, why)) => Err(StoreError(why.clone())),
            None => Ok(()),
        }
    }

    /// Blocks until place `number` is in the store. Only for places whose writers run now
    /// without awaiting between taking and filling, which the engine's steps never do.
    pub fn wait_applied(&self, number: u64) -> StoreResult<()> {
        self.wait_below(number + 1)?;
        self.failure_of(number)
    }

    fn wait_below(&self, end: u64) -> StoreResult<()> {
        let mut places = self.places()?;
        while self.applied() < end {
            places = self.drained.wait(places).map_err(|_| poisoned())?;
        }
        Ok(())
    }

    /// Blocks until every place taken so far is in the store: for a reader that must see them.
    pub fn settle(&self) -> StoreResult<()> {
        let taken = self.places()?.taken;
        self.wait_below(taken)
    }

    /// `wait_applied` for async callers.
    pub async fn applied_through(&self, number: u64) -> StoreResult<()> {
        loop {
            let woken = self.notify.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if self.applied() > number {
                return self.failure_of(number);
            }
            woken.await;
        }
    }

    /// Takes a place and applies `writes` in it before returning: a write that must be
    /// readable at once, after every write whose place was taken before.
    pub fn apply_now(self: &Arc<Self>, writes: Vec<Write>) -> StoreResult<()> {
        let slot = self.reserve()?;
        let number = slot.number();
        slot.fill(writes);
        self.wait_applied(number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::counting::Counting;

    fn queue() -> (Arc<Counting>, Arc<WriteQueue>) {
        let real = Arc::new(Counting::new(std::time::Duration::ZERO));
        let queue = WriteQueue::new(real.clone());
        (real, queue)
    }

    fn put(value: &str) -> Vec<Write> {
        vec![Write::put("k", value.as_bytes().to_vec())]
    }

    #[test]
    fn places_filled_out_of_order_land_in_order_as_one_batch() {
        let (real, queue) = queue();
        let first = queue.reserve().unwrap();
        let second = queue.reserve().unwrap();
        let third = queue.reserve().unwrap();
        third.fill(put("third"));
        second.fill(put("second"));
        assert_eq!(queue.applied(), 0, "nothing lands before the first place");
        assert_eq!(real.get("k").unwrap(), None);
        first.fill(put("first"));
        assert_eq!(queue.applied(), 3);
        assert_eq!(real.get("k").unwrap(), Some(b"third".to_vec()));
        assert_eq!(real.batches(), 1, "one batch for three");
        queue.wait_applied(2).unwrap();
    }

    #[test]
    fn a_place_dropped_unfilled_holds_nobody_up() {
        let (real, queue) = queue();
        let dropped = queue.reserve().unwrap();
        let kept = queue.reserve().unwrap();
        kept.fill(put("kept"));
        drop(dropped);
        assert_eq!(queue.applied(), 2);
        assert_eq!(real.get("k").unwrap(), Some(b"kept".to_vec()));
    }

    #[test]
    fn a_write_applied_now_comes_after_every_place_taken_before() {
        let (real, queue) = queue();
        let earlier = queue.reserve().unwrap();
        let filler = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            earlier.fill(put("earlier"));
        });
        queue.apply_now(put("now")).unwrap();
        assert_eq!(real.get("k").unwrap(), Some(b"now".to_vec()));
        filler.join().unwrap();
        queue.settle().unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn async_waiters_wake_when_their_place_lands() {
        let (_real, queue) = queue();
        let first = queue.reserve().unwrap();
        let second = queue.reserve().unwrap();
        let number = second.number();
        second.fill(put("second"));
        let waiter = {
            let queue = queue.clone();
            tokio::spawn(async move { queue.applied_through(number).await })
        };
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        first.fill(put("first"));
        tokio::time::timeout(std::time::Duration::from_secs(5), waiter)
            .await
            .expect("woken")
            .unwrap()
            .unwrap();
    }
}
