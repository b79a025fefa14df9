//! The one error type every layer returns, rendered as AWS renders it: a status, a JSON body
//! `{"__type": CODE, "message": TEXT}`, and the awsJson content type. Codes live here so the
//! names are spelled once.

use axum::http::StatusCode;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl AwsError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        AwsError {
            code,
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new("SerializationException", message)
    }

    pub fn pipeline_not_found(name: &str, account: &str) -> Self {
        Self::new(
            "PipelineNotFoundException",
            format!("Account '{account}' does not have a pipeline with name '{name}'"),
        )
    }

    /// StartPipelineExecution words it differently from GetPipeline (AWS's text, issue 13,
    /// capture 11).
    pub fn pipeline_not_found_to_start(name: &str, account: &str) -> Self {
        Self::new(
            "PipelineNotFoundException",
            format!("Pipeline with name {name} does not exist in account {account}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalFailure", message).with_status(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The JSON body AWS sends for this error.
    pub fn body(&self) -> String {
        serde_json::json!({ "__type": self.code, "message": self.message }).to_string()
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}

pub type AwsResult<T> = Result<T, AwsError>;
