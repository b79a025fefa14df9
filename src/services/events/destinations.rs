//! Connections and API destinations: CreateConnection, DescribeConnection, DeleteConnection,
//! CreateApiDestination, DescribeApiDestination, ListApiDestinations, DeleteApiDestination.
//! A connection keeps its authorization (API key, basic, OAuth client credentials) and shows it
//! without its secrets, as EventBridge does (it keeps them in Secrets Manager); an API
//! destination names an HTTP endpoint and a connection. Records: `ev-conn/ACCT/REGION/NAME`
//! and `ev-dest/ACCT/REGION/NAME`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::epoch_now as now;
use crate::state::AppState;
use crate::store::{decode, encode, Write, FORMAT_VERSION};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    pub format_version: u32,
    pub name: String,
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub authorization_type: String,
    /// As given, secrets included: what delivery sends.
    pub auth_parameters: Value,
    pub created: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DestinationRecord {
    pub format_version: u32,
    pub name: String,
    pub id: String,
    #[serde(default)]
    pub description: Option<String>,
    pub connection_arn: String,
    pub endpoint: String,
    pub method: String,
    #[serde(default)]
    pub rate_limit: Option<u64>,
    pub created: f64,
}

fn connection_key(account: &str, region: &str, name: &str) -> String {
    format!("ev-conn/{account}/{region}/{name}")
}

fn destination_prefix(account: &str, region: &str) -> String {
    format!("ev-dest/{account}/{region}/")
}

fn destination_key(account: &str, region: &str, name: &str) -> String {
    format!("{}{name}", destination_prefix(account, region))
}

pub fn connection_arn(ctx: &Context, c: &ConnectionRecord) -> String {
    format!(
        "arn:aws:events:{}:{}:connection/{}/{}",
        ctx.region, ctx.account, c.name, c.id
    )
}

pub fn destination_arn(ctx: &Context, d: &DestinationRecord) -> String {
    format!(
        "arn:aws:events:{}:{}:api-destination/{}/{}",
        ctx.region, ctx.account, d.name, d.id
    )
}

fn not_found(kind: &str, name: &str) -> AwsError {
    AwsError::new(
        codes::RESOURCE_NOT_FOUND,
        format!("Failed to describe the {kind}(s). {kind} '{name}' does not exist."),
    )
}

