//! Hostile clients. Property tests generate requests for all 44 operations from the service
//! model (valid, mutated and fully random) and check that the server never panics or answers
//! 5xx, that every 4xx carries an AWS error type, and that rejected calls leave the observable
//! state as it was. Fixed cases cover what a generator does not reach, or reaches only by luck:
//! unknown and null members at any depth, deeply nested JSON, multi-MB strings, bodies over the
//! 8 MiB limit or cut short, invalid UTF-8, non-object bodies, wrong content types, bad targets
//! and methods, broken HTTP framing, clients that stall in their headers or body, and hundreds
//! of connections at once.
//!
//! Each test starts one server and sends everything to it; waits are polls with a deadline.
//! `PROPTEST_CASES` changes how many cases each property runs (see `cases`).

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::{Duration, Instant};

use crate::common::*;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

const TARGET: &str = "CodePipeline_20150709";
const JSON_11: &str = "application/x-amz-json-1.1";

/// The pipeline whose execution waits at a manual approval (so a token exists).
const SEED: &str = "hostile-seed";
/// The pipeline whose `Work` stage waits for a custom and a third-party job worker.
const JOBS: &str = "hostile-jobs";
const HOOK: &str = "hostile-hook";

// ---------------------------------------------------------------------------------------------
// The service model, read as data
// ---------------------------------------------------------------------------------------------

fn model() -> &'static Value {
    static MODEL: OnceLock<Value> = OnceLock::new();
    MODEL.get_or_init(|| {
        let path = format!(
            "{}/model/codepipeline-2015-07-09.json",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(path).expect("model")).expect("model json")
    })
}

fn shape(name: &str) -> &'static Value {
    &model()["shapes"][name]
}

fn operations() -> Vec<&'static str> {
    model()["operations"]
        .as_object()
        .expect("operations")
        .keys()
        .map(String::as_str)
        .collect()
}

fn input_shape(operation: &str) -> &'static str {
    model()["operations"][operation]["input"]["shape"]
        .as_str()
        .unwrap_or_else(|| panic!("{operation} has no input shape"))
}

/// Operations that can change state: everything but the reads.
fn mutating_operations() -> Vec<&'static str> {
    operations()
        .into_iter()
        .filter(|op| !op.starts_with("Get") && !op.starts_with("List"))
        .collect()
}

fn required(s: &'static Value) -> Vec<&'static str> {
    s["required"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// `(member name, shape name)` of a structure shape.
fn members(s: &'static Value) -> Vec<(&'static str, &'static str)> {
    s["members"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(name, def)| (name.as_str(), def["shape"].as_str().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// HTTP: a client with deadlines, and raw sockets for what a client library will not send
// ---------------------------------------------------------------------------------------------

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build()
}

/// POSTs `body` to `/` as `operation` with the awsJson 1.1 content type and returns
/// `(status, body text)`, or the transport error.
fn post(
    agent: &ureq::Agent,
    server: &Server,
    operation: &str,
    body: &[u8],
) -> Result<(u16, String), String> {
    let req = agent
        .post(&format!("{}/", server.url))
        .set("x-amz-target", &target(operation))
        .set("content-type", JSON_11);
    let resp = match req.send_bytes(body) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => return Err(format!("transport error: {e}")),
    };
    let status = resp.status();
    // Not `into_string`, which stops at 10 MB: a validation error may quote a multi-MB value.
    let mut text = String::new();
    resp.into_reader()
        .read_to_string(&mut text)
        .map_err(|e| format!("reading the reply: {e}"))?;
    Ok((status, text))
}

fn target(operation: &str) -> String {
    format!("{TARGET}.{operation}")
}

fn addr(server: &Server) -> String {
    server.url.trim_start_matches("http://").to_owned()
}

/// Writes `request` on a fresh connection and reads until the server closes it.
/// Returns `(status, body)`; a write error is ignored when a reply still arrives.
fn raw_exchange(server: &Server, request: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let mut stream = TcpStream::connect(addr(server)).map_err(|e| format!("connect: {e}"))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(Duration::from_secs(30)))
        .expect("write timeout");
    let written = stream.write_all(request);
    let mut reply = Vec::new();
    let read = stream.read_to_end(&mut reply);
    if reply.is_empty() {
        return Err(format!("no reply (write: {written:?}, read: {read:?})"));
    }
    parse_reply(&reply)
}

fn parse_reply(reply: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let text = String::from_utf8_lossy(reply);
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("not an HTTP reply: {:?}", shorten(&text, 200)))?;
    let body = match reply.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => reply[at + 4..].to_vec(),
        None => Vec::new(),
    };
    Ok((status, body))
}

/// A complete HTTP/1.1 request to `/` that asks the server to close the connection after it.
fn raw_request(method: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    )
    .into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max).collect();
        format!("{head}... ({} bytes in all)", text.len())
    }
}

/// What every reply to the AWS protocol must look like, whatever was sent: never 5xx; a 200 is
/// a JSON object; a 4xx is `{"__type": "...Exception", "message": "..."}`.
fn check_reply(status: u16, text: &str) -> Result<(), String> {
    let body: Option<Value> = serde_json::from_str(text).ok();
    let shown = shorten(text, 400);
    match status {
        200 => match body {
            Some(Value::Object(_)) => Ok(()),
            _ => Err(format!("200 whose body is not a JSON object: {shown}")),
        },
        400..=499 => {
            let Some(Value::Object(fields)) = body else {
                return Err(format!("{status} whose body is not a JSON object: {shown}"));
            };
            let code = fields.get("__type").and_then(Value::as_str).unwrap_or("");
            if code.is_empty() || !code.ends_with("Exception") {
                return Err(format!("{status} without an AWS error type: {shown}"));
            }
            if !fields.get("message").is_some_and(Value::is_string) {
                return Err(format!("{status} without a message: {shown}"));
            }
            Ok(())
        }
        _ => Err(format!("status {status}: {shown}")),
    }
}

/// Like `check_reply`, for a failure found in the middle of a property: says whether the server
/// still serves, since a panic must answer 500 and leave the server up.
fn check_reply_alive(server: &Server, status: u16, text: &str) -> Result<(), TestCaseError> {
    check_reply(status, text).map_err(|problem| {
        let alive = ureq::get(&format!("{}/_local/health", server.url))
            .timeout(Duration::from_secs(10))
            .call()
            .is_ok();
        TestCaseError::fail(format!("{problem} (server still serving: {alive})"))
    })
}

fn assert_aws_error(status: u16, body: &[u8], expected: Option<&str>, what: &str) {
    let text = String::from_utf8_lossy(body);
    assert!(
        (400..500).contains(&status),
        "{what}: expected a 4xx, got {status}: {}",
        shorten(&text, 300)
    );
    if let Err(problem) = check_reply(status, &text) {
        panic!("{what}: {problem}");
    }
    if let Some(code) = expected {
        let reply: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(reply["__type"], code, "{what}: {}", shorten(&text, 300));
    }
}

fn assert_still_serving(server: &Server) {
    let health = server.get_json("/_local/health");
    assert_eq!(health["status"], "running");
    let (status, _) = server.call("ListPipelines", json!({}));
    assert_eq!(status, 200);
}

// ---------------------------------------------------------------------------------------------
// Seed resources, and the names and ids generated requests are biased towards
// ---------------------------------------------------------------------------------------------

fn worker_type() -> Value {
    json!({"category": "Build", "owner": "Custom", "provider": "HostileWorker", "version": "1"})
}

fn alexa_type() -> Value {
    json!({"category": "Deploy", "owner": "ThirdParty", "provider": "AlexaSkillsKit", "version": "1"})
}

fn create_worker_type() -> Value {
    json!({
        "category": "Build", "provider": "HostileWorker", "version": "1",
        "configurationProperties": [
            {"name": "Project", "required": true, "key": true, "secret": false, "queryable": true}
        ],
        "inputArtifactDetails": {"minimumCount": 0, "maximumCount": 5},
        "outputArtifactDetails": {"minimumCount": 0, "maximumCount": 5}
    })
}

