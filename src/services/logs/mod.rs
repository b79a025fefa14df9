//! Amazon CloudWatch Logs: the log groups and streams that builds write. `records` keeps them
//! (and is how CodeBuild writes its build logs), `api` answers the operations the CLI and SDKs
//! use to read and write them, `pattern` is FilterLogEvents' term patterns. Every other
//! operation of the model answers `NotImplementedException`.

pub mod api;
mod pattern;
pub mod records;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::call::Handler;
use crate::json_op;

pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HashMap::from([
            ("CreateLogGroup", json_op!(api::create_group)),
            ("DeleteLogGroup", json_op!(api::delete_group)),
            ("DescribeLogGroups", json_op!(api::describe_groups)),
            ("CreateLogStream", json_op!(api::create_stream)),
            ("DescribeLogStreams", json_op!(api::describe_streams)),
            ("PutLogEvents", json_op!(api::put_events)),
            ("GetLogEvents", json_op!(api::get_events)),
            ("FilterLogEvents", json_op!(api::filter_events)),
        ])
    })
}
