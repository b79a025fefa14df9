//! What an operation's handler is given and gives back, shared by the wire (which builds the
//! context and sends the reply) and the services (which handle the call), so neither imports
//! the other for it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::body::Bytes;
use serde_json::Value;

use crate::error::AwsError;
use crate::state::AppState;

/// Who is calling and where: every resource is scoped to the account and region.
#[derive(Debug, Clone)]
pub struct Context {
    pub account: String,
    pub region: String,
    pub request_id: String,
    /// The `Host` the caller reached us at, for URLs we hand back (webhook URLs).
    pub host: Option<String>,
}

impl Context {
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Context {
            account: account.into(),
            region: region.into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            host: None,
        }
    }
}

/// A handler's answer: a value to serialise, or bytes already serialised.
pub enum Reply {
    Json(Value),
    Rendered(Bytes),
}

pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Reply, AwsError>> + Send>>;

/// One operation of one service: its input is the request body, validated against the model
/// and normalised. It runs in a task of its own (the panic guard), hence the owned arguments.
pub type Handler = fn(Arc<AppState>, Context, Value) -> HandlerFuture;

/// A request body, validated against the model already, as a handler's typed input.
pub fn parse<T: serde::de::DeserializeOwned>(input: Value) -> Result<T, AwsError> {
    serde_json::from_value(input).map_err(|e| AwsError::serialization(e.to_string()))
}

/// A [`Handler`] from an `async fn(&AppState, &Context, Input) -> Result<Value, AwsError>`, with
/// its input parsed into the function's typed view (and any extra arguments after it).
#[macro_export]
macro_rules! json_op {
    ($f:path $(, $extra:expr)?) => {
        (|state: std::sync::Arc<$crate::state::AppState>,
          ctx: $crate::call::Context,
          input: serde_json::Value|
         -> $crate::call::HandlerFuture {
            Box::pin(async move {
                $f(&state, &ctx, $crate::call::parse(input)? $(, $extra)?)
                    .await
                    .map($crate::call::Reply::Json)
            })
        }) as $crate::call::Handler
    };
}
