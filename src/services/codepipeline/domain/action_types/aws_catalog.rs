//! The static catalog of AWS-owned (and ThirdParty GitHub v1 / Alexa) action types, as the
//! CodePipeline User Guide "Action structure reference" pages describe them.
//!
//! Sources: the per-action reference pages (artifact counts, configuration parameters, required
//! flags) and the "Valid input and output artifacts for each action type" table. `key` is set on
//! the required properties, which is what `ListActionTypes` reports for the types whose real
//! output is published (CodeDeploy, ElasticBeanstalk); `queryable` is false for every AWS type.
//! Parameters the guide marks "Conditional" are not `required` here, since the service only
//! enforces them for some combinations. URL templates are filled in only where a real one is known.

use super::spec::{
    optional as opt, prop, required as req, ActionTypeSpec, PropertySpec, PropertyType,
    SettingsSpec,
};

const STR: PropertyType = PropertyType::String;
const NUM: PropertyType = PropertyType::Number;
const BOOL: PropertyType = PropertyType::Boolean;

/// A required secret property (masked as `****` by `GetPipeline`).
const fn secret(name: &'static str, description: &'static str) -> PropertySpec {
    prop(
        name,
        true,
        false,
        true,
        false,
        PropertyType::String,
        description,
    )
}

const NO_SETTINGS: SettingsSpec = SettingsSpec {
    third_party_configuration_url: None,
    entity_url_template: None,
    execution_url_template: None,
    revision_url_template: None,
};

/// An `AWS`-owned, version `1` action type.
const fn aws(
    category: &'static str,
    provider: &'static str,
    input_artifacts: (u32, u32),
    output_artifacts: (u32, u32),
    properties: &'static [PropertySpec],
    settings: SettingsSpec,
) -> ActionTypeSpec {
    ActionTypeSpec {
        category,
        owner: "AWS",
        provider,
        version: "1",
        input_artifacts,
        output_artifacts,
        properties,
        settings,
    }
}

// ---------------------------------------------------------------------------------------------
// Source
// ---------------------------------------------------------------------------------------------

const S3_SOURCE_PROPS: &[PropertySpec] = &[
    req("S3Bucket", STR, "The name of the Amazon S3 bucket where source changes are to be detected."),
    req("S3ObjectKey", STR, "The name of the Amazon S3 object key where source changes are to be detected."),
    opt(
        "AllowOverrideForS3ObjectKey",
        BOOL,
        "Whether a source revision override on StartPipelineExecution may replace the configured S3ObjectKey. Defaults to false.",
    ),
    opt(
        "PollForSourceChanges",
        BOOL,
        "Whether CodePipeline polls the bucket for source changes. Defaults to true when omitted.",
    ),
];

const CODECOMMIT_SOURCE_PROPS: &[PropertySpec] = &[
    req("RepositoryName", STR, "The name of the repository where source changes are to be detected."),
    req("BranchName", STR, "The name of the branch where source changes are to be detected."),
    opt(
        "PollForSourceChanges",
        BOOL,
        "Whether CodePipeline polls the repository for source changes. Defaults to true when omitted.",
    ),
    opt(
        "OutputArtifactFormat",
        STR,
        "CODE_ZIP (default) or CODEBUILD_CLONE_REF; the clone reference can only be consumed by CodeBuild.",
    ),
];

const ECR_SOURCE_PROPS: &[PropertySpec] = &[
    req(
        "RepositoryName",
        STR,
        "The name of the Amazon ECR repository where the image was pushed.",
    ),
    opt(
        "ImageTag",
        STR,
        "The tag used for the image. Defaults to latest.",
    ),
];

const CODESTAR_CONNECTION_PROPS: &[PropertySpec] = &[
    req("ConnectionArn", STR, "The connection ARN that is configured and authenticated for the source provider."),
    req(
        "FullRepositoryId",
        STR,
        "The owner and name of the repository where source changes are to be detected, such as some-user/my-repo.",
    ),
    req("BranchName", STR, "The name of the branch where source changes are to be detected."),
    opt(
        "OutputArtifactFormat",
        STR,
        "CODE_ZIP (default) or CODEBUILD_CLONE_REF; the clone reference can only be consumed by CodeBuild.",
    ),
    opt(
        "DetectChanges",
        BOOL,
        "Whether a new commit on the configured repository and branch starts the pipeline. Defaults to true.",
    ),
];

