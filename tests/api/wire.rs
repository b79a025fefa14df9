//! The awsJson1.1 wire as AWS speaks it: routing of every model operation, protocol errors
//! (unknown target, malformed JSON, wrong member types, oversized bodies), AWS's validation
//! message format, request ids, account and region from the signature, and the control plane.

use crate::common::*;
use serde_json::{json, Value};

const TARGET: &str = "CodePipeline_20150709";

fn model_operations() -> Vec<String> {
    let text = std::fs::read_to_string(format!(
        "{}/model/codepipeline-2015-07-09.json",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("model");
    let model: Value = serde_json::from_str(&text).expect("model json");
    model["operations"]
        .as_object()
        .expect("operations")
        .keys()
        .cloned()
        .collect()
}

#[test]
fn every_model_operation_is_routed() {
    let server = Server::start_in_memory();
    let ops = model_operations();
    assert_eq!(ops.len(), 44);
    let health = server.get_json("/_local/health");
    let implemented: Vec<String> =
        serde_json::from_value(health["operations"]["implemented"].clone()).unwrap();
    for op in &ops {
        let (status, body, request_id) =
            server.call_raw(Some(&format!("{TARGET}.{op}")), b"{}", None);
        assert!(request_id.is_some(), "{op}: no request id");
        let code = body["__type"].as_str().unwrap_or_default();
        assert_ne!(code, "UnknownOperationException", "{op} is not routed");
        assert_ne!(status, 404, "{op}");
        assert_ne!(status, 500, "{op}: {body}");
        if implemented.contains(op) {
            assert_ne!(
                code, "NotImplementedException",
                "{op} is listed as implemented"
            );
        } else {
            // Validation runs first, so send a body that passes it when the answer is not ValidationException.
            if code != "ValidationException" {
                assert_eq!(
                    (status, code),
                    (501, "NotImplementedException"),
                    "{op}: {body}"
                );
                assert!(body["message"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(op.as_str()));
            }
        }
    }
}

/// The five awsJson models on one endpoint: every operation of each reaches its service, by
/// the target prefix its model names; none is `UnknownOperationException`.
#[test]
fn every_operation_of_every_model_reaches_its_service() {
    let server = Server::start_in_memory();
    let health = server.get_json("/_local/health");
    for (file, service) in [
        ("codepipeline-2015-07-09", "codepipeline"),
        ("codebuild-2016-10-06", "codebuild"),
        ("codecommit-2015-04-13", "codecommit"),
        ("events-2015-10-07", "events"),
        ("logs-2014-03-28", "logs"),
    ] {
        let text =
            std::fs::read_to_string(format!("{}/model/{file}.json", env!("CARGO_MANIFEST_DIR")))
                .expect("model");
        let model: Value = serde_json::from_str(&text).expect("model json");
        let prefix = model["metadata"]["targetPrefix"].as_str().expect("prefix");
        let listed = &health["services"][service];
        let ops = model["operations"].as_object().expect("operations");
        let listed_count = listed["implemented"].as_array().map_or(0, Vec::len)
            + listed["notImplemented"].as_array().map_or(0, Vec::len);
        assert_eq!(
            listed_count,
            ops.len(),
            "health lists {service}'s operations"
        );
        for op in ops.keys() {
            let (status, body, _) = server.call_raw(Some(&format!("{prefix}.{op}")), b"{}", None);
            let code = body["__type"].as_str().unwrap_or_default();
            assert_ne!(code, "UnknownOperationException", "{service} {op}");
            assert!(
                status != 404 && status != 500,
                "{service} {op}: {status} {body}"
            );
            if code == "NotImplementedException" {
                let message = body["message"].as_str().unwrap_or_default();
                assert!(
                    message.contains(service) && message.contains(op.as_str()),
                    "{message}"
                );
            }
        }
    }
}

/// The companion services answer their own CLI: a clear error naming service and operation
/// (or, once implemented, a reply), and the model's validation for a malformed request.
#[test]
fn companion_services_answer_their_own_cli() {
    let server = Server::start_in_memory();
    for (service, command) in [
        ("codebuild", "list-projects"),
        ("events", "list-rules"),
        ("logs", "describe-log-groups"),
        ("codecommit", "list-repositories"),
    ] {
        let out = server.aws_of(service, &[command]);
        if !out.ok {
            let (code, message) = out.error();
            assert_eq!(
                code, "NotImplementedException",
                "{service} {command}: {}",
                out.stderr
            );
            assert!(message.contains(service), "{message}");
        }
    }
    let (status, body, _) =
        server.call_raw(Some("CodeBuild_20161006.BatchGetProjects"), b"{}", None);
    assert_eq!(status, 400);
    assert_eq!(body["__type"], "ValidationException");
    assert_eq!(
        body["message"],
        "1 validation error detected: Value null at 'names' failed to satisfy constraint: Member must not be null"
    );
    let (_, body, _) = server.call_raw(
        Some("Logs_20140328.CreateLogGroup"),
        br#"{"logGroupName": 5}"#,
        None,
    );
    assert_eq!(body["__type"], "SerializationException");
}

#[test]
fn unknown_and_missing_targets() {
    let server = Server::start_in_memory();
    let (status, body, _) = server.call_raw(Some(&format!("{TARGET}.DoesNotExist")), b"{}", None);
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (status, body, _) = server.call_raw(None, b"{}", None);
    assert_eq!(
        (status, body["__type"].as_str()),
        (400, Some("UnknownOperationException"))
    );
    let (_, body, _) = server.call_raw(Some("OtherService_20200101.GetPipeline"), b"{}", None);
    assert_eq!(body["__type"], "UnknownOperationException");
}

#[test]
fn malformed_bodies_are_serialization_errors() {
    let server = Server::start_in_memory();
    let target = format!("{TARGET}.GetPipeline");
    for body in [
        &b"{not json"[..],
        b"[]",
        b"\"text\"",
        b"{\"name\": 5}",
        b"{\"name\": [\"p\"]}",
        b"\xff\xfe{}",
    ] {
        let (status, reply, request_id) = server.call_raw(Some(&target), body, None);
        assert_eq!(status, 400, "{body:?}");
        assert_eq!(
            reply["__type"], "SerializationException",
            "{body:?}: {reply}"
        );
        assert!(request_id.is_some());
    }
    let (_, reply) = server.call("ListPipelines", json!({"maxResults": "10"}));
    assert_eq!(reply["__type"], "SerializationException");
    // Nesting deeper than any shape allows is refused, and the server keeps serving.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let (status, reply, _) = server.call_raw(
        Some(&target),
        format!("{{\"name\": {deep}}}").as_bytes(),
        None,
    );
    assert_eq!(
        (status, reply["__type"].as_str()),
        (400, Some("SerializationException"))
    );
    let (status, _) = server.call("ListPipelines", json!({}));
    assert_eq!(status, 200);
}

#[test]
fn validation_errors_use_aws_format() {
    let server = Server::start_in_memory();
    let (status, reply) = server.call("GetPipeline", json!({}));
    assert_eq!(status, 400);
    assert_eq!(reply["__type"], "ValidationException");
    assert_eq!(
        reply["message"],
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );
    let (_, reply) = server.call("ListPipelines", json!({"maxResults": 0, "nextToken": ""}));
    assert_eq!(
        reply["message"],
        "2 validation errors detected: Value '' at 'nextToken' failed to satisfy constraint: Member must have length \
         greater than or equal to 1; Value '0' at 'maxResults' failed to satisfy constraint: Member must have value \
         greater than or equal to 1"
    );
}

#[test]
fn oversized_bodies_are_refused() {
    let server = Server::start_in_memory();
    let big = format!("{{\"name\": \"{}\"}}", "a".repeat(9 * 1024 * 1024));
    let (status, reply, request_id) =
        server.call_raw(Some(&format!("{TARGET}.GetPipeline")), big.as_bytes(), None);
    assert_eq!(status, 413);
    assert_eq!(reply["__type"], "RequestEntityTooLargeException");
    assert!(request_id.is_some());
    // A multi-MB value under the limit is a validation error, not a crash.
    let long = format!("{{\"name\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let (status, reply, _) = server.call_raw(
        Some(&format!("{TARGET}.GetPipeline")),
        long.as_bytes(),
        None,
    );
    assert_eq!(
        (status, reply["__type"].as_str()),
        (400, Some("ValidationException"))
    );
}

#[test]
fn replies_carry_request_id_and_content_type() {
    let server = Server::start_in_memory();
    let resp = ureq::post(&format!("{}/", server.url))
        .set("x-amz-target", &format!("{TARGET}.ListPipelines"))
        .set("content-type", "application/x-amz-json-1.1")
        .send_string("{}")
        .expect("list");
    assert_eq!(
        resp.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
    let id = resp
        .header("x-amzn-requestid")
        .expect("request id")
        .to_owned();
    assert_eq!(id.len(), 36);
}

#[test]
fn account_and_region_come_from_the_signature() {
    let server = Server::start_in_memory();
    let auth = |key: &str, region: &str| {
        format!("AWS4-HMAC-SHA256 Credential={key}/20260101/{region}/codepipeline/aws4_request, SignedHeaders=host, Signature=0")
    };
    let body = json!({"pipeline": two_stage("scoped")}).to_string();
    let create = format!("{TARGET}.CreatePipeline");
    let (status, _, _) = server.call_raw(
        Some(&create),
        body.as_bytes(),
        Some(&auth("123456789012", "eu-west-1")),
    );
    assert_eq!(status, 200);
    let get = format!("{TARGET}.GetPipeline");
    let name = br#"{"name": "scoped"}"#;
    let (status, reply, _) =
        server.call_raw(Some(&get), name, Some(&auth("123456789012", "eu-west-1")));
    assert_eq!(status, 200);
    assert_eq!(
        reply["metadata"]["pipelineArn"],
        "arn:aws:codepipeline:eu-west-1:123456789012:scoped"
    );
    for (key, region) in [
        ("123456789012", "us-east-1"),
        ("210987654321", "eu-west-1"),
        ("test", "eu-west-1"),
    ] {
        let (_, reply, _) = server.call_raw(Some(&get), name, Some(&auth(key, region)));
        assert_eq!(
            reply["__type"], "PipelineNotFoundException",
            "{key} {region}"
        );
    }
}

#[test]
fn health_and_reset() {
    let server = Server::start();
    let health = server.get_json("/_local/health");
    assert_eq!(health["status"], "running");
    assert!(health["store"].as_str().unwrap().starts_with("sled at "));
    let implemented = health["operations"]["implemented"]
        .as_array()
        .unwrap()
        .len();
    let missing = health["operations"]["notImplemented"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(implemented + missing, 44);
    assert_eq!(
        server.get_json("/_localstack/health")["services"]["codepipeline"],
        "running"
    );

    let (status, _) = server.call("CreatePipeline", json!({"pipeline": two_stage("p1")}));
    assert_eq!(status, 200);
    assert_eq!(server.post_json("/_local/reset")["reset"], true);
    let (_, reply) = server.call("ListPipelines", json!({}));
    assert_eq!(reply["pipelines"], json!([]));
}

#[test]
fn many_connections_at_once_are_all_served() {
    let server = Server::start_in_memory();
    let url = server.url.clone();
    let threads: Vec<_> = (0..64)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                let body = json!({"pipeline": two_stage(&format!("p{i}"))}).to_string();
                ureq::post(&format!("{url}/"))
                    .set("x-amz-target", &format!("{TARGET}.CreatePipeline"))
                    .send_string(&body)
                    .map(|r| r.status())
                    .unwrap_or(0)
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 200);
    }
    let (_, reply) = server.call("ListPipelines", json!({"maxResults": 1000}));
    assert_eq!(reply["pipelines"].as_array().unwrap().len(), 64);
}
