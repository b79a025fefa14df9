//! What the server says about itself: one structured log line per request (request id,
//! operation, account, status, latency), engine events at info level (execution, stage and
//! action started and finished), and `RUST_LOG` choosing what is written.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::common::two_stage;

/// Runs the server with `RUST_LOG=rust_log` and JSON logs, lets `work` call it, stops it with
/// SIGTERM and returns the log lines.
fn logs_of(rust_log: &str, work: impl FnOnce(&str)) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_codepipeline-local"))
        .args([
            "--in-memory",
            "--port",
            "0",
            "--action-duration",
            "0s",
            "--log-format",
            "json",
        ])
        .env("RUST_LOG", rust_log)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start codepipeline-local");
    let mut ready = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut ready)
        .expect("ready line");
    let url = ready
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("the ready line names the URL")
        .to_owned();
    let stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    work(&url);
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
    reader
        .join()
        .expect("stderr reader")
        .iter()
        .map(|line| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"))
        })
        .collect()
}

fn call(url: &str, operation: &str, body: Value, access_key: &str) -> (u16, Value) {
    let request = ureq::post(&format!("{url}/"))
        .set("content-type", "application/x-amz-json-1.1")
        .set("x-amz-target", &format!("CodePipeline_20150709.{operation}"))
        .set(
            "authorization",
            &format!("AWS4-HMAC-SHA256 Credential={access_key}/20260101/eu-west-1/codepipeline/aws4_request, SignedHeaders=host, Signature=0"),
        );
    let response = match request.send_string(&body.to_string()) {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{operation}: {e}"),
    };
    (
        response.status(),
        response.into_json().unwrap_or(Value::Null),
    )
}

fn messages(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .filter_map(|l| l["fields"]["message"].as_str())
        .collect()
}

#[test]
fn every_request_is_one_line_and_every_engine_step_is_an_event() {
    let mut execution = String::new();
    let lines = logs_of("info", |url| {
        let (status, reply) = call(
            url,
            "CreatePipeline",
            json!({"pipeline": crate::common::fixture_json("pipelines/s3-build-deploy.json")["pipeline"]}),
            "123456789012",
        );
        assert_eq!(status, 200, "{reply}");
        let (status, reply) = call(
            url,
            "GetPipeline",
            json!({"name": "missing"}),
            "123456789012",
        );
        assert_eq!(status, 400, "{reply}");
        crate::common::poll("the first execution to finish", || {
            let (_, list) = call(
                url,
                "ListPipelineExecutions",
                json!({"pipelineName": "my-pipeline"}),
                "123456789012",
            );
            let first = &list["pipelineExecutionSummaries"][0];
            (first["status"] == "Succeeded").then(|| {
                execution = first["pipelineExecutionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
            })
        });
    });

    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["fields"]["message"] == "request")
        .collect();
    let create = requests
        .iter()
        .find(|l| l["fields"]["operation"] == "CreatePipeline")
        .expect("a line for CreatePipeline");
    let fields = &create["fields"];
    assert_eq!(fields["account"], "123456789012");
    assert_eq!(fields["region"], "eu-west-1");
    assert_eq!(fields["status"], 200);
    assert!(fields["latency_us"].is_u64(), "{create}");
    assert_eq!(
        fields["request_id"].as_str().map(str::len),
        Some(36),
        "{create}"
    );
    assert_eq!(create["level"], "INFO");
    let missing = requests
        .iter()
        .find(|l| l["fields"]["operation"] == "GetPipeline")
        .expect("a line for GetPipeline");
    assert_eq!(missing["fields"]["status"], 400);
    let ids: std::collections::HashSet<&str> = requests
        .iter()
        .filter_map(|l| l["fields"]["request_id"].as_str())
        .collect();
    assert_eq!(
        ids.len(),
        requests.len(),
        "one line per request, each its own id"
    );

    let events: Vec<String> = lines
        .iter()
        .filter(|l| l["fields"]["execution"] == execution.as_str())
        .map(|l| {
            let f = &l["fields"];
            let place = [f["stage"].as_str(), f["action"].as_str()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("/");
            format!(
                "{} {place} {}",
                f["message"].as_str().unwrap_or_default(),
                f["status"].as_str().unwrap_or_default()
            )
            .trim()
            .replace("  ", " ")
        })
        .collect();
    let expected: Vec<String> = [
        "execution started",
        "stage started Source",
        "action started Source/Source",
        "action finished Source/Source Succeeded",
        "stage finished Source Succeeded",
        "stage started Build",
        "action started Build/Build",
        "action finished Build/Build Succeeded",
        "stage finished Build Succeeded",
        "stage started Deploy",
        "action started Deploy/Deploy",
        "action finished Deploy/Deploy Succeeded",
        "stage finished Deploy Succeeded",
        "execution finished Succeeded",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(events, expected);
    assert!(lines
        .iter()
        .filter(|l| l["fields"]["execution"] == execution.as_str())
        .all(|l| l["level"] == "INFO" && l["fields"]["pipeline"] == "my-pipeline"));
}

#[test]
fn rust_log_chooses_what_is_written() {
    let lines = logs_of("warn", |url| {
        let (status, _) = call(url, "ListPipelines", json!({}), "test");
        assert_eq!(status, 200);
        let (status, _) = call(
            url,
            "CreatePipeline",
            json!({"pipeline": two_stage("quiet")}),
            "test",
        );
        assert_eq!(status, 200);
    });
    assert!(
        messages(&lines).is_empty(),
        "nothing at info is written under RUST_LOG=warn: {lines:?}"
    );

    let lines = logs_of("codepipeline_local::wire=info", |url| {
        let (status, _) = call(
            url,
            "CreatePipeline",
            json!({"pipeline": two_stage("only-requests")}),
            "test",
        );
        assert_eq!(status, 200);
    });
    let said = messages(&lines);
    assert!(said.contains(&"request"), "{said:?}");
    assert!(!said.contains(&"execution started"), "{said:?}");
}