const GITHUB_V1_PROPS: &[PropertySpec] = &[
    req("Owner", STR, "The name of the GitHub user or organization who owns the repository."),
    req("Repo", STR, "The name of the repository where source changes are to be detected."),
    req("Branch", STR, "The name of the branch where source changes are to be detected."),
    secret("OAuthToken", "The GitHub OAuth or personal access token CodePipeline uses for the repository."),
    opt(
        "PollForSourceChanges",
        BOOL,
        "Whether CodePipeline polls the repository for source changes. Defaults to true when omitted.",
    ),
];

// ---------------------------------------------------------------------------------------------
// Build / Test / Compute
// ---------------------------------------------------------------------------------------------

const CODEBUILD_PROPS: &[PropertySpec] = &[
    req("ProjectName", STR, "The name of the build project in CodeBuild."),
    opt(
        "PrimarySource",
        STR,
        "The input artifact whose directory holds the buildspec; required when there are several input artifacts.",
    ),
    opt("BatchEnabled", BOOL, "Whether the action runs a batch build (several builds in one execution)."),
    opt(
        "BuildspecOverride",
        STR,
        "An inline buildspec or an alternate buildspec location that overrides the project's, for this build only.",
    ),
    opt(
        "CombineArtifacts",
        BOOL,
        "Whether the artifacts of a batch build are combined into one output artifact; needs BatchEnabled.",
    ),
    opt(
        "EnvironmentVariables",
        STR,
        "A JSON array of {name, value, type} environment variables (PLAINTEXT, PARAMETER_STORE or SECRETS_MANAGER).",
    ),
    opt(
        "ServiceRoleArnOverride",
        STR,
        "An IAM role ARN that replaces the project's service role for builds this action starts.",
    ),
];

/// The S3 source's console link, as `GetPipelineState`'s documented example shows it.
const S3_SOURCE_SETTINGS: SettingsSpec = SettingsSpec {
    third_party_configuration_url: None,
    entity_url_template: Some("https://console.aws.amazon.com/s3/home?#"),
    execution_url_template: None,
    revision_url_template: None,
};

const CODEBUILD_SETTINGS: SettingsSpec = SettingsSpec {
    third_party_configuration_url: None,
    entity_url_template: Some(
        "https://{Config:Region}.console.aws.amazon.com/codesuite/codebuild/projects/{Config:ProjectName}/history",
    ),
    execution_url_template: Some(
        "https://{Config:Region}.console.aws.amazon.com/codesuite/codebuild/projects/{Config:ProjectName}/build/{ExternalExecutionId}/log",
    ),
    revision_url_template: None,
};

const ECR_BUILD_AND_PUBLISH_PROPS: &[PropertySpec] = &[
    req("ECRRepositoryName", STR, "The name of the Amazon ECR repository where the image is pushed."),
    opt(
        "DockerFilePath",
        STR,
        "The location of the Dockerfile used to build the image. Defaults to the source repository root.",
    ),
    opt("ImageTags", STR, "Comma-delimited tags for the image. Defaults to latest."),
    opt("RegistryType", STR, "private (default) or public."),
];

// The Commands list, output variables and output files are action-level fields of the
// declaration (`commands`, `outputVariables`, `outputArtifacts[].files`), not configuration keys:
// the guide's own example declares `configuration: {}`.
const COMMANDS_PROPS: &[PropertySpec] = &[
    opt(
        "EnvironmentType",
        STR,
        "The build environment image: LINUX_CONTAINER (default) or WINDOWS_SERVER_2022_CONTAINER.",
    ),
    opt(
        "ComputeType",
        STR,
        "BUILD_GENERAL1_SMALL (default), BUILD_GENERAL1_MEDIUM or BUILD_GENERAL1_LARGE.",
    ),
    opt("VpcId", STR, "The VPC ID for your resources."),
    opt(
        "Subnets",
        STR,
        "The VPC subnets, needed when the commands connect to resources in a VPC.",
    ),
    opt(
        "SecurityGroupIds",
        STR,
        "The VPC security groups, needed when the commands connect to resources in a VPC.",
    ),
];

