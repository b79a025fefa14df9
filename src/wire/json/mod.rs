//! The awsJson protocol, for every service alike: the registry of vendored models, validation
//! and normalisation of requests against them, the reply conformance check, and `http`, which
//! ties them together for `POST /`.

pub mod conformance;
pub mod http;
pub mod model;
pub mod normalize;
pub mod registry;
pub mod validate;
