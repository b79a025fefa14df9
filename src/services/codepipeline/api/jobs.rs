//! Job workers: PollForJobs, AcknowledgeJob, GetJobDetails, PutJobSuccessResult,
//! PutJobFailureResult, and their third-party twins (which prove access with `clientToken`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::action_types::Catalog;
use crate::services::codepipeline::domain::arn;
use crate::services::codepipeline::domain::execution::machine::JobOutcome;
use crate::services::codepipeline::domain::execution::model::{
    ActionRun, ActionStatus, ArtifactLocation, Execution, JobStatus, Revision,
};
use crate::services::codepipeline::domain::pipeline::ActionTypeId;
use crate::services::codepipeline::engine::PipelineKey;
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records::{self as repo, JobIndex};
use crate::state::AppState;
use crate::wire::credentials;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PollInput {
    action_type_id: ActionTypeId,
    max_batch_size: Option<usize>,
    #[serde(default)]
    query_param: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AckInput {
    job_id: String,
    nonce: String,
    client_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobInput {
    job_id: String,
    client_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CurrentRevision {
    revision: String,
    change_identifier: String,
    created: Option<f64>,
    revision_summary: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecutionDetails {
    summary: Option<String>,
    external_execution_id: Option<String>,
    percent_complete: Option<i64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SuccessInput {
    job_id: String,
    client_token: Option<String>,
    current_revision: Option<CurrentRevision>,
    continuation_token: Option<String>,
    execution_details: Option<ExecutionDetails>,
    #[serde(default)]
    output_variables: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureDetails {
    #[serde(rename = "type")]
    kind: String,
    message: String,
    external_execution_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailureInput {
    job_id: String,
    client_token: Option<String>,
    failure_details: FailureDetails,
}

/// Output variables per result, as AWS limits them.
const MAX_OUTPUT_VARIABLES_BYTES: usize = 122_880;

fn job_not_found(job_id: &str) -> AwsError {
    AwsError::new(codes::JOB_NOT_FOUND, format!("Job {job_id} was not found"))
}

/// Whether the job still takes an acknowledgement or a result: not once it has its result,
/// its action ended, or a continuation replaced it.
fn is_open(job_id: &str, run: &ActionRun) -> bool {
    run.status == Some(ActionStatus::InProgress)
        && run.job.as_ref().is_some_and(|j| {
            j.id == job_id && !matches!(j.status, JobStatus::Succeeded | JobStatus::Failed)
        })
}

fn still_open(job_id: &str, run: &ActionRun) -> Result<(), AwsError> {
    if is_open(job_id, run) {
        return Ok(());
    }
    Err(AwsError::new(
        codes::INVALID_JOB_STATE,
        format!("Job {job_id} has already ended and takes no more results"),
    ))
}

/// The job's index, execution and run, checking a third-party caller's client token.
fn load_job(
    state: &AppState,
    ctx: &Context,
    job_id: &str,
    client_token: Option<&str>,
) -> Result<(JobIndex, Execution, ActionRun), AwsError> {
    let store = state.store.as_ref();
    let index = repo::load_job_index(store, &ctx.account, &ctx.region, job_id)?
        .ok_or_else(|| job_not_found(job_id))?;
    let e = repo::load_execution(
        store,
        &ctx.account,
        &ctx.region,
        &index.pipeline,
        &index.execution_id,
    )?
    .ok_or_else(|| job_not_found(job_id))?;
    let run = e
        .stage(&index.stage)
        .and_then(|s| s.actions.iter().find(|a| a.name == index.action))
        .cloned()
        .ok_or_else(|| job_not_found(job_id))?;
    let job = run.job.as_ref().filter(|j| j.id == job_id);
    if let Some(token) = client_token {
        if job.and_then(|j| j.client_id.as_deref()) != Some(token) {
            return Err(AwsError::new(
                codes::INVALID_CLIENT_TOKEN,
                format!("The client token is not valid for job {job_id}"),
            ));
        }
    }
    Ok((index, e, run))
}

fn artifact(a: &ArtifactLocation, revision: Option<&Revision>) -> Value {
    let mut v = json!({
        "name": a.name,
        "location": {"type": "S3", "s3Location": {"bucketName": a.bucket, "objectKey": a.key}},
    });
    if let Some(r) = revision {
        v["revision"] = json!(r.revision_id);
    }
    v
}

/// The `JobData` a worker receives: type, resolved configuration, pipeline context, artifacts,
/// temporary artifact credentials and the continuation token.
fn job_data(ctx: &Context, index: &JobIndex, e: &Execution, run: &ActionRun) -> Value {
    let source_revision = |name: &str| {
        e.stages.first().and_then(|s| {
            s.actions
                .iter()
                .find(|a| a.output_artifacts.iter().any(|o| o.name == name))
                .and_then(|a| e.revisions.get(&a.name))
        })
    };
    let mut data = json!({
        "actionTypeId": index.action_type_id,
        "actionConfiguration": {"configuration": run.resolved_configuration},
        "pipelineContext": {
            "pipelineName": e.pipeline_name,
            "stage": {"name": index.stage},
            "action": {"name": index.action, "actionExecutionId": run.action_execution_id},
            "pipelineArn": arn::pipeline(&ctx.region, &ctx.account, &e.pipeline_name),
            "pipelineExecutionId": e.id,
        },
        "inputArtifacts": run.input_artifacts.iter().map(|a| artifact(a, source_revision(&a.name))).collect::<Vec<_>>(),
        "outputArtifacts": run.output_artifacts.iter().map(|a| artifact(a, None)).collect::<Vec<_>>(),
        "artifactCredentials": {
            "accessKeyId": credentials::ARTIFACT_ACCESS_KEY,
            "secretAccessKey": credentials::ARTIFACT_SECRET_KEY,
            "sessionToken": format!("{}{}", credentials::ARTIFACT_SESSION_PREFIX, run.action_execution_id.clone().unwrap_or_default()),
        },
    });
    if let Some(token) = run.job.as_ref().and_then(|j| j.continuation_token.clone()) {
        data["continuationToken"] = json!(token);
    }
    data
}

/// Jobs of one action type waiting for a worker, dispatched to this caller.
async fn poll(
    state: &AppState,
    ctx: &Context,
    input: &PollInput,
) -> Result<Vec<(JobIndex, Execution, ActionRun)>, AwsError> {
    // Live AWS's reply (boto3 issue 1100): only custom and third-party types have job workers.
    if input.action_type_id.owner == "AWS" {
        return Err(AwsError::validation(
            "ActionType with owner 'AWS' is not supported",
        ));
    }
    let store = state.store.as_ref();
    let custom = repo::load_custom_action_types(store, &ctx.account, &ctx.region)?;
    if Catalog::new(&custom).find(&input.action_type_id).is_none() {
        return Err(AwsError::new(
            codes::ACTION_TYPE_NOT_FOUND,
            format!("{} is not available", input.action_type_id.job_label()),
        ));
    }
    let limit = input.max_batch_size.unwrap_or(1);
    let mut out = Vec::new();
    let prefix = Keys::job_queue(&ctx.account, &ctx.region, &input.action_type_id);
    for (key, _) in store.scan(&prefix, None, usize::MAX)? {
        if out.len() >= limit {
            break;
        }
        let job_id = key.rsplit('/').next().unwrap_or_default().to_owned();
        let Ok((index, e, run)) = load_job(state, ctx, &job_id, None) else {
            continue;
        };
        let waiting = run
            .job
            .as_ref()
            .is_some_and(|j| j.id == job_id && j.status == JobStatus::Queued)
            && run.status == Some(ActionStatus::InProgress);
        let matches = input
            .query_param
            .iter()
            .all(|(k, v)| run.resolved_configuration.get(k) == Some(v));
        if !waiting || !matches {
            continue;
        }
        let pipeline_key = PipelineKey::new(&ctx.account, &ctx.region, &index.pipeline);
        state
            .engine
            .with_machine(&pipeline_key, None, |m| m.dispatch_job(&job_id))
            .await?;
        out.push((index, e, run));
    }
    Ok(out)
}

pub async fn poll_for_jobs(
    state: &AppState,
    ctx: &Context,
    input: PollInput,
) -> Result<Value, AwsError> {
    let jobs: Vec<Value> = poll(state, ctx, &input)
        .await?
        .iter()
        .map(|(index, e, run)| {
            json!({
                "id": run.job.as_ref().map(|j| j.id.clone()),
                "data": job_data(ctx, index, e, run),
                "nonce": run.job.as_ref().map(|j| j.nonce.clone()),
                "accountId": ctx.account,
            })
        })
        .collect();
    Ok(json!({ "jobs": jobs }))
}

pub async fn poll_for_third_party_jobs(
    state: &AppState,
    ctx: &Context,
    input: PollInput,
) -> Result<Value, AwsError> {
    let jobs: Vec<Value> = poll(state, ctx, &input)
        .await?
        .iter()
        .filter_map(|(_, _, run)| run.job.as_ref())
        .map(|j| json!({ "clientId": j.client_id, "jobId": j.id }))
        .collect();
    Ok(json!({ "jobs": jobs }))
}

pub async fn get_job_details(
    state: &AppState,
    ctx: &Context,
    input: JobInput,
) -> Result<Value, AwsError> {
    let (index, e, run) = load_job(state, ctx, &input.job_id, input.client_token.as_deref())?;
    let mut details = json!({ "id": input.job_id, "data": job_data(ctx, &index, &e, &run) });
    if input.client_token.is_some() {
        details["nonce"] = json!(run.job.as_ref().map(|j| j.nonce.clone()));
    } else {
        details["accountId"] = json!(ctx.account);
    }
    Ok(json!({ "jobDetails": details }))
}

pub async fn acknowledge(
    state: &AppState,
    ctx: &Context,
    input: AckInput,
) -> Result<Value, AwsError> {
    let (index, _, run) = load_job(state, ctx, &input.job_id, input.client_token.as_deref())?;
    if !is_open(&input.job_id, &run) {
        // An ended job answers with the state it ended in, as AcknowledgeJob's reply allows.
        let job = run.job.as_ref().filter(|j| j.id == input.job_id);
        if job.is_some_and(|j| j.nonce != input.nonce) {
            return Err(AwsError::new(
                codes::INVALID_NONCE,
                format!(
                    "The nonce {} is not valid for job {}",
                    input.nonce, input.job_id
                ),
            ));
        }
        let ended = match job.map(|j| j.status) {
            Some(JobStatus::Failed) => JobStatus::Failed,
            _ if run.status == Some(ActionStatus::Failed) => JobStatus::Failed,
            _ => JobStatus::Succeeded,
        };
        return Ok(json!({ "status": ended }));
    }
    let key = PipelineKey::new(&ctx.account, &ctx.region, &index.pipeline);
    let status = state
        .engine
        .with_machine(&key, None, |m| {
            m.acknowledge_job(&input.job_id, &input.nonce)
        })
        .await?;
    Ok(json!({ "status": status }))
}

pub async fn put_success(
    state: &AppState,
    ctx: &Context,
    input: SuccessInput,
) -> Result<Value, AwsError> {
    // The API reference: output variables only when there is no continuation token.
    if input.continuation_token.is_some() && !input.output_variables.is_empty() {
        return Err(AwsError::validation(
            "outputVariables can only be included when there is no continuationToken; \
             send them with the result that ends the action",
        ));
    }
    let (index, _, run) = load_job(state, ctx, &input.job_id, input.client_token.as_deref())?;
    still_open(&input.job_id, &run)?;
    let size: usize = input
        .output_variables
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum();
    if size > MAX_OUTPUT_VARIABLES_BYTES {
        return Err(AwsError::new(
            codes::OUTPUT_VARIABLES_SIZE_EXCEEDED,
            format!(
                "Output variables take {size} bytes; the limit is {MAX_OUTPUT_VARIABLES_BYTES}"
            ),
        ));
    }
    let details = input.execution_details;
    let now = state.engine.clock.now();
    let outcome = JobOutcome::Success {
        summary: details.as_ref().and_then(|d| d.summary.clone()),
        external_execution_id: details
            .as_ref()
            .and_then(|d| d.external_execution_id.clone()),
        percent_complete: details.as_ref().and_then(|d| d.percent_complete),
        output_variables: input.output_variables,
        continuation_token: input.continuation_token,
        revision: input.current_revision.map(|r| Revision {
            revision_id: r.revision,
            revision_summary: r.revision_summary,
            revision_url: None,
            change_identifier: Some(r.change_identifier),
            created: r.created.unwrap_or(now),
        }),
    };
    let key = PipelineKey::new(&ctx.account, &ctx.region, &index.pipeline);
    state
        .engine
        .with_machine(&key, None, |m| m.job_result(&input.job_id, outcome))
        .await?;
    Ok(json!({}))
}

pub async fn put_failure(
    state: &AppState,
    ctx: &Context,
    input: FailureInput,
) -> Result<Value, AwsError> {
    let (index, _, run) = load_job(state, ctx, &input.job_id, input.client_token.as_deref())?;
    still_open(&input.job_id, &run)?;
    let f = input.failure_details;
    let outcome = JobOutcome::Failure {
        code: f.kind,
        message: f.message,
        external_execution_id: f.external_execution_id,
    };
    let key = PipelineKey::new(&ctx.account, &ctx.region, &index.pipeline);
    state
        .engine
        .with_machine(&key, None, |m| m.job_result(&input.job_id, outcome))
        .await?;
    Ok(json!({}))
}
