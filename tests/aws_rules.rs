//! AWS's own rules, where moto and a kind test would let the function delete the wrong
//! thing or drop a failure: `null` version ids, which version of a key is a media's object,
//! the key pattern while a current version stands, failures of asynchronous events, long
//! phone-number ARNs, redirects, the response limit, case-sensitive tag keys and conditional
//! deletes. Each runs the release binary under a Runtime API, against moto's S3 server (and
//! the fault proxy, for a re-upload that lands between a read and a delete) and the local
//! endpoint that checks each signature.

use std::time::Duration;

use serde_json::{json, Value};
use testkit::endpoint::{LocalEndpoint, Reply};
use testkit::iam::{self, Variant};
use testkit::rig::Rig;
use testkit::runtime_api::Answer;
use testkit::s3_faults::Operation;
use testkit::{PHONE, REGION};

/// Media named by their key (`wa/<mediaId>.jpg`), with a default phone number id.
const KEY_PATTERN: [(&str, &str); 2] = [
    ("MEDIA_KEY_PATTERN", r"^wa/(?P<mediaId>[A-Za-z0-9]+)\.jpg$"),
    ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", PHONE),
];

const OTHER_PHONE: &str = "phone-number-id-ffffffffffffffffffffffffffffffff";

/// The function under the template's policy for a bucket the team already has (which may
/// never have been versioned), deployed for `media` and `plain`.
async fn rig(name: &str, extra: &[(&str, &str)]) -> Rig {
    let policy = iam::function_policy(Variant::EXISTING).for_buckets(&["media", "plain"]);
    Rig::start(&format!("aws-rules-{name}"), &policy, extra).await
}

use testkit::s3_notification as s3_record;

/// The time now, as S3 and EventBridge write an event's time.
fn now() -> String {
    use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};
    DateTime::from(std::time::SystemTime::now())
        .fmt(DateTimeFormat::DateTime)
        .unwrap()
}

/// `event` (an S3 notification or an EventBridge event) as sent now: a deletion's event
/// carries the time it happened.
fn sent_now(mut event: Value) -> Value {
    match event.get_mut("Records").and_then(Value::as_array_mut) {
        Some(records) => records
            .iter_mut()
            .for_each(|record| record["eventTime"] = json!(now())),
        None => event["time"] = json!(now()),
    }
    event
}

fn eventbridge(deletion_type: &str, bucket: &str, key: &str, version_id: &str) -> Value {
    json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
           "detail-type": "Object Deleted", "source": "aws.s3", "account": "123456789012",
           "time": "2026-11-25T10:00:00Z",
           "region": REGION, "resources": [format!("arn:aws:s3:::{bucket}")],
           "detail": {"version": "0", "bucket": {"name": bucket},
                      "object": {"key": key, "version-id": version_id},
                      "reason": "DeleteObject", "deletion-type": deletion_type}})
}

