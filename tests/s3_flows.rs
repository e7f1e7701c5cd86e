//! S3 in both directions against moto's S3 server, with the real WhatsApp client and the
//! local social-messaging endpoint: ids from metadata and tags (current, before a delete
//! marker, never after a permanent delete), from the key pattern, and the S3 object deleted
//! only after its media, at exactly the version that was read.

use serde_json::json;
use testkit::endpoint::Reply;
use testkit::{LocalApp, PHONE, PHONE_ARN, REGION};

/// The handler against moto and the local endpoint; the helpers below stage and inspect.
struct Fixture(LocalApp);

impl std::ops::Deref for Fixture {
    type Target = LocalApp;

    fn deref(&self) -> &LocalApp {
        &self.0
    }
}

async fn fixture(env: &[(&str, &str)]) -> Fixture {
    Fixture(LocalApp::start(env).await)
}

impl Fixture {
    async fn bucket(&self, name: &str, versioned: bool) {
        testkit::moto::create_bucket(&self.s3, name, versioned).await;
    }

    /// Puts an object with the media ids in its metadata; returns its version id.
    async fn put(&self, bucket: &str, key: &str, media_id: Option<&str>) -> Option<String> {
        let mut put = self
            .s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(b"jpeg".to_vec().into());
        if let Some(media_id) = media_id {
            put = put
                .metadata("whatsapp-media-id", media_id)
                .metadata("whatsapp-origination-phone-number-id", PHONE);
        }
        // No pause between writes: versions written within the same second must still be
        // told apart (S3 lists timestamps to the second).
        put.send().await.unwrap().version_id().map(str::to_owned)
    }

    /// The version ids (not markers) that exist for exactly `key`.
    async fn versions(&self, bucket: &str, key: &str) -> Vec<String> {
        testkit::moto::versions(&self.s3, bucket, key).await
    }

    async fn exists(&self, bucket: &str, key: &str) -> bool {
        self.s3
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .is_ok()
    }

    fn media_seen(&self) -> Vec<String> {
        self.endpoint.media_ids_seen()
    }
}

