//! The model's string enums that rules and the state machine decide on, as Rust enums, so a
//! misspelt value is a compile error rather than a branch never taken. Declarations and records
//! keep the strings the API carries; these are read from them. A unit test checks every enum
//! against the model's value set.

/// `executionMode`: how executions share a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutionMode {
    Superseded,
    Queued,
    Parallel,
}

impl ExecutionMode {
    pub const ALL: [ExecutionMode; 3] = [Self::Superseded, Self::Queued, Self::Parallel];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Superseded => "SUPERSEDED",
            Self::Queued => "QUEUED",
            Self::Parallel => "PARALLEL",
        }
    }

    /// A declared or stored mode; none (or one the model validation let through only as a
    /// string) is AWS's default, SUPERSEDED.
    pub fn of(text: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|m| Some(m.as_str()) == text)
            .unwrap_or(Self::Superseded)
    }
}

/// A condition's `result`: what happens to the stage when the condition fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConditionResult {
    Fail,
    Rollback,
    Retry,
    Skip,
}

impl ConditionResult {
    pub const ALL: [ConditionResult; 4] = [Self::Fail, Self::Rollback, Self::Retry, Self::Skip];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fail => "FAIL",
            Self::Rollback => "ROLLBACK",
            Self::Retry => "RETRY",
            Self::Skip => "SKIP",
        }
    }

    /// The declared result; none means FAIL, as AWS reads it.
    pub fn of(text: Option<&str>) -> Self {
        Self::ALL
            .into_iter()
            .find(|r| Some(r.as_str()) == text)
            .unwrap_or(Self::Fail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::json::model::ShapeKind;
    use crate::wire::json::registry;

    fn model_values(shape: &str) -> Vec<String> {
        match &registry::codepipeline().shape(shape).unwrap().kind {
            ShapeKind::String {
                enum_values: Some(values),
                ..
            } => {
                let mut v = values.clone();
                v.sort();
                v
            }
            _ => panic!("{shape} is not a string enum"),
        }
    }

    fn ours(values: impl IntoIterator<Item = &'static str>) -> Vec<String> {
        let mut v: Vec<String> = values.into_iter().map(str::to_owned).collect();
        v.sort();
        v
    }

    #[test]
    fn every_enum_is_the_models_value_set() {
        assert_eq!(
            ours(ExecutionMode::ALL.map(ExecutionMode::as_str)),
            model_values("ExecutionMode")
        );
        assert_eq!(
            ours(ConditionResult::ALL.map(ConditionResult::as_str)),
            model_values("Result")
        );
        assert_eq!(ExecutionMode::of(None), ExecutionMode::Superseded);
        assert_eq!(ConditionResult::of(Some("SKIP")), ConditionResult::Skip);
    }
}