/// `two_stage` with its approval replaced by a custom job and a third-party job.
fn jobs_pipeline() -> Value {
    let mut declaration = two_stage(JOBS);
    declaration["stages"][1] = json!({"name": "Work", "actions": [
        {"name": "Work", "actionTypeId": worker_type(),
            "inputArtifacts": [{"name": "Src"}], "configuration": {"Project": "p"}},
        {"name": "Alexa", "actionTypeId": alexa_type(),
            "inputArtifacts": [{"name": "Src"}],
            "configuration": {"ClientId": "amzn1.application-oa2-client.example",
                "ClientSecret": "client-secret", "RefreshToken": "refresh-token",
                "SkillId": "amzn1.ask.skill.example"}}]});
    declaration
}

fn hook_definition(name: &str, pipeline: &str) -> Value {
    json!({
        "name": name, "targetPipeline": pipeline, "targetAction": "Source",
        "filters": [{"jsonPath": "$.ref", "matchEquals": "refs/heads/main"}],
        "authentication": "UNAUTHENTICATED", "authenticationConfiguration": {}
    })
}

/// Stage and action names: what restoring a seed pipeline compares.
fn layout(declaration: &Value) -> Vec<(String, Vec<String>)> {
    let name = |v: &Value| v["name"].as_str().unwrap_or_default().to_owned();
    declaration["stages"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let actions = s["actions"]
                .as_array()
                .into_iter()
                .flatten()
                .map(name)
                .collect();
            (name(s), actions)
        })
        .collect()
}

/// Values generated strings are biased towards, by model shape name, and real values of a few
/// structures. Built from the server's state, so generated requests hit existing resources.
#[derive(Default, Clone)]
struct Known {
    strings: HashMap<&'static str, Vec<String>>,
    action_type_declaration: Option<Value>,
    /// `(job id, nonce)` of custom-action jobs.
    jobs: Vec<(String, String)>,
    /// `(job id, client token, nonce)` of third-party jobs.
    third_party_jobs: Vec<(String, String, String)>,
}

impl Known {
    /// The known values of `shape`, or one unknown value so that `select` has something.
    fn get(&self, shape: &str) -> Vec<String> {
        match self.strings.get(shape) {
            Some(values) if !values.is_empty() => values.clone(),
            _ => vec!["00000000-0000-0000-0000-000000000000".to_owned()],
        }
    }

    fn add(&mut self, shape: &'static str, value: impl Into<String>) {
        let value = value.into();
        let values = self.strings.entry(shape).or_default();
        if !values.contains(&value) {
            values.push(value);
        }
    }
}

/// Creates what generated requests may have deleted or broken (the two pipelines, the worker
/// type, the webhook, a tag), then adds the current names, ids and tokens to `known`.
/// `initial` insists that everything works; later calls only do their best, because generated
/// calls may have left the account in any state.
fn restore(s: &Server, known: &mut Known, initial: bool) {
    let (status, reply) = s.call("CreateCustomActionType", create_worker_type());
    assert!(!initial || status == 200, "CreateCustomActionType: {reply}");
    for declaration in [two_stage(SEED), jobs_pipeline()] {
        let name = declaration["name"].as_str().expect("name");
        let (status, got) = s.call("GetPipeline", json!({"name": name}));
        if status != 200 || layout(&got["pipeline"]) != layout(&declaration) {
            if status == 200 {
                s.call("DeletePipeline", json!({"name": name}));
            }
            let (status, reply) = s.call("CreatePipeline", json!({"pipeline": declaration}));
            assert!(!initial || status == 200, "CreatePipeline {name}: {reply}");
        }
        for (stage, _) in layout(&declaration) {
            for transition in ["Inbound", "Outbound"] {
                s.call(
                    "EnableStageTransition",
                    json!({"pipelineName": name, "stageName": stage, "transitionType": transition}),
                );
            }
        }
    }
    let (status, reply) = s.call(
        "PutWebhook",
        json!({"webhook": hook_definition(HOOK, SEED)}),
    );
    assert!(!initial || status == 200, "PutWebhook: {reply}");

    for (shape, values) in [
        ("PipelineName", &[SEED, JOBS, "hostile-missing"][..]),
        ("StageName", &["Source", "Approve", "Work", "Missing"]),
        ("ActionName", &["Source", "Approve", "Work", "Alexa"]),
        ("WebhookName", &[HOOK, "hostile-hook-missing"]),
        (
            "ActionProvider",
            &["HostileWorker", "AlexaSkillsKit", "S3", "Manual"],
        ),
        ("Version", &["1", "2"]),
        ("TagKey", &["team", "aws:reserved"]),
        ("TagValue", &["red", ""]),
        ("ClientRequestToken", &["hostile-token-1"]),
    ] {
        for v in values {
            known.add(shape, *v);
        }
    }
    known.add(
        "ResourceArn",
        format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:actiontype:Custom/Build/HostileWorker/1"),
    );
    for name in [SEED, JOBS] {
        let (_, got) = s.call("GetPipeline", json!({"name": name}));
        if let Some(arn) = got["metadata"]["pipelineArn"].as_str() {
            known.add("ResourceArn", arn);
            if name == SEED {
                s.call(
                    "TagResource",
                    json!({"resourceArn": arn, "tags": [{"key": "team", "value": "red"}]}),
                );
            }
        }
        let (_, executions) = s.call("ListPipelineExecutions", json!({"pipelineName": name}));
        for e in executions["pipelineExecutionSummaries"]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let Some(id) = e["pipelineExecutionId"].as_str() {
                known.add("PipelineExecutionId", id);
            }
        }
    }
    let (_, hooks) = s.call("ListWebhooks", json!({}));
    for w in hooks["webhooks"].as_array().into_iter().flatten() {
        if let Some(arn) = w["arn"].as_str() {
            known.add("ResourceArn", arn);
        }
    }
    let (_, declaration) = s.call("GetActionType", alexa_type());
    if declaration["actionType"].is_object() {
        known.action_type_declaration = Some(declaration["actionType"].clone());
    }

    // Jobs are handed out once: the initial call waits for them, later calls take what comes.
    let poll_once = |known: &mut Known| {
        let (_, jobs) = s.call("PollForJobs", json!({"actionTypeId": worker_type()}));
        for job in jobs["jobs"].as_array().into_iter().flatten() {
            let (id, nonce) = (
                job["id"].as_str().unwrap_or_default(),
                job["nonce"].as_str().unwrap_or_default(),
            );
            known.add("JobId", id);
            known.add("Nonce", nonce);
            known.jobs.push((id.to_owned(), nonce.to_owned()));
        }
        let (_, jobs) = s.call(
            "PollForThirdPartyJobs",
            json!({"actionTypeId": alexa_type()}),
        );
        for job in jobs["jobs"].as_array().into_iter().flatten() {
            let (id, client) = (
                job["jobId"].as_str().unwrap_or_default(),
                job["clientId"].as_str().unwrap_or_default(),
            );
            known.add("ThirdPartyJobId", id);
            known.add("ClientToken", client);
            let (_, details) = s.call(
                "GetThirdPartyJobDetails",
                json!({"jobId": id, "clientToken": client}),
            );
            let nonce = details["jobDetails"]["nonce"].as_str().unwrap_or_default();
            known.add("Nonce", nonce);
            known
                .third_party_jobs
                .push((id.to_owned(), client.to_owned(), nonce.to_owned()));
        }
    };
    if initial {
        poll("the seed's jobs and approval token", || {
            poll_once(known);
            approval_and_action_ids(s, known);
            (!known.jobs.is_empty()
                && !known.third_party_jobs.is_empty()
                && known.strings.contains_key("ApprovalToken"))
            .then_some(())
        });
    } else {
        poll_once(known);
        approval_and_action_ids(s, known);
    }
}

