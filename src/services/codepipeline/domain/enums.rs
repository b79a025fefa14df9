//! The model's string enums that rules, handlers and the state machine decide on, as Rust enums,
//! so a misspelt value is a compile error rather than a branch never taken. Declarations and
//! records keep the strings the API carries; these are read from them. A unit test checks every
//! enum against the model's value set.

/// An enum of the model's `shape`: its variants with their texts, `ALL`, `as_str` and `parse`.
macro_rules! model_enum {
    ($(#[$doc:meta])* $name:ident, $shape:literal, [$($variant:ident => $text:literal),+ $(,)?]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The model shape whose value set this is.
            #[cfg(test)]
            const SHAPE: &'static str = $shape;

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

model_enum!(
    /// `executionMode`: how executions share a stage.
    ExecutionMode, "ExecutionMode", [Superseded => "SUPERSEDED", Queued => "QUEUED", Parallel => "PARALLEL"]
);
model_enum!(
    /// A condition's `result`: what happens to the stage when the condition fails.
    ConditionResult, "Result", [Fail => "FAIL", Rollback => "ROLLBACK", Retry => "RETRY", Skip => "SKIP"]
);
model_enum!(
    /// `pipelineType`.
    PipelineType, "PipelineType", [V1 => "V1", V2 => "V2"]
);
model_enum!(
    /// `retryMode` of RetryStageExecution and of an `onFailure` retry.
    StageRetryMode, "StageRetryMode", [FailedActions => "FAILED_ACTIONS", AllActions => "ALL_ACTIONS"]
);
model_enum!(
    /// An execution's `executionType`.
    ExecutionType, "ExecutionType", [Standard => "STANDARD", Rollback => "ROLLBACK"]
);
model_enum!(
    /// A webhook's `authentication`.
    WebhookAuthentication, "WebhookAuthenticationType",
    [GithubHmac => "GITHUB_HMAC", Ip => "IP", Unauthenticated => "UNAUTHENTICATED"]
);
model_enum!(
    /// An approval's answer.
    ApprovalStatus, "ApprovalStatus", [Approved => "Approved", Rejected => "Rejected"]
);

impl ExecutionMode {
    /// A declared or stored mode; none is AWS's default, SUPERSEDED.
    pub fn of(text: Option<&str>) -> Self {
        text.and_then(Self::parse).unwrap_or(Self::Superseded)
    }
}

impl ConditionResult {
    /// The declared result; none means FAIL, as AWS reads it.
    pub fn of(text: Option<&str>) -> Self {
        text.and_then(Self::parse).unwrap_or(Self::Fail)
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

    fn ours(texts: impl Iterator<Item = &'static str>) -> Vec<String> {
        let mut v: Vec<String> = texts.map(str::to_owned).collect();
        v.sort();
        v
    }

    macro_rules! check {
        ($($name:ident),+) => {
            $(assert_eq!(
                ours($name::ALL.iter().map(|v| v.as_str())),
                model_values($name::SHAPE),
                stringify!($name)
            );)+
        };
    }

    #[test]
    fn every_enum_is_the_models_value_set() {
        check!(
            ExecutionMode,
            ConditionResult,
            PipelineType,
            StageRetryMode,
            ExecutionType,
            WebhookAuthentication,
            ApprovalStatus
        );
        assert_eq!(ExecutionMode::of(None), ExecutionMode::Superseded);
        assert_eq!(ConditionResult::of(Some("SKIP")), ConditionResult::Skip);
    }
}
