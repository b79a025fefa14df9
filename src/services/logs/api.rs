//! The CloudWatch Logs operations builds need and their readers use: groups, streams,
//! `PutLogEvents`, `GetLogEvents` (forward and backward tokens, as the CLI and SDKs page them)
//! and `FilterLogEvents` (term patterns: `term`, `"a phrase"`, `?either`, `-not`).

use serde::Deserialize;
use serde_json::{json, Value};

use super::records::{self as rec, EventRecord, GroupRecord, StreamRecord};
use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::paging;
use crate::state::AppState;
use crate::store::{decode, encode, Write};

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn group_missing() -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        "The specified log group does not exist.",
    )
}

fn stream_missing() -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        "The specified log stream does not exist.",
    )
}

fn group_arn(ctx: &Context, group: &str) -> String {
    format!(
        "arn:aws:logs:{}:{}:log-group:{group}",
        ctx.region, ctx.account
    )
}

/// `logGroupName`, or the name inside a `logGroupIdentifier` ARN.
fn group_name(name: Option<String>, identifier: Option<String>) -> Result<String, AwsError> {
    name.or_else(|| {
        identifier.map(|id| {
            id.split_once(":log-group:")
                .map(|(_, rest)| rest.trim_end_matches(":*").to_owned())
                .unwrap_or(id)
        })
    })
    .ok_or_else(|| {
        AwsError::new(
            codes::INVALID_PARAMETER,
            "Either logGroupName or logGroupIdentifier must be specified",
        )
    })
}

