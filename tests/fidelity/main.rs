//! Fidelity: replies real AWS CodePipeline sent, captured in public threads, replayed against
//! codepipeline-local with the real aws CLI (`captures`), and the documented behaviours that
//! have no captured text (`behaviours`).

#[path = "../common/mod.rs"]
mod common;

mod behaviours;
mod captures;