const DEVICE_FARM_PROPS: &[PropertySpec] = &[
    req(
        "AppType",
        STR,
        "The OS and type of the application under test: iOS, Android or Web.",
    ),
    req("ProjectId", STR, "The Device Farm project ID."),
    req(
        "App",
        STR,
        "The name and location of the application file in the input artifact.",
    ),
    // Required in the 2023 guide, gone from today's: accepted, not required.
    opt(
        "AppiumVersion",
        STR,
        "The Appium version to use; the value is not processed and the default is used.",
    ),
    opt(
        "TestSpec",
        STR,
        "The location of the test spec definition file in the input artifact; required for custom-mode tests.",
    ),
    req("DevicePoolArn", STR, "The Device Farm device pool ARN."),
    req(
        "TestType",
        STR,
        "The testing framework, such as APPIUM_JAVA_JUNIT, BUILTIN_FUZZ or XCTEST.",
    ),
    opt(
        "RadioBluetoothEnabled",
        BOOL,
        "Whether to enable Bluetooth at the beginning of the test.",
    ),
    opt(
        "RecordAppPerformanceData",
        BOOL,
        "Whether to record device performance data during the test.",
    ),
    opt(
        "RecordVideo",
        BOOL,
        "Whether to record video during the test.",
    ),
    opt(
        "RadioWifiEnabled",
        BOOL,
        "Whether to enable Wi-Fi at the beginning of the test.",
    ),
    opt(
        "RadioNfcEnabled",
        BOOL,
        "Whether to enable NFC at the beginning of the test.",
    ),
    opt(
        "RadioGpsEnabled",
        BOOL,
        "Whether to enable GPS at the beginning of the test.",
    ),
    opt(
        "Test",
        STR,
        "The path of the test definition file, relative to the root of the input artifact.",
    ),
    opt(
        "FuzzEventCount",
        NUM,
        "The number of user interface events for the fuzz test (1 to 10,000).",
    ),
    opt(
        "FuzzEventThrottle",
        NUM,
        "Milliseconds the fuzz test waits between user interface events (1 to 1,000).",
    ),
    opt(
        "FuzzRandomizerSeed",
        NUM,
        "The seed the fuzz test uses to randomize user interface events.",
    ),
    opt(
        "CustomHostMachineArtifacts",
        STR,
        "Where custom artifacts are stored on the host machine.",
    ),
    opt(
        "CustomDeviceArtifacts",
        STR,
        "Where custom artifacts are stored on the device.",
    ),
    opt(
        "UnmeteredDevicesOnly",
        BOOL,
        "Whether to use only unmetered devices.",
    ),
    opt(
        "JobTimeoutMinutes",
        NUM,
        "Minutes a test run executes per device before it times out.",
    ),
    opt("Latitude", NUM, "The device latitude in degrees."),
    opt("Longitude", NUM, "The device longitude in degrees."),
];

// ---------------------------------------------------------------------------------------------
// Deploy
// ---------------------------------------------------------------------------------------------

const S3_DEPLOY_PROPS: &[PropertySpec] = &[
    req(
        "BucketName",
        STR,
        "The name of the Amazon S3 bucket where files are to be deployed.",
    ),
    req(
        "Extract",
        BOOL,
        "Whether the files are extracted before upload; when false, ObjectKey is required.",
    ),
    opt(
        "ObjectKey",
        STR,
        "The object key of the uploaded artifact; required when Extract is false.",
    ),
    opt(
        "KMSEncryptionKeyARN",
        STR,
        "The AWS KMS key (ID, key ARN or alias ARN) used to encrypt uploaded files.",
    ),
    opt(
        "CannedACL",
        STR,
        "The canned ACL applied to the objects deployed to Amazon S3.",
    ),
    opt(
        "CacheControl",
        STR,
        "The Cache-Control header value for the deployed objects.",
    ),
];

const CODEDEPLOY_PROPS: &[PropertySpec] = &[
    req(
        "ApplicationName",
        STR,
        "The AWS CodeDeploy Application name",
    ),
    req(
        "DeploymentGroupName",
        STR,
        "The AWS CodeDeploy Deployment Group name",
    ),
];

// The two templates below are the ones `ListActionTypes` returns (published in the AWS code library).
const CODEDEPLOY_SETTINGS: SettingsSpec = SettingsSpec {
    third_party_configuration_url: None,
    entity_url_template: Some(
        "https://console.aws.amazon.com/codedeploy/home?#/applications/{Config:ApplicationName}/deployment-groups/{Config:DeploymentGroupName}",
    ),
    execution_url_template: Some("https://console.aws.amazon.com/codedeploy/home?#/deployments/{ExternalExecutionId}"),
    revision_url_template: None,
};

