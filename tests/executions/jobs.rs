//! Job workers: custom actions (owner `Custom`) wait for a worker that polls for the job,
//! acknowledges it with its nonce and reports success (with output variables, progress and
//! continuation tokens) or failure; third-party actions do the same through the third-party job
//! operations, proving access with the job's client token. The example worker
//! (`examples/job_worker.rs`) runs against the server through the AWS SDK for Rust, and the aws CLI
//! drives each job operation by hand, including the errors AWS gives for hostile inputs.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::sdk_build::{
    action, artifact_details, pipeline, property, s3_source_stage, stage, type_id,
};
use crate::common::*;
use crate::job_worker;
use aws_sdk_codepipeline::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextRef,
};
use aws_sdk_codepipeline::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_codepipeline::error::ProvideErrorMetadata;
use aws_sdk_codepipeline::operation::poll_for_jobs::{PollForJobsInput, PollForJobsOutput};
use aws_sdk_codepipeline::operation::put_job_success_result::PutJobSuccessResultInput;
use aws_sdk_codepipeline::types::{
    ActionCategory, ActionExecution, ActionExecutionDetail, ActionExecutionFilter, ActionOwner,
    ActionTypeId, Job, StageDeclaration,
};
use aws_sdk_codepipeline::Client;
use serde_json::Value;

const PIPELINE: &str = "jobs";
const WORKER_TYPE_ARG: &str = "category=Build,owner=Custom,provider=MyWorker,version=1";
const ALEXA_TYPE_ARG: &str = "category=Deploy,owner=ThirdParty,provider=AlexaSkillsKit,version=1";
const UNKNOWN_JOB: &str = "0b5c3a9e-1d2f-4a6b-8c7d-9e0f1a2b3c4d";

// ---------------------------------------------------------------------------------------------
// Servers and set-up (through the SDK, shared by the SDK and CLI tests)
// ---------------------------------------------------------------------------------------------

/// `Build/Custom/MyWorker/1`.
fn worker_type() -> ActionTypeId {
    type_id(ActionCategory::Build, ActionOwner::Custom, "MyWorker")
}

/// Creates the custom action type `Build/Custom/MyWorker/1` in the client's account.
async fn create_worker_type(client: &Client) {
    client
        .create_custom_action_type()
        .category(ActionCategory::Build)
        .provider("MyWorker")
        .version("1")
        .configuration_properties(property("Project", true, true, true))
        .configuration_properties(property("Fail", false, false, false))
        .configuration_properties(property("Steps", false, false, false))
        .input_artifact_details(artifact_details(0, 5))
        .output_artifact_details(artifact_details(0, 5))
        .send()
        .await
        .expect("CreateCustomActionType");
}

/// The stage `Build` whose action `Build` is a `MyWorker` job on `Code`, in the namespace `W`,
/// configured with `Project=alpha` and `extra`.
fn worker_stage(extra: &[(&str, &str)]) -> StageDeclaration {
    let mut config = vec![("Project", "alpha")];
    config.extend_from_slice(extra);
    let mut build = action("Build", worker_type(), &config, &["Code"], &[]);
    build.namespace = Some("W".to_owned());
    stage("Build", vec![build])
}

/// Creates the pipeline `PIPELINE` (an S3 source whose output artifact is `Code`, then `stages`),
/// which starts an execution.
async fn create_pipeline(client: &Client, stages: Vec<StageDeclaration>) {
    let mut all = vec![s3_source_stage("source-bucket", "app.zip", "Code")];
    all.extend(stages);
    client
        .create_pipeline()
        .pipeline(pipeline(PIPELINE, all))
        .send()
        .await
        .expect("CreatePipeline");
}

/// The worker type and a pipeline using it (with `extra` configuration) in the client's account.
async fn setup(client: &Client, extra: &[(&str, &str)], more: Vec<StageDeclaration>) {
    create_worker_type(client).await;
    let mut stages = vec![worker_stage(extra)];
    stages.extend(more);
    create_pipeline(client, stages).await;
}

