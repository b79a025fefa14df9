//! The rule types stage conditions can use (`ListRuleTypes`), from the CodePipeline User Guide's
//! rule structure reference: CloudWatchAlarm, CodeBuild, Commands, DeploymentWindow,
//! LambdaInvoke and VariableCheck (category `Rule`, owner `AWS`, version `1`).

use serde_json::{json, Value};

use super::action_types::spec::{optional as opt, required as req, PropertySpec, PropertyType};

const STR: PropertyType = PropertyType::String;
const NUM: PropertyType = PropertyType::Number;
const BOOL: PropertyType = PropertyType::Boolean;

pub struct RuleTypeSpec {
    pub provider: &'static str,
    pub input_artifacts: (u32, u32),
    pub properties: &'static [PropertySpec],
}

pub static RULE_TYPES: &[RuleTypeSpec] = &[
    RuleTypeSpec {
        provider: "CloudWatchAlarm",
        input_artifacts: (0, 0),
        properties: &[
            req(
                "AlarmName",
                STR,
                "The name of the CloudWatch alarm to check",
            ),
            opt(
                "AlarmStates",
                STR,
                "Alarm states that make the rule fail, such as ALARM",
            ),
            opt(
                "WaitTime",
                NUM,
                "Minutes to wait for the alarm to change state",
            ),
        ],
    },
    RuleTypeSpec {
        provider: "CodeBuild",
        input_artifacts: (0, 5),
        properties: &[
            req(
                "ProjectName",
                STR,
                "The CodeBuild project whose build decides the rule",
            ),
            opt(
                "PrimarySource",
                STR,
                "The input artifact that is the primary source",
            ),
            opt("BatchEnabled", BOOL, "Whether to run a batch build"),
            opt(
                "EnvironmentVariables",
                STR,
                "Environment variables for the build, as JSON",
            ),
        ],
    },
    RuleTypeSpec {
        provider: "Commands",
        input_artifacts: (0, 1),
        properties: &[opt(
            "ComputeType",
            STR,
            "The compute type that runs the commands",
        )],
    },
    RuleTypeSpec {
        provider: "DeploymentWindow",
        input_artifacts: (0, 0),
        properties: &[
            req(
                "Cron",
                STR,
                "The cron expression of the times deployments are allowed",
            ),
            opt(
                "TimeZone",
                STR,
                "The time zone of the cron expression (default UTC)",
            ),
        ],
    },
    RuleTypeSpec {
        provider: "LambdaInvoke",
        input_artifacts: (0, 5),
        properties: &[
            req(
                "FunctionName",
                STR,
                "The Lambda function whose result decides the rule",
            ),
            opt("UserParameters", STR, "A string passed to the function"),
        ],
    },
    RuleTypeSpec {
        provider: "VariableCheck",
        input_artifacts: (0, 0),
        properties: &[
            req(
                "Variable",
                STR,
                "The variable to check, such as #{SourceVariables.BranchName}",
            ),
            req("Value", STR, "The value to compare the variable with"),
            req("Operator", STR, "EQ, NE, CONTAINS or MATCHES"),
        ],
    },
];

impl RuleTypeSpec {
    /// The `RuleType` shape `ListRuleTypes` returns.
    pub fn to_api(&self) -> Value {
        let properties: Vec<Value> = self
            .properties
            .iter()
            .map(|p| {
                json!({"name": p.name, "required": p.required, "key": p.key, "secret": p.secret,
                       "queryable": p.queryable, "description": p.description, "type": p.kind.as_str()})
            })
            .collect();
        json!({
            "id": {"category": "Rule", "owner": "AWS", "provider": self.provider, "version": "1"},
            "ruleConfigurationProperties": properties,
            "inputArtifactDetails": {"minimumCount": self.input_artifacts.0, "maximumCount": self.input_artifacts.1},
        })
    }
}
