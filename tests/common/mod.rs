//! Test harness shared by the integration test binaries: starts the real `codepipeline-local`
//! binary on a free port with its own data folder, and talks to it with the aws CLI, the AWS SDK
//! for Rust, or hand-made requests. Waits poll with a deadline; nothing sleeps to synchronise.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

pub mod sdk_build;

pub const ACCOUNT: &str = "000000000000";

pub struct Server {
    child: Option<Child>,
    /// An in-process server's runtime: dropping it stops the server.
    runtime: Option<tokio::runtime::Runtime>,
    pub url: String,
    /// The control token the ready line's console URL carries, when the server requires one.
    pub token: Option<String>,
    pub data_dir: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

/// What the aws CLI did: exit status, parsed stdout, and for failures the AWS error code and message.
#[derive(Debug)]
pub struct Cli {
    pub ok: bool,
    pub json: Value,
    pub stdout: String,
    pub stderr: String,
}

impl Cli {
    /// `(code, message)` parsed from "An error occurred (CODE) when calling the OP operation: MESSAGE".
    pub fn error(&self) -> (String, String) {
        let s = self.stderr.trim();
        let code = s
            .split_once('(')
            .and_then(|(_, r)| r.split_once(')'))
            .map(|(c, _)| c.to_owned())
            .unwrap_or_default();
        let message = s
            .split_once(" operation: ")
            .map(|(_, m)| m.trim().to_owned())
            .unwrap_or_default();
        (code, message)
    }
}

impl Server {
    /// A server with a fresh data folder of its own.
    pub fn start() -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut s = Server::start_in(temp.path());
        s._temp = Some(temp);
        s
    }

    /// A server on an existing data folder (for restart tests).
    pub fn start_in(dir: &Path) -> Server {
        Server::spawn(
            &["--data-dir", dir.to_str().expect("utf-8 path")],
            dir.to_path_buf(),
        )
    }

    pub fn start_in_memory() -> Server {
        Server::spawn(&["--in-memory"], PathBuf::new())
    }

