//! End to end: the real release binary under cargo-lambda's Runtime API emulator, invoked
//! with every file in `events/` through `cargo lambda invoke`, against moto's S3 server and
//! the local social-messaging endpoint that verifies SigV4. Samples that name S3 objects
//! are staged in moto first (their version ids replaced by real ones). The function's logs,
//! at TRACE level, are then checked for credentials.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use testkit::endpoint::LocalEndpoint;
use testkit::lambda::{Invocation, LocalLambda};
use testkit::moto::Moto;
use testkit::samples::{self, KEY_PATTERN};

fn payload(invocation: Invocation) -> Value {
    match invocation {
        Invocation::Payload(p) => p,
        Invocation::Error { text, .. } => panic!("the function failed: {text}"),
    }
}

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("events")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs cargo-lambda and moto: run make test"]
async fn every_sample_through_the_real_binary() {
    let moto = Moto::start();
    let s3 = moto.client();
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-custom");
    let env = testkit::function_env(
        &endpoint.url(),
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
            // The most verbose level, so that the credential check below sees everything
            // every library could log.
            ("AWS_LAMBDA_LOG_LEVEL", "TRACE"),
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("MEDIA_KEY_PATTERN", KEY_PATTERN),
            ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", testkit::PHONE),
        ],
    );
    let mut lambda = LocalLambda::start(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &env,
        &log_dir,
    );
    let invoke = |file: &Path| tokio::task::block_in_place(|| lambda.invoke_file(file));

    let mut samples: Vec<PathBuf> = std::fs::read_dir(events_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".json"))
        })
        .collect();
    samples.sort();
    assert!(samples.len() >= 13, "{samples:?}");

    // Log lines expected: one per item.
    let mut items = 0;
    for sample in &samples {
        let name = sample.file_name().unwrap().to_str().unwrap();
        let event: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
        if samples::names_objects(name) {
            items += samples::run_and_check(&s3, &endpoint, &log_dir, sample, &invoke).await;
            continue;
        }
        items += samples::check_custom(name, &event, &payload(invoke(sample)), &endpoint);
    }

    // A retry of the same event is harmless: the media is already gone.
    let again = payload(invoke(&events_dir().join("custom-ids.json")));
    items += 1;
    assert_eq!(again["results"][0]["outcome"], "alreadyDeleted", "{again}");
    assert_eq!(again["success"], true);

    // An event of no known shape is a function error that names what was expected, and
    // the runtime goes on serving.
    match tokio::task::block_in_place(|| lambda.invoke_json(r#"{"hello": "world"}"#)) {
        Invocation::Error { error_type, text } => {
            assert_eq!(error_type, "InvalidEvent", "{text}");
            assert!(text.contains("mediaId"), "{text}");
        }
        Invocation::Payload(p) => panic!("expected a function error, got {p}"),
    }
    let after = payload(invoke(&events_dir().join("custom-dry-run.json")));
    items += 2;
    assert_eq!(after["summary"]["dryRun"], 2);
    assert!(lambda.function_is_running());

    // Every request that reached the endpoint was signed with the session credentials.
    let seen = endpoint.seen();
    for request in &seen {
        assert_eq!(request.signature, Ok(()), "{request:?}");
        assert_eq!(
            request.header("x-amz-security-token"),
            Some(testkit::SESSION_TOKEN)
        );
    }
    drop(lambda);

    let logs = std::fs::read_to_string(log_dir.join("function.log")).unwrap();
    testkit::assert_no_secrets(&logs);
    // One line per item, with its ids, outcome, attempts and latency.
    let item_lines = testkit::item_log_fields(&logs);
    assert_eq!(item_lines.len(), items, "{logs}");
    let line = item_lines
        .iter()
        .find(|l| {
            l.get("media_id")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains("3f9a1c7e5b2d4a6f8c0e1b3d5f7a9c2e"))
        })
        .expect("a log line for custom-ids.json");
    assert_eq!(line["outcome"], "deleted");

    // One EMF document per invocation, counting what the item lines say.
    let emf = testkit::emf_documents(&logs);
    assert!(!emf.is_empty(), "no EMF metrics in {logs}");
    let directive = &emf[0]["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "WhatsAppMediaCleanup");
    assert_eq!(
        directive["Dimensions"],
        serde_json::json!([["FunctionName"]])
    );
    assert_eq!(emf[0]["ColdStart"], 1);
    assert!(emf[1..].iter().all(|d| d.get("ColdStart").is_none()));
    let total = |metric: &str| -> u64 { emf.iter().filter_map(|d| d[metric].as_u64()).sum() };
    let deleted_lines = item_lines
        .iter()
        .filter(|l| l["outcome"] == "deleted")
        .count() as u64;
    assert_eq!(total("Deleted"), deleted_lines);
    assert!(total("Failed") >= 1, "custom-batch.json fails one item");
    assert_eq!(line["attempts"], 1);
    assert!(line["latency_ms"].is_u64());
}
