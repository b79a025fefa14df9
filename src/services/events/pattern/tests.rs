//! The User Guide's pattern examples, each with the result the guide gives beside it.

use serde_json::json;

use super::Pattern;

fn check(pattern: serde_json::Value, event: serde_json::Value) -> bool {
    Pattern::parse(&pattern.to_string())
        .unwrap_or_else(|e| panic!("{pattern}: {e}"))
        .matches(&event)
}

fn ec2(state: &str) -> serde_json::Value {
    json!({
        "version": "0", "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "EC2 Instance State-change Notification", "source": "aws.ec2",
        "account": "111122223333", "time": "2017-12-22T18:43:48Z", "region": "us-west-1",
        "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
        "detail": {"instance-id": "i-1234567890abcdef0", "state": state,
                   "c-count": 5, "d-count": 3, "x-limit": 301.8, "source-ip": "10.0.0.123"}
    })
}

#[test]
fn exact_values_and_arrays() {
    assert!(check(json!({"source": ["aws.ec2"]}), ec2("terminated")));
    assert!(!check(json!({"source": ["aws.s3"]}), ec2("terminated")));
    assert!(check(
        json!({"detail": {"state": ["running", "terminated"]}}),
        ec2("terminated")
    ));
    // An event array matches when one element does.
    assert!(check(
        json!({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}),
        ec2("x")
    ));
    // Exact numbers compare as written (the guide: 300 and 300.0 are not equal); every field
    // must match.
    assert!(check(json!({"detail": {"c-count": [5]}}), ec2("x")));
    assert!(!check(json!({"detail": {"c-count": [5.0]}}), ec2("x")));
    assert!(!check(
        json!({"source": ["aws.ec2"], "detail": {"state": ["running"]}}),
        ec2("terminated")
    ));
}

#[test]
fn prefix_suffix_ignore_case_and_wildcard() {
    assert!(check(json!({"time": [{"prefix": "2017-12-22"}]}), ec2("x")));
    assert!(check(
        json!({"detail-type": [{"prefix": {"equals-ignore-case": "ec2 INSTANCE"}}]}),
        ec2("x")
    ));
    assert!(check(json!({"source": [{"suffix": ".ec2"}]}), ec2("x")));
    assert!(check(
        json!({"detail": {"state": [{"equals-ignore-case": "TERMINATED"}]}}),
        ec2("terminated")
    ));
    assert!(check(
        json!({"resources": [{"wildcard": "arn:aws:ec2:*:instance/*"}]}),
        ec2("x")
    ));
    assert!(!check(
        json!({"source": [{"wildcard": "aws.s*"}]}),
        ec2("x")
    ));
    assert!(Pattern::parse(r#"{"a": [{"wildcard": "x**"}]}"#).is_err());
}

#[test]
fn anything_but_numeric_exists_and_cidr() {
    assert!(check(
        json!({"detail": {"state": [{"anything-but": "initializing"}]}}),
        ec2("running")
    ));
    assert!(!check(
        json!({"detail": {"state": [{"anything-but": ["stopped", "running"]}]}}),
        ec2("running")
    ));
    assert!(check(
        json!({"detail": {"state": [{"anything-but": {"prefix": "init"}}]}}),
        ec2("running")
    ));
    assert!(!check(
        json!({"detail": {"state": [{"anything-but": {"equals-ignore-case": ["RUNNING"]}}]}}),
        ec2("running")
    ));
    assert!(check(
        json!({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}],
                          "d-count": [{"numeric": ["<", 10]}],
                          "x-limit": [{"numeric": ["=", 301.8]}]}}),
        ec2("x")
    ));
    assert!(!check(
        json!({"detail": {"c-count": [{"numeric": [">", 5]}]}}),
        ec2("x")
    ));
    assert!(check(
        json!({"detail": {"instance-id": [{"exists": true}]}}),
        ec2("x")
    ));
    assert!(check(
        json!({"detail": {"missing": [{"exists": false}]}}),
        ec2("x")
    ));
    assert!(
        !check(json!({"detail": [{"exists": true}]}), ec2("x")),
        "exists is for leaves"
    );
    assert!(check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}),
        ec2("x")
    ));
    assert!(!check(
        json!({"detail": {"source-ip": [{"cidr": "10.0.1.0/24"}]}}),
        ec2("x")
    ));
}

#[test]
fn or_alternatives_at_any_level() {
    let pattern = json!({"detail": {"$or": [
        {"c-count": [{"numeric": [">", 0, "<=", 5]}]},
        {"d-count": [{"numeric": ["<", 10]}]},
        {"x-limit": [{"numeric": ["=", 3.018e2]}]}
    ]}});
    assert!(check(pattern, ec2("x")));
    let none = json!({"source": ["aws.ec2"], "$or": [
        {"detail-type": ["nope"]}, {"region": ["eu-west-1"]}
    ]});
    assert!(!check(none, ec2("x")));
}

#[test]
fn a_codepipeline_failure_rule() {
    let pattern = json!({"source": ["aws.codepipeline"],
        "detail-type": ["CodePipeline Pipeline Execution State Change"],
        "detail": {"state": ["FAILED"]}});
    let event = json!({"source": "aws.codepipeline",
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "detail": {"pipeline": "p", "state": "FAILED", "execution-id": "e"}});
    assert!(check(pattern.clone(), event));
    let ok = json!({"source": "aws.codepipeline",
        "detail-type": "CodePipeline Pipeline Execution State Change",
        "detail": {"pipeline": "p", "state": "SUCCEEDED"}});
    assert!(!check(pattern, ok));
}

#[test]
fn what_eventbridge_refuses_is_refused() {
    for bad in [
        "not json",
        "[]",
        r#"{"source": "aws.ec2"}"#,
        r#"{"a": [{"prefix": 5}]}"#,
        r#"{"a": [{"numeric": [">", "x"]}]}"#,
        r#"{"a": [{"numeric": ["!", 5]}]}"#,
        r#"{"a": [{"exists": "yes"}]}"#,
        r#"{"a": [{"cidr": "10.0.0.0"}]}"#,
        r#"{"a": [{"nonsense": 1}]}"#,
        r#"{"a": [{"prefix": "x", "suffix": "y"}]}"#,
        r#"{"$or": [{"a": ["b"]}]}"#,
        r#"{"a": [[1]]}"#,
    ] {
        assert!(Pattern::parse(bad).is_err(), "{bad}");
    }
    let deep = (0..40).fold("[\"x\"]".to_owned(), |inner, i| {
        format!("{{\"k{i}\": {inner}}}")
    });
    assert!(Pattern::parse(&deep).is_err(), "deep nesting");
    let wide = format!("{{\"a\": [{}]}}", vec!["1"; 3_000].join(","));
    assert!(Pattern::parse(&wide).is_err(), "huge arrays");
}
