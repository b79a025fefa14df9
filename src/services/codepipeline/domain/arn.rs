//! CodePipeline ARNs: building them and reading the resource an ARN names.

use crate::error::{codes, AwsError};

/// A resource that can carry tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    Pipeline(String),
    /// `Custom/CATEGORY/PROVIDER/VERSION`
    ActionType {
        category: String,
        provider: String,
        version: String,
    },
    Webhook(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub region: String,
    pub account: String,
    pub resource: Resource,
}

pub fn pipeline(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:codepipeline:{region}:{account}:{name}")
}

pub fn action_type(
    region: &str,
    account: &str,
    category: &str,
    provider: &str,
    version: &str,
) -> String {
    format!(
        "arn:aws:codepipeline:{region}:{account}:actiontype:Custom/{category}/{provider}/{version}"
    )
}

/// The ARN of an action type of any owner (`Custom` types are the ones that can be tagged).
pub fn action_type_of(
    region: &str,
    account: &str,
    id: &crate::services::codepipeline::domain::pipeline::ActionTypeId,
) -> String {
    format!(
        "arn:aws:codepipeline:{region}:{account}:actiontype:{}/{}/{}/{}",
        id.owner, id.category, id.provider, id.version
    )
}

pub fn webhook(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:codepipeline:{region}:{account}:webhook:{name}")
}

fn invalid(arn: &str) -> AwsError {
    AwsError::new(
        codes::INVALID_ARN,
        format!("The ARN '{arn}' is not a valid CodePipeline resource ARN"),
    )
}

pub fn parse(arn: &str) -> Result<Arn, AwsError> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, rest] = parts.as_slice() else {
        return Err(invalid(arn));
    };
    if *prefix != "arn"
        || !partition.starts_with("aws")
        || *service != "codepipeline"
        || region.is_empty()
        || rest.is_empty()
    {
        return Err(invalid(arn));
    }
    let resource = if let Some(id) = rest.strip_prefix("actiontype:") {
        let p: Vec<&str> = id.split('/').collect();
        match p.as_slice() {
            ["Custom", category, provider, version] => Resource::ActionType {
                category: (*category).to_owned(),
                provider: (*provider).to_owned(),
                version: (*version).to_owned(),
            },
            _ => return Err(invalid(arn)),
        }
    } else if let Some(name) = rest.strip_prefix("webhook:") {
        Resource::Webhook(name.to_owned())
    } else if rest.contains(':') || rest.contains('/') {
        return Err(invalid(arn));
    } else {
        Resource::Pipeline((*rest).to_owned())
    };
    Ok(Arn {
        region: (*region).to_owned(),
        account: (*account).to_owned(),
        resource,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let a = parse(&pipeline("us-east-1", "123456789012", "p")).unwrap();
        assert_eq!(a.resource, Resource::Pipeline("p".into()));
        let a = parse(&action_type(
            "eu-west-1",
            "123456789012",
            "Build",
            "Jenkins",
            "1",
        ))
        .unwrap();
        assert_eq!(a.region, "eu-west-1");
        assert!(matches!(a.resource, Resource::ActionType { .. }));
        let a = parse(&webhook("us-east-1", "123456789012", "w")).unwrap();
        assert_eq!(a.resource, Resource::Webhook("w".into()));
    }

    #[test]
    fn rejects_other_services() {
        assert_eq!(
            parse("arn:aws:s3:::bucket").unwrap_err().code,
            "InvalidArnException"
        );
        assert_eq!(
            parse("arn:aws:codepipeline:us-east-1:123456789012:actiontype:AWS/x")
                .unwrap_err()
                .code,
            "InvalidArnException"
        );
    }
}