const CLOUDFORMATION_PROPS: &[PropertySpec] = &[
    req(
        "ActionMode",
        STR,
        "CHANGE_SET_EXECUTE, CHANGE_SET_REPLACE, CREATE_UPDATE, DELETE_ONLY or REPLACE_ON_FAILURE.",
    ),
    req("StackName", STR, "The name of an existing stack or of a stack to create."),
    opt(
        "Capabilities",
        STR,
        "Comma-separated CAPABILITY_IAM, CAPABILITY_NAMED_IAM and/or CAPABILITY_AUTO_EXPAND acknowledgements.",
    ),
    opt("ChangeSetName", STR, "The change set name; required for CHANGE_SET_REPLACE and CHANGE_SET_EXECUTE."),
    opt(
        "RoleArn",
        STR,
        "The service role CloudFormation assumes; required for CREATE_UPDATE, REPLACE_ON_FAILURE, DELETE_ONLY and CHANGE_SET_REPLACE.",
    ),
    opt(
        "TemplatePath",
        STR,
        "ArtifactName::TemplateFileName; required for CREATE_UPDATE, REPLACE_ON_FAILURE and CHANGE_SET_REPLACE.",
    ),
    opt(
        "OutputFileName",
        STR,
        "A file name for the stack Outputs JSON written to the output artifact; no output artifact without it.",
    ),
    opt("ParameterOverrides", STR, "A JSON object of template parameter values."),
    opt("TemplateConfiguration", STR, "ArtifactName::TemplateConfigurationFileName."),
];

const STACK_SET_PROPS: &[PropertySpec] = &[
    req(
        "StackSetName",
        STR,
        "The name of the stack set, unique in the Region.",
    ),
    req(
        "TemplatePath",
        STR,
        "InputArtifactName::TemplateFileName of the stack set template.",
    ),
    opt("Description", STR, "A description of the stack set."),
    opt(
        "Parameters",
        STR,
        "Template parameters as shorthand syntax or an InputArtifactName::FileName path.",
    ),
    opt(
        "Capabilities",
        STR,
        "Comma-separated CAPABILITY_IAM and/or CAPABILITY_NAMED_IAM.",
    ),
    opt(
        "PermissionModel",
        STR,
        "SELF_MANAGED (default) or SERVICE_MANAGED.",
    ),
    opt(
        "AdministrationRoleArn",
        STR,
        "The administrator-account role ARN (SELF_MANAGED only).",
    ),
    opt(
        "ExecutionRoleName",
        STR,
        "The target-account execution role name (SELF_MANAGED only).",
    ),
    opt(
        "OrganizationsAutoDeployment",
        STR,
        "Enabled, Disabled (default) or EnabledWithStackRetention (SERVICE_MANAGED only).",
    ),
    opt(
        "DeploymentTargets",
        STR,
        "Accounts or organizational unit IDs, as a list or an InputArtifactName::FileName path.",
    ),
    opt(
        "Regions",
        STR,
        "Comma-separated Regions where stack instances are created or updated.",
    ),
    opt(
        "FailureTolerancePercentage",
        NUM,
        "The percentage of accounts per Region that may fail.",
    ),
    opt(
        "MaxConcurrentPercentage",
        NUM,
        "The maximum percentage of accounts acted on at one time.",
    ),
    opt(
        "RegionConcurrencyType",
        STR,
        "Whether Regions are deployed one after another (Sequential, the default) or in Parallel.",
    ),
    opt(
        "ConcurrencyMode",
        STR,
        "STRICT_FAILURE_TOLERANCE (the default) or SOFT_FAILURE_TOLERANCE.",
    ),
    opt(
        "CallAs",
        STR,
        "SELF or DELEGATED_ADMIN: the account the SERVICE_MANAGED caller acts as.",
    ),
];

const STACK_INSTANCES_PROPS: &[PropertySpec] = &[
    req("StackSetName", STR, "The name of the stack set."),
    req("Regions", STR, "Comma-separated Regions where stack instances are created or updated."),
    opt(
        "DeploymentTargets",
        STR,
        "Accounts or organizational unit IDs, as a list or an InputArtifactName::FileName path.",
    ),
    opt(
        "ParameterOverrides",
        STR,
        "Stack set parameters to override, as shorthand syntax or an InputArtifactName::FileName path.",
    ),
    opt("FailureTolerancePercentage", NUM, "The percentage of accounts per Region that may fail."),
    opt("MaxConcurrentPercentage", NUM, "The maximum percentage of accounts acted on at one time."),    opt(
        "RegionConcurrencyType",
        STR,
        "Whether Regions are deployed one after another (Sequential, the default) or in Parallel.",
    ),
    opt(
        "ConcurrencyMode",
        STR,
        "STRICT_FAILURE_TOLERANCE (the default) or SOFT_FAILURE_TOLERANCE.",
    ),
    opt(
        "CallAs",
        STR,
        "SELF or DELEGATED_ADMIN: the account the SERVICE_MANAGED caller acts as.",
    ),
];