use testkit::s3_record;

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn a_custom_object_event_deletes_the_media_then_exactly_that_version() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    let v1 = f
        .put("media", "in/photo 1.jpg", Some("media1"))
        .await
        .unwrap();

    let payload = f
        .invoke(json!({"bucket": "media", "key": "in/photo 1.jpg"}))
        .await
        .unwrap();
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "deleted", "{payload}");
    assert_eq!(result["mediaId"], "media1");
    assert_eq!(result["originationPhoneNumberId"], PHONE);
    assert_eq!(result["s3Object"], "deleted");
    assert_eq!(result["object"]["versionId"], v1.as_str());
    assert_eq!(f.media_seen(), ["media1"]);
    // The version itself is gone: no delete marker was left instead.
    assert!(f.versions("media", "in/photo 1.jpg").await.is_empty());

    // A retry of the same event is harmless: the object is gone, nothing is sent.
    let again = f
        .invoke(json!({"bucket": "media", "key": "in/photo 1.jpg"}))
        .await
        .unwrap();
    assert_eq!(again["results"][0]["outcome"], "skipped", "{again}");
    assert_eq!(again["success"], true);
    assert_eq!(f.endpoint.seen().len(), 1);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn ids_with_an_object_delete_the_object_unless_told_not_to() {
    let f = fixture(&[]).await;
    f.bucket("plain", false).await;
    // The objects record their media, as users tag them after PostWhatsAppMessageMedia.
    f.put("plain", "a.jpg", None).await;
    f.tag("plain", "a.jpg", None, "ida").await;
    f.put("plain", "b.jpg", None).await;
    f.tag("plain", "b.jpg", None, "idb").await;

    let payload = f
        .invoke(json!({"deletions": [
            {"mediaId": "ida", "originationPhoneNumberId": PHONE, "bucket": "plain", "key": "a.jpg"},
            {"mediaId": "idgone", "originationPhoneNumberId": PHONE, "bucket": "plain", "key": "never.jpg"},
        ]}))
        .await
        .unwrap();
    assert_eq!(payload["results"][0]["s3Object"], "deleted", "{payload}");
    assert_eq!(
        payload["results"][1]["s3Object"], "alreadyAbsent",
        "{payload}"
    );
    assert!(!f.exists("plain", "a.jpg").await);

    let kept = f
        .invoke(json!({"mediaId": "idb", "originationPhoneNumberId": PHONE,
                       "bucket": "plain", "key": "b.jpg", "deleteS3Object": false}))
        .await
        .unwrap();
    assert_eq!(kept["results"][0]["outcome"], "deleted");
    assert_eq!(kept["results"][0]["s3Object"], "kept");
    assert!(f.exists("plain", "b.jpg").await);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn delete_s3_object_false_in_the_environment_cannot_be_overridden() {
    let f = fixture(&[("DELETE_S3_OBJECT", "false")]).await;
    f.bucket("media", true).await;
    f.put("media", "keep.jpg", Some("keepme")).await;
    let payload = f
        .invoke(json!({"bucket": "media", "key": "keep.jpg", "deleteS3Object": true}))
        .await
        .unwrap();
    assert_eq!(payload["results"][0]["outcome"], "deleted");
    assert_eq!(payload["results"][0]["s3Object"], "kept");
    assert!(f.exists("media", "keep.jpg").await);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn the_object_stays_when_its_media_delete_fails() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "denied.jpg", Some("denied")).await;
    f.endpoint
        .script("denied", [Reply::error(403, "AccessDeniedException", "no")]);
    let payload = f
        .invoke(json!({"bucket": "media", "key": "denied.jpg"}))
        .await
        .unwrap();
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed");
    assert_eq!(result["s3Object"], "kept");
    assert_eq!(payload["success"], false);
    assert!(f.exists("media", "denied.jpg").await);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn a_delete_marker_reads_the_version_it_hid_never_the_one_uploaded_since() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "race.jpg", Some("oldmedia")).await;
    // A longer key under the same prefix must not be mistaken for this one.
    f.put("media", "race.jpg.bak", Some("otherkey")).await;
    let marker = f.delete("media", "race.jpg").await.unwrap();
    // The key is uploaded again before the notification is handled.
    let newer = f.put("media", "race.jpg", Some("newmedia")).await.unwrap();

    let payload = f
        .invoke(json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "race.jpg", Some(&marker))]}))
        .await
        .unwrap();
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "deleted", "{payload}");
    assert_eq!(result["mediaId"], "oldmedia");
    // Notifications report deletions that already happened: the S3 object is not ours.
    assert!(result.get("s3Object").is_none());
    assert_eq!(f.media_seen(), ["oldmedia"]);
    assert!(f.versions("media", "race.jpg").await.contains(&newer));
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn a_permanent_delete_reads_no_metadata_from_what_stands_under_the_key_now() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    let v1 = f.put("media", "perm.jpg", Some("gonemedia")).await.unwrap();
    f.s3.delete_object()
        .bucket("media")
        .key("perm.jpg")
        .version_id(&v1)
        .send()
        .await
        .unwrap();
    f.put("media", "perm.jpg", Some("newmedia")).await;

    let payload = f
        .invoke(
            json!({"Records": [s3_record("ObjectRemoved:Delete", "media", "perm.jpg", Some(&v1))]}),
        )
        .await
        .unwrap();
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "skipped", "{payload}");
    assert!(result["reason"]
        .as_str()
        .unwrap()
        .contains("permanently deleted"));
    assert!(
        f.endpoint.seen().is_empty(),
        "nothing may be deleted on a guess"
    );
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn the_key_pattern_and_default_phone_give_ids_when_metadata_does_not() {
    let f = fixture(&[
        (
            "MEDIA_KEY_PATTERN",
            r"^downloads/(?P<mediaId>[A-Za-z0-9]+)\.[a-z0-9]+$",
        ),
        ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", PHONE_ARN),
    ])
    .await;
    f.bucket("media", true).await;
    let payload = f
        .invoke(json!({"Records": [
            s3_record("ObjectRemoved:Delete", "media", "downloads/abc123.jpg", None),
            s3_record("LifecycleExpiration:Delete", "media", "downloads/def456.png", None),
            s3_record("ObjectRemoved:Delete", "media", "other/readme.txt", None),
            s3_record("ObjectCreated:Put", "media", "downloads/zzz.jpg", None),
        ]}))
        .await
        .unwrap();
    let results = payload["results"].as_array().unwrap();
    assert_eq!(results[0]["outcome"], "deleted", "{payload}");
    assert_eq!(results[0]["originationPhoneNumberId"], PHONE_ARN);
    assert_eq!(results[1]["outcome"], "deleted");
    assert_eq!(results[2]["outcome"], "skipped");
    assert!(results[2]["reason"]
        .as_str()
        .unwrap()
        .contains("MEDIA_KEY_PATTERN"));
    assert_eq!(results[3]["outcome"], "skipped");
    assert_eq!(payload["success"], true);
    let mut seen = f.media_seen();
    seen.sort();
    assert_eq!(seen, ["abc123", "def456"]);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn notification_keys_are_decoded_before_s3_is_asked() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "in/café photo+1.jpg", Some("unicode1"))
        .await;
    let marker = f.delete("media", "in/café photo+1.jpg").await.unwrap();
    let sns_wrapped = testkit::sns_event(
        &json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media",
            "in/caf%C3%A9+photo%2B1.jpg", Some(&marker))]})
        .to_string(),
    );
    let payload = f.invoke(sns_wrapped).await.unwrap();
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(
        payload["results"][0]["object"]["key"],
        "in/café photo+1.jpg"
    );
    assert_eq!(f.media_seen(), ["unicode1"]);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn eventbridge_deletions_of_both_kinds() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "eb.jpg", Some("ebmedia")).await;
    let marker = f.delete("media", "eb.jpg").await.unwrap();
    let event = |deletion_type: &str, version: &str| {
        json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
               "detail-type": "Object Deleted", "source": "aws.s3", "account": "123456789012",
               "time": "2026-11-25T10:00:00Z", "region": REGION, "resources": ["arn:aws:s3:::media"],
               "detail": {"version": "0", "bucket": {"name": "media"},
                          "object": {"key": "eb.jpg", "version-id": version, "sequencer": "617f08299329d189"},
                          "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                          "reason": "DeleteObject", "deletion-type": deletion_type}})
    };
    let payload = f
        .invoke(event("Delete Marker Created", &marker))
        .await
        .unwrap();
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["mediaId"], "ebmedia");
    let payload = f
        .invoke(event("Permanently Deleted", "v-gone"))
        .await
        .unwrap();
    assert_eq!(payload["results"][0]["outcome"], "skipped", "{payload}");
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn retryable_failures_of_a_notification_fail_the_invocation() {
    let f = fixture(&[("MAX_ATTEMPTS", "2")]).await;
    f.bucket("media", true).await;
    f.put("media", "storm.jpg", Some("storm")).await;
    f.put("media", "fine.jpg", Some("fine")).await;
    let m1 = f.delete("media", "storm.jpg").await.unwrap();
    let m2 = f.delete("media", "fine.jpg").await.unwrap();
    f.endpoint.script(
        "storm",
        (0..2).map(|_| Reply::error(500, "InternalServiceException", "boom")),
    );
    let event = json!({"Records": [
        s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "storm.jpg", Some(&m1)),
        s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "fine.jpg", Some(&m2)),
    ]});
    let err = f.invoke(event.clone()).await.unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ItemsFailed");
    assert!(diagnostic
        .error_message
        .contains("InternalServiceException"));
    assert!(diagnostic.error_message.contains("storm"));

    // Lambda's retry converges: the done item is alreadyDeleted, the other now succeeds.
    let payload = f.invoke(event).await.unwrap();
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][1]["outcome"], "alreadyDeleted");

    // A permanent failure fails the invocation too: a payload would be counted a success
    // and dropped, and nothing would reach the failure queue to be redriven later.
    f.put("media", "denied.jpg", Some("denied")).await;
    let m3 = f.delete("media", "denied.jpg").await.unwrap();
    f.endpoint
        .script("denied", [Reply::error(403, "AccessDeniedException", "no")]);
    let err = f
        .invoke(json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "denied.jpg", Some(&m3))]}))
        .await
        .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "ItemsFailed");
    assert!(
        diagnostic.error_message.contains("AccessDeniedException")
            && diagnostic
                .error_message
                .contains("0 may succeed if retried"),
        "{}",
        diagnostic.error_message
    );
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn sqs_reports_exactly_the_messages_that_failed_or_could_not_be_read() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "ok.jpg", Some("okmedia")).await;
    f.put("media", "bad.jpg", Some("badmedia")).await;
    let m_ok = f.delete("media", "ok.jpg").await.unwrap();
    let m_bad = f.delete("media", "bad.jpg").await.unwrap();
    f.endpoint
        .script("badmedia", [Reply::error(400, "ValidationException", "no")]);
    let message = |id: &str, body: String| testkit::sqs_message("media-deletions", id, body);
    let notification = |key: &str, marker: &str| {
        json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", key, Some(marker))]}).to_string()
    };
    let event = json!({"Records": [
        message("m-ok", notification("ok.jpg", &m_ok)),
        message("m-bad", notification("bad.jpg", &m_bad)),
        message("m-garbage", "not json".into()),
        message("m-test", json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()),
    ]});
    let response = f.invoke(event).await.unwrap();
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-bad"}, {"itemIdentifier": "m-garbage"}]})
    );
    let mut seen = f.media_seen();
    seen.sort();
    assert_eq!(seen, ["badmedia", "okmedia"]);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn batch_operations_both_schemas() {
    let f = fixture(&[("MAX_ATTEMPTS", "1")]).await;
    f.bucket("media", true).await;
    let v_ok = f
        .put("media", "batch/ok 1.jpg", Some("batchok"))
        .await
        .unwrap();
    f.put("media", "batch/nometa.jpg", None).await;
    f.put("media", "batch/denied.jpg", Some("batchdenied"))
        .await;
    f.put("media", "batch/storm.jpg", Some("batchstorm")).await;
    f.endpoint.script(
        "batchdenied",
        [Reply::error(403, "AccessDeniedException", "no")],
    );
    f.endpoint.script(
        "batchstorm",
        [Reply::error(500, "InternalServiceException", "boom")],
    );

    let v1 = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv-1",
        "job": {"id": "job-1"},
        "tasks": [{"taskId": "t-ok", "s3Key": "batch/ok+1.jpg", "s3VersionId": v_ok, "s3BucketArn": "arn:aws:s3:::media"}]});
    let response = f.invoke(v1).await.unwrap();
    assert_eq!(response["invocationSchemaVersion"], "1.0");
    assert_eq!(response["invocationId"], "inv-1");
    assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
    assert_eq!(response["results"][0]["taskId"], "t-ok");
    assert_eq!(
        response["results"][0]["resultCode"], "Succeeded",
        "{response}"
    );
    assert!(response["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .contains("S3 object deleted"));
    assert!(f.versions("media", "batch/ok 1.jpg").await.is_empty());

    let task = |id: &str, key: &str| json!({"taskId": id, "s3Key": key, "s3VersionId": null, "s3Bucket": "media"});
    let v2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "inv-2",
        "job": {"id": "job-2", "userArguments": {}},
        "tasks": [task("t-nometa", "batch/nometa.jpg"), task("t-missing", "batch/missing.jpg"),
                  task("t-denied", "batch/denied.jpg"), task("t-storm", "batch/storm.jpg"),
                  task("t-badkey", "batch/100%.jpg")]});
    let response = f.invoke(v2).await.unwrap();
    let codes: Vec<&str> = response["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["resultCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "Succeeded",
            "Succeeded",
            "PermanentFailure",
            "TemporaryFailure",
            "PermanentFailure"
        ],
        "{response}"
    );
    assert!(response["results"][1]["resultString"]
        .as_str()
        .unwrap()
        .starts_with("skipped"));
    assert!(response["results"][2]["resultString"]
        .as_str()
        .unwrap()
        .starts_with("AccessDeniedException"));
    // Objects whose media is not gone stay.
    assert!(f.exists("media", "batch/denied.jpg").await);
    assert!(f.exists("media", "batch/storm.jpg").await);
    assert!(f.exists("media", "batch/nometa.jpg").await);
}

