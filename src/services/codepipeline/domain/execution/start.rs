//! The rules of `StartPipelineExecution`'s inputs: pipeline variables (declared, V2 only,
//! defaults filled in) and source revision overrides (only for source actions).

use std::collections::BTreeMap;

use super::model::SourceRevisionOverride;
use crate::error::AwsError;
use crate::services::codepipeline::domain::pipeline::PipelineDeclaration;

/// The pipeline variables of a new execution: declared defaults overridden by `given`.
pub fn resolve_variables(
    decl: &PipelineDeclaration,
    given: &[(String, String)],
) -> Result<BTreeMap<String, String>, AwsError> {
    let declared = decl.variables.as_deref().unwrap_or_default();
    if !given.is_empty() && !decl.is_v2() {
        return Err(AwsError::validation(
            "Pipeline variables can only be passed to a pipeline of type V2",
        ));
    }
    let mut out = BTreeMap::new();
    for (name, value) in given {
        if !declared.iter().any(|d| &d.name == name) {
            return Err(AwsError::validation(format!(
                "Variable '{name}' is not declared in pipeline '{}'",
                decl.name
            )));
        }
        if out.insert(name.clone(), value.clone()).is_some() {
            return Err(AwsError::validation(format!(
                "Variable '{name}' is given more than once"
            )));
        }
    }
    for d in declared {
        if !out.contains_key(&d.name) {
            match &d.default_value {
                Some(v) => {
                    out.insert(d.name.clone(), v.clone());
                }
                None => {
                    return Err(AwsError::validation(format!(
                        "Variable '{}' has no default value and was not given a value",
                        d.name
                    )))
                }
            }
        }
    }
    Ok(out)
}

/// Each override names a source action of the pipeline, with a revision type that action takes.
pub fn check_source_overrides(
    decl: &PipelineDeclaration,
    overrides: &[SourceRevisionOverride],
) -> Result<(), AwsError> {
    let sources = decl
        .stages
        .first()
        .map(|s| s.actions.as_slice())
        .unwrap_or_default();
    for o in overrides {
        let Some(action) = sources.iter().find(|a| a.name == o.action_name) else {
            return Err(AwsError::validation(format!(
                "Source revision override names '{}', which is not a source action of the pipeline",
                o.action_name
            )));
        };
        let allowed: &[&str] = match action.action_type_id.provider.as_str() {
            "S3" => &["S3_OBJECT_VERSION_ID", "S3_OBJECT_KEY"],
            "ECR" => &["IMAGE_DIGEST"],
            _ => &["COMMIT_ID"],
        };
        if !allowed.contains(&o.revision_type.as_str()) {
            return Err(AwsError::validation(format!(
                "Revision type {} is not supported by source action '{}' ({})",
                o.revision_type, o.action_name, action.action_type_id.provider
            )));
        }
    }
    Ok(())
}
