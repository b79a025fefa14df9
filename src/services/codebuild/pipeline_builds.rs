//! Every CodeBuild action of a pipeline is a build here, as it is in AWS, where CodePipeline
//! calls StartBuild: the engine hands over what the action started with and how it ended, and
//! this records the build (initiator `codepipeline/<pipeline>`, the input artifact as its
//! source version, the pipeline's revision as the resolved one, the action's environment
//! variables), with a simulated log while builds are simulated.

use serde_json::{json, Value};

use super::records;
use super::shape::{self, NewBuild};
use crate::services::logs::records as logs;
use crate::store::{Store, StoreResult, Write};

/// A CodeBuild action's build, as the engine sees it.
pub struct ActionBuild<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub pipeline: &'a str,
    /// `project:uuid`, the action's external execution id.
    pub build_id: &'a str,
    pub source_version: Option<String>,
    pub resolved_source_version: Option<String>,
    pub artifacts_location: Option<String>,
    /// The action's `EnvironmentVariables` setting (JSON), when it has one.
    pub environment_variables: Option<&'a str>,
    pub started_at: f64,
}

/// How the action ended.
pub struct Ending<'a> {
    pub succeeded: bool,
    pub message: Option<&'a str>,
    pub exported: Vec<(String, String)>,
    pub at: f64,
}

/// The writes that record the build as started (when `started`), as ended (when `ended`), or
/// both when the action started and ended in the same step.
pub fn writes(
    store: &dyn Store,
    b: ActionBuild,
    started: bool,
    ended: Option<Ending>,
) -> StoreResult<Vec<Write>> {
    let Some((project, uuid)) = b.build_id.split_once(':') else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let existing = records::load_build(store, b.account, b.region, b.build_id)?;
    let (mut build, start, is_new) = match existing {
        Some(r) => (r.build, r.started, false),
        None if started || ended.is_some() => {
            let settings =
                records::load_project(store, b.account, b.region, project)?.map(|r| r.project);
            let (number, number_write) =
                records::take_build_number(store, b.account, b.region, project)?;
            out.push(number_write);
            let variables: Vec<Value> = b
                .environment_variables
                .and_then(|t| serde_json::from_str::<Vec<Value>>(t).ok())
                .unwrap_or_default()
                .into_iter()
                .map(|v| json!({"name": v["name"], "value": v["value"], "type": v.get("type").cloned().unwrap_or_else(|| json!("PLAINTEXT"))}))
                .collect();
            let build = shape::started(NewBuild {
                account: b.account,
                region: b.region,
                project,
                settings: settings.as_ref(),
                uuid: uuid.to_owned(),
                number,
                initiator: format!("codepipeline/{}", b.pipeline),
                source: json!({"type": "CODEPIPELINE", "insecureSsl": false}),
                source_version: b.source_version,
                resolved_source_version: b.resolved_source_version,
                artifacts_location: b.artifacts_location,
                environment_variables: variables,
                start: b.started_at,
            });
            (build, b.started_at, true)
        }
        None => return Ok(out),
    };
    if let Some(end) = ended {
        let status = if end.succeeded { "SUCCEEDED" } else { "FAILED" };
        let failure = (!end.succeeded).then(|| {
            (
                "BUILD",
                end.message.unwrap_or("Error while executing command"),
            )
        });
        shape::finish(&mut build, status, end.at, failure, &end.exported);
        let stream = build["logs"]["streamName"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        out.extend(logs::append(
            store,
            b.account,
            b.region,
            &shape::log_group(project),
            &stream,
            &shape::simulated_log(&build, status, end.at),
            (end.at * 1000.0) as i64,
        )?);
    }
    out.extend(records::build_writes(
        b.account, b.region, build, start, is_new,
    )?);
    Ok(out)
}
