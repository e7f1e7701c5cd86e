//! The documentation's own commands and snippets, run as written: each block marked
//! `<!-- docs-test: NAME -->` is taken from README.md or a page under docs/, and run with the
//! AWS CLI and boto3 of the project's virtualenv against moto's S3 server and the local social-messaging
//! endpoint, then the function is invoked the way S3 would and must delete the media those
//! commands recorded. Nothing reaches AWS: every endpoint is local, the credentials are the
//! tests' own, and no AWS config file is read.

use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::Arc;

use serde_json::{json, Value};
use testkit::docs::block;
use testkit::runtime_api::{Function, InvokeApi};
use testkit::s3_faults::{Operation, S3Faults};
use testkit::{LocalApp, PHONE, REGION};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The blocks named, one after the other, as one script.
fn script(blocks: &[&str]) -> String {
    blocks.iter().map(|name| block(name)).collect()
}

struct Fixture {
    local: LocalApp,
    /// The folder the documented commands run in, with a photo.jpg to upload.
    dir: PathBuf,
}

impl std::ops::Deref for Fixture {
    type Target = LocalApp;

    fn deref(&self) -> &LocalApp {
        &self.local
    }
}

async fn fixture(name: &str) -> Fixture {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("readme-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("photo.jpg"), b"\xff\xd8\xff\xe0 a photo").unwrap();
    Fixture {
        local: LocalApp::start(&[]).await,
        dir,
    }
}

impl Fixture {
    /// Runs `program` with `args` in the fixture's folder, with the virtualenv first on
    /// PATH, local endpoints, the tests' credentials and `vars`; returns its stdout.
    fn run(&self, program: &str, args: &[&str], vars: &[(&str, &str)]) -> String {
        let out = self.output(program, args, vars);
        assert!(
            out.status.success(),
            "{program} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// As `run`, whatever the exit status.
    fn output(&self, program: &str, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
        let venv = root().join(".venv/bin");
        assert!(
            venv.join("aws").exists(),
            "{} is missing: run `make test` (it installs the AWS CLI into .venv)",
            venv.join("aws").display()
        );
        let path = format!(
            "{}:{}",
            venv.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let nowhere = self.dir.join("no-aws-config");
        Command::new(program)
            .args(args)
            .current_dir(&self.dir)
            .env_clear()
            .env("PATH", path)
            .env("HOME", &self.dir)
            .env("AWS_CONFIG_FILE", &nowhere)
            .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_ACCESS_KEY_ID", testkit::ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", testkit::SECRET_ACCESS_KEY)
            .env("AWS_SESSION_TOKEN", testkit::SESSION_TOKEN)
            .env("AWS_DEFAULT_REGION", REGION)
            .env("AWS_REGION", REGION)
            // Any service a block calls without its own endpoint below fails here, on a
            // closed local port, rather than reaching AWS.
            .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
            .env("AWS_ENDPOINT_URL_S3", &self.moto.url)
            .env("AWS_ENDPOINT_URL_SOCIALMESSAGING", self.endpoint.url())
            .envs(vars.iter().copied())
            .output()
            .unwrap_or_else(|e| panic!("{program}: {e}"))
    }

    /// Runs documented shell blocks in one bash session, as a user pasting them would.
    fn shell(&self, blocks: &[&str], vars: &[(&str, &str)]) -> String {
        let script = script(blocks);
        self.run("bash", &["-euo", "pipefail", "-c", &script], vars)
    }

    /// Runs documented shell blocks as pasted into an interactive shell, which goes on after a
    /// failed command (no `set -e`, no `pipefail`): (whether the last one succeeded, stderr).
    fn try_shell(&self, blocks: &[&str], vars: &[(&str, &str)]) -> (bool, String) {
        let script = script(blocks);
        let out = self.output("bash", &["-c", &script], vars);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The media ids PostWhatsAppMessageMedia issued.
    fn uploaded(&self) -> Vec<String> {
        self.endpoint
            .seen()
            .into_iter()
            .filter(|s| s.method == "POST" && s.status == Some(200))
            .filter_map(|s| s.media_id)
            .collect()
    }

    fn deleted(&self) -> Vec<String> {
        self.endpoint
            .seen()
            .into_iter()
            .filter(|s| s.method == "DELETE")
            .filter_map(|s| s.media_id)
            .collect()
    }

    async fn tags(&self, bucket: &str, key: &str) -> Vec<(String, String)> {
        testkit::moto::tags(&self.s3, bucket, key, None).await
    }

    /// Deletes the object as a user would, and hands the function S3's notification of it.
    async fn delete_and_notify(&self, bucket: &str, key: &str) -> Value {
        let marker = self.delete(bucket, key).await.expect("a delete marker");
        let encoded_key = key.replace(' ', "+");
        let event = testkit::s3_notification(
            "ObjectRemoved:DeleteMarkerCreated",
            bucket,
            &encoded_key,
            Some(&marker),
        );
        self.invoke(event).await.unwrap()
    }
}

const KEY: &str = "outbound/2026/11/photo 1.jpg";

fn object_vars() -> [(&'static str, &'static str); 3] {
    [
        ("BUCKET", "media"),
        ("KEY", KEY),
        ("PHONE_NUMBER_ID", PHONE),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn upload_then_tag_with_the_cli_then_delete_and_the_media_is_deleted() {
    let f = fixture("cli-tags").await;
    testkit::moto::create_bucket(&f.s3, "media", true).await;
    f.shell(&["record-ids-cli"], &object_vars());

    let uploaded = f.uploaded();
    assert_eq!(
        uploaded.len(),
        1,
        "PostWhatsAppMessageMedia was not called once"
    );
    let media_id = &uploaded[0];
    // The user's own tag is kept; the ids are added; no new version was written.
    assert_eq!(
        f.tags("media", KEY).await,
        [
            ("team".to_owned(), "marketing".to_owned()),
            ("whatsapp-media-id".to_owned(), media_id.clone()),
            (
                "whatsapp-origination-phone-number-id".to_owned(),
                PHONE.to_owned()
            ),
        ]
    );
    assert_eq!(testkit::moto::versions(&f.s3, "media", KEY).await.len(), 1);

    let payload = f.delete_and_notify("media", KEY).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["mediaId"], media_id.as_str());
    assert_eq!(f.deleted(), std::slice::from_ref(media_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn ids_recorded_as_metadata_by_copying_in_place_are_found_too() {
    let f = fixture("cli-copy").await;
    testkit::moto::create_bucket(&f.s3, "media", true).await;
    // The copy block goes on from the tagging block's variables, as in one shell.
    f.shell(&["record-ids-cli", "record-ids-copy-cli"], &object_vars());
    let media_id = f.uploaded()[0].clone();
    let head =
        f.s3.head_object()
            .bucket("media")
            .key(KEY)
            .send()
            .await
            .unwrap();
    let metadata = head.metadata().unwrap();
    assert_eq!(metadata["whatsapp-media-id"], media_id);
    assert_eq!(metadata["whatsapp-origination-phone-number-id"], PHONE);
    assert_eq!(head.content_type(), Some("image/jpeg"));
    // The version copied from is gone: the copy, which names the media, is the key's only
    // version, so nothing serves the file once it is deleted.
    assert_eq!(
        testkit::moto::versions(&f.s3, "media", KEY).await,
        [head.version_id().unwrap()]
    );

    let payload = f.delete_and_notify("media", KEY).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(f.deleted(), [media_id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn the_python_snippet_records_the_ids_and_keeps_other_tags() {
    let f = fixture("python").await;
    testkit::moto::create_bucket(&f.s3, "media", true).await;
    f.run(
        root().join(".venv/bin/python").to_str().unwrap(),
        &["-c", &block("record-ids-python")],
        &object_vars(),
    );
    let media_id = f.uploaded()[0].clone();
    let tags = f.tags("media", KEY).await;
    assert!(
        tags.contains(&("team".into(), "marketing".into())),
        "{tags:?}"
    );
    assert!(
        tags.contains(&("whatsapp-media-id".into(), media_id.clone())),
        "{tags:?}"
    );
    let payload = f.delete_and_notify("media", KEY).await;
    assert_eq!(
        payload["results"][0]["mediaId"],
        media_id.as_str(),
        "{payload}"
    );
}

#[test]
fn the_rust_snippet_is_the_example() {
    let source = std::fs::read_to_string(root().join("examples/record_ids.rs")).unwrap();
    let begin = source.find("// docs: begin\n").unwrap() + "// docs: begin\n".len();
    let end = source.find("// docs: end").unwrap();
    assert_eq!(block("record-ids-rust"), source[begin..end]);
}

/// The example (the documented Rust snippet) run as a user would, against moto: it tags
/// exactly the version it is given, and keeps the object's other tags.
#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn the_rust_snippet_tags_exactly_its_version_and_keeps_other_tags() {
    let moto = testkit::moto::Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "record-ids", true).await;
    let put = |body: &'static [u8]| {
        s3.put_object()
            .bucket("record-ids")
            .key("in/photo 1.jpg")
            .body(body.to_vec().into())
            .send()
    };
    let first = put(b"1").await.unwrap().version_id().unwrap().to_owned();
    put(b"2").await.unwrap();
    testkit::moto::put_tags(
        &s3,
        "record-ids",
        "in/photo 1.jpg",
        Some(&first),
        &[("team", "media"), ("whatsapp-media-id", "stale")],
    )
    .await;
    let example = testkit::example_binary("record_ids");
    let out = Command::new(&example)
        .args(["record-ids", "in/photo 1.jpg", &first, "fresh1", PHONE])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs([
            ("AWS_ENDPOINT_URL_S3", moto.url.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_REGION", REGION),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ])
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", example.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
    assert_eq!(
        testkit::moto::tags(&s3, "record-ids", "in/photo 1.jpg", Some(&first)).await,
        [
            pair("team", "media"),
            pair("whatsapp-media-id", "fresh1"),
            pair("whatsapp-origination-phone-number-id", PHONE)
        ]
    );
    assert_eq!(
        testkit::moto::tags(&s3, "record-ids", "in/photo 1.jpg", None).await,
        [],
        "the newer version was tagged"
    );
}

/// A bucket with what a team had: a notification of its own and a lifecycle rule of its own.
async fn team_bucket(f: &Fixture) {
    testkit::moto::create_bucket(&f.s3, "team-media", false).await;
    f.run(
        "aws",
        &[
            "s3api",
            "put-bucket-notification-configuration",
            "--bucket",
            "team-media",
            "--notification-configuration",
            r#"{"TopicConfigurations": [{"Id": "uploads", "TopicArn": "arn:aws:sns:us-east-1:123456789012:uploads", "Events": ["s3:ObjectCreated:*"]}]}"#,
        ],
        &[],
    );
    f.run(
        "aws",
        &[
            "s3api",
            "put-bucket-lifecycle-configuration",
            "--bucket",
            "team-media",
            "--lifecycle-configuration",
            r#"{"Rules": [{"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]}"#,
        ],
        &[],
    );
}

/// The bucket setting that `get` (an s3api command) reads, as JSON.
fn bucket_setting(f: &Fixture, get: &str) -> Value {
    let out = f.run(
        "aws",
        &["s3api", get, "--bucket", "team-media", "--output", "json"],
        &[],
    );
    // The CLI prints nothing for a bucket without notifications.
    if out.trim().is_empty() {
        return json!({});
    }
    serde_json::from_str(&out).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn preparing_an_existing_bucket_keeps_its_other_settings() {
    let f = fixture("existing-bucket").await;
    team_bucket(&f).await;
    // Twice: running it again changes nothing.
    for _ in 0..2 {
        f.shell(&["existing-bucket-cli"], &[("BUCKET", "team-media")]);
    }
    let get = |command: &str| bucket_setting(&f, command);
    assert_eq!(get("get-bucket-versioning")["Status"], "Enabled");
    let rules = get("get-bucket-lifecycle-configuration")["Rules"].clone();
    let ids: Vec<&str> = rules
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ID"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["tmp", "expire-noncurrent-versions"], "{rules}");
    assert_eq!(
        rules[1]["NoncurrentVersionExpiration"]["NoncurrentDays"],
        30
    );
    let notifications = get("get-bucket-notification-configuration");
    assert_eq!(
        notifications["TopicConfigurations"][0]["Id"], "uploads",
        "{notifications}"
    );
    // moto accepts EventBridgeConfiguration but does not echo it back: what was sent is in
    // the file the block wrote.
    let sent: Value =
        serde_json::from_str(&std::fs::read_to_string(f.dir.join("notification.json")).unwrap())
            .unwrap();
    assert_eq!(sent["EventBridgeConfiguration"], json!({}));
    assert_eq!(sent["TopicConfigurations"][0]["Id"], "uploads");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn a_merge_whose_read_fails_writes_nothing() {
    let f = fixture("existing-bucket-denied").await;
    team_bucket(&f).await;
    // The reads are denied (a bucket policy, expired credentials): neither put may run,
    // or it would replace the team's settings with the function's alone.
    let faults = S3Faults::start(&f.moto.url).await;
    faults.fail(Operation::GetBucketNotificationConfiguration, 403);
    faults.fail(Operation::GetBucketLifecycleConfiguration, 403);
    let (succeeded, stderr) = tokio::task::block_in_place(|| {
        f.try_shell(
            &["existing-bucket-cli"],
            &[
                ("BUCKET", "team-media"),
                ("AWS_ENDPOINT_URL_S3", &faults.url),
            ],
        )
    });
    let notifications = bucket_setting(&f, "get-bucket-notification-configuration");
    assert_eq!(
        notifications["TopicConfigurations"][0]["Id"], "uploads",
        "{notifications}"
    );
    let rules = bucket_setting(&f, "get-bucket-lifecycle-configuration")["Rules"].clone();
    assert_eq!(rules.as_array().unwrap().len(), 1, "{rules}");
    assert_eq!(rules[0]["ID"], "tmp");
    assert!(!f.dir.join("lifecycle.json").exists());
    assert!(!succeeded, "the block must fail when a read fails");
    assert!(stderr.contains("AccessDenied"), "{stderr}");

    // With no lifecycle configuration at all (NoSuchLifecycleConfiguration), the rule is
    // added, and the run succeeds.
    f.run(
        "aws",
        &["s3api", "delete-bucket-lifecycle", "--bucket", "team-media"],
        &[],
    );
    f.shell(&["existing-bucket-cli"], &[("BUCKET", "team-media")]);
    let rules = bucket_setting(&f, "get-bucket-lifecycle-configuration")["Rules"].clone();
    assert_eq!(rules[0]["ID"], "expire-noncurrent-versions", "{rules}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI, jq and moto: run make test"]
async fn the_deployed_function_is_invoked_by_the_name_its_stack_gives() {
    let f = fixture("invoke-deployed").await;
    // The stack, as describe-stacks shows it (moto's CloudFormation).
    let name = "whatsapp-media-cleanup-CleanupFunction-Ab12Cd34Ef56";
    let template = json!({"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
                          "Outputs": {"FunctionName": {"Value": name}}});
    let cloudformation = [("AWS_ENDPOINT_URL_CLOUDFORMATION", f.moto.url.as_str())];
    f.run(
        "aws",
        &[
            "cloudformation",
            "create-stack",
            "--stack-name",
            "whatsapp-media-cleanup",
            "--template-body",
            &template.to_string(),
        ],
        &cloudformation,
    );
    // The release binary, behind Lambda's Invoke API under that name.
    let log = f.dir.join("function.log");
    let function = Function::spawn(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &f.endpoint.url(),
        &[("AWS_ENDPOINT_URL_S3", &f.moto.url)],
        &log,
    )
    .await;
    let api = InvokeApi::start(Arc::new(function), name).await;
    std::fs::create_dir_all(f.dir.join("events")).unwrap();
    std::fs::copy(
        root().join("events/custom-dry-run.json"),
        f.dir.join("events/custom-dry-run.json"),
    )
    .unwrap();
    let out = tokio::task::block_in_place(|| {
        f.shell(
            &["invoke-deployed"],
            &[cloudformation[0], ("AWS_ENDPOINT_URL_LAMBDA", &api.url)],
        )
    });
    let payload: Value =
        serde_json::from_str(&std::fs::read_to_string(f.dir.join("out.json")).unwrap()).unwrap();
    assert_eq!(payload["success"], true, "{out}");
    assert_eq!(payload["dryRun"], true, "{payload}");
    assert_eq!(payload["summary"]["dryRun"], 2, "{payload}");
    assert_eq!(
        payload["results"][0]["mediaId"], "c3d4e5f60718293a4b5c6d7e8f90a1b2",
        "{payload}"
    );
    assert!(out.contains("\"StatusCode\": 200"), "{out}");
    // The first command after a deploy deletes nothing.
    assert!(f.deleted().is_empty(), "{:?}", f.deleted());
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// The anchors of a Markdown page's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// Every relative link of the documentation leads to a file that exists and, when it names
/// one, to a heading of that file: a page moved or a heading renamed fails here.
#[test]
fn every_link_between_the_pages_resolves() {
    let link = regex_lite::Regex::new(r"\]\(([^)\s]+)\)").unwrap();
    let mut pages = testkit::docs::pages();
    for other in [
        "ARCHITECTURE.md",
        "CHANGELOG.md",
        "benchmarks/README.md",
        "testkit/README.md",
    ] {
        let path = root().join(other);
        let text = std::fs::read_to_string(&path).unwrap();
        pages.push((path, text));
    }
    let mut broken = Vec::new();
    for (page, text) in &pages {
        for target in link.captures_iter(text).map(|c| c[1].to_owned()) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, fragment) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !path.exists() {
                broken.push(format!("{}: {target} (no such file)", page.display()));
            } else if !fragment.is_empty() {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&text).iter().any(|a| a == fragment) {
                    broken.push(format!("{}: {target} (no such heading)", page.display()));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the AWS CLI and moto: run make test"]
async fn the_sar_commands_ask_for_this_version_with_the_capabilities_and_parameters_it_needs() {
    let f = fixture("sar-deploy-cli").await;
    let sar = testkit::sar_api::SarApi::start(&f.moto.url).await;
    tokio::task::block_in_place(|| {
        f.shell(
            &["sar-deploy-cli"],
            &[
                ("AWS_ENDPOINT_URL_SERVERLESSAPPLICATIONREPOSITORY", &sar.url),
                ("AWS_ENDPOINT_URL_CLOUDFORMATION", &f.moto.url),
            ],
        )
    });
    let requests = sar.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let (application, body) = (&requests[0].application_id, &requests[0].body);
    assert!(
        application.starts_with("arn:aws:serverlessrepo:")
            && application.ends_with(":applications/whatsapp-media-cleanup"),
        "{application}"
    );
    assert_eq!(body["semanticVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["stackName"], "whatsapp-media-cleanup");
    // params.json, as the CLI sent it: parameters the template declares, with values its
    // constraints accept.
    let params: Vec<String> = body["parameterOverrides"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{}={}",
                p["name"].as_str().unwrap(),
                p["value"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(params, ["ExistingBucketName=my-whatsapp-media-bucket"]);
    let refs: Vec<&str> = params.iter().map(String::as_str).collect();
    let deployed = testkit::iam::try_render(&refs).unwrap_or_else(|e| panic!("refused: {e}"));
    // The capabilities asked, every one: those of the whole template, as SAR computes them
    // when it is published, and those of what the transform makes of it with params.json.
    let mut types = testkit::sar::resource_types(&testkit::sar::source());
    types.extend(testkit::sar::resource_types(&deployed));
    let needed: Vec<&str> = testkit::sar::capabilities(types.iter().map(String::as_str))
        .into_iter()
        .collect();
    let mut given: Vec<&str> = body["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    given.sort_unstable();
    assert_eq!(given, needed);
    // The waits and the execution ran against CloudFormation: the stack is SAR's name.
    let stack = f.run(
        "aws",
        &[
            "cloudformation",
            "describe-stacks",
            "--stack-name",
            "serverlessrepo-whatsapp-media-cleanup",
            "--query",
            "Stacks[0].StackStatus",
            "--output",
            "text",
        ],
        &[("AWS_ENDPOINT_URL_CLOUDFORMATION", &f.moto.url)],
    );
    assert_eq!(stack.trim(), "CREATE_COMPLETE");
}
