//! Stage conditions with the real binary: a beforeEntry rule that hangs until
//! OverrideStageCondition (through the aws CLI), a VariableCheck that fails a stage, an
//! onFailure ROLLBACK that redeploys the last good execution, and ListRuleExecutions.

use crate::common::*;
use serde_json::{json, Value};

/// A V2 pipeline: an S3 source (namespace S), then a Deploy stage carrying `conditions`.
fn pipeline(name: &str, conditions: Value) -> Value {
    let mut deploy = json!({"name": "Deploy", "actions": [{"name": "Deploy",
        "actionTypeId": {"category": "Deploy", "owner": "AWS", "provider": "S3", "version": "1"},
        "inputArtifacts": [{"name": "Code"}], "configuration": {"BucketName": "site", "Extract": "true"}}]});
    for (k, v) in conditions.as_object().expect("conditions object") {
        deploy[k] = v.clone();
    }
    json!({"pipeline": {"name": name, "pipelineType": "V2", "roleArn": "arn:aws:iam::123456789012:role/r",
        "artifactStore": {"type": "S3", "location": "bucket"},
        "stages": [{"name": "Source", "actions": [{"name": "Src", "namespace": "S",
            "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"},
            "outputArtifacts": [{"name": "Code"}], "configuration": {"S3Bucket": "b", "S3ObjectKey": "app.zip"}}]},
            deploy]}})
}

fn rule(name: &str, provider: &str, configuration: Value) -> Value {
    json!({"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider, "version": "1"},
           "configuration": configuration})
}

fn deploy_state(server: &Server, name: &str) -> Value {
    let (_, state) = server.call("GetPipelineState", json!({"name": name}));
    state["stageStates"][1].clone()
}

#[test]
fn a_hanging_before_entry_rule_waits_for_override_stage_condition() {
    let server = Server::start_with(&["--action-duration", "0s"]);
    server.control("/_local/faults", json!({"action": "Alarm", "type": "hang"}));
    let alarm = rule("Alarm", "CloudWatchAlarm", json!({"AlarmName": "errors"}));
    server.create_pipeline(
        &pipeline(
            "held",
            json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [alarm]}]}}),
        )["pipeline"],
    );
    let id = server.latest_execution("held");
    let state = poll("the beforeEntry condition to be in progress", || {
        let s = deploy_state(&server, "held");
        (s["beforeEntryConditionState"]["latestExecution"]["status"] == "InProgress").then_some(s)
    });
    assert_eq!(
        state["beforeEntryConditionState"]["conditionStates"][0]["ruleStates"][0]["ruleName"],
        "Alarm"
    );
    assert!(
        state["actionStates"][0].get("latestExecution").is_none(),
        "no action runs before the condition passes"
    );

    let wrong = server.aws(&[
        "override-stage-condition",
        "--pipeline-name",
        "held",
        "--stage-name",
        "Deploy",
        "--pipeline-execution-id",
        &id,
        "--condition-type",
        "ON_SUCCESS",
    ]);
    assert_eq!(wrong.error().0, "ConditionNotOverridableException");
    let ok = server.aws(&[
        "override-stage-condition",
        "--pipeline-name",
        "held",
        "--stage-name",
        "Deploy",
        "--pipeline-execution-id",
        &id,
        "--condition-type",
        "BEFORE_ENTRY",
    ]);
    assert!(ok.ok, "{}", ok.stderr);
    server.wait_for_execution("held", &id, "Succeeded");
    let state = deploy_state(&server, "held");
    assert_eq!(
        state["beforeEntryConditionState"]["latestExecution"]["status"],
        "Overridden"
    );

    let rules = server.aws(&["list-rule-executions", "--pipeline-name", "held"]);
    let details = rules.json["ruleExecutionDetails"]
        .as_array()
        .expect("details")
        .clone();
    assert_eq!(details.len(), 1);
    assert_eq!(details[0]["ruleName"], "Alarm");
    assert_eq!(details[0]["status"], "Abandoned");
    assert_eq!(
        details[0]["input"]["ruleTypeId"]["provider"],
        "CloudWatchAlarm"
    );
}

#[test]
fn a_failing_variable_check_fails_the_stage_before_its_actions() {
    let server = Server::start_with(&["--action-duration", "0s"]);
    let check = rule(
        "OnlyApp",
        "VariableCheck",
        json!({"Variable": "#{S.ObjectKey}", "Value": "other.zip", "Operator": "EQ"}),
    );
    server.create_pipeline(
        &pipeline(
            "checked",
            json!({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [check]}]}}),
        )["pipeline"],
    );
    let id = server.latest_execution("checked");
    let execution = server.wait_for_execution("checked", &id, "Failed");
    assert!(
        execution["statusSummary"]
            .as_str()
            .unwrap_or_default()
            .contains("'app.zip' EQ 'other.zip'"),
        "{execution}"
    );
    let state = deploy_state(&server, "checked");
    assert_eq!(state["latestExecution"]["status"], "Failed");
    assert_eq!(
        state["beforeEntryConditionState"]["latestExecution"]["status"],
        "Failed"
    );
    let (_, rules) = server.call(
        "ListRuleExecutions",
        json!({"pipelineName": "checked", "filter": {"pipelineExecutionId": id}}),
    );
    let detail = &rules["ruleExecutionDetails"][0];
    assert_eq!(detail["status"], "Failed");
    assert_eq!(
        detail["input"]["resolvedConfiguration"]["Variable"],
        "app.zip"
    );
}

#[test]
fn on_failure_rollback_redeploys_the_last_good_execution() {
    let server = Server::start_with(&["--action-duration", "0s"]);
    server.create_pipeline(
        &pipeline("guarded", json!({"onFailure": {"result": "ROLLBACK"}}))["pipeline"],
    );
    let good = server.latest_execution("guarded");
    server.wait_for_execution("guarded", &good, "Succeeded");
    server.control(
        "/_local/faults",
        json!({"pipeline": "guarded", "action": "Deploy", "message": "deploy broke"}),
    );
    let (_, started) = server.call("StartPipelineExecution", json!({"name": "guarded"}));
    let bad = started["pipelineExecutionId"]
        .as_str()
        .expect("id")
        .to_owned();
    server.wait_for_execution("guarded", &bad, "Failed");
    let rollback = poll("an automated rollback", || {
        let (_, list) = server.call("ListPipelineExecutions", json!({"pipelineName": "guarded"}));
        list["pipelineExecutionSummaries"]
            .as_array()?
            .iter()
            .find(|e| e["executionType"] == "ROLLBACK")
            .cloned()
    });
    assert_eq!(rollback["trigger"]["triggerType"], "AutomatedRollback");
    assert_eq!(
        rollback["rollbackMetadata"]["rollbackTargetPipelineExecutionId"],
        good.as_str()
    );
    let id = rollback["pipelineExecutionId"].as_str().expect("id");
    server.wait_for_execution("guarded", id, "Succeeded");
}
