//! Delivering to an API destination: the event, shaped by the target's `Input`, `InputPath` or
//! `InputTransformer`, sent with the destination's method to its endpoint with the
//! connection's authorization (API key header or basic auth), as EventBridge sends it. A
//! failure (no answer, or a 429 or 5xx) is tried again with back-off, three times in all; the
//! outcome of every delivery is kept in the activity list. Plain `http://` endpoints only: the
//! server carries no TLS client, and offline there is nothing to reach over `https://`.

use std::time::Duration;

use base64::Engine as _;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use serde_json::{json, Value};
use serde_json_path::JsonPath;

use super::destinations::{connection_of, load_destination, ConnectionRecord, DestinationRecord};
use crate::call::Context;
use crate::state::AppState;

const ATTEMPTS: u32 = 3;

/// The body the target gets for `envelope`.
pub fn shape(target: &Value, envelope: &Value, rule: &str) -> Result<String, String> {
    if let Some(input) = target["Input"].as_str() {
        return Ok(input.to_owned());
    }
    if let Some(path) = target["InputPath"].as_str() {
        let path = JsonPath::parse(path).map_err(|e| format!("InputPath is not valid: {e}"))?;
        let found = path.query(envelope).all().first().cloned().cloned();
        return Ok(found.unwrap_or(Value::Null).to_string());
    }
    let transformer = &target["InputTransformer"];
    if let Some(template) = transformer["InputTemplate"].as_str() {
        let mut out = template.to_owned();
        let mut values: Vec<(String, Value)> = vec![
            ("aws.events.event.json".to_owned(), envelope.clone()),
            ("aws.events.rule-name".to_owned(), json!(rule)),
            ("aws.events.event".to_owned(), envelope.clone()),
        ];
        if let Some(paths) = transformer["InputPathsMap"].as_object() {
            for (name, path) in paths {
                let path = path
                    .as_str()
                    .and_then(|p| JsonPath::parse(p).ok())
                    .ok_or_else(|| format!("InputPathsMap {name} is not a JSON path"))?;
                let found = path.query(envelope).all().first().cloned().cloned();
                values.push((name.clone(), found.unwrap_or(Value::Null)));
            }
        }
        for (name, value) in values {
            // A string goes in as its text (inside the template's quotes), anything else as JSON.
            let text = match &value {
                Value::String(s) => {
                    let quoted = Value::String(s.clone()).to_string();
                    quoted[1..quoted.len() - 1].to_owned()
                }
                other => other.to_string(),
            };
            out = out.replace(&format!("<{name}>"), &text);
        }
        return Ok(out);
    }
    Ok(envelope.to_string())
}

fn authorization(c: &ConnectionRecord) -> Vec<(String, String)> {
    let auth = &c.auth_parameters;
    let mut headers = Vec::new();
    if let (Some(name), Some(value)) = (
        auth["ApiKeyAuthParameters"]["ApiKeyName"].as_str(),
        auth["ApiKeyAuthParameters"]["ApiKeyValue"].as_str(),
    ) {
        headers.push((name.to_owned(), value.to_owned()));
    }
    if let (Some(user), Some(password)) = (
        auth["BasicAuthParameters"]["Username"].as_str(),
        auth["BasicAuthParameters"]["Password"].as_str(),
    ) {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        headers.push(("Authorization".to_owned(), format!("Basic {token}")));
    }
    for list in ["HeaderParameters"] {
        for h in auth["InvocationHttpParameters"][list]
            .as_array()
            .into_iter()
            .flatten()
        {
            if let (Some(k), Some(v)) = (h["Key"].as_str(), h["Value"].as_str()) {
                headers.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    headers
}

/// The destination an API destination ARN names, with its connection.
fn resolve(
    state: &AppState,
    ctx: &Context,
    arn: &str,
) -> Result<(DestinationRecord, ConnectionRecord), String> {
    let prefix = format!(
        "arn:aws:events:{}:{}:api-destination/",
        ctx.region, ctx.account
    );
    let name = arn
        .strip_prefix(&prefix)
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("{arn} is not an API destination of this account and region"))?;
    let d = load_destination(state, &ctx.account, &ctx.region, name)
        .map_err(|e| e.message)?
        .ok_or_else(|| format!("API destination {name} does not exist"))?;
    let c = connection_of(state, ctx, &d.connection_arn).map_err(|e| e.message)?;
    Ok((d, c))
}

async fn send_once(
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &str,
) -> Result<u16, String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("{url} is not a URL: {e}"))?;
    if uri.scheme_str() != Some("http") {
        return Err(format!(
            "{url}: codepipeline-local delivers to http:// endpoints only"
        ));
    }
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json; charset=utf-8")
        .header("user-agent", "Amazon/EventBridge/ApiDestinations");
    for (k, v) in headers {
        request = request.header(k.as_str(), v.as_str());
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| e.to_string())?;
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Full<Bytes>>();
    let response = tokio::time::timeout(Duration::from_secs(5), client.request(request))
        .await
        .map_err(|_| "no answer within 5 s".to_owned())?
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let _ = response.into_body().collect().await;
    Ok(status)
}

/// Delivers `envelope` to the API destination target `target` of rule `rule`, and records
/// how it went.
pub async fn to_destination(
    state: &AppState,
    ctx: &Context,
    rule: &str,
    target: &Value,
    envelope: &Value,
) {
    let arn = target["Arn"].as_str().unwrap_or_default().to_owned();
    let mut record = json!({
        "rule": rule,
        "target": arn,
        "eventId": envelope["id"],
        "at": chrono::Utc::now().to_rfc3339(),
    });
    let outcome = async {
        let (d, c) = resolve(state, ctx, &arn)?;
        let body = shape(target, envelope, rule)?;
        let headers = authorization(&c);
        let mut last = String::new();
        for attempt in 1..=ATTEMPTS {
            match send_once(&d.method, &d.endpoint, &headers, &body).await {
                Ok(status) if status < 300 => return Ok((status, attempt)),
                Ok(status) if status != 429 && status < 500 => {
                    return Err(format!("the endpoint answered {status}; not retried"));
                }
                Ok(status) => last = format!("the endpoint answered {status}"),
                Err(e) if e.contains("http:// endpoints only") => return Err(e),
                Err(e) => last = e,
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 * 2u64.pow(attempt))).await;
            }
        }
        Err(format!("{last} (after {ATTEMPTS} attempts)"))
    }
    .await;
    match outcome {
        Ok((status, attempts)) => {
            record["status"] = json!("DELIVERED");
            record["httpStatus"] = json!(status);
            record["attempts"] = json!(attempts);
        }
        Err(e) => {
            tracing::warn!(rule, target = %arn, error = %e, "an API destination was not reached");
            record["status"] = json!("FAILED");
            record["error"] = json!(e);
        }
    }
    state.activity.delivery(record);
}
