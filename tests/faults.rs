//! The fault matrix, against the real binary: the local social-messaging endpoint misbehaves
//! (every API error, 5xx storms, a hang, a refused connection, a reset mid-response,
//! `{"success": false}`, empty and HTML bodies), S3 fails (403 and 500 on HeadObject,
//! GetObjectTagging and ListObjectVersions, a DeleteObject failing after the media is gone, through a proxy in
//! front of moto), and the credentials provider hands out expired credentials. In each case
//! the payload, the function error and the logs say what happened, no item is dropped, and
//! a retry of the same event converges.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{json, Value};
use testkit::endpoint::{LocalEndpoint, Reply};
use testkit::moto::Moto;
use testkit::runtime_api::{Answer, Function};
use testkit::s3_faults::{Operation, S3Faults};
use testkit::PHONE;

/// (media id, replies, expected error type, HTTP status, attempts, retryable)
type Case = (
    &'static str,
    Vec<Reply>,
    &'static str,
    Option<u16>,
    u64,
    bool,
);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup"))
}

fn log_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{name}-function.log"))
}

async fn endpoint() -> LocalEndpoint {
    LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap()
}

fn ids(media_id: &str) -> Value {
    json!({"mediaId": media_id, "originationPhoneNumberId": PHONE})
}

fn response(answer: Answer) -> Value {
    match answer {
        Answer::Response(r) => r,
        Answer::Error(e) => panic!("expected a payload, got the function error {e}"),
    }
}

/// The warn line logged for a failed item of `media_id`.
fn failure_logged(log: &Path, media_id: &str) -> Value {
    let logs = std::fs::read_to_string(log).unwrap();
    logs.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| {
            // A plain value, as CloudWatch Logs Insights filters on it.
            l["fields"]["message"] == "media item failed" && l["fields"]["media_id"] == media_id
        })
        .unwrap_or_else(|| panic!("no failure logged for {media_id}:\n{logs}"))
}