fn require_group(state: &AppState, ctx: &Context, group: &str) -> Result<GroupRecord, AwsError> {
    rec::load_group(state.store.as_ref(), &ctx.account, &ctx.region, group)?
        .ok_or_else(group_missing)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupInput {
    log_group_name: String,
}

pub async fn create_group(
    state: &AppState,
    ctx: &Context,
    input: GroupInput,
) -> Result<Value, AwsError> {
    let name = input.log_group_name;
    state
        .mutate(|store| {
            if rec::load_group(store, &ctx.account, &ctx.region, &name)?.is_some() {
                return Err(AwsError::new(
                    codes::RESOURCE_ALREADY_EXISTS,
                    "The specified log group already exists",
                ));
            }
            let record = rec::new_group(&name, now_ms());
            store.apply(vec![Write::put(
                rec::group_key(&ctx.account, &ctx.region, &name),
                encode(&record)?,
            )])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn delete_group(
    state: &AppState,
    ctx: &Context,
    input: GroupInput,
) -> Result<Value, AwsError> {
    let name = input.log_group_name;
    state
        .mutate(|store| {
            if rec::load_group(store, &ctx.account, &ctx.region, &name)?.is_none() {
                return Err(group_missing());
            }
            let mut writes = vec![Write::delete(rec::group_key(
                &ctx.account,
                &ctx.region,
                &name,
            ))];
            for (_, bytes) in store.scan(
                &rec::streams_prefix(&ctx.account, &ctx.region, &name),
                None,
                usize::MAX,
            )? {
                let stream: StreamRecord = decode(&bytes)?;
                writes.extend(rec::stream_deletes(
                    store,
                    &ctx.account,
                    &ctx.region,
                    &name,
                    &stream.name,
                )?);
            }
            store.apply(writes)?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeGroupsInput {
    log_group_name_prefix: Option<String>,
    log_group_name_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn describe_groups(
    state: &AppState,
    ctx: &Context,
    input: DescribeGroupsInput,
) -> Result<Value, AwsError> {
    let prefix = rec::groups_prefix(&ctx.account, &ctx.region);
    let scan_prefix = format!(
        "{prefix}{}",
        input.log_group_name_prefix.unwrap_or_default()
    );
    let after = paging::key_after(input.next_token.as_deref(), &prefix)?;
    let limit = input.limit.unwrap_or(50).clamp(1, 50);
    let pattern = input.log_group_name_pattern;
    let mut groups = Vec::new();
    let mut last = None;
    let mut more = false;
    let mut cursor = after;
    'scan: loop {
        let rows = state.store.scan(&scan_prefix, cursor.as_deref(), 200)?;
        if rows.is_empty() {
            break;
        }
        for (key, bytes) in rows {
            cursor = Some(key.clone());
            let g: GroupRecord = decode(&bytes)?;
            if pattern.as_deref().is_some_and(|p| !g.name.contains(p)) {
                continue;
            }
            if groups.len() == limit {
                more = true;
                break 'scan;
            }
            let arn = group_arn(ctx, &g.name);
            let stored: u64 = state
                .store
                .scan(
                    &rec::streams_prefix(&ctx.account, &ctx.region, &g.name),
                    None,
                    usize::MAX,
                )?
                .iter()
                .filter_map(|(_, b)| decode::<StreamRecord>(b).ok())
                .map(|s| s.stored_bytes)
                .sum();
            let mut item = json!({
                "logGroupName": g.name,
                "creationTime": g.created,
                "metricFilterCount": 0,
                "arn": format!("{arn}:*"),
                "logGroupArn": arn,
                "storedBytes": stored,
                "logGroupClass": "STANDARD",
            });
            if let Some(days) = g.retention_in_days {
                item["retentionInDays"] = json!(days);
            }
            groups.push(item);
            last = Some(key);
        }
    }
    let mut reply = json!({ "logGroups": groups });
    if more {
        if let Some(key) = last {
            reply["nextToken"] = json!(paging::key_token(&key));
        }
    }
    Ok(reply)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamInput {
    log_group_name: String,
    log_stream_name: String,
}

pub async fn create_stream(
    state: &AppState,
    ctx: &Context,
    input: StreamInput,
) -> Result<Value, AwsError> {
    let (group, stream) = (input.log_group_name, input.log_stream_name);
    state
        .mutate(|store| {
            if rec::load_group(store, &ctx.account, &ctx.region, &group)?.is_none() {
                return Err(group_missing());
            }
            if rec::load_stream(store, &ctx.account, &ctx.region, &group, &stream)?.is_some() {
                return Err(AwsError::new(
                    codes::RESOURCE_ALREADY_EXISTS,
                    "The specified log stream already exists",
                ));
            }
            let record = rec::new_stream(&group, &stream, now_ms());
            store.apply(vec![Write::put(
                rec::stream_key(&ctx.account, &ctx.region, &group, &stream),
                encode(&record)?,
            )])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DescribeStreamsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name_prefix: Option<String>,
    order_by: Option<String>,
    #[serde(default)]
    descending: bool,
    next_token: Option<String>,
    limit: Option<usize>,
}

fn stream_json(ctx: &Context, s: &StreamRecord) -> Value {
    let mut item = json!({
        "logStreamName": s.name,
        "creationTime": s.created,
        "arn": format!("{}:log-stream:{}", group_arn(ctx, &s.group), s.name),
        "storedBytes": 0,
    });
    for (field, value) in [
        ("firstEventTimestamp", s.first_event),
        ("lastEventTimestamp", s.last_event),
        ("lastIngestionTime", s.last_ingestion),
    ] {
        if let Some(v) = value {
            item[field] = json!(v);
        }
    }
    item
}

pub async fn describe_streams(
    state: &AppState,
    ctx: &Context,
    input: DescribeStreamsInput,
) -> Result<Value, AwsError> {
    let group = group_name(input.log_group_name, input.log_group_identifier)?;
    require_group(state, ctx, &group)?;
    let by_time = input.order_by.as_deref() == Some("LastEventTime");
    if by_time && input.log_stream_name_prefix.is_some() {
        return Err(AwsError::new(
            codes::INVALID_PARAMETER,
            "Cannot order by LastEventTime with a logStreamNamePrefix.",
        ));
    }
    let prefix = rec::streams_prefix(&ctx.account, &ctx.region, &group);
    let mut streams: Vec<StreamRecord> = state
        .store
        .scan(
            &format!(
                "{prefix}{}",
                input.log_stream_name_prefix.unwrap_or_default()
            ),
            None,
            usize::MAX,
        )?
        .iter()
        .map(|(_, b)| decode(b))
        .collect::<Result<_, _>>()?;
    if by_time {
        streams.sort_by_key(|s| (s.last_event.unwrap_or(s.created), s.name.clone()));
    }
    if input.descending {
        streams.reverse();
    }
    let limit = input.limit.unwrap_or(50).clamp(1, 50);
    let start = paging::offset(input.next_token.as_deref(), Some(streams.len()))?;
    let page: Vec<Value> = streams
        .iter()
        .skip(start)
        .take(limit)
        .map(|s| stream_json(ctx, s))
        .collect();
    let mut reply = json!({ "logStreams": page });
    if start + limit < streams.len() {
        reply["nextToken"] = json!(paging::offset_token(start + limit));
    }
    Ok(reply)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InputEvent {
    timestamp: i64,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PutEventsInput {
    log_group_name: String,
    log_stream_name: String,
    log_events: Vec<InputEvent>,
}

pub async fn put_events(
    state: &AppState,
    ctx: &Context,
    input: PutEventsInput,
) -> Result<Value, AwsError> {
    let (group, stream) = (input.log_group_name, input.log_stream_name);
    // PutLogEvents wants its events in time order, as CloudWatch Logs does.
    if input
        .log_events
        .windows(2)
        .any(|w| w[1].timestamp < w[0].timestamp)
    {
        return Err(AwsError::new(
            codes::INVALID_PARAMETER,
            "Log events in a single PutLogEvents request must be in chronological order.",
        ));
    }
    let events: Vec<(i64, String)> = input
        .log_events
        .into_iter()
        .map(|e| (e.timestamp, e.message))
        .collect();
    state
        .mutate(|store| {
            if rec::load_group(store, &ctx.account, &ctx.region, &group)?.is_none() {
                return Err(group_missing());
            }
            if rec::load_stream(store, &ctx.account, &ctx.region, &group, &stream)?.is_none() {
                return Err(stream_missing());
            }
            let writes = rec::append(
                store,
                &ctx.account,
                &ctx.region,
                &group,
                &stream,
                &events,
                now_ms(),
            )?;
            store.apply(writes)?;
            Ok(())
        })
        .await?;
    Ok(
        json!({ "nextSequenceToken": format!("{:056}", uuid::Uuid::new_v4().as_u128() % 10u128.pow(30)) }),
    )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetEventsInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_name: String,
    start_time: Option<i64>,
    end_time: Option<i64>,
    next_token: Option<String>,
    limit: Option<usize>,
    start_from_head: Option<bool>,
}

fn token(direction: char, seq: u64) -> String {
    format!("{direction}/{seq:056}")
}

fn event_json(e: &EventRecord) -> Value {
    json!({ "timestamp": e.timestamp, "message": e.message, "ingestionTime": e.ingestion })
}

pub async fn get_events(
    state: &AppState,
    ctx: &Context,
    input: GetEventsInput,
) -> Result<Value, AwsError> {
    let group = group_name(input.log_group_name, input.log_group_identifier)?;
    require_group(state, ctx, &group)?;
    let stream = input.log_stream_name;
    let record = rec::load_stream(
        state.store.as_ref(),
        &ctx.account,
        &ctx.region,
        &group,
        &stream,
    )?
    .ok_or_else(stream_missing)?;
    let limit = input.limit.unwrap_or(10_000).clamp(1, 10_000);
    let prefix = rec::events_prefix(&ctx.account, &ctx.region, &group, &stream);
    let bad_token = || {
        AwsError::new(
            codes::INVALID_PARAMETER,
            "The specified nextToken is invalid.",
        )
    };
    // Where the page starts or ends: forward from a sequence number, or backward from one.
    let (forward, from) = match input.next_token.as_deref() {
        Some(t) => {
            let (direction, number) = t.split_once('/').ok_or_else(bad_token)?;
            let seq: u64 = number.parse().map_err(|_| bad_token())?;
            match direction {
                "f" => (true, seq),
                "b" => (false, seq),
                _ => return Err(bad_token()),
            }
        }
        None if input.start_from_head.unwrap_or(false) => (true, 0),
        None => (false, record.next_seq),
    };
    let in_window = |e: &EventRecord| {
        input.start_time.is_none_or(|s| e.timestamp >= s)
            && input.end_time.is_none_or(|t| e.timestamp < t)
    };
    let mut page: Vec<(u64, EventRecord)> = Vec::new();
    if forward {
        let after = from
            .checked_sub(1)
            .map(|s| rec::event_key(&ctx.account, &ctx.region, &group, &stream, s));
        let mut cursor = after;
        while page.len() < limit {
            let rows = state.store.scan(&prefix, cursor.as_deref(), 1000)?;
            if rows.is_empty() {
                break;
            }
            for (key, bytes) in rows {
                cursor = Some(key.clone());
                let e: EventRecord = decode(&bytes)?;
                if in_window(&e) && page.len() < limit {
                    page.push((rec::seq_of(&key).unwrap_or(0), e));
                }
            }
        }
    } else {
        // Backward: the last `limit` events before `from`, read from the start of the window.
        let mut all = Vec::new();
        for (key, bytes) in state.store.scan(&prefix, None, usize::MAX)? {
            let seq = rec::seq_of(&key).unwrap_or(0);
            if seq >= from {
                break;
            }
            let e: EventRecord = decode(&bytes)?;
            if in_window(&e) {
                all.push((seq, e));
            }
        }
        let skip = all.len().saturating_sub(limit);
        page = all.split_off(skip);
    }
    let first = page.first().map(|(s, _)| *s);
    let last = page.last().map(|(s, _)| *s);
    let next_forward = match last {
        Some(l) => token('f', l + 1),
        None if forward => token('f', from),
        None => token('f', from),
    };
    let next_backward = token('b', first.unwrap_or(from));
    Ok(json!({
        "events": page.iter().map(|(_, e)| event_json(e)).collect::<Vec<_>>(),
        "nextForwardToken": next_forward,
        "nextBackwardToken": next_backward,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterInput {
    log_group_name: Option<String>,
    log_group_identifier: Option<String>,
    log_stream_names: Option<Vec<String>>,
    log_stream_name_prefix: Option<String>,
    start_time: Option<i64>,
    end_time: Option<i64>,
    filter_pattern: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn filter_events(
    state: &AppState,
    ctx: &Context,
    input: FilterInput,
) -> Result<Value, AwsError> {
    let group = group_name(input.log_group_name, input.log_group_identifier)?;
    require_group(state, ctx, &group)?;
    if input.log_stream_names.is_some() && input.log_stream_name_prefix.is_some() {
        return Err(AwsError::new(
            codes::INVALID_PARAMETER,
            "logStreamNames and logStreamNamePrefix are mutually exclusive",
        ));
    }
    let pattern = super::pattern::Pattern::parse(input.filter_pattern.as_deref().unwrap_or(""))?;
    let prefix = rec::streams_prefix(&ctx.account, &ctx.region, &group);
    let streams: Vec<StreamRecord> = state
        .store
        .scan(
            &format!(
                "{prefix}{}",
                input.log_stream_name_prefix.unwrap_or_default()
            ),
            None,
            usize::MAX,
        )?
        .iter()
        .map(|(_, b)| decode(b))
        .collect::<Result<Vec<StreamRecord>, _>>()?
        .into_iter()
        .filter(|s| {
            input
                .log_stream_names
                .as_ref()
                .is_none_or(|names| names.contains(&s.name))
        })
        .collect();
    let mut found = Vec::new();
    for s in &streams {
        for (key, bytes) in state.store.scan(
            &rec::events_prefix(&ctx.account, &ctx.region, &group, &s.name),
            None,
            usize::MAX,
        )? {
            let e: EventRecord = decode(&bytes)?;
            let in_window = input.start_time.is_none_or(|t| e.timestamp >= t)
                && input.end_time.is_none_or(|t| e.timestamp <= t);
            if in_window && pattern.matches(&e.message) {
                let seq = rec::seq_of(&key).unwrap_or(0);
                found.push((e.timestamp, s.name.clone(), seq, e));
            }
        }
    }
    found.sort_by(|a, b| (a.0, &a.1, a.2).cmp(&(b.0, &b.1, b.2)));
    let limit = input.limit.unwrap_or(10_000).clamp(1, 10_000);
    let start = paging::offset(input.next_token.as_deref(), Some(found.len()))?;
    let events: Vec<Value> = found
        .iter()
        .skip(start)
        .take(limit)
        .map(|(_, stream, seq, e)| {
            json!({
                "logStreamName": stream,
                "timestamp": e.timestamp,
                "message": e.message,
                "ingestionTime": e.ingestion,
                "eventId": format!("{:020}{seq:036}", e.timestamp.max(0)),
            })
        })
        .collect();
    let mut reply = json!({
        "events": events,
        "searchedLogStreams": streams.iter().map(|s| json!({"logStreamName": s.name, "searchedCompletely": true})).collect::<Vec<_>>(),
    });
    if start + limit < found.len() {
        reply["nextToken"] = json!(paging::offset_token(start + limit));
    }
    Ok(reply)
}
