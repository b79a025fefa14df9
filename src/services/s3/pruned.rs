//! S3's side of `--execution-history`: the artifacts a pruned execution's actions wrote are
//! removed for good (their current version, as a lifecycle expiration would), a batch of
//! pruned executions at a time, in one store batch and one sync. Like the rest of what a prune
//! leaves, this runs after the prune is on disk: a crash in between leaves the artifacts.

use std::sync::Arc;

use crate::services::leftovers::{is_leftovers, Leftovers};
use crate::state::AppState;

/// The most pruned executions forgotten in one batch.
const BATCH_MAX: usize = 1024;

/// Listens for as long as the server runs.
pub fn spawn(state: Arc<AppState>) {
    let mut events = state.bus.subscribe_to(is_leftovers);
    tokio::spawn(async move {
        let mut batch = Vec::with_capacity(BATCH_MAX);
        loop {
            if events.recv_many(&mut batch, BATCH_MAX).await == 0 {
                return;
            }
            let places: Vec<(String, String)> = batch
                .drain(..)
                .filter_map(|event| Leftovers::of(&event))
                .flat_map(|left| left.artifacts)
                .map(|a| (a.bucket, a.key))
                .collect();
            if places.is_empty() {
                continue;
            }
            let objects = state.objects.clone();
            let removed = tokio::task::spawn_blocking(move || {
                let keys: Vec<(&str, &str)> = places
                    .iter()
                    .map(|(b, k)| (b.as_str(), k.as_str()))
                    .collect();
                objects.remove_current(&keys)
            })
            .await;
            match removed {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, "cannot remove pruned executions' artifacts")
                }
                Err(e) => tracing::warn!(error = %e, "cannot remove pruned executions' artifacts"),
            }
        }
    });
}
