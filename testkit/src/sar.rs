//! The AWS Serverless Application Repository's rules for an application's template, as
//! tests/release.rs and tests/package.rs hold template.yaml to them.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

/// The resource types SAR accepts (`sar_supported_resources.txt`, with its source).
pub fn supported_resources() -> BTreeSet<String> {
    include_str!("sar_supported_resources.txt")
        .lines()
        .filter(|line| line.starts_with("AWS::"))
        .map(str::to_owned)
        .collect()
}

/// The types whose resources a deployer acknowledges with CAPABILITY_IAM, and with
/// CAPABILITY_RESOURCE_POLICY ("Acknowledging application capabilities",
/// https://docs.aws.amazon.com/serverlessrepo/latest/devguide/acknowledging-application-capabilities.html;
/// AWS::IAM::Policy is on both lists).
pub const IAM_TYPES: [&str; 4] = [
    "AWS::IAM::Group",
    "AWS::IAM::InstanceProfile",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
];
pub const RESOURCE_POLICY_TYPES: [&str; 8] = [
    "AWS::Lambda::LayerVersionPermission",
    "AWS::Lambda::Permission",
    "AWS::Events::EventBusPolicy",
    "AWS::IAM::Policy",
    "AWS::ApplicationAutoScaling::ScalingPolicy",
    "AWS::S3::BucketPolicy",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::TopicPolicy",
];

/// The properties that give an IAM resource a custom name, for which CloudFormation asks
/// CAPABILITY_NAMED_IAM rather than CAPABILITY_IAM
/// (CreateChangeSet's Capabilities, https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateChangeSet.html).
pub const IAM_NAME_PROPERTIES: [&str; 5] = [
    "RoleName",
    "GroupName",
    "UserName",
    "ManagedPolicyName",
    "InstanceProfileName",
];

/// The capabilities a template's resources ask a deployer to acknowledge, by their types.
pub fn capabilities<'a>(types: impl IntoIterator<Item = &'a str>) -> BTreeSet<&'static str> {
    let mut asked = BTreeSet::new();
    for t in types {
        if IAM_TYPES.contains(&t) {
            asked.insert("CAPABILITY_IAM");
        }
        if RESOURCE_POLICY_TYPES.contains(&t) {
            asked.insert("CAPABILITY_RESOURCE_POLICY");
        }
    }
    asked
}

/// The types of a template's resources.
pub fn resource_types(t: &Value) -> BTreeSet<String> {
    t["Resources"]
        .as_object()
        .expect("Resources")
        .values()
        .map(|r| r["Type"].as_str().expect("Type").to_owned())
        .collect()
}

/// template.yaml as written (parsed by the SAM CLI's YAML loader), as JSON.
pub fn source() -> Value {
    parse(&crate::root().join("template.yaml"))
}

/// A template (template.yaml, or one `sam package` wrote), as JSON.
pub fn parse(template: &Path) -> Value {
    crate::iam::sam_cli_script(
        "render_template.py",
        &["--source", template.to_str().expect("a UTF-8 path")],
    )
    .unwrap_or_else(|e| panic!("parse {}: {e}", template.display()))
}

/// The CreateApplication and CreateApplicationVersion requests `sam publish` would send
/// for `template`, built by the SAM CLI's own code and checked against botocore's model
/// (`sar_request.py`); each TemplateBody is its size in bytes.
pub fn publish_requests(template: &Path) -> Result<Value, String> {
    crate::iam::sam_cli_script(
        "sar_request.py",
        &[template.to_str().expect("a UTF-8 path")],
    )
}