const ECS_PROPS: &[PropertySpec] = &[
    req("ClusterName", STR, "The Amazon ECS cluster."),
    req("ServiceName", STR, "The Amazon ECS service."),
    opt(
        "FileName",
        STR,
        "The image definitions file name. Defaults to imagedefinitions.json.",
    ),
    opt(
        "DeploymentTimeout",
        NUM,
        "The deployment timeout in minutes.",
    ),
];

const CODEDEPLOY_TO_ECS_PROPS: &[PropertySpec] = &[
    req(
        "ApplicationName",
        STR,
        "The name of the application in CodeDeploy.",
    ),
    req(
        "DeploymentGroupName",
        STR,
        "The CodeDeploy deployment group for the Amazon ECS task sets.",
    ),
    req(
        "TaskDefinitionTemplateArtifact",
        STR,
        "The input artifact that provides the task definition file.",
    ),
    req(
        "AppSpecTemplateArtifact",
        STR,
        "The input artifact that provides the AppSpec file.",
    ),
    opt(
        "AppSpecTemplatePath",
        STR,
        "The AppSpec file name. Defaults to appspec.yaml.",
    ),
    opt(
        "TaskDefinitionTemplatePath",
        STR,
        "The task definition file name. Defaults to taskdef.json.",
    ),
    opt(
        "Image1ArtifactName",
        STR,
        "The input artifact that provides image 1 (imageDetail.json).",
    ),
    opt(
        "Image1ContainerName",
        STR,
        "The placeholder name of image 1 in the task definition.",
    ),
    opt(
        "Image2ArtifactName",
        STR,
        "The input artifact that provides image 2 (imageDetail.json).",
    ),
    opt(
        "Image2ContainerName",
        STR,
        "The placeholder name of image 2 in the task definition.",
    ),
    opt(
        "Image3ArtifactName",
        STR,
        "The input artifact that provides image 3 (imageDetail.json).",
    ),
    opt(
        "Image3ContainerName",
        STR,
        "The placeholder name of image 3 in the task definition.",
    ),
    opt(
        "Image4ArtifactName",
        STR,
        "The input artifact that provides image 4 (imageDetail.json).",
    ),
    opt(
        "Image4ContainerName",
        STR,
        "The placeholder name of image 4 in the task definition.",
    ),
];

const ELASTIC_BEANSTALK_PROPS: &[PropertySpec] = &[
    req(
        "ApplicationName",
        STR,
        "The AWS Elastic Beanstalk Application name",
    ),
    req(
        "EnvironmentName",
        STR,
        "The AWS Elastic Beanstalk Environment name",
    ),
];

// As returned by `ListActionTypes` (published in the AWS code library); both templates are the same.
const ELASTIC_BEANSTALK_SETTINGS: SettingsSpec = SettingsSpec {
    third_party_configuration_url: None,
    entity_url_template: Some(
        "https://console.aws.amazon.com/elasticbeanstalk/r/application/{Config:ApplicationName}",
    ),
    execution_url_template: Some(
        "https://console.aws.amazon.com/elasticbeanstalk/r/application/{Config:ApplicationName}",
    ),
    revision_url_template: None,
};

const APPCONFIG_PROPS: &[PropertySpec] = &[
    req(
        "Application",
        STR,
        "The ID of the AWS AppConfig application.",
    ),
    req(
        "Environment",
        STR,
        "The ID of the AWS AppConfig environment the configuration is deployed to.",
    ),
    req(
        "ConfigurationProfile",
        STR,
        "The ID of the AWS AppConfig configuration profile to deploy.",
    ),
    req(
        "InputArtifactConfigurationPath",
        STR,
        "The file path of the configuration data within the input artifact.",
    ),
    opt(
        "DeploymentStrategy",
        STR,
        "The AWS AppConfig deployment strategy to use.",
    ),
];

