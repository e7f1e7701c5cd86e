//! The S3 flows under the IAM policy that template.yaml gives the function, as moto and the
//! fault proxy enforce it (`testkit::iam`): in both bucket modes, with the SQS buffer and
//! without, each writing its records to the erasure ledger (`s3:PutObject` under
//! `erasures/`, and nothing more). Every action the policy grants is needed by some flow (none is left unused),
//! and without any one of them some flow fails, as it would in a real account.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use testkit::iam::{self, Policy, Variant};
use testkit::rig::Rig;
use testkit::runtime_api::Answer;
use testkit::{PHONE, REGION};

/// What each flow ended as, by flow name.
type Outcomes = Vec<(&'static str, String)>;

/// The outcome of every flow under the full policy.
fn expected(variant: Variant) -> Outcomes {
    let mut outcomes = vec![
        (
            "custom event naming an object",
            "deleted, s3Object deleted".to_owned(),
        ),
        ("delete marker", "deleted".to_owned()),
        ("the same delete marker again", "alreadyDeleted".to_owned()),
        ("batch task for a missing object", "Succeeded".to_owned()),
        (
            "custom event retried after the object went",
            "deleted, s3Object alreadyAbsent".to_owned(),
        ),
    ];
    if variant.existing_bucket {
        outcomes.push((
            "custom event in a bucket never versioned",
            "deleted, s3Object deleted".to_owned(),
        ));
    }
    outcomes
}

/// The deletion event of `key`'s delete marker, as the variant delivers it: an S3
/// notification (created bucket) or an EventBridge event (existing bucket), straight or
/// in an SQS message of the buffer.
fn marker_event(variant: Variant, bucket: &str, key: &str, marker: &str) -> Value {
    let event = if variant.existing_bucket {
        json!({"version": "0", "id": "17793124-05d4-b198-2fde-7ededc63b103",
               "detail-type": "Object Deleted", "source": "aws.s3", "account": "123456789012",
               "time": "2026-12-01T00:00:00Z", "region": REGION,
               "resources": [format!("arn:aws:s3:::{bucket}")],
               "detail": {"version": "0", "bucket": {"name": bucket},
                          "object": {"key": key, "version-id": marker, "sequencer": "0062E99A88DC407460"},
                          "request-id": "N4N7GDK58NMKJ12R", "requester": "123456789012",
                          "reason": "DeleteObject", "deletion-type": "Delete Marker Created"}})
    } else {
        testkit::s3_notification(
            "ObjectRemoved:DeleteMarkerCreated",
            bucket,
            key,
            Some(marker),
        )
    };
    if !variant.sqs_buffer {
        return event;
    }
    json!({"Records": [{"messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
        "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a", "body": event.to_string(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1545082649183",
                       "SenderId": "AIDAIENQZJOLO23YVJ4VO", "ApproximateFirstReceiveTimestamp": "1545082649185"},
        "messageAttributes": {}, "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
        "eventSource": "aws:sqs", "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:buffer",
        "awsRegion": REGION}]})
}

/// One deletion's outcome from a custom event's payload, or what went wrong.
fn custom_outcome(answer: Answer) -> String {
    match answer {
        Answer::Response(p) if p.get("ledgerError").is_some() => {
            format!("not recorded: {}", p["ledgerError"])
        }
        Answer::Response(p) => {
            let r = &p["results"][0];
            match r["outcome"].as_str() {
                Some("failed") => format!("failed: {}", r["error"]),
                Some(outcome) => format!(
                    "{outcome}, s3Object {}",
                    r["s3Object"].as_str().unwrap_or("-")
                ),
                None => p.to_string(),
            }
        }
        Answer::Error(e) => format!("function error: {e}"),
    }
}

/// What a run of the flows showed: each flow's outcome, the actions the function's
/// requests needed, and each 403 they got.
struct Run {
    outcomes: Outcomes,
    used: BTreeSet<String>,
    denied: Vec<String>,
}

/// Runs every flow of `variant` under `policy`.
async fn run_flows(name: &str, variant: Variant, policy: &Policy) -> Run {
    let rig = Rig::start(
        name,
        &policy.for_buckets(&["media", "plain"]),
        &[("ERASURE_LEDGER_BUCKET", iam::LEDGER_BUCKET)],
    )
    .await;
    rig.bucket("media", true).await;
    testkit::ledger::create_bucket(&rig.s3, iam::LEDGER_BUCKET, 1).await;
    let mut outcomes = Vec::new();

    // A custom event naming the object: its ids are read from its tags, then the media and
    // that object version go.
    rig.put("media", "custom.jpg", Some(("mcustom", PHONE)), "x")
        .await;
    let answer = rig
        .invoke(json!({"deletions": [{"bucket": "media", "key": "custom.jpg"}]}))
        .await;
    outcomes.push(("custom event naming an object", custom_outcome(answer)));

    // A delete marker: the ids are read from the version it hid.
    rig.put("media", "marker.jpg", Some(("mmarker", PHONE)), "x")
        .await;
    let marker = rig
        .s3
        .delete_object()
        .bucket("media")
        .key("marker.jpg")
        .send()
        .await
        .unwrap()
        .version_id()
        .map(str::to_owned)
        .expect("a delete marker");
    let answer = rig
        .invoke(marker_event(variant, "media", "marker.jpg", &marker))
        .await;
    let seen = rig.media_seen().contains(&"mmarker".to_owned());
    let outcome = match answer {
        Answer::Response(p) if seen && p["batchItemFailures"] == json!([]) => "deleted".to_owned(),
        Answer::Response(p) if seen && p["results"][0]["outcome"] == "deleted" => {
            "deleted".to_owned()
        }
        Answer::Response(p) => format!("media sent: {seen}; {p}"),
        Answer::Error(e) => format!("function error: {e}"),
    };
    outcomes.push(("delete marker", outcome));

    // The same marker again, as Lambda retries an event: the media is found gone, once
    // GetLinkedWhatsAppBusinessAccountPhoneNumber said its phone number exists.
    let answer = rig
        .invoke(marker_event(variant, "media", "marker.jpg", &marker))
        .await;
    let asked = !rig
        .endpoint
        .seen_of("GetLinkedWhatsAppBusinessAccountPhoneNumber")
        .is_empty();
    let outcome = match answer {
        Answer::Response(p)
            if asked
                && (p["batchItemFailures"] == json!([])
                    || p["results"][0]["outcome"] == "alreadyDeleted") =>
        {
            "alreadyDeleted".to_owned()
        }
        Answer::Response(p) => format!("phone number asked: {asked}; {p}"),
        Answer::Error(e) => format!("function error: {e}"),
    };
    outcomes.push(("the same delete marker again", outcome));

    // A Batch Operations task for an object that is already gone: settled, not failed.
    let answer = rig
        .invoke(json!({"invocationSchemaVersion": "2.0", "invocationId": "i",
            "job": {"id": "j", "userArguments": {}},
            "tasks": [{"taskId": "t", "s3Bucket": "media", "s3Key": "gone.jpg", "s3VersionId": null}]}))
        .await;
    let outcome = match answer {
        Answer::Response(p) => p["results"][0]["resultCode"]
            .as_str()
            .map_or_else(|| p.to_string(), str::to_owned),
        Answer::Error(e) => format!("function error: {e}"),
    };
    outcomes.push(("batch task for a missing object", outcome));

    // A custom event retried after it deleted the object: the media id is known, and
    // the object is found gone.
    let retried = json!({"deletions": [{"mediaId": "mretried", "originationPhoneNumberId": PHONE,
                                        "bucket": "media", "key": "retried.jpg"}]});
    let answer = rig.invoke(retried).await;
    outcomes.push((
        "custom event retried after the object went",
        custom_outcome(answer),
    ));

    if variant.existing_bucket {
        // A bucket the team already has may never have been versioned: the current
        // object's tags are read, and it is deleted if it is still the one read.
        rig.bucket("plain", false).await;
        rig.put("plain", "plain.jpg", Some(("mplain", PHONE)), "x")
            .await;
        let answer = rig
            .invoke(json!({"deletions": [{"bucket": "plain", "key": "plain.jpg"}]}))
            .await;
        outcomes.push((
            "custom event in a bucket never versioned",
            custom_outcome(answer),
        ));
    }

    let mut used = rig.faults.used_actions();
    // Each social-messaging operation the endpoint answered needs its action.
    used.extend(
        rig.endpoint
            .seen()
            .iter()
            .filter_map(|s| s.operation)
            .map(|operation| format!("social-messaging:{operation}")),
    );
    Run {
        outcomes,
        used,
        denied: rig.faults.denied(),
    }
}

/// The actions the function itself calls S3 and the WhatsApp API with (the SQS ones are
/// for Lambda's poller and on-failure destination, which the harness does not run).
fn function_actions(policy: &Policy) -> BTreeSet<String> {
    policy
        .actions()
        .into_iter()
        .filter(|a| a.starts_with("s3:") || a.starts_with("social-messaging:"))
        .collect()
}

async fn check(variant: Variant, name: &str) {
    let policy = iam::function_policy(variant);
    let Run {
        outcomes,
        used,
        denied,
    } = run_flows(name, variant, &policy).await;
    assert_eq!(
        outcomes,
        expected(variant),
        "{variant:?} under the template's policy"
    );
    assert!(
        denied.is_empty(),
        "{variant:?}: denied under the template's policy: {denied:?}"
    );

    let granted = function_actions(&policy);
    let unused: Vec<&String> = granted.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "{variant:?}: the template grants actions that no flow needs: {unused:?}"
    );
    let ungranted: Vec<&String> = used.difference(&granted).collect();
    assert!(
        ungranted.is_empty(),
        "{variant:?}: flows needed actions the template does not grant: {ungranted:?}"
    );
}

