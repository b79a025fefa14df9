//! SigV4 verification (`--verify-signatures`) with real clients and hand-built requests: the
//! SDK and the aws CLI with right and wrong secrets, keys from `--credentials-file` acting in
//! their profile's account, and requests signed here with `aws-sigv4` and then tampered with,
//! sent too late or too early, presigned, or not signed at all. Every refusal leaves state as
//! it was. Without the flag, any signature is accepted.

use std::time::{Duration, SystemTime};

use crate::common::{self, two_stage, Server};
use aws_sigv4::http_request::{
    sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
};
use aws_sigv4::sign::v4::SigningParams;
use serde_json::{json, Value};

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";

const CREDENTIALS: &str = "\
# profiles the tests sign with
[team]
aws_access_key_id = AKIATEAMEXAMPLE
aws_secret_access_key = team-secret
account_id = 222222222222

[profile ci]
aws_access_key_id = 333333333333
aws_secret_access_key = ci-secret

[temporary]
aws_access_key_id = ASIATEMPORARY
aws_secret_access_key = temp-secret
aws_session_token = session-token-1
";

/// A verifying server that also accepts the keys of `CREDENTIALS`.
fn verifying_server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("credentials");
    std::fs::write(&path, CREDENTIALS).expect("write credentials");
    let server = Server::start_with(&[
        "--in-memory",
        "--verify-signatures",
        "--credentials-file",
        path.to_str().expect("utf-8 path"),
    ]);
    (server, dir)
}

/// What a request signed here looks like before it is sent, so tests can tamper with it.
struct Signed {
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

struct Signer<'a> {
    access_key: &'a str,
    secret: &'a str,
    token: Option<&'a str>,
    region: &'a str,
    service: &'a str,
    time: SystemTime,
    payload: Option<&'a str>,
    presign_for: Option<Duration>,
}

impl Default for Signer<'_> {
    fn default() -> Self {
        Signer {
            access_key: "test",
            secret: "test",
            token: None,
            region: "us-east-1",
            service: "codepipeline",
            time: SystemTime::now(),
            payload: None,
            presign_for: None,
        }
    }
}

