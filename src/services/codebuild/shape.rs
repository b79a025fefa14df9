//! What a build looks like in BatchGetBuilds, as the aws CLI's captured examples show it: its
//! phases in CodeBuild's order, each with start, end, duration and status (COMPLETED has only
//! its start), its logs in `/aws/codebuild/<project>` under the build's UUID, its environment
//! and settings from the project when one exists, CodeBuild's defaults otherwise. A simulated
//! build's phases are spread over its run (`finish`); a real one's are the phases it went
//! through, each entered and ended as it happens (`queued`, `enter`, `end_phase`, `complete`).

use serde_json::{json, Value};

/// CodeBuild's phases, in order.
pub const PHASES: [&str; 11] = [
    "SUBMITTED",
    "QUEUED",
    "PROVISIONING",
    "DOWNLOAD_SOURCE",
    "INSTALL",
    "PRE_BUILD",
    "BUILD",
    "POST_BUILD",
    "UPLOAD_ARTIFACTS",
    "FINALIZING",
    "COMPLETED",
];

/// What starts a build.
pub struct NewBuild<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub project: &'a str,
    /// The project as the API shows it, when it exists.
    pub settings: Option<&'a Value>,
    pub uuid: String,
    pub number: i64,
    pub initiator: String,
    pub source: Value,
    pub source_version: Option<String>,
    pub resolved_source_version: Option<String>,
    pub artifacts_location: Option<String>,
    pub environment_variables: Vec<Value>,
    pub start: f64,
}

pub fn default_environment() -> Value {
    json!({
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/standard:7.0",
        "computeType": "BUILD_GENERAL1_SMALL",
        "environmentVariables": [],
        "privilegedMode": false,
        "imagePullCredentialsType": "CODEBUILD",
    })
}

pub fn log_group(project: &str) -> String {
    format!("/aws/codebuild/{project}")
}

/// A build that has just started: `IN_PROGRESS`, in its BUILD phase.
pub fn started(b: NewBuild) -> Value {
    let start = b.start;
    let mut build = without_phases(b);
    build["phases"] = phases_until(start, start, "BUILD", None);
    build
}