// The guide marks TargetDirectory/DeploySpec "required if script/spec is used" and PostScript
// "Required: Yes" although a DeploySpec replaces it, so only the tag key and type are enforced.
const EC2_PROPS: &[PropertySpec] = &[
    req(
        "InstanceTagKey",
        STR,
        "The tag key of the target instances, such as Name.",
    ),
    req("InstanceType", STR, "EC2 or SSM_MANAGED_NODE."),
    opt(
        "InstanceTagValue",
        STR,
        "The tag value of the target instances; all instances with the key when omitted.",
    ),
    opt(
        "TargetDirectory",
        STR,
        "The directory on the instance used to run scripts; required with scripts.",
    ),
    opt(
        "DeploySpec",
        STR,
        "The deploy spec file configuring install and lifecycle events.",
    ),
    opt(
        "MaxBatch",
        STR,
        "The maximum number of instances deployed in parallel.",
    ),
    opt(
        "MaxError",
        STR,
        "The maximum number of instance errors allowed during deployment.",
    ),
    opt(
        "TargetGroupNameList",
        STR,
        "Target groups instances are deregistered from and re-registered to.",
    ),
    opt("PreScript", STR, "The script run before the Deploy phase."),
    opt("PostScript", STR, "The script run after the Deploy phase."),
];

// Helm options (HelmReleaseName, HelmChartLocation) or Kubectl options (ManifestFiles) are
// required depending on the deployment tool, so none of them is required on its own.
const EKS_PROPS: &[PropertySpec] = &[
    req("ClusterName", STR, "The Amazon EKS cluster."),
    opt(
        "HelmReleaseName",
        STR,
        "The Helm release name (required for Helm).",
    ),
    opt(
        "HelmChartLocation",
        STR,
        "The Helm chart location (required for Helm).",
    ),
    opt(
        "HelmValuesFiles",
        STR,
        "Comma-separated Helm values files overriding the chart's.",
    ),
    opt(
        "ManifestFiles",
        STR,
        "The Kubernetes manifest file(s) (required for Kubectl).",
    ),
    opt(
        "Namespace",
        STR,
        "The Kubernetes namespace used by kubectl or helm.",
    ),
    opt("Subnets", STR, "Subnets of the cluster VPC."),
    opt(
        "SecurityGroupIds",
        STR,
        "Security groups of the cluster VPC.",
    ),
];

const LAMBDA_DEPLOY_PROPS: &[PropertySpec] = &[
    req("FunctionName", STR, "The name of the Lambda function."),
    opt(
        "FunctionAlias",
        STR,
        "The alias to deploy to; without it the artifact is deployed to $LATEST and a new version is published.",
    ),
    opt(
        "PublishedTargetVersion",
        STR,
        "The published function version to shift FunctionAlias to; required when there is no input artifact.",
    ),
    opt(
        "DeployStrategy",
        STR,
        "AllAtOnce (default), CanaryNPercentMMinutes or LinearNPercentEveryMMinute(s).",
    ),
    opt("Alarms", STR, "Comma-separated CloudWatch alarm names (at most 10) that fail the deployment."),
];

// Service Catalog accepts either the product template fields or a ConfigurationFilePath plus
// ProductId, so only ProductId is always present.
const SERVICE_CATALOG_PROPS: &[PropertySpec] = &[
    req("ProductId", STR, "The product ID in Service Catalog."),
    opt(
        "TemplateFilePath",
        STR,
        "The file path of the resource template in the source location.",
    ),
    opt(
        "ProductVersionName",
        STR,
        "The product version in Service Catalog.",
    ),
    opt(
        "ProductType",
        STR,
        "The product type in Service Catalog, such as CLOUD_FORMATION_TEMPLATE.",
    ),
    opt(
        "ProductVersionDescription",
        STR,
        "The product version description in Service Catalog.",
    ),
    opt(
        "ConfigurationFilePath",
        STR,
        "A configuration file in the source location holding the product fields.",
    ),
];

const OPSWORKS_PROPS: &[PropertySpec] = &[
    req("Stack", STR, "The OpsWorks stack."),
    req("App", STR, "The OpsWorks app."),
    opt("Layer", STR, "The OpsWorks layer."),
];

const ALEXA_SKILLS_KIT_PROPS: &[PropertySpec] = &[
    req(
        "ClientId",
        STR,
        "The client ID of the Amazon developer console security profile.",
    ),
    secret(
        "ClientSecret",
        "The client secret of the Amazon developer console security profile.",
    ),
    secret(
        "RefreshToken",
        "The refresh token used to obtain access to the Alexa Skills Kit.",
    ),
    req("SkillId", STR, "The Alexa skill ID."),
];

