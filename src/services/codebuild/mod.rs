//! AWS CodeBuild: projects (`projects`), builds (`builds`: simulated, or run by `runner` with
//! `--run-builds`), their records (`records`) and their BatchGetBuilds shape (`shape`), and the
//! builds CodePipeline's simulated CodeBuild actions make, recorded from the event bus
//! (`listener`, `pipeline_builds`). Every build's state changes go on the event bus
//! (`events`). Every other operation of the model answers `NotImplementedException`.

mod builds;
pub mod events;
pub mod listener;
pub mod pipeline_builds;
mod projects;
mod records;
pub mod runner;
mod shape;

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::call::Handler;
use crate::json_op;

pub fn handlers() -> &'static HashMap<&'static str, Handler> {
    static TABLE: OnceLock<HashMap<&'static str, Handler>> = OnceLock::new();
    TABLE.get_or_init(|| {
        HashMap::from([
            ("CreateProject", json_op!(projects::create)),
            ("UpdateProject", json_op!(projects::update)),
            ("DeleteProject", json_op!(projects::delete)),
            ("BatchGetProjects", json_op!(projects::batch_get)),
            ("ListProjects", json_op!(projects::list)),
            ("StartBuild", json_op!(builds::start)),
            ("RetryBuild", json_op!(builds::retry)),
            ("StopBuild", json_op!(builds::stop)),
            ("BatchGetBuilds", json_op!(builds::batch_get)),
            ("BatchDeleteBuilds", json_op!(builds::batch_delete)),
            ("ListBuilds", json_op!(builds::list)),
            ("ListBuildsForProject", json_op!(builds::list_for_project)),
        ])
    })
}