    fn spawn(extra: &[&str], data_dir: PathBuf) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_codepipeline-local"))
            .args(["--port", "0", "--check-replies"])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start codepipeline-local");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(line)) = lines.next() {
                let _ = tx.send(line);
            }
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("server printed no ready line within 20 s");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in ready line: {line}"))
            .to_owned();
        let token = line
            .split_once("?token=")
            .map(|(_, rest)| rest.trim_end_matches(')').to_owned());
        Server {
            child: Some(child),
            runtime: None,
            url,
            token,
            data_dir,
            _temp: None,
        }
    }

    /// Kills the process with SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and returns the exit code.
    pub fn terminate(&mut self) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        c.wait().ok().and_then(|s| s.code())
    }

    /// Runs `aws codepipeline ARGS...` against this server as account `ACCOUNT` in `us-east-1`.
    pub fn aws(&self, args: &[&str]) -> Cli {
        self.aws_as("test", "us-east-1", args)
    }

    pub fn aws_as(&self, access_key: &str, region: &str, args: &[&str]) -> Cli {
        self.aws_signed(access_key, "test", region, args)
    }

    /// `aws codepipeline ARGS...` signed with this key pair.
    pub fn aws_signed(&self, access_key: &str, secret: &str, region: &str, args: &[&str]) -> Cli {
        self.aws_service("codepipeline", access_key, secret, region, args)
    }

    /// `aws SERVICE ARGS...` (`codebuild`, `events`, `logs`, ...) as the default account.
    pub fn aws_of(&self, service: &str, args: &[&str]) -> Cli {
        self.aws_service(service, "test", "test", "us-east-1", args)
    }

    pub fn aws_service(
        &self,
        service: &str,
        access_key: &str,
        secret: &str,
        region: &str,
        args: &[&str],
    ) -> Cli {
        let out = Command::new("aws")
            .args([
                "--endpoint-url",
                &self.url,
                "--region",
                region,
                "--output",
                "json",
                service,
            ])
            .args(args)
            .env("AWS_ACCESS_KEY_ID", access_key)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env_remove("AWS_SESSION_TOKEN")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env("AWS_MAX_ATTEMPTS", "1")
            .env("AWS_PAGER", "")
            .env_remove("AWS_PROFILE")
            .output()
            .expect("the aws CLI must be installed (tests/run-all.sh installs it)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        Cli {
            ok: out.status.success(),
            json: serde_json::from_str(&stdout).unwrap_or(Value::Null),
            stdout: stdout.clone().into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// A hand-made awsJson request: `(status, body, x-amzn-RequestId)`.
    pub fn call_raw(
        &self,
        target: Option<&str>,
        body: &[u8],
        auth: Option<&str>,
    ) -> (u16, Value, Option<String>) {
        let mut req =
            ureq::post(&format!("{}/", self.url)).set("content-type", "application/x-amz-json-1.1");
        if let Some(t) = target {
            req = req.set("x-amz-target", t);
        }
        if let Some(a) = auth {
            req = req.set("authorization", a);
        }
        let resp = match req.send_bytes(body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = resp.status();
        let request_id = resp.header("x-amzn-requestid").map(str::to_owned);
        let text = resp.into_string().unwrap_or_default();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::Null),
            request_id,
        )
    }

    /// Calls `operation` with a JSON body: `(status, body)`.
    pub fn call(&self, operation: &str, body: Value) -> (u16, Value) {
        let (status, value, _) = self.call_raw(
            Some(&format!("CodePipeline_20150709.{operation}")),
            body.to_string().as_bytes(),
            None,
        );
        (status, value)
    }

    /// A control-plane request, carrying the control token when the server requires one.
    pub fn local(&self, method: &str, path: &str) -> ureq::Request {
        let request = ureq::request(method, &format!("{}{path}", self.url));
        match &self.token {
            Some(t) => request.set("x-codepipeline-local-token", t),
            None => request,
        }
    }

    pub fn get_json(&self, path: &str) -> Value {
        self.local("GET", path)
            .call()
            .expect("GET")
            .into_json()
            .expect("json")
    }

    pub fn post_json(&self, path: &str) -> Value {
        self.local("POST", path)
            .call()
            .expect("POST")
            .into_json()
            .expect("json")
    }

    /// An AWS SDK for Rust client for this server, as account `ACCOUNT` in `us-east-1`.
    pub fn sdk(&self) -> aws_sdk_codepipeline::Client {
        self.sdk_as("test", "us-east-1")
    }

    pub fn sdk_as(&self, access_key: &str, region: &str) -> aws_sdk_codepipeline::Client {
        self.sdk_signed(access_key, "test", None, region)
    }

    /// An SDK client signing with this key pair (and session token).
    pub fn sdk_signed(
        &self,
        access_key: &str,
        secret: &str,
        session_token: Option<&str>,
        region: &str,
    ) -> aws_sdk_codepipeline::Client {
        let config = aws_sdk_codepipeline::Config::builder()
            .behavior_version(aws_sdk_codepipeline::config::BehaviorVersion::latest())
            .endpoint_url(&self.url)
            .region(aws_sdk_codepipeline::config::Region::new(region.to_owned()))
            .credentials_provider(aws_sdk_codepipeline::config::Credentials::new(
                access_key,
                secret,
                session_token.map(str::to_owned),
                None,
                "tests",
            ))
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .retry_config(aws_sdk_codepipeline::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_codepipeline::Client::from_conf(config)
    }
}

impl Server {
    /// The server inside this test process, through the library's `app()`, in memory: no binary
    /// to start, for tests that need neither a process of their own nor a restart. `flags` are
    /// the binary's.
    pub fn in_process(flags: &[&str]) -> Server {
        use clap::Parser;
        let mut args = vec!["codepipeline-local", "--in-memory", "--check-replies"];
        args.extend_from_slice(flags);
        let config = codepipeline_local::Config::try_parse_from(args).expect("flags");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let url = runtime.block_on(async {
            let state = codepipeline_local::AppState::open(&config).expect("state");
            state.start_background().expect("engine");
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let url = format!("http://{}", listener.local_addr().expect("addr"));
            tokio::spawn(codepipeline_local::wire::serve::serve(
                listener,
                codepipeline_local::app(state),
                config.header_read_timeout,
                std::future::pending(),
            ));
            url
        });
        Server {
            child: None,
            runtime: Some(runtime),
            url,
            token: None,
            data_dir: PathBuf::new(),
            _temp: None,
        }
    }

    /// A server whose stub actions finish at once, for tests that follow whole runs.
    pub fn fast() -> Server {
        Server::start_with(&["--action-duration", "0s"])
    }

    /// `aws codepipeline ARGS...`, which must succeed: its JSON output.
    pub fn aws_ok(&self, args: &[&str]) -> Value {
        let out = self.aws(args);
        assert!(
            out.ok,
            "aws codepipeline {} failed: {}",
            args.join(" "),
            out.stderr
        );
        out.json
    }

    /// A server with a fresh data folder and extra flags, e.g. `&["--action-duration", "0s"]`.
    pub fn start_with(flags: &[&str]) -> Server {
        let temp = tempfile::tempdir().expect("temp dir");
        let mut args = vec!["--data-dir", temp.path().to_str().expect("utf-8 path")];
        args.extend_from_slice(flags);
        let mut s = Server::spawn(&args, temp.path().to_path_buf());
        s._temp = Some(temp);
        s
    }

    /// A server on an existing data folder with extra flags (restart tests with durations).
    pub fn start_in_with(dir: &Path, flags: &[&str]) -> Server {
        let mut args = vec!["--data-dir", dir.to_str().expect("utf-8 path")];
        args.extend_from_slice(flags);
        Server::spawn(&args, dir.to_path_buf())
    }

    /// POSTs a JSON body to a control endpoint (`/_local/faults`, `/_local/clock`, `/_local/config`).
    pub fn control(&self, path: &str, body: Value) -> Value {
        match self.local("POST", path).send_json(body) {
            Ok(r) => r.into_json().expect("json"),
            Err(ureq::Error::Status(_, r)) => r.into_json().expect("json"),
            Err(e) => panic!("control request failed: {e}"),
        }
    }

    /// Polls `GetPipelineExecution` until the execution reaches `status`, or panics after 20 s.
    pub fn wait_for_execution(&self, pipeline: &str, id: &str, status: &str) -> Value {
        poll(&format!("execution {id} to be {status}"), || {
            let body = serde_json::json!({"pipelineName": pipeline, "pipelineExecutionId": id});
            let (_, reply) = self.call("GetPipelineExecution", body);
            (reply["pipelineExecution"]["status"] == status)
                .then(|| reply["pipelineExecution"].clone())
        })
    }

    /// CreatePipeline with `declaration`, which must succeed: the reply.
    pub fn create_pipeline(&self, declaration: &Value) -> Value {
        let (status, reply) = self.call(
            "CreatePipeline",
            serde_json::json!({ "pipeline": declaration }),
        );
        assert_eq!(status, 200, "CreatePipeline: {reply}");
        reply
    }

    /// `aws codepipeline list-pipeline-executions`: the summaries, newest first.
    pub fn execution_summaries(&self, pipeline: &str) -> Vec<Value> {
        self.aws_ok(&["list-pipeline-executions", "--pipeline-name", pipeline])
            ["pipelineExecutionSummaries"]
            .as_array()
            .expect("pipelineExecutionSummaries")
            .clone()
    }

    /// `aws codepipeline list-action-executions` of one execution: its details.
    pub fn action_executions(&self, pipeline: &str, id: &str) -> Vec<Value> {
        let filter = format!("pipelineExecutionId={id}");
        self.aws_ok(&[
            "list-action-executions",
            "--pipeline-name",
            pipeline,
            "--filter",
            &filter,
        ])["actionExecutionDetails"]
            .as_array()
            .expect("actionExecutionDetails")
            .clone()
    }

    /// The names of the first page of `ListPipelines`, in the default account.
    pub fn pipeline_names(&self) -> Vec<String> {
        let (_, listed) = self.call("ListPipelines", serde_json::json!({}));
        listed["pipelines"]
            .as_array()
            .expect("pipelines")
            .iter()
            .filter_map(|p| p["name"].as_str().map(str::to_owned))
            .collect()
    }

    /// `latestExecution` of a stage in `GetPipelineState` (null when it never ran).
    pub fn stage_latest(&self, pipeline: &str, stage: &str) -> Value {
        let (_, state) = self.call("GetPipelineState", serde_json::json!({"name": pipeline}));
        state["stageStates"]
            .as_array()
            .and_then(|stages| stages.iter().find(|s| s["stageName"] == stage))
            .map(|s| s["latestExecution"].clone())
            .unwrap_or(Value::Null)
    }

    /// The id of the newest execution of `pipeline` (polls until there is one).
    pub fn latest_execution(&self, pipeline: &str) -> String {
        poll("an execution to exist", || {
            let (_, reply) = self.call(
                "ListPipelineExecutions",
                serde_json::json!({"pipelineName": pipeline}),
            );
            reply["pipelineExecutionSummaries"][0]["pipelineExecutionId"]
                .as_str()
                .map(str::to_owned)
        })
    }
}

impl Server {
    /// Runs a Python `script` with boto3 against this server; `client(name)` makes a client of
    /// service `name` for it. Returns what the script printed.
    pub fn boto3(&self, script: &str) -> String {
        let prelude = format!(
            "import boto3, botocore, json\n\
             def client(name):\n    return boto3.client(name, endpoint_url='{}', region_name='us-east-1', aws_access_key_id='test', aws_secret_access_key='test')\n",
            self.url
        );
        let out = std::process::Command::new("python3")
            .args(["-c", &format!("{prelude}{script}")])
            .output()
            .expect("python3 with boto3 (scripts/test-all installs it)");
        assert!(
            out.status.success(),
            "boto3 script failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Calls `check` until it returns `Some`, for at most 20 s; panics naming `what` otherwise.
/// Waits are polls with a deadline, never fixed sleeps standing in for synchronisation.
pub fn poll<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out after 20 s waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The fixture file's path, for `--cli-input-json file://...`.
pub fn fixture(name: &str) -> String {
    format!("{}/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The lab app (`fixtures/labs/nodejs-app`) zipped, with `replace` swapping one file's text.
pub fn lab_zip(replace: Option<(&str, &str)>) -> Vec<u8> {
    use std::io::Write as _;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/labs/nodejs-app");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let mut names: Vec<_> = std::fs::read_dir(&root)
        .expect("the lab fixture")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        let mut text = std::fs::read_to_string(root.join(&name)).expect("read");
        if let Some((file, new)) = replace {
            if file == name {
                text = new.to_owned();
            }
        }
        zip.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("entry");
        zip.write_all(text.as_bytes()).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

pub fn fixture_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture");
    serde_json::from_str(&text).expect("fixture json")
}

/// Writes `value` to a temp file and returns `file://PATH` for `--cli-input-json`.
pub fn json_arg(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).expect("write json");
    format!("file://{}", path.display())
}

/// A minimal valid two-stage pipeline declaration named `name`.
pub fn two_stage(name: &str) -> Value {
    serde_json::json!({
        "name": name,
        "roleArn": "arn:aws:iam::123456789012:role/service-role",
        "artifactStore": {"type": "S3", "location": "artifact-bucket"},
        "stages": [
            {"name": "Source", "actions": [{"name": "Source",
                "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
                "outputArtifacts": [{"name": "Src"}],
                "configuration": {"S3Bucket": "b", "S3ObjectKey": "k.zip"}}]},
            {"name": "Approve", "actions": [{"name": "Approve",
                "actionTypeId": {"category": "Approval", "owner": "AWS", "provider": "Manual", "version": "1"}}]}
        ]
    })
}

/// The detail of `action` among action execution details.
pub fn action_detail(details: &[Value], action: &str) -> Value {
    details
        .iter()
        .find(|d| d["actionName"] == action)
        .unwrap_or_else(|| panic!("no action execution of {action} in {details:#?}"))
        .clone()
}

/// A stage `Source` holding a GitHub (version 1) source action `Source` on `me/app`, branch
/// `main`, that does not poll, with output artifact `Src`.
pub fn github_v1_source_stage() -> Value {
    serde_json::json!({"name": "Source", "actions": [{"name": "Source",
        "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"},
        "outputArtifacts": [{"name": "Src"}],
        "configuration": {"Owner": "me", "Repo": "app", "Branch": "main",
                          "OAuthToken": "ghp_not_a_real_token", "PollForSourceChanges": "false"}}]})
}

/// Every member of a documented output (an aws CLI example) is in `got`, with the same JSON
/// kind, recursively: object members by name, list items by position. `got` may carry more
/// members. Lists every difference at once.
pub fn assert_shape(documented: &Value, got: &Value, path: &str) {
    let mut problems = Vec::new();
    shape_differences(documented, got, path, &mut problems);
    assert!(
        problems.is_empty(),
        "reply differs from the documented output:\n  {}\nreply: {got:#}",
        problems.join("\n  ")
    );
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}

fn shape_differences(documented: &Value, got: &Value, path: &str, problems: &mut Vec<String>) {
    match (documented, got) {
        (Value::Object(doc), Value::Object(have)) => {
            for (key, doc_value) in doc {
                match have.get(key) {
                    Some(v) => shape_differences(doc_value, v, &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key} is missing")),
                }
            }
        }
        (Value::Array(doc), Value::Array(have)) => {
            if have.len() < doc.len() {
                problems.push(format!(
                    "{path}: documented {} items, got {}",
                    doc.len(),
                    have.len()
                ));
            }
            for (i, (d, h)) in doc.iter().zip(have).enumerate() {
                shape_differences(d, h, &format!("{path}[{i}]"), problems);
            }
        }
        _ if json_kind(documented) != json_kind(got) => problems.push(format!(
            "{path}: documented a {} ({documented}), got {got}",
            json_kind(documented)
        )),
        _ => {}
    }
}