impl Fixture {
    /// Records the ids as tags on an object that exists, the way users do after
    /// PostWhatsAppMessageMedia returned the media id: PutObjectTagging, no new version.
    async fn tag(&self, bucket: &str, key: &str, version: Option<&str>, media_id: &str) {
        testkit::moto::tag_ids(&self.s3, bucket, key, version, media_id, PHONE).await;
    }
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn ids_recorded_as_tags_after_the_upload_are_found_and_metadata_wins() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    // Upload first, tag once the media id exists: the tag makes no new version.
    let v1 = f.put("media", "in/tagged.jpg", None).await.unwrap();
    f.tag("media", "in/tagged.jpg", None, "tagmedia").await;
    assert_eq!(
        f.versions("media", "in/tagged.jpg").await,
        std::slice::from_ref(&v1)
    );
    // Metadata and tags both naming a media id: metadata wins.
    f.put("media", "in/both.jpg", Some("metamedia")).await;
    f.tag("media", "in/both.jpg", None, "tagloses").await;

    let payload = f
        .invoke(json!({"deletions": [
            {"bucket": "media", "key": "in/tagged.jpg"},
            {"bucket": "media", "key": "in/both.jpg"},
        ]}))
        .await
        .unwrap();
    let results = &payload["results"];
    assert_eq!(results[0]["outcome"], "deleted", "{payload}");
    assert_eq!(results[0]["mediaId"], "tagmedia");
    assert_eq!(results[0]["originationPhoneNumberId"], PHONE);
    assert_eq!(results[0]["object"]["versionId"], v1.as_str());
    assert_eq!(results[0]["s3Object"], "deleted");
    assert_eq!(results[1]["mediaId"], "metamedia", "{payload}");
    let mut seen = f.media_seen();
    seen.sort();
    assert_eq!(seen, ["metamedia", "tagmedia"]);
    assert!(f.versions("media", "in/tagged.jpg").await.is_empty());
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn a_delete_marker_reads_the_tags_of_the_version_it_hid_never_the_one_uploaded_since() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "race.jpg", None).await;
    f.tag("media", "race.jpg", None, "oldmedia").await;
    let marker = f.delete("media", "race.jpg").await.unwrap();
    // Uploaded and tagged again before the notification is handled.
    let newer = f.put("media", "race.jpg", None).await.unwrap();
    f.tag("media", "race.jpg", None, "newmedia").await;

    let payload = f
        .invoke(json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "race.jpg", Some(&marker))]}))
        .await
        .unwrap();
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["mediaId"], "oldmedia");
    assert_eq!(f.media_seen(), ["oldmedia"]);
    assert!(f.versions("media", "race.jpg").await.contains(&newer));
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn batch_tasks_read_the_tags_of_their_own_version_whatever_their_bucket_arn() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    let v1 = f.put("media", "batch/v.jpg", None).await.unwrap();
    f.tag("media", "batch/v.jpg", Some(&v1), "firstmedia").await;
    let v2 = f.put("media", "batch/v.jpg", None).await.unwrap();
    f.tag("media", "batch/v.jpg", Some(&v2), "secondmedia")
        .await;
    // AWS's own example ARN carries a Region and an account.
    let job = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv-arn", "job": {"id": "j"},
        "tasks": [{"taskId": "t1", "s3Key": "batch/v.jpg", "s3VersionId": v1,
                   "s3BucketArn": "arn:aws:s3:us-east-1:123456789012:media"}]});
    let response = f.invoke(job).await.unwrap();
    assert_eq!(
        response["results"][0]["resultCode"], "Succeeded",
        "{response}"
    );
    assert_eq!(f.media_seen(), ["firstmedia"]);
    // Exactly that version went; the newer one and its media stay.
    assert_eq!(f.versions("media", "batch/v.jpg").await, [v2]);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn tag_values_that_are_not_valid_ids_fail_as_invalid_input_and_are_never_sent() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    f.put("media", "bad/media.jpg", None).await;
    f.tag("media", "bad/media.jpg", None, "not a media id")
        .await;
    f.put("media", "bad/phone.jpg", None).await;
    testkit::moto::put_tags(
        &f.s3,
        "media",
        "bad/phone.jpg",
        None,
        &[
            ("whatsapp-media-id", "goodmedia"),
            ("whatsapp-origination-phone-number-id", "phone number 1"),
        ],
    )
    .await;
    let marker = {
        f.put("media", "bad/marker.jpg", None).await;
        f.tag("media", "bad/marker.jpg", None, "x".repeat(101).as_str())
            .await;
        f.delete("media", "bad/marker.jpg").await.unwrap()
    };

    let payload = f
        .invoke(json!({"deletions": [
            {"bucket": "media", "key": "bad/media.jpg"},
            {"bucket": "media", "key": "bad/phone.jpg"},
        ]}))
        .await
        .unwrap();
    for result in payload["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "failed", "{payload}");
        assert_eq!(result["error"]["type"], "InvalidInput", "{payload}");
        assert_eq!(result["attempts"], 0);
    }
    assert!(payload["results"][1]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("originationPhoneNumberId"));
    let notification = f
        .invoke(json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "bad/marker.jpg", Some(&marker))]}))
        .await
        .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(notification);
    assert_eq!(diagnostic.error_type, "ItemsFailed");
    assert!(
        diagnostic.error_message.contains("InvalidInput"),
        "{}",
        diagnostic.error_message
    );
    assert!(
        f.endpoint.seen().is_empty(),
        "an invalid id reached the network"
    );
    assert!(f.exists("media", "bad/media.jpg").await);
    assert!(f.exists("media", "bad/phone.jpg").await);
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn eventbridge_keys_delivered_plain_or_percent_encoded_both_find_the_object() {
    let f = fixture(&[]).await;
    f.bucket("media", true).await;
    let key = "in/photo 1+2.jpg";
    let event = |delivered: &str, marker: &str| {
        json!({"version": "0", "detail-type": "Object Deleted", "source": "aws.s3",
               "account": "123456789012", "region": REGION, "resources": ["arn:aws:s3:::media"],
               "detail": {"version": "0", "bucket": {"name": "media"},
                          "object": {"key": delivered, "version-id": marker},
                          "reason": "DeleteObject", "deletion-type": "Delete Marker Created"}})
    };
    for (delivered, media_id) in [
        ("in/photo 1+2.jpg", "plainform"),
        ("in/photo%201%2B2.jpg", "encodedform"),
    ] {
        f.put("media", key, None).await;
        f.tag("media", key, None, media_id).await;
        let marker = f.delete("media", key).await.unwrap();
        let payload = f.invoke(event(delivered, &marker)).await.unwrap();
        let result = &payload["results"][0];
        assert_eq!(result["outcome"], "deleted", "{delivered}: {payload}");
        assert_eq!(result["mediaId"], media_id);
        assert_eq!(result["object"]["key"], key, "{payload}");
    }
    assert_eq!(f.media_seen(), ["plainform", "encodedform"]);

    // A key that really is spelt with `%20` is found as delivered, even though its decoded
    // form names an object too: the marker proves which key it belongs to.
    f.put("media", "a b.jpg", None).await;
    f.tag("media", "a b.jpg", None, "spacekey").await;
    f.put("media", "a%20b.jpg", None).await;
    f.tag("media", "a%20b.jpg", None, "literalkey").await;
    let marker = f.delete("media", "a%20b.jpg").await.unwrap();
    f.delete("media", "a b.jpg").await.unwrap();
    let payload = f.invoke(event("a%20b.jpg", &marker)).await.unwrap();
    assert_eq!(payload["results"][0]["mediaId"], "literalkey", "{payload}");
    assert_eq!(payload["results"][0]["object"]["key"], "a%20b.jpg");
}

