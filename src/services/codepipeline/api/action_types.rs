//! CreateCustomActionType, DeleteCustomActionType, ListActionTypes, GetActionType.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::call::Context;
use crate::error::{codes, AwsError};
use crate::services::codepipeline::domain::action_types::{
    ArtifactDetails, Catalog, ConfigurationProperty, CustomActionType,
};
use crate::services::codepipeline::domain::arn;
use crate::services::codepipeline::domain::pipeline::ActionTypeId;
use crate::services::codepipeline::domain::tags::{self, Tag};
use crate::services::codepipeline::keys::Keys;
use crate::services::codepipeline::records;
use crate::services::paging;
use crate::state::AppState;
use crate::store::{decode, encode, Write, FORMAT_VERSION};

/// Custom action types per account and region, as AWS's quota.
pub const MAX_CUSTOM_ACTION_TYPES: usize = 50;
const PAGE: usize = 50;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateInput {
    category: String,
    provider: String,
    version: String,
    settings: Option<Value>,
    #[serde(default)]
    configuration_properties: Vec<ConfigurationProperty>,
    input_artifact_details: ArtifactDetails,
    output_artifact_details: ArtifactDetails,
    #[serde(default)]
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
pub struct IdInput {
    category: String,
    provider: String,
    version: String,
}

#[derive(Deserialize)]
pub struct GetInput {
    category: String,
    owner: String,
    provider: String,
    version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListInput {
    action_owner_filter: Option<String>,
    next_token: Option<String>,
    region_filter: Option<String>,
}

fn check_definition(input: &CreateInput) -> Result<(), AwsError> {
    for (what, d) in [
        ("input", &input.input_artifact_details),
        ("output", &input.output_artifact_details),
    ] {
        if d.minimum_count > d.maximum_count {
            return Err(AwsError::validation(format!(
                "The minimum count of {what} artifacts ({}) is greater than the maximum count ({})",
                d.minimum_count, d.maximum_count
            )));
        }
    }
    let queryable: Vec<&ConfigurationProperty> = input
        .configuration_properties
        .iter()
        .filter(|p| p.queryable == Some(true))
        .collect();
    if queryable.len() > 1 {
        return Err(AwsError::validation(
            "Only one configuration property can be queryable",
        ));
    }
    if let Some(p) = queryable.first() {
        if !p.required || p.secret {
            return Err(AwsError::validation(format!(
                "Queryable configuration property '{}' must be required and not secret",
                p.name
            )));
        }
    }
    let mut names = std::collections::HashSet::new();
    for p in &input.configuration_properties {
        if !names.insert(p.name.as_str()) {
            return Err(AwsError::validation(format!(
                "Configuration property name '{}' is not unique",
                p.name
            )));
        }
    }
    Ok(())
}

pub async fn create(
    state: &AppState,
    ctx: &Context,
    input: CreateInput,
) -> Result<Value, AwsError> {
    check_definition(&input)?;
    let tags = tags::merge(&[], &input.tags)?;
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let record = CustomActionType {
        format_version: FORMAT_VERSION,
        id: ActionTypeId {
            category: input.category.clone(),
            owner: "Custom".to_owned(),
            provider: input.provider.clone(),
            version: input.version.clone(),
        },
        settings: input.settings,
        configuration_properties: input.configuration_properties,
        input_artifact_details: input.input_artifact_details,
        output_artifact_details: input.output_artifact_details,
        arn: arn::action_type(
            region,
            account,
            &input.category,
            &input.provider,
            &input.version,
        ),
        declaration: None,
    };
    let key = Keys::custom_action_type(
        account,
        region,
        &input.category,
        &input.provider,
        &input.version,
    );
    let stored = state
        .mutate(|store| {
            if let Some(bytes) = store.get(&key)? {
                let existing: CustomActionType = decode(&bytes)?;
                if existing == record {
                    // Asking again for the same type is idempotent; tags it names are added.
                    let current = records::load_tags(store, account, region, &existing.arn)?;
                    let merged = tags::merge(&current, &tags)?;
                    store.apply(vec![records::tags_write(account, region, &existing.arn, merged)?])?;
                    return Ok(existing);
                }
                return Err(AwsError::validation(format!(
                    "{} already exists with a different definition; create a new version instead",
                    record.id
                )));
            }
            let count = records::load_custom_action_types(store, account, region)?.len();
            if count >= MAX_CUSTOM_ACTION_TYPES {
                return Err(AwsError::new(
                    codes::LIMIT_EXCEEDED,
                    format!("The number of custom action types in region '{region}' has reached the limit of {MAX_CUSTOM_ACTION_TYPES}"),
                ));
            }
            store.apply(vec![
                Write::put(key.clone(), encode(&record)?),
                records::tags_write(account, region, &record.arn, tags.clone())?,
            ])?;
            Ok(record)
        })
        .await?;
    let mut reply = json!({ "actionType": stored.info().to_api() });
    if !tags.is_empty() {
        reply["tags"] = json!(tags);
    }
    Ok(reply)
}

pub async fn delete(state: &AppState, ctx: &Context, input: IdInput) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let key = Keys::custom_action_type(
        account,
        region,
        &input.category,
        &input.provider,
        &input.version,
    );
    let type_arn = arn::action_type(
        region,
        account,
        &input.category,
        &input.provider,
        &input.version,
    );
    state
        .mutate(|store| {
            store.apply(vec![
                Write::delete(key),
                Write::delete(Keys::tags(account, region, &type_arn)),
            ])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn list(state: &AppState, ctx: &Context, input: ListInput) -> Result<Value, AwsError> {
    let region = input.region_filter.as_deref().unwrap_or(&ctx.region);
    let custom = records::load_custom_action_types(state.store.as_ref(), &ctx.account, region)?;
    let all = Catalog::new(&custom).all(input.action_owner_filter.as_deref());
    let shown: Vec<Value> = all.iter().map(|t| t.to_api()).collect();
    paging::page_of("actionTypes", &shown, input.next_token.as_deref(), PAGE)
}

pub async fn get(state: &AppState, ctx: &Context, input: GetInput) -> Result<Value, AwsError> {
    let id = ActionTypeId {
        category: input.category,
        owner: input.owner,
        provider: input.provider,
        version: input.version,
    };
    let custom =
        records::load_custom_action_types(state.store.as_ref(), &ctx.account, &ctx.region)?;
    let catalog = Catalog::new(&custom);
    let found = catalog.find(&id).ok_or_else(|| {
        AwsError::new(codes::ACTION_TYPE_NOT_FOUND, format!("{id} was not found"))
    })?;
    let declaration = catalog
        .stored(&id)
        .and_then(|c| c.declaration.clone())
        .unwrap_or_else(|| found.to_declaration());
    Ok(json!({ "actionType": declaration }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInput {
    action_type: Value,
}

/// `UpdateActionType`: a third-party provider changes its action type. AWS-owned types cannot
/// be changed; the type must exist. The new declaration drives validation and `GetActionType`.
pub async fn update(
    state: &AppState,
    ctx: &Context,
    input: UpdateInput,
) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account.as_str(), ctx.region.as_str());
    let id: ActionTypeId = serde_json::from_value(input.action_type["id"].clone())
        .map_err(|e| AwsError::serialization(e.to_string()))?;
    if id.owner == "AWS" {
        return Err(AwsError::new(
            codes::REQUEST_FAILED,
            format!("{id} is owned by AWS and cannot be updated"),
        ));
    }
    let record = crate::services::codepipeline::domain::action_types::from_declaration(
        &input.action_type,
        arn::action_type_of(region, account, &id),
    )
    .ok_or_else(|| AwsError::validation("The action type declaration is incomplete"))?;
    let (min_in, max_in) = (
        record.input_artifact_details.minimum_count,
        record.input_artifact_details.maximum_count,
    );
    let (min_out, max_out) = (
        record.output_artifact_details.minimum_count,
        record.output_artifact_details.maximum_count,
    );
    if min_in > max_in || min_out > max_out {
        return Err(AwsError::validation(
            "A minimum artifact count is greater than its maximum",
        ));
    }
    state
        .mutate(|store| {
            let custom = records::load_custom_action_types(store, account, region)?;
            if Catalog::new(&custom).find(&id).is_none() {
                return Err(AwsError::new(
                    codes::ACTION_TYPE_NOT_FOUND,
                    format!("{id} was not found"),
                ));
            }
            store.apply(vec![Write::put(
                Keys::declared_action_type(account, region, &id),
                encode(&record)?,
            )])?;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTypesInput {
    rule_owner_filter: Option<String>,
}

/// `ListRuleTypes`: the rule types of the catalog (all owned by AWS, in every region).
pub async fn list_rule_types(
    _state: &AppState,
    _ctx: &Context,
    input: RuleTypesInput,
) -> Result<Value, AwsError> {
    let types: Vec<Value> = crate::services::codepipeline::domain::condition_rule_types::RULE_TYPES
        .iter()
        .filter(|_| {
            input
                .rule_owner_filter
                .as_deref()
                .is_none_or(|o| o == "AWS")
        })
        .map(|t| t.to_api())
        .collect();
    Ok(json!({ "ruleTypes": types }))
}
