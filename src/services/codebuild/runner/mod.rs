//! The build runner (`--run-builds`): a build runs on this machine in a fresh folder, its
//! primary input unzipped at `CODEBUILD_SRC_DIR` (others at `CODEBUILD_SRC_DIR_<name>`), its
//! buildspec's phases in one shell session (`shell`) with CodeBuild's environment, its output
//! streamed to CloudWatch Logs as it runs, its artifacts zipped into the artifact store, and
//! its record kept current in CodeBuild. Phase transitions follow the buildspec reference:
//! a failed INSTALL or PRE_BUILD skips to FINALIZING; a failed BUILD still runs POST_BUILD
//! with `CODEBUILD_BUILD_SUCCEEDING=0`; `on-failure: CONTINUE` goes on to the next phase.

pub mod buildspec;
mod files;
mod shell;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::records;
use super::shape::{self, NewBuild};
use crate::services::artifacts::{ArtifactStore, Placement};
use crate::services::epoch_now as now;
use crate::services::logs::records as logs;
use crate::store::{ObjectMeta, Write};
use shell::{PhaseEnd, Session};

/// Where an input artifact is and what it is called.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: String,
    pub bucket: String,
    pub key: String,
}

/// Everything a build needs to run.
pub struct BuildRequest {
    pub account: String,
    pub region: String,
    pub project: String,
    pub initiator: String,
    pub inputs: Vec<Input>,
    /// The output artifacts, first the primary.
    pub outputs: Vec<Input>,
    /// StartBuild's or the pipeline action's environment variables, highest precedence.
    pub variables: Vec<(String, String)>,
    pub buildspec_override: Option<String>,
    /// A buildspec already made (the Commands action's), before any other.
    pub spec: Option<buildspec::Buildspec>,
    /// StartBuild's `timeoutInMinutesOverride`, else the project's (else CodeBuild's 60).
    pub timeout: Option<Duration>,
    pub source_version: Option<String>,
    pub resolved_source_version: Option<String>,
    pub stop: Arc<AtomicBool>,
    /// The folder builds get their own folder in.
    pub work_root: std::path::PathBuf,
    /// Where the build's state changes are published.
    pub bus: Option<crate::services::bus::Bus>,
}

/// How a build ended, for the action that ran it.
#[derive(Debug, Clone)]
pub struct BuildOutcome {
    pub id: String,
    pub status: &'static str,
    pub phase: Option<String>,
    pub message: Option<String>,
    pub exported: Vec<(String, String)>,
    pub last_lines: Vec<String>,
}

fn container(line: &str) -> String {
    format!(
        "[Container] {} {line}",
        chrono::Utc::now().format("%Y/%m/%d %H:%M:%S%.6f")
    )
}

/// Appends log lines and keeps the build record current, each write made durable.
struct Recorder<'a> {
    artifacts: &'a ArtifactStore,
    account: String,
    region: String,
    group: String,
    stream: String,
    pending: Vec<(i64, String)>,
    last_flush: Instant,
    tail: std::collections::VecDeque<String>,
}

impl Recorder<'_> {
    fn line(&mut self, text: String) {
        if self.tail.len() == 10 {
            self.tail.pop_front();
        }
        self.tail.push_back(text.clone());
        self.pending
            .push((chrono::Utc::now().timestamp_millis(), text));
        if self.last_flush.elapsed() > Duration::from_millis(250) || self.pending.len() > 500 {
            self.flush();
        }
    }

    /// Nothing new for a moment: lines still held go out, so a quiet command's last output
    /// does not wait for its next line.
    fn idle(&mut self) {
        if !self.pending.is_empty() && self.last_flush.elapsed() > Duration::from_millis(250) {
            self.flush();
        }
    }

    fn flush(&mut self) {
        self.last_flush = Instant::now();
        if self.pending.is_empty() {
            return;
        }
        let events = std::mem::take(&mut self.pending);
        let store = self.artifacts.store();
        let written = logs::append(
            store,
            &self.account,
            &self.region,
            &self.group,
            &self.stream,
            &events,
            chrono::Utc::now().timestamp_millis(),
        )
        .and_then(|w| store.apply(w))
        .and_then(|()| store.flush());
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot write build log lines");
        }
    }

    fn save(&self, build: &Value, started: f64, is_new: bool, extra: Vec<Write>) {
        self.write(build, started, is_new, extra);
        if let Err(e) = self.artifacts.store().flush() {
            tracing::warn!(error = %e, "cannot sync a build record");
        }
    }

    /// Saves without waiting for the disk: phases in between, which the end's sync covers.
    fn write(&self, build: &Value, started: f64, is_new: bool, extra: Vec<Write>) {
        let store = self.artifacts.store();
        let written =
            records::build_writes(&self.account, &self.region, build.clone(), started, is_new)
                .and_then(|mut w| {
                    w.extend(extra);
                    store.apply(w)
                });
        if let Err(e) = written {
            tracing::warn!(error = %e, "cannot save a build record");
        }
    }
}

