//! A job worker for a custom action type, written against `aws-sdk-codepipeline` and
//! `aws-sdk-s3` exactly as it would be written against AWS: poll for jobs, acknowledge each with
//! its nonce, download the input artifacts from S3 with the job's `artifactCredentials`, do the
//! work, upload the output artifacts where the job says, and report success (with output
//! variables) or failure.
//!
//! The work here is a stand-in: each output artifact is the primary input's zip with a
//! `worker.txt` added. A job whose configuration has `Fail=true` fails. A job whose
//! configuration has `Steps=2` first reports progress with a continuation token, then finishes
//! when the job comes back carrying that token.
//!
//! Run the server, create the custom action type and a pipeline that uses it (see README), then:
//! `cargo run --example job_worker -- Build MyWorker 1`
//! (`CODEPIPELINE_LOCAL_URL` overrides `http://localhost:4566`). `tests/jobs.rs` runs `work`.

use std::time::{Duration, Instant};

use std::io::{Read as _, Write as _};

use aws_sdk_codepipeline::types::{
    ActionCategory, ActionOwner, ActionTypeId, Artifact, AwsSessionCredentials, ExecutionDetails,
    FailureDetails, FailureType, Job,
};
use aws_sdk_codepipeline::Client;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Works jobs of `action` until `jobs_to_finish` jobs have ended (succeeded or failed) or
/// `deadline` passes, reaching artifacts through the S3 at `s3_endpoint`. Returns the ids of the
/// jobs it ended.
pub async fn work(
    client: &Client,
    s3_endpoint: &str,
    action: &ActionTypeId,
    jobs_to_finish: usize,
    deadline: Duration,
) -> Result<Vec<String>, Error> {
    let started = Instant::now();
    let mut ended = Vec::new();
    while ended.len() < jobs_to_finish && started.elapsed() < deadline {
        let polled = client
            .poll_for_jobs()
            .action_type_id(action.clone())
            .max_batch_size(10)
            .send()
            .await?;
        if polled.jobs().is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        for job in polled.jobs() {
            if handle(client, s3_endpoint, job).await? {
                ended.push(job.id().unwrap_or_default().to_owned());
            }
        }
    }
    Ok(ended)
}

/// Does one job. Returns whether the job ended (false: it asked to be continued).
async fn handle(client: &Client, s3_endpoint: &str, job: &Job) -> Result<bool, Error> {
    let id = job.id().unwrap_or_default();
    client
        .acknowledge_job()
        .job_id(id)
        .nonce(job.nonce().unwrap_or_default())
        .send()
        .await?;
    let data = job.data();
    let config = data
        .and_then(|d| d.action_configuration())
        .and_then(|c| c.configuration());
    let setting = |key: &str| config.and_then(|c| c.get(key)).map(String::as_str);
    let execution = data
        .and_then(|d| d.pipeline_context())
        .and_then(|p| p.pipeline_execution_id())
        .unwrap_or_default();

    if setting("Fail") == Some("true") {
        let failure = FailureDetails::builder()
            .r#type(FailureType::JobFailed)
            .message(format!(
                "The worker was asked to fail in execution {execution}"
            ))
            .build()?;
        client
            .put_job_failure_result()
            .job_id(id)
            .failure_details(failure)
            .send()
            .await?;
        return Ok(true);
    }
    let continuing = data.and_then(|d| d.continuation_token()).is_some();
    if setting("Steps") == Some("2") && !continuing {
        let progress = ExecutionDetails::builder()
            .summary("Step 1 of 2 done")
            .percent_complete(50)
            .build();
        client
            .put_job_success_result()
            .job_id(id)
            .execution_details(progress)
            .continuation_token("step-2")
            .send()
            .await?;
        return Ok(false);
    }
    let inputs: Vec<&str> = data
        .map(|d| d.input_artifacts())
        .unwrap_or_default()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    if let Some(credentials) = data.and_then(|d| d.artifact_credentials()) {
        let s3 = artifact_client(s3_endpoint, credentials);
        let input = match data.and_then(|d| d.input_artifacts().first()) {
            Some(artifact) => download(&s3, artifact).await?,
            None => Vec::new(),
        };
        let built = with_worker_note(&input, &inputs)?;
        for artifact in data.map(|d| d.output_artifacts()).unwrap_or_default() {
            upload(&s3, artifact, built.clone()).await?;
        }
    }
    let details = ExecutionDetails::builder()
        .summary(format!("Worked on {}", inputs.join(", ")))
        .external_execution_id(format!("worker-{id}"))
        .percent_complete(100)
        .build();
    client
        .put_job_success_result()
        .job_id(id)
        .execution_details(details)
        .output_variables("Worker", "example")
        .output_variables("Inputs", inputs.join(","))
        .send()
        .await?;
    Ok(true)
}

