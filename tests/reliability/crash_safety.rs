//! Crash safety under concurrent load: several writer threads create, update, tag, start and
//! approve pipelines while the server is killed with SIGKILL at a chosen number of acknowledged
//! writes. After a restart on the same data folder, every write the server acknowledged must be
//! there, every record must read back whole, and every unfinished execution must run on to a
//! final status. `durability.rs` covers sequential writes and `executions_sdk.rs` one running
//! execution; this file covers writes that are in flight, and contending, when the process dies.
//!
//! A write is "acknowledged" only once its whole 200 reply has been read. A request that dies
//! with the connection is "unknown": it may or may not have happened, and the checks allow both.
//! The kill moment is chosen by counting acknowledged writes, never by sleeping.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::*;
use serde_json::{json, Value};

const WRITERS: usize = 4;
/// Pipelines one writer creates per cycle, so tag counts and verification stay small.
const PIPELINES_PER_WRITER: usize = 5;
/// Stay clear of the 50-tag limit per resource: a refused tag would not be a crash finding.
const TAGS_PER_PIPELINE: usize = 30;
/// Short enough that resumed executions finish within the verification deadline.
const ACTION_DURATION: &str = "50ms";
const FINISHED: [&str; 5] = ["Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"];

// ---------------------------------------------------------------------------------------------
// What the writers asked for, and what the server acknowledged
// ---------------------------------------------------------------------------------------------

/// One acknowledged `PutApprovalResult`.
#[derive(Debug, Clone)]
struct Approval {
    pipeline: String,
    execution_id: String,
    action_execution_id: String,
    token: String,
}

/// Shared by every writer of every cycle on one data folder.
#[derive(Debug, Default)]
struct Ledger {
    /// Every name a CreatePipeline was sent for, acknowledged or not.
    attempted_names: BTreeSet<String>,
    /// Every marker an UpdatePipeline was sent with, acknowledged or not.
    attempted_markers: BTreeSet<String>,
    /// Every tag key a TagResource was sent with, acknowledged or not, per pipeline.
    attempted_tags: BTreeMap<String, BTreeSet<String>>,
    created: BTreeSet<String>,
    /// Acknowledged declaration versions: pipeline -> version -> marker.
    versions: BTreeMap<String, BTreeMap<i64, String>>,
    tags: BTreeMap<String, BTreeMap<String, String>>,
    starts: BTreeMap<String, BTreeSet<String>>,
    approvals: Vec<Approval>,
    /// Error replies to valid writes: any entry fails the test, after the crash checks have
    /// run, so one run reports both kinds of finding.
    unexpected: Vec<String>,
    /// Connections that dropped before the kill: the writer stopped, so the cycle ends at once.
    dropped: Vec<String>,
}

type Shared = Arc<Mutex<Ledger>>;

fn lock(ledger: &Shared) -> std::sync::MutexGuard<'_, Ledger> {
    // A writer that panicked must not hide the ledger from the checks.
    ledger.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------------------------------------
// Declarations
// ---------------------------------------------------------------------------------------------

/// Pipeline names end in `-w<k>` (the four-stage walkthrough fixture: Source, Build, Approve,
/// Deploy) or `-s<k>` (the two-stage Source, Approve pipeline), so both shapes are under load.
fn declaration(name: &str, marker: &str) -> Value {
    let mut decl = if name.contains("-w") {
        fixture_json("pipelines/approval-walkthrough.json")["pipeline"].clone()
    } else {
        two_stage(name)
    };
    decl["name"] = json!(name);
    let approve = decl["stages"]
        .as_array_mut()
        .expect("stages")
        .iter_mut()
        .find(|s| s["name"] == "Approve")
        .expect("an Approve stage");
    // Each version carries its marker, so a version read back can be matched to the write
    // that made it.
    approve["actions"][0]["configuration"] = json!({ "CustomData": format!("marker {marker}") });
    decl
}

fn stage_count(name: &str) -> usize {
    if name.contains("-w") {
        4
    } else {
        2
    }
}

fn marker_of(pipeline: &Value) -> Option<&str> {
    pipeline["stages"]
        .as_array()?
        .iter()
        .find(|s| s["name"] == "Approve")?["actions"][0]["configuration"]["CustomData"]
        .as_str()?
        .strip_prefix("marker ")
}

