//! Staging the samples in `events/` against moto: every object a sample names is uploaded,
//! then its media ids are recorded as tags, in the order users live with (the media id only
//! exists once PostWhatsAppMessageMedia has read the upload); it is deleted again where the
//! sample reports a delete marker, and the sample's version ids are replaced by moto's.

use std::path::Path;

use serde_json::Value;

use super::endpoint::LocalEndpoint;
use super::lambda::Invocation;
use super::PHONE;

/// The key pattern the samples' permanent delete relies on (`MEDIA_KEY_PATTERN`).
pub const KEY_PATTERN: &str = r"^whatsapp/downloads/(?P<mediaId>[A-Za-z0-9]+)\.[A-Za-z0-9]+$";

/// A sample made real.
#[derive(Debug, Default)]
pub struct Staged {
    /// The event to invoke, with real version ids.
    pub event: Value,
    /// Media ids the function must delete.
    pub media_ids: Vec<String>,
    /// Objects (bucket, key) the function must delete from S3.
    pub objects_deleted: Vec<(String, String)>,
}

/// The media id staged for `key`: its letters and digits.
pub fn media_id_for(key: &str) -> String {
    key.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(100)
        .collect()
}

/// Form-URL decoding, as S3 encodes notification and manifest keys.
fn form_decode(raw: &str) -> String {
    super::sigv4::percent_decode(&raw.replace('+', " "))
}

/// Uploads what `sample` names and returns it with real version ids.
pub async fn stage(s3: &aws_sdk_s3::Client, sample: &Value) -> Staged {
    let mut staged = Staged::default();
    let mut event = sample.clone();
    patch(s3, &mut event, &mut staged).await;
    staged.event = event;
    staged
}

async fn ensure_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    if s3.head_bucket().bucket(bucket).send().await.is_err() {
        super::moto::create_bucket(s3, bucket, true).await;
    }
}

/// Puts `key`, then tags it with its media ids; returns the version id.
async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    ensure_bucket(s3, bucket).await;
    let version = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(b"media".to_vec().into())
        .send()
        .await
        .expect("put object")
        .version_id()
        .unwrap_or_default()
        .to_owned();
    super::moto::tag_ids(s3, bucket, key, Some(&version), &media_id_for(key), PHONE).await;
    version
}

/// Puts then deletes `key`; returns the delete marker's version id.
async fn put_and_delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> String {
    put(s3, bucket, key).await;
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("delete object")
        .version_id()
        .unwrap_or_default()
        .to_owned()
}

fn patch<'a>(
    s3: &'a aws_sdk_s3::Client,
    event: &'a mut Value,
    staged: &'a mut Staged,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + 'a>> {
    Box::pin(async move {
        if let Some(records) = event.get_mut("Records").and_then(Value::as_array_mut) {
            for record in records {
                patch_record(s3, record, staged).await;
            }
        } else if event["source"] == "aws.s3" {
            let bucket = event["detail"]["bucket"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            // Delivered as is or percent-encoded: the object is stored under the decoded key.
            let key = super::sigv4::percent_decode(
                event["detail"]["object"]["key"]
                    .as_str()
                    .unwrap_or_default(),
            );
            if event["detail"]["deletion-type"] == "Delete Marker Created" {
                let marker = put_and_delete(s3, &bucket, &key).await;
                event["detail"]["object"]["version-id"] = Value::String(marker);
                staged.media_ids.push(media_id_for(&key));
            }
        } else if let Some(tasks) = event.get_mut("tasks").and_then(Value::as_array_mut) {
            for task in tasks {
                let bucket = task["s3Bucket"]
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| {
                        let arn = task["s3BucketArn"].as_str().unwrap_or_default();
                        arn.rsplit(':').next().unwrap_or_default().to_owned()
                    });
                let key = form_decode(task["s3Key"].as_str().unwrap_or_default());
                let version = put(s3, &bucket, &key).await;
                if !task["s3VersionId"].is_null() {
                    task["s3VersionId"] = Value::String(version);
                }
                staged.media_ids.push(media_id_for(&key));
                staged.objects_deleted.push((bucket, key));
            }
        } else if event.get("mediaId").is_none() {
            if let (Some(bucket), Some(key)) = (event["bucket"].as_str(), event["key"].as_str()) {
                put(s3, bucket, key).await;
                staged.media_ids.push(media_id_for(key));
                staged
                    .objects_deleted
                    .push((bucket.to_owned(), key.to_owned()));
            }
        }
    })
}

