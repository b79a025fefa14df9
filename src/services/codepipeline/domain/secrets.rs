//! Secret configuration properties (`OAuthToken`, a custom type's secret keys): replies mask them
//! as `****`, and a declaration sent back with `****` keeps the stored secret, as AWS does, but
//! only for an action that already exists.

use super::action_types::Catalog;
use super::pipeline::PipelineDeclaration;
use crate::error::{codes, AwsError};

pub const MASK: &str = "****";

/// Replaces every `****` secret of `next` with the value stored for the same action (same stage
/// and action name) in `previous`. A `****` with nothing stored behind it is refused with AWS's
/// text (issue 13, capture 3).
pub fn restore_masked(
    next: &mut PipelineDeclaration,
    previous: Option<&PipelineDeclaration>,
    catalog: &Catalog,
) -> Result<(), AwsError> {
    for stage in &mut next.stages {
        for action in &mut stage.actions {
            let Some(config) = action.configuration.as_mut() else {
                continue;
            };
            let Some(action_type) = catalog.find(&action.action_type_id) else {
                continue;
            };
            for property in action_type.properties.iter().filter(|p| p.secret) {
                let Some(value) = config.get_mut(&property.name) else {
                    continue;
                };
                if value != MASK {
                    continue;
                }
                let stored = previous
                    .and_then(|p| p.stages.iter().find(|s| s.name == stage.name))
                    .and_then(|s| s.actions.iter().find(|a| a.name == action.name))
                    .and_then(|a| a.config(&property.name));
                match stored {
                    Some(secret) => *value = secret.to_owned(),
                    None => {
                        return Err(AwsError::new(
                            codes::INVALID_ACTION_DECLARATION,
                            format!(
                                "Action configuration for the new action \"{}\" contains an invalid configuration for the secret property \"{}\". \
                                 \"{MASK}\" may be used in secret properties only when updating an existing action.",
                                action.name, property.name
                            ),
                        ))
                    }
                }
            }
        }
    }
    Ok(())
}

/// The declaration as replies show it: every secret value masked.
pub fn mask(decl: &mut PipelineDeclaration, catalog: &Catalog) {
    for action in decl.stages.iter_mut().flat_map(|s| s.actions.iter_mut()) {
        let Some(t) = catalog.find(&action.action_type_id) else {
            continue;
        };
        if let Some(config) = action.configuration.as_mut() {
            for p in t.properties.iter().filter(|p| p.secret) {
                if let Some(v) = config.get_mut(&p.name) {
                    *v = MASK.to_owned();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn github(token: &str, action: &str) -> PipelineDeclaration {
        serde_json::from_value(json!({
            "name": "p", "roleArn": "arn:aws:iam::123456789012:role/r",
            "artifactStore": {"type": "S3", "location": "b"},
            "stages": [{"name": "Source", "actions": [{"name": action,
                "actionTypeId": {"category": "Source", "owner": "ThirdParty", "provider": "GitHub", "version": "1"},
                "configuration": {"Owner": "me", "Repo": "r", "Branch": "main", "OAuthToken": token}}]}]
        }))
        .unwrap()
    }

    #[test]
    fn the_mask_stands_for_the_stored_secret_of_the_same_action_only() {
        let catalog = Catalog::new(&[]);
        let stored = github("real", "Src");
        let mut next = github(MASK, "Src");
        restore_masked(&mut next, Some(&stored), &catalog).unwrap();
        assert_eq!(next.stages[0].actions[0].config("OAuthToken"), Some("real"));

        let mut renamed = github(MASK, "Other");
        let e = restore_masked(&mut renamed, Some(&stored), &catalog).unwrap_err();
        assert_eq!(e.code, "InvalidActionDeclarationException");
        assert!(restore_masked(&mut github(MASK, "Src"), None, &catalog).is_err());

        let mut shown = stored.clone();
        mask(&mut shown, &catalog);
        assert_eq!(shown.stages[0].actions[0].config("OAuthToken"), Some(MASK));
    }
}