fn arn(name: &str) -> String {
    format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:{name}")
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

/// A request that may meet a dead server: `Err` is a dropped or refused connection, or a reply
/// cut off before its end.
fn send(
    agent: &ureq::Agent,
    url: &str,
    operation: &str,
    body: &Value,
) -> Result<(u16, Value), String> {
    let reply = agent
        .post(&format!("{url}/"))
        .set("content-type", "application/x-amz-json-1.1")
        .set(
            "x-amz-target",
            &format!("CodePipeline_20150709.{operation}"),
        )
        .send_string(&body.to_string());
    let reply = match reply {
        Ok(r) | Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(e.to_string()),
    };
    let status = reply.status();
    let text = reply.into_string().map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// xorshift64: deterministic choices per writer without another dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// When to kill: once `after` writes of this cycle are acknowledged, at the next acknowledged
/// `on` operation (any operation when `None`). Killing right after a plain-store write
/// (UpdatePipeline, TagResource) leaves the least time for some other request's flush to cover it.
#[derive(Debug, Clone, Copy)]
struct KillPoint {
    after: usize,
    on: Option<&'static str>,
}

const fn at(after: usize, on: Option<&'static str>) -> KillPoint {
    KillPoint { after, on }
}

/// What the writers send.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mix {
    /// Creates, then updates, tags, starts and approvals spread over every pipeline.
    Everything,
    /// Only UpdatePipeline and StartPipelineExecution, all on the one pipeline there is: a start
    /// reads the current version while updates keep replacing it.
    UpdatesAndStarts,
}

struct Writer {
    mix: Mix,
    cycle: usize,
    id: usize,
    url: String,
    ledger: Shared,
    acks: Arc<AtomicUsize>,
    kill: KillPoint,
    fired: Arc<AtomicBool>,
    /// Set just before the kill: a dropped connection after it is expected.
    killing: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    wake: mpsc::Sender<()>,
}

impl Writer {
    fn run(self) {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .build();
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (((self.cycle * 31 + self.id + 1) as u64) << 20));
        let mut made = match self.mix {
            Mix::Everything => 0,
            Mix::UpdatesAndStarts => PIPELINES_PER_WRITER,
        };
        let mut seq = 0;
        while !self.stop.load(Ordering::SeqCst) {
            seq += 1;
            let tag = format!("c{}t{}n{seq}", self.cycle, self.id);
            let pick = {
                let l = lock(&self.ledger);
                let names: Vec<&String> = l.created.iter().collect();
                (!names.is_empty()).then(|| names[rng.below(names.len())].clone())
            };
            let roll = rng.below(100);
            let (operation, outcome) = match pick {
                Some(name) if self.mix == Mix::UpdatesAndStarts => match roll % 2 {
                    0 => ("UpdatePipeline", self.update(&agent, &name, &tag)),
                    _ => ("StartPipelineExecution", self.start(&agent, &name)),
                },
                Some(name) if made >= PIPELINES_PER_WRITER || roll >= 12 => match roll % 5 {
                    0 => ("UpdatePipeline", self.update(&agent, &name, &tag)),
                    1 => ("TagResource", self.tag(&agent, &name, &tag)),
                    2 => ("StartPipelineExecution", self.start(&agent, &name)),
                    // Most approval attempts find nothing waiting, so they get two shares.
                    _ => ("PutApprovalResult", self.approve(&agent, &name)),
                },
                _ => {
                    let kind = if made % 2 == 0 { "w" } else { "s" };
                    made += 1;
                    let name = format!("c{}-t{}-{kind}{made}", self.cycle, self.id);
                    ("CreatePipeline", self.create(&agent, &name))
                }
            };
            match outcome {
                Ok(true) => {
                    let acked = self.acks.fetch_add(1, Ordering::SeqCst) + 1;
                    if acked >= self.kill.after
                        && self.kill.on.is_none_or(|on| on == operation)
                        && !self.fired.swap(true, Ordering::SeqCst)
                    {
                        let _ = self.wake.send(());
                    }
                }
                Ok(false) => {}
                Err(e) => {
                    if !self.killing.load(Ordering::SeqCst) {
                        lock(&self.ledger).dropped.push(e);
                        let _ = self.wake.send(());
                    }
                    // The server is gone; whatever was in flight stays unknown.
                    return;
                }
            }
        }
    }

    /// Sends one write; `Ok(Some(reply))` for a 200, `Ok(None)` for an error reply (recorded
    /// as unexpected unless its code is in `allowed`).
    fn write(
        &self,
        agent: &ureq::Agent,
        operation: &str,
        body: Value,
        allowed: &[&str],
    ) -> Result<Option<Value>, String> {
        let (status, reply) = send(agent, &self.url, operation, &body)?;
        if status == 200 {
            return Ok(Some(reply));
        }
        let code = reply["__type"].as_str().unwrap_or_default();
        if !allowed.contains(&code) {
            lock(&self.ledger)
                .unexpected
                .push(format!("{operation} {body} -> {status} {reply}"));
        }
        Ok(None)
    }

    fn create(&self, agent: &ureq::Agent, name: &str) -> Result<bool, String> {
        lock(&self.ledger).attempted_names.insert(name.to_owned());
        let owner = format!("c{}t{}", self.cycle, self.id);
        let body = json!({
            "pipeline": declaration(name, "created"),
            "tags": [{"key": "owner", "value": owner}],
        });
        let Some(reply) = self.write(agent, "CreatePipeline", body, &[])? else {
            return Ok(false);
        };
        let mut l = lock(&self.ledger);
        if reply["pipeline"]["version"] != 1 {
            l.unexpected
                .push(format!("CreatePipeline {name} replied {reply}"));
        }
        l.created.insert(name.to_owned());
        l.versions
            .entry(name.to_owned())
            .or_default()
            .insert(1, "created".to_owned());
        l.tags
            .entry(name.to_owned())
            .or_default()
            .insert("owner".to_owned(), owner);
        Ok(true)
    }

    fn update(&self, agent: &ureq::Agent, name: &str, marker: &str) -> Result<bool, String> {
        lock(&self.ledger)
            .attempted_markers
            .insert(marker.to_owned());
        let body = json!({ "pipeline": declaration(name, marker) });
        let Some(reply) = self.write(agent, "UpdatePipeline", body, &[])? else {
            return Ok(false);
        };
        let mut l = lock(&self.ledger);
        let Some(version) = reply["pipeline"]["version"].as_i64() else {
            l.unexpected
                .push(format!("UpdatePipeline {name} replied {reply}"));
            return Ok(true);
        };
        let versions = l.versions.entry(name.to_owned()).or_default();
        if let Some(before) = versions.insert(version, marker.to_owned()) {
            let problem =
                format!("UpdatePipeline {name} gave version {version} twice ({before}, {marker})");
            l.unexpected.push(problem);
        }
        Ok(true)
    }

    fn tag(&self, agent: &ureq::Agent, name: &str, key: &str) -> Result<bool, String> {
        {
            let mut l = lock(&self.ledger);
            // Unacknowledged keys count too: an unknown tag may have landed.
            let sent = l.attempted_tags.entry(name.to_owned()).or_default();
            if sent.len() >= TAGS_PER_PIPELINE {
                return Ok(false);
            }
            sent.insert(key.to_owned());
        }
        let value = key.chars().rev().collect::<String>();
        let body = json!({"resourceArn": arn(name), "tags": [{"key": key, "value": value}]});
        if self.write(agent, "TagResource", body, &[])?.is_none() {
            return Ok(false);
        }
        lock(&self.ledger)
            .tags
            .entry(name.to_owned())
            .or_default()
            .insert(key.to_owned(), value);
        Ok(true)
    }

    fn start(&self, agent: &ureq::Agent, name: &str) -> Result<bool, String> {
        let Some(reply) =
            self.write(agent, "StartPipelineExecution", json!({"name": name}), &[])?
        else {
            return Ok(false);
        };
        let mut l = lock(&self.ledger);
        match reply["pipelineExecutionId"].as_str() {
            Some(id) => {
                l.starts
                    .entry(name.to_owned())
                    .or_default()
                    .insert(id.to_owned());
            }
            None => l
                .unexpected
                .push(format!("StartPipelineExecution {name} replied {reply}")),
        }
        Ok(true)
    }

    /// Approves whatever the pipeline's Approve action waits for, if anything.
    fn approve(&self, agent: &ureq::Agent, name: &str) -> Result<bool, String> {
        let (status, state) = send(agent, &self.url, "GetPipelineState", &json!({"name": name}))?;
        if status != 200 {
            lock(&self.ledger)
                .unexpected
                .push(format!("GetPipelineState {name} -> {status} {state}"));
            return Ok(false);
        }
        let Some(pending) = pending_approval(&state) else {
            return Ok(false);
        };
        let body = approval_body(name, &pending.token);
        // Another writer may answer the same token first, and once that execution has moved
        // on, a newer one's approval may hold the action.
        let allowed = [
            "ApprovalAlreadyCompletedException",
            "InvalidApprovalTokenException",
        ];
        if self
            .write(agent, "PutApprovalResult", body, &allowed)?
            .is_none()
        {
            return Ok(false);
        }
        lock(&self.ledger).approvals.push(Approval {
            pipeline: name.to_owned(),
            ..pending
        });
        Ok(true)
    }
}

