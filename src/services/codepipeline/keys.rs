//! The key layout, in one place. Every key starts with its record kind, then account and region.

use crate::services::codepipeline::domain::pipeline::ActionTypeId;

pub struct Keys;

impl Keys {
    pub fn pipelines(account: &str, region: &str) -> String {
        format!("pipeline/{account}/{region}/")
    }

    pub fn pipeline(account: &str, region: &str, name: &str) -> String {
        format!("pipeline/{account}/{region}/{name}")
    }

    pub fn pipeline_versions(account: &str, region: &str, name: &str) -> String {
        format!("pipeline-version/{account}/{region}/{name}/")
    }

    /// Versions are zero-padded so key order is version order.
    pub fn pipeline_version(account: &str, region: &str, name: &str, version: i64) -> String {
        format!("pipeline-version/{account}/{region}/{name}/{version:010}")
    }

    pub fn tags(account: &str, region: &str, arn: &str) -> String {
        format!("tags/{account}/{region}/{arn}")
    }

    pub fn custom_action_types(account: &str, region: &str) -> String {
        format!("action-type/{account}/{region}/")
    }

    /// Third-party action types changed by `UpdateActionType`.
    pub fn declared_action_types(account: &str, region: &str) -> String {
        format!("action-type-declared/{account}/{region}/")
    }

    pub fn declared_action_type(account: &str, region: &str, id: &ActionTypeId) -> String {
        let ActionTypeId {
            category,
            owner,
            provider,
            version,
        } = id;
        format!("action-type-declared/{account}/{region}/{owner}/{category}/{provider}/{version}")
    }

    pub fn custom_action_type(
        account: &str,
        region: &str,
        category: &str,
        provider: &str,
        version: &str,
    ) -> String {
        format!("action-type/{account}/{region}/{category}/{provider}/{version}")
    }

    pub fn runtime(account: &str, region: &str, pipeline: &str) -> String {
        format!("runtime/{account}/{region}/{pipeline}")
    }

    pub fn executions(account: &str, region: &str, pipeline: &str) -> String {
        format!("execution/{account}/{region}/{pipeline}/")
    }

    pub fn execution(account: &str, region: &str, pipeline: &str, id: &str) -> String {
        format!("execution/{account}/{region}/{pipeline}/{id}")
    }

    /// Newest first: the start sequence is inverted so a forward scan lists the latest first.
    pub fn execution_order(account: &str, region: &str, pipeline: &str, seq: u64) -> String {
        format!(
            "execution-order/{account}/{region}/{pipeline}/{:020}",
            u64::MAX - seq
        )
    }

    pub fn execution_orders(account: &str, region: &str, pipeline: &str) -> String {
        format!("execution-order/{account}/{region}/{pipeline}/")
    }

    /// The finished executions, oldest start first: what `--execution-history` deletes from.
    pub fn finished(account: &str, region: &str, pipeline: &str, seq: u64) -> String {
        format!("execution-done/{account}/{region}/{pipeline}/{seq:020}")
    }

    pub fn finished_of(account: &str, region: &str, pipeline: &str) -> String {
        format!("execution-done/{account}/{region}/{pipeline}/")
    }

    /// Present while an execution is unfinished, so a restart knows what to resume.
    pub fn active(account: &str, region: &str, pipeline: &str, id: &str) -> String {
        format!("active/{account}/{region}/{pipeline}/{id}")
    }

    pub fn actives_of(account: &str, region: &str, pipeline: &str) -> String {
        format!("active/{account}/{region}/{pipeline}/")
    }

    pub fn all_active() -> String {
        "active/".to_owned()
    }

    pub fn webhooks(account: &str, region: &str) -> String {
        format!("webhook/{account}/{region}/")
    }

    pub fn webhook(account: &str, region: &str, name: &str) -> String {
        format!("webhook/{account}/{region}/{name}")
    }

    /// Webhook calls carry no signature: their URL id alone leads to the webhook.
    pub fn webhook_url(url_id: &str) -> String {
        format!("webhook-url/{url_id}")
    }

    /// Which pipeline and execution an action execution id belongs to.
    pub fn action_execution(account: &str, region: &str, action_execution_id: &str) -> String {
        format!("action-execution/{account}/{region}/{action_execution_id}")
    }

    /// Which execution and action a job belongs to.
    pub fn job(account: &str, region: &str, job_id: &str) -> String {
        format!("job/{account}/{region}/{job_id}")
    }

    /// Jobs waiting for a worker of one action type.
    pub fn job_queue(account: &str, region: &str, type_id: &ActionTypeId) -> String {
        let ActionTypeId {
            category,
            owner,
            provider,
            version,
        } = type_id;
        format!("job-queue/{account}/{region}/{owner}/{category}/{provider}/{version}/")
    }

    pub fn queued_job(account: &str, region: &str, type_id: &ActionTypeId, job_id: &str) -> String {
        format!("{}{job_id}", Keys::job_queue(account, region, type_id))
    }
}
