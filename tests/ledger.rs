//! The erasure ledger, on the release binary against moto: every item of every source
//! leaves one record, with who asked and why, in an object per invocation of a bucket
//! with Object Lock; and an invocation whose records cannot be written fails the way its
//! source retries (contract, section 6).

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use testkit::endpoint::LocalEndpoint;
use testkit::moto::Moto;
use testkit::runtime_api::{Answer, Function};
use testkit::{PHONE, REGION};

const LEDGER: &str = "erasure-ledger";

fn log_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("ledger-{name}-function.log"))
}

/// The release binary against moto and the local endpoint, its ledger in `LEDGER`.
async fn start(moto: &Moto, endpoint: &LocalEndpoint, name: &str) -> Function {
    Function::spawn(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("ERASURE_LEDGER_BUCKET", LEDGER),
            ("MAX_ATTEMPTS", "1"),
        ],
        &log_path(name),
    )
    .await
}

fn eventbridge(key: &str, marker: &str) -> Value {
    json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
           "detail-type": "Object Deleted", "source": "aws.s3", "account": "123456789012",
           "time": "2026-11-25T10:00:00Z", "region": REGION,
           "resources": ["arn:aws:s3:::media"],
           "detail": {"version": "0", "bucket": {"name": "media"},
                      "object": {"key": key, "version-id": marker},
                      "reason": "DeleteObject", "deletion-type": "Delete Marker Created",
                      "requester": "123456789012"}})
}

fn batch_job(key: &str) -> Value {
    json!({"invocationSchemaVersion": "2.0", "invocationId": "inv-1",
           "job": {"id": "job-7", "userArguments": {"reference": "retention-2026-12"}},
           "tasks": [{"taskId": "task-1", "s3Bucket": "media", "s3Key": key, "s3VersionId": null}]})
}

