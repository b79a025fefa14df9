//! The failure notifier of issue 19 written with boto3, as a Python team would: a connection, an
//! API destination, a rule for `state: FAILED` and its target, all through boto3's `events`
//! client; a fault fails the pipeline, and the small receiver gets exactly one POST carrying the
//! whole event in CodePipeline's documented shape.

use serde_json::{json, Value};

use super::events::{built_pipeline, fail_build, wait_runs, Receiver};
use crate::common::*;

#[test]
fn boto3_failure_notifier_gets_one_post_with_the_documented_event() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    let receiver = Receiver::start(200);
    built_pipeline(&server, "payments");

    let script = format!(
        r#"
ev = client('events')
conn = ev.create_connection(Name='chat', AuthorizationType='API_KEY',
    AuthParameters={{'ApiKeyAuthParameters': {{'ApiKeyName': 'x-api-key', 'ApiKeyValue': 's3cret'}}}})
dest = ev.create_api_destination(Name='chat', ConnectionArn=conn['ConnectionArn'],
    InvocationEndpoint='{url}', HttpMethod='POST')
ev.put_rule(Name='pipeline-failed', EventPattern=json.dumps({{
    'source': ['aws.codepipeline'],
    'detail-type': ['CodePipeline Pipeline Execution State Change'],
    'detail': {{'state': ['FAILED']}}}}))
put = ev.put_targets(Rule='pipeline-failed', Targets=[{{'Id': 'chat', 'Arn': dest['ApiDestinationArn'],
    'RoleArn': 'arn:aws:iam::000000000000:role/events'}}])
assert put['FailedEntryCount'] == 0, put
listed = ev.list_targets_by_rule(Rule='pipeline-failed')['Targets']
assert [t['Arn'] for t in listed] == [dest['ApiDestinationArn']], listed
print(json.dumps(ev.describe_rule(Name='pipeline-failed'), default=str))
"#,
        url = receiver.url
    );
    let rule: Value = serde_json::from_str(&server.boto3(&script)).expect("rule JSON");
    assert_eq!(rule["State"], "ENABLED", "{rule}");
    assert_eq!(
        rule["Arn"],
        "arn:aws:events:us-east-1:000000000000:rule/pipeline-failed"
    );

    fail_build(&server, "payments", 1);
    let id = server.boto3(
        "print(client('codepipeline').start_pipeline_execution(name='payments')['pipelineExecutionId'])",
    );
    server.wait_for_execution("payments", &id, "Failed");
    poll("the delivery record", || {
        let got = server.get_json("/_local/events");
        let done = got["deliveries"]
            .as_array()?
            .iter()
            .any(|d| d["status"] == "DELIVERED");
        done.then_some(())
    });
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1, "exactly one POST: {requests:?}");
    let (head, body) = &requests[0];
    assert!(
        head.to_ascii_lowercase().contains("x-api-key: s3cret"),
        "{head}"
    );
    let event: Value = serde_json::from_str(body).expect("the event as JSON");
    assert_eq!(event["version"], "0");
    assert_eq!(event["source"], "aws.codepipeline");
    assert_eq!(
        event["detail-type"],
        "CodePipeline Pipeline Execution State Change"
    );
    assert_eq!(event["account"], "000000000000");
    assert_eq!(event["region"], "us-east-1");
    assert_eq!(
        event["resources"],
        json!(["arn:aws:codepipeline:us-east-1:000000000000:payments"])
    );
    let detail = &event["detail"];
    assert_eq!(detail["pipeline"], "payments", "{event}");
    assert_eq!(detail["execution-id"], id.as_str());
    assert_eq!(detail["state"], "FAILED");
    assert_eq!(detail["version"], 1.0);
    assert_eq!(detail["pipeline-execution-attempt"], 1.0);
    let started = detail["start-time"].as_str().expect("start-time");
    assert!(
        chrono::DateTime::parse_from_rfc3339(started).is_ok() && started.ends_with('Z'),
        "{started}"
    );
    for time in [&event["time"], &detail["start-time"]] {
        assert!(time.as_str().is_some_and(|t| t.ends_with('Z')), "{event}");
    }
}

