//! Every CodeBuild action of a pipeline is a build here, as it is in AWS, where CodePipeline
//! calls StartBuild. A simulated action's build is stored small (`Simulated`: what it cannot be
//! rebuilt from) and filled in when read, with its phases, initiator
//! (`codepipeline/<pipeline>`), the input artifact as its source version, and the project's
//! settings or CodeBuild's defaults; its one-line log says it was simulated. Every simulated
//! CodeBuild action makes one, so what each costs to write is what pipelines pay.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::records;
use super::shape::{self, NewBuild};
use crate::services::logs::records as logs;
use crate::store::{Store, StoreResult, Write};

/// A simulated pipeline build as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Simulated {
    pub pipeline: String,
    pub number: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifacts_location: Option<String>,
    pub ended: f64,
    pub succeeded: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A simulated CodeBuild action's build, as its action's events describe it.
pub struct ActionBuild<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub pipeline: &'a str,
    /// `project:uuid`, the action's external execution id.
    pub build_id: &'a str,
    pub number: i64,
    pub source_version: Option<String>,
    pub artifacts_location: Option<String>,
    pub started_at: f64,
    pub ended_at: f64,
    pub succeeded: bool,
    pub message: Option<&'a str>,
}

fn status_of(succeeded: bool) -> &'static str {
    if succeeded {
        "SUCCEEDED"
    } else {
        "FAILED"
    }
}

/// The writes that record the ended build and its log (its number taken by the caller, who
/// also knows whether the project's log group exists yet), and the build as stored, to render
/// without reading it back. The build is new, so its log stream is too.
pub fn writes(b: ActionBuild, log_group_exists: bool) -> StoreResult<(Vec<Write>, Simulated)> {
    let simulated = Simulated {
        pipeline: b.pipeline.to_owned(),
        number: b.number,
        source_version: b.source_version,
        artifacts_location: b.artifacts_location,
        ended: b.ended_at,
        succeeded: b.succeeded,
        message: b.message.map(str::to_owned),
    };
    let Some((project, uuid)) = b.build_id.split_once(':') else {
        return Ok((Vec::new(), simulated));
    };
    let mut out = Vec::new();
    let status = status_of(b.succeeded);
    let group = shape::log_group(project);
    let target = logs::Target {
        account: b.account,
        region: b.region,
        group: &group,
        stream: uuid,
    };
    out.extend(logs::append_new_stream(
        target,
        log_group_exists,
        &shape::simulated_log(b.build_id, status, b.ended_at),
        (b.ended_at * 1000.0) as i64,
    )?);
    out.extend(records::simulated_writes(
        b.account,
        b.region,
        b.build_id,
        b.started_at,
        simulated.clone(),
    )?);
    Ok((out, simulated))
}

/// The build as BatchGetBuilds shows it.
pub fn render(
    store: &dyn Store,
    account: &str,
    region: &str,
    id: &str,
    started: f64,
    s: &Simulated,
) -> StoreResult<Value> {
    let project = records::project_of(id);
    let settings = records::load_project(store, account, region, project)?.map(|r| r.project);
    Ok(render_with(
        settings.as_ref(),
        account,
        region,
        id,
        started,
        s,
    ))
}

/// `render` with the project's settings (`None`: CodeBuild's defaults) already at hand.
pub fn render_with(
    settings: Option<&Value>,
    account: &str,
    region: &str,
    id: &str,
    started: f64,
    s: &Simulated,
) -> Value {
    let (project, uuid) = id.split_once(':').unwrap_or((id, ""));
    let mut build = shape::without_phases(NewBuild {
        account,
        region,
        project,
        settings,
        uuid: uuid.to_owned(),
        number: s.number,
        initiator: format!("codepipeline/{}", s.pipeline),
        source: json!({"type": "CODEPIPELINE", "insecureSsl": false}),
        source_version: s.source_version.clone(),
        resolved_source_version: None,
        artifacts_location: s.artifacts_location.clone(),
        environment_variables: Vec::new(),
        start: started,
    });
    let failure = (!s.succeeded).then(|| {
        (
            "BUILD",
            s.message
                .as_deref()
                .unwrap_or("Error while executing command"),
        )
    });
    shape::finish(&mut build, status_of(s.succeeded), s.ended, failure, &[]);
    build
}