fn approval_and_action_ids(s: &Server, known: &mut Known) {
    for name in [SEED, JOBS] {
        let (_, state) = s.call("GetPipelineState", json!({"name": name}));
        for stage in state["stageStates"].as_array().into_iter().flatten() {
            for action in stage["actionStates"].as_array().into_iter().flatten() {
                let latest = &action["latestExecution"];
                if let Some(id) = latest["actionExecutionId"].as_str() {
                    known.add("ActionExecutionId", id);
                }
                if let Some(token) = latest["token"].as_str() {
                    known.add("ApprovalToken", token);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Strategies: requests built from the model
// ---------------------------------------------------------------------------------------------

/// One generated request. Its `Debug` shows the body as text, so a failure prints a reproducer.
#[derive(Clone)]
struct Request {
    operation: &'static str,
    body: Vec<u8>,
    /// The body breaks a constraint that the model says AWS always enforces.
    surely_invalid: bool,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "POST / X-Amz-Target: {} body: {}",
            target(self.operation),
            shorten(&String::from_utf8_lossy(&self.body), 2000)
        )
    }
}

/// Real values of a few structures, so that some generated requests get past the model's
/// constraints into the handlers: whole pipelines, action type ids of the seeds, and so on.
fn template(name: &str, known: &Known) -> Option<BoxedStrategy<Value>> {
    let s3 = json!({"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"});
    let manual =
        json!({"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"});
    Some(match name {
        "PipelineDeclaration" => prop_oneof![
            Just(two_stage(SEED)),
            Just(jobs_pipeline()),
            (0u32..50).prop_map(|n| two_stage(&format!("hostile-gen-{n}"))),
        ]
        .boxed(),
        "ActionTypeId" => select(vec![worker_type(), alexa_type(), s3, manual]).boxed(),
        "WebhookDefinition" => select(vec![
            hook_definition(HOOK, SEED),
            hook_definition("hostile-hook-2", JOBS),
            hook_definition("hostile-hook-3", "hostile-missing"),
        ])
        .boxed(),
        "ActionRevision" => Just(
            json!({"revisionId": "rev-1", "revisionChangeId": "change-1", "created": 1_700_000_000}),
        )
        .boxed(),
        "ApprovalResult" => select(vec![
            json!({"summary": "fine", "status": "Approved"}),
            json!({"summary": "no", "status": "Rejected"}),
        ])
        .boxed(),
        "CurrentRevision" => Just(json!({"revision": "r1", "changeIdentifier": "c1"})).boxed(),
        "FailureDetails" => Just(json!({"type": "JobFailed", "message": "boom"})).boxed(),
        "Tag" => Just(json!({"key": "team", "value": "blue"})).boxed(),
        "ActionTypeDeclaration" => Just(known.action_type_declaration.clone()?).boxed(),
        // Whole inputs for operations whose members must agree with each other to succeed.
        "GetActionTypeInput" => Just(alexa_type()).boxed(),
        "DisableStageTransitionInput" => Just(json!({"pipelineName": SEED, "stageName": "Approve",
            "transitionType": "Inbound", "reason": "hostile"}))
        .boxed(),
        "PutActionRevisionInput" => Just(json!({"pipelineName": SEED, "stageName": "Source",
            "actionName": "Source", "actionRevision": {"revisionId": "rev-2",
            "revisionChangeId": "change-2", "created": 1_700_000_000}}))
        .boxed(),
        "PutApprovalResultInput" => select(known.get("ApprovalToken"))
            .prop_map(|token| json!({"pipelineName": SEED, "stageName": "Approve",
                "actionName": "Approve", "token": token,
                "result": {"summary": "ok", "status": "Approved"}}))
            .boxed(),
        "RollbackStageInput" => select(known.get("PipelineExecutionId"))
            .prop_map(|id| json!({"pipelineName": SEED, "stageName": "Source",
                "targetPipelineExecutionId": id}))
            .boxed(),
        "AcknowledgeJobInput" | "PutJobSuccessResultInput" | "PutJobFailureResultInput"
            if !known.jobs.is_empty() =>
        {
            select(known.jobs.clone())
                .prop_map(|(id, nonce)| json!({"jobId": id, "nonce": nonce,
                    "failureDetails": {"type": "JobFailed", "message": "boom"}}))
                .boxed()
        }
        "GetThirdPartyJobDetailsInput"
        | "AcknowledgeThirdPartyJobInput"
        | "PutThirdPartyJobSuccessResultInput"
        | "PutThirdPartyJobFailureResultInput"
            if !known.third_party_jobs.is_empty() =>
        {
            select(known.third_party_jobs.clone())
            .prop_map(|(id, client, nonce)| json!({"jobId": id, "clientToken": client,
                "nonce": nonce, "failureDetails": {"type": "JobFailed", "message": "boom"}}))
            .boxed()
        }
        _ => return None,
    })
}

fn bound(s: &Value, key: &str) -> Option<i64> {
    s[key].as_i64()
}

/// Patterns as the model writes them, for proptest's regex generator (which matches whole
/// strings anyway, and does not take anchors).
fn pattern_strategy(pattern: &str) -> Option<BoxedStrategy<String>> {
    let bare = pattern.trim_start_matches('^').trim_end_matches('$');
    proptest::string::string_regex(bare).ok().map(|s| s.boxed())
}

fn string_strategy(name: &'static str, s: &Value, known: &Known) -> BoxedStrategy<Value> {
    if let Some(values) = s["enum"].as_array() {
        let values: Vec<Value> = values.to_vec();
        return select(values).boxed();
    }
    let lo = bound(s, "min").unwrap_or(0).max(0) as usize;
    let hi = bound(s, "max")
        .map(|m| m as usize)
        .unwrap_or(lo + 24)
        .min(lo + 64)
        .max(lo);
    let plain = prop_oneof![
        proptest::string::string_regex(&format!("[a-zA-Z0-9 ._@-]{{{lo},{hi}}}")).expect("regex"),
        proptest::string::string_regex(&format!(".{{{lo},{hi}}}")).expect("regex"),
    ]
    .boxed();
    let generated = match s["pattern"].as_str().and_then(pattern_strategy) {
        Some(p) => Union::new_weighted(vec![
            (
                3,
                p.prop_map(move |v| v.chars().take(hi.max(1)).collect::<String>())
                    .boxed(),
            ),
            (1, plain),
        ])
        .boxed(),
        None => plain,
    };
    let generated = generated.prop_map(Value::String).boxed();
    match known.strings.get(name) {
        Some(values) if !values.is_empty() => Union::new_weighted(vec![
            (4, select(values.clone()).prop_map(Value::String).boxed()),
            (2, generated),
        ])
        .boxed(),
        _ => generated,
    }
}

/// A value of shape `name` that meets the model's constraints (types, required members,
/// lengths, ranges, enums and, mostly, patterns).
fn valid(name: &'static str, known: &Known) -> BoxedStrategy<Value> {
    let s = shape(name);
    let generated = match s["type"].as_str().unwrap_or_default() {
        "structure" => {
            let needed = required(s);
            let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = members(s)
                .into_iter()
                .map(|(member, member_shape)| {
                    let pair = valid(member_shape, known)
                        .prop_map(move |v| (member.to_owned(), v))
                        .boxed();
                    if needed.contains(&member) {
                        pair.prop_map(Some).boxed()
                    } else {
                        proptest::option::weighted(0.4, pair).boxed()
                    }
                })
                .collect();
            fields
                .prop_map(|fields| Value::Object(fields.into_iter().flatten().collect()))
                .boxed()
        }
        "list" => {
            let item = valid(s["member"]["shape"].as_str().expect("list member"), known);
            let lo = bound(s, "min").unwrap_or(0) as usize;
            let hi = bound(s, "max").map_or(lo + 2, |m| (m as usize).min(lo + 2));
            proptest::collection::vec(item, lo..=hi.max(lo))
                .prop_map(Value::Array)
                .boxed()
        }
        "map" => {
            let key = valid(s["key"]["shape"].as_str().expect("map key"), known);
            let value = valid(s["value"]["shape"].as_str().expect("map value"), known);
            let lo = bound(s, "min").unwrap_or(0) as usize;
            let hi = bound(s, "max").map_or(lo + 2, |m| (m as usize).min(lo + 2));
            proptest::collection::vec((key, value), lo..=hi.max(lo))
                .prop_map(|pairs| {
                    Value::Object(
                        pairs
                            .into_iter()
                            .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), v))
                            .collect(),
                    )
                })
                .boxed()
        }
        "string" => string_strategy(name, s, known),
        "integer" | "long" => {
            let lo = bound(s, "min").unwrap_or(0);
            let hi = bound(s, "max").unwrap_or(lo + 1000).max(lo);
            prop_oneof![lo..=hi, Just(lo), Just(hi)]
                .prop_map(|n| json!(n))
                .boxed()
        }
        "boolean" => any::<bool>().prop_map(Value::Bool).boxed(),
        "timestamp" => prop_oneof![
            (0i64..4_000_000_000).prop_map(|n| json!(n)),
            (0.0f64..4.0e9).prop_map(|f| json!(f)),
        ]
        .boxed(),
        "blob" => proptest::string::string_regex("[A-Za-z0-9+/]{0,16}")
            .expect("regex")
            .prop_map(Value::String)
            .boxed(),
        other => panic!("shape {name} has unknown type {other:?}"),
    };
    match template(name, known) {
        Some(t) => Union::new_weighted(vec![(1, t), (2, generated)]).boxed(),
        None => generated,
    }
}