/// [`started`] without its phases, for a build that [`finish`] ends at once (a pipeline's
/// simulated build): they would be replaced before anyone saw them.
pub fn without_phases(b: NewBuild) -> Value {
    let id = format!("{}:{}", b.project, b.uuid);
    let setting = |k: &str| b.settings.and_then(|p| p.get(k)).cloned();
    let mut environment = setting("environment").unwrap_or_else(default_environment);
    if !b.environment_variables.is_empty() {
        let mut vars = environment["environmentVariables"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        vars.extend(b.environment_variables);
        environment["environmentVariables"] = json!(vars);
    }
    let group = log_group(b.project);
    let mut build = json!({
        "id": id,
        "arn": format!("arn:aws:codebuild:{}:{}:build/{id}", b.region, b.account),
        "buildNumber": b.number,
        "startTime": b.start,
        "currentPhase": "BUILD",
        "buildStatus": "IN_PROGRESS",
        "projectName": b.project,
        "phases": [],
        "source": b.source,
        "secondarySources": [],
        "secondarySourceVersions": [],
        "artifacts": {"location": b.artifacts_location.unwrap_or_default()},
        "secondaryArtifacts": [],
        "cache": setting("cache").unwrap_or_else(|| json!({"type": "NO_CACHE"})),
        "environment": environment,
        "serviceRole": setting("serviceRole").unwrap_or_else(|| json!(format!("arn:aws:iam::{}:role/service-role/codebuild-{}-service-role", b.account, b.project))),
        "logs": {
            "groupName": group,
            "streamName": b.uuid,
            "deepLink": format!(
                "https://console.aws.amazon.com/cloudwatch/home?region={}#logEvent:group={group};stream={}",
                b.region, b.uuid
            ),
            "cloudWatchLogsArn": format!(
                "arn:aws:logs:{}:{}:log-group:{group}:log-stream:{}",
                b.region, b.account, b.uuid
            ),
            "cloudWatchLogs": {"status": "ENABLED"},
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": false},
        },
        "timeoutInMinutes": setting("timeoutInMinutes").unwrap_or_else(|| json!(60)),
        "queuedTimeoutInMinutes": setting("queuedTimeoutInMinutes").unwrap_or_else(|| json!(480)),
        "buildComplete": false,
        "initiator": b.initiator,
        "encryptionKey": setting("encryptionKey").unwrap_or_else(|| json!(format!("arn:aws:kms:{}:{}:alias/aws/s3", b.region, b.account))),
    });
    if let Some(v) = b.source_version {
        build["sourceVersion"] = json!(v);
    }
    if let Some(v) = b.resolved_source_version {
        build["resolvedSourceVersion"] = json!(v);
    }
    build
}

/// The phases from SUBMITTED up to `last`, spread evenly between `start` and `end`; `last`
/// ends with `status` when given and is still running otherwise.
fn phases_until(start: f64, end: f64, last: &str, status: Option<&str>) -> Value {
    let count = PHASES.iter().position(|p| *p == last).unwrap_or(0) + 1;
    let step = ((end - start) / count.max(1) as f64).max(0.0);
    let mut out = Vec::new();
    for (i, phase) in PHASES.iter().take(count).enumerate() {
        let begins = start + step * i as f64;
        if *phase == "COMPLETED" {
            out.push(json!({"phaseType": phase, "startTime": end}));
            break;
        }
        let mut p = json!({"phaseType": phase, "startTime": begins});
        let finished = *phase != last || status.is_some();
        if finished {
            let ends = begins + step;
            p["endTime"] = json!(ends);
            p["durationInSeconds"] = json!((ends - begins).round() as i64);
            p["phaseStatus"] = json!(if *phase == last {
                status.unwrap_or("SUCCEEDED")
            } else {
                "SUCCEEDED"
            });
            if i >= 2 {
                p["contexts"] = json!([{"statusCode": "", "message": ""}]);
            }
        }
        out.push(p);
    }
    json!(out)
}

/// Ends `build` with `status` (`SUCCEEDED`, `FAILED`, `STOPPED`, `TIMED_OUT`) at `end`;
/// a failure names its phase and why.
pub fn finish(
    build: &mut Value,
    status: &str,
    end: f64,
    failure: Option<(&str, &str)>,
    exported: &[(String, String)],
) {
    let start = build["startTime"].as_f64().unwrap_or(end);
    let mut phases = phases_until(start, end, "COMPLETED", None);
    if let Some((failed_phase, message)) = failure {
        if let Some(list) = phases.as_array_mut() {
            for p in list.iter_mut() {
                if p["phaseType"] == failed_phase {
                    p["phaseStatus"] = json!(status);
                    p["contexts"] =
                        json!([{"statusCode": "COMMAND_EXECUTION_ERROR", "message": message}]);
                }
            }
        }
    }
    build["phases"] = phases;
    build["currentPhase"] = json!("COMPLETED");
    build["buildStatus"] = json!(status);
    build["endTime"] = json!(end);
    build["buildComplete"] = json!(true);
    if !exported.is_empty() {
        build["exportedEnvironmentVariables"] = json!(exported
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>());
    }
}

/// The log a simulated build leaves, in CodeBuild's `[Container]` style: one line, since a
/// pipeline's every CodeBuild action writes it.
pub fn simulated_log(id: &str, status: &str, end: f64) -> Vec<(i64, String)> {
    let stamp = chrono::DateTime::from_timestamp_millis((end * 1000.0) as i64)
        .unwrap_or_default()
        .format("%Y/%m/%d %H:%M:%S%.6f");
    vec![(
        (end * 1000.0) as i64,
        format!(
            "[Container] {stamp} Build {id} was simulated by codepipeline-local and ended {status}: no command ran. Start the server with --run-builds to run buildspecs."
        ),
    )]
}

/// A real build waiting for its turn: SUBMITTED done, QUEUED running.
pub fn queued(build: &mut Value, at: f64) {
    build["phases"] = json!([
        {"phaseType": "SUBMITTED", "phaseStatus": "SUCCEEDED", "startTime": at, "endTime": at, "durationInSeconds": 0},
        {"phaseType": "QUEUED", "startTime": at},
    ]);
    build["currentPhase"] = json!("QUEUED");
}

fn open_phase(build: &mut Value) -> Option<&mut Value> {
    build["phases"]
        .as_array_mut()?
        .last_mut()
        .filter(|p| p.get("endTime").is_none())
}

/// The running phase ends with `status` at `at`; a failure's message goes in its contexts.
pub fn end_phase(build: &mut Value, status: &str, at: f64, message: Option<&str>) {
    if let Some(p) = open_phase(build) {
        let begun = p["startTime"].as_f64().unwrap_or(at);
        p["endTime"] = json!(at);
        p["durationInSeconds"] = json!((at - begun).max(0.0).round() as i64);
        p["phaseStatus"] = json!(status);
        p["contexts"] = match message {
            Some(m) => json!([{"statusCode": "COMMAND_EXECUTION_ERROR", "message": m}]),
            None => json!([{"statusCode": "", "message": ""}]),
        };
    }
}

/// A real build enters `phase` at `at`; the phase before ends SUCCEEDED if it is still open.
pub fn enter(build: &mut Value, phase: &str, at: f64) {
    end_phase(build, "SUCCEEDED", at, None);
    if let Some(list) = build["phases"].as_array_mut() {
        list.push(json!({"phaseType": phase, "startTime": at}));
    }
    build["currentPhase"] = json!(phase);
}

/// A real build ends with `status` at `end`, through FINALIZING to COMPLETED.
pub fn complete(build: &mut Value, status: &str, end: f64, exported: &[(String, String)]) {
    enter(build, "FINALIZING", end);
    end_phase(build, "SUCCEEDED", end, None);
    if let Some(list) = build["phases"].as_array_mut() {
        list.push(json!({"phaseType": "COMPLETED", "startTime": end}));
    }
    build["currentPhase"] = json!("COMPLETED");
    build["buildStatus"] = json!(status);
    build["endTime"] = json!(end);
    build["buildComplete"] = json!(true);
    if !exported.is_empty() {
        build["exportedEnvironmentVariables"] = json!(exported
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value}))
            .collect::<Vec<_>>());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_builds_phases_are_the_ones_it_went_through() {
        let mut build = json!({"phases": []});
        queued(&mut build, 10.0);
        enter(&mut build, "PROVISIONING", 12.0);
        enter(&mut build, "BUILD", 13.0);
        end_phase(
            &mut build,
            "FAILED",
            16.0,
            Some("Error while executing command: false"),
        );
        enter(&mut build, "POST_BUILD", 16.0);
        complete(&mut build, "FAILED", 17.0, &[]);
        let phases = build["phases"].as_array().unwrap();
        let kinds: Vec<&str> = phases
            .iter()
            .filter_map(|p| p["phaseType"].as_str())
            .collect();
        assert_eq!(
            kinds,
            [
                "SUBMITTED",
                "QUEUED",
                "PROVISIONING",
                "BUILD",
                "POST_BUILD",
                "FINALIZING",
                "COMPLETED"
            ]
        );
        assert_eq!(phases[1]["durationInSeconds"], 2);
        assert_eq!(phases[3]["phaseStatus"], "FAILED");
        assert_eq!(phases[3]["durationInSeconds"], 3);
        assert_eq!(phases[4]["phaseStatus"], "SUCCEEDED");
        assert!(
            phases[6].get("endTime").is_none(),
            "COMPLETED has only its start"
        );
        assert_eq!(build["currentPhase"], "COMPLETED");
        assert_eq!(build["buildStatus"], "FAILED");
    }
}
