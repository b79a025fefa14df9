//! The AWS services this endpoint serves, one folder each, and the table that finds an
//! operation's handler. An operation a service's model has and its table lacks answers
//! `NotImplementedException` naming service and operation (see `wire::json`). Services meet only
//! through the event bus and the artifact store over S3's objects (DESIGN.md).

pub mod artifacts;
pub mod bus;
pub mod codebuild;
pub mod codecommit;
pub mod codepipeline;
pub mod events;
pub mod leftovers;
pub mod logs;
pub mod paging;
pub mod s3;

/// The wall clock in epoch seconds, to the millisecond, as the services' records and replies
/// carry times.
pub fn epoch_now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

use std::collections::HashMap;

use crate::call::Handler;

/// A service's handler table, by the key its model has in `wire::json::registry`.
fn table(service: &str) -> Option<&'static HashMap<&'static str, Handler>> {
    match service {
        "codepipeline" => Some(codepipeline::api::handlers()),
        "codebuild" => Some(codebuild::handlers()),
        "codecommit" => Some(codecommit::handlers()),
        "events" => Some(events::handlers()),
        "logs" => Some(logs::handlers()),
        _ => None,
    }
}

pub fn handler(service: &str, operation: &str) -> Option<Handler> {
    table(service)?.get(operation).copied()
}

/// The operations `service` implements, sorted.
pub fn implemented(service: &str) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = table(service)
        .map(|t| t.keys().copied().collect())
        .unwrap_or_default();
    names.sort_unstable();
    names
}
