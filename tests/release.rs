//! A release a team can check and deploy from the AWS Serverless Application Repository:
//! one version everywhere, the SAR metadata as `sam publish` reads and sends it, only
//! resource types SAR supports, the capabilities a deployer acknowledges, and a deploy form
//! whose parameters are grouped in the order a team sets them.

use std::collections::BTreeSet;

use serde_json::Value;
use testkit::iam::render;
use testkit::sar;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const REPOSITORY: &str = env!("CARGO_PKG_REPOSITORY");

fn read(path: &str) -> String {
    std::fs::read_to_string(testkit::root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The SAR metadata of template.yaml as written.
fn sar_metadata() -> Value {
    sar::source()["Metadata"]["AWS::ServerlessRepo::Application"].clone()
}

/// The version of the changelog's newest release: its first `## [x.y.z]` heading, past
/// `## [Unreleased]` (Keep a Changelog's heading for what has landed since).
fn changelog_version() -> String {
    read("CHANGELOG.md")
        .lines()
        .filter_map(|l| l.strip_prefix("## ["))
        .find(|l| !l.starts_with("Unreleased]"))
        .and_then(|l| l.split(']').next())
        .expect("a `## [version]` heading in CHANGELOG.md")
        .to_owned()
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn one_version_in_cargo_the_changelog_and_the_sar_metadata() {
    let metadata = sar_metadata();
    assert_eq!(
        changelog_version(),
        VERSION,
        "CHANGELOG.md's newest release"
    );
    assert_eq!(
        metadata["SemanticVersion"], VERSION,
        "template.yaml's SemanticVersion"
    );
    // SAR shows SourceCodeUrl per version: the release's tag.
    assert_eq!(
        metadata["SourceCodeUrl"],
        format!("{REPOSITORY}/tree/v{VERSION}")
    );
    assert_eq!(metadata["HomePageUrl"], REPOSITORY);
    assert!(
        read("CHANGELOG.md").contains(&format!("whatsapp-media-cleanup-{VERSION}-arm64.zip")),
        "the changelog names the release's artifact"
    );
    // What a deployer pastes: the SAR and Terraform commands, the CDK example's default,
    // and the release check.
    let cdk: Value = serde_json::from_str(&read("examples/cdk/cdk.json")).expect("cdk.json");
    assert_eq!(cdk["context"]["semanticVersion"], VERSION);
    let readme = read("README.md");
    for pinned in [
        format!("--semantic-version {VERSION} "),
        format!("semantic_version = \"{VERSION}\""),
    ] {
        assert_eq!(readme.matches(&pinned).count(), 1, "README.md: {pinned}");
    }
    for mention in ["--semantic-version ", "semantic_version = "] {
        assert_eq!(readme.matches(mention).count(), 1, "README.md: {mention}");
    }
    let deploying = read("docs/deploying.md");
    assert!(deploying.contains(&format!("git checkout v{VERSION}\n")));
    assert!(deploying.contains(&format!(
        "whatsapp-media-cleanup-{VERSION}-arm64.zip.sha256"
    )));
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_license_is_mit_0_in_every_place_that_names_it() {
    let metadata = sar_metadata();
    assert_eq!(metadata["SpdxLicenseId"], env!("CARGO_PKG_LICENSE"));
    assert_eq!(env!("CARGO_PKG_LICENSE"), "MIT-0");
    let license_file = metadata["LicenseUrl"].as_str().expect("LicenseUrl");
    assert_eq!(license_file, "LICENSE");
    // The MIT-0 text (https://spdx.org/licenses/MIT-0.html) names no attribution clause.
    let text = read(license_file);
    assert!(text.starts_with("MIT No Attribution\n"), "{text}");
    assert!(!text.contains("above copyright notice and this permission notice shall be included"));
}

/// SAR's documented limits on the metadata ("AWS SAM template Metadata section properties",
/// https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-template-publishing-applications-metadata-properties.html,
/// and CreateApplication, https://docs.aws.amazon.com/serverlessrepo/latest/devguide/applications.html),
/// which the SAM CLI leaves to the service.
fn check_sar_limits(request: &Value) {
    let text = |field: &str| request[field].as_str().unwrap_or_else(|| panic!("{field}"));
    let name = text("Name");
    assert!(
        (1..=140).contains(&name.len())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
        "Name {name:?}"
    );
    assert!((1..=256).contains(&text("Description").len()));
    // ^[a-z0-9](([a-z0-9]|-(?!-))*[a-z0-9])?$
    let author = text("Author");
    assert!(
        (1..=127).contains(&author.len())
            && author
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !author.starts_with('-')
            && !author.ends_with('-')
            && !author.contains("--"),
        "Author {author:?}"
    );
    let labels = request["Labels"].as_array().expect("Labels");
    assert!(labels.len() <= 10, "at most 10 labels");
    for label in labels {
        let label = label.as_str().expect("a label");
        assert!(
            (1..=127).contains(&label.len())
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-_:/@".contains(c)),
            "label {label:?}"
        );
    }
    // https://semver.org: MAJOR.MINOR.PATCH, no leading zeros.
    let version = text("SemanticVersion");
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3
            && parts.iter().all(|p| !p.is_empty()
                && p.chars().all(|c| c.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))),
        "SemanticVersion {version:?}"
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_sar_metadata_is_what_sam_publish_sends_and_within_sars_limits() {
    let requests = sar::publish_requests(&testkit::root().join("template.yaml"))
        .unwrap_or_else(|refused| panic!("sam publish's own checks refused it: {refused}"));
    let create = &requests["CreateApplication"];
    check_sar_limits(create);
    // Before `sam package`, the license and readme are the repository's files; each at
    // most 5 MB.
    for field in ["LicenseUrl", "ReadmeUrl"] {
        let path = testkit::root().join(create[field].as_str().expect(field));
        let size = std::fs::metadata(&path).expect("the file exists").len();
        assert!(size <= 5 * 1024 * 1024, "{field}: {size} bytes");
    }
    assert_eq!(
        requests["CreateApplicationVersion"]["SemanticVersion"],
        VERSION
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_metadata_is_refused_as_sam_publish_refuses_it() {
    // The same parser and checks that pass the template above refuse a template whose
    // metadata lacks what CreateApplication requires, so the test above can fail.
    let dir = testkit::root().join("target/tmp");
    std::fs::create_dir_all(&dir).expect("target/tmp");
    let without_author = dir.join("template-without-author.yaml");
    let template = read("template.yaml").replacen("    Author: whatsapp-media-cleanup\n", "", 1);
    std::fs::write(&without_author, template).expect("write");
    let refused = sar::publish_requests(&without_author).expect_err("no Author");
    assert!(refused.contains("author"), "{refused}");
}

/// Parameter values that, between them, make every resource the template can deploy.
const VARIANTS: [&[&str]; 5] = [
    &[],
    &["UseSqsBuffer=true", "RedriveFailedEvents=true"],
    &[
        "ExistingBucketName=team-media",
        "AlarmTopicArn=arn:aws:sns:us-east-1:123456789012:alarms",
    ],
    &["ExistingBucketName=team-media", "UseSqsBuffer=true"],
    &[
        "ExpireCurrentObjectsAfterDays=30",
        "BatchManifestBucketName=manifests",
        "BatchReportBucketName=reports",
        "ReservedConcurrency=",
    ],
];

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn every_resource_of_every_variant_is_a_type_sar_supports() {
    let supported = sar::supported_resources();
    // What SAR reads (the SAM template) and what the transform makes of it.
    let mut types = sar::resource_types(&sar::source());
    for params in VARIANTS {
        types.extend(sar::resource_types(&render(params)));
    }
    // The transform's own: a function's EventInvokeConfig, its role.
    for made in [
        "AWS::Lambda::EventInvokeConfig",
        "AWS::IAM::Role",
        "AWS::Lambda::Function",
    ] {
        assert!(types.contains(made), "{made} is rendered");
    }
    let unsupported: Vec<&String> = types.iter().filter(|t| !supported.contains(*t)).collect();
    assert!(
        unsupported.is_empty(),
        "SAR does not support {unsupported:?}"
    );
}

/// Every string under an `Action` key, anywhere in `value`.
fn actions(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("Action", Value::String(a)) => found.push(a.clone()),
                    ("Action", Value::Array(list)) => {
                        found.extend(list.iter().filter_map(|a| a.as_str().map(str::to_owned)))
                    }
                    _ => actions(v, found),
                }
            }
        }
        Value::Array(list) => list.iter().for_each(|v| actions(v, found)),
        _ => {}
    }
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn a_deployer_acknowledges_iam_and_resource_policies_and_never_named_iam() {
    let mut asked = BTreeSet::new();
    for params in VARIANTS {
        let t = render(params);
        let types = sar::resource_types(&t);
        asked.extend(sar::capabilities(types.iter().map(String::as_str)));
        for (name, r) in t["Resources"].as_object().expect("Resources") {
            if r["Type"].as_str().expect("Type").starts_with("AWS::IAM::") {
                for property in sar::IAM_NAME_PROPERTIES {
                    assert!(
                        r["Properties"].get(property).is_none(),
                        "{name} names itself ({property}): CAPABILITY_NAMED_IAM"
                    );
                }
            }
            // SAR refuses to publish AWSLambda_FullAccess, and iam:AttachRolePolicy,
            // iam:PutRolePolicy or iam:* on every resource
            // (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/using-aws-sam.html):
            // the template grants no IAM action at all.
            assert!(!r.to_string().contains("AWSLambda_FullAccess"), "{name}");
            let mut granted = Vec::new();
            actions(r, &mut granted);
            assert!(
                granted
                    .iter()
                    .all(|a| !a.to_ascii_lowercase().starts_with("iam:")),
                "{name} grants {granted:?}"
            );
        }
    }
    assert_eq!(
        asked,
        BTreeSet::from(["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"])
    );
    // The deploy instructions name exactly these.
    let readme = read("README.md");
    for capability in asked {
        assert!(readme.contains(capability), "README.md names {capability}");
    }
    assert!(!readme.contains("CAPABILITY_NAMED_IAM"));
}

/// The deploy form's groups, in the order a team meets them.
const GROUPS: [&str; 8] = [
    "The media bucket",
    "Phone numbers",
    "Safety",
    "Throughput",
    "Failures and redrive",
    "Proof of erasure",
    "Bulk cleanup with S3 Batch Operations",
    "Observability",
];

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn every_parameter_is_in_one_group_with_a_label_in_the_order_a_team_sets_them() {
    let template = sar::source();
    let interface = &template["Metadata"]["AWS::CloudFormation::Interface"];
    let groups = interface["ParameterGroups"]
        .as_array()
        .expect("ParameterGroups");
    let labels: Vec<&str> = groups
        .iter()
        .map(|g| g["Label"]["default"].as_str().expect("a group label"))
        .collect();
    assert_eq!(labels, GROUPS);
    let grouped: Vec<&str> = groups
        .iter()
        .flat_map(|g| g["Parameters"].as_array().expect("Parameters"))
        .map(|p| p.as_str().expect("a parameter name"))
        .collect();
    // The template declares them in the same order, so that `sam deploy --guided` asks
    // them as the form shows them; each exactly once.
    // (Read from the text: serde_json's maps sort their keys.)
    let source = read("template.yaml");
    let declared: Vec<&str> = source
        .lines()
        .skip_while(|l| *l != "Parameters:")
        .take_while(|l| *l != "Conditions:")
        .filter_map(|l| l.strip_prefix("  ")?.strip_suffix(':'))
        .filter(|name| !name.starts_with(' '))
        .collect();
    assert_eq!(
        declared.len(),
        template["Parameters"]
            .as_object()
            .expect("Parameters")
            .len()
    );
    assert_eq!(grouped, declared);
    for parameter in &declared {
        let label = interface["ParameterLabels"][parameter]["default"].as_str();
        assert!(
            label.is_some_and(|l| !l.is_empty()),
            "{parameter} has no label"
        );
    }
    assert_eq!(
        interface["ParameterLabels"]
            .as_object()
            .expect("labels")
            .len(),
        declared.len(),
        "a label for a parameter the template does not declare"
    );
}

/// The ARN a deployer passes for the application.
const APPLICATION_ID: &str =
    "arn:aws:serverlessrepo:us-east-1:123456789012:applications/whatsapp-media-cleanup";

/// `cdk synth` of examples/cdk with the deployer's `context` (`name=value`): its
/// CloudFormation template, as JSON. Offline: no version check, notices or telemetry, and
/// no credentials, profile or instance metadata to find the account with (the CLI asks STS
/// for it when it can).
fn cdk_synth(context: &[&str]) -> Value {
    let dir = testkit::root().join("examples/cdk");
    let out = testkit::tmp_dir().join(format!("cdk.out-{}", context.len()));
    let home = testkit::tmp_dir().join("cdk-home");
    std::fs::create_dir_all(&home).expect("home");
    let mut command = std::process::Command::new(dir.join("node_modules/.bin/cdk"));
    command
        .current_dir(&dir)
        .args(["synth", "--quiet", "--no-notices", "--no-version-reporting"])
        .arg("--output")
        .arg(&out)
        .env("CDK_DISABLE_VERSION_CHECK", "1")
        .env("CDK_DISABLE_CLI_TELEMETRY", "true")
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_REGION", testkit::REGION);
    for variable in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ] {
        command.env_remove(variable);
    }
    for c in context {
        command.args(["--context", c]);
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!(
            "run cdk in {}: {e}: run make test (it runs npm ci)",
            dir.display()
        )
    });
    assert!(
        output.status.success(),
        "cdk synth failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let template = std::fs::read_to_string(out.join("WhatsAppMediaCleanup.template.json"))
        .expect("the synthesized template");
    serde_json::from_str(&template).expect("JSON")
}

#[test]
#[ignore = "needs npm's packages for examples/cdk and the SAM CLI: run make test"]
fn the_cdk_example_deploys_this_version_with_parameters_the_template_takes() {
    let app = format!("applicationId={APPLICATION_ID}");
    let t = cdk_synth(&[&app, "existingBucketName=team-media"]);
    assert_eq!(t["Transform"], "AWS::Serverless-2016-10-31");
    // Deployable without `cdk bootstrap`: no bootstrap version parameter or rule.
    assert!(
        t.get("Parameters").is_none() && t.get("Rules").is_none(),
        "{t}"
    );
    let application = &t["Resources"]["Cleanup"];
    assert_eq!(application["Type"], "AWS::Serverless::Application");
    let location = &application["Properties"]["Location"];
    assert_eq!(location["SemanticVersion"], VERSION);
    assert_eq!(location["ApplicationId"], APPLICATION_ID);
    // Every parameter it passes is one the template declares, with a value its constraints
    // accept (the render refuses what CloudFormation would), and every output it reads is
    // one the stack has with those values.
    let params: Vec<String> = application["Properties"]["Parameters"]
        .as_object()
        .expect("Parameters")
        .iter()
        .map(|(name, value)| format!("{name}={}", value.as_str().expect("a string")))
        .collect();
    for wanted in ["ExistingBucketName=team-media", "DryRun=true"] {
        assert!(params.contains(&wanted.to_owned()), "{params:?}");
    }
    let rendered = testkit::iam::try_render(&params.iter().map(String::as_str).collect::<Vec<_>>())
        .unwrap_or_else(|refused| panic!("the template refuses {params:?}: {refused}"));
    for (name, output) in t["Outputs"].as_object().expect("Outputs") {
        let nested = output["Value"]["Fn::GetAtt"][1]
            .as_str()
            .expect("Fn::GetAtt");
        let key = nested.strip_prefix("Outputs.").expect("Outputs.<name>");
        assert!(
            rendered["Outputs"].get(key).is_some(),
            "{name}: the stack has no {key}"
        );
    }
    // A deployer's version replaces the example's.
    let theirs = cdk_synth(&[&app, "existingBucketName=b", "semanticVersion=1.2.3"]);
    let location = &theirs["Resources"]["Cleanup"]["Properties"]["Location"];
    assert_eq!(location["SemanticVersion"], "1.2.3");
}