/// `setup` for the CLI tests: returns the id of the execution that CreatePipeline started.
fn setup_blocking(s: &Server, extra: &[(&str, &str)]) -> String {
    runtime().block_on(setup(&s.sdk(), extra, vec![]));
    s.latest_execution(PIPELINE)
}

/// A pipeline whose `Deploy` stage is the third-party `AlexaSkillsKit` action on `Code`.
fn setup_alexa(s: &Server) -> String {
    let id = type_id(
        ActionCategory::Deploy,
        ActionOwner::ThirdParty,
        "AlexaSkillsKit",
    );
    let config = [
        ("ClientId", "amzn1.application-oa2-client.example"),
        ("ClientSecret", "client-secret"),
        ("RefreshToken", "refresh-token"),
        ("SkillId", "amzn1.ask.skill.example"),
    ];
    let deploy = stage(
        "Deploy",
        vec![action("Deploy", id, &config, &["Code"], &[])],
    );
    runtime().block_on(create_pipeline(&s.sdk(), vec![deploy]));
    s.latest_execution(PIPELINE)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Runtime::new().expect("tokio runtime")
}

// ---------------------------------------------------------------------------------------------
// SDK helpers
// ---------------------------------------------------------------------------------------------

/// Polls for a job of `id` until one is handed out, for at most 20 s.
async fn poll_job(client: &Client, id: &ActionTypeId) -> Job {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let polled = client
            .poll_for_jobs()
            .action_type_id(id.clone())
            .send()
            .await
            .expect("PollForJobs");
        if let Some(job) = polled.jobs().first() {
            return job.clone();
        }
        assert!(Instant::now() < deadline, "no job of {id:?} within 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The latest execution of the `Build` stage's `Build` action, from GetPipelineState.
async fn build_action_state(client: &Client) -> ActionExecution {
    let state = client
        .get_pipeline_state()
        .name(PIPELINE)
        .send()
        .await
        .expect("GetPipelineState");
    state
        .stage_states()
        .iter()
        .filter(|s| s.stage_name() == Some("Build"))
        .flat_map(|s| s.action_states())
        .find(|a| a.action_name() == Some("Build"))
        .and_then(|a| a.latest_execution())
        .cloned()
        .unwrap_or_else(|| panic!("no Build action execution in {state:#?}"))
}

/// The ListActionExecutions detail of `action` in execution `id`.
async fn action_detail(client: &Client, id: &str, action: &str) -> ActionExecutionDetail {
    let reply = client
        .list_action_executions()
        .pipeline_name(PIPELINE)
        .filter(
            ActionExecutionFilter::builder()
                .pipeline_execution_id(id)
                .build(),
        )
        .send()
        .await
        .expect("ListActionExecutions");
    reply
        .action_execution_details()
        .iter()
        .find(|d| d.action_name() == Some(action))
        .cloned()
        .unwrap_or_else(|| panic!("no {action} in {reply:#?}"))
}

/// Asserts that `result` failed with the service error `code` and a message.
fn assert_service_error<T: Debug, E: ProvideErrorMetadata + Debug>(
    result: Result<T, E>,
    code: &str,
) {
    let err = result.expect_err(code);
    assert_eq!(err.code(), Some(code), "{err:?}");
    assert!(
        err.message().is_some_and(|m| !m.is_empty()),
        "no message: {err:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// CLI helpers
// ---------------------------------------------------------------------------------------------

/// Asserts that `aws codepipeline ARGS` fails with the AWS error `code`.
fn assert_cli_error(s: &Server, args: &[&str], code: &str) {
    let out = s.aws(args);
    assert!(
        !out.ok,
        "aws codepipeline {} should have failed but replied {}",
        args.join(" "),
        out.json
    );
    let (got, message) = out.error();
    assert_eq!(
        got,
        code,
        "aws codepipeline {}: {}",
        args.join(" "),
        out.stderr
    );
    assert!(!message.is_empty(), "no message: {}", out.stderr);
}

/// `poll-for-jobs` (or `poll-for-third-party-jobs`) for `type_arg` with `extra` arguments: the jobs.
fn poll_cli(s: &Server, command: &str, type_arg: &str, extra: &[&str]) -> Vec<Value> {
    let mut args = vec![command, "--action-type-id", type_arg];
    args.extend_from_slice(extra);
    s.aws_ok(&args)["jobs"]
        .as_array()
        .unwrap_or_else(|| panic!("{command} replied without jobs"))
        .clone()
}

/// Polls with the CLI until a job is handed out, for at most 20 s.
fn wait_for_job(s: &Server, command: &str, type_arg: &str) -> Value {
    poll(&format!("{command} to return a job"), || {
        poll_cli(s, command, type_arg, &[]).first().cloned()
    })
}

/// The `Build` stage's `Build` action in `get-pipeline-state`.
fn action_state(s: &Server, stage: &str) -> Value {
    let state = s.aws_ok(&["get-pipeline-state", "--name", PIPELINE]);
    state["stageStates"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|st| st["stageName"] == stage)
        .and_then(|st| st["actionStates"].get(0))
        .cloned()
        .unwrap_or_else(|| panic!("no {stage} action in {state:#}"))
}

/// Waits until the action of `stage` runs in execution `id` (its job is issued then).
fn wait_for_running(s: &Server, stage: &str, id: &str) {
    poll(&format!("the {stage} action to run"), || {
        let latest = &action_state(s, stage)["latestExecution"];
        (latest["status"] == "InProgress" && latest["actionExecutionId"].is_string()).then_some(())
    });
    let e = s.aws_ok(&[
        "get-pipeline-execution",
        "--pipeline-name",
        PIPELINE,
        "--pipeline-execution-id",
        id,
    ]);
    assert_eq!(e["pipelineExecution"]["status"], "InProgress", "{e:#}");
}

fn str_of<'a>(v: &'a Value, what: &str) -> &'a str {
    v.as_str()
        .unwrap_or_else(|| panic!("{what} is not a string: {v}"))
}

// ---------------------------------------------------------------------------------------------
// 1. The example worker
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn example_worker_drives_a_run_to_success() {
    let s = Server::fast();
    let client = s.sdk();
    // The deploy bucket exists, so S3 deploy is real and stores what the worker uploaded.
    assert!(s.aws_of("s3", &["mb", "s3://deploy-bucket"]).ok);
    let deploy_id = type_id(ActionCategory::Deploy, ActionOwner::Aws, "S3");
    let deploy_config = [
        ("BucketName", "deploy-bucket"),
        ("Extract", "false"),
        ("ObjectKey", "#{W.Worker}/app.zip"),
    ];
    let deploy = action("Deploy", deploy_id, &deploy_config, &["Built"], &[]);
    create_worker_type(&client).await;
    let mut build = action(
        "Build",
        worker_type(),
        &[("Project", "alpha")],
        &["Code"],
        &["Built"],
    );
    build.namespace = Some("W".to_owned());
    create_pipeline(
        &client,
        vec![stage("Build", vec![build]), stage("Deploy", vec![deploy])],
    )
    .await;
    let id = s.latest_execution(PIPELINE);

    let ended = job_worker::work(&client, &s.url, &worker_type(), 1, Duration::from_secs(20))
        .await
        .expect("the worker");
    assert_eq!(ended.len(), 1, "{ended:?}");
    s.wait_for_execution(PIPELINE, &id, "Succeeded");

    let build = action_detail(&client, &id, "Build").await;
    let output = build.output().expect("Build output");
    let variables = output.output_variables().expect("output variables");
    let expected: HashMap<String, String> = [("Worker", "example"), ("Inputs", "Code")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    assert_eq!(variables, &expected, "{build:#?}");
    let result = output.execution_result().expect("execution result");
    assert_eq!(result.external_execution_summary(), Some("Worked on Code"));
    assert_eq!(
        result.external_execution_id(),
        Some(format!("worker-{}", ended[0]).as_str())
    );

    let deploy = action_detail(&client, &id, "Deploy").await;
    let resolved = deploy
        .input()
        .and_then(|i| i.resolved_configuration())
        .expect("resolved configuration");
    assert_eq!(
        resolved.get("ObjectKey").map(String::as_str),
        Some("example/app.zip"),
        "{deploy:#?}"
    );

    // The worker read its input and wrote its output with the job's artifact credentials;
    // the deploy then stored exactly what the worker uploaded.
    let dir = tempfile::tempdir().expect("temp dir");
    let local = dir.path().join("app.zip");
    let copied = s.aws_of(
        "s3",
        &[
            "cp",
            "s3://deploy-bucket/example/app.zip",
            &local.display().to_string(),
        ],
    );
    assert!(copied.ok, "{}", copied.stderr);
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(&local).expect("open")).expect("a zip");
    let mut note = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("worker.txt").expect("worker.txt"),
        &mut note,
    )
    .expect("read");
    assert_eq!(note, "built by the example worker from Code\n");
    assert!(
        archive.by_name("codepipeline-local-artifact.txt").is_ok(),
        "the stub source's zip came through the worker"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Continuation
// ---------------------------------------------------------------------------------------------

/// An interceptor on the worker's client: after the worker reports progress with a continuation
/// token, its next PollForJobs waits until the test has looked at the pipeline and lets it go.
/// It also records the continuation token of every job the worker is handed.
#[derive(Debug)]
struct GateState {
    armed: AtomicBool,
    paused: Mutex<mpsc::Sender<()>>,
    release: Mutex<mpsc::Receiver<()>>,
    tokens: Mutex<Vec<Option<String>>>,
}

/// Shared, so the test keeps a handle on what the gate recorded.
#[derive(Debug, Clone)]
struct Gate(Arc<GateState>);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Intercept for Gate {
    fn name(&self) -> &'static str {
        "ContinuationGate"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let (gate, input) = (&self.0, context.input());
        if let Some(put) = input.downcast_ref::<PutJobSuccessResultInput>() {
            if put.continuation_token().is_some() {
                gate.armed.store(true, Ordering::SeqCst);
            }
        }
        if input.downcast_ref::<PollForJobsInput>().is_some()
            && gate.armed.swap(false, Ordering::SeqCst)
        {
            gate.paused.lock().unwrap().send(())?;
            gate.release
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(20))?;
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _rc: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(output) = context.output_or_error() {
            if let Some(polled) = output.downcast_ref::<PollForJobsOutput>() {
                let mut tokens = self.0.tokens.lock().unwrap();
                for job in polled.jobs() {
                    let token = job.data().and_then(|d| d.continuation_token());
                    tokens.push(token.map(str::to_owned));
                }
            }
        }
        Ok(())
    }
}

/// The worker runs on a thread and runtime of its own, so the gate can block it without holding
/// up the test's own requests.
#[test]
fn continuation_token_brings_the_job_back() {
    let s = Server::fast();
    let rt = runtime();
    let client = s.sdk();
    rt.block_on(setup(&client, &[("Steps", "2")], vec![]));
    let id = s.latest_execution(PIPELINE);

    let (paused_tx, paused_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel();
    let gate = Gate(Arc::new(GateState {
        armed: AtomicBool::new(false),
        paused: Mutex::new(paused_tx),
        release: Mutex::new(release_rx),
        tokens: Mutex::new(Vec::new()),
    }));
    let ended = std::thread::scope(|scope| {
        let worker = scope.spawn(|| {
            let config = s.sdk().config().to_builder().interceptor(gate.clone());
            let worker_client = Client::from_conf(config.build());
            // Asked for two ended jobs, the worker ends only one: the first job ended with a
            // continuation, so it keeps polling until its deadline.
            let deadline = Duration::from_secs(8);
            runtime().block_on(job_worker::work(
                &worker_client,
                &s.url,
                &worker_type(),
                2,
                deadline,
            ))
        });
        // Dropped if an assertion fails, which lets the worker go at once.
        let release = release_tx;
        paused_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the worker to report progress within 20 s");
        let progress = rt.block_on(build_action_state(&client));
        assert_eq!(
            progress.status().map(|s| s.as_str()),
            Some("InProgress"),
            "{progress:#?}"
        );
        assert_eq!(progress.percent_complete(), Some(50), "{progress:#?}");
        assert_eq!(
            progress.summary(),
            Some("Step 1 of 2 done"),
            "{progress:#?}"
        );
        let execution = rt.block_on(
            client
                .get_pipeline_execution()
                .pipeline_name(PIPELINE)
                .pipeline_execution_id(&id)
                .send(),
        );
        let execution = execution.expect("GetPipelineExecution");
        let status = execution.pipeline_execution().and_then(|e| e.status());
        assert_eq!(status.map(|s| s.as_str()), Some("InProgress"));
        release.send(()).expect("release the worker");
        worker.join().expect("worker thread").expect("the worker")
    });
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(
        *gate.0.tokens.lock().unwrap(),
        vec![None, Some("step-2".to_owned())],
        "continuation tokens of the jobs the worker was handed"
    );
    s.wait_for_execution(PIPELINE, &id, "Succeeded");
    let done = rt.block_on(build_action_state(&client));
    assert_eq!(done.summary(), Some("Worked on Code"), "{done:#?}");
    assert_eq!(done.percent_complete(), Some(100), "{done:#?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Failure
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn failed_job_fails_the_execution() {
    let s = Server::fast();
    let client = s.sdk();
    setup(&client, &[("Fail", "true")], vec![]).await;
    let id = s.latest_execution(PIPELINE);

    let ended = job_worker::work(&client, &s.url, &worker_type(), 1, Duration::from_secs(20))
        .await
        .expect("the worker");
    assert_eq!(ended.len(), 1, "{ended:?}");
    let e = s.wait_for_execution(PIPELINE, &id, "Failed");
    let message = format!("The worker was asked to fail in execution {id}");
    let summary = str_of(&e["statusSummary"], "statusSummary");
    assert!(summary.contains(&message), "{e:#}");
    let failed = build_action_state(&client).await;
    let error = failed.error_details().expect("error details");
    assert_eq!(error.code(), Some("JobFailed"), "{failed:#?}");
    assert_eq!(error.message(), Some(message.as_str()), "{failed:#?}");
}

// ---------------------------------------------------------------------------------------------
// 4. Every job operation through the aws CLI
// ---------------------------------------------------------------------------------------------

#[test]
fn cli_poll_acknowledge_and_succeed_a_job() {
    let s = Server::fast();
    let id = setup_blocking(&s, &[]);

    let job = wait_for_job(&s, "poll-for-jobs", WORKER_TYPE_ARG);
    let job_id = str_of(&job["id"], "id").to_owned();
    let nonce = str_of(&job["nonce"], "nonce").to_owned();
    assert!(!nonce.is_empty(), "{job:#}");
    assert_eq!(job["accountId"], ACCOUNT, "{job:#}");
    let data = &job["data"];
    assert_eq!(data["pipelineContext"]["pipelineName"], PIPELINE, "{job:#}");
    assert_eq!(data["pipelineContext"]["pipelineExecutionId"], id.as_str());
    assert_eq!(data["inputArtifacts"][0]["name"], "Code", "{job:#}");
    let bucket = &data["inputArtifacts"][0]["location"]["s3Location"]["bucketName"];
    assert!(bucket.as_str().is_some_and(|b| !b.is_empty()), "{job:#}");
    let key_id = &data["artifactCredentials"]["accessKeyId"];
    assert!(key_id.as_str().is_some_and(|k| !k.is_empty()), "{job:#}");
    assert_eq!(
        data["actionConfiguration"]["configuration"]["Project"],
        "alpha"
    );
    assert!(data.get("continuationToken").is_none(), "{job:#}");

    // Handed out once: a second poll finds nothing.
    assert_eq!(
        poll_cli(&s, "poll-for-jobs", WORKER_TYPE_ARG, &[]),
        Vec::<Value>::new()
    );

    let details = &s.aws_ok(&["get-job-details", "--job-id", &job_id])["jobDetails"].clone();
    assert_eq!(details["id"], job_id.as_str(), "{details:#}");
    assert_eq!(details["accountId"], ACCOUNT, "{details:#}");
    assert_eq!(
        &details["data"], data,
        "get-job-details data differs from the polled job's"
    );

    let ack = |nonce: &str| s.aws(&["acknowledge-job", "--job-id", &job_id, "--nonce", nonce]);
    let wrong = ack("wrong-nonce");
    assert!(!wrong.ok, "a wrong nonce was accepted: {}", wrong.json);
    assert_eq!(wrong.error().0, "InvalidNonceException", "{}", wrong.stderr);
    let right = ack(&nonce);
    assert!(right.ok, "acknowledge-job: {}", right.stderr);
    let acked = right.json;
    assert_eq!(acked["status"], "InProgress", "{acked:#}");

    let succeed = ["put-job-success-result", "--job-id", job_id.as_str()];
    s.aws_ok(&succeed);
    s.wait_for_execution(PIPELINE, &id, "Succeeded");
    assert_cli_error(&s, &succeed, "InvalidJobStateException");
}

// ---------------------------------------------------------------------------------------------
// 5. Hostile inputs
// ---------------------------------------------------------------------------------------------

/// The job operations that take only a job id (plus what each requires), for `job_id`.
fn job_operations(job_id: &str) -> Vec<Vec<&str>> {
    vec![
        vec!["get-job-details", "--job-id", job_id],
        vec![
            "acknowledge-job",
            "--job-id",
            job_id,
            "--nonce",
            "some-nonce",
        ],
        vec!["put-job-success-result", "--job-id", job_id],
        vec![
            "put-job-failure-result",
            "--job-id",
            job_id,
            "--failure-details",
            "type=JobFailed,message=broken",
        ],
    ]
}

#[test]
fn unknown_and_malformed_job_ids() {
    let s = Server::fast();
    for args in job_operations(UNKNOWN_JOB) {
        assert_cli_error(&s, &args, "JobNotFoundException");
    }
    for args in job_operations("not-a-job-id") {
        assert_cli_error(&s, &args, "ValidationException");
    }
}

#[tokio::test]
async fn jobs_of_another_account_are_not_found() {
    let s = Server::fast();
    let other = s.sdk_as("111111111111", "us-east-1");
    setup(&other, &[], vec![]).await;
    let job = poll_job(&other, &worker_type()).await;
    let job_id = job.id().expect("job id");
    let nonce = job.nonce().expect("nonce");

    let client = s.sdk();
    let details = client.get_job_details().job_id(job_id).send().await;
    assert_service_error(details, "JobNotFoundException");
    let ack = client
        .acknowledge_job()
        .job_id(job_id)
        .nonce(nonce)
        .send()
        .await;
    assert_service_error(ack, "JobNotFoundException");
    let put = client.put_job_success_result().job_id(job_id).send().await;
    assert_service_error(put, "JobNotFoundException");

    // The owner still can.
    let own = other.get_job_details().job_id(job_id).send().await;
    assert_eq!(
        own.expect("GetJobDetails")
            .job_details()
            .and_then(|d| d.id()),
        Some(job_id)
    );
}

#[test]
fn polling_an_unknown_action_type() {
    let s = Server::fast();
    let unknown = "category=Build,owner=Custom,provider=NoSuchWorker,version=1";
    assert_cli_error(
        &s,
        &["poll-for-jobs", "--action-type-id", unknown],
        "ActionTypeNotFoundException",
    );
}

#[test]
fn query_param_selects_jobs_by_configuration() {
    let s = Server::fast();
    let id = setup_blocking(&s, &[]);
    wait_for_running(&s, "Build", &id);

    let beta = poll_cli(
        &s,
        "poll-for-jobs",
        WORKER_TYPE_ARG,
        &["--query-param", "Project=beta"],
    );
    assert_eq!(beta, Vec::<Value>::new());
    let alpha = poll_cli(
        &s,
        "poll-for-jobs",
        WORKER_TYPE_ARG,
        &["--query-param", "Project=alpha"],
    );
    assert_eq!(alpha.len(), 1, "{alpha:#?}");
    assert_eq!(
        alpha[0]["data"]["pipelineContext"]["pipelineExecutionId"],
        id.as_str()
    );
}

#[test]
fn job_of_an_abandoned_execution_is_not_handed_out() {
    let s = Server::fast();
    let id = setup_blocking(&s, &[]);
    wait_for_running(&s, "Build", &id);

    let stop = [
        "stop-pipeline-execution",
        "--pipeline-name",
        PIPELINE,
        "--pipeline-execution-id",
        id.as_str(),
        "--abandon",
    ];
    s.aws_ok(&stop);
    s.wait_for_execution(PIPELINE, &id, "Stopped");
    assert_eq!(
        poll_cli(&s, "poll-for-jobs", WORKER_TYPE_ARG, &[]),
        Vec::<Value>::new()
    );
}

#[test]
fn configuration_error_fails_the_action_with_that_code() {
    let s = Server::fast();
    let id = setup_blocking(&s, &[]);
    let job = wait_for_job(&s, "poll-for-jobs", WORKER_TYPE_ARG);
    let job_id = str_of(&job["id"], "id");

    let details = "type=ConfigurationError,message=Project alpha does not exist";
    s.aws_ok(&[
        "put-job-failure-result",
        "--job-id",
        job_id,
        "--failure-details",
        details,
    ]);
    s.wait_for_execution(PIPELINE, &id, "Failed");
    let latest = &action_state(&s, "Build")["latestExecution"];
    assert_eq!(latest["status"], "Failed", "{latest:#}");
    assert_eq!(
        latest["errorDetails"]["code"], "ConfigurationError",
        "{latest:#}"
    );
    assert_eq!(
        latest["errorDetails"]["message"], "Project alpha does not exist",
        "{latest:#}"
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Third-party jobs
// ---------------------------------------------------------------------------------------------

#[test]
fn third_party_job_with_client_token() {
    let s = Server::fast();
    let id = setup_alexa(&s);

    let job = wait_for_job(&s, "poll-for-third-party-jobs", ALEXA_TYPE_ARG);
    let mut keys: Vec<&str> = job
        .as_object()
        .expect("job object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["clientId", "jobId"], "{job:#}");
    let job_id = str_of(&job["jobId"], "jobId");
    let client_id = str_of(&job["clientId"], "clientId");

    let details = s.aws_ok(&[
        "get-third-party-job-details",
        "--job-id",
        job_id,
        "--client-token",
        client_id,
    ])["jobDetails"]
        .clone();
    assert_eq!(details["id"], job_id, "{details:#}");
    let nonce = str_of(&details["nonce"], "nonce");
    let data = &details["data"];
    assert_eq!(
        data["pipelineContext"]["pipelineName"], PIPELINE,
        "{details:#}"
    );
    assert_eq!(
        data["actionConfiguration"]["configuration"]["SkillId"], "amzn1.ask.skill.example",
        "{details:#}"
    );
    assert_eq!(data["inputArtifacts"][0]["name"], "Code", "{details:#}");

    assert_cli_error(
        &s,
        &[
            "get-third-party-job-details",
            "--job-id",
            job_id,
            "--client-token",
            "not-the-client-id",
        ],
        "InvalidClientTokenException",
    );

    let acked = s.aws_ok(&[
        "acknowledge-third-party-job",
        "--job-id",
        job_id,
        "--nonce",
        nonce,
        "--client-token",
        client_id,
    ]);
    assert_eq!(acked["status"], "InProgress", "{acked:#}");
    s.aws_ok(&[
        "put-third-party-job-success-result",
        "--job-id",
        job_id,
        "--client-token",
        client_id,
    ]);
    s.wait_for_execution(PIPELINE, &id, "Succeeded");
}
