//! Hostile input: every file in `tests/corpus/` (wrong types, missing fields, nulls, deep
//! nesting, multi-megabyte fields, invalid UTF-8 and percent-encoding, control characters
//! and CRLF in ids, unknown schema versions, tag values that are not valid ids) is sent,
//! byte for byte, to the real binary, with moto's S3 server behind it. Each gets a clear
//! function error or a payload, and the runtime stays up and serves the next event.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use testkit::endpoint::LocalEndpoint;
use testkit::moto::Moto;
use testkit::runtime_api::{Answer, Function};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn every_malformed_event_gets_an_answer_and_the_runtime_stays_up() {
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    // The objects the corpus names are tagged with values that are not valid ids; objects in
    // buckets that do not exist are simply absent.
    let moto = Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "corpus-media", true).await;
    for (key, media_id, phone) in [
        (
            "tags/space in media id.jpg",
            "not a media id",
            testkit::PHONE,
        ),
        (
            "tags/crlf-phone.jpg",
            "goodmedia",
            "phone-number-id-a\r\nX-Injected: 1",
        ),
        ("tags/101-chars.jpg", &"a".repeat(101), testkit::PHONE),
    ] {
        s3.put_object()
            .bucket("corpus-media")
            .key(key)
            .body(b"media".to_vec().into())
            .send()
            .await
            .unwrap();
        testkit::moto::tag_ids(&s3, "corpus-media", key, None, media_id, phone).await;
    }
    let log = Path::new(env!("CARGO_TARGET_TMPDIR")).join("corpus-function.log");
    let mut function = Function::spawn(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
        &log,
    )
    .await;

    let mut files: Vec<PathBuf> =
        std::fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
    files.sort();
    assert!(files.len() >= 30, "the corpus has {} files", files.len());

    let mut answers = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let (answer, _) =
            tokio::time::timeout(Duration::from_secs(60), function.api.invoke_raw(bytes))
                .await
                .unwrap_or_else(|_| panic!("{name}: no answer within 60 s"));
        match &answer {
            Answer::Error(error) => {
                let error_type = error["errorType"].as_str().unwrap_or_default();
                let message = error["errorMessage"].as_str().unwrap_or_default();
                assert!(
                    !error_type.is_empty() && !message.is_empty(),
                    "{name}: {error}"
                );
            }
            Answer::Response(response) => {
                assert!(response.is_object(), "{name}: {response}");
                // Invalid values are echoed cut short, never megabytes of them.
                assert!(
                    response.to_string().len() < 2_000_000,
                    "{name}: a huge response"
                );
            }
        }
        assert!(function.is_running(), "{name} brought the runtime down");
        answers.push((name, answer));
    }

    let answer = |prefix: &str| {
        &answers
            .iter()
            .find(|(name, _)| name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no corpus file {prefix}"))
            .1
    };
    let error_type = |prefix: &str| match answer(prefix) {
        Answer::Error(e) => e["errorType"].as_str().unwrap_or_default().to_owned(),
        Answer::Response(r) => panic!("{prefix}: expected an error, got {r}"),
    };
    let response = |prefix: &str| match answer(prefix) {
        Answer::Response(r) => r.clone(),
        Answer::Error(e) => panic!("{prefix}: expected a payload, got {e}"),
    };
    // Not JSON at all, or JSON the runtime cannot read: the runtime's own error.
    for unreadable in ["01-", "02-", "20-", "23-", "33-", "34-"] {
        assert!(!error_type(unreadable).is_empty());
    }
    // JSON of no known shape, or a wrong option type: InvalidEvent.
    for invalid in [
        "03-", "04-", "05-", "07-", "08-", "25-", "26-", "30-", "36-", "38-",
    ] {
        assert_eq!(error_type(invalid), "InvalidEvent", "{invalid}");
    }
    // A notification record of the wrong shape fails as an item, and the message names the
    // field by its path; the invocation fails, so Lambda retries it and then keeps it.
    for (prefix, field) in [
        ("12-", "Records[0].s3.object.key"),
        ("16-", "Records[0].Sns.Message is not"),
        ("17-", "Records[0].Sns.Message: invalid type"),
        (
            "41-",
            "the SNS record cannot be read at Records[0].Sns: missing field",
        ),
    ] {
        assert_eq!(error_type(prefix), "ItemsFailed", "{prefix}");
        let Answer::Error(e) = answer(prefix) else {
            unreachable!()
        };
        let message = e["errorMessage"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{prefix}: {message}");
    }
    // Known shapes with bad items: the items fail as InvalidInput, and nothing is sent.
    let crlf = response("24-");
    for result in crlf["results"].as_array().unwrap() {
        assert_eq!(result["error"]["type"], "InvalidInput", "{result}");
    }
    let huge = response("22-");
    assert_eq!(huge["results"][0]["error"]["type"], "InvalidInput");
    assert!(huge["results"][0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("characters long"));
    // More deletions than one answer can carry: refused before any work, naming the
    // maximum and where bulk work belongs.
    match answer("35-") {
        Answer::Error(e) => {
            assert_eq!(e["errorType"], "InvalidEvent", "{e}");
            let message = e["errorMessage"].as_str().unwrap_or_default();
            assert!(
                message.contains("at most 1000") && message.contains("S3 Batch Operations"),
                "{message}"
            );
        }
        Answer::Response(r) => panic!("35-: a batch over the maximum was worked on: {r}"),
    }
    assert_eq!(response("31-")["summary"]["failed"], 7);
    // Tag values that are not valid ids fail as InvalidInput, on every path, and the object
    // stays.
    let tagged = response("39-");
    assert_eq!(tagged["summary"]["failed"], 3, "{tagged}");
    for result in tagged["results"].as_array().unwrap() {
        assert_eq!(result["error"]["type"], "InvalidInput", "{result}");
        assert_eq!(result["attempts"], 0, "{result}");
    }
    assert_eq!(
        response("40-")["results"][0]["resultCode"],
        "PermanentFailure"
    );
    assert!(response("40-")["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .starts_with("InvalidInput"));
    assert_eq!(
        testkit::moto::versions(&s3, "corpus-media", "tags/space in media id.jpg")
            .await
            .len(),
        1
    );
    // SQS messages that cannot be read are reported for retry and the DLQ.
    assert_eq!(
        response("18-")["batchItemFailures"],
        json!([{"itemIdentifier": "m1"}])
    );
    assert_eq!(
        response("42-")["batchItemFailures"],
        json!([{"itemIdentifier": "m1"}])
    );
    assert!(
        endpoint.seen().is_empty(),
        "a malformed event reached the network"
    );

    // And the runtime still serves a good event.
    let (ok, _) = function
        .api
        .invoke(json!({"mediaId": "stillup", "originationPhoneNumberId": testkit::PHONE}))
        .await;
    assert_eq!(ok["results"][0]["outcome"], "deleted", "{ok}");
    let _: Value = ok;
}
