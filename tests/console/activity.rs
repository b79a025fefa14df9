//! The activity page in a real browser: opened before anything fires, it shows a custom event
//! as it arrives, the rule that started a pipeline from it (delivered) and the rule whose
//! target nothing here delivers to (not delivered), without reloading.

use serde_json::json;

use crate::common::{two_stage, Server};
use crate::webdriver::Browser;
use crate::{console, screenshot};

fn events(s: &Server, args: &[&str]) {
    let out = s.aws_of("events", args);
    assert!(out.ok, "aws events {}: {}", args.join(" "), out.stderr);
}

#[test]
fn the_activity_page_shows_events_and_deliveries_as_they_happen() {
    let s = Server::in_process(&["--action-duration", "0s"]);
    s.create_pipeline(&two_stage("lab"));
    let pattern = json!({"source": ["lab.app"]}).to_string();
    for rule in ["start-lab", "notify"] {
        events(
            &s,
            &["put-rule", "--name", rule, "--event-pattern", &pattern],
        );
    }
    let to_pipeline = json!([{"Id": "p", "Arn": "arn:aws:codepipeline:us-east-1:000000000000:lab",
                              "RoleArn": "arn:aws:iam::000000000000:role/events"}]);
    let to_topic = json!([{"Id": "t", "Arn": "arn:aws:sns:us-east-1:000000000000:alerts"}]);
    events(
        &s,
        &[
            "put-targets",
            "--rule",
            "start-lab",
            "--targets",
            &to_pipeline.to_string(),
        ],
    );
    events(
        &s,
        &[
            "put-targets",
            "--rule",
            "notify",
            "--targets",
            &to_topic.to_string(),
        ],
    );

    let browser = Browser::start(1300, 900);
    browser.goto(&console(&s, "#/activity"));
    browser.text_with("main", &["No rule has matched an event yet."]);
    let entries = json!([{"Source": "lab.app", "DetailType": "Release requested",
                          "Detail": "{\"version\": \"1.2\"}"}]);
    events(&s, &["put-events", "--entries", &entries.to_string()]);

    browser.text_with(
        r#"#deliveries tr[data-rule="start-lab"][data-status="DELIVERED"]"#,
        &[
            "start-lab",
            "Delivered",
            "arn:aws:codepipeline:us-east-1:000000000000:lab",
        ],
    );
    browser.text_with(
        r#"#deliveries tr[data-rule="notify"][data-status="NOT_DELIVERED"]"#,
        &["Not delivered", "pipelines and API destinations only"],
    );
    browser.text_with(
        r#"#events tr[data-source="lab.app"]"#,
        &["lab.app", "Release requested"],
    );
    // The run the rule started is on the bus too, and the page shows it as it comes.
    browser.text_with(
        r#"#events tr[data-source="aws.codepipeline"]"#,
        &["CodePipeline", "lab:"],
    );
    screenshot(&browser, "console-activity.png");
}
