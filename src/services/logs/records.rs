//! CloudWatch Logs records: a group (`logs-group/ACCOUNT/REGION/NAME`), its streams
//! (`logs-stream/ACCOUNT/REGION/GROUP\0STREAM`) and each stream's events, one record apiece in
//! arrival order (`logs-event/ACCOUNT/REGION/GROUP\0STREAM\0SEQ`), so reading a page of a
//! stream is one scan. `append` is also how other services write logs (CodeBuild's builds).

use serde::{Deserialize, Serialize};

use crate::store::{decode, encode, Store, StoreResult, Write, FORMAT_VERSION};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupRecord {
    pub format_version: u32,
    pub name: String,
    /// Epoch milliseconds.
    pub created: i64,
    #[serde(default)]
    pub retention_in_days: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamRecord {
    pub format_version: u32,
    pub group: String,
    pub name: String,
    pub created: i64,
    #[serde(default)]
    pub first_event: Option<i64>,
    #[serde(default)]
    pub last_event: Option<i64>,
    #[serde(default)]
    pub last_ingestion: Option<i64>,
    /// The sequence number the next event gets.
    #[serde(default)]
    pub next_seq: u64,
    #[serde(default)]
    pub stored_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    #[serde(rename = "t")]
    pub timestamp: i64,
    #[serde(rename = "i")]
    pub ingestion: i64,
    #[serde(rename = "m")]
    pub message: String,
}

pub fn group_key(account: &str, region: &str, group: &str) -> String {
    format!("logs-group/{account}/{region}/{group}")
}

pub fn groups_prefix(account: &str, region: &str) -> String {
    format!("logs-group/{account}/{region}/")
}

pub fn streams_prefix(account: &str, region: &str, group: &str) -> String {
    format!("logs-stream/{account}/{region}/{group}\0")
}

pub fn stream_key(account: &str, region: &str, group: &str, stream: &str) -> String {
    format!("{}{stream}", streams_prefix(account, region, group))
}

pub fn events_prefix(account: &str, region: &str, group: &str, stream: &str) -> String {
    format!("logs-event/{account}/{region}/{group}\0{stream}\0")
}

pub fn event_key(account: &str, region: &str, group: &str, stream: &str, seq: u64) -> String {
    format!("{}{seq:020}", events_prefix(account, region, group, stream))
}

/// The sequence number at the end of an event key.
pub fn seq_of(key: &str) -> Option<u64> {
    key.rsplit('\0').next()?.parse().ok()
}

pub fn load_group(
    store: &dyn Store,
    account: &str,
    region: &str,
    group: &str,
) -> StoreResult<Option<GroupRecord>> {
    store
        .get(&group_key(account, region, group))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn load_stream(
    store: &dyn Store,
    account: &str,
    region: &str,
    group: &str,
    stream: &str,
) -> StoreResult<Option<StreamRecord>> {
    store
        .get(&stream_key(account, region, group, stream))?
        .map(|b| decode(&b))
        .transpose()
}

pub fn new_group(name: &str, now_ms: i64) -> GroupRecord {
    GroupRecord {
        format_version: FORMAT_VERSION,
        name: name.to_owned(),
        created: now_ms,
        retention_in_days: None,
    }
}

pub fn new_stream(group: &str, name: &str, now_ms: i64) -> StreamRecord {
    StreamRecord {
        format_version: FORMAT_VERSION,
        group: group.to_owned(),
        name: name.to_owned(),
        created: now_ms,
        first_event: None,
        last_event: None,
        last_ingestion: None,
        next_seq: 0,
        stored_bytes: 0,
    }
}

/// The writes that forget a stream and its events.
pub fn stream_deletes(
    store: &dyn Store,
    account: &str,
    region: &str,
    group: &str,
    stream: &str,
) -> StoreResult<Vec<Write>> {
    let key = stream_key(account, region, group, stream);
    let mut writes: Vec<Write> = store
        .scan(
            &events_prefix(account, region, group, stream),
            None,
            usize::MAX,
        )?
        .into_iter()
        .map(|(event_key, _)| Write::delete(event_key))
        .collect();
    writes.push(Write::delete(key));
    Ok(writes)
}

/// The writes that append `events` (`(timestamp ms, message)`) to a stream, creating the group
/// and the stream when missing (as CodeBuild's own log writing does). The caller holds the
/// writer lock, so sequence numbers never collide.
pub fn append(
    store: &dyn Store,
    account: &str,
    region: &str,
    group: &str,
    stream: &str,
    events: &[(i64, String)],
    now_ms: i64,
) -> StoreResult<Vec<Write>> {
    let group_exists = load_group(store, account, region, group)?.is_some();
    let record = load_stream(store, account, region, group, stream)?;
    let target = Target {
        account,
        region,
        group,
        stream,
    };
    append_to(target, group_exists, record, events, now_ms)
}

/// Where events are appended.
pub struct Target<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub group: &'a str,
    pub stream: &'a str,
}

/// `append` to a stream that does not exist yet, when the caller knows whether its group does:
/// a pipeline's simulated build logs to a stream named by its fresh id, in a group all builds
/// of its project share, so nothing needs reading back.
pub fn append_new_stream(
    target: Target,
    group_exists: bool,
    events: &[(i64, String)],
    now_ms: i64,
) -> StoreResult<Vec<Write>> {
    append_to(target, group_exists, None, events, now_ms)
}

fn append_to(
    t: Target,
    group_exists: bool,
    stream_record: Option<StreamRecord>,
    events: &[(i64, String)],
    now_ms: i64,
) -> StoreResult<Vec<Write>> {
    let (account, region, group, stream) = (t.account, t.region, t.group, t.stream);
    let mut writes = Vec::new();
    if !group_exists {
        writes.push(Write::put(
            group_key(account, region, group),
            encode(&new_group(group, now_ms))?,
        ));
    }
    let mut record = stream_record.unwrap_or_else(|| new_stream(group, stream, now_ms));
    for (timestamp, message) in events {
        let event = EventRecord {
            timestamp: *timestamp,
            ingestion: now_ms,
            message: message.clone(),
        };
        writes.push(Write::put(
            event_key(account, region, group, stream, record.next_seq),
            encode(&event)?,
        ));
        record.next_seq += 1;
        record.stored_bytes += message.len() as u64;
        record.first_event = Some(record.first_event.map_or(*timestamp, |f| f.min(*timestamp)));
        record.last_event = Some(record.last_event.map_or(*timestamp, |l| l.max(*timestamp)));
        record.last_ingestion = Some(now_ms);
    }
    writes.push(Write::put(
        stream_key(account, region, group, stream),
        encode(&record)?,
    ));
    Ok(writes)
}