// ---------------------------------------------------------------------------------------------
// Invoke / Approval
// ---------------------------------------------------------------------------------------------

const LAMBDA_INVOKE_PROPS: &[PropertySpec] = &[
    req(
        "FunctionName",
        STR,
        "The name of the Lambda function to invoke.",
    ),
    opt(
        "UserParameters",
        STR,
        "A string passed to the function as input.",
    ),
];

const STEP_FUNCTIONS_PROPS: &[PropertySpec] = &[
    req("StateMachineArn", STR, "The ARN of the state machine to invoke."),
    opt(
        "ExecutionNamePrefix",
        STR,
        "A prefix joined with a hyphen to the action execution ID to name the state machine execution.",
    ),
    opt("InputType", STR, "Literal (default) or FilePath."),
    opt(
        "Input",
        STR,
        "The literal input, or the file in the input artifact when InputType is FilePath (then required).",
    ),
];

const INSPECTOR_SCAN_PROPS: &[PropertySpec] = &[
    req("InspectorRunMode", STR, "SourceCodeScan or ECRImageScan."),
    opt(
        "ECRRepositoryName",
        STR,
        "The Amazon ECR repository of the image to scan.",
    ),
    opt("ImageTag", STR, "The tag of the image to scan."),
    opt(
        "CriticalThreshold",
        NUM,
        "Critical-severity findings beyond which the action fails.",
    ),
    opt(
        "HighThreshold",
        NUM,
        "High-severity findings beyond which the action fails.",
    ),
    opt(
        "MediumThreshold",
        NUM,
        "Medium-severity findings beyond which the action fails.",
    ),
    opt(
        "LowThreshold",
        NUM,
        "Low-severity findings beyond which the action fails.",
    ),
];

const PIPELINE_INVOKE_PROPS: &[PropertySpec] = &[
    req(
        "PipelineName",
        STR,
        "The name of the target pipeline to start.",
    ),
    opt(
        "SourceRevisions",
        STR,
        "A JSON array of source revision overrides for the target pipeline.",
    ),
    opt(
        "Variables",
        STR,
        "A JSON array of {name, value} pipeline variables for the target pipeline.",
    ),
];

const MANUAL_APPROVAL_PROPS: &[PropertySpec] = &[
    opt(
        "NotificationArn",
        STR,
        "The Amazon SNS topic ARN notified when the approval is pending.",
    ),
    opt(
        "CustomData",
        STR,
        "Comments shown to the reviewer and included in the notification.",
    ),
    opt(
        "ExternalEntityLink",
        STR,
        "A URL the reviewer can follow to review the change.",
    ),
];

// ---------------------------------------------------------------------------------------------
// The catalog
// ---------------------------------------------------------------------------------------------

