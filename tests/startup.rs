//! Start-up errors of the real binary: each stops the cold start with a message that names
//! the real cause (a missing region, a bad endpoint URL, no root certificates), never a
//! setting that was not even set. And settings left empty count as unset.

use std::path::Path;
use std::process::{Command, Output};

/// Runs the binary with only `env` (no AWS config files, no credentials of the machine's).
fn start(env: &[(&str, &str)]) -> Output {
    let nowhere = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-aws-config");
    Command::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup"))
        .env_clear()
        .env("AWS_CONFIG_FILE", &nowhere)
        .env("AWS_SHARED_CREDENTIALS_FILE", &nowhere)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .envs(env.iter().copied())
        .output()
        .expect("run the binary")
}

/// The start-up failure: the process exits non-zero, and its output says why.
fn failure(env: &[(&str, &str)]) -> String {
    let out = start(env);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "it started: {text}");
    text
}

#[test]
fn a_missing_region_is_named() {
    let text = failure(&[]);
    assert!(text.contains("AWS_REGION"), "{text}");
    assert!(text.contains("not set"), "{text}");
}

#[test]
fn a_bad_endpoint_url_names_the_variable_that_holds_it() {
    let text = failure(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", "not a url"),
    ]);
    assert!(text.contains("AWS_ENDPOINT_URL:"), "{text}");
    assert!(!text.contains("AWS_ENDPOINT_URL_SOCIALMESSAGING"), "{text}");
    assert!(text.contains("\"not a url\""), "{text}");

    let text = failure(&[
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL_SOCIALMESSAGING", "ftp://127.0.0.1:21"),
    ]);
    assert!(text.contains("AWS_ENDPOINT_URL_SOCIALMESSAGING:"), "{text}");
    assert!(text.contains("http(s) URL"), "{text}");
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "a debug build of aws-smithy-http-client asserts that root certificates exist: run make test (release)"
)]
fn missing_root_certificates_are_named_not_blamed_on_an_unset_endpoint() {
    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("no-certificates");
    std::fs::create_dir_all(&empty).unwrap();
    let no_file = empty.join("none.pem");
    let text = failure(&[
        ("AWS_REGION", "us-east-1"),
        ("SSL_CERT_FILE", no_file.to_str().unwrap()),
        ("SSL_CERT_DIR", empty.to_str().unwrap()),
    ]);
    assert!(text.contains("HTTPS client"), "{text}");
    assert!(text.contains("certificates"), "{text}");
    assert!(!text.contains("AWS_ENDPOINT_URL"), "{text}");
}

#[test]
fn a_bad_setting_names_its_variable() {
    let text = failure(&[("AWS_REGION", "us-east-1"), ("MAX_CONCURRENCY", "lots")]);
    assert!(text.contains("MAX_CONCURRENCY"), "{text}");
}

/// The template declares the endpoint variables empty (so that `sam local --env-vars` can set
/// them): empty must mean unset, for S3 as for the API, and the next variable in line wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn empty_endpoint_variables_count_as_unset() {
    use std::time::Duration;

    use serde_json::json;

    let moto = testkit::moto::Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "media", true).await;
    s3.put_object()
        .bucket("media")
        .key("a.jpg")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    testkit::moto::tag_ids(&s3, "media", "a.jpg", None, "emptyvars", testkit::PHONE).await;
    let endpoint = testkit::endpoint::LocalEndpoint::start(
        0,
        testkit::credentials(),
        testkit::REGION,
        Duration::ZERO,
    )
    .await
    .unwrap();
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("startup-empty-vars-function.log");
    let function = testkit::runtime_api::Function::spawn(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &endpoint.url(),
        &[("AWS_ENDPOINT_URL_S3", ""), ("AWS_ENDPOINT_URL", &moto.url)],
        &log,
    )
    .await;
    let (payload, _) = function
        .api
        .invoke(json!({"bucket": "media", "key": "a.jpg"}))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["s3Object"], "deleted", "{payload}");
    assert_eq!(endpoint.seen_for("emptyvars").len(), 1);
}