impl Signer<'_> {
    fn sign(&self, server: &Server, operation: &str, body: &Value) -> Signed {
        let body = body.to_string().into_bytes();
        let host = server.url.trim_start_matches("http://").to_owned();
        let mut headers = vec![
            ("host".to_owned(), host),
            (
                "content-type".to_owned(),
                "application/x-amz-json-1.1".to_owned(),
            ),
            (
                "x-amz-target".to_owned(),
                format!("CodePipeline_20150709.{operation}"),
            ),
        ];
        if let Some(p) = self.payload {
            headers.push(("x-amz-content-sha256".to_owned(), p.to_owned()));
        }
        let url = format!("{}/", server.url);
        let identity = aws_credential_types::Credentials::new(
            self.access_key,
            self.secret,
            self.token.map(str::to_owned),
            None,
            "test",
        )
        .into();
        let mut settings = SigningSettings::default();
        if let Some(expires) = self.presign_for {
            settings.signature_location = SignatureLocation::QueryParams;
            settings.expires_in = Some(expires);
        }
        let params = SigningParams::builder()
            .identity(&identity)
            .region(self.region)
            .name(self.service)
            .time(self.time)
            .settings(settings)
            .build()
            .expect("signing params")
            .into();
        let payload = match self.payload {
            Some("UNSIGNED-PAYLOAD") => SignableBody::UnsignedPayload,
            _ => SignableBody::Bytes(&body),
        };
        let request = SignableRequest::new(
            "POST",
            &url,
            headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            payload,
        )
        .expect("signable request");
        let (instructions, _) = sign(request, &params).expect("sign").into_parts();
        let (added_headers, added_query) = instructions.into_parts();
        for header in added_headers {
            headers.push((header.name().to_owned(), header.value().to_owned()));
        }
        let mut url = url;
        if !added_query.is_empty() {
            let query: Vec<String> = added_query
                .iter()
                .map(|(k, v)| format!("{k}={}", encode(v)))
                .collect();
            url = format!("{url}?{}", query.join("&"));
        }
        Signed { url, headers, body }
    }
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl Signed {
    fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Replaces the `Authorization` header by what `change` makes of it.
    fn rewrite_authorization(self, change: impl FnOnce(&str) -> String) -> Self {
        let auth = self
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| change(v))
            .expect("a header-signed request has an Authorization header");
        self.header("authorization", &auth)
    }

    fn without(mut self, name: &str) -> Self {
        self.headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    /// Sends it; ureq sets `Host` itself, to the same value signed here.
    fn send(&self) -> (u16, Value) {
        let mut request = ureq::post(&self.url);
        for (name, value) in &self.headers {
            if name != "host" {
                request = request.set(name, value);
            }
        }
        let response = match request.send_bytes(&self.body) {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("request failed: {e}"),
        };
        let status = response.status();
        let text = response.into_string().unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

fn error_of(reply: &(u16, Value)) -> (u16, &str, &str) {
    (
        reply.0,
        reply.1["__type"].as_str().unwrap_or_default(),
        reply.1["message"].as_str().unwrap_or_default(),
    )
}

fn pipeline_names(server: &Server) -> Vec<String> {
    let (status, reply) = Signer::default()
        .sign(server, "ListPipelines", &json!({}))
        .send();
    assert_eq!(status, 200, "{reply}");
    reply["pipelines"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn sdk_error<T, E, R>(
    result: Result<T, aws_sdk_codepipeline::error::SdkError<E, R>>,
) -> (String, String)
where
    E: aws_sdk_codepipeline::error::ProvideErrorMetadata,
{
    use aws_sdk_codepipeline::error::ProvideErrorMetadata;
    match result {
        Ok(_) => panic!("the call should have been refused"),
        Err(e) => (
            e.code().unwrap_or_default().to_owned(),
            e.message().unwrap_or_default().to_owned(),
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sdk_is_accepted_with_the_right_secret_and_refused_otherwise() {
    let (server, _dir) = verifying_server();
    let good = server.sdk_signed("test", "test", None, "us-east-1");
    good.create_pipeline()
        .pipeline(crate::sdk_pipeline("signed"))
        .send()
        .await
        .expect("a correctly signed CreatePipeline succeeds");

    let wrong = server.sdk_signed("test", "not-the-secret", None, "us-east-1");
    let (code, message) = sdk_error(wrong.list_pipelines().send().await);
    assert_eq!(code, "InvalidSignatureException");
    assert_mismatch_message(&message, "CodePipeline_20150709.ListPipelines");
    let (code, _) = sdk_error(wrong.delete_pipeline().name("signed").send().await);
    assert_eq!(code, "InvalidSignatureException");

    let unknown = server.sdk_signed("AKIAUNKNOWN", "whatever", None, "us-east-1");
    let (code, message) = sdk_error(unknown.get_pipeline().name("signed").send().await);
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UnrecognizedClientException", INVALID_TOKEN)
    );

    // A profile's session token must come with its key, and no other token is accepted.
    let temporary = server.sdk_signed(
        "ASIATEMPORARY",
        "temp-secret",
        Some("session-token-1"),
        "us-east-1",
    );
    temporary
        .list_pipelines()
        .send()
        .await
        .expect("the profile's key, secret and token are accepted");
    let stale = server.sdk_signed(
        "ASIATEMPORARY",
        "temp-secret",
        Some("session-token-0"),
        "us-east-1",
    );
    let (code, _) = sdk_error(stale.list_pipelines().send().await);
    assert_eq!(code, "UnrecognizedClientException");
    let bare = server.sdk_signed("ASIATEMPORARY", "temp-secret", None, "us-east-1");
    let (code, _) = sdk_error(bare.list_pipelines().send().await);
    assert_eq!(code, "UnrecognizedClientException");

    assert_eq!(pipeline_names(&server), vec!["signed".to_owned()]);
}

#[test]
fn the_cli_signs_as_its_profile_and_acts_in_the_profile_account() {
    let (server, _dir) = verifying_server();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = common::json_arg(
        dir.path(),
        "team.json",
        &json!({"pipeline": two_stage("team-pipeline")}),
    );
    let created = server.aws_signed(
        "AKIATEAMEXAMPLE",
        "team-secret",
        "eu-west-1",
        &["create-pipeline", "--cli-input-json", &file],
    );
    assert!(created.ok, "{}", created.stderr);
    let got = server.aws_signed(
        "AKIATEAMEXAMPLE",
        "team-secret",
        "eu-west-1",
        &["get-pipeline", "--name", "team-pipeline"],
    );
    assert!(got.ok, "{}", got.stderr);
    assert_eq!(
        got.json["metadata"]["pipelineArn"],
        "arn:aws:codepipeline:eu-west-1:222222222222:team-pipeline"
    );

    // The profile without account_id acts in the account its 12-digit key names.
    let ci = server.aws_signed(
        "333333333333",
        "ci-secret",
        "eu-west-1",
        &["list-pipelines"],
    );
    assert!(ci.ok, "{}", ci.stderr);
    assert_eq!(ci.json["pipelines"], json!([]));

    let wrong = server.aws_signed(
        "AKIATEAMEXAMPLE",
        "test",
        "eu-west-1",
        &["delete-pipeline", "--name", "team-pipeline"],
    );
    assert!(!wrong.ok);
    let (code, message) = wrong.error();
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with(MISMATCH), "{message}");
    let unknown = server.aws_signed("AKIANOBODY", "x", "eu-west-1", &["list-pipelines"]);
    assert_eq!(
        unknown.error(),
        (
            "UnrecognizedClientException".to_owned(),
            INVALID_TOKEN.to_owned()
        )
    );
    let still = server.aws_signed(
        "AKIATEAMEXAMPLE",
        "team-secret",
        "eu-west-1",
        &["list-pipelines", "--query", "pipelines[].name"],
    );
    assert_eq!(still.json, json!(["team-pipeline"]));
}

#[test]
fn tampered_requests_are_refused_and_change_nothing() {
    let (server, _dir) = verifying_server();
    let create = json!({"pipeline": two_stage("original")});
    let (status, reply) = Signer::default()
        .sign(&server, "CreatePipeline", &create)
        .send();
    assert_eq!(status, 200, "the test signer must be right: {reply}");

    let body_changed = {
        let mut signed = Signer::default().sign(
            &server,
            "CreatePipeline",
            &json!({"pipeline": two_stage("second")}),
        );
        signed.body = json!({"pipeline": two_stage("swapped")})
            .to_string()
            .into_bytes();
        signed.send()
    };
    let (status, code, message) = error_of(&body_changed);
    assert_eq!((status, code), (400, "InvalidSignatureException"));
    assert_mismatch_message(message, "CodePipeline_20150709.CreatePipeline");

    let target_changed = Signer::default()
        .sign(&server, "ListPipelines", &json!({}))
        .header("x-amz-target", "CodePipeline_20150709.DeletePipeline")
        .send();
    assert_eq!(error_of(&target_changed).1, "InvalidSignatureException");

    let signature_flipped = {
        let signed =
            Signer::default().sign(&server, "DeletePipeline", &json!({"name": "original"}));
        signed
            .rewrite_authorization(|auth| {
                let mut flipped = auth.to_owned();
                let last = flipped.pop();
                flipped.push(if last == Some('0') { '1' } else { '0' });
                flipped
            })
            .send()
    };
    let (status, code, message) = error_of(&signature_flipped);
    assert_eq!((status, code), (400, "InvalidSignatureException"));
    assert_mismatch_message(message, "CodePipeline_20150709.DeletePipeline");

    let wrong_region_in_scope = {
        // Signed for eu-west-1, but the scope is rewritten to us-east-1 to act elsewhere.
        let signed = Signer {
            region: "eu-west-1",
            ..Signer::default()
        }
        .sign(&server, "DeletePipeline", &json!({"name": "original"}));
        signed
            .rewrite_authorization(|auth| auth.replace("/eu-west-1/", "/us-east-1/"))
            .send()
    };
    assert_eq!(
        error_of(&wrong_region_in_scope).1,
        "InvalidSignatureException"
    );

    let unsigned = server.call("DeletePipeline", json!({"name": "original"}));
    assert_eq!(
        error_of(&unsigned),
        (
            400,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token"
        )
    );

    let host_unsigned = {
        let signed =
            Signer::default().sign(&server, "DeletePipeline", &json!({"name": "original"}));
        signed
            .rewrite_authorization(|auth| {
                auth.replace(
                    "SignedHeaders=content-type;host;",
                    "SignedHeaders=content-type;",
                )
            })
            .send()
    };
    assert_eq!(error_of(&host_unsigned).1, "InvalidSignatureException");

    let incomplete = Signer::default()
        .sign(&server, "DeletePipeline", &json!({"name": "original"}))
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/codepipeline/aws4_request",
        )
        .send();
    let (status, code, message) = error_of(&incomplete);
    assert_eq!((status, code), (400, "IncompleteSignatureException"));
    assert!(
        message.contains("Authorization header requires 'Signature' parameter.")
            && message.contains("Authorization header requires 'SignedHeaders' parameter."),
        "{message}"
    );

    let no_date = Signer::default()
        .sign(&server, "DeletePipeline", &json!({"name": "original"}))
        .without("x-amz-date")
        .send();
    let (_, code, message) = error_of(&no_date);
    assert_eq!(code, "IncompleteSignatureException");
    assert!(
        message.contains("'X-Amz-Date' or a 'Date' header"),
        "{message}"
    );

    let other_service = Signer {
        service: "codebuild",
        ..Signer::default()
    }
    .sign(&server, "DeletePipeline", &json!({"name": "original"}))
    .send();
    assert_eq!(
        error_of(&other_service),
        (
            400,
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'codepipeline'. "
        )
    );

    assert_eq!(pipeline_names(&server), vec!["original".to_owned()]);
}

#[test]
fn requests_signed_more_than_five_minutes_away_are_refused() {
    let (server, _dir) = verifying_server();
    let now = SystemTime::now();
    let late = Signer {
        time: now - Duration::from_secs(10 * 60),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}))
    .send();
    let (status, code, message) = error_of(&late);
    assert_eq!((status, code), (400, "InvalidSignatureException"));
    assert!(
        message.starts_with("Signature expired: ") && message.ends_with(" - 5 min.)"),
        "{message}"
    );

    let early = Signer {
        time: now + Duration::from_secs(10 * 60),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}))
    .send();
    let (_, code, message) = error_of(&early);
    assert_eq!(code, "InvalidSignatureException");
    assert!(
        message.starts_with("Signature not yet current: ") && message.ends_with(" + 5 min.)"),
        "{message}"
    );

    // Within the window is fine either way.
    for offset in [-240i64, 240] {
        let time = if offset < 0 {
            now - Duration::from_secs(240)
        } else {
            now + Duration::from_secs(240)
        };
        let (status, reply) = Signer {
            time,
            ..Signer::default()
        }
        .sign(&server, "ListPipelines", &json!({}))
        .send();
        assert_eq!(status, 200, "offset {offset}s: {reply}");
    }
}

