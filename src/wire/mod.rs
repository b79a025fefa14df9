//! HTTP and AWS framing: turns a request into (context, operation, validated input), calls the
//! operation's handler and renders its reply or error as AWS does. Knows nothing about pipelines.

pub mod body;
pub mod browser;
pub mod conformance;
pub mod context;
pub mod credentials;
mod guard;
pub mod http;
pub mod model;
pub mod normalize;
pub mod serve;
pub mod sigv4;
pub mod validate;

pub use crate::error::{AwsError, AwsResult};
pub use context::Context;
