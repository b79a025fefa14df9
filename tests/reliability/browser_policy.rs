//! What a web page may do, tested below the browser with hand-made requests: the Host check
//! against DNS rebinding, CORS preflights as the AWS SDK for JavaScript sends them, the origin
//! and content-type rules of the control plane, and the control token. `tests/console` runs the
//! same attack in a real Chromium.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::json;

use crate::common::*;

struct Reply {
    status: u16,
    /// Header names in lower case.
    headers: BTreeMap<String, String>,
    body: String,
}

/// One request on its own connection, with exactly these headers (`Host` included).
fn send(server: &Server, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let addr = server.url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() {
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = String::new();
    stream.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {raw}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn port(server: &Server) -> &str {
    server.url.rsplit(':').next().expect("port")
}

fn list_pipelines(server: &Server, host: &str) -> Reply {
    send(
        server,
        "POST",
        "/",
        &[
            ("Host", host),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "CodePipeline_20150709.ListPipelines"),
        ],
        "{}",
    )
}

#[test]
fn a_loopback_server_answers_loopback_names_and_allowed_hosts_only() {
    let server = Server::start_with(&["--allowed-hosts", "codepipeline.test"]);
    let port = port(&server).to_owned();
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
        format!("site.s3.localhost:{port}"),
        format!("codepipeline.test:{port}"),
        format!("bucket.codepipeline.test:{port}"),
    ] {
        assert_eq!(list_pipelines(&server, &host).status, 200, "{host}");
    }
    // A rebound name: the page's own name resolving to 127.0.0.1.
    for path in ["/", "/_local/health", "/_local/console/", "/_local/reset"] {
        let method = if path == "/" || path == "/_local/reset" {
            "POST"
        } else {
            "GET"
        };
        let reply = send(
            &server,
            method,
            path,
            &[("Host", &format!("attacker.example:{port}"))],
            "",
        );
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert!(reply.body.contains("--allowed-hosts"), "{}", reply.body);
    }
}

