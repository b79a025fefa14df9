//! HTTP and AWS framing: turns a request into (context, operation, validated input), calls the
//! operation's handler and renders its reply or error as AWS does. Knows nothing about pipelines.

pub mod body;
pub mod browser;
pub mod context;
pub mod credentials;
mod guard;
pub mod json;
pub mod s3;
pub mod serve;
pub mod sigv4;

pub use crate::call::Context;
pub use crate::error::{AwsError, AwsResult};
