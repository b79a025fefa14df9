//! Fault injection: make the next N runs of matching actions fail with a message, or hang
//! until stopped. A fault matches by pipeline, stage, action name and provider (each optional).

use serde::{Deserialize, Serialize};

use crate::services::codepipeline::domain::execution::machine::ActionStart;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    pub pipeline: Option<String>,
    pub stage: Option<String>,
    pub action: Option<String>,
    pub provider: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum FaultKind {
    Fail { message: String },
    Hang,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(flatten)]
    pub selector: Selector,
    /// How many more matching runs this fault applies to.
    pub remaining: u32,
    #[serde(flatten)]
    pub kind: FaultKind,
}

fn matches(wanted: &Option<String>, actual: &str) -> bool {
    wanted.as_deref().is_none_or(|w| w == actual)
}

/// Consumes one use of the first fault matching `s`, dropping it when used up.
pub fn take(faults: &mut Vec<Fault>, s: &ActionStart) -> Option<FaultKind> {
    take_for(
        faults,
        s.pipeline,
        s.stage,
        &s.action.name,
        &s.action.action_type_id.provider,
    )
}

/// The same for anything named in a stage: an action, or a condition's rule (`action` selects
/// the rule's name, `provider` its rule provider).
pub fn take_for(
    faults: &mut Vec<Fault>,
    pipeline: &str,
    stage: &str,
    name: &str,
    provider: &str,
) -> Option<FaultKind> {
    let i = faults.iter().position(|f| {
        let sel = &f.selector;
        f.remaining > 0
            && matches(&sel.pipeline, pipeline)
            && matches(&sel.stage, stage)
            && matches(&sel.action, name)
            && matches(&sel.provider, provider)
    })?;
    let kind = faults[i].kind.clone();
    faults[i].remaining -= 1;
    if faults[i].remaining == 0 {
        faults.remove(i);
    }
    Some(kind)
}