/// For each action the function calls S3 with: without it, some flow fails.
async fn check_each_action_is_needed(variant: Variant, name: &str) {
    let policy = iam::function_policy(variant);
    let full = expected(variant);
    for action in function_actions(&policy) {
        if !action.starts_with("s3:") {
            // The local endpoint does not evaluate IAM: `check` fails instead when the
            // flows send a DELETE that the policy does not grant.
            continue;
        }
        let run = run_flows(
            &format!("{name}-without-{}", action.trim_start_matches("s3:")),
            variant,
            &policy.without(&action),
        )
        .await;
        let failed: Vec<String> = run
            .outcomes
            .iter()
            .zip(&full)
            .filter(|(got, want)| got != want)
            .map(|((flow, got), _)| format!("{flow}: {got}"))
            .collect();
        // A flow fails, and because S3 refused what the policy no longer grants.
        assert!(
            !failed.is_empty() && !run.denied.is_empty(),
            "{variant:?}: every flow still works without {action}, so the template need not grant it ({:?})",
            run.denied
        );
        eprintln!("{variant:?} without {action}: {failed:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn a_created_bucket_notifying_the_function() {
    check(Variant::DEFAULT, "iam-created").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn a_created_bucket_through_the_sqs_buffer() {
    let variant = Variant::CREATED_BUFFERED;
    check(variant, "iam-created-sqs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn an_existing_bucket_through_eventbridge() {
    let variant = Variant::EXISTING;
    check(variant, "iam-existing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn an_existing_bucket_through_eventbridge_and_the_sqs_buffer() {
    let variant = Variant::EXISTING_BUFFERED;
    check(variant, "iam-existing-sqs").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn each_s3_action_of_a_created_bucket_is_needed() {
    check_each_action_is_needed(Variant::DEFAULT, "iam-created").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn each_s3_action_of_an_existing_bucket_is_needed() {
    let variant = Variant::EXISTING;
    check_each_action_is_needed(variant, "iam-existing").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto and the SAM CLI: run make test"]
async fn the_ledger_may_write_under_its_prefix_only() {
    let policy = iam::function_policy(Variant::DEFAULT).for_buckets(&["media"]);
    let rig = Rig::start(
        "iam-ledger-prefix",
        &policy,
        &[
            ("ERASURE_LEDGER_BUCKET", iam::LEDGER_BUCKET),
            ("ERASURE_LEDGER_PREFIX", "elsewhere/"),
        ],
    )
    .await;
    rig.bucket("media", true).await;
    testkit::ledger::create_bucket(&rig.s3, iam::LEDGER_BUCKET, 1).await;
    rig.put("media", "k.jpg", Some(("mprefix", PHONE)), "x")
        .await;
    let answer = rig.invoke(json!({"bucket": "media", "key": "k.jpg"})).await;
    assert_eq!(
        custom_outcome(answer).split(':').next(),
        Some("not recorded"),
        "a record outside erasures/ was written"
    );
    assert!(testkit::ledger::records(&rig.s3, iam::LEDGER_BUCKET, "")
        .await
        .is_empty());
}
