//! AWS CodePipeline: `api` translates requests to the domain and back, `domain` holds the
//! declarations, rules, catalog and the pure execution state machine, and `engine` drives
//! executions in time (the only place with timers).

pub mod api;
pub mod domain;
pub mod engine;
pub mod service;
