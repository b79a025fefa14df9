//! EventBridge's records: a rule with its targets at `ev-rule/ACCOUNT/REGION/BUS/NAME`. Every
//! applied write bumps `generation` (`touched`), so the delivery listener knows when to read
//! the rules again. `create` writes the records that must not exist yet (buses, connections,
//! API destinations).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{codes, AwsError};
use crate::state::AppState;
use crate::store::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

/// Stores `value` at `key`, or answers `ResourceAlreadyExistsException` with `taken` when a
/// record is there already.
pub async fn create(
    state: &AppState,
    key: String,
    value: Vec<u8>,
    taken: String,
) -> Result<(), AwsError> {
    state
        .mutate(|store| {
            if store.get(&key)?.is_some() {
                return Err(AwsError::new(codes::RESOURCE_ALREADY_EXISTS, taken));
            }
            store.apply(vec![Write::put(key, value)])?;
            Ok(())
        })
        .await
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleRecord {
    pub format_version: u32,
    pub name: String,
    pub bus: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_expression: Option<String>,
    pub state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    /// The targets as PutTargets gave them.
    #[serde(default)]
    pub targets: Vec<Value>,
    #[serde(default)]
    pub tags: Vec<Value>,
}

impl RuleRecord {
    pub fn new(name: &str, bus: &str) -> Self {
        RuleRecord {
            format_version: FORMAT_VERSION,
            name: name.to_owned(),
            bus: bus.to_owned(),
            event_pattern: None,
            schedule_expression: None,
            state: "ENABLED".to_owned(),
            description: None,
            role_arn: None,
            targets: Vec::new(),
            tags: Vec::new(),
        }
    }

    pub fn enabled(&self) -> bool {
        self.state == "ENABLED"
    }
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// Changes whenever any rule is written.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::SeqCst)
}

pub fn prefix(account: &str, region: &str, bus: &str) -> String {
    format!("ev-rule/{account}/{region}/{bus}/")
}

fn key(account: &str, region: &str, bus: &str, name: &str) -> String {
    format!("{}{name}", prefix(account, region, bus))
}

pub fn load(
    store: &dyn Store,
    account: &str,
    region: &str,
    bus: &str,
    name: &str,
) -> StoreResult<Option<RuleRecord>> {
    store
        .get(&key(account, region, bus, name))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn all(
    store: &dyn Store,
    account: &str,
    region: &str,
    bus: &str,
) -> StoreResult<Vec<RuleRecord>> {
    store
        .scan(&prefix(account, region, bus), None, usize::MAX)?
        .into_iter()
        .map(|(_, b)| decode(&b))
        .collect()
}

/// After a rule write is applied: readers of an older generation read the rules again.
pub fn touched() {
    GENERATION.fetch_add(1, Ordering::SeqCst);
}

pub fn write(account: &str, region: &str, rule: &RuleRecord) -> StoreResult<Write> {
    Ok(Write::put(
        key(account, region, &rule.bus, &rule.name),
        encode(rule)?,
    ))
}

pub fn delete(account: &str, region: &str, bus: &str, name: &str) -> Write {
    Write::delete(key(account, region, bus, name))
}
