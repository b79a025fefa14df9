//! The benchmark's ceiling: a bare axum server that reads each `POST /` body and answers one fixed
//! JSON body (a real `GetPipeline` reply of the 3-stage fixture, 1,310 bytes) with CodePipeline's
//! content type and a request id. No routing, validation, store or engine: what is left is the cost
//! of HTTP on this machine, the most any handler could reach.
//!
//! `cargo run --release --locked --example bench-ceiling -- PORT` (0 picks a free port). Prints
//! `bench-ceiling ready on http://127.0.0.1:PORT` once it listens. `bench/run` starts it.

use axum::http::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::Router;

const BODY: &str = r#"{"pipeline":{"name":"my-pipeline","roleArn":"arn:aws:iam::123456789012:role/AWS-CodePipeline-Service","artifactStore":{"type":"S3","location":"codepipeline-us-east-1-artifacts"},"stages":[{"name":"Source","actions":[{"name":"Source","actionTypeId":{"category":"Source","owner":"AWS","provider":"S3","version":"1"},"runOrder":1,"configuration":{"PollForSourceChanges":"false","S3Bucket":"my-source-bucket","S3ObjectKey":"app.zip"},"outputArtifacts":[{"name":"SourceOutput"}],"inputArtifacts":[],"namespace":"SourceVariables"}]},{"name":"Build","actions":[{"name":"Build","actionTypeId":{"category":"Build","owner":"AWS","provider":"CodeBuild","version":"1"},"runOrder":1,"configuration":{"ProjectName":"my-build-project"},"outputArtifacts":[{"name":"BuildOutput"}],"inputArtifacts":[{"name":"SourceOutput"}],"namespace":"BuildVariables"}]},{"name":"Deploy","actions":[{"name":"Deploy","actionTypeId":{"category":"Deploy","owner":"AWS","provider":"S3","version":"1"},"runOrder":1,"configuration":{"BucketName":"my-website-bucket","Extract":"true"},"outputArtifacts":[],"inputArtifacts":[{"name":"BuildOutput"}]}]}],"version":1,"executionMode":"SUPERSEDED","pipelineType":"V1"},"metadata":{"pipelineArn":"arn:aws:codepipeline:us-east-1:000000000000:my-pipeline","created":1795450050.723,"updated":1795450050.723}}"#;

async fn answer(_body: axum::body::Bytes) -> impl IntoResponse {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.1"),
            ),
            (
                HeaderName::from_static("x-amzn-requestid"),
                HeaderValue::from_static("00000000-0000-4000-8000-000000000000"),
            ),
        ],
        BODY,
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1) {
        Some(p) => p.parse().map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("bad port {p:?}: {e}"),
            )
        })?,
        None => 0,
    };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("bench-ceiling ready on http://{}", listener.local_addr()?);
    let app = Router::new().route("/", post(answer));
    axum::serve(listener, app).await
}