pub fn load_connection(
    state: &AppState,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<ConnectionRecord>, AwsError> {
    Ok(state
        .store
        .get(&connection_key(account, region, name))?
        .map(|b| decode(&b))
        .transpose()?)
}

pub fn load_destination(
    state: &AppState,
    account: &str,
    region: &str,
    name: &str,
) -> Result<Option<DestinationRecord>, AwsError> {
    Ok(state
        .store
        .get(&destination_key(account, region, name))?
        .map(|b| decode(&b))
        .transpose()?)
}

/// The authorization parameters without their secrets (`ApiKeyValue`, `Password`,
/// `ClientSecret`), as DescribeConnection shows them.
fn without_secrets(auth: &Value) -> Value {
    let mut shown = auth.clone();
    // `get_mut`, not indexing: indexing a missing member would add it as null.
    for (group, secret) in [
        ("ApiKeyAuthParameters", "ApiKeyValue"),
        ("BasicAuthParameters", "Password"),
    ] {
        if let Some(m) = shown.get_mut(group).and_then(Value::as_object_mut) {
            m.remove(secret);
        }
    }
    if let Some(m) = shown
        .get_mut("OAuthParameters")
        .and_then(|o| o.get_mut("ClientParameters"))
        .and_then(Value::as_object_mut)
    {
        m.remove("ClientSecret");
    }
    shown
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateConnectionInput {
    name: String,
    description: Option<String>,
    authorization_type: String,
    auth_parameters: Value,
}

pub async fn create_connection(
    state: &AppState,
    ctx: &Context,
    input: CreateConnectionInput,
) -> Result<Value, AwsError> {
    let record = ConnectionRecord {
        format_version: FORMAT_VERSION,
        name: input.name.clone(),
        id: uuid::Uuid::new_v4().to_string(),
        description: input.description,
        authorization_type: input.authorization_type,
        auth_parameters: input.auth_parameters,
        created: now(),
    };
    super::records::create(
        state,
        connection_key(&ctx.account, &ctx.region, &input.name),
        encode(&record)?,
        format!("Connection {} already exists.", input.name),
    )
    .await?;
    Ok(json!({
        "ConnectionArn": connection_arn(ctx, &record),
        "ConnectionState": "AUTHORIZED",
        "CreationTime": record.created,
        "LastModifiedTime": record.created,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameInput {
    name: String,
}

pub async fn describe_connection(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    let c = load_connection(state, &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| not_found("Connection", &input.name))?;
    let mut v = json!({
        "ConnectionArn": connection_arn(ctx, &c),
        "Name": c.name,
        "ConnectionState": "AUTHORIZED",
        "AuthorizationType": c.authorization_type,
        "SecretArn": format!("arn:aws:secretsmanager:{}:{}:secret:events!connection/{}/{}", ctx.region, ctx.account, c.name, c.id),
        "AuthParameters": without_secrets(&c.auth_parameters),
        "CreationTime": c.created,
        "LastModifiedTime": c.created,
        "LastAuthorizedTime": c.created,
    });
    if let Some(d) = &c.description {
        v["Description"] = json!(d);
    }
    Ok(v)
}

pub async fn delete_connection(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    let c = load_connection(state, &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| not_found("Connection", &input.name))?;
    let key = connection_key(&ctx.account, &ctx.region, &input.name);
    state
        .mutate(|store| Ok(store.apply(vec![Write::delete(key.clone())])?))
        .await?;
    Ok(json!({
        "ConnectionArn": connection_arn(ctx, &c),
        "ConnectionState": "DELETING",
        "CreationTime": c.created,
        "LastModifiedTime": c.created,
        "LastAuthorizedTime": c.created,
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateDestinationInput {
    name: String,
    description: Option<String>,
    connection_arn: String,
    invocation_endpoint: String,
    http_method: String,
    invocation_rate_limit_per_second: Option<u64>,
}

/// The connection an ARN names, in the caller's account and region.
pub fn connection_of(
    state: &AppState,
    ctx: &Context,
    arn: &str,
) -> Result<ConnectionRecord, AwsError> {
    let prefix = format!("arn:aws:events:{}:{}:connection/", ctx.region, ctx.account);
    let name = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or_default();
    load_connection(state, &ctx.account, &ctx.region, name)?
        .filter(|c| connection_arn(ctx, c) == arn)
        .ok_or_else(|| not_found("Connection", arn))
}

pub async fn create_destination(
    state: &AppState,
    ctx: &Context,
    input: CreateDestinationInput,
) -> Result<Value, AwsError> {
    connection_of(state, ctx, &input.connection_arn)?;
    let record = DestinationRecord {
        format_version: FORMAT_VERSION,
        name: input.name.clone(),
        id: uuid::Uuid::new_v4().to_string(),
        description: input.description,
        connection_arn: input.connection_arn,
        endpoint: input.invocation_endpoint,
        method: input.http_method,
        rate_limit: input.invocation_rate_limit_per_second,
        created: now(),
    };
    super::records::create(
        state,
        destination_key(&ctx.account, &ctx.region, &input.name),
        encode(&record)?,
        format!("An api-destination '{}' already exists.", input.name),
    )
    .await?;
    Ok(json!({
        "ApiDestinationArn": destination_arn(ctx, &record),
        "ApiDestinationState": "ACTIVE",
        "CreationTime": record.created,
        "LastModifiedTime": record.created,
    }))
}

fn destination_json(ctx: &Context, d: &DestinationRecord) -> Value {
    let mut v = json!({
        "ApiDestinationArn": destination_arn(ctx, d),
        "Name": d.name,
        "ApiDestinationState": "ACTIVE",
        "ConnectionArn": d.connection_arn,
        "InvocationEndpoint": d.endpoint,
        "HttpMethod": d.method,
        "InvocationRateLimitPerSecond": d.rate_limit.unwrap_or(300),
        "CreationTime": d.created,
        "LastModifiedTime": d.created,
    });
    if let Some(desc) = &d.description {
        v["Description"] = json!(desc);
    }
    v
}

pub async fn describe_destination(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    let d = load_destination(state, &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| not_found("ApiDestination", &input.name))?;
    Ok(destination_json(ctx, &d))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDestinationsInput {
    name_prefix: Option<String>,
    connection_arn: Option<String>,
    next_token: Option<String>,
    limit: Option<usize>,
}

pub async fn list_destinations(
    state: &AppState,
    ctx: &Context,
    input: ListDestinationsInput,
) -> Result<Value, AwsError> {
    let rows = state.store.scan(
        &destination_prefix(&ctx.account, &ctx.region),
        None,
        usize::MAX,
    )?;
    let mut items = Vec::new();
    for (_, bytes) in rows {
        let d: DestinationRecord = decode(&bytes)?;
        let wanted = input
            .name_prefix
            .as_deref()
            .is_none_or(|p| d.name.starts_with(p))
            && input
                .connection_arn
                .as_deref()
                .is_none_or(|c| d.connection_arn == c);
        if wanted {
            let mut v = destination_json(ctx, &d);
            if let Some(m) = v.as_object_mut() {
                m.remove("Description");
            }
            items.push(v);
        }
    }
    super::rules::page("ApiDestinations", &items, input.next_token, input.limit)
}

pub async fn delete_destination(
    state: &AppState,
    ctx: &Context,
    input: NameInput,
) -> Result<Value, AwsError> {
    load_destination(state, &ctx.account, &ctx.region, &input.name)?
        .ok_or_else(|| not_found("ApiDestination", &input.name))?;
    let key = destination_key(&ctx.account, &ctx.region, &input.name);
    state
        .mutate(|store| Ok(store.apply(vec![Write::delete(key.clone())])?))
        .await?;
    Ok(json!({}))
}
