//! Hand-made S3 requests, signed by botocore's own SigV4 signer and sent by Python's
//! http.client to the server's port, with any Host header: for what no CLI sends (hostile
//! bodies, virtual-hosted names that need no DNS).

use std::process::Command;

use crate::common::Server;

/// `(status, body)` of `METHOD path` with `body`, the `Host` header `host` (default: the
/// server's own), signed for S3 with `test`/`test`.
pub fn signed(
    server: &Server,
    method: &str,
    host: Option<&str>,
    path: &str,
    body: &[u8],
) -> (u16, String) {
    let port = server.url.rsplit(':').next().expect("port");
    let host = host
        .map(|h| format!("{h}:{port}"))
        .unwrap_or_else(|| format!("127.0.0.1:{port}"));
    let script = r#"
import sys, http.client, hashlib
from botocore.awsrequest import AWSRequest
from botocore.auth import S3SigV4Auth
from botocore.credentials import Credentials
method, host, port, path = sys.argv[1:5]
body = sys.stdin.buffer.read()
req = AWSRequest(method=method, url=f"http://{host}{path}", data=body,
                 headers={"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(req)
conn = http.client.HTTPConnection("127.0.0.1", int(port), timeout=20)
conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
conn.putheader("Host", host)
for k, v in req.headers.items():
    conn.putheader(k, v)
conn.putheader("Content-Length", str(len(body)))
conn.endheaders(body)
r = conn.getresponse()
sys.stdout.write(f"{r.status}\n")
sys.stdout.write(r.read().decode("utf-8", "replace"))
"#;
    let mut child = Command::new("python3")
        .args(["-c", script, method, &host, port, path])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 with botocore");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(body).expect("send the body");
    }
    let out = child.wait_with_output().expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (status, rest) = text.split_once('\n').unwrap_or((&text, ""));
    (status.trim().parse().unwrap_or(0), rest.to_owned())
}
