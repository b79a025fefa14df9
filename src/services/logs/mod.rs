//! Amazon CloudWatch Logs: the log groups and streams that builds write.
//! Reachable on the endpoint through its vendored model; the operations it implements are
//! registered in `handlers`, and every other one answers `NotImplementedException`.

use std::collections::HashMap;

use crate::call::Handler;

pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    super::none()
}
