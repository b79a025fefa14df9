//! The structure rules a pipeline declaration must satisfy, one function per rule, each answering
//! the exception type AWS answers with a message naming the offending stage or action. `check`
//! runs them in AWS's order: the first rule broken is the one reported.

use std::collections::HashSet;

use super::action_types::Catalog;
use super::enums::ExecutionMode;
use super::execution::variables;
use super::pipeline::{ActionDeclaration, PipelineDeclaration};
use super::regions;
use crate::error::{codes, AwsError};

pub const MIN_STAGES: usize = 2;
pub const MAX_STAGES: usize = 50;
pub const MAX_ACTIONS_PER_STAGE: usize = 50;
pub const MAX_ACTIONS_PER_PIPELINE: usize = 500;

fn structure(msg: String) -> AwsError {
    AwsError::new(codes::INVALID_STRUCTURE, msg)
}

fn stage_error(msg: String) -> AwsError {
    AwsError::new(codes::INVALID_STAGE_DECLARATION, msg)
}

fn action_error(msg: String) -> AwsError {
    AwsError::new(codes::INVALID_ACTION_DECLARATION, msg)
}

/// Every rule, in order. `region` is the region the pipeline lives in.
pub fn check(p: &PipelineDeclaration, catalog: &Catalog, region: &str) -> Result<(), AwsError> {
    v2_features_need_v2(p)?;
    stage_count(p)?;
    artifact_stores(p, region)?;
    stage_names_unique(p)?;
    for stage in &p.stages {
        no_blockers(
            &stage.name,
            stage.blockers.as_ref().is_some_and(|b| !b.is_empty()),
        )?;
        actions_per_stage(&stage.name, stage.actions.len())?;
        action_names_unique(&stage.name, &stage.actions)?;
    }
    actions_per_pipeline(p)?;
    source_actions_only_first(p)?;
    for action in p.stages.iter().flat_map(|s| &s.actions) {
        action_type_available(action, catalog, region)?;
        artifact_counts(action, catalog)?;
        configuration(action, catalog)?;
        action_region(p, action, region)?;
    }
    output_artifact_names_unique(p)?;
    inputs_produced_upstream(p)?;
    namespaces_unique(p)?;
    variables_unique(p)?;
    variable_references(p)?;
    triggers_name_source_actions(p)?;
    Ok(())
}

/// V2-only features on a V1 pipeline, with AWS's texts and exception types (issue 13, capture 4;
/// the other texts as `cdk-preflight` recorded them from live AWS, see tests/fidelity).
pub fn v2_features_need_v2(p: &PipelineDeclaration) -> Result<(), AwsError> {
    if p.is_v2() {
        return Ok(());
    }
    if ExecutionMode::of(p.execution_mode.as_deref()) != ExecutionMode::Superseded {
        return Err(structure(
            "QUEUED or PARALLEL mode can only be used with V2 pipelines".to_owned(),
        ));
    }
    if p.variables.as_ref().is_some_and(|v| !v.is_empty()) {
        return Err(structure(
            "Pipeline variable can only be used with V2 pipelines".to_owned(),
        ));
    }
    if p.triggers.as_ref().is_some_and(|t| !t.is_empty()) {
        // AWS says "on tag" whatever the trigger filters.
        return Err(structure(
            "Triggers on tag can only be used with V2 pipelines".to_owned(),
        ));
    }
    if p.stages
        .iter()
        .any(|s| s.before_entry.is_some() || s.on_success.is_some() || s.on_failure.is_some())
    {
        return Err(stage_error(
            "Stage level conditions can only be used with V2 pipelines.".to_owned(),
        ));
    }
    if let Some(a) = p
        .stages
        .iter()
        .flat_map(|s| &s.actions)
        .find(|a| a.action_type_id.owner == "AWS" && a.action_type_id.provider == "Commands")
    {
        return Err(action_error(format!(
            "{} Action can only be used with V2 pipelines.",
            a.action_type_id.provider
        )));
    }
    Ok(())
}

