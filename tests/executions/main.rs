//! Executions as they run, one test binary: runs, approvals, stop, retry, modes, transitions
//! and variables with the aws CLI and the AWS SDK for Rust; job workers (the example worker
//! included); webhooks, source revisions and V2 triggers; stage conditions; durability
//! across SIGKILL and restarts; and `--execution-history`.

#[path = "../common/mod.rs"]
mod common;
#[path = "../../examples/job_worker.rs"]
mod job_worker;

mod cli;
mod conditions;
mod durability;
mod history;
mod jobs;
mod sdk;
mod sdk_sources;
mod sources;
