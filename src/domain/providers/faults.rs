//! Fault injection: make the next N runs of matching actions fail with a message, or hang
//! until stopped. A fault matches by pipeline, stage, action name and provider (each optional).

use serde::{Deserialize, Serialize};

use crate::domain::execution::machine::ActionStart;

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

impl Selector {
    pub fn matches(&self, s: &ActionStart) -> bool {
        matches(&self.pipeline, s.pipeline)
            && matches(&self.stage, s.stage)
            && matches(&self.action, &s.action.name)
            && matches(&self.provider, &s.action.action_type_id.provider)
    }
}

/// Consumes one use of the first fault matching `s`, dropping it when used up.
pub fn take(faults: &mut Vec<Fault>, s: &ActionStart) -> Option<FaultKind> {
    let i = faults
        .iter()
        .position(|f| f.remaining > 0 && f.selector.matches(s))?;
    let kind = faults[i].kind.clone();
    faults[i].remaining -= 1;
    if faults[i].remaining == 0 {
        faults.remove(i);
    }
    Some(kind)
}