pub fn stage_count(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let n = p.stages.len();
    if n < MIN_STAGES {
        return Err(structure(format!(
            "Pipeline has only {n} stages. There should be a minimum of {MIN_STAGES} stages in a pipeline"
        )));
    }
    if n > MAX_STAGES {
        return Err(structure(format!(
            "Pipeline has {n} stages. There should be a maximum of {MAX_STAGES} stages in a pipeline"
        )));
    }
    Ok(())
}

pub fn artifact_stores(p: &PipelineDeclaration, region: &str) -> Result<(), AwsError> {
    match (&p.artifact_store, &p.artifact_stores) {
        (Some(_), Some(_)) => Err(structure(
            "Pipeline cannot have both artifactStore and artifactStores; use artifactStores for cross-region actions".to_owned(),
        )),
        (None, None) => Err(structure("Pipeline must have either artifactStore or artifactStores".to_owned())),
        (None, Some(stores)) => {
            // AWS's text (issue 13, capture 7). The server's own region is accepted whatever
            // its name, as every request in it is.
            if let Some(bad) = stores
                .keys()
                .find(|r| *r != region && !regions::is_aws_region(r))
            {
                return Err(AwsError::validation(format!(
                    "The region {bad} specified in 'pipeline.artifactStores' is not a valid AWS Region."
                )));
            }
            if !stores.contains_key(region) {
                return Err(structure(format!(
                    "artifactStores must include an artifact store for the pipeline's region '{region}'"
                )));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

pub fn stage_names_unique(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let mut seen = HashSet::new();
    for s in &p.stages {
        if !seen.insert(s.name.as_str()) {
            return Err(stage_error(format!(
                "Stage name '{}' is not unique in the pipeline",
                s.name
            )));
        }
    }
    Ok(())
}

pub fn no_blockers(stage: &str, has_blockers: bool) -> Result<(), AwsError> {
    if has_blockers {
        return Err(AwsError::new(
            codes::INVALID_BLOCKER_DECLARATION,
            format!("Stage '{stage}' declares blockers, which are reserved for future use"),
        ));
    }
    Ok(())
}

pub fn actions_per_stage(stage: &str, n: usize) -> Result<(), AwsError> {
    if n == 0 {
        return Err(stage_error(format!(
            "Stage '{stage}' must contain at least one action"
        )));
    }
    if n > MAX_ACTIONS_PER_STAGE {
        return Err(stage_error(format!(
            "Pipeline stage '{stage}' has too many actions. There can only be up to {MAX_ACTIONS_PER_STAGE} actions in a pipeline stage"
        )));
    }
    Ok(())
}

pub fn actions_per_pipeline(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let n: usize = p.stages.iter().map(|s| s.actions.len()).sum();
    if n > MAX_ACTIONS_PER_PIPELINE {
        return Err(structure(format!(
            "Pipeline has {n} actions. There can only be up to {MAX_ACTIONS_PER_PIPELINE} actions in a pipeline"
        )));
    }
    Ok(())
}

pub fn action_names_unique(stage: &str, actions: &[ActionDeclaration]) -> Result<(), AwsError> {
    let mut seen = HashSet::new();
    for a in actions {
        if !seen.insert(a.name.as_str()) {
            return Err(action_error(format!(
                "Action name '{}' is not unique in stage '{stage}'",
                a.name
            )));
        }
    }
    Ok(())
}

pub fn source_actions_only_first(p: &PipelineDeclaration) -> Result<(), AwsError> {
    for (i, stage) in p.stages.iter().enumerate() {
        for a in &stage.actions {
            let is_source = a.action_type_id.category == "Source";
            if i == 0 && !is_source {
                // AWS's text (issue 13, capture 10).
                return Err(structure(
                    "Pipeline should start with a stage that only contains source actions"
                        .to_owned(),
                ));
            }
            if i > 0 && is_source {
                return Err(structure(format!(
                    "Stage '{}' contains source action '{}'. Source actions can only be in the first stage of a pipeline",
                    stage.name, a.name
                )));
            }
        }
    }
    Ok(())
}

/// AWS writes the region in the enum style of its Java SDK (`US_EAST_1`) in this message.
fn region_label(region: &str) -> String {
    region.to_uppercase().replace('-', "_")
}

pub fn action_type_available(
    a: &ActionDeclaration,
    catalog: &Catalog,
    region: &str,
) -> Result<(), AwsError> {
    if catalog.find(&a.action_type_id).is_none() {
        let where_ = a.region.as_deref().unwrap_or(region);
        return Err(action_error(format!(
            "{} in action '{}' is not available in region '{}'",
            a.action_type_id,
            a.name,
            region_label(where_)
        )));
    }
    Ok(())
}

fn count_check(action: &str, what: &str, n: usize, (min, max): (u32, u32)) -> Result<(), AwsError> {
    if n < min as usize {
        return Err(action_error(format!(
            "Action {action} declares {n} {what} artifacts which is less than the minimum count ({min})"
        )));
    }
    if n > max as usize {
        return Err(action_error(format!(
            "Action {action} declares {n} {what} artifacts which is more than the maximum count ({max})"
        )));
    }
    Ok(())
}

pub fn artifact_counts(a: &ActionDeclaration, catalog: &Catalog) -> Result<(), AwsError> {
    let Some(t) = catalog.find(&a.action_type_id) else {
        return Ok(());
    };
    count_check(&a.name, "input", a.inputs().len(), t.input_artifacts)?;
    count_check(&a.name, "output", a.outputs().len(), t.output_artifacts)
}

pub fn configuration(a: &ActionDeclaration, catalog: &Catalog) -> Result<(), AwsError> {
    let Some(t) = catalog.find(&a.action_type_id) else {
        return Ok(());
    };
    for p in t.properties.iter().filter(|p| p.required) {
        if a.config(&p.name).is_none_or(str::is_empty) {
            return Err(action_error(format!(
                "Action configuration for action '{}' is missing required configuration '{}'",
                a.name, p.name
            )));
        }
    }
    // Every owner's type lists all its keys: AWS refuses any other, on its own types too
    // (issue 13, capture 2: `... contains unknown configuration 'DeploymentTargets'` for a
    // CloudFormation action).
    if let Some(config) = &a.configuration {
        for key in config.keys() {
            if !t.properties.iter().any(|p| &p.name == key) {
                return Err(action_error(format!(
                    "Action configuration for action '{}' contains unknown configuration '{key}'",
                    a.name
                )));
            }
        }
    }
    provider_specific(a)
}

/// Rules that belong to one provider.
fn provider_specific(a: &ActionDeclaration) -> Result<(), AwsError> {
    let id = &a.action_type_id;
    match (
        id.owner.as_str(),
        id.category.as_str(),
        id.provider.as_str(),
    ) {
        ("AWS", "Deploy", "S3") => {
            let extract = a.config("Extract").unwrap_or_default();
            if !extract.eq_ignore_ascii_case("true") && !extract.eq_ignore_ascii_case("false") {
                return Err(action_error(format!(
                    "Action configuration for action '{}' has an invalid value for 'Extract': it must be true or false",
                    a.name
                )));
            }
            if extract.eq_ignore_ascii_case("false")
                && a.config("ObjectKey").is_none_or(str::is_empty)
            {
                return Err(action_error(format!(
                    "Action configuration for action '{}' is missing required configuration 'ObjectKey'",
                    a.name
                )));
            }
        }
        ("AWS", "Compute", "Commands") if a.commands.as_ref().is_none_or(Vec::is_empty) => {
            return Err(action_error(format!(
                "Action {} must have a non-empty commands field",
                a.name
            )));
        }
        _ => {}
    }
    if a.commands.is_some() && id.provider != "Commands" {
        return Err(action_error(format!(
            "Action {} declares commands, which only the Commands action type accepts",
            a.name
        )));
    }
    Ok(())
}

pub fn action_region(
    p: &PipelineDeclaration,
    a: &ActionDeclaration,
    region: &str,
) -> Result<(), AwsError> {
    let Some(action_region) = a.region.as_deref() else {
        return Ok(());
    };
    match &p.artifact_stores {
        Some(stores) if !stores.contains_key(action_region) => Err(action_error(format!(
            "Action '{}' is in region '{action_region}', which has no artifact store in artifactStores",
            a.name
        ))),
        None if action_region != region => Err(action_error(format!(
            "Action '{}' is in region '{action_region}'; cross-region actions need artifactStores with a store in that region",
            a.name
        ))),
        _ => Ok(()),
    }
}

pub fn output_artifact_names_unique(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let mut seen = HashSet::new();
    for a in p.stages.iter().flat_map(|s| &s.actions) {
        for o in a.outputs() {
            if !seen.insert(o.name.as_str()) {
                // AWS's text (issue 13, capture 8).
                return Err(structure(format!(
                    "Output Artifact Bundle name must be unique within the pipeline. {} has been used more than once.",
                    o.name
                )));
            }
        }
    }
    Ok(())
}

/// An input must be the output of an action in an earlier stage, or of an action earlier in the
/// same stage (a lower run order).
pub fn inputs_produced_upstream(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let mut before_stage: HashSet<&str> = HashSet::new();
    for stage in &p.stages {
        for a in &stage.actions {
            for input in a.inputs() {
                let earlier_in_stage = stage
                    .actions
                    .iter()
                    .filter(|b| b.run_order() < a.run_order())
                    .any(|b| b.outputs().iter().any(|o| o.name == input.name));
                if !before_stage.contains(input.name.as_str()) && !earlier_in_stage {
                    return Err(structure(format!(
                        "Input artifact '{}' of action '{}' in stage '{}' is not the output artifact of an action that runs before it",
                        input.name, a.name, stage.name
                    )));
                }
            }
        }
        before_stage.extend(
            stage
                .actions
                .iter()
                .flat_map(|a| a.outputs().iter().map(|o| o.name.as_str())),
        );
    }
    Ok(())
}

/// AWS names every repeat after the first (issue 13, capture 9).
pub fn namespaces_unique(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut repeats = Vec::new();
    for stage in &p.stages {
        for a in &stage.actions {
            if let Some(ns) = a.namespace.as_deref() {
                if !seen.insert(ns) {
                    repeats.push(format!(
                        "StageName=[{}], ActionName=[{}], Namespace=[{ns}]",
                        stage.name, a.name
                    ));
                }
            }
        }
    }
    if repeats.is_empty() {
        return Ok(());
    }
    Err(action_error(format!(
        "Namespaces must be unique across the pipeline definition. The following occur more than once in the pipeline. {}",
        repeats.join(", ")
    )))
}

pub fn variables_unique(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let mut seen = HashSet::new();
    for v in p.variables.iter().flatten() {
        if !seen.insert(v.name.as_str()) {
            return Err(structure(format!(
                "Variable names must be unique. The following variable name is already in use: {}",
                v.name
            )));
        }
    }
    Ok(())
}

/// Every trigger names, in `gitConfiguration.sourceActionName`, a CodeStarSourceConnection source
/// action of the first stage, at most one trigger per action, and its filters combine criteria the
/// way AWS allows: a push filter on tags names nothing else.
pub fn triggers_name_source_actions(p: &PipelineDeclaration) -> Result<(), AwsError> {
    // AWS's texts (issue 13, captures 5 and 6).
    let not_a_connection = || {
        structure(
            "Triggers for connection must reference a CodeStarSourceConnection action. \
             Note that when you specify a trigger, you cant specify more than one trigger per source action."
                .to_owned(),
        )
    };
    let bad_filters = || {
        structure(
            "The trigger configuration for the source action is not valid. Make sure to choose valid filter combinations."
                .to_owned(),
        )
    };
    let mut named = HashSet::new();
    for trigger in p.triggers.iter().flatten() {
        let name = trigger
            .pointer("/gitConfiguration/sourceActionName")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let is_connection = p
            .stages
            .first()
            .into_iter()
            .flat_map(|s| &s.actions)
            .any(|a| a.name == name && a.action_type_id.provider == "CodeStarSourceConnection");
        if !is_connection || !named.insert(name) {
            return Err(not_a_connection());
        }
        for kind in ["push", "pullRequest"] {
            let filters = trigger
                .pointer(&format!("/gitConfiguration/{kind}"))
                .and_then(|v| v.as_array());
            for filter in filters.into_iter().flatten() {
                let has = |criterion: &str| filter.get(criterion).is_some_and(|v| !v.is_null());
                if has("tags") && (has("branches") || has("filePaths")) {
                    return Err(bad_filters());
                }
            }
        }
    }
    Ok(())
}

/// Every `#{namespace.Key}` in an action's configuration names `codepipeline`, a declared pipeline
/// variable (V2), or the namespace of an action that runs before it.
pub fn variable_references(p: &PipelineDeclaration) -> Result<(), AwsError> {
    let declared: HashSet<&str> = p
        .variables
        .iter()
        .flatten()
        .map(|v| v.name.as_str())
        .collect();
    let mut upstream: HashSet<&str> = HashSet::new();
    for stage in &p.stages {
        for a in &stage.actions {
            let earlier_in_stage: HashSet<&str> = stage
                .actions
                .iter()
                .filter(|b| b.run_order() < a.run_order())
                .filter_map(|b| b.namespace.as_deref())
                .collect();
            for value in a.configuration.iter().flat_map(|c| c.values()) {
                for (ns, key) in variables::references(value) {
                    let known = match ns.as_str() {
                        "codepipeline" => key == "PipelineExecutionId",
                        "variables" => p.is_v2() && declared.contains(key.as_str()),
                        other => upstream.contains(other) || earlier_in_stage.contains(other),
                    };
                    if !known {
                        return Err(action_error(format!(
                            "Action '{}' in stage '{}' references #{{{ns}.{key}}}, which is not a variable produced before it \
                             (an upstream action's namespace, a declared pipeline variable, or codepipeline.PipelineExecutionId)",
                            a.name, stage.name
                        )));
                    }
                }
            }
        }
        upstream.extend(stage.actions.iter().filter_map(|a| a.namespace.as_deref()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn decl(build_config: serde_json::Value, v2: bool) -> PipelineDeclaration {
        serde_json::from_value(json!({
            "name": "p", "roleArn": "arn:aws:iam::123456789012:role/r",
            "pipelineType": if v2 { "V2" } else { "V1" },
            "variables": if v2 { json!([{"name": "env", "defaultValue": "dev"}]) } else { json!(null) },
            "artifactStore": {"type": "S3", "location": "bucket"},
            "stages": [
                {"name": "Source", "actions": [{"name": "Src", "namespace": "SourceVars",
                    "actionTypeId": {"category": "Source", "owner": "AWS", "provider": "S3", "version": "1"}}]},
                {"name": "Build", "actions": [{"name": "Build", "configuration": build_config,
                    "actionTypeId": {"category": "Build", "owner": "AWS", "provider": "CodeBuild", "version": "1"}}]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn references_must_be_produced_upstream() {
        let ok = json!({"ProjectName": "#{SourceVars.ETag}-#{codepipeline.PipelineExecutionId}-#{variables.env}"});
        assert!(variable_references(&decl(ok, true)).is_ok());
        for bad in ["#{Nope.X}", "#{variables.other}", "#{codepipeline.Unknown}"] {
            let e = variable_references(&decl(json!({"ProjectName": bad}), true)).unwrap_err();
            assert_eq!(e.code, "InvalidActionDeclarationException", "{bad}");
        }
        let v1 = variable_references(&decl(json!({"ProjectName": "#{variables.env}"}), false))
            .unwrap_err();
        assert_eq!(v1.code, "InvalidActionDeclarationException");
    }
}