fn marker_event(bucket: &str, key: &str, marker: &str) -> Value {
    testkit::s3_notification(
        "ObjectRemoved:DeleteMarkerCreated",
        bucket,
        key,
        Some(marker),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_misbehaving_in_every_way() {
    let endpoint = endpoint().await;
    let log = log_path("api");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[("MAX_ATTEMPTS", "3"), ("AWS_LAMBDA_LOG_FORMAT", "JSON")],
        &log,
    )
    .await;
    let cases: Vec<Case> = vec![
        (
            "validation",
            vec![Reply::error(400, "ValidationException", "bad")],
            "ValidationException",
            Some(400),
            1,
            false,
        ),
        (
            "params",
            vec![Reply::error(400, "InvalidParametersException", "bad")],
            "InvalidParametersException",
            Some(400),
            1,
            false,
        ),
        (
            "denied",
            vec![Reply::error(403, "AccessDeniedException", "no")],
            "AccessDeniedException",
            Some(403),
            1,
            false,
        ),
        (
            "meta",
            vec![Reply::error(403, "AccessDeniedByMetaException", "no")],
            "AccessDeniedByMetaException",
            Some(403),
            1,
            false,
        ),
        (
            "throttled",
            vec![Reply::error(429, "ThrottledRequestException", "slow"); 3],
            "ThrottledRequestException",
            Some(429),
            3,
            true,
        ),
        (
            "internal",
            vec![Reply::error(500, "InternalServiceException", "boom"); 3],
            "InternalServiceException",
            Some(500),
            3,
            true,
        ),
        (
            "dependency",
            vec![Reply::error(502, "DependencyException", "meta down"); 3],
            "DependencyException",
            Some(502),
            3,
            true,
        ),
        (
            "falsy",
            vec![Reply::body(200, r#"{"success":false}"#)],
            "UnexpectedResponse",
            Some(200),
            1,
            false,
        ),
        (
            "empty",
            vec![Reply::body(200, "")],
            "UnexpectedResponse",
            Some(200),
            1,
            false,
        ),
        (
            "html",
            vec![Reply::body(502, "<html><h1>502 Bad Gateway</h1></html>"); 3],
            "UnexpectedResponse",
            Some(502),
            3,
            true,
        ),
        (
            "reset",
            vec![Reply::Truncated; 3],
            "NetworkError",
            None,
            3,
            true,
        ),
    ];
    let mut deletions = Vec::new();
    for (media_id, replies, ..) in &cases {
        endpoint.script(media_id, replies.clone());
        deletions.push(ids(media_id));
    }
    // A reset followed by an answer recovers on the retry.
    endpoint.script("resetonce", [Reply::Truncated]);
    deletions.push(ids("resetonce"));

    let payload = response(
        function
            .api
            .invoke_raw(json!({ "deletions": deletions }).to_string().into_bytes())
            .await
            .0,
    );
    assert_eq!(
        payload["summary"]["total"],
        cases.len() + 1,
        "no item is dropped"
    );
    for (i, (media_id, _, error_type, status, attempts, retryable)) in cases.iter().enumerate() {
        let result = &payload["results"][i];
        assert_eq!(result["outcome"], "failed", "{media_id}: {result}");
        assert_eq!(result["error"]["type"], *error_type, "{media_id}");
        assert_eq!(
            result["error"]["httpStatus"].as_u64().map(|s| s as u16),
            *status,
            "{media_id}"
        );
        assert_eq!(result["attempts"], *attempts, "{media_id}");
        assert_eq!(result["error"]["retryable"], *retryable, "{media_id}");
        let line = failure_logged(&log, media_id);
        assert_eq!(line["fields"]["error_type"], *error_type, "{media_id}");
    }
    assert_eq!(payload["results"][cases.len()]["outcome"], "deleted");
    assert_eq!(payload["results"][cases.len()]["attempts"], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_endpoint_is_cut_before_the_deadline_and_a_refused_one_retried() {
    let endpoint = endpoint().await;
    let log = log_path("hang");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[
            ("REQUEST_TIMEOUT_MS", "60000"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
        &log,
    )
    .await;
    endpoint.script("hung", [Reply::Hang, Reply::Hang]);
    let limit = Duration::from_secs(3);
    function.api.set_time_limit(limit);
    let (answer, took) = function
        .api
        .invoke_raw(ids("hung").to_string().into_bytes())
        .await;
    let payload = response(answer);
    assert!(
        took < limit,
        "answered after {took:?}: Lambda would have killed it"
    );
    assert_eq!(
        payload["results"][0]["error"]["type"], "Timeout",
        "{payload}"
    );
    assert_eq!(
        failure_logged(&log, "hung")["fields"]["error_type"],
        "Timeout"
    );
    drop(function);

    // Nobody listening: a retryable NetworkError after MAX_ATTEMPTS.
    let refused = format!("http://127.0.0.1:{}", testkit::free_port());
    let function = Function::spawn(binary(), &refused, &[], &log_path("refused")).await;
    let payload = response(
        function
            .api
            .invoke_raw(ids("refused").to_string().into_bytes())
            .await
            .0,
    );
    let result = &payload["results"][0];
    assert_eq!(result["error"]["type"], "NetworkError", "{result}");
    assert_eq!(result["error"]["retryable"], true);
    assert_eq!(result["attempts"], 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn a_5xx_storm_fails_the_async_event_and_its_retry_converges() {
    let moto = Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "media", true).await;
    for key in ["storm.jpg", "calm.jpg"] {
        s3.put_object()
            .bucket("media")
            .key(key)
            .metadata("whatsapp-media-id", key.trim_end_matches(".jpg"))
            .metadata("whatsapp-origination-phone-number-id", PHONE)
            .body(b"x".to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let mut records = Vec::new();
    for key in ["storm.jpg", "calm.jpg"] {
        let marker = s3
            .delete_object()
            .bucket("media")
            .key(key)
            .send()
            .await
            .unwrap();
        records
            .push(marker_event("media", key, marker.version_id().unwrap())["Records"][0].clone());
    }
    let event = json!({ "Records": records }).to_string().into_bytes();
    let endpoint = endpoint().await;
    endpoint.script(
        "storm",
        (0..3).map(|_| Reply::error(503, "ServiceUnavailableException", "down")),
    );
    let log = log_path("storm");
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

    match function.api.invoke_raw(event.clone()).await.0 {
        Answer::Error(error) => {
            assert_eq!(error["errorType"], "ItemsFailed", "{error}");
            let message = error["errorMessage"].as_str().unwrap();
            assert!(
                message.contains("1 of 2") && message.contains("storm"),
                "{message}"
            );
        }
        Answer::Response(r) => panic!("a retryable failure must fail the invocation: {r}"),
    }
    assert_eq!(
        endpoint.seen_for("storm").len(),
        3,
        "attempts bounded by MAX_ATTEMPTS"
    );
    assert_eq!(
        failure_logged(&log, "storm")["fields"]["error_type"],
        "ServiceUnavailableException"
    );

    // Lambda's retry of the same event: the storm is over, the done item is alreadyDeleted.
    let payload = response(function.api.invoke_raw(event).await.0);
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][1]["outcome"], "alreadyDeleted");
    assert_eq!(payload["success"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto: run make test"]
async fn s3_failures_are_reported_and_retries_converge() {
    let moto = Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "media", true).await;
    let put = |key: &'static str| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket("media")
                .key(key)
                .metadata(
                    "whatsapp-media-id",
                    key.trim_end_matches(".jpg").replace('-', ""),
                )
                .metadata("whatsapp-origination-phone-number-id", PHONE)
                .body(b"x".to_vec().into())
                .send()
                .await
                .unwrap()
                .version_id()
                .map(str::to_owned)
        }
    };
    let faults = S3Faults::start(&moto.url).await;
    let endpoint = endpoint().await;
    let log = log_path("s3");
    let function = Function::spawn(
        binary(),
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &faults.url),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
        &log,
    )
    .await;
    let invoke = |event: Value| {
        let bytes = event.to_string().into_bytes();
        let api = &function.api;
        async move { api.invoke_raw(bytes).await.0 }
    };

    // 403 on HeadObject: a permanent MetadataLookupFailed; nothing is sent or deleted.
    put("denied.jpg").await;
    faults.fail(Operation::HeadObject, 403);
    let payload = response(invoke(json!({"bucket": "media", "key": "denied.jpg"})).await);
    let result = &payload["results"][0];
    assert_eq!(result["error"]["type"], "MetadataLookupFailed", "{result}");
    assert_eq!(result["error"]["retryable"], false);
    assert_eq!(result["error"]["httpStatus"], 403);
    faults.heal();

    // 500 on HeadObject: retryable.
    faults.fail(Operation::HeadObject, 500);
    let payload = response(invoke(json!({"bucket": "media", "key": "denied.jpg"})).await);
    assert_eq!(
        payload["results"][0]["error"]["retryable"], true,
        "{payload}"
    );
    faults.heal();
    assert!(endpoint.seen().is_empty());

    // 500 on ListObjectVersions for a delete marker: the async event fails, then converges.
    put("listed.jpg").await;
    let marker = s3
        .delete_object()
        .bucket("media")
        .key("listed.jpg")
        .send()
        .await
        .unwrap();
    let event = marker_event("media", "listed.jpg", marker.version_id().unwrap());
    faults.fail(Operation::ListObjectVersions, 500);
    match invoke(event.clone()).await {
        Answer::Error(error) => assert_eq!(error["errorType"], "ItemsFailed", "{error}"),
        Answer::Response(r) => panic!("expected a retryable function error: {r}"),
    }
    faults.heal();
    let payload = response(invoke(event).await);
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");

    // 403 on ListObjectVersions: permanent, and still a function error, so that Lambda
    // sends the event to the failure destination, where it can be redriven once the role
    // is mended (a payload would be taken for a success and dropped).
    put("forbidden.jpg").await;
    let marker = s3
        .delete_object()
        .bucket("media")
        .key("forbidden.jpg")
        .send()
        .await
        .unwrap();
    faults.fail(Operation::ListObjectVersions, 403);
    let event = marker_event("media", "forbidden.jpg", marker.version_id().unwrap());
    match invoke(event.clone()).await {
        Answer::Error(error) => {
            assert_eq!(error["errorType"], "ItemsFailed", "{error}");
            let message = error["errorMessage"].as_str().unwrap();
            assert!(
                message.contains("(0 may succeed if retried)")
                    && message.contains("MetadataLookupFailed"),
                "{message}"
            );
        }
        Answer::Response(r) => panic!("a permanent failure must fail the invocation too: {r}"),
    }
    faults.heal();
    let payload = response(invoke(event).await);
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");

    // GetObjectTagging denied (a role without s3:GetObjectVersionTagging): permanent, and
    // nothing is sent; a 500 there is retryable, and the retry converges.
    s3.put_object()
        .bucket("media")
        .key("tagged.jpg")
        .body(b"x".to_vec().into())
        .send()
        .await
        .unwrap();
    testkit::moto::tag_ids(&s3, "media", "tagged.jpg", None, "taggedmedia", PHONE).await;
    faults.fail(Operation::GetObjectTagging, 403);
    let payload = response(invoke(json!({"bucket": "media", "key": "tagged.jpg"})).await);
    let result = &payload["results"][0];
    assert_eq!(result["error"]["type"], "MetadataLookupFailed", "{result}");
    assert_eq!(result["error"]["retryable"], false);
    assert!(result["error"]["message"]
        .as_str()
        .unwrap()
        .contains("GetObjectTagging"));
    faults.heal();
    faults.fail(Operation::GetObjectTagging, 500);
    let payload = response(invoke(json!({"bucket": "media", "key": "tagged.jpg"})).await);
    assert_eq!(
        payload["results"][0]["error"]["retryable"], true,
        "{payload}"
    );
    assert!(endpoint.seen_for("taggedmedia").is_empty());
    faults.heal();
    let payload = response(invoke(json!({"bucket": "media", "key": "tagged.jpg"})).await);
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["s3Object"], "deleted", "{payload}");

    // DeleteObject fails after the media is gone: a TemporaryFailure; S3's retry converges.
    let version = put("batch-item.jpg").await;
    let job = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv", "job": {"id": "j"},
        "tasks": [{"taskId": "t1", "s3Key": "batch-item.jpg", "s3VersionId": version,
                   "s3BucketArn": "arn:aws:s3:::media"}]});
    faults.fail(Operation::DeleteObject, 500);
    let first = response(invoke(job.clone()).await);
    assert_eq!(
        first["results"][0]["resultCode"], "TemporaryFailure",
        "{first}"
    );
    assert!(first["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .starts_with("S3DeleteFailed"));
    assert_eq!(
        failure_logged(&log, "batchitem")["fields"]["error_type"],
        "S3DeleteFailed"
    );
    faults.heal();
    let second = response(invoke(job).await);
    assert_eq!(second["results"][0]["resultCode"], "Succeeded", "{second}");
    assert!(second["results"][0]["resultString"]
        .as_str()
        .unwrap()
        .contains("already deleted; S3 object deleted"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_credentials_from_the_provider_are_a_clear_retryable_failure() {
    // A container credentials endpoint (as ECS and Lambda SnapStart use) that hands out
    // credentials which expired long ago.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut stream, _)) = listener.accept().await {
            let mut buffer = [0u8; 4096];
            let _ = stream.read(&mut buffer).await;
            let body = json!({"AccessKeyId": testkit::ACCESS_KEY_ID, "SecretAccessKey": testkit::SECRET_ACCESS_KEY,
                              "Token": testkit::SESSION_TOKEN, "Expiration": "2020-01-01T00:00:00Z"}).to_string();
            let reply = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(reply.as_bytes()).await;
        }
    });
    let endpoint = endpoint().await;
    let env: Vec<(String, String)> = [
        ("AWS_REGION", testkit::REGION.to_owned()),
        ("AWS_ENDPOINT_URL_SOCIALMESSAGING", endpoint.url()),
        (
            "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            format!("http://{address}/credentials"),
        ),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let log = log_path("credentials");
    let function = Function::spawn_with_env(binary(), env, &log).await;
    let payload = response(
        function
            .api
            .invoke_raw(ids("expired").to_string().into_bytes())
            .await
            .0,
    );
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed", "{payload}");
    assert_eq!(result["error"]["type"], "CredentialsError", "{result}");
    assert_eq!(result["error"]["retryable"], true);
    assert!(
        endpoint.seen().is_empty(),
        "nothing may be sent with expired credentials"
    );
    // Nothing went on the wire: no attempt, no latency, no retry, whatever was tried.
    assert_eq!(result["attempts"], 0, "{result}");
    let line = failure_logged(&log, "expired");
    assert_eq!(line["fields"]["error_type"], "CredentialsError");
    assert_eq!(line["fields"]["attempts"], 0);
    let logs = std::fs::read_to_string(&log).unwrap();
    let emf = testkit::emf_documents(&logs);
    assert_eq!(emf.len(), 1, "one EMF document per invocation: {logs}");
    assert_eq!(emf[0]["Failed"], 1, "{}", emf[0]);
    for metric in ["Retries", "ApiLatency"] {
        assert!(emf[0].get(metric).is_none(), "{metric} in {}", emf[0]);
    }
    testkit::assert_no_secrets(&logs);
}