#[test]
fn presigned_query_strings_and_unsigned_payloads() {
    let (server, _dir) = verifying_server();
    let presigned = Signer {
        presign_for: Some(Duration::from_secs(60)),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}));
    assert!(
        presigned.url.contains("X-Amz-Signature="),
        "{}",
        presigned.url
    );
    assert!(!presigned.headers.iter().any(|(k, _)| k == "authorization"));
    let (status, reply) = presigned.send();
    assert_eq!(status, 200, "{reply}");

    let expired = Signer {
        presign_for: Some(Duration::from_secs(60)),
        time: SystemTime::now() - Duration::from_secs(120),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}))
    .send();
    let (_, code, message) = error_of(&expired);
    assert_eq!(code, "InvalidSignatureException");
    assert!(message.starts_with("Signature expired"), "{message}");

    let tampered = {
        let mut p = Signer {
            presign_for: Some(Duration::from_secs(60)),
            ..Signer::default()
        }
        .sign(&server, "ListPipelines", &json!({}));
        p.url = p.url.replace("X-Amz-Expires=60", "X-Amz-Expires=600");
        p.send()
    };
    assert_eq!(error_of(&tampered).1, "InvalidSignatureException");

    // Only S3 takes UNSIGNED-PAYLOAD; CodePipeline hashes the body it received.
    let unsigned_payload = Signer {
        payload: Some("UNSIGNED-PAYLOAD"),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}))
    .send();
    assert_eq!(error_of(&unsigned_payload).1, "InvalidSignatureException");
    let body = json!({});
    let hash = {
        use sha2::Digest;
        sha2::Sha256::digest(body.to_string().as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let hashed_payload = Signer {
        payload: Some(&hash),
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &body)
    .send();
    assert_eq!(hashed_payload.0, 200, "{}", hashed_payload.1);
}

/// AWS follows the mismatch message with what it expected, so users can diff their signer.
fn assert_mismatch_message(message: &str, target: &str) {
    assert!(message.starts_with(MISMATCH), "{message}");
    let rest = &message[MISMATCH.len()..];
    assert!(
        rest.starts_with("\n\nThe Canonical String for this request should have been\n'POST\n/\n"),
        "{rest}"
    );
    assert!(
        rest.contains(&format!("\nx-amz-target:{target}\n")),
        "{rest}"
    );
    assert!(
        rest.contains("'\n\nThe String-to-Sign should have been\n'AWS4-HMAC-SHA256\n"),
        "{rest}"
    );
    assert!(rest.ends_with("'\n"), "{rest}");
}

#[test]
fn without_the_flag_any_signature_is_accepted() {
    let server = Server::start_in_memory();
    let (status, reply) = Signer {
        secret: "anything",
        access_key: "AKIAWHOEVER",
        ..Signer::default()
    }
    .sign(&server, "ListPipelines", &json!({}))
    .send();
    assert_eq!(status, 200, "{reply}");
    let (status, _) = server.call("ListPipelines", json!({}));
    assert_eq!(status, 200);
    let cli = server.aws_signed("test", "wrong", "us-east-1", &["list-pipelines"]);
    assert!(cli.ok, "{}", cli.stderr);
}

#[test]
fn a_broken_credentials_file_stops_the_server_with_the_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("credentials");
    std::fs::write(
        &path,
        "[p]\naws_access_key_id = k\naws_secret_access_key = s\naccount_id = nope\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codepipeline-local"))
        .args([
            "--in-memory",
            "--port",
            "0",
            "--verify-signatures",
            "--credentials-file",
        ])
        .arg(&path)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not 12 digits"), "{stderr}");
}
