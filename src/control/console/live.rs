//! The console's live feed at `/_local/console/events`: server-sent events fed by CodePipeline's
//! events on the event bus (executions, stages and actions changing state, in EventBridge's
//! shape) and by the store's change feed
//! (any write to a pipeline's records, whoever made it: the engine, the CLI, an SDK), plus a
//! word when another service publishes or EventBridge delivers (the activity page). The page
//! redraws from the API on each, so it never shows a state the API does not. The stream ends
//! when the server begins to shut down, so an open console does not hold shutdown up.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::Stream;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use crate::services::bus::Event as BusEvent;
use crate::services::events::activity::Entry;
use crate::state::AppState;
use crate::store::Changed;

struct Feeds {
    bus: broadcast::Receiver<Arc<BusEvent>>,
    changes: broadcast::Receiver<Changed>,
    activity: broadcast::Receiver<Entry>,
    closing: watch::Receiver<bool>,
}

pub async fn events(
    State(state): State<Arc<AppState>>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let feeds = Feeds {
        bus: state.bus.subscribe(),
        changes: state.changes.subscribe(),
        activity: state.activity.subscribe(),
        closing: state.closing.subscribe(),
    };
    let hello = Event::default().event("hello").data("live");
    let first = futures_util::stream::once(async move { Ok(hello) });
    let rest = futures_util::stream::unfold(feeds, |mut feeds| async move {
        let event = next(&mut feeds).await?;
        Some((Ok(event), feeds))
    });
    Sse::new(futures_util::StreamExt::chain(first, rest))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The next event to send, or `None` to end the stream.
async fn next(feeds: &mut Feeds) -> Option<Event> {
    loop {
        if *feeds.closing.borrow() {
            return None;
        }
        // `Some(None)`: nothing to tell the page this time.
        let told = tokio::select! {
            got = feeds.bus.recv() => match got {
                // Only the activity page shows other services' events: it is told which source spoke.
                Ok(e) if e.source != "aws.codepipeline" => Some(Some(Event::default().event("bus").data(&e.source))),
                Ok(e) => Some(Some(
                    Event::default()
                        .event("engine")
                        .json_data(&*e)
                        .unwrap_or_else(|_| resync()),
                )),
                Err(RecvError::Lagged(_)) => Some(Some(resync())),
                Err(RecvError::Closed) => None,
            },
            got = feeds.changes.recv() => match got {
                Ok(Changed::Pipeline(scope)) => Some(Some(Event::default().event("changed").data(scope))),
                Ok(Changed::Everything) => Some(Some(resync())),
                Err(RecvError::Lagged(_)) => Some(Some(resync())),
                Err(RecvError::Closed) => None,
            },
            got = feeds.activity.recv() => match got {
                Ok(Entry::Delivery(d)) => Some(Some(
                    Event::default()
                        .event("delivery")
                        .data(d["rule"].as_str().unwrap_or_default()),
                )),
                // Events are told from the bus already.
                Ok(Entry::Event(_)) => Some(None),
                Err(RecvError::Lagged(_)) => Some(Some(resync())),
                Err(RecvError::Closed) => None,
            },
            _ = feeds.closing.changed() => None,
        };
        if let Some(event) = told? {
            return Some(event);
        }
    }
}

/// Tells the page it may have missed something and should redraw all it shows.
fn resync() -> Event {
    Event::default().event("resync").data("*")
}