/// Every pattern example of the EventBridge User Guide (`fixtures/events/guide-patterns.json`:
/// pattern, event, the guide's answer and where it says so) through boto3's
/// `test_event_pattern`, one client for all of them.
#[test]
fn test_event_pattern_answers_as_the_user_guide_says() {
    let server = Server::in_process(&[]);
    let script = format!(
        r#"
ev = client('events')
cases = json.load(open({path:?}))
wrong = []
for case in cases:
    got = ev.test_event_pattern(EventPattern=json.dumps(case['pattern']), Event=json.dumps(case['event']))['Result']
    if got != case['matches']:
        wrong.append({{'name': case['name'], 'expected': case['matches'], 'got': got}})
print(json.dumps({{'cases': len(cases), 'wrong': wrong}}))
"#,
        path = fixture("events/guide-patterns.json")
    );
    let outcome: Value = serde_json::from_str(&server.boto3(&script)).expect("outcome");
    assert!(outcome["cases"].as_u64() >= Some(40), "{outcome}");
    assert_eq!(outcome["wrong"], json!([]), "answers unlike the guide's");
}

/// The other rules of the issue through boto3: a schedule that starts its pipeline once the
/// engine clock is advanced, a custom `put_events` event that starts one through a pattern, and
/// a disabled rule that starts nothing.
#[test]
fn boto3_schedules_custom_events_and_disabled_rules() {
    let server = Server::in_process(&["--action-duration", "0s"]);
    for name in ["nightly", "on-release", "switched-off"] {
        server.create_pipeline(&two_stage(name));
        wait_runs(&server, name, 1);
    }
    let arn = |name: &str| format!("arn:aws:codepipeline:us-east-1:000000000000:{name}");
    let script = format!(
        r#"
ev = client('events')
role = 'arn:aws:iam::000000000000:role/events'
ev.put_rule(Name='hourly', ScheduleExpression='rate(1 hour)')
ev.put_targets(Rule='hourly', Targets=[{{'Id': 'p', 'Arn': '{nightly}', 'RoleArn': role}}])
pattern = json.dumps({{'source': ['com.example.releases'], 'detail': {{'channel': ['stable']}}}})
ev.put_rule(Name='release', EventPattern=pattern)
ev.put_targets(Rule='release', Targets=[{{'Id': 'p', 'Arn': '{release}', 'RoleArn': role}}])
ev.put_rule(Name='off', EventPattern=pattern, State='DISABLED')
ev.put_targets(Rule='off', Targets=[{{'Id': 'p', 'Arn': '{off}', 'RoleArn': role}}])
sent = ev.put_events(Entries=[
    {{'Source': 'com.example.releases', 'DetailType': 'Release', 'Detail': json.dumps({{'channel': 'stable'}})}},
    {{'Source': 'com.example.releases', 'DetailType': 'Release', 'Detail': json.dumps({{'channel': 'beta'}})}},
])
assert sent['FailedEntryCount'] == 0, sent
# Handled after the two above: once it is on the list, they have been matched and delivered.
ev.put_events(Entries=[{{'Source': 'com.example.witness', 'DetailType': 'Witness', 'Detail': '{{}}'}}])
print(json.dumps([r['State'] for r in ev.list_rules()['Rules']]))
"#,
        nightly = arn("nightly"),
        release = arn("on-release"),
        off = arn("switched-off"),
    );
    let states: Value = serde_json::from_str(&server.boto3(&script)).expect("states");
    assert_eq!(
        states,
        json!(["ENABLED", "DISABLED", "ENABLED"]),
        "hourly, off, release"
    );
    poll("the witness event handled", || {
        let got = server.get_json("/_local/events?detail-type=Witness");
        (!got["events"].as_array()?.is_empty()).then_some(())
    });
    let started = wait_runs(&server, "on-release", 2);
    assert_eq!(
        started[0]["trigger"]["triggerDetail"],
        "arn:aws:events:us-east-1:000000000000:rule/release"
    );
    server.control("/_local/clock", json!({"advanceSeconds": 3_700}));
    let nightly = wait_runs(&server, "nightly", 2);
    assert_eq!(nightly[0]["trigger"]["triggerType"], "CloudWatchEvent");
    // The beta event matched nothing; the disabled rule fired nothing (both were handled before
    // the witness).
    assert_eq!(server.execution_summaries("on-release").len(), 2);
    assert_eq!(server.execution_summaries("switched-off").len(), 1);
}
