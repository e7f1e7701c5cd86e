//! The item log lines of a real run of the release binary, parsed: each field a plain JSON
//! value that CloudWatch Logs Insights can filter on (`media_id = "..."`), absent fields left
//! out, and no id, however hostile, able to break a line in either log format.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Map, Value};
use testkit::endpoint::{LocalEndpoint, Reply};
use testkit::moto::Moto;
use testkit::runtime_api::Function;
use testkit::PHONE;

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup"))
}

fn log_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("item-logs-{name}-function.log"))
}

/// The fields of every item line in a JSON log, in order.
fn item_lines(log: &Path) -> Vec<Map<String, Value>> {
    testkit::item_log_fields(&std::fs::read_to_string(log).unwrap())
}

/// The line's fields without the latency, which varies.
fn fixed(mut fields: Map<String, Value>) -> Value {
    let latency = fields.remove("latency_ms");
    assert!(
        latency.as_ref().is_some_and(Value::is_u64),
        "latency_ms must be a number: {latency:?}"
    );
    Value::Object(fields)
}

/// An event with every kind of item line: a deletion with its object, a failure from the
/// API, ids that are not valid (CRLF and a NUL among them), and a skipped object.
fn event() -> Value {
    json!({"deletions": [
        {"bucket": "media", "key": "in/photo 1+2.jpg"},
        {"mediaId": "denied", "originationPhoneNumberId": PHONE},
        {"mediaId": "bad\r\nX-Injected: 1", "originationPhoneNumberId": "phone-number-id-a\u{0}b"},
        {"bucket": "media", "key": "in/no-ids.txt"},
    ]})
}