/// Any JSON at all, with object keys drawn partly from `keys` (the operation's member names).
fn random_json(keys: Vec<String>) -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        select(vec![SEED, JOBS, HOOK, "", "1", "null", "Approved"]).prop_map(|s| json!(s)),
    ];
    let key = prop_oneof![select(keys.clone()), any::<String>()];
    let value = leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::vec((key.clone(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
        ]
    });
    let key = prop_oneof![select(keys), any::<String>()];
    prop_oneof![
        1 => value.clone(),
        3 => proptest::collection::vec((key, value), 0..6)
            .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
    ]
    .boxed()
}

#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// A node of a generated value and the model shape it was generated for.
struct Node {
    path: Vec<Step>,
    shape: &'static str,
    /// Members of structures get the list and map length checks; list items and map values do not.
    member: bool,
}

/// The nodes the server's validator walks: present, non-null members, items and map values
/// whose JSON type matches the shape.
fn collect_nodes(
    name: &'static str,
    value: &Value,
    path: Vec<Step>,
    member: bool,
    out: &mut Vec<Node>,
) {
    let s = shape(name);
    match (s["type"].as_str().unwrap_or_default(), value) {
        ("structure", Value::Object(fields)) => {
            for (m, member_shape) in members(s) {
                if let Some(v) = fields.get(m).filter(|v| !v.is_null()) {
                    let mut p = path.clone();
                    p.push(Step::Key(m.to_owned()));
                    collect_nodes(member_shape, v, p, true, out);
                }
            }
        }
        ("list", Value::Array(items)) => {
            let item_shape = s["member"]["shape"].as_str().unwrap_or_default();
            for (i, item) in items.iter().enumerate().filter(|(_, v)| !v.is_null()) {
                let mut p = path.clone();
                p.push(Step::Index(i));
                collect_nodes(item_shape, item, p, false, out);
            }
        }
        ("map", Value::Object(entries)) => {
            let value_shape = s["value"]["shape"].as_str().unwrap_or_default();
            for (k, v) in entries.iter().filter(|(_, v)| !v.is_null()) {
                let mut p = path.clone();
                p.push(Step::Key(k.clone()));
                collect_nodes(value_shape, v, p, false, out);
            }
        }
        _ => {}
    }
    out.push(Node {
        path,
        shape: name,
        member,
    });
}

fn at<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// splitmix64: turns one generated `u64` into the several choices a mutation makes.
struct Choices(u64);

impl Choices {
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) % n.max(1) as u64) as usize
    }
}

/// Breaks one node of `value` (generated for shape `root`). Returns whether the result breaks a
/// constraint the model says is always enforced (a wrong JSON type, a missing required member,
/// a length, a range, an enum), so that AWS must reject it; unknown members, nulls, odd
/// characters and pattern breaks may be accepted. `surely` restricts the choice to the former.
fn mutate(root: &'static str, value: &mut Value, seed: u64, surely: bool) -> bool {
    let mut choices = Choices(seed);
    let mut nodes = Vec::new();
    collect_nodes(root, value, Vec::new(), false, &mut nodes);
    let node = &nodes[choices.pick(nodes.len())];
    let s = shape(node.shape);
    let kind = s["type"].as_str().unwrap_or_default();
    let (min, max) = (bound(s, "min"), bound(s, "max"));

    let wrong_types: Vec<Value> = match kind {
        "string" | "blob" => vec![json!(5), json!(true), json!({}), json!([]), json!(1.5)],
        "integer" | "long" => vec![json!("7"), json!(true), json!({}), json!([1]), json!(1e12)],
        "boolean" => vec![json!("true"), json!(1), json!({}), json!([])],
        "timestamp" => vec![json!(true), json!({}), json!([])],
        "structure" => vec![json!("x"), json!(1), json!([]), json!(false)],
        "list" => vec![json!({"x": 1}), json!("x"), json!(1)],
        "map" => vec![json!([]), json!("x"), json!(1)],
        other => panic!("shape {} has unknown type {other:?}", node.shape),
    };
    // (replacement, surely rejected)
    let mut options: Vec<(Value, bool)> = wrong_types.into_iter().map(|v| (v, true)).collect();
    // A null member counts as absent: rejected only at the top (the body must be an object).
    options.push((Value::Null, node.path.is_empty()));
    let current = at(value, &node.path).clone();
    match kind {
        "structure" => {
            let mut fields = current.as_object().cloned().unwrap_or_default();
            let needed = required(s);
            if !needed.is_empty() {
                let mut without = fields.clone();
                without.remove(needed[choices.pick(needed.len())]);
                options.push((Value::Object(without), true));
            }
            fields.insert("hostileUnknownMember".to_owned(), json!({"x": [1, null]}));
            options.push((Value::Object(fields), false));
        }
        "list" | "map" => {
            let len = current
                .as_array()
                .map(Vec::len)
                .or_else(|| current.as_object().map(Map::len))
                .unwrap_or(0);
            let grown = |n: usize| -> Value {
                if kind == "list" {
                    let mut items = current.as_array().cloned().unwrap_or_default();
                    let filler = items.first().cloned().unwrap_or(Value::Null);
                    items.resize(n.max(len), filler);
                    Value::Array(items)
                } else {
                    let mut entries = current.as_object().cloned().unwrap_or_default();
                    let filler = entries.values().next().cloned().unwrap_or(Value::Null);
                    for i in 0..n {
                        entries.insert(format!("k{i}"), filler.clone());
                    }
                    Value::Object(entries)
                }
            };
            if let Some(max) = max {
                options.push((grown(max as usize + 1), node.member));
            }
            let empty = if kind == "list" { json!([]) } else { json!({}) };
            options.push((empty, node.member && min.unwrap_or(0) > 0));
        }
        "string" => {
            if let Some(max) = max {
                options.push((json!("x".repeat(max as usize + 1)), true));
            } else {
                options.push((json!("y".repeat(100_000)), false));
            }
            if min.unwrap_or(0) > 0 {
                options.push((json!(""), true));
            }
            if s["enum"].is_array() {
                options.push((json!("NotAnEnumValue"), true));
            }
            options.push((json!("bad value!\u{0}\u{202e}\u{feff}😀\\\"/../"), false));
        }
        "integer" | "long" => {
            if let Some(max) = max {
                options.push((json!(max + 1), true));
            }
            if let Some(min) = min {
                options.push((json!(min - 1), true));
            }
            options.push((json!(i64::from(i32::MAX) + 1), true));
            options.push((json!(-0.5), false));
        }
        _ => {}
    }
    if surely {
        options.retain(|(_, sure)| *sure);
    }
    let (replacement, sure) = options.swap_remove(choices.pick(options.len()));
    *at(value, &node.path) = replacement;
    sure
}

fn to_request(operation: &'static str, value: &Value, surely_invalid: bool) -> Request {
    Request {
        operation,
        body: value.to_string().into_bytes(),
        surely_invalid,
    }
}

/// Valid, mutated (one to three breaks, any kind), random JSON and random bytes for `operation`.
fn requests(operation: &'static str, known: &Known) -> BoxedStrategy<Request> {
    let root = input_shape(operation);
    let keys: Vec<String> = members(shape(root))
        .into_iter()
        .map(|(m, _)| m.to_owned())
        .chain(["__type".to_owned()])
        .collect();
    let valid_bodies = valid(root, known);
    Union::new_weighted(vec![
        (
            4,
            valid_bodies
                .clone()
                .prop_map(move |v| to_request(operation, &v, false))
                .boxed(),
        ),
        (
            4,
            (valid_bodies, proptest::collection::vec(any::<u64>(), 1..=3))
                .prop_map(move |(mut v, seeds)| {
                    let mut sure = false;
                    for seed in seeds {
                        // A later break may replace the node an earlier sure one broke.
                        sure = mutate(root, &mut v, seed, false);
                    }
                    to_request(operation, &v, sure)
                })
                .boxed(),
        ),
        (
            2,
            random_json(keys)
                .prop_map(move |v| to_request(operation, &v, false))
                .boxed(),
        ),
        (
            1,
            proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(move |body| Request {
                    operation,
                    body,
                    surely_invalid: false,
                })
                .boxed(),
        ),
    ])
    .boxed()
}

