//! The companion services pipelines use, driven by the aws CLI: CodeBuild's projects and builds
//! (`codebuild.rs`), real builds with `--run-builds` (`builds.rs`), the Node.js lab (`lab.rs`), CloudWatch
//! Logs (`logs.rs`), CodeCommit with the real git client (`codecommit.rs`) and EventBridge rules
//! (`events.rs`), with boto3 (`events_boto.rs`), CodePipeline's own events
//! (`events_codepipeline.rs`), and followed as they happen (`events_feed.rs`).

#[path = "../common/mod.rs"]
mod common;

mod builds;
mod codebuild;
mod codecommit;
mod events;
mod events_boto;
mod events_codepipeline;
mod events_feed;
mod lab;
mod logs;