/// The record of a running build, which follows its phases as it enters them.
struct Live {
    build: Value,
    started: f64,
}

impl Live {
    fn enter(&mut self, rec: &Recorder<'_>, phase: &str) {
        shape::enter(&mut self.build, phase, now());
        rec.write(&self.build, self.started, false, Vec::new());
    }

    fn end_phase(&mut self, rec: &Recorder<'_>, status: &str, message: Option<&str>) {
        shape::end_phase(&mut self.build, status, now(), message);
        rec.write(&self.build, self.started, false, Vec::new());
    }
}

/// A build recorded as started, ready to run.
pub struct Prepared {
    req: BuildRequest,
    settings: Option<Value>,
    build: Value,
    start: f64,
}

impl Prepared {
    /// The build's id (`project:uuid`).
    pub fn id(&self) -> &str {
        self.build["id"].as_str().unwrap_or_default()
    }

    /// The build as BatchGetBuilds shows it now (IN_PROGRESS, QUEUED).
    pub fn build(&self) -> &Value {
        &self.build
    }
}

/// Runs a build to its end; the record and the log are kept as it goes.
pub async fn run(artifacts: &ArtifactStore, req: BuildRequest) -> BuildOutcome {
    match prepare(artifacts, req) {
        Ok(prepared) => run_prepared(artifacts, prepared).await,
        Err(outcome) => *outcome,
    }
}

/// Records the build as started (StartBuild answers with it before it runs).
pub fn prepare(
    artifacts: &ArtifactStore,
    req: BuildRequest,
) -> Result<Prepared, Box<BuildOutcome>> {
    let store = artifacts.store();
    let settings = records::load_project(store, &req.account, &req.region, &req.project)
        .ok()
        .flatten()
        .map(|r| r.project);
    let (number, number_write) =
        match records::take_build_number(store, &req.account, &req.region, &req.project) {
            Ok(n) => n,
            Err(e) => return Err(Box::new(failed_to_start(&req, &e.to_string()))),
        };
    let uuid = uuid::Uuid::new_v4().to_string();
    let start = now();
    let mut build = shape::started(NewBuild {
        account: &req.account,
        region: &req.region,
        project: &req.project,
        settings: settings.as_ref(),
        uuid,
        number,
        initiator: req.initiator.clone(),
        source: settings
            .as_ref()
            .map(|p| p["source"].clone())
            .filter(|s| !s.is_null())
            .unwrap_or_else(|| json!({"type": "CODEPIPELINE", "insecureSsl": false})),
        source_version: req.source_version.clone(),
        resolved_source_version: req.resolved_source_version.clone(),
        artifacts_location: req
            .outputs
            .first()
            .map(|o| format!("arn:aws:s3:::{}/{}", o.bucket, o.key)),
        environment_variables: req
            .variables
            .iter()
            .map(|(k, v)| json!({"name": k, "value": v, "type": "PLAINTEXT"}))
            .collect(),
        start,
    });
    if let Some(limit) = req.timeout {
        build["timeoutInMinutes"] = json!(limit.as_secs().div_ceil(60));
    }
    // It waits its turn (`--build-concurrency`) as CodeBuild's builds do, QUEUED.
    shape::queued(&mut build, start);
    let rec = recorder(artifacts, &req, &build);
    rec.save(&build, start, true, vec![number_write]);
    super::events::publish(req.bus.as_ref(), &build, &req.account, &req.region);
    // Its folder names it from now on, so a restart ends it even if it never ran (`sweep`).
    let folder = req
        .work_root
        .join(build["logs"]["streamName"].as_str().unwrap_or_default());
    let whose = json!({"account": req.account, "region": req.region, "id": build["id"]});
    if let Err(e) = std::fs::create_dir_all(&folder)
        .and_then(|()| std::fs::write(folder.join(BUILD_FILE), whose.to_string()))
    {
        tracing::warn!(error = %e, "cannot create a build's folder");
    }
    Ok(Prepared {
        req,
        settings,
        build,
        start,
    })
}

