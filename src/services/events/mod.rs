//! Amazon EventBridge: rules with event patterns (`pattern`) or schedules (`schedule`) and
//! their targets (`rules`, kept in `records`), `PutEvents` onto the event bus (`put_events`),
//! connections and API destinations (`destinations`, delivered by `invoke`), event buses and
//! tags (`buses`), and what happened lately (`activity`).
//! `delivery` listens on the bus and hands each event to the targets of the rules it matches;
//! `scheduler` fires rate rules from the engine's clock.
//! Every other operation of the model answers `NotImplementedException`.

pub mod activity;
mod buses;
pub mod delivery;
mod destinations;
mod invoke;
pub mod pattern;
mod put_events;
pub mod records;
pub mod rules;
pub mod schedule;
pub mod scheduler;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::call::Handler;
use crate::json_op;

pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HashMap::from([
            ("PutRule", json_op!(rules::put_rule)),
            ("DescribeRule", json_op!(rules::describe_rule)),
            ("ListRules", json_op!(rules::list_rules)),
            ("DeleteRule", json_op!(rules::delete_rule)),
            ("EnableRule", json_op!(rules::enable_rule)),
            ("DisableRule", json_op!(rules::disable_rule)),
            ("PutTargets", json_op!(rules::put_targets)),
            ("RemoveTargets", json_op!(rules::remove_targets)),
            ("ListTargetsByRule", json_op!(rules::list_targets)),
            ("ListRuleNamesByTarget", json_op!(rules::rules_by_target)),
            ("TestEventPattern", json_op!(rules::test_pattern)),
            ("PutEvents", json_op!(put_events::put_events)),
            (
                "CreateConnection",
                json_op!(destinations::create_connection),
            ),
            (
                "DescribeConnection",
                json_op!(destinations::describe_connection),
            ),
            (
                "DeleteConnection",
                json_op!(destinations::delete_connection),
            ),
            (
                "CreateApiDestination",
                json_op!(destinations::create_destination),
            ),
            (
                "DescribeApiDestination",
                json_op!(destinations::describe_destination),
            ),
            (
                "ListApiDestinations",
                json_op!(destinations::list_destinations),
            ),
            (
                "DeleteApiDestination",
                json_op!(destinations::delete_destination),
            ),
            ("CreateEventBus", json_op!(buses::create)),
            ("DescribeEventBus", json_op!(buses::describe)),
            ("DeleteEventBus", json_op!(buses::delete)),
            ("ListEventBuses", json_op!(buses::list)),
            ("TagResource", json_op!(buses::tag)),
            ("UntagResource", json_op!(buses::untag)),
            ("ListTagsForResource", json_op!(buses::list_tags)),
        ])
    })
}