/// An S3 client acting with the job's temporary artifact credentials.
fn artifact_client(endpoint: &str, credentials: &AwsSessionCredentials) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_sdk_s3::config::Region::new("us-east-1"))
        .force_path_style(true)
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            credentials.access_key_id(),
            credentials.secret_access_key(),
            Some(credentials.session_token().to_owned()),
            None,
            "artifactCredentials",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// Where the job says an artifact is: `(bucket, key)`.
fn location(artifact: &Artifact) -> Result<(String, String), Error> {
    let s3 = artifact
        .location()
        .and_then(|l| l.s3_location())
        .ok_or("the artifact has no S3 location")?;
    Ok((s3.bucket_name().to_owned(), s3.object_key().to_owned()))
}

async fn download(s3: &aws_sdk_s3::Client, artifact: &Artifact) -> Result<Vec<u8>, Error> {
    let (bucket, key) = location(artifact)?;
    let object = s3.get_object().bucket(bucket).key(key).send().await?;
    Ok(object.body.collect().await?.into_bytes().to_vec())
}

async fn upload(s3: &aws_sdk_s3::Client, artifact: &Artifact, body: Vec<u8>) -> Result<(), Error> {
    let (bucket, key) = location(artifact)?;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await?;
    Ok(())
}

/// The input zip's entries plus `worker.txt` saying what the worker did.
fn with_worker_note(input: &[u8], inputs: &[&str]) -> Result<Vec<u8>, Error> {
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default();
    if let Ok(mut archive) = zip::ZipArchive::new(std::io::Cursor::new(input)) {
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i)?;
            if entry.is_dir() {
                continue;
            }
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes)?;
            out.start_file(entry.name(), options)?;
            out.write_all(&bytes)?;
        }
    }
    out.start_file("worker.txt", options)?;
    writeln!(
        out,
        "built by the example worker from {}",
        inputs.join(", ")
    )?;
    Ok(out.finish()?.into_inner())
}

#[allow(dead_code)] // `tests/executions/jobs.rs` includes this file for `work` only.
#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [category, provider, version] = args.as_slice() else {
        eprintln!("usage: job_worker CATEGORY PROVIDER VERSION   (e.g. Build MyWorker 1)");
        std::process::exit(2);
    };
    let url = std::env::var("CODEPIPELINE_LOCAL_URL")
        .unwrap_or_else(|_| "http://localhost:4566".to_owned());
    let s3_endpoint = url.clone();
    let config = aws_sdk_codepipeline::Config::builder()
        .behavior_version(aws_sdk_codepipeline::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_codepipeline::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_codepipeline::config::Credentials::new(
            "test", "test", None, None, "worker",
        ))
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .build();
    let client = Client::from_conf(config);
    let action = ActionTypeId::builder()
        .category(ActionCategory::from(category.as_str()))
        .owner(ActionOwner::Custom)
        .provider(provider)
        .version(version)
        .build()?;
    println!("working jobs of {category}/Custom/{provider}/{version}; Ctrl-C to stop");
    loop {
        for id in work(&client, &s3_endpoint, &action, 1, Duration::from_secs(3600)).await? {
            println!("job {id} done");
        }
    }
}