/// The approval the pipeline's Approve action waits for, read from one `GetPipelineState`
/// reply (the stage's latest execution and the action's token come from the same record).
fn pending_approval(state: &Value) -> Option<Approval> {
    let stage = state["stageStates"]
        .as_array()?
        .iter()
        .find(|s| s["stageName"] == "Approve")?;
    let latest = &stage["actionStates"][0]["latestExecution"];
    if latest["status"] != "InProgress" {
        return None;
    }
    Some(Approval {
        pipeline: state["pipelineName"].as_str()?.to_owned(),
        execution_id: stage["latestExecution"]["pipelineExecutionId"]
            .as_str()?
            .to_owned(),
        action_execution_id: latest["actionExecutionId"].as_str()?.to_owned(),
        token: latest["token"].as_str()?.to_owned(),
    })
}

fn approval_body(pipeline: &str, token: &str) -> Value {
    json!({
        "pipelineName": pipeline, "stageName": "Approve", "actionName": "Approve",
        "result": {"summary": "ok", "status": "Approved"}, "token": token,
    })
}

/// Runs the writers against `server` until the kill point, then kills the server with SIGKILL
/// while they are still sending.
fn write_then_kill(server: &mut Server, mix: Mix, cycle: usize, kill: KillPoint, ledger: &Shared) {
    let acks = Arc::new(AtomicUsize::new(0));
    let fired = Arc::new(AtomicBool::new(false));
    let killing = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (wake, woken) = mpsc::channel();
    let writers: Vec<_> = (0..WRITERS)
        .map(|id| {
            let w = Writer {
                mix,
                cycle,
                id,
                url: server.url.clone(),
                ledger: ledger.clone(),
                acks: acks.clone(),
                kill,
                fired: fired.clone(),
                killing: killing.clone(),
                stop: stop.clone(),
                wake: wake.clone(),
            };
            std::thread::spawn(move || w.run())
        })
        .collect();
    let reached = woken.recv_timeout(Duration::from_secs(30));
    let dropped = lock(ledger).dropped.clone();
    assert!(
        dropped.is_empty(),
        "connections lost before the kill: {dropped:?}"
    );
    assert!(
        reached.is_ok(),
        "kill point {kill:?} not reached within 30 s ({} writes acknowledged)",
        acks.load(Ordering::SeqCst)
    );
    killing.store(true, Ordering::SeqCst);
    server.kill();
    stop.store(true, Ordering::SeqCst);
    for w in writers {
        w.join().expect("writer thread");
    }
}