/// Objects written before versioning was turned on (their version id is `null`), each
/// uploaded again since, for other media; returns the newer versions' ids.
async fn null_then_newer(rig: &Rig, keys: &[&str]) -> Vec<String> {
    for key in keys {
        rig.put("media", key, None, "old").await;
    }
    testkit::moto::enable_versioning(&rig.s3, "media").await;
    let mut newer = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        // The ids are recorded on the null version, as S3 names it once versioned.
        let (old, new) = (format!("old{i}"), format!("new{i}"));
        testkit::moto::tag_ids(&rig.s3, "media", key, Some("null"), &old, PHONE).await;
        newer.push(
            rig.put("media", key, Some((&new, PHONE)), "new")
                .await
                .expect("a version id"),
        );
    }
    newer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn null_is_a_version_id_in_every_event() {
    let rig = rig("null", &[]).await;
    rig.bucket("media", false).await;
    // Batch Operations 2.0 and 1.0, custom object and custom ids events, each naming the
    // null version: exactly that version and its media go, never the current one.
    let keys = ["batch2.jpg", "batch1.jpg", "custom.jpg", "ids.jpg"];
    let newer = null_then_newer(&rig, &keys).await;
    let batch2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "i2",
        "job": {"id": "j", "userArguments": {}},
        "tasks": [{"taskId": "t", "s3Bucket": "media", "s3Key": "batch2.jpg", "s3VersionId": "null"}]});
    let batch1 = json!({"invocationSchemaVersion": "1.0", "invocationId": "i1", "job": {"id": "j"},
        "tasks": [{"taskId": "t", "s3BucketArn": "arn:aws:s3:::media", "s3Key": "batch1.jpg", "s3VersionId": "null"}]});
    for job in [batch2, batch1] {
        let response = rig.payload(job).await;
        assert_eq!(
            response["results"][0]["resultCode"], "Succeeded",
            "{response}"
        );
        assert!(response["results"][0]["resultString"]
            .as_str()
            .unwrap()
            .contains("S3 object deleted"));
    }
    let payload = rig
        .payload(json!({"deletions": [
            {"bucket": "media", "key": "custom.jpg", "versionId": "null"},
            {"mediaId": "old3", "originationPhoneNumberId": PHONE,
             "bucket": "media", "key": "ids.jpg", "versionId": "null"},
        ]}))
        .await;
    for result in payload["results"].as_array().unwrap() {
        assert_eq!(result["s3Object"], "deleted", "{payload}");
        assert_eq!(result["object"]["versionId"], "null", "{payload}");
    }
    assert_eq!(payload["results"][0]["mediaId"], "old2");
    let mut seen = rig.media_seen();
    seen.sort();
    assert_eq!(seen, ["old0", "old1", "old2", "old3"]);
    for (key, newer) in keys.iter().zip(&newer) {
        assert_eq!(
            rig.versions("media", key).await,
            std::slice::from_ref(newer),
            "{key}: the null version went, the newer one stayed"
        );
    }

    // A delete marker whose version id is null (versioning suspended) replaced the null
    // version for good: what it hid cannot be proven, so nothing is deleted on a guess,
    // and it is no InvalidInput either.
    let marker = rig
        .payload(s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            "batch2.jpg",
            Some("null"),
        ))
        .await;
    let result = &marker["results"][0];
    assert_eq!(result["outcome"], "skipped", "{marker}");
    assert_eq!(result["object"]["versionId"], "null");
    assert!(result["reason"]
        .as_str()
        .unwrap()
        .contains("version id null"));
    let marker = rig
        .payload(eventbridge(
            "Delete Marker Created",
            "media",
            "batch2.jpg",
            "null",
        ))
        .await;
    assert_eq!(marker["results"][0]["outcome"], "skipped", "{marker}");
    assert_eq!(rig.media_seen().len(), 4, "nothing more was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_null_marker_or_permanent_delete_acts_through_the_key_pattern_alone() {
    let rig = rig("null-pattern", &KEY_PATTERN).await;
    rig.bucket("media", true).await;
    // An older version whose tags name other media: what the null marker hid cannot be
    // proven, so it is never read. (moto does not write null markers; the key's current
    // entry is a marker, as it would be.)
    rig.put(
        "media",
        "wa/nullmarker.jpg",
        Some(("wrongmedia", PHONE)),
        "x",
    )
    .await;
    rig.delete("media", "wa/nullmarker.jpg", None).await;
    let payload = rig
        .payload(s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            "wa/nullmarker.jpg",
            Some("null"),
        ))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["mediaId"], "nullmarker", "{payload}");
    let payload = rig
        .payload(eventbridge(
            "Permanently Deleted",
            "media",
            "wa/nullgone.jpg",
            "null",
        ))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(rig.media_seen(), ["nullmarker", "nullgone"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn an_object_version_goes_only_if_it_is_that_medias_object() {
    let rig = rig("owner", &[]).await;
    rig.bucket("media", true).await;
    // `k` was uploaded again since media A was posted from it; its current version is
    // media B's source.
    let a = rig
        .put("media", "k.jpg", Some(("mediaA", PHONE)), "a")
        .await
        .unwrap();
    let b = rig
        .put("media", "k.jpg", Some(("mediaB", PHONE)), "b")
        .await
        .unwrap();
    let payload = rig
        .payload(
            json!({"mediaId": "mediaA", "originationPhoneNumberId": PHONE,
                        "bucket": "media", "key": "k.jpg"}),
        )
        .await;
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "deleted", "{payload}");
    assert_eq!(result["s3Object"], "deleted", "{payload}");
    // Media A's own version went; media B's source stands.
    assert_eq!(
        rig.versions("media", "k.jpg").await,
        std::slice::from_ref(&b)
    );
    assert_ne!(a, b);

    // No version names the media (or only for another phone number): the object stays,
    // and the item says why.
    rig.put("media", "other.jpg", Some(("mediaC", PHONE)), "c")
        .await;
    rig.put("media", "phone.jpg", Some(("mediaD", OTHER_PHONE)), "d")
        .await;
    let payload = rig
        .payload(json!({"deletions": [
            {"mediaId": "mediaZ", "originationPhoneNumberId": PHONE, "bucket": "media", "key": "other.jpg"},
            {"mediaId": "mediaD", "originationPhoneNumberId": PHONE, "bucket": "media", "key": "phone.jpg"},
        ]}))
        .await;
    for (result, key) in payload["results"]
        .as_array()
        .unwrap()
        .iter()
        .zip(["other.jpg", "phone.jpg"])
    {
        assert_eq!(result["outcome"], "deleted", "{payload}");
        assert_eq!(result["s3Object"], "kept", "{payload}");
        assert!(
            result["reason"]
                .as_str()
                .unwrap()
                .contains("no version of the key records media"),
            "{payload}"
        );
        assert_eq!(rig.versions("media", key).await.len(), 1, "{key}");
    }
    assert_eq!(payload["success"], true);

    // In a bucket without versioning, the object uploaded again is not media A's: kept.
    rig.bucket("plain", false).await;
    rig.put("plain", "k.jpg", Some(("plainA", PHONE)), "a")
        .await;
    rig.put("plain", "k.jpg", Some(("plainB", PHONE)), "b")
        .await;
    let payload = rig
        .payload(
            json!({"mediaId": "plainA", "originationPhoneNumberId": PHONE,
                        "bucket": "plain", "key": "k.jpg"}),
        )
        .await;
    assert_eq!(payload["results"][0]["s3Object"], "kept", "{payload}");
    assert_eq!(rig.body("plain", "k.jpg").await.as_deref(), Some("b"));
    // The one it names goes, the ARN form of the same phone number included.
    let arn = format!(
        "arn:aws:social-messaging:{REGION}:123456789012:phone-number-id/{}",
        PHONE.trim_start_matches("phone-number-id-")
    );
    let payload = rig
        .payload(json!({"mediaId": "plainB", "originationPhoneNumberId": arn,
                        "bucket": "plain", "key": "k.jpg"}))
        .await;
    assert_eq!(payload["results"][0]["s3Object"], "deleted", "{payload}");
    assert_eq!(rig.body("plain", "k.jpg").await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn the_key_pattern_never_deletes_media_that_a_current_version_still_serves() {
    let rig = rig("pattern", &KEY_PATTERN).await;
    rig.bucket("media", true).await;
    let older = rig.put("media", "wa/M.jpg", None, "1").await.unwrap();
    let current = rig.put("media", "wa/M.jpg", None, "2").await.unwrap();
    // The older version is deleted for good (a lifecycle rule expiring noncurrent versions).
    rig.delete("media", "wa/M.jpg", Some(&older)).await;
    for event in [
        s3_record(
            "LifecycleExpiration:Delete",
            "media",
            "wa/M.jpg",
            Some(&older),
        ),
        eventbridge("Permanently Deleted", "media", "wa/M.jpg", &older),
    ] {
        let payload = rig.payload(event).await;
        let result = &payload["results"][0];
        assert_eq!(result["outcome"], "skipped", "{payload}");
        let reason = result["reason"].as_str().unwrap();
        assert!(
            reason.contains("current version") && reason.contains(&current),
            "{reason}"
        );
    }
    // A Batch task or custom event naming a noncurrent version acts through the key pattern
    // too: while the current version stands, neither the media nor that version goes.
    let noncurrent = rig.put("media", "wa/N.jpg", None, "1").await.unwrap();
    rig.put("media", "wa/N.jpg", None, "2").await.unwrap();
    let job = json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
        "tasks": [{"taskId": "t", "s3Bucket": "media", "s3Key": "wa/N.jpg", "s3VersionId": noncurrent}]});
    let response = rig.payload(job).await;
    assert_eq!(
        response["results"][0]["resultCode"], "Succeeded",
        "{response}"
    );
    assert!(response["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .contains("current version"));
    assert_eq!(rig.versions("media", "wa/N.jpg").await.len(), 2);
    assert!(
        rig.media_seen().is_empty(),
        "media M and N are still served"
    );

    // Once the last version is gone, the media goes.
    rig.delete("media", "wa/M.jpg", Some(&current)).await;
    let payload = rig
        .payload(s3_record(
            "ObjectRemoved:Delete",
            "media",
            "wa/M.jpg",
            Some(&current),
        ))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(rig.media_seen(), ["M"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn every_failure_of_an_asynchronous_event_fails_the_invocation() {
    let rig = rig("async", &[]).await;
    rig.bucket("media", true).await;
    rig.put("media", "denied.jpg", Some(("denied", PHONE)), "x")
        .await;
    let marker = delete_current(&rig, "denied.jpg").await;
    // A phone number outside the role's PhoneNumberIdResource: 403, which no retry mends.
    let notification = s3_record(
        "ObjectRemoved:DeleteMarkerCreated",
        "media",
        "denied.jpg",
        Some(&marker),
    );
    let sns = testkit::sns_event(&notification.to_string());
    let events = [
        notification.clone(),
        sns,
        eventbridge("Delete Marker Created", "media", "denied.jpg", &marker),
    ];
    for event in events {
        rig.endpoint.script(
            "denied",
            [Reply::error(403, "AccessDeniedException", "not allowed")],
        );
        match rig.invoke(event).await {
            Answer::Error(error) => {
                assert_eq!(error["errorType"], "ItemsFailed", "{error}");
                let message = error["errorMessage"].as_str().unwrap();
                assert!(
                    message.contains("1 of 1 items failed")
                        && message.contains("AccessDeniedException")
                        && message.contains("denied.jpg"),
                    "{message}"
                );
            }
            Answer::Response(r) => {
                panic!("Lambda would count this a success and drop the failure: {r}")
            }
        }
    }
    // Once the role is mended, Lambda's retry (or the redrive) converges.
    let payload = rig.payload(notification).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn phone_number_arns_of_regions_with_long_names_are_sent_and_signed() {
    let rig = rig("arn", &[]).await;
    let arn = "arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/0123456789abcdef0123456789abcdef";
    assert_eq!(arn.len(), 101);
    let payload = rig
        .payload(json!({"mediaId": "longarn", "originationPhoneNumberId": arn}))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    let seen = rig.endpoint.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].phone_number_id.as_deref(), Some(arn));
    assert_eq!(seen[0].signature, Ok(()));
    // Over the service's 115 characters: never sent.
    let too_long = format!("{arn}{}", "a".repeat(15));
    let payload = rig
        .payload(json!({"mediaId": "toolong", "originationPhoneNumberId": too_long}))
        .await;
    assert_eq!(
        payload["results"][0]["error"]["type"], "InvalidInput",
        "{payload}"
    );
    assert!(payload["results"][0]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("at most 115"));
    assert_eq!(rig.endpoint.seen().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_redirect_is_never_followed() {
    let elsewhere = LocalEndpoint::start(0, testkit::credentials(), REGION, Duration::ZERO)
        .await
        .unwrap();
    let rig = rig("redirect", &[("MAX_ATTEMPTS", "3")]).await;
    rig.endpoint.script(
        "moved",
        [Reply::Http {
            status: 307,
            headers: vec![(
                "location".into(),
                format!(
                    "{}/v1/whatsapp/media?mediaId=moved&originationPhoneNumberId={PHONE}",
                    elsewhere.url()
                ),
            )],
            body: String::new(),
        }],
    );
    let payload = rig
        .payload(json!({"mediaId": "moved", "originationPhoneNumberId": PHONE}))
        .await;
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed", "{payload}");
    assert_eq!(result["error"]["type"], "UnexpectedResponse");
    assert_eq!(result["error"]["httpStatus"], 307);
    assert_eq!(result["error"]["retryable"], false);
    assert_eq!(result["attempts"], 1, "a 3xx is not retried");
    assert!(
        elsewhere.seen().is_empty(),
        "the DELETE and its session token went to the redirect's host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_batch_whose_answer_could_not_fit_is_refused_before_any_work() {
    let rig = rig("limit", &[]).await;
    let item = |i: usize| json!({"mediaId": format!("m{i}"), "originationPhoneNumberId": PHONE});
    let too_many: Vec<Value> = (0..1001).map(item).collect();
    match rig.invoke(json!({ "deletions": too_many })).await {
        Answer::Error(e) => {
            assert_eq!(e["errorType"], "InvalidEvent", "{e}");
            let message = e["errorMessage"].as_str().unwrap();
            assert!(
                message.contains("at most 1000") && message.contains("S3 Batch Operations"),
                "{message}"
            );
        }
        Answer::Response(r) => panic!("worked on: {}", &r.to_string()[..200]),
    }
    // Keys of control characters take six bytes each in JSON: 1,000 of the longest cannot
    // be answered within Lambda's 6 MB.
    let long_key = "\u{1}".repeat(1024);
    let huge: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"mediaId": format!("h{i}"), "originationPhoneNumberId": PHONE,
                        "bucket": "media", "key": long_key})
        })
        .collect();
    match rig.invoke(json!({ "deletions": huge })).await {
        Answer::Error(e) => {
            assert_eq!(e["errorType"], "InvalidEvent", "{e}");
            assert!(e["errorMessage"].as_str().unwrap().contains("6291456-byte"));
        }
        Answer::Response(r) => panic!("worked on: {}", &r.to_string()[..200]),
    }
    assert!(rig.endpoint.seen().is_empty(), "nothing was sent");

    // The maximum, with keys of S3's longest, fits.
    let key = "k".repeat(1024);
    let most: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"mediaId": format!("x{i}"), "originationPhoneNumberId": PHONE,
                        "bucket": "media", "key": key})
        })
        .collect();
    let payload = rig
        .payload(json!({ "deletions": most, "dryRun": true }))
        .await;
    assert_eq!(payload["summary"]["dryRun"], 1000);
    assert!(payload.to_string().len() < 6 * 1024 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn tag_keys_are_matched_exactly_as_s3_keeps_them() {
    let rig = rig("tags", &[("MEDIA_ID_METADATA_KEY", "Media-Id")]).await;
    rig.bucket("media", true).await;
    rig.put("media", "case.jpg", None, "x").await;
    testkit::moto::put_tags(
        &rig.s3,
        "media",
        "case.jpg",
        None,
        &[
            ("media-id", "lowercase"),
            ("MEDIA-ID", "uppercase"),
            ("Media-Id", "exact"),
            ("whatsapp-origination-phone-number-id", PHONE),
        ],
    )
    .await;
    rig.put("media", "other-case.jpg", None, "y").await;
    testkit::moto::put_tags(
        &rig.s3,
        "media",
        "other-case.jpg",
        None,
        &[
            ("media-id", "lowercase"),
            ("whatsapp-origination-phone-number-id", PHONE),
        ],
    )
    .await;
    let payload = rig
        .payload(json!({"deletions": [
            {"bucket": "media", "key": "case.jpg"},
            {"bucket": "media", "key": "other-case.jpg"},
        ]}))
        .await;
    assert_eq!(payload["results"][0]["mediaId"], "exact", "{payload}");
    assert_eq!(payload["results"][1]["outcome"], "skipped", "{payload}");
    assert!(payload["results"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("no Media-Id tag"));
    assert_eq!(rig.media_seen(), ["exact"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn an_unversioned_object_uploaded_again_after_it_was_read_is_kept() {
    let rig = rig("if-match", &[]).await;
    rig.bucket("plain", false).await;
    rig.put("plain", "race.jpg", Some(("racemedia", PHONE)), "first")
        .await;
    rig.put("plain", "calm.jpg", Some(("calmmedia", PHONE)), "calm")
        .await;
    // Another upload lands between the function's HeadObject and its DeleteObject.
    rig.faults
        .upload_before(Operation::DeleteObject, "/plain/race.jpg", "second", "");
    let payload = rig
        .payload(json!({"deletions": [
            {"bucket": "plain", "key": "race.jpg"},
            {"bucket": "plain", "key": "calm.jpg"},
        ]}))
        .await;
    let race = &payload["results"][0];
    assert_eq!(race["outcome"], "deleted", "{payload}");
    assert_eq!(race["s3Object"], "kept", "{payload}");
    assert!(race["reason"]
        .as_str()
        .unwrap()
        .contains("changed after it was read"));
    assert_eq!(
        rig.body("plain", "race.jpg").await.as_deref(),
        Some("second")
    );
    // Unchanged, it goes.
    assert_eq!(payload["results"][1]["s3Object"], "deleted", "{payload}");
    assert_eq!(rig.body("plain", "calm.jpg").await, None);

    // An upload for other media lands between HeadObject and GetObjectTagging: the tags
    // read are the new object's, so nothing is taken from them. The item fails retryably,
    // and neither media is sent.
    rig.put("plain", "tags.jpg", Some(("firstmedia", PHONE)), "first")
        .await;
    rig.faults.upload_before(
        Operation::GetObjectTagging,
        "/plain/tags.jpg",
        "second",
        &format!("whatsapp-media-id=secondmedia&whatsapp-origination-phone-number-id={PHONE}"),
    );
    let payload = rig
        .payload(json!({"bucket": "plain", "key": "tags.jpg"}))
        .await;
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed", "{payload}");
    assert_eq!(result["error"]["type"], "MetadataLookupFailed");
    assert_eq!(result["error"]["retryable"], true);
    assert!(!rig.media_seen().contains(&"secondmedia".to_owned()));
    assert!(!rig.media_seen().contains(&"firstmedia".to_owned()));
    assert_eq!(
        rig.body("plain", "tags.jpg").await.as_deref(),
        Some("second")
    );
}

/// Deletes the current object of `key` (a delete marker, in a versioned bucket) and returns
/// the marker's version id.
async fn delete_current(rig: &Rig, key: &str) -> String {
    rig.delete("media", key, None)
        .await
        .expect("a delete marker")
}

/// Copies `version` of `key` in the media bucket back onto `key`: a restore.
async fn restore_by_copy(rig: &Rig, key: &str, version: &str) -> String {
    testkit::moto::restore_by_copy(&rig.s3, "media", key, version).await
}

fn batch_task(key: &str, version: &str) -> Value {
    json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
           "tasks": [{"taskId": "t", "s3Bucket": "media", "s3Key": key, "s3VersionId": version}]})
}

/// The outcome and reason of the only item an answer holds, from a result payload or a
/// Batch Operations response.
fn only_item(answer: &Value) -> (String, String) {
    let result = &answer["results"][0];
    let text = |field: &str| result[field].as_str().unwrap_or_default().to_owned();
    match result.get("resultCode") {
        Some(code) => (code.as_str().unwrap().to_owned(), text("resultString")),
        None => (text("outcome"), text("reason")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn media_goes_only_while_no_current_version_of_its_key_records_it() {
    let rig = rig("current", &[]).await;
    rig.bucket("media", true).await;
    // Restored by copy: the object is deleted (marker D), then the version D hid is copied
    // back onto the key. The copy is current, and its tags record the same media.
    let hidden = rig
        .put("media", "copied.jpg", Some(("restored", PHONE)), "x")
        .await
        .unwrap();
    let marker = delete_current(&rig, "copied.jpg").await;
    let copy = restore_by_copy(&rig, "copied.jpg", &hidden).await;
    assert_eq!(
        testkit::moto::tags(&rig.s3, "media", "copied.jpg", Some(&copy)).await,
        testkit::moto::tags(&rig.s3, "media", "copied.jpg", Some(&hidden)).await,
    );
    // D's event, late, from each source; a Batch task and custom events naming the version
    // D hid. Each is skipped, and names the current version.
    let events = [
        s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            "copied.jpg",
            Some(&marker),
        ),
        eventbridge("Delete Marker Created", "media", "copied.jpg", &marker),
        batch_task("copied.jpg", &hidden),
        json!({"bucket": "media", "key": "copied.jpg", "versionId": hidden}),
        json!({"mediaId": "restored", "originationPhoneNumberId": PHONE,
               "bucket": "media", "key": "copied.jpg", "versionId": hidden}),
    ];
    for event in &events {
        let answer = rig.payload(event.clone()).await;
        let (outcome, reason) = only_item(&answer);
        assert!(
            ["skipped", "Succeeded"].contains(&outcome.as_str()),
            "{event}: {answer}"
        );
        assert!(
            reason.contains(&format!("current version {copy} records media restored")),
            "{event}: {answer}"
        );
    }
    // Redriven days later from the failure queue: skipped, which is no failure.
    let redriven = testkit::failure_record(&events[0]);
    let answer = rig
        .payload(json!({"Records": [testkit::sqs_message("FailedEvents", "m", redriven)]}))
        .await;
    assert_eq!(answer, json!({"batchItemFailures": []}));

    // Undeleted: the marker itself is removed, so the version it hid is current again. (S3
    // lists a version's time to the second: the object was written a second before.)
    let undeleted = rig
        .put("media", "undeleted.jpg", Some(("undeleted", PHONE)), "x")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let marker = delete_current(&rig, "undeleted.jpg").await;
    let deleted_at = [
        sent_now(s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            "undeleted.jpg",
            Some(&marker),
        )),
        sent_now(eventbridge(
            "Delete Marker Created",
            "media",
            "undeleted.jpg",
            &marker,
        )),
    ];
    rig.delete("media", "undeleted.jpg", Some(&marker)).await;
    for event in deleted_at {
        let answer = rig.payload(event).await;
        let (outcome, reason) = only_item(&answer);
        assert_eq!(outcome, "skipped", "{answer}");
        assert!(
            reason.contains("no longer exists")
                && reason.contains(&format!("{undeleted} was written before")),
            "{answer}"
        );
    }
    assert!(
        rig.media_seen().is_empty(),
        "media went while a current object records it: {:?}",
        rig.media_seen()
    );
    assert_eq!(rig.versions("media", "copied.jpg").await.len(), 2);
    assert_eq!(rig.versions("media", "undeleted.jpg").await, [undeleted]);

    // A marker removed after the key was uploaded again leaves the version it hid untold:
    // the event fails, so that it reaches the failure queue and its alarm, rather than
    // pass for done while media "gone" is never deleted.
    rig.put("media", "untold.jpg", Some(("untold", PHONE)), "x")
        .await;
    let marker = delete_current(&rig, "untold.jpg").await;
    let event = sent_now(s3_record(
        "ObjectRemoved:DeleteMarkerCreated",
        "media",
        "untold.jpg",
        Some(&marker),
    ));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    rig.put("media", "untold.jpg", Some(("newer", PHONE)), "y")
        .await;
    rig.delete("media", "untold.jpg", Some(&marker)).await;
    match rig.invoke(event).await {
        Answer::Error(error) => {
            assert_eq!(error["errorType"], "ItemsFailed", "{error}");
            let message = error["errorMessage"].as_str().unwrap();
            assert!(message.contains("written after the deletion"), "{message}");
        }
        Answer::Response(r) => panic!("an untold marker passed for done: {r}"),
    }

    // A current version that records other media does not hold the media back.
    rig.put("media", "reused.jpg", Some(("first", PHONE)), "x")
        .await;
    let marker = delete_current(&rig, "reused.jpg").await;
    rig.put("media", "reused.jpg", Some(("second", PHONE)), "y")
        .await;
    let answer = rig
        .payload(s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            "reused.jpg",
            Some(&marker),
        ))
        .await;
    assert_eq!(only_item(&answer).0, "deleted", "{answer}");
    assert_eq!(rig.media_seen(), ["first"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_named_version_that_records_other_media_is_kept() {
    let rig = rig("named", &[]).await;
    rig.bucket("media", true).await;
    let other = rig
        .put("media", "b.jpg", Some(("mediaB", PHONE)), "b")
        .await
        .unwrap();
    let bare = rig.put("media", "bare.jpg", None, "x").await.unwrap();
    let payload = rig
        .payload(json!({"deletions": [
            {"mediaId": "mediaA", "originationPhoneNumberId": PHONE,
             "bucket": "media", "key": "b.jpg", "versionId": other},
            {"mediaId": "mediaE", "originationPhoneNumberId": PHONE,
             "bucket": "media", "key": "bare.jpg", "versionId": bare},
        ]}))
        .await;
    let (recorded, unrecorded) = (&payload["results"][0], &payload["results"][1]);
    // Media A goes, as asked; the version, media B's only source, stays.
    assert_eq!(recorded["outcome"], "deleted", "{payload}");
    assert_eq!(recorded["s3Object"], "kept", "{payload}");
    assert!(recorded["reason"]
        .as_str()
        .unwrap()
        .contains("records media mediaB"));
    assert_eq!(rig.versions("media", "b.jpg").await, [other]);
    // A version that records no ids at all is the caller's word.
    assert_eq!(unrecorded["s3Object"], "deleted", "{payload}");
    assert!(rig.versions("media", "bare.jpg").await.is_empty());
    let mut seen = rig.media_seen();
    seen.sort();
    assert_eq!(seen, ["mediaA", "mediaE"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn an_empty_version_id_is_none_and_one_s3_refuses_fails_the_item() {
    let rig = rig("version-ids", &[]).await;
    rig.bucket("media", true).await;
    rig.put("media", "empty.jpg", Some(("emptyv", PHONE)), "x")
        .await;
    let payload = rig
        .payload(
            json!({"mediaId": "emptyv", "originationPhoneNumberId": PHONE,
                        "bucket": "media", "key": "empty.jpg", "versionId": ""}),
        )
        .await;
    assert_eq!(payload["results"][0]["s3Object"], "deleted", "{payload}");
    assert!(rig.versions("media", "empty.jpg").await.is_empty());

    // S3 answers 400 to a version id it could not have given: no absence, and nothing is
    // sent or deleted.
    rig.put("media", "typo.jpg", Some(("typo", PHONE)), "x")
        .await;
    let payload = rig
        .payload(json!({"deletions": [
            {"mediaId": "typo", "originationPhoneNumberId": PHONE,
             "bucket": "media", "key": "typo.jpg", "versionId": "not-a-version"},
            {"bucket": "media", "key": "typo.jpg", "versionId": "not-a-version"},
        ]}))
        .await;
    assert_eq!(payload["success"], false, "{payload}");
    for result in payload["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "failed", "{payload}");
        assert_eq!(result["error"]["type"], "MetadataLookupFailed", "{payload}");
        assert_eq!(result["error"]["retryable"], false, "{payload}");
        let message = result["error"]["message"].as_str().unwrap();
        assert!(message.contains("\"not-a-version\""), "{message}");
    }
    let response = rig.payload(batch_task("typo.jpg", "not-a-version")).await;
    assert_eq!(
        response["results"][0]["resultCode"], "PermanentFailure",
        "{response}"
    );
    assert_eq!(rig.media_seen(), ["emptyv"]);
    assert_eq!(rig.versions("media", "typo.jpg").await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn the_answer_names_the_version_a_key_still_serves_after_a_delete() {
    let rig = rig("serves", &[]).await;
    rig.bucket("media", true).await;
    // The metadata recipe copies the object onto itself with the ids: the version it copied
    // from holds the same bytes and no ids.
    let copy_with_ids = |key: &'static str| {
        rig.s3
            .copy_object()
            .bucket("media")
            .key(key)
            .copy_source(format!("media/{key}"))
            .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
            .metadata("whatsapp-media-id", key.trim_end_matches(".jpg"))
            .metadata("whatsapp-origination-phone-number-id", PHONE)
            .send()
    };
    let original = rig.put("media", "kept.jpg", None, "file").await.unwrap();
    copy_with_ids("kept.jpg").await.unwrap();
    let payload = rig
        .payload(json!({"bucket": "media", "key": "kept.jpg"}))
        .await;
    let result = &payload["results"][0];
    assert_eq!(result["s3Object"], "deleted", "{payload}");
    assert_eq!(result["currentVersionId"], original.as_str(), "{payload}");
    assert!(result["reason"]
        .as_str()
        .unwrap()
        .contains("the key still serves a file"));
    assert_eq!(rig.body("media", "kept.jpg").await.as_deref(), Some("file"));

    // The recipe then removes the version it copied from: nothing is left to serve.
    let original = rig.put("media", "gone.jpg", None, "file").await.unwrap();
    copy_with_ids("gone.jpg").await.unwrap();
    rig.delete("media", "gone.jpg", Some(&original)).await;
    let payload = rig
        .payload(json!({"bucket": "media", "key": "gone.jpg"}))
        .await;
    let result = &payload["results"][0];
    assert_eq!(result["s3Object"], "deleted", "{payload}");
    assert!(result.get("currentVersionId").is_none(), "{payload}");
    assert!(result.get("reason").is_none(), "{payload}");
    assert_eq!(rig.body("media", "gone.jpg").await, None);

    // A key uploaded twice with the same ids: deleting its current version leaves the
    // other current, still recording the media, and the answer says so; a Batch task's
    // result string too.
    let first = rig
        .put("media", "twice.jpg", Some(("twice", PHONE)), "1")
        .await
        .unwrap();
    rig.put("media", "twice.jpg", Some(("twice", PHONE)), "2")
        .await;
    let job = json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
                     "tasks": [{"taskId": "t", "s3Bucket": "media", "s3Key": "twice.jpg"}]});
    let response = rig.payload(job).await;
    let (code, text) = only_item(&response);
    assert_eq!(code, "Succeeded", "{response}");
    assert!(
        text.contains("records the same media") && text.contains(&first),
        "{response}"
    );
    assert_eq!(rig.versions("media", "twice.jpg").await, [first]);
    assert_eq!(rig.media_seen(), ["kept", "gone", "twice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_lifecycle_expiration_deletes_the_media_of_the_object_it_expired() {
    let rig = rig("lifecycle", &[]).await;
    rig.bucket("media", true).await;
    // An expiration rule on current objects (the template's ExpireCurrentObjectsAfterDays)
    // puts a delete marker on each; S3 notifies it as LifecycleExpiration, never as
    // ObjectRemoved, and EventBridge as Object Deleted with the reason "Lifecycle
    // Expiration".
    let mut events = Vec::new();
    for key in ["expired.jpg", "expired-eb.jpg"] {
        let media = key.trim_end_matches(".jpg").replace('-', "");
        rig.put("media", key, Some((&media, PHONE)), "x").await;
        let marker = delete_current(&rig, key).await;
        events.push(if key == "expired.jpg" {
            s3_record(
                "LifecycleExpiration:DeleteMarkerCreated",
                "media",
                key,
                Some(&marker),
            )
        } else {
            let mut event = eventbridge("Delete Marker Created", "media", key, &marker);
            event["detail"]["reason"] = json!("Lifecycle Expiration");
            event
        });
    }
    for event in events {
        let answer = rig.payload(event).await;
        assert_eq!(only_item(&answer).0, "deleted", "{answer}");
    }
    assert_eq!(rig.media_seen(), ["expired", "expiredeb"]);
}
