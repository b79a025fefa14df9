//! The runner's time limit, which the API cannot reach in a test: CodeBuild's shortest
//! `timeoutInMinutes` is 5, so these builds get their limit directly.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{buildspec, run, BuildRequest};
use crate::services::artifacts::ArtifactStore;
use crate::services::codebuild::records;
use crate::store::objects::Objects;
use crate::store::{SledStore, Store};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

fn request(spec: &str, work: &std::path::Path, limit: Duration) -> BuildRequest {
    BuildRequest {
        account: ACCOUNT.to_owned(),
        region: REGION.to_owned(),
        project: "limited".to_owned(),
        initiator: "test".to_owned(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        variables: Vec::new(),
        buildspec_override: None,
        spec: Some(buildspec::parse(spec).expect("the test's buildspec parses")),
        timeout: Some(limit),
        source_version: None,
        resolved_source_version: None,
        stop: Arc::new(AtomicBool::new(false)),
        work_root: work.join("builds"),
        bus: None,
    }
}

fn gone(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |s| s.contains(") Z "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_past_its_time_limit_ends_timed_out_and_nothing_it_started_survives() {
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary().unwrap());
    let artifacts = ArtifactStore::new(store.clone(), Arc::new(Objects::in_memory(store.clone())));
    let work = tempfile::tempdir().unwrap();
    let pid_file = work.path().join("sleeper.pid");
    let spec = format!(
        "version: 0.2\nphases:\n  build:\n    commands:\n      - \"sleep 300 & echo $! > {}; wait\"\n  post_build:\n    commands:\n      - echo post_build must not run after a timeout\n",
        pid_file.display()
    );
    let began = Instant::now();
    let outcome = run(
        &artifacts,
        request(&spec, work.path(), Duration::from_secs(2)),
    )
    .await;
    assert_eq!(outcome.status, "TIMED_OUT", "{outcome:?}");
    assert_eq!(outcome.phase.as_deref(), Some("BUILD"));
    assert!(
        began.elapsed() < Duration::from_secs(30),
        "{:?}",
        began.elapsed()
    );
    assert!(!outcome
        .last_lines
        .iter()
        .any(|l| l.contains("must not run")));

    let record = records::load_build(store.as_ref(), ACCOUNT, REGION, &outcome.id)
        .unwrap()
        .expect("the build is recorded");
    assert_eq!(record.build["buildStatus"], "TIMED_OUT");
    assert_eq!(record.build["buildComplete"], true);
    let build_phase = record.build["phases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["phaseType"] == "BUILD")
        .cloned()
        .unwrap();
    assert_eq!(build_phase["phaseStatus"], "TIMED_OUT", "{build_phase}");

    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let pid = pid.trim();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !gone(pid) {
        assert!(
            Instant::now() < deadline,
            "the build's sleep {pid} survived its timeout"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        !work.path().join("builds").exists()
            || std::fs::read_dir(work.path().join("builds"))
                .unwrap()
                .next()
                .is_none(),
        "the build's folder is removed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_build_within_its_limit_succeeds() {
    let store: Arc<dyn Store> = Arc::new(SledStore::temporary().unwrap());
    let artifacts = ArtifactStore::new(store.clone(), Arc::new(Objects::in_memory(store.clone())));
    let work = tempfile::tempdir().unwrap();
    let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo quick\n";
    let outcome = run(
        &artifacts,
        request(spec, work.path(), Duration::from_secs(30)),
    )
    .await;
    assert_eq!(outcome.status, "SUCCEEDED", "{outcome:?}");
}