// ---------------------------------------------------------------------------------------------
// Checks after a restart
// ---------------------------------------------------------------------------------------------

fn start(dir: &Path) -> Server {
    Server::start_in_with(dir, &["--action-duration", ACTION_DURATION])
}

fn ok(server: &Server, operation: &str, body: Value) -> Value {
    let (status, reply) = server.call(operation, body.clone());
    assert_eq!(status, 200, "{operation} {body} -> {reply}");
    reply
}

fn pipeline_names(server: &Server) -> Vec<String> {
    let mut names = Vec::new();
    let mut token = Value::Null;
    loop {
        let mut body = json!({"maxResults": 10});
        if !token.is_null() {
            body["nextToken"] = token;
        }
        let reply = ok(server, "ListPipelines", body);
        for p in reply["pipelines"].as_array().expect("pipelines") {
            names.push(p["name"].as_str().expect("name").to_owned());
        }
        token = reply["nextToken"].clone();
        if token.is_null() {
            return names;
        }
    }
}

fn executions(server: &Server, name: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut token = Value::Null;
    loop {
        let mut body = json!({"pipelineName": name, "maxResults": 25});
        if !token.is_null() {
            body["nextToken"] = token;
        }
        let reply = ok(server, "ListPipelineExecutions", body);
        out.extend(
            reply["pipelineExecutionSummaries"]
                .as_array()
                .expect("summaries")
                .iter()
                .cloned(),
        );
        token = reply["nextToken"].clone();
        if token.is_null() {
            return out;
        }
    }
}

