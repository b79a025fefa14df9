//! AWS CodePipeline: `api` translates requests to the domain and back, `domain` holds the
//! declarations, rules, catalog and the pure execution state machine, and `engine` drives
//! executions in time (the only place with timers). `records` and `keys` are how its records
//! are laid out in the store; `service` holds the use-cases handlers share; `providers` are the
//! real providers, tasks the engine runs.

pub mod api;
pub mod domain;
pub mod engine;
pub mod keys;
pub mod providers;
pub mod quota;
pub mod records;
pub mod service;
pub mod source_changes;