/// A valid body with exactly one break that AWS always rejects.
fn surely_invalid(operation: &'static str, known: &Known) -> BoxedStrategy<Request> {
    let root = input_shape(operation);
    (valid(root, known), any::<u64>())
        .prop_map(move |(mut v, seed)| {
            let sure = mutate(root, &mut v, seed, true);
            assert!(sure, "only sure breaks were offered");
            to_request(operation, &v, true)
        })
        .boxed()
}

/// Cases per property: `PROPTEST_CASES` if set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        // Runs against a live server: nothing is written next to the sources, and shrinking
        // (which replays requests on a server whose state moved on) is kept short.
        failure_persistence: None,
        max_shrink_iters: 64,
        max_shrink_time: 20_000,
        ..Config::default()
    })
}

// ---------------------------------------------------------------------------------------------
// 1. Generated requests for every operation
// ---------------------------------------------------------------------------------------------

#[test]
fn generated_requests_for_every_operation_get_aws_answers() {
    let server = Server::start_with(&["--in-memory", "--action-duration", "0s"]);
    let agent = agent();
    let mut known = Known::default();
    restore(&server, &mut known, true);
    let ops = operations();
    assert_eq!(ops.len(), 44);
    let mut failures = Vec::new();
    let succeeded = RefCell::new(BTreeSet::<&str>::new());
    for op in ops {
        let strategy = requests(op, &known);
        let result = runner(cases(100)).run(&strategy, |req| {
            let (status, text) =
                post(&agent, &server, op, &req.body).map_err(TestCaseError::fail)?;
            if status == 200 {
                succeeded.borrow_mut().insert(op);
            }
            check_reply_alive(&server, status, &text)
        });
        if let Err(e) = result {
            failures.push(format!("{op}: {e}"));
        }
        // Generated calls may have deleted or reshaped the seeds; the next operation wants them.
        restore(&server, &mut known, false);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    // Guards against generation drifting so far that every call is refused before a handler.
    let succeeded = succeeded.into_inner();
    assert!(
        cases(100) < 50 || succeeded.len() >= 30,
        "only {} operations ever succeeded: {succeeded:?}",
        succeeded.len()
    );
    assert_still_serving(&server);
}

// ---------------------------------------------------------------------------------------------
// 2. Rejected calls change nothing
// ---------------------------------------------------------------------------------------------

/// Everything a client can read back: pipelines with their declarations, state, executions and
/// tags; webhooks with their tags; custom action types.
fn snapshot(s: &Server) -> Value {
    let (_, list) = s.call("ListPipelines", json!({"maxResults": 1000}));
    let mut names: Vec<String> = list["pipelines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    let mut pipelines = Map::new();
    for name in names {
        let (_, declaration) = s.call("GetPipeline", json!({"name": name}));
        let arn = declaration["metadata"]["pipelineArn"].clone();
        let (_, state) = s.call("GetPipelineState", json!({"name": name}));
        let (_, executions) = s.call(
            "ListPipelineExecutions",
            json!({"pipelineName": name, "maxResults": 100}),
        );
        let (_, tags) = s.call("ListTagsForResource", json!({"resourceArn": arn}));
        pipelines.insert(
            name,
            json!({"declaration": declaration, "state": state, "executions": executions, "tags": tags}),
        );
    }
    let (_, webhooks) = s.call("ListWebhooks", json!({"MaxResults": 100}));
    let webhook_tags: Vec<Value> = webhooks["webhooks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| {
            s.call("ListTagsForResource", json!({"resourceArn": w["arn"]}))
                .1
        })
        .collect();
    let (_, action_types) = s.call("ListActionTypes", json!({"actionOwnerFilter": "Custom"}));
    json!({
        "pipelines": list,
        "each": pipelines,
        "webhooks": webhooks,
        "webhookTags": webhook_tags,
        "customActionTypes": action_types,
    })
}

/// A snapshot once executions started by earlier calls stopped moving: the same three times in a row.
fn settled_snapshot(s: &Server) -> Value {
    let mut last = snapshot(s);
    let mut same = 0;
    poll("the state to settle", || {
        let now = snapshot(s);
        if now == last {
            same += 1;
        } else {
            same = 0;
            last = now;
        }
        (same >= 2).then(|| last.clone())
    })
}

/// The first path at which `a` and `b` differ, with both values there.
fn first_difference(a: &Value, b: &Value, path: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for key in x.keys().chain(y.keys()) {
                let (va, vb) = (&a[key.as_str()], &b[key.as_str()]);
                if let Some(d) = first_difference(va, vb, &format!("{path}.{key}")) {
                    return Some(d);
                }
            }
            None
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (va, vb))| first_difference(va, vb, &format!("{path}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!(
            "{path}: before {}, after {}",
            shorten(&a.to_string(), 300),
            shorten(&b.to_string(), 300)
        )),
    }
}