/// `keys` uploaded to the versioned bucket `media`, each recording media `m<i>`.
async fn stage(s3: &aws_sdk_s3::Client, keys: &[&str]) {
    testkit::moto::create_bucket(s3, "media", true).await;
    for (i, key) in keys.iter().enumerate() {
        testkit::moto::put(s3, "media", key, Some((&format!("m{i}"), PHONE)), "x").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn every_item_of_every_source_leaves_one_record_with_who_asked_and_why() {
    let moto = Moto::start();
    let s3 = moto.client();
    let keys = [
        "custom.jpg",
        "s3.jpg",
        "eb.jpg",
        "sqs.jpg",
        "redrive.jpg",
        "batch.jpg",
    ];
    stage(&s3, &keys).await;
    testkit::ledger::create_bucket(&s3, LEDGER, 365).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), REGION, Duration::ZERO)
        .await
        .unwrap();
    let function = start(&moto, &endpoint, "sources").await;
    let mut marker = std::collections::HashMap::new();
    for key in &keys[1..5] {
        marker.insert(
            *key,
            testkit::moto::delete(&s3, "media", key, None)
                .await
                .unwrap(),
        );
    }
    let notification = |key: &str| {
        testkit::s3_notification(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            key,
            Some(&marker[key]),
        )
    };

    let custom = function
        .api
        .invoke(
            json!({"deletions": [{"bucket": "media", "key": "custom.jpg"},
                                     {"bucket": "media", "key": "absent.jpg"}],
                       "reference": "DSR-2026-0042"}),
        )
        .await
        .0;
    assert_eq!(custom["reference"], "DSR-2026-0042", "{custom}");
    function.api.invoke(notification("s3.jpg")).await;
    function
        .api
        .invoke(eventbridge("eb.jpg", &marker["eb.jpg"]))
        .await;
    let sqs = |id: &str, body: String| testkit::sqs_message("buffer", id, body);
    let queued = function
        .api
        .invoke(json!({"Records": [
            sqs("m-1", notification("sqs.jpg").to_string()),
            sqs("m-2", testkit::failure_record(&notification("redrive.jpg")))]}))
        .await
        .0;
    assert_eq!(queued, json!({"batchItemFailures": []}));
    let batch = function.api.invoke(batch_job("batch.jpg")).await.0;
    assert_eq!(batch["results"][0]["resultCode"], "Succeeded", "{batch}");
    drop(function);

    let objects = testkit::ledger::objects(&s3, LEDGER, "erasures/").await;
    let (year, month, day) = testkit::ledger::today();
    let today = format!("year={year}/month={month}/day={day}");
    let counts: Vec<usize> = objects.iter().map(|(_, records)| records.len()).collect();
    assert_eq!(
        counts,
        [2, 1, 1, 2, 1],
        "one object per invocation: {objects:?}"
    );
    for (key, _) in &objects {
        assert!(key.starts_with(&format!("erasures/{today}/")), "{key}");
        // Object Lock keeps each record for the bucket's default retention.
        let head = s3
            .head_object()
            .bucket(LEDGER)
            .key(key)
            .send()
            .await
            .unwrap();
        assert_eq!(
            head.object_lock_mode().map(|m| m.as_str()),
            Some("GOVERNANCE")
        );
        assert!(head.object_lock_retain_until_date().is_some());
    }
    let records: Vec<&Value> = objects.iter().flat_map(|(_, r)| r).collect();
    let by_key = |key: &str| {
        *records
            .iter()
            .find(|r| r["key"] == key)
            .unwrap_or_else(|| panic!("no record of {key}: {records:?}"))
    };
    // The request ids of the endpoint's answers, by media id.
    let answered: std::collections::HashMap<String, String> = endpoint
        .seen()
        .into_iter()
        .filter_map(|s| Some((s.media_id?, s.request_id?)))
        .collect();

    let deleted = by_key("custom.jpg");
    assert_eq!(deleted["outcome"], "deleted");
    assert_eq!(deleted["s3Object"], "deleted");
    assert_eq!(deleted["mediaId"], "m0");
    assert_eq!(deleted["originationPhoneNumberId"], PHONE);
    assert_eq!(deleted["source"], "custom");
    assert_eq!(deleted["reference"], "DSR-2026-0042");
    assert_eq!(deleted["requestId"], answered["m0"].as_str());
    assert_eq!(deleted["attempts"], 1);
    assert_eq!(deleted["functionVersion"], "1");
    assert_eq!(
        deleted["lambdaRequestId"],
        "00000000-0000-4000-8000-000000000001"
    );
    assert!(deleted["time"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{year}-{month}-{day}T")));
    let absent = by_key("absent.jpg");
    assert_eq!(absent["outcome"], "skipped");
    assert_eq!(absent["reference"], "DSR-2026-0042");

    for (key, source, requester, media) in [
        ("s3.jpg", "s3", "AWS:AROAEXAMPLEID:media-janitor", "m1"),
        ("eb.jpg", "eventbridge", "123456789012", "m2"),
        ("sqs.jpg", "sqs", "AWS:AROAEXAMPLEID:media-janitor", "m3"),
        (
            "redrive.jpg",
            "redrive",
            "AWS:AROAEXAMPLEID:media-janitor",
            "m4",
        ),
    ] {
        let record = by_key(key);
        assert_eq!(record["source"], source, "{record}");
        assert_eq!(record["requester"], requester, "{record}");
        assert_eq!(record["outcome"], "deleted", "{record}");
        assert_eq!(record["mediaId"], media, "{record}");
        assert_eq!(
            record["versionId"],
            marker[key].as_str(),
            "the marker: {record}"
        );
        assert_eq!(record["s3Object"], Value::Null, "{record}");
        assert_eq!(record["requestId"], answered[media].as_str(), "{record}");
    }
    let task = by_key("batch.jpg");
    assert_eq!(task["source"], "batch");
    assert_eq!(task["jobId"], "job-7");
    assert_eq!(task["taskId"], "task-1");
    assert_eq!(task["reference"], "retention-2026-12");
    assert_eq!(task["s3Object"], "deleted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn an_invocation_whose_records_cannot_be_written_fails_the_way_its_source_retries() {
    let moto = Moto::start();
    let s3 = moto.client();
    let keys = ["custom.jpg", "s3.jpg", "sqs.jpg", "batch.jpg", "eb.jpg"];
    stage(&s3, &keys).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), REGION, Duration::ZERO)
        .await
        .unwrap();
    // The ledger bucket does not exist yet: every PutObject fails.
    let function = start(&moto, &endpoint, "unwritten").await;
    let marker = testkit::moto::delete(&s3, "media", "s3.jpg", None)
        .await
        .unwrap();
    let notification = testkit::s3_notification(
        "ObjectRemoved:DeleteMarkerCreated",
        "media",
        "s3.jpg",
        Some(&marker),
    );

    let custom = function
        .api
        .invoke(json!({"bucket": "media", "key": "custom.jpg", "reference": "DSR-1"}))
        .await
        .0;
    assert_eq!(custom["success"], false, "{custom}");
    assert_eq!(custom["results"][0]["outcome"], "deleted");
    assert_eq!(custom["ledgerError"]["type"], "LedgerWriteFailed");
    assert_eq!(custom["ledgerError"]["httpStatus"], 404);

    let Answer::Error(error) = function
        .api
        .invoke_raw(notification.to_string().into_bytes())
        .await
        .0
    else {
        panic!("a notification whose records were not written must fail");
    };
    assert_eq!(error["errorType"], "LedgerWriteFailed", "{error}");
    let eb_marker = testkit::moto::delete(&s3, "media", "eb.jpg", None)
        .await
        .unwrap();
    let bridged = eventbridge("eb.jpg", &eb_marker).to_string().into_bytes();
    let Answer::Error(error) = function.api.invoke_raw(bridged).await.0 else {
        panic!("an EventBridge event whose records were not written must fail");
    };
    assert_eq!(error["errorType"], "LedgerWriteFailed", "{error}");

    let sqs_marker = testkit::moto::delete(&s3, "media", "sqs.jpg", None)
        .await
        .unwrap();
    let body = testkit::s3_notification(
        "ObjectRemoved:DeleteMarkerCreated",
        "media",
        "sqs.jpg",
        Some(&sqs_marker),
    );
    let queued = function
        .api
        .invoke(json!({"Records": [
            testkit::sqs_message("buffer", "m-1", body.to_string()),
            testkit::sqs_message("buffer", "m-2", json!({"Event": "s3:TestEvent"}).to_string())]}))
        .await
        .0;
    assert_eq!(
        queued,
        json!({"batchItemFailures": [{"itemIdentifier": "m-1"}, {"itemIdentifier": "m-2"}]})
    );

    let batch = function.api.invoke(batch_job("batch.jpg")).await.0;
    assert_eq!(
        batch["results"][0]["resultCode"], "TemporaryFailure",
        "{batch}"
    );

    // The retry, once the ledger can be written, records what it finds.
    testkit::ledger::create_bucket(&s3, LEDGER, 1).await;
    let retried = function
        .api
        .invoke_raw(notification.to_string().into_bytes())
        .await
        .0;
    assert!(matches!(retried, Answer::Response(_)), "{retried:?}");
    let records = testkit::ledger::records(&s3, LEDGER, "erasures/").await;
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["key"], "s3.jpg");
    assert_eq!(records[0]["outcome"], "alreadyDeleted");
    drop(function);
    let logs = std::fs::read_to_string(log_path("unwritten")).unwrap();
    assert_eq!(
        logs.matches("erasure ledger not written").count(),
        5,
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn an_unknown_phone_number_fails_the_item_keeps_the_object_and_is_recorded_so() {
    let moto = Moto::start();
    let s3 = moto.client();
    let unknown = "phone-number-id-00000000000000000000000000000bad";
    testkit::moto::create_bucket(&s3, "media", true).await;
    let version = testkit::moto::put(&s3, "media", "typo.jpg", Some(("m9", unknown)), "x").await;
    testkit::ledger::create_bucket(&s3, LEDGER, 1).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), REGION, Duration::ZERO)
        .await
        .unwrap();
    // The service answers both calls with its one 404 for an unknown phone number.
    endpoint.unlink(unknown);
    let function = start(&moto, &endpoint, "unknown-phone").await;
    let payload = function
        .api
        .invoke(json!({"bucket": "media", "key": "typo.jpg"}))
        .await
        .0;
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed", "{payload}");
    assert_eq!(result["error"]["type"], "UnknownPhoneNumber");
    assert_eq!(result["s3Object"], "kept");
    // The object, the only place the media id was written down, is still there.
    assert_eq!(
        testkit::moto::versions(&s3, "media", "typo.jpg").await,
        vec![version.unwrap()]
    );
    let records = testkit::ledger::records(&s3, LEDGER, "erasures/").await;
    assert_eq!(records[0]["outcome"], "failed");
    assert_eq!(records[0]["errorType"], "UnknownPhoneNumber");
    assert_eq!(records[0]["s3Object"], "kept");
    let lookup = endpoint.seen_of("GetLinkedWhatsAppBusinessAccountPhoneNumber");
    assert_eq!(
        records[0]["requestId"],
        lookup[0].request_id.as_deref().unwrap()
    );
}