fn recorder<'a>(artifacts: &'a ArtifactStore, req: &BuildRequest, build: &Value) -> Recorder<'a> {
    Recorder {
        artifacts,
        account: req.account.clone(),
        region: req.region.clone(),
        group: shape::log_group(&req.project),
        stream: build["logs"]["streamName"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        pending: Vec::new(),
        last_flush: Instant::now(),
        tail: Default::default(),
    }
}

/// The builds running in this process, by id, with the flag that stops each (StopBuild).
fn running() -> &'static std::sync::Mutex<std::collections::HashMap<String, Arc<AtomicBool>>> {
    static RUNNING: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Arc<AtomicBool>>>,
    > = std::sync::OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

/// Asks a running build to stop; whether one was running here.
pub fn stop(id: &str) -> bool {
    let flag = running().lock().ok().and_then(|m| m.get(id).cloned());
    flag.inspect(|f| f.store(true, Ordering::Relaxed)).is_some()
}

/// Runs a prepared build to its end.
pub async fn run_prepared(artifacts: &ArtifactStore, prepared: Prepared) -> BuildOutcome {
    let Prepared {
        req,
        settings,
        build,
        start,
    } = prepared;
    let id = build["id"].as_str().unwrap_or_default().to_owned();
    if let Ok(mut m) = running().lock() {
        m.insert(id.clone(), req.stop.clone());
    }
    let mut rec = recorder(artifacts, &req, &build);
    let limit = req.timeout.unwrap_or_else(|| {
        let minutes = build["timeoutInMinutes"]
            .as_u64()
            .unwrap_or(60)
            .clamp(1, 36 * 60);
        Duration::from_secs(minutes * 60)
    });
    let deadline = Instant::now() + limit;
    let snapshot = build.clone();
    let mut live = Live {
        build,
        started: start,
    };
    let result = execute(
        artifacts,
        &req,
        &snapshot,
        settings.as_ref(),
        &mut rec,
        &mut live,
        deadline,
    )
    .await;
    let end = now();
    let (status, failure, exported) = match &result {
        Ok(exported) => ("SUCCEEDED", None, exported.clone()),
        Err(f) => (
            f.status,
            Some((f.phase.clone(), f.message.clone())),
            Vec::new(),
        ),
    };
    if let Some((phase, message)) = &failure {
        // The phase it failed in, unless a failed command already ended that one; a phase
        // that ran after it (POST_BUILD after BUILD) succeeded.
        if live.build["currentPhase"] == phase.as_str() {
            shape::end_phase(&mut live.build, status, end, Some(message));
        }
    }
    rec.line(container(&format!(
        "Phase complete: FINALIZING State: {status}"
    )));
    rec.flush();
    let mut build = live.build;
    shape::complete(&mut build, status, end, &exported);
    rec.save(&build, start, false, Vec::new());
    super::events::publish(req.bus.as_ref(), &build, &req.account, &req.region);
    if let Ok(mut m) = running().lock() {
        m.remove(&id);
    }
    BuildOutcome {
        id,
        status,
        phase: failure.as_ref().map(|(p, _)| p.clone()),
        message: failure.map(|(_, m)| m),
        exported,
        last_lines: rec.tail.iter().cloned().collect(),
    }
}

fn failed_to_start(req: &BuildRequest, message: &str) -> BuildOutcome {
    BuildOutcome {
        id: format!("{}:{}", req.project, uuid::Uuid::new_v4()),
        status: "FAILED",
        phase: Some("SUBMITTED".to_owned()),
        message: Some(message.to_owned()),
        exported: Vec::new(),
        last_lines: Vec::new(),
    }
}

/// Why a build failed: its status, the phase, and CodeBuild's message.
struct Failure {
    status: &'static str,
    phase: String,
    message: String,
}