#[test]
fn rejected_calls_leave_state_unchanged() {
    let server = Server::start_with(&["--in-memory", "--action-duration", "0s"]);
    let agent = agent();
    let mut known = Known::default();
    restore(&server, &mut known, true);
    // Mostly bodies that break a model constraint; a quarter are valid by the model, so that
    // handlers that reject a call late (unknown pipeline, bad structure) are compared as well.
    let strategy = Union::new_weighted(
        mutating_operations()
            .into_iter()
            .flat_map(|op| {
                [
                    (3, surely_invalid(op, &known)),
                    (
                        1,
                        valid(input_shape(op), &known)
                            .prop_map(move |v| to_request(op, &v, false))
                            .boxed(),
                    ),
                ]
            })
            .collect(),
    );
    let baseline = RefCell::new(settled_snapshot(&server));
    let accepted = RefCell::new(Vec::new());
    let scratch = RefCell::new(known.clone());
    let result = runner(cases(150)).run(&strategy, |req| {
        let (status, text) =
            post(&agent, &server, req.operation, &req.body).map_err(TestCaseError::fail)?;
        check_reply_alive(&server, status, &text)?;
        if status == 200 {
            // A call that succeeds may change state, so it cannot be compared; restore the seeds
            // and take a new baseline once the executions it started have stopped moving.
            if req.surely_invalid {
                accepted
                    .borrow_mut()
                    .push(format!("{req:?} -> {}", shorten(&text, 300)));
            }
            restore(&server, &mut scratch.borrow_mut(), false);
            *baseline.borrow_mut() = settled_snapshot(&server);
            return Ok(());
        }
        let after = snapshot(&server);
        let before = baseline.borrow();
        if let Some(difference) = first_difference(&before, &after, "") {
            return Err(TestCaseError::fail(format!(
                "rejected with {}, yet the state changed at {difference}",
                shorten(&text, 300)
            )));
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // Bodies that break a constraint the model says AWS enforces must not succeed.
    let accepted = accepted.into_inner();
    assert!(
        accepted.is_empty(),
        "invalid bodies were accepted:\n{}",
        accepted.join("\n")
    );
    assert_still_serving(&server);
}

/// AWS ignores members the model does not define, at any depth: they are neither stored nor
/// echoed. (Found by the property above: a stored one made every later read of the resource
/// fail the reply check.)
#[test]
fn unknown_members_at_any_depth_are_ignored_not_stored() {
    let server = Server::start_in_memory();
    let unknown = "hostileUnknownMember";
    let mut pipeline = two_stage("with-extras");
    pipeline[unknown] = json!(1);
    pipeline["stages"][1][unknown] = json!({"x": 1});
    pipeline["stages"][1]["actions"][0][unknown] = json!([1]);
    pipeline["artifactStore"][unknown] = json!("x");
    let mut action_type = create_worker_type();
    action_type[unknown] = json!(1);
    action_type["settings"] = json!({"entityUrlTemplate": "https://example.com", unknown: 2});
    action_type["configurationProperties"][0][unknown] = json!(3);
    action_type["inputArtifactDetails"][unknown] = json!(4);
    let mut hook = hook_definition("with-extras", "with-extras");
    hook[unknown] = json!(1);
    hook["filters"][0][unknown] = json!(2);
    let calls = [
        ("CreatePipeline", json!({"pipeline": pipeline, unknown: 1})),
        ("UpdatePipeline", json!({"pipeline": pipeline})),
        ("GetPipeline", json!({"name": "with-extras"})),
        ("CreateCustomActionType", action_type),
        ("ListActionTypes", json!({"actionOwnerFilter": "Custom"})),
        (
            "PutWebhook",
            json!({"webhook": hook, "tags": [{"key": "k", "value": "v", unknown: 1}]}),
        ),
        ("ListWebhooks", json!({})),
        (
            "TagResource",
            json!({"resourceArn": format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:with-extras"),
                   "tags": [{"key": "k", "value": "v", unknown: 1}]}),
        ),
    ];
    let (_, declaration) = server.call("GetActionType", alexa_type());
    let mut declaration = declaration["actionType"].clone();
    declaration[unknown] = json!(1);
    declaration["executor"][unknown] = json!(2);
    let calls = calls.into_iter().chain([
        ("UpdateActionType", json!({"actionType": declaration})),
        ("GetActionType", alexa_type()),
    ]);
    let mut problems = Vec::new();
    for (op, body) in calls {
        let (status, reply) = server.call(op, body.clone());
        if status != 200 || reply.to_string().contains(unknown) {
            problems.push(format!(
                "{op} {}\n  -> {status} {}",
                shorten(&body.to_string(), 200),
                shorten(&reply.to_string(), 400)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A member sent as `null` is a member not sent, as the awsJson protocol has it, wherever it is.
#[test]
fn null_members_are_the_same_as_absent_ones() {
    let server = Server::start_in_memory();
    let mut action_type = create_worker_type();
    action_type["settings"] = json!({"entityUrlTemplate": null, "executionUrlTemplate": null});
    action_type["configurationProperties"][0]["description"] = Value::Null;
    let mut tagless_type = create_worker_type();
    tagless_type["provider"] = json!("NullTags");
    tagless_type["tags"] = Value::Null;
    let calls = [
        (
            "CreatePipeline",
            json!({"pipeline": two_stage("nulls"), "tags": null}),
        ),
        (
            "StartPipelineExecution",
            json!({"name": "nulls", "variables": null, "sourceRevisions": null,
                   "clientRequestToken": null}),
        ),
        (
            "ListPipelines",
            json!({"maxResults": null, "nextToken": null}),
        ),
        ("CreateCustomActionType", action_type),
        ("CreateCustomActionType", tagless_type),
        ("ListActionTypes", json!({"actionOwnerFilter": "Custom"})),
        (
            "PutWebhook",
            json!({"webhook": hook_definition("nulls", "nulls"), "tags": null}),
        ),
    ];
    let mut problems = Vec::new();
    for (op, body) in calls {
        let (status, reply) = server.call(op, body.clone());
        if status != 200 {
            problems.push(format!(
                "{op} {}\n  -> {status} {}",
                shorten(&body.to_string(), 200),
                shorten(&reply.to_string(), 400)
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// 3. Hostile bodies, headers and framing
// ---------------------------------------------------------------------------------------------

#[test]
fn deeply_nested_json_is_a_serialization_error() {
    let server = Server::start_in_memory();
    let agent = agent();
    let depth = 100_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let cases = [
        ("top-level arrays", arrays.clone()),
        ("nested objects", objects.clone()),
        ("arrays in a member", format!("{{\"name\": {arrays}}}")),
        ("objects in a member", format!("{{\"name\": {objects}}}")),
        ("unclosed arrays", "[".repeat(depth)),
        (
            "unclosed objects in a member",
            format!("{{\"x\": {}", "{\"a\":".repeat(depth)),
        ),
    ];
    for op in ["GetPipeline", "CreatePipeline", "ListPipelines"] {
        for (what, body) in &cases {
            let (status, text) = post(&agent, &server, op, body.as_bytes())
                .unwrap_or_else(|e| panic!("{op} {what}: {e}"));
            assert_aws_error(
                status,
                text.as_bytes(),
                Some("SerializationException"),
                &format!("{op} with {what}"),
            );
        }
    }
    assert_still_serving(&server);
}

#[test]
fn multi_megabyte_strings_are_validation_errors() {
    let server = Server::start_in_memory();
    let agent = agent();
    let seven_mb = "a".repeat(7 * 1024 * 1024);
    let send = |op: &str, body: &Value| {
        post(&agent, &server, op, body.to_string().as_bytes())
            .unwrap_or_else(|e| panic!("{op}: {e}"))
    };
    let mut pipeline = two_stage("big");
    pipeline["stages"][0]["actions"][0]["configuration"]["S3Bucket"] = json!(seven_mb);
    let multibyte = "é".repeat(3 * 1024 * 1024);
    for (op, body) in [
        ("GetPipeline", json!({"name": seven_mb})),
        ("GetPipeline", json!({"name": multibyte})),
        ("CreatePipeline", json!({"pipeline": pipeline})),
        (
            "TagResource",
            json!({"resourceArn": format!("arn:aws:codepipeline:us-east-1:{ACCOUNT}:x"),
                   "tags": [{"key": "k", "value": seven_mb}]}),
        ),
        (
            "PutApprovalResult",
            json!({"pipelineName": "p", "stageName": "s", "actionName": "a",
            "token": "00000000-0000-0000-0000-000000000000",
            "result": {"summary": seven_mb, "status": "Approved"}}),
        ),
    ] {
        let (status, text) = send(op, &body);
        assert_aws_error(
            status,
            text.as_bytes(),
            Some("ValidationException"),
            &format!("{op} with a multi-MB string"),
        );
    }
    // Unknown members are ignored, as AWS does, however large.
    let (status, text) = send("ListPipelines", &json!({"padding": seven_mb}));
    assert!(status < 500, "{status}: {}", shorten(&text, 300));
    check_reply(status, &text).unwrap();
    assert_still_serving(&server);
}

#[test]
fn bodies_over_the_limit_are_refused_with_413() {
    let server = Server::start_in_memory();
    let agent = agent();
    let limit = 8 * 1024 * 1024;
    for size in [limit + 1, limit + 1024 * 1024] {
        let body = format!("{{\"name\": \"{}\"}}", "a".repeat(size));
        let (status, text) = post(&agent, &server, "GetPipeline", body.as_bytes())
            .unwrap_or_else(|e| panic!("{size} bytes: {e}"));
        let reply: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(
            (status, reply["__type"].as_str()),
            (413, Some("RequestEntityTooLargeException")),
            "{size} bytes: {}",
            shorten(&text, 300)
        );
        assert!(reply["message"].is_string(), "{text}");
    }
    // Exactly at the limit is read (and then refused by validation, not by size).
    let pad = limit - "{\"name\": \"\"}".len();
    let body = format!("{{\"name\": \"{}\"}}", "a".repeat(pad));
    assert_eq!(body.len(), limit);
    // A fresh agent: the server closes a connection after a 413 without reading the rest of
    // the body, and a pooled one could be that closed connection.
    let (status, text) =
        post(&self::agent(), &server, "GetPipeline", body.as_bytes()).expect("at the limit");
    assert_aws_error(
        status,
        text.as_bytes(),
        Some("ValidationException"),
        "body at the limit",
    );
    assert_still_serving(&server);
}

#[test]
fn invalid_utf8_and_non_object_bodies_are_serialization_errors() {
    let server = Server::start_in_memory();
    let agent = agent();
    let bodies: Vec<(&str, Vec<u8>)> = vec![
        (
            "invalid bytes in a string",
            b"{\"name\": \"\xff\xfe\"}".to_vec(),
        ),
        (
            "a lone continuation byte",
            b"{\"name\": \"a\x80b\"}".to_vec(),
        ),
        ("an overlong encoding", b"{\"name\": \"\xc0\xaf\"}".to_vec()),
        (
            "an encoded surrogate",
            b"{\"name\": \"\xed\xa0\x80\"}".to_vec(),
        ),
        ("invalid bytes outside strings", b"{\xff: 1}".to_vec()),
        (
            "a truncated sequence at the end",
            b"{\"name\": \"\xe2\x82".to_vec(),
        ),
        (
            "a lone surrogate escape",
            b"{\"name\": \"\\ud800\"}".to_vec(),
        ),
        (
            "a UTF-16 body",
            "{\"name\": \"p\"}"
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect(),
        ),
        ("a byte order mark", b"\xef\xbb\xbf{}".to_vec()),
        ("a top-level array", b"[]".to_vec()),
        (
            "a top-level array of objects",
            b"[{\"name\": \"p\"}]".to_vec(),
        ),
        ("a top-level string", b"\"{}\"".to_vec()),
        ("a top-level number", b"42".to_vec()),
        ("a top-level float", b"-1.5e300".to_vec()),
        ("a top-level true", b"true".to_vec()),
        ("a top-level null", b"null".to_vec()),
        ("two objects", b"{}{}".to_vec()),
        ("trailing garbage", b"{} x".to_vec()),
        ("a trailing comma", b"{\"name\": \"p\",}".to_vec()),
        ("single quotes", b"{'name': 'p'}".to_vec()),
        ("a NUL byte", b"{\"name\": \"p\"}\x00".to_vec()),
        ("a number out of range", b"{\"maxResults\": 1e400}".to_vec()),
        ("NaN", b"{\"maxResults\": NaN}".to_vec()),
    ];
    for op in [
        "GetPipeline",
        "ListPipelines",
        "CreatePipeline",
        "PutJobSuccessResult",
    ] {
        for (what, body) in &bodies {
            let (status, text) =
                post(&agent, &server, op, body).unwrap_or_else(|e| panic!("{op} with {what}: {e}"));
            assert_aws_error(
                status,
                text.as_bytes(),
                Some("SerializationException"),
                &format!("{op} with {what}"),
            );
        }
    }
    // Well-formed but odd JSON is read as JSON: duplicate keys, escapes, NUL characters.
    for body in [
        &br#"{"name": "a", "name": "b"}"#[..],
        br#"{"name": "\u0000"}"#,
        br#"{"name": "\ud83d\ude00"}"#,
        b" \r\n\t{\"name\": \"p\"} \n",
    ] {
        let (status, text) = post(&agent, &server, "GetPipeline", body).expect("odd JSON");
        assert_aws_error(
            status,
            text.as_bytes(),
            None,
            &String::from_utf8_lossy(body),
        );
    }
    assert_still_serving(&server);
}

#[test]
fn wrong_content_types_get_aws_answers() {
    let server = Server::start_in_memory();
    let list = target("ListPipelines");
    // AWS JSON services take both JSON content types.
    for content_type in [JSON_11, "application/json"] {
        let request = raw_request(
            "POST",
            &[
                ("Content-Type", content_type.as_bytes()),
                ("X-Amz-Target", list.as_bytes()),
            ],
            b"{}",
        );
        let (status, body) = raw_exchange(&server, &request).expect(content_type);
        assert_eq!(
            status,
            200,
            "{content_type}: {}",
            String::from_utf8_lossy(&body)
        );
    }
    // Anything else, or none, is either served or refused as AWS refuses, never a bare status.
    for content_type in [
        None,
        Some(&b"text/plain"[..]),
        Some(b"application/x-amz-json-1.0"),
        Some(b"application/x-www-form-urlencoded"),
        Some(b"application/xml"),
        Some(b"multipart/form-data; boundary=x"),
        Some(b"application/x-amz-json-1.1; charset=latin1"),
        Some(b""),
        Some(b"\xff\xfe"),
    ] {
        let mut headers: Vec<(&str, &[u8])> = vec![("X-Amz-Target", list.as_bytes())];
        if let Some(c) = content_type {
            headers.push(("Content-Type", c));
        }
        let (status, body) = raw_exchange(&server, &raw_request("POST", &headers, b"{}"))
            .unwrap_or_else(|e| panic!("{content_type:?}: {e}"));
        let text = String::from_utf8_lossy(&body);
        if let Err(problem) = check_reply(status, &text) {
            panic!(
                "content type {:?}: {problem}",
                content_type.map(String::from_utf8_lossy)
            );
        }
    }
    assert_still_serving(&server);
}

#[test]
fn missing_and_unknown_targets_are_unknown_operations() {
    let server = Server::start_in_memory();
    let long = format!("{TARGET}.{}", "A".repeat(60_000));
    let targets: Vec<Option<&[u8]>> = vec![
        None,
        Some(b""),
        Some(b"CodePipeline_20150709"),
        Some(b"CodePipeline_20150709."),
        Some(b"CodePipeline_20150709.DoesNotExist"),
        Some(b"CodePipeline_20150709.getPipeline"),
        Some(b"CodePipeline_20150709.GetPipeline.Extra"),
        Some(b"CodePipeline_20150709..GetPipeline"),
        Some(b"CodePipeline_20990101.GetPipeline"),
        Some(b"codepipeline_20150709.GetPipeline"),
        Some(b"GetPipeline"),
        Some(b"CodePipeline_20150709.\xff\xfe"),
        Some(b"\xe2\x80\xae"),
        Some(long.as_bytes()),
    ];
    for t in targets {
        let mut headers: Vec<(&str, &[u8])> = vec![("Content-Type", JSON_11.as_bytes())];
        if let Some(t) = t {
            headers.push(("X-Amz-Target", t));
        }
        let shown = t.map(|t| shorten(&String::from_utf8_lossy(t), 80));
        let (status, body) = raw_exchange(
            &server,
            &raw_request("POST", &headers, b"{\"name\": \"p\"}"),
        )
        .unwrap_or_else(|e| panic!("target {shown:?}: {e}"));
        assert_aws_error(
            status,
            &body,
            Some("UnknownOperationException"),
            &format!("target {shown:?}"),
        );
    }
    // Two targets: whichever the server takes, the answer is an AWS one.
    let list = target("ListPipelines");
    let request = raw_request(
        "POST",
        &[
            ("X-Amz-Target", list.as_bytes()),
            ("X-Amz-Target", b"Nope.Nope"),
        ],
        b"{}",
    );
    let (status, body) = raw_exchange(&server, &request).expect("two targets");
    check_reply(status, &String::from_utf8_lossy(&body)).expect("two targets");
    assert_still_serving(&server);
}

#[test]
fn other_methods_on_the_protocol_path_get_aws_errors() {
    let server = Server::start_in_memory();
    let list = target("ListPipelines");
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let request = raw_request(
            method,
            &[
                ("Content-Type", JSON_11.as_bytes()),
                ("X-Amz-Target", list.as_bytes()),
            ],
            b"{}",
        );
        let (status, body) =
            raw_exchange(&server, &request).unwrap_or_else(|e| panic!("{method}: {e}"));
        // AWS's front end cannot route these to an operation and answers as for every JSON
        // service: 403 in XML, "Missing Authentication Token" when unsigned.
        assert_eq!(status, 403, "{method} /");
        let text = String::from_utf8_lossy(&body);
        assert_eq!(
            text,
            "<MissingAuthenticationTokenException>\n  <Message>Missing Authentication Token</Message>\n</MissingAuthenticationTokenException>\n",
            "{method} /"
        );
    }
    assert_still_serving(&server);
}

/// Requests broken below HTTP semantics are refused by the HTTP layer (no AWS body is possible
/// before there is a request) and do not disturb the server.
#[test]
fn broken_http_framing_does_not_disturb_the_server() {
    let server = Server::start_in_memory();
    let huge_header = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: {}\r\nX-Pad: {}\r\n\r\n",
        target("ListPipelines"),
        "p".repeat(1024 * 1024)
    );
    let many_headers = format!(
        "POST / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..500)
            .map(|i| format!("X-H{i}: v\r\n"))
            .collect::<String>()
    );
    let requests: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"GARBAGE\r\n\r\n".to_vec()),
        ("binary", vec![0u8, 255, 1, 254, 13, 10, 13, 10]),
        (
            "a bad version",
            b"POST / HTTP/9.9\r\nHost: x\r\n\r\n".to_vec(),
        ),
        (
            "two content lengths",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\n{}"
                .to_vec(),
        ),
        (
            "a negative content length",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n{}".to_vec(),
        ),
        (
            "a header without a colon",
            b"POST / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n".to_vec(),
        ),
        ("a header of 1 MB", huge_header.into_bytes()),
        ("500 headers", many_headers.into_bytes()),
    ];
    for (what, request) in requests {
        let mut stream = TcpStream::connect(addr(&server)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let _ = stream.write_all(&request);
        // End our side, so that nothing is left waiting for more bytes.
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut reply = Vec::new();
        let read = stream.read_to_end(&mut reply);
        if let Err(e) = &read {
            assert_ne!(
                e.kind(),
                ErrorKind::WouldBlock,
                "{what}: the server neither answered nor closed within 30 s"
            );
            assert_ne!(
                e.kind(),
                ErrorKind::TimedOut,
                "{what}: the server neither answered nor closed within 30 s"
            );
        }
        if !reply.is_empty() {
            let (status, body) = parse_reply(&reply).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert!(
                (400..500).contains(&status),
                "{what}: {status} {}",
                String::from_utf8_lossy(&body)
            );
        }
        assert_still_serving(&server);
    }
}

/// A body that ends before its `Content-Length`, or whose chunked framing is broken, is a
/// malformed request: whatever the answer, it is not "larger than the maximum".
#[test]
fn truncated_and_badly_chunked_bodies_are_not_called_too_large() {
    let server = Server::start_in_memory();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {JSON_11}\r\nX-Amz-Target: {}\r\n",
        target("ListPipelines")
    );
    for (what, request) in [
        (
            "a body shorter than its Content-Length",
            format!("{head}Content-Length: 100\r\n\r\n{{}}"),
        ),
        (
            "a chunked body that ends without its last chunk",
            format!("{head}Transfer-Encoding: chunked\r\n\r\n2\r\n{{}}\r\n"),
        ),
        (
            "a chunk size that is not hexadecimal",
            format!("{head}Transfer-Encoding: chunked\r\n\r\nzz\r\n{{}}\r\n0\r\n\r\n"),
        ),
    ] {
        let mut stream = TcpStream::connect(addr(&server)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        stream.write_all(request.as_bytes()).expect("write");
        // The client is gone: the server sees the body end here.
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut reply = Vec::new();
        let _ = stream.read_to_end(&mut reply);
        // Closing without a word is acceptable; an answer must be an AWS error of the client.
        if reply.is_empty() {
            continue;
        }
        let (status, body) = parse_reply(&reply).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_aws_error(status, &body, None, what);
        let reply: Value = serde_json::from_slice(&body).expect("json");
        assert_ne!(
            (status, reply["__type"].as_str()),
            (413, Some("RequestEntityTooLargeException")),
            "{what}: a body of a few bytes is not too large: {reply}"
        );
    }
    assert_still_serving(&server);
}

// ---------------------------------------------------------------------------------------------
// 4. Slow clients
// ---------------------------------------------------------------------------------------------

/// Reads until the server closes the connection; `Err` if it is still open at `deadline`.
fn wait_for_close(stream: &mut TcpStream, deadline: Instant) -> Result<Duration, String> {
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("still open".to_owned());
        }
        stream.set_read_timeout(Some(left)).expect("read timeout");
        match stream.read(&mut buf) {
            Ok(0) => return Ok(Duration::ZERO),
            // The server may say 408 before it closes.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err("still open".to_owned())
            }
            Err(_) => return Ok(Duration::ZERO),
        }
    }
}

#[test]
fn clients_that_stall_in_their_headers_are_cut_off() {
    let server = Server::start_with(&["--in-memory", "--header-read-timeout", "1s"]);
    let partial =
        format!("POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: {JSON_11}\r\nX-Amz-Tar");
    let started = Instant::now();
    let mut stalled: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(addr(&server)).expect("connect");
            s.write_all(partial.as_bytes()).expect("partial headers");
            s
        })
        .collect();

    // Meanwhile everyone else is served at once.
    let agent = agent();
    let (status, text) =
        post(&agent, &server, "ListPipelines", b"{}").expect("served while others stall");
    assert_eq!(status, 200, "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "a normal request waited {:?} behind stalled clients",
        started.elapsed()
    );

    // A client that is slow but completes its headers within the timeout is served.
    let mut slow = TcpStream::connect(addr(&server)).expect("connect");
    let list = target("ListPipelines");
    let request = raw_request(
        "POST",
        &[
            ("Content-Type", JSON_11.as_bytes()),
            ("X-Amz-Target", list.as_bytes()),
        ],
        b"{}",
    );
    let (first, rest) = request.split_at(20);
    slow.write_all(first).unwrap();
    std::thread::sleep(Duration::from_millis(300)); // pacing a slow client, not waiting for state
    slow.write_all(rest).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut reply = Vec::new();
    slow.read_to_end(&mut reply).expect("slow client's reply");
    assert_eq!(parse_reply(&reply).expect("reply").0, 200);

    // A client that stalls in the middle of its body is not waited for forever either.
    let body_started = Instant::now();
    let mut stalled_body = TcpStream::connect(addr(&server)).expect("connect");
    let partial_body = format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: {JSON_11}\r\nX-Amz-Target: {list}\r\nContent-Length: 100\r\n\r\n{{\"na"
    );
    stalled_body
        .write_all(partial_body.as_bytes())
        .expect("partial body");

    // Every stalled connection is closed by the server: 1 s timeout, 5 s of slack.
    let deadline = started + Duration::from_secs(6);
    for (i, s) in stalled.iter_mut().enumerate() {
        if let Err(e) = wait_for_close(s, deadline) {
            panic!(
                "stalled connection {i}: {e} {:?} after it stopped sending",
                started.elapsed()
            );
        }
    }
    stalled_body
        .set_read_timeout(Some(Duration::from_secs(6)))
        .unwrap();
    let mut reply = Vec::new();
    match stalled_body.read_to_end(&mut reply) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => panic!(
            "a client stalled in its body still had its connection {:?} later",
            body_started.elapsed()
        ),
        _ => {}
    }
    // The server may answer before it closes; if so, as AWS does.
    if !reply.is_empty() {
        let (status, body) = parse_reply(&reply).expect("reply");
        assert_aws_error(status, &body, None, "a client stalled in its body");
    }
    assert_still_serving(&server);
}

// ---------------------------------------------------------------------------------------------
// 5. Many connections at once
// ---------------------------------------------------------------------------------------------

#[test]
fn hundreds_of_simultaneous_connections_are_all_served() {
    let server = Server::start_in_memory();
    let connections = 300;
    let addr = addr(&server);
    let list = target("ListPipelines");
    let request = Arc::new(raw_request(
        "POST",
        &[
            ("Content-Type", JSON_11.as_bytes()),
            ("X-Amz-Target", list.as_bytes()),
        ],
        b"{}",
    ));
    // Everyone connects first and sends together, so all connections are open at once.
    let barrier = Arc::new(Barrier::new(connections));
    let threads: Vec<_> = (0..connections)
        .map(|i| {
            let (addr, request, barrier) = (addr.clone(), request.clone(), barrier.clone());
            std::thread::Builder::new()
                .stack_size(256 * 1024)
                .spawn(move || -> Result<u16, String> {
                    let stream = TcpStream::connect(&addr);
                    // No early return before the barrier: the others would wait forever.
                    barrier.wait();
                    let mut stream = stream.map_err(|e| format!("connection {i}: connect: {e}"))?;
                    stream
                        .set_read_timeout(Some(Duration::from_secs(60)))
                        .unwrap();
                    stream
                        .write_all(&request)
                        .map_err(|e| format!("connection {i}: write: {e}"))?;
                    let mut reply = Vec::new();
                    stream
                        .read_to_end(&mut reply)
                        .map_err(|e| format!("connection {i}: read: {e}"))?;
                    let (status, body) = parse_reply(&reply)?;
                    let text = String::from_utf8_lossy(&body);
                    check_reply(status, &text).map_err(|p| format!("connection {i}: {p}"))?;
                    Ok(status)
                })
                .expect("spawn")
        })
        .collect();
    let mut problems = Vec::new();
    for t in threads {
        match t.join().expect("thread") {
            Ok(200) => {}
            Ok(status) => problems.push(format!("status {status}")),
            Err(e) => problems.push(e),
        }
    }
    assert!(
        problems.is_empty(),
        "{} of {connections} failed:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert_still_serving(&server);
}