#[test]
fn a_server_on_every_interface_answers_service_names() {
    let server = Server::start_with(&["--host", "0.0.0.0"]);
    let reply = list_pipelines(&server, "codepipeline:4566");
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn preflights_are_approved_for_allowed_origins_only() {
    let sdk_preflight = |server: &Server, origin: &str| {
        send(
            server,
            "OPTIONS",
            "/",
            &[
                ("Host", &format!("localhost:{}", port(server))),
                ("Origin", origin),
                ("Access-Control-Request-Method", "POST"),
                (
                    "Access-Control-Request-Headers",
                    "amz-sdk-invocation-id,amz-sdk-request,authorization,content-type,x-amz-date,x-amz-target,x-amz-user-agent",
                ),
            ],
            "",
        )
    };
    let closed = Server::start();
    let refused = sdk_preflight(&closed, "http://localhost:3000");
    assert_eq!(refused.status, 403);
    assert!(!refused.headers.contains_key("access-control-allow-origin"));
    assert!(
        refused.body.contains("--cors-allowed-origins"),
        "{}",
        refused.body
    );

    let open = Server::start_with(&["--cors-allowed-origins", "http://localhost:3000"]);
    let approved = sdk_preflight(&open, "http://localhost:3000");
    assert_eq!(approved.status, 204, "{}", approved.body);
    assert_eq!(
        approved.headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert!(approved.headers["access-control-allow-headers"].contains("x-amz-target"));
    assert!(approved.headers["access-control-allow-methods"].contains("POST"));
    assert_eq!(sdk_preflight(&open, "http://localhost:3001").status, 403);

    // The call itself: the reply is readable by that origin, with the request id.
    let reply = send(
        &open,
        "POST",
        "/",
        &[
            ("Host", &format!("localhost:{}", port(&open))),
            ("Origin", "http://localhost:3000"),
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", "CodePipeline_20150709.ListPipelines"),
        ],
        "{}",
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.headers["access-control-allow-origin"],
        "http://localhost:3000"
    );
    assert!(reply.headers["access-control-expose-headers"].contains("x-amzn-requestid"));
}

#[test]
fn the_control_plane_refuses_other_origins_and_bodies_that_are_not_json() {
    let server = Server::start();
    let host = format!("localhost:{}", port(&server));
    let create = json!({"pipeline": two_stage("victim")}).to_string();
    assert_eq!(
        server
            .call(
                "CreatePipeline",
                serde_json::from_str(&create).expect("json")
            )
            .0,
        200
    );

    // A page of another origin, as a browser sends its "simple" no-cors requests.
    for (path, body) in [
        ("/_local/console/api/DeletePipeline", r#"{"name":"victim"}"#),
        ("/_local/faults", r#"{"action":"Approve","type":"fail"}"#),
        ("/_local/reset", ""),
    ] {
        let reply = send(
            &server,
            "POST",
            path,
            &[
                ("Host", &host),
                ("Origin", "http://attacker.example"),
                ("Sec-Fetch-Site", "cross-site"),
                ("Content-Type", "text/plain;charset=UTF-8"),
            ],
            body,
        );
        assert_eq!(reply.status, 403, "{path}: {}", reply.body);
        assert!(
            reply.body.contains("--cors-allowed-origins"),
            "{}",
            reply.body
        );
    }
    // Without an Origin header but marked cross-site by the browser.
    let reply = send(
        &server,
        "POST",
        "/_local/reset",
        &[("Host", &host), ("Sec-Fetch-Site", "cross-site")],
        "",
    );
    assert_eq!(reply.status, 403);
    // From no browser at all, a body must still be JSON.
    let reply = send(
        &server,
        "POST",
        "/_local/faults",
        &[("Host", &host), ("Content-Type", "text/plain")],
        r#"{"action":"Approve","type":"fail"}"#,
    );
    assert_eq!(reply.status, 415, "{}", reply.body);
    assert_eq!(server.pipeline_names(), ["victim"]);
    assert_eq!(server.get_json("/_local/faults")["faults"], json!([]));

    // The console's own origin works as before.
    let reply = send(
        &server,
        "POST",
        "/_local/console/api/ListPipelines",
        &[
            ("Host", &host),
            ("Origin", &format!("http://{host}")),
            ("Sec-Fetch-Site", "same-origin"),
            ("Content-Type", "application/x-amz-json-1.1"),
        ],
        "{}",
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

#[test]
fn the_control_token_is_required_in_a_header_or_the_console_cookie() {
    let server = Server::start_with(&["--control-token", "auto"]);
    let token = server
        .token
        .clone()
        .expect("the ready line names the token");
    assert_eq!(token.len(), 32);
    let host = format!("localhost:{}", port(&server));
    let faults = |headers: &[(&str, &str)]| {
        let mut all = vec![("Host", host.as_str())];
        all.extend_from_slice(headers);
        send(&server, "GET", "/_local/faults", &all, "")
    };
    let missing = faults(&[]);
    assert_eq!(missing.status, 401);
    assert!(missing.body.contains("--control-token"), "{}", missing.body);
    assert_eq!(
        faults(&[("x-codepipeline-local-token", "wrong")]).status,
        401
    );
    assert_eq!(
        faults(&[("x-codepipeline-local-token", &token)]).status,
        200
    );

    // The console opened with the printed URL gets a cookie and a clean address.
    let opened = send(
        &server,
        "GET",
        &format!("/_local/console/?token={token}"),
        &[("Host", &host)],
        "",
    );
    assert_eq!(opened.status, 303);
    assert_eq!(opened.headers["location"], "/_local/console/");
    let cookie = opened.headers["set-cookie"]
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    assert!(opened.headers["set-cookie"].contains("HttpOnly"));
    assert!(opened.headers["set-cookie"].contains("SameSite=Strict"));
    assert_eq!(faults(&[("Cookie", &cookie)]).status, 200);
    assert_eq!(
        faults(&[(
            "Cookie",
            &format!("codepipeline-local-token-{}=wrong", port(&server))
        )])
        .status,
        401
    );
    let page = send(
        &server,
        "GET",
        "/_local/console/",
        &[("Host", &host), ("Cookie", &cookie)],
        "",
    );
    assert_eq!(page.status, 200);
    // Health stays open for probes; the AWS API is guarded by signatures, not the token.
    assert_eq!(
        send(&server, "GET", "/_local/health", &[("Host", &host)], "").status,
        200
    );
    assert_eq!(list_pipelines(&server, &host).status, 200);
}

#[test]
fn verifying_signatures_turns_the_control_token_on() {
    let server = Server::start_with(&["--verify-signatures"]);
    assert!(server.token.is_some());
    let reply = send(
        &server,
        "POST",
        "/_local/reset",
        &[("Host", &format!("localhost:{}", port(&server)))],
        "",
    );
    assert_eq!(reply.status, 401);
    assert_eq!(server.post_json("/_local/reset")["reset"], true);
}
