//! Pipeline executions: the records (`model`), variable references (`variables`) and the pure
//! state machine that moves executions through stages and actions (`machine`).

pub mod machine;
pub mod model;
pub mod rule_eval;
pub mod start;
pub mod variables;

#[cfg(test)]
mod tests;
