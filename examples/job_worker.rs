//! A job worker for a custom action type, written against `aws-sdk-codepipeline` exactly as it
//! would be written against AWS: poll for jobs, acknowledge each with its nonce, do the work, and
//! report success (with output variables) or failure.
//!
//! The work here is a stand-in. A job whose configuration has `Fail=true` fails. A job whose
//! configuration has `Steps=2` first reports progress with a continuation token, then finishes
//! when the job comes back carrying that token.
//!
//! Run the server, create the custom action type and a pipeline that uses it (see README), then:
//! `cargo run --example job_worker -- Build MyWorker 1`
//! (`CODEPIPELINE_LOCAL_URL` overrides `http://localhost:4566`). `tests/jobs.rs` runs `work`.

use std::time::{Duration, Instant};

use aws_sdk_codepipeline::types::{
    ActionCategory, ActionOwner, ActionTypeId, ExecutionDetails, FailureDetails, FailureType, Job,
};
use aws_sdk_codepipeline::Client;

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Works jobs of `action` until `jobs_to_finish` jobs have ended (succeeded or failed) or
/// `deadline` passes. Returns the ids of the jobs it ended.
pub async fn work(
    client: &Client,
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
            if handle(client, job).await? {
                ended.push(job.id().unwrap_or_default().to_owned());
            }
        }
    }
    Ok(ended)
}

/// Does one job. Returns whether the job ended (false: it asked to be continued).
async fn handle(client: &Client, job: &Job) -> Result<bool, Error> {
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

#[allow(dead_code)] // `tests/jobs.rs` includes this file for `work` only.
#[tokio::main]
async fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [category, provider, version] = args.as_slice() else {
        eprintln!("usage: job_worker CATEGORY PROVIDER VERSION   (e.g. Build MyWorker 1)");
        std::process::exit(2);
    };
    let url = std::env::var("CODEPIPELINE_LOCAL_URL")
        .unwrap_or_else(|_| "http://localhost:4566".to_owned());
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
        for id in work(&client, &action, 1, Duration::from_secs(3600)).await? {
            println!("job {id} done");
        }
    }
}