fn fail(phase: &str, message: impl Into<String>) -> Failure {
    Failure {
        status: "FAILED",
        phase: phase.to_owned(),
        message: message.into(),
    }
}

async fn execute(
    artifacts: &ArtifactStore,
    req: &BuildRequest,
    build: &Value,
    settings: Option<&Value>,
    rec: &mut Recorder<'_>,
    live: &mut Live,
    deadline: Instant,
) -> Result<Vec<(String, String)>, Failure> {
    live.enter(rec, "PROVISIONING");
    let uuid = build["logs"]["streamName"].as_str().unwrap_or_default();
    let work = req.work_root.join(uuid);
    std::fs::create_dir_all(&work).map_err(|e| {
        fail(
            "PROVISIONING",
            format!("cannot create the build folder: {e}"),
        )
    })?;
    let guard = RemoveOnDrop(work.clone());
    rec.line(container(
        "Running on codepipeline-local (--run-builds): commands run on this machine",
    ));
    // DOWNLOAD_SOURCE: every input artifact unzipped into its own folder.
    live.enter(rec, "DOWNLOAD_SOURCE");
    let mut src_dirs = Vec::new();
    for (i, input) in req.inputs.iter().enumerate() {
        let dir = work.join(format!("src{i}"));
        files::unzip_object(artifacts, &input.bucket, &input.key, &dir).map_err(|e| {
            fail(
                "DOWNLOAD_SOURCE",
                format!(
                    "CLIENT_ERROR: cannot extract input artifact {}: {e}",
                    input.name
                ),
            )
        })?;
        src_dirs.push((input.name.clone(), dir));
    }
    let src = match src_dirs.first() {
        Some((_, d)) => d.clone(),
        None => {
            let d = work.join("src");
            std::fs::create_dir_all(&d).map_err(|e| fail("DOWNLOAD_SOURCE", e.to_string()))?;
            d
        }
    };
    let spec = match &req.spec {
        Some(spec) => spec.clone(),
        None => {
            let spec_text = match (
                &req.buildspec_override,
                settings.and_then(|p| p["source"]["buildspec"].as_str()),
            ) {
                (Some(s), _) => s.clone(),
                (None, Some(s)) if s.trim_start().starts_with("version") => s.to_owned(),
                (None, named) => {
                    let path = src.join(named.unwrap_or("buildspec.yml"));
                    std::fs::read_to_string(&path).map_err(|_| {
                        fail(
                            "DOWNLOAD_SOURCE",
                            format!(
                                "YAML_FILE_ERROR: stat {}: no such file or directory",
                                path.display()
                            ),
                        )
                    })?
                }
            };
            buildspec::parse(&spec_text).map_err(|m| fail("DOWNLOAD_SOURCE", m))?
        }
    };
    // Lowest first: the buildspec's, the project's, then the action's or StartBuild's.
    let mut env: Vec<(String, String)> = spec.variables.clone();
    for v in settings
        .and_then(|p| p["environment"]["environmentVariables"].as_array())
        .into_iter()
        .flatten()
    {
        if let (Some(k), Some(val)) = (v["name"].as_str(), v["value"].as_str()) {
            env.push((k.to_owned(), val.to_owned()));
        }
    }
    env.extend(req.variables.iter().cloned());
    let id = build["id"].as_str().unwrap_or_default();
    env.extend([
        ("CODEBUILD_BUILD_ID".to_owned(), id.to_owned()),
        (
            "CODEBUILD_BUILD_ARN".to_owned(),
            build["arn"].as_str().unwrap_or_default().to_owned(),
        ),
        (
            "CODEBUILD_BUILD_NUMBER".to_owned(),
            build["buildNumber"].to_string(),
        ),
        ("CODEBUILD_INITIATOR".to_owned(), req.initiator.clone()),
        (
            "CODEBUILD_SOURCE_VERSION".to_owned(),
            req.source_version.clone().unwrap_or_default(),
        ),
        (
            "CODEBUILD_RESOLVED_SOURCE_VERSION".to_owned(),
            req.resolved_source_version.clone().unwrap_or_default(),
        ),
        ("CODEBUILD_SRC_DIR".to_owned(), src.display().to_string()),
        ("CODEBUILD_BUILD_SUCCEEDING".to_owned(), "1".to_owned()),
        (
            "CODEBUILD_START_TIME".to_owned(),
            ((build["startTime"].as_f64().unwrap_or_default() * 1000.0) as i64).to_string(),
        ),
        (
            "CODEBUILD_BUILD_IMAGE".to_owned(),
            build["environment"]["image"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        (
            "CODEBUILD_LOG_PATH".to_owned(),
            build["logs"]["streamName"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        (
            "CODEBUILD_KMS_KEY_ID".to_owned(),
            build["encryptionKey"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        ("AWS_REGION".to_owned(), req.region.clone()),
        ("AWS_DEFAULT_REGION".to_owned(), req.region.clone()),
    ]);
    for (name, dir) in src_dirs.iter().skip(1) {
        env.push((
            format!("CODEBUILD_SRC_DIR_{name}"),
            dir.display().to_string(),
        ));
    }
    let mut session = Session::start(&src, &env)
        .map_err(|e| fail("PROVISIONING", format!("cannot start bash: {e}")))?;
    // A server killed mid-build leaves this behind; the next start kills the group (`sweep`).
    if let Some(pid) = session.pid() {
        let _ = std::fs::write(work.join(GROUP_FILE), pid.to_string());
    }
    let whose = json!({"account": req.account, "region": req.region, "id": id});
    let _ = std::fs::write(work.join(BUILD_FILE), whose.to_string());
    let stop = req.stop.clone();
    let stopped = move || stop.load(Ordering::Relaxed);
    // The first failure decides the build's end; `aborted` is the phase that stopped the run.
    let mut failure: Option<Failure> = None;
    let mut aborted: Option<String> = None;
    for (name, phase) in &spec.phases {
        let upper = name.to_uppercase();
        let skip = match aborted.as_deref() {
            None => false,
            Some("BUILD") => upper != "POST_BUILD",
            Some(_) => true,
        };
        if skip {
            continue;
        }
        if upper == "POST_BUILD" && failure.is_some() {
            session.export("CODEBUILD_BUILD_SUCCEEDING", "0").await;
        }
        for (runtime, version) in &phase.runtime_versions {
            rec.line(container(&format!(
                "Runtime version {runtime} {version} requested: codepipeline-local uses what this machine has"
            )));
        }
        rec.line(container(&format!("Entering phase {upper}")));
        live.enter(rec, &upper);
        let end = {
            // The shell announces each command untimed; the time is the moment it is read.
            let mut out = |line: Option<String>| match line {
                Some(line) => match line.strip_prefix("[Container] Running command ") {
                    Some(command) => rec.line(container(&format!("Running command {command}"))),
                    None => rec.line(line),
                },
                None => rec.idle(),
            };
            session
                .phase(
                    &phase.commands,
                    &phase.finally,
                    deadline,
                    &stopped,
                    &mut out,
                )
                .await
        };
        match end {
            PhaseEnd::Done { status: 0, .. } => {
                rec.line(container(&format!(
                    "Phase complete: {upper} State: SUCCEEDED"
                )));
            }
            PhaseEnd::Done { status, failed } => {
                let all: Vec<&String> = phase.commands.iter().chain(&phase.finally).collect();
                let command = failed.and_then(|i| all.get(i)).map_or("", |c| c.as_str());
                let message = format!(
                    "Error while executing command: {command}. Reason: exit status {status}"
                );
                rec.line(container(&format!(
                    "Command did not exit successfully {command} exit status {status}"
                )));
                rec.line(container(&format!("Phase complete: {upper} State: FAILED")));
                live.end_phase(rec, "FAILED", Some(&message));
                failure.get_or_insert_with(|| fail(&upper, message));
                if !phase.continue_on_failure && aborted.is_none() {
                    aborted = Some(upper);
                }
            }
            PhaseEnd::TimedOut => {
                session.kill().await;
                return Err(Failure {
                    status: "TIMED_OUT",
                    phase: upper,
                    message: "Build timed out".to_owned(),
                });
            }
            PhaseEnd::Stopped => {
                session.kill().await;
                return Err(Failure {
                    status: "STOPPED",
                    phase: upper,
                    message: "Build was stopped".to_owned(),
                });
            }
            PhaseEnd::ShellExited(code) => {
                failure.get_or_insert_with(|| {
                    fail(
                        &upper,
                        format!(
                            "The build's shell exited with status {}",
                            code.unwrap_or(-1)
                        ),
                    )
                });
                break;
            }
        }
    }
    let exported = session.read_variables(&spec.exported).await;
    session.kill().await;
    if let Some(f) = failure {
        return Err(f);
    }
    // UPLOAD_ARTIFACTS: each output artifact is the secondary artifact of its name, or the
    // primary one for the first output (CodePipeline's mapping of several outputs).
    live.enter(rec, "UPLOAD_ARTIFACTS");
    if let Some(spec_artifacts) = &spec.artifacts {
        for (i, out) in req.outputs.iter().enumerate() {
            let chosen = spec_artifacts
                .secondary
                .iter()
                .find(|(id, _)| *id == out.name)
                .map(|(_, a)| a)
                .or_else(|| (i == 0 && !spec_artifacts.files.is_empty()).then_some(spec_artifacts));
            // Our wording: no capture of AWS's text for a missing identifier was found.
            let chosen = chosen.ok_or_else(|| {
                fail(
                    "UPLOAD_ARTIFACTS",
                    format!(
                        "CLIENT_ERROR: no definition for secondary artifact {} in buildspec",
                        out.name
                    ),
                )
            })?;
            let zip = files::collect_zip(&src, chosen, &env)
                .map_err(|e| fail("UPLOAD_ARTIFACTS", format!("CLIENT_ERROR: {e}")))?;
            let at = Placement {
                bucket: &out.bucket,
                key: &out.key,
                account: &req.account,
                region: &req.region,
            };
            let meta = ObjectMeta {
                content_type: Some("application/zip".to_owned()),
                ..Default::default()
            };
            artifacts
                .put(&at, &mut zip.as_slice(), meta, now())
                .map_err(|e: crate::store::StoreError| fail("UPLOAD_ARTIFACTS", e.to_string()))?;
        }
        if !req.outputs.is_empty() {
            rec.line(container(
                "Phase complete: UPLOAD_ARTIFACTS State: SUCCEEDED",
            ));
        }
    }
    drop(guard);
    Ok(exported)
}

/// The file in a build's folder that names its process group.
const GROUP_FILE: &str = "process-group";
/// The file in a build's folder that names its build.
const BUILD_FILE: &str = "build.json";

/// Kills the process groups of builds a killed server left running, ends their records
/// `FAILED` with the reason, and removes their folders. A group is killed only if its leader
/// is still the build's shell (its environment names the build), so a reused process id is
/// never touched.
pub fn sweep(work_root: &std::path::Path, store: &dyn crate::store::Store) {
    let Ok(entries) = std::fs::read_dir(work_root) else {
        return;
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        let uuid = entry.file_name().to_string_lossy().into_owned();
        if let Some(pid) = std::fs::read_to_string(dir.join(GROUP_FILE))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let marker = format!("CODEBUILD_LOG_PATH={uuid}");
            if environ
                .split(|b| *b == 0)
                .any(|var| var == marker.as_bytes())
            {
                tracing::warn!(pid, build = %uuid, "killing a build a previous run left behind");
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", "--", &format!("-{pid}")])
                    .status();
            }
        }
        if let Some(whose) = std::fs::read_to_string(dir.join(BUILD_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            end_interrupted(store, &whose);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn end_interrupted(store: &dyn crate::store::Store, whose: &Value) {
    let (Some(account), Some(region), Some(id)) = (
        whose["account"].as_str(),
        whose["region"].as_str(),
        whose["id"].as_str(),
    ) else {
        return;
    };
    let Ok(Some(record)) = records::load_build(store, account, region, id) else {
        return;
    };
    let mut build = record.build;
    if build["buildComplete"].as_bool() == Some(true) {
        return;
    }
    let end = now();
    shape::end_phase(
        &mut build,
        "FAILED",
        end,
        Some("codepipeline-local stopped while the build ran"),
    );
    shape::complete(&mut build, "FAILED", end, &[]);
    let written = records::build_writes(account, region, build, record.started, false)
        .and_then(|w| store.apply(w))
        .and_then(|()| store.flush());
    if let Err(e) = written {
        tracing::warn!(error = %e, "cannot end an interrupted build");
    }
}

struct RemoveOnDrop(std::path::PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests;