async fn patch_record(s3: &aws_sdk_s3::Client, record: &mut Value, staged: &mut Staged) {
    if let Some(message) = record["Sns"]["Message"].as_str() {
        let mut inner: Value = serde_json::from_str(message).expect("SNS message JSON");
        patch(s3, &mut inner, staged).await;
        record["Sns"]["Message"] = Value::String(inner.to_string());
        return;
    }
    if record["eventSource"] == "aws:sqs" {
        let mut body: Value = serde_json::from_str(record["body"].as_str().unwrap_or_default())
            .expect("SQS body JSON");
        // A failure record from the failure queue carries the original event.
        match body.get_mut("requestPayload") {
            Some(original) => patch(s3, original, staged).await,
            None => patch(s3, &mut body, staged).await,
        }
        record["body"] = Value::String(body.to_string());
        return;
    }
    let event_name = record["eventName"].as_str().unwrap_or_default().to_owned();
    let bucket = record["s3"]["bucket"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let key = form_decode(record["s3"]["object"]["key"].as_str().unwrap_or_default());
    if event_name.ends_with("DeleteMarkerCreated") {
        let marker = put_and_delete(s3, &bucket, &key).await;
        record["s3"]["object"]["versionId"] = Value::String(marker);
        staged.media_ids.push(media_id_for(&key));
    } else if event_name.ends_with(":Delete") {
        // Permanently deleted: only the key pattern can name the media.
        if let Some(caps) = regex_lite::Regex::new(KEY_PATTERN).unwrap().captures(&key) {
            staged.media_ids.push(caps["mediaId"].to_owned());
        }
    }
}

/// Stages a sample that names S3 objects, invokes it, and checks that exactly its media were
/// deleted, its objects removed where it asks for that, and that nothing failed. Returns
/// the number of items it holds.
pub async fn run_and_check(
    s3: &aws_sdk_s3::Client,
    endpoint: &LocalEndpoint,
    log_dir: &Path,
    sample: &Path,
    invoke: &impl Fn(&Path) -> Invocation,
) -> usize {
    let name = sample.file_name().unwrap().to_str().unwrap();
    let raw: Value = serde_json::from_str(&std::fs::read_to_string(sample).unwrap()).unwrap();
    let staged = stage(s3, &raw).await;
    assert!(!staged.media_ids.is_empty(), "{name} deletes nothing");
    let staged_file = log_dir.join(name);
    std::fs::write(&staged_file, staged.event.to_string()).unwrap();
    let before = endpoint.seen().len();
    let response = match invoke(&staged_file) {
        Invocation::Payload(p) => p,
        Invocation::Error { text, .. } => panic!("{name}: the function failed: {text}"),
    };

    let items = if let Some(failures) = response.get("batchItemFailures") {
        assert_eq!(failures, &serde_json::json!([]), "{name}: {response}");
        // Each sample message carries one notification of one record.
        raw["Records"].as_array().unwrap().len()
    } else if raw.get("invocationSchemaVersion").is_some() {
        assert_eq!(response["invocationId"], raw["invocationId"], "{name}");
        assert_eq!(
            response["invocationSchemaVersion"],
            raw["invocationSchemaVersion"]
        );
        assert_eq!(response["treatMissingKeysAs"], "PermanentFailure");
        let results = response["results"].as_array().unwrap();
        for result in results {
            assert_eq!(result["resultCode"], "Succeeded", "{name}: {response}");
        }
        results.len()
    } else {
        assert_eq!(response["success"], true, "{name}: {response}");
        assert_eq!(
            response["summary"]["deleted"],
            staged.media_ids.len(),
            "{name}: {response}"
        );
        response["results"].as_array().unwrap().len()
    };

    let mut deleted: Vec<String> = endpoint.seen()[before..]
        .iter()
        .filter_map(|s| s.media_id.clone())
        .collect();
    deleted.sort();
    let mut expected = staged.media_ids.clone();
    expected.sort();
    assert_eq!(deleted, expected, "{name}");
    for (bucket, key) in &staged.objects_deleted {
        assert!(
            super::moto::versions(s3, bucket, key).await.is_empty(),
            "{name}: s3://{bucket}/{key} was not deleted"
        );
    }
    items
}

/// Checks the payload `p` of a custom sample that names its ids (`custom-ids.json`,
/// `custom-arn.json`, `custom-batch.json`, `custom-dry-run.json`): exactly its media were
/// sent, as the sample asks. Returns the number of items it holds.
pub fn check_custom(name: &str, event: &Value, p: &Value, endpoint: &LocalEndpoint) -> usize {
    let summary = &p["summary"];
    match name {
        "custom-ids.json" | "custom-arn.json" => {
            assert_eq!(p["success"], true, "{name}: {p}");
            assert_eq!(summary["deleted"], 1, "{name}: {p}");
            let media_id = event["mediaId"].as_str().unwrap();
            let seen = endpoint.seen_for(media_id);
            assert_eq!(seen.len(), 1, "{name}");
            assert_eq!(
                seen[0].phone_number_id.as_deref(),
                event["originationPhoneNumberId"].as_str()
            );
            if name == "custom-arn.json" {
                assert!(
                    seen[0].target.contains("=arn%3Aaws%3Asocial-messaging%3A")
                        && seen[0].target.contains("%3Aphone-number-id%2F"),
                    "{}",
                    seen[0].target
                );
            }
        }
        "custom-batch.json" => {
            assert_eq!(p["success"], false, "{p}");
            assert_eq!(summary["total"], 3);
            assert_eq!(summary["deleted"], 2);
            assert_eq!(summary["failed"], 1);
            assert_eq!(p["results"][2]["error"]["type"], "InvalidInput");
            assert!(endpoint.seen_for("not a media id").is_empty());
        }
        "custom-dry-run.json" => {
            assert_eq!(p["dryRun"], true);
            assert_eq!(summary["dryRun"], 2);
            for item in event["deletions"].as_array().unwrap() {
                assert!(endpoint
                    .seen_for(item["mediaId"].as_str().unwrap())
                    .is_empty());
            }
        }
        other => panic!("events/{other} has no expectations here: add them"),
    }
    p["results"].as_array().map_or(0, Vec::len)
}

/// Whether a sample names S3 objects to stage (`run_and_check`), rather than ids to check
/// with `check_custom`.
pub fn names_objects(name: &str) -> bool {
    !name.starts_with("custom-") || name == "custom-object.json"
}
