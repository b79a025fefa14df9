//! The API as clients see it, one test binary: every operation with the real aws CLI (and the
//! CLI's own documented examples) and with the AWS SDK for Rust, and the awsJson wire of all
//! five services (routing, protocol errors, AWS's message formats, request ids).

#[path = "../common/mod.rs"]
mod common;

mod cli;
mod cli_examples;
mod sdk;
mod wire;