async fn stage(moto: &Moto) -> String {
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "media", true).await;
    for key in ["in/photo 1+2.jpg", "in/no-ids.txt"] {
        s3.put_object()
            .bucket("media")
            .key(key)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let versions = testkit::moto::versions(&s3, "media", "in/photo 1+2.jpg").await;
    testkit::moto::tag_ids(
        &s3,
        "media",
        "in/photo 1+2.jpg",
        Some(&versions[0]),
        "c3d4e5",
        PHONE,
    )
    .await;
    versions[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn json_item_lines_carry_plain_values_and_leave_absent_fields_out() {
    let moto = Moto::start();
    let version = stage(&moto).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    endpoint.script("denied", [Reply::error(403, "AccessDeniedException", "no")]);
    let log = log_path("json");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
        &log,
    )
    .await;
    let (payload, _) = function.api.invoke(event()).await;
    assert_eq!(payload["summary"]["total"], 4, "{payload}");
    drop(function);

    // The DELETEs carry the invocation's trace id, as the AWS SDKs' calls do, and each item
    // line the invocation's request id.
    let request_id = "00000000-0000-4000-8000-000000000001";
    let deletes: Vec<_> = endpoint
        .seen()
        .into_iter()
        .filter(|s| s.method == "DELETE")
        .collect();
    assert_eq!(deletes.len(), 2, "{deletes:?}");
    for delete in &deletes {
        assert_eq!(
            delete.header("x-amzn-trace-id"),
            Some(testkit::runtime_api::trace_id(request_id).as_str()),
            "{delete:?}"
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let raw: Vec<Value> = text
        .lines()
        .filter(|l| l.contains("media item"))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(raw.len(), 4);
    for line in &raw {
        assert_eq!(line["span"]["requestId"], request_id, "{line}");
    }

    let lines = item_lines(&log);
    assert_eq!(lines.len(), 4, "{lines:?}");
    let find = |outcome: &str, needle: &str| {
        lines
            .iter()
            .find(|l| {
                l["outcome"] == outcome && Value::Object((*l).clone()).to_string().contains(needle)
            })
            .unwrap_or_else(|| panic!("no {outcome} line with {needle}: {lines:?}"))
            .clone()
    };
    assert_eq!(
        fixed(find("deleted", "c3d4e5")),
        json!({"message": "media item done", "media_id": "c3d4e5",
               "origination_phone_number_id": PHONE, "bucket": "media",
               "key": "in/photo 1+2.jpg", "version_id": version, "outcome": "deleted",
               "s3_object": "deleted", "attempts": 1})
    );
    assert_eq!(
        fixed(find("failed", "denied")),
        json!({"message": "media item failed", "media_id": "denied",
               "origination_phone_number_id": PHONE, "outcome": "failed", "attempts": 1,
               "error_type": "AccessDeniedException", "error_message": "no",
               "retryable": false})
    );
    let invalid = fixed(find("failed", "Injected"));
    assert_eq!(invalid["media_id"], "bad\\r\\nX-Injected: 1", "{invalid}");
    assert_eq!(
        invalid["origination_phone_number_id"],
        "phone-number-id-a\\u{0}b"
    );
    assert_eq!(invalid["error_type"], "InvalidInput");
    assert_eq!(invalid["attempts"], 0);
    let skipped = fixed(find("skipped", "no-ids"));
    assert_eq!(skipped["key"], "in/no-ids.txt");
    assert!(skipped["reason"]
        .as_str()
        .unwrap()
        .starts_with("no media id"));
    assert!(skipped.get("media_id").is_none(), "{skipped}");
    assert!(skipped.get("s3_object").is_none(), "{skipped}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_crlf_in_an_id_cannot_break_or_forge_a_text_log_line() {
    let moto = Moto::start();
    stage(&moto).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    let log = log_path("text");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[("AWS_ENDPOINT_URL_S3", &moto.url)],
        &log,
    )
    .await;
    let (payload, _) = function.api.invoke(event()).await;
    assert_eq!(payload["summary"]["total"], 4, "{payload}");
    drop(function);
    let text = std::fs::read_to_string(&log).unwrap();
    let item_lines: Vec<&str> = text.lines().filter(|l| l.contains("media item")).collect();
    assert_eq!(item_lines.len(), 4, "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("X-Injected")),
        "an id forged a log line:\n{text}"
    );
    assert!(!text.contains('\0'));
    assert!(
        item_lines
            .iter()
            .any(|l| l.contains(r#"media_id="bad\\r\\nX-Injected: 1""#)),
        "{text}"
    );
    assert!(item_lines
        .iter()
        .any(|l| l.contains(r#"media_id="c3d4e5""#)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_sqs_messages_are_logged_and_counted_apart() {
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    let log = log_path("unreadable");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[("AWS_LAMBDA_LOG_FORMAT", "JSON")],
        &log,
    )
    .await;
    // Bad JSON, and a redriven on-failure record of a custom event (not redriven this way):
    // no item comes of either, so no item result counts them.
    let redriven = json!({"version": "1.0", "requestContext": {"condition": "RetriesExhausted"},
        "requestPayload": {"mediaId": "abc", "originationPhoneNumberId": PHONE}});
    let message = |id: &str, body: String| {
        json!({"messageId": id, "receiptHandle": "r", "body": body, "attributes": {},
               "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:buffer",
               "awsRegion": "us-east-1"})
    };
    let event = json!({"Records": [message("garbage", "{not json".into()),
                                   message("redriven", redriven.to_string())]});
    let (payload, _) = function.api.invoke(event).await;
    assert_eq!(
        payload["batchItemFailures"],
        json!([{"itemIdentifier": "garbage"}, {"itemIdentifier": "redriven"}])
    );
    drop(function);
    let logs = std::fs::read_to_string(&log).unwrap();
    let emf = testkit::emf_documents(&logs);
    assert_eq!(emf.len(), 1, "{logs}");
    assert_eq!(emf[0]["UnreadableMessages"], 2, "{}", emf[0]);
    assert!(emf[0].get("Failed").is_none(), "{}", emf[0]);
    assert_eq!(logs.matches("unreadable SQS message").count(), 2, "{logs}");
    assert!(endpoint.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_failures_survive_every_log_level_the_template_allows() {
    // At each level, one failed item: its line and the EMF document that counts it must
    // pass Lambda's filter, or the dashboard goes blank and the alarms cannot fire.
    for level in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"] {
        let endpoint =
            LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
                .await
                .unwrap();
        endpoint.script("denied", [Reply::error(403, "AccessDeniedException", "no")]);
        let log = log_path(&format!("level-{level}"));
        let function = Function::spawn(
            binary(),
            &endpoint.url(),
            &[
                ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
                ("AWS_LAMBDA_LOG_LEVEL", level),
            ],
            &log,
        )
        .await;
        let (payload, _) = function
            .api
            .invoke(json!({"deletions": [
                {"mediaId": "denied", "originationPhoneNumberId": PHONE},
                {"mediaId": "fine", "originationPhoneNumberId": PHONE}]}))
            .await;
        assert_eq!(payload["summary"]["failed"], 1, "{payload}");
        drop(function);
        let logs = std::fs::read_to_string(&log).unwrap();
        let kept = testkit::lambda_log_filter(&logs, level).join("\n");
        let emf = testkit::emf_documents(&kept);
        assert_eq!(
            emf.len(),
            1,
            "{level}: the metrics were filtered out:\n{logs}"
        );
        assert_eq!(emf[0]["Failed"], 1, "{level}: {}", emf[0]);
        assert_eq!(emf[0]["Deleted"], 1, "{level}: {}", emf[0]);
        let failed: Vec<_> = testkit::item_log_fields(&kept)
            .into_iter()
            .filter(|l| l["outcome"] == "failed")
            .collect();
        assert_eq!(
            failed.len(),
            1,
            "{level}: the failed item's line was filtered out:\n{logs}"
        );
    }
    // The filter itself: a line without a level, or without a valid timestamp, is INFO.
    let lines = "{\"_aws\": {}}\nplain text\n\
        {\"level\": \"ERROR\", \"timestamp\": \"2026-12-07T04:07:51.123Z\"}\n\
        {\"level\": \"ERROR\", \"timestamp\": \"yesterday\"}";
    assert_eq!(testkit::lambda_log_filter(lines, "WARN").len(), 1);
    assert_eq!(testkit::lambda_log_filter(lines, "INFO").len(), 4);
}
