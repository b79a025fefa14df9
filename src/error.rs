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
        Self::new(codes::VALIDATION, message)
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(codes::SERIALIZATION, message)
    }

    pub fn pipeline_not_found(name: &str, account: &str) -> Self {
        Self::new(
            codes::PIPELINE_NOT_FOUND,
            format!("Account '{account}' does not have a pipeline with name '{name}'"),
        )
    }

    /// StartPipelineExecution words it differently from GetPipeline (AWS's text, issue 13,
    /// capture 11).
    pub fn pipeline_not_found_to_start(name: &str, account: &str) -> Self {
        Self::new(
            codes::PIPELINE_NOT_FOUND,
            format!("Pipeline with name {name} does not exist in account {account}."),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(codes::INTERNAL_FAILURE, message).with_status(StatusCode::INTERNAL_SERVER_ERROR)
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

/// Every error code this server answers, spelled once. The texts are AWS's exception names;
/// the two `WEBHOOK_` codes are the webhook URL's own, which is no AWS API.
pub mod codes {
    pub const ACTION_EXECUTION_NOT_FOUND: &str = "ActionExecutionNotFoundException";
    pub const ACTION_NOT_FOUND: &str = "ActionNotFoundException";
    pub const ACTION_TYPE_NOT_FOUND: &str = "ActionTypeNotFoundException";
    pub const APPROVAL_ALREADY_COMPLETED: &str = "ApprovalAlreadyCompletedException";
    pub const CONDITION_NOT_OVERRIDABLE: &str = "ConditionNotOverridableException";
    pub const DUPLICATED_STOP_REQUEST: &str = "DuplicatedStopRequestException";
    pub const INCOMPLETE_SIGNATURE: &str = "IncompleteSignatureException";
    pub const INTERNAL_FAILURE: &str = "InternalFailure";
    pub const INVALID_ACTION_DECLARATION: &str = "InvalidActionDeclarationException";
    pub const INVALID_APPROVAL_TOKEN: &str = "InvalidApprovalTokenException";
    pub const INVALID_ARN: &str = "InvalidArnException";
    pub const INVALID_BLOCKER_DECLARATION: &str = "InvalidBlockerDeclarationException";
    pub const INVALID_CLIENT_TOKEN: &str = "InvalidClientTokenException";
    pub const INVALID_JOB_STATE: &str = "InvalidJobStateException";
    pub const INVALID_NEXT_TOKEN: &str = "InvalidNextTokenException";
    pub const INVALID_NONCE: &str = "InvalidNonceException";
    pub const INVALID_INPUT: &str = "InvalidInputException";
    pub const INVALID_PARAMETER: &str = "InvalidParameterException";
    pub const INVALID_SIGNATURE: &str = "InvalidSignatureException";
    pub const INVALID_STAGE_DECLARATION: &str = "InvalidStageDeclarationException";
    pub const INVALID_STRUCTURE: &str = "InvalidStructureException";
    pub const INVALID_TAGS: &str = "InvalidTagsException";
    pub const INVALID_WEBHOOK_AUTHENTICATION_PARAMETERS: &str =
        "InvalidWebhookAuthenticationParametersException";
    pub const INVALID_WEBHOOK_FILTER_PATTERN: &str = "InvalidWebhookFilterPatternException";
    pub const JOB_NOT_FOUND: &str = "JobNotFoundException";
    pub const LIMIT_EXCEEDED: &str = "LimitExceededException";
    pub const MISSING_AUTHENTICATION_TOKEN: &str = "MissingAuthenticationTokenException";
    pub const NOT_IMPLEMENTED: &str = "NotImplementedException";
    pub const NOT_LATEST_PIPELINE_EXECUTION: &str = "NotLatestPipelineExecutionException";
    pub const OUTPUT_VARIABLES_SIZE_EXCEEDED: &str = "OutputVariablesSizeExceededException";
    pub const PIPELINE_EXECUTION_NOT_FOUND: &str = "PipelineExecutionNotFoundException";
    pub const PIPELINE_EXECUTION_NOT_STOPPABLE: &str = "PipelineExecutionNotStoppableException";
    pub const PIPELINE_NAME_IN_USE: &str = "PipelineNameInUseException";
    pub const PIPELINE_NOT_FOUND: &str = "PipelineNotFoundException";
    pub const PIPELINE_VERSION_NOT_FOUND: &str = "PipelineVersionNotFoundException";
    pub const REQUEST_ENTITY_TOO_LARGE: &str = "RequestEntityTooLargeException";
    pub const REQUEST_FAILED: &str = "RequestFailedException";
    pub const REQUEST_TIMEOUT: &str = "RequestTimeoutException";
    pub const RESOURCE_ALREADY_EXISTS: &str = "ResourceAlreadyExistsException";
    pub const RESOURCE_NOT_FOUND: &str = "ResourceNotFoundException";
    pub const SERIALIZATION: &str = "SerializationException";
    pub const STAGE_NOT_FOUND: &str = "StageNotFoundException";
    pub const STAGE_NOT_RETRYABLE: &str = "StageNotRetryableException";
    pub const TOO_MANY_TAGS: &str = "TooManyTagsException";
    pub const UNABLE_TO_ROLLBACK_STAGE: &str = "UnableToRollbackStageException";
    pub const UNKNOWN_OPERATION: &str = "UnknownOperationException";
    pub const UNRECOGNIZED_CLIENT: &str = "UnrecognizedClientException";
    pub const VALIDATION: &str = "ValidationException";
    pub const WEBHOOK_ACCESS_DENIED: &str = "AccessDenied";
    pub const WEBHOOK_INVALID_PAYLOAD: &str = "InvalidPayload";
    pub const WEBHOOK_NOT_FOUND: &str = "WebhookNotFoundException";
}