#[tokio::test]
#[ignore = "needs moto: run make test"]
async fn failure_records_redriven_from_the_failure_queue_are_processed() {
    let f = fixture(&[("MAX_ATTEMPTS", "1")]).await;
    f.bucket("media", true).await;
    let mut markers = Vec::new();
    for (key, media_id) in [
        ("redrive/s3.jpg", "redrives3"),
        ("redrive/eb.jpg", "redriveeb"),
        ("redrive/again.jpg", "redriveagain"),
    ] {
        f.put("media", key, None).await;
        f.tag("media", key, None, media_id).await;
        markers.push(f.delete("media", key).await.unwrap());
    }
    f.endpoint.script(
        "redriveagain",
        [Reply::error(500, "InternalServiceException", "still down")],
    );
    let s3_event = json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "redrive/s3.jpg", Some(&markers[0]))]});
    let eventbridge = json!({"version": "0", "source": "aws.s3", "detail-type": "Object Deleted",
        "detail": {"bucket": {"name": "media"},
                   "object": {"key": "redrive/eb.jpg", "version-id": markers[1]},
                   "deletion-type": "Delete Marker Created"}});
    let again = json!({"Records": [s3_record("ObjectRemoved:DeleteMarkerCreated", "media", "redrive/again.jpg", Some(&markers[2]))]});
    let custom = json!({"bucket": "media", "key": "redrive/custom.jpg"});
    let message = |id: &str, body: String| testkit::sqs_message("FailedEventsQueue", id, body);
    let response = f
        .invoke(json!({"Records": [
            message("m-s3", testkit::failure_record(&s3_event)),
            message("m-eb", testkit::failure_record(&eventbridge)),
            message("m-again", testkit::failure_record(&again)),
            message("m-custom", testkit::failure_record(&custom)),
            // What EventBridge's own dead-letter config puts there: the event itself.
            message("m-raw-eb", eventbridge.to_string()),
        ]}))
        .await
        .unwrap();
    // The one that failed again, and the one that may not be redriven this way, stay in the
    // queue (and reach its dead-letter queue); the rest are done.
    assert_eq!(
        response,
        json!({"batchItemFailures": [{"itemIdentifier": "m-again"}, {"itemIdentifier": "m-custom"}]})
    );
    let mut seen = f.media_seen();
    seen.sort();
    // The raw EventBridge event came after its record: the media was gone already.
    assert_eq!(
        seen,
        ["redriveagain", "redriveeb", "redriveeb", "redrives3"]
    );
    // Notifications report deletions that already happened: no S3 object is touched.
    assert_eq!(
        f.s3.list_object_versions()
            .bucket("media")
            .send()
            .await
            .unwrap()
            .versions()
            .len(),
        3
    );
}
