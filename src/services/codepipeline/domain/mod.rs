//! Declarations and their rules, the action-type catalog and tags: plain Rust, no HTTP, no I/O.

pub mod action_types;
pub mod arn;
pub mod condition_rule_types;
pub mod declaration_rules;
pub mod enums;
pub mod execution;
pub mod pipeline;
pub mod providers;
pub mod regions;
pub mod secrets;
pub mod tags;
pub mod triggers;
pub mod webhooks;
