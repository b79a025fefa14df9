//! `--execution-history N`: each pipeline keeps its newest N finished executions (by start
//! order) and deletes older ones with everything that leads to them (the order and
//! action-execution indexes, job records), so `ListPipelineExecutions` and
//! `ListActionExecutions` behave as if they never existed. What it left in other services (its
//! artifacts, its builds) is theirs to forget: the step hands it over as `Leftovers`.
//!
//! Every finished execution gets a small `execution-done` index key whether or not a cap is
//! set, so a cap set later covers executions finished before it. With a cap, a pipeline's run
//! keeps the kept ones' ids in memory (read once when the pipeline is loaded), so a step decides
//! what to delete without reading the store while earlier steps' writes may still be landing.

use std::collections::VecDeque;

use crate::error::AwsError;
use crate::services::codepipeline::domain::execution::model::Execution;
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records as repo;
use crate::services::leftovers::{Leftovers, Placed};
use crate::store::{Store, Write};

/// What deleting one finished execution takes: its keys and the ids that lead to it.
#[derive(Debug, Clone)]
pub struct Kept {
    seq: u64,
    id: String,
    action_execution_ids: Vec<String>,
    job_ids: Vec<String>,
    external_ids: Vec<String>,
    artifacts: Vec<Placed>,
}

impl Kept {
    pub fn of(e: &Execution) -> Self {
        let runs = e
            .stages
            .iter()
            .flat_map(|s| s.actions.iter().chain(&s.history));
        let mut action_execution_ids = Vec::new();
        let mut job_ids = Vec::new();
        let mut external_ids = Vec::new();
        let mut artifacts = Vec::new();
        for run in runs {
            action_execution_ids.extend(run.action_execution_id.clone());
            job_ids.extend(run.job.as_ref().map(|j| j.id.clone()));
            external_ids.extend(
                run.result
                    .as_ref()
                    .and_then(|r| r.external_execution_id.clone()),
            );
            artifacts.extend(run.output_artifacts.iter().map(|a| Placed {
                bucket: a.bucket.clone(),
                key: a.key.clone(),
            }));
        }
        Kept {
            seq: e.seq,
            id: e.id.clone(),
            action_execution_ids,
            job_ids,
            external_ids,
            artifacts,
        }
    }

    fn leftovers(self, pipeline: &str) -> Leftovers {
        Leftovers {
            pipeline: pipeline.to_owned(),
            execution_id: self.id,
            external_ids: self.external_ids,
            artifacts: self.artifacts,
        }
    }

    fn deletes(&self, account: &str, region: &str, pipeline: &str) -> Vec<Write> {
        let mut writes = vec![
            Write::delete(Keys::execution(account, region, pipeline, &self.id)),
            Write::delete(Keys::execution_order(account, region, pipeline, self.seq)),
            Write::delete(Keys::finished(account, region, pipeline, self.seq)),
        ];
        writes.extend(
            self.action_execution_ids
                .iter()
                .map(|id| Write::delete(Keys::action_execution(account, region, id))),
        );
        writes.extend(
            self.job_ids
                .iter()
                .map(|id| Write::delete(Keys::job(account, region, id))),
        );
        writes
    }
}

/// The index key of an execution that finished (all a step writes for it when no cap is kept).
pub fn finished_write(account: &str, region: &str, e: &Execution) -> Write {
    Write::put(
        Keys::finished(account, region, &e.pipeline_name, e.seq),
        e.id.clone().into_bytes(),
    )
}

/// The finished executions a capped pipeline keeps, oldest start first.
#[derive(Debug, Default)]
pub struct History(VecDeque<Kept>);

impl History {
    /// What the store holds for `pipeline`: read once, when the engine loads the pipeline.
    pub fn load(
        store: &dyn Store,
        account: &str,
        region: &str,
        pipeline: &str,
    ) -> Result<Self, AwsError> {
        let mut kept = VecDeque::new();
        for (_, id) in store.scan(
            &Keys::finished_of(account, region, pipeline),
            None,
            usize::MAX,
        )? {
            let id = String::from_utf8_lossy(&id);
            if let Some(e) = repo::load_execution(store, account, region, pipeline, &id)? {
                kept.push_back(Kept::of(&e));
            }
        }
        Ok(History(kept))
    }

    /// Notes that `e` finished (for the first time): its index key, and its place in the list.
    pub fn finished(&mut self, account: &str, region: &str, e: &Execution) -> Write {
        let kept = Kept::of(e);
        let at = self.0.partition_point(|k| k.seq < kept.seq);
        self.0.insert(at, kept);
        finished_write(account, region, e)
    }

    /// The deletes that bring the list down to `cap`, sparing executions `busy` names (a
    /// retried one running again), and what the deleted ones left in other services.
    pub fn trim(
        &mut self,
        cap: usize,
        account: &str,
        region: &str,
        pipeline: &str,
        busy: impl Fn(&str) -> bool,
    ) -> (Vec<Write>, Vec<Leftovers>) {
        let mut writes = Vec::new();
        let mut left = Vec::new();
        let mut spared = Vec::new();
        while self.0.len() > cap {
            let Some(oldest) = self.0.pop_front() else {
                break;
            };
            if busy(&oldest.id) {
                spared.push(oldest);
            } else {
                writes.extend(oldest.deletes(account, region, pipeline));
                let leftovers = oldest.leftovers(pipeline);
                if !leftovers.is_empty() {
                    left.push(leftovers);
                }
            }
        }
        for kept in spared.into_iter().rev() {
            self.0.push_front(kept);
        }
        (writes, left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(seq: u64) -> Kept {
        Kept {
            seq,
            id: format!("e{seq}"),
            action_execution_ids: vec![format!("a{seq}")],
            job_ids: Vec::new(),
            external_ids: vec![format!("proj:{seq}")],
            artifacts: Vec::new(),
        }
    }

    #[test]
    fn trims_the_oldest_by_start_and_spares_busy_ones() {
        let mut h = History(VecDeque::new());
        for seq in [3, 1, 2, 5, 4] {
            let k = kept(seq);
            let at = h.0.partition_point(|x| x.seq < k.seq);
            h.0.insert(at, k);
        }
        let (writes, left) = h.trim(2, "a", "r", "p", |id| id == "e1");
        let forgotten: Vec<&str> = left.iter().map(|l| l.external_ids[0].as_str()).collect();
        assert_eq!(forgotten, ["proj:2", "proj:3"], "what they left elsewhere");
        let deleted: Vec<&str> = writes.iter().map(|w| w.key.as_str()).collect();
        assert!(deleted.contains(&"execution/a/r/p/e2"), "{deleted:?}");
        assert!(deleted.contains(&"execution/a/r/p/e3"), "{deleted:?}");
        assert!(deleted.contains(&"action-execution/a/r/a3"), "{deleted:?}");
        assert!(
            !deleted.iter().any(|k| k.ends_with("/e1")),
            "busy: {deleted:?}"
        );
        let left: Vec<u64> = h.0.iter().map(|k| k.seq).collect();
        assert_eq!(left, [1, 4, 5], "the busy one stays, and two others");
    }
}