/// Every AWS-owned action type a pipeline may name, plus the two `ThirdParty` types AWS itself
/// operates (GitHub version 1 and Alexa Skills Kit). One entry per (category, provider).
pub static AWS_ACTION_TYPES: &[ActionTypeSpec] = &[
    // --- Source ---
    aws(
        "Source",
        "S3",
        (0, 0),
        (1, 1),
        S3_SOURCE_PROPS,
        S3_SOURCE_SETTINGS,
    ),
    aws(
        "Source",
        "CodeCommit",
        (0, 0),
        (1, 1),
        CODECOMMIT_SOURCE_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Source",
        "ECR",
        (0, 0),
        (1, 1),
        ECR_SOURCE_PROPS,
        NO_SETTINGS,
    ),
    // The artifacts table lists this under ThirdParty, but the action reference (and every
    // pipeline declaration) uses owner AWS.
    aws(
        "Source",
        "CodeStarSourceConnection",
        (0, 0),
        (1, 1),
        CODESTAR_CONNECTION_PROPS,
        NO_SETTINGS,
    ),
    ActionTypeSpec {
        category: "Source",
        owner: "ThirdParty",
        provider: "GitHub",
        version: "1",
        input_artifacts: (0, 0),
        output_artifacts: (1, 1),
        properties: GITHUB_V1_PROPS,
        settings: NO_SETTINGS,
    },
    // --- Build ---
    aws(
        "Build",
        "CodeBuild",
        (1, 5),
        (0, 5),
        CODEBUILD_PROPS,
        CODEBUILD_SETTINGS,
    ),
    aws(
        "Build",
        "ECRBuildAndPublish",
        (1, 1),
        (0, 0),
        ECR_BUILD_AND_PUBLISH_PROPS,
        NO_SETTINGS,
    ),
    // --- Compute --- (Commands is category `Compute`, not `Build`)
    aws(
        "Compute",
        "Commands",
        (1, 10),
        (0, 1),
        COMMANDS_PROPS,
        NO_SETTINGS,
    ),
    // --- Test ---
    aws(
        "Test",
        "CodeBuild",
        (1, 5),
        (0, 5),
        CODEBUILD_PROPS,
        CODEBUILD_SETTINGS,
    ),
    aws(
        "Test",
        "DeviceFarm",
        (1, 1),
        (0, 0),
        DEVICE_FARM_PROPS,
        NO_SETTINGS,
    ),
    // --- Deploy ---
    aws("Deploy", "S3", (1, 1), (0, 0), S3_DEPLOY_PROPS, NO_SETTINGS),
    aws(
        "Deploy",
        "CodeDeploy",
        (1, 1),
        (0, 0),
        CODEDEPLOY_PROPS,
        CODEDEPLOY_SETTINGS,
    ),
    aws(
        "Deploy",
        "CloudFormation",
        (0, 10),
        (0, 1),
        CLOUDFORMATION_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Deploy",
        "CloudFormationStackSet",
        (1, 3),
        (0, 0),
        STACK_SET_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Deploy",
        "CloudFormationStackInstances",
        (0, 2),
        (0, 0),
        STACK_INSTANCES_PROPS,
        NO_SETTINGS,
    ),
    aws("Deploy", "ECS", (1, 1), (0, 0), ECS_PROPS, NO_SETTINGS),
    aws(
        "Deploy",
        "CodeDeployToECS",
        (1, 5),
        (0, 0),
        CODEDEPLOY_TO_ECS_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Deploy",
        "ElasticBeanstalk",
        (1, 1),
        (0, 0),
        ELASTIC_BEANSTALK_PROPS,
        ELASTIC_BEANSTALK_SETTINGS,
    ),
    aws(
        "Deploy",
        "AppConfig",
        (1, 1),
        (0, 0),
        APPCONFIG_PROPS,
        NO_SETTINGS,
    ),
    aws("Deploy", "EC2", (1, 1), (0, 0), EC2_PROPS, NO_SETTINGS),
    aws("Deploy", "EKS", (1, 1), (0, 0), EKS_PROPS, NO_SETTINGS),
    // Same provider name as the Lambda invoke action; the guide says 1 input artifact but also
    // that PublishedTargetVersion is "required if no input artifact is provided".
    aws(
        "Deploy",
        "Lambda",
        (0, 1),
        (0, 0),
        LAMBDA_DEPLOY_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Deploy",
        "ServiceCatalog",
        (1, 1),
        (0, 0),
        SERVICE_CATALOG_PROPS,
        NO_SETTINGS,
    ),
    // The artifacts table says 0 outputs; the action reference page says 0 to 1.
    aws(
        "Deploy",
        "OpsWorks",
        (1, 1),
        (0, 1),
        OPSWORKS_PROPS,
        NO_SETTINGS,
    ),
    ActionTypeSpec {
        category: "Deploy",
        owner: "ThirdParty",
        provider: "AlexaSkillsKit",
        version: "1",
        input_artifacts: (1, 2),
        output_artifacts: (0, 0),
        properties: ALEXA_SKILLS_KIT_PROPS,
        settings: NO_SETTINGS,
    },
    // --- Invoke ---
    aws(
        "Invoke",
        "Lambda",
        (0, 5),
        (0, 5),
        LAMBDA_INVOKE_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Invoke",
        "StepFunctions",
        (0, 1),
        (0, 1),
        STEP_FUNCTIONS_PROPS,
        NO_SETTINGS,
    ),
    // The guide says 1 input artifact, "not needed" for an ECR image scan.
    aws(
        "Invoke",
        "InspectorScan",
        (0, 1),
        (1, 1),
        INSPECTOR_SCAN_PROPS,
        NO_SETTINGS,
    ),
    aws(
        "Invoke",
        "CodePipeline",
        (0, 0),
        (0, 0),
        PIPELINE_INVOKE_PROPS,
        NO_SETTINGS,
    ),
    // --- Approval ---
    aws(
        "Approval",
        "Manual",
        (0, 0),
        (0, 0),
        MANUAL_APPROVAL_PROPS,
        NO_SETTINGS,
    ),
];
