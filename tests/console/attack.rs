//! A web page of another origin, opened in a real Chromium while the server runs, tries to
//! drive it: the "simple" cross-origin POSTs every browser sends without a preflight (create,
//! delete, faults, reset) and requests with the custom headers the API needs. None may change
//! anything. The same page from an origin named in `--cors-allowed-origins` works, and the
//! console itself works behind a control token.

use std::io::{Read, Write};
use std::net::TcpListener;

use serde_json::{json, Value};

use crate::common::{two_stage, Server};
use crate::webdriver::Browser;

/// Serves a blank page on its own port: another origin than the server's.
fn attacker_origin() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let page = "<!doctype html><title>somewhere else</title><p>nothing to see</p>";
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{page}",
                page.len()
            );
        }
    });
    origin
}

/// Runs the requests from the page and returns what the page could see of each.
fn fire(
    browser: &Browser,
    server: &Server,
    requests: &[(&str, &str, Value, String)],
) -> Vec<String> {
    // One after another, so a later request sees what an earlier one did.
    let calls: Vec<String> = requests
        .iter()
        .map(|(kind, path, headers, body)| {
            format!(
                "() => {kind}({}, {headers}, {})",
                json!(format!("{}{path}", server.url)),
                json!(body)
            )
        })
        .collect();
    let script = format!(
        "const done = arguments[0];
         const simple = (url, headers, body) => fetch(url, {{method: 'POST', mode: 'no-cors', headers, body}})
             .then(r => 'sent ' + r.type, e => 'error ' + e);
         const cors = (url, headers, body) => fetch(url, {{method: 'POST', headers, body}})
             .then(async r => 'read ' + r.status + ' ' + await r.text(), e => 'blocked');
         const seen = [];
         [{}].reduce((chain, call) => chain.then(call).then(r => {{ seen.push(r); }}), Promise.resolve())
             .then(() => done(seen));",
        calls.join(", ")
    );
    let out = browser.script_async(&script);
    out.as_array()
        .unwrap_or_else(|| panic!("the page's script failed: {out}"))
        .iter()
        .map(|v| v.as_str().unwrap_or_default().to_owned())
        .collect()
}

fn plain() -> Value {
    json!({"content-type": "text/plain"})
}

#[test]
fn a_page_of_another_origin_cannot_change_anything() {
    let server = Server::start();
    let created = server.call("CreatePipeline", json!({"pipeline": two_stage("victim")}));
    assert_eq!(created.0, 200, "{}", created.1);
    let origin = attacker_origin();
    let browser = Browser::start(800, 600);
    browser.goto(&format!("{origin}/"));
    let create = json!({"pipeline": two_stage("planted")}).to_string();
    let delete = json!({"name": "victim"}).to_string();
    let seen = fire(
        &browser,
        &server,
        &[
            (
                "simple",
                "/_local/console/api/CreatePipeline",
                plain(),
                create.clone(),
            ),
            (
                "simple",
                "/_local/console/api/DeletePipeline",
                plain(),
                delete.clone(),
            ),
            (
                "simple",
                "/_local/faults",
                plain(),
                r#"{"action":"Approve","type":"fail"}"#.to_owned(),
            ),
            ("simple", "/_local/reset", plain(), String::new()),
            (
                "cors",
                "/_local/console/api/DeletePipeline",
                json!({"content-type": "application/json"}),
                delete.clone(),
            ),
            (
                "cors",
                "/",
                json!({"content-type": "application/x-amz-json-1.1",
                "x-amz-target": "CodePipeline_20150709.DeletePipeline"}),
                delete,
            ),
        ],
    );
    // The simple requests leave as opaque no-cors requests; the others never get past the preflight.
    assert_eq!(&seen[4..], ["blocked", "blocked"], "{seen:?}");
    assert_eq!(
        server.pipeline_names(),
        ["victim"],
        "the page changed the pipelines: {seen:?}"
    );
    assert_eq!(server.get_json("/_local/faults")["faults"], json!([]));
}

#[test]
fn a_page_of_an_allowed_origin_can_use_the_api() {
    let origin = attacker_origin();
    let server = Server::start_with(&["--cors-allowed-origins", &origin]);
    let browser = Browser::start(800, 600);
    browser.goto(&format!("{origin}/"));
    let create = json!({"pipeline": two_stage("from-the-page")}).to_string();
    let seen = fire(
        &browser,
        &server,
        &[
            (
                "cors",
                "/_local/console/api/CreatePipeline",
                json!({"content-type": "application/json"}),
                create,
            ),
            (
                "cors",
                "/",
                json!({"content-type": "application/x-amz-json-1.1",
                "x-amz-target": "CodePipeline_20150709.ListPipelines",
                "x-amz-date": "20260101T000000Z", "amz-sdk-invocation-id": "1"}),
                "{}".to_owned(),
            ),
        ],
    );
    assert!(seen[0].starts_with("read 200 "), "{seen:?}");
    assert!(
        seen[1].starts_with("read 200 ") && seen[1].contains("from-the-page"),
        "{seen:?}"
    );
    assert_eq!(server.pipeline_names(), ["from-the-page"]);
}

/// With a control token the console opened from the printed URL works as before: the cookie
/// carries the token to the page's API calls and its live stream.
#[test]
fn the_console_works_with_a_control_token() {
    let server = Server::start_with(&["--control-token", "auto", "--action-duration", "0s"]);
    let token = server.token.clone().expect("token in the ready line");
    let created = server.call("CreatePipeline", json!({"pipeline": two_stage("guarded")}));
    assert_eq!(created.0, 200, "{}", created.1);
    let browser = Browser::start(1200, 800);
    browser.goto(&format!("{}/_local/console/?token={token}", server.url));
    browser.text_with(r#"tr[data-pipeline="guarded"]"#, &["guarded", "V1"]);
    browser.wait_for("#live.on");
    // The token left the address bar.
    let address = browser.script("return location.href");
    assert_eq!(address, json!(format!("{}/_local/console/", server.url)));
}