/// Every acknowledged write is back, and every record the server lists reads back whole.
fn check_acknowledged(server: &Server, ledger: &Shared) {
    let l = lock(ledger);
    let names = pipeline_names(server);
    let listed: BTreeSet<&String> = names.iter().collect();
    assert_eq!(
        listed.len(),
        names.len(),
        "ListPipelines repeats a name: {names:?}"
    );
    for name in &l.created {
        assert!(
            listed.contains(name),
            "acknowledged pipeline {name} is gone; listed: {names:?}"
        );
    }
    for name in &names {
        assert!(
            l.attempted_names.contains(name),
            "{name} is listed but no writer ever created it"
        );
        check_pipeline(server, &l, name);
    }
    // An acknowledged approval is never pending again: the same token is refused.
    for a in &l.approvals {
        let (status, reply) =
            server.call("PutApprovalResult", approval_body(&a.pipeline, &a.token));
        assert_ne!(
            status, 200,
            "acknowledged approval {a:?} was accepted a second time: {reply}"
        );
    }
}

fn check_pipeline(server: &Server, l: &Ledger, name: &str) {
    let current = ok(server, "GetPipeline", json!({"name": name}));
    let version = current["pipeline"]["version"].as_i64().expect("version");
    assert_eq!(current["pipeline"]["name"], *name);
    let acked = l.versions.get(name).cloned().unwrap_or_default();
    if let Some((&latest, _)) = acked.last_key_value() {
        assert!(
            version >= latest,
            "{name} is at version {version}, but version {latest} was acknowledged"
        );
    }
    for v in 1..=version {
        let reply = ok(server, "GetPipeline", json!({"name": name, "version": v}));
        let decl = &reply["pipeline"];
        assert_eq!(decl["version"], v, "{name} version {v}: {reply}");
        assert_eq!(
            decl["stages"].as_array().map(Vec::len),
            Some(stage_count(name)),
            "{name} version {v}: {reply}"
        );
        let marker =
            marker_of(decl).unwrap_or_else(|| panic!("{name} version {v} has no marker: {reply}"));
        match acked.get(&v) {
            Some(expected) => {
                assert_eq!(marker, expected, "{name} version {v} holds another write")
            }
            // Version 1 of a pipeline whose CreatePipeline reply was lost.
            None if v == 1 => assert_eq!(marker, "created", "{name} version 1"),
            None => assert!(
                l.attempted_markers.contains(marker),
                "{name} version {v} holds marker {marker} that no writer sent"
            ),
        }
    }
    let (status, reply) = server.call("GetPipeline", json!({"name": name, "version": version + 1}));
    assert_eq!(
        status, 400,
        "{name} has a version past its current {version}: {reply}"
    );
    assert_eq!(reply["__type"], "PipelineVersionNotFoundException");

    let tags = ok(
        server,
        "ListTagsForResource",
        json!({"resourceArn": arn(name)}),
    );
    let tags: BTreeMap<&str, &str> = tags["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["key"].as_str().expect("key"),
                t["value"].as_str().expect("value"),
            )
        })
        .collect();
    for (key, value) in l.tags.get(name).into_iter().flatten() {
        assert_eq!(
            tags.get(key.as_str()),
            Some(&value.as_str()),
            "{name}: acknowledged tag {key} is lost; tags: {tags:?}"
        );
    }
    for key in tags.keys() {
        let sent = l.attempted_tags.get(name);
        assert!(
            *key == "owner" || sent.is_some_and(|s| s.contains(*key)),
            "{name} has tag {key} that no writer sent to it"
        );
    }

    let summaries = executions(server, name);
    let ids: BTreeSet<&str> = summaries
        .iter()
        .map(|s| s["pipelineExecutionId"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids.len(),
        summaries.len(),
        "{name}: an execution is listed twice"
    );
    for id in l.starts.get(name).into_iter().flatten() {
        assert!(
            ids.contains(id.as_str()),
            "{name}: acknowledged execution {id} is not listed"
        );
    }
    if l.created.contains(name) {
        // CreatePipeline replies only after its first execution is stored.
        let first = summaries
            .last()
            .unwrap_or_else(|| panic!("{name} has no execution"));
        assert_eq!(
            first["trigger"]["triggerType"], "CreatePipeline",
            "{name}: {first}"
        );
    }
    for id in &ids {
        let reply = ok(
            server,
            "GetPipelineExecution",
            json!({"pipelineName": name, "pipelineExecutionId": id}),
        );
        let e = &reply["pipelineExecution"];
        assert_eq!(e["pipelineExecutionId"], *id);
        let v = e["pipelineVersion"].as_i64().expect("pipelineVersion");
        assert!(
            (1..=version).contains(&v),
            "{name} execution {id} runs version {v} of {version}"
        );
        let actions = ok(
            server,
            "ListActionExecutions",
            json!({"pipelineName": name, "filter": {"pipelineExecutionId": id}}),
        );
        for d in actions["actionExecutionDetails"]
            .as_array()
            .expect("details")
        {
            assert_eq!(d["pipelineExecutionId"], *id, "{name}: {d}");
        }
    }
    // The runtime record names only executions that exist.
    let state = ok(server, "GetPipelineState", json!({"name": name}));
    assert_eq!(state["pipelineVersion"], version, "{name}: {state}");
    for stage in state["stageStates"].as_array().expect("stageStates") {
        let mut named: Vec<&Value> = stage["inboundExecutions"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        named.push(&stage["latestExecution"]);
        for e in named {
            if let Some(id) = e["pipelineExecutionId"].as_str() {
                assert!(
                    ids.contains(id),
                    "{name} stage {} names execution {id}, which is not listed",
                    stage["stageName"]
                );
            }
        }
    }
}

/// Approves every approval still waiting and waits until every execution of every pipeline
/// has a final status; then checks what the acknowledged approvals led to.
fn run_to_the_end(server: &Server, ledger: &Shared) {
    let names = pipeline_names(server);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut unfinished = Vec::new();
        for name in &names {
            let state = ok(server, "GetPipelineState", json!({"name": name}));
            if let Some(pending) = pending_approval(&state) {
                // An approval answered just before the kill may still be finishing: refused.
                let _ = server.call("PutApprovalResult", approval_body(name, &pending.token));
            }
            for s in executions(server, name) {
                if !FINISHED.contains(&s["status"].as_str().unwrap_or_default()) {
                    unfinished.push(format!(
                        "{name} {} {}",
                        s["pipelineExecutionId"], s["status"]
                    ));
                }
            }
        }
        if unfinished.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "executions still unfinished 30 s after the restart:\n{}",
            unfinished.join("\n")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    for name in &names {
        for s in executions(server, name) {
            // Nothing here fails on purpose: a failure means lost state (variables, artifacts).
            assert_ne!(s["status"], "Failed", "{name}: {s}");
        }
    }
    let l = lock(ledger);
    for a in &l.approvals {
        let reply = ok(
            server,
            "ListActionExecutions",
            json!({"pipelineName": a.pipeline, "filter": {"pipelineExecutionId": a.execution_id}}),
        );
        let run = reply["actionExecutionDetails"]
            .as_array()
            .expect("details")
            .iter()
            .find(|d| d["actionExecutionId"] == a.action_execution_id.as_str())
            .unwrap_or_else(|| panic!("approval {a:?} has no action execution: {reply}"));
        assert_eq!(
            run["status"], "Succeeded",
            "acknowledged approval {a:?}: {run}"
        );
        let e = ok(
            server,
            "GetPipelineExecution",
            json!({"pipelineName": a.pipeline, "pipelineExecutionId": a.execution_id}),
        );
        let status = &e["pipelineExecution"]["status"];
        // Past its approval an execution can still be superseded while waiting for Deploy, or
        // cancelled by an update of its pipeline (the writers update while executions run).
        assert!(
            status == "Succeeded" || status == "Superseded" || status == "Cancelled",
            "approved execution {a:?} ended {status}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------------

/// The one pipeline `Mix::UpdatesAndStarts` writes to, created before the writers start.
fn create_contended(server: &Server, ledger: &Shared) {
    let name = "contended-s1";
    let body = json!({
        "pipeline": declaration(name, "created"),
        "tags": [{"key": "owner", "value": "setup"}],
    });
    ok(server, "CreatePipeline", body);
    let mut l = lock(ledger);
    l.attempted_names.insert(name.to_owned());
    l.created.insert(name.to_owned());
    l.versions
        .entry(name.to_owned())
        .or_default()
        .insert(1, "created".to_owned());
    l.tags
        .entry(name.to_owned())
        .or_default()
        .insert("owner".to_owned(), "setup".to_owned());
}

/// One line on what a scenario put on disk, printed with a failure's output, to tell a weak
/// run (say, one that never reached an approval) from a real finding.
fn report(server: &Server, ledger: &Shared, kill_points: &[KillPoint]) {
    let (mut total, mut running) = (0, 0);
    for name in pipeline_names(server) {
        let all = executions(server, &name);
        total += all.len();
        running += all.iter().filter(|s| s["status"] == "InProgress").count();
    }
    let l = lock(ledger);
    eprintln!(
        "kill points {kill_points:?}: {} pipelines acknowledged ({} sent), {} versions, {} tags, \
         {} starts, {} approvals acknowledged; {total} executions after the restart, {running} \
         of them in progress",
        l.created.len(),
        l.attempted_names.len(),
        l.versions.values().map(BTreeMap::len).sum::<usize>(),
        l.tags.values().map(BTreeMap::len).sum::<usize>(),
        l.starts.values().map(BTreeSet::len).sum::<usize>(),
        l.approvals.len(),
    );
}

/// One cycle per entry of `kill_points`, all on one data folder: restart, check, write until
/// that many more writes are acknowledged, SIGKILL. `kill_while_resuming` adds a kill right
/// after the last restart's ready line, while unfinished executions are being reloaded.
fn crash_cycles(kill_points: &[KillPoint], mix: Mix, kill_while_resuming: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let ledger = Shared::default();
    for (cycle, &kill) in kill_points.iter().enumerate() {
        let mut server = start(dir.path());
        if cycle > 0 {
            check_acknowledged(&server, &ledger);
        } else if mix == Mix::UpdatesAndStarts {
            create_contended(&server, &ledger);
        }
        write_then_kill(&mut server, mix, cycle, kill, &ledger);
    }
    if kill_while_resuming {
        start(dir.path()).kill();
    }
    let server = start(dir.path());
    check_acknowledged(&server, &ledger);
    report(&server, &ledger, kill_points);
    run_to_the_end(&server, &ledger);
    // Finishing the executions rewrote their records; the acknowledged writes are still there.
    check_acknowledged(&server, &ledger);
    let l = lock(&ledger);
    assert!(!l.created.is_empty(), "no pipeline was ever acknowledged");
    assert!(
        l.unexpected.is_empty(),
        "unexpected replies under load ({} of them):\n{}",
        l.unexpected.len(),
        l.unexpected.join("\n")
    );
}

#[test]
fn sigkill_during_the_first_creates() {
    crash_cycles(&[at(2, None)], Mix::Everything, false);
}

#[test]
fn sigkill_right_after_an_acknowledged_update() {
    crash_cycles(&[at(40, Some("UpdatePipeline"))], Mix::Everything, false);
}

#[test]
fn sigkill_right_after_an_acknowledged_tag() {
    crash_cycles(&[at(60, Some("TagResource"))], Mix::Everything, false);
}

#[test]
fn sigkill_right_after_an_acknowledged_approval() {
    crash_cycles(
        &[at(150, Some("PutApprovalResult"))],
        Mix::Everything,
        false,
    );
}

#[test]
fn sigkill_with_many_executions_in_flight() {
    crash_cycles(&[at(300, None)], Mix::Everything, false);
}

#[test]
fn repeated_sigkills_on_one_data_dir() {
    let kills = [
        at(25, None),
        at(80, Some("StartPipelineExecution")),
        at(150, Some("UpdatePipeline")),
    ];
    crash_cycles(&kills, Mix::Everything, true);
}

/// Every start that races updates of the same pipeline must succeed, and the race's result
/// must pass the same crash checks as the mixed load.
#[test]
fn sigkill_while_updates_and_starts_contend_for_one_pipeline() {
    crash_cycles(
        &[at(300, Some("UpdatePipeline"))],
        Mix::UpdatesAndStarts,
        false,
    );
}
