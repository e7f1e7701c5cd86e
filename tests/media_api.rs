//! The real `WhatsAppClient` against the local endpoint, which checks every request's SigV4
//! signature from the raw request: the contract's error table, retries, the deadline, ARNs,
//! dry runs and invalid ids, all through the handler as Lambda calls it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use testkit::endpoint::{LocalEndpoint, Reply};
use testkit::{PHONE, PHONE_ARN, REGION};
use whatsapp_media_cleanup::config::Config;
use whatsapp_media_cleanup::{handle, App, S3Store, WhatsAppClient};

struct Fixture {
    endpoint: LocalEndpoint,
    app: App<WhatsAppClient, S3Store>,
}

async fn fixture(env: &[(&str, &str)]) -> Fixture {
    fixture_with(env, testkit::SECRET_ACCESS_KEY, Duration::ZERO).await
}

async fn fixture_with(env: &[(&str, &str)], secret: &str, latency: Duration) -> Fixture {
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), REGION, latency)
        .await
        .unwrap();
    let (config, media) = testkit::media_client(env, &endpoint.url(), secret);
    Fixture {
        endpoint,
        app: App {
            config,
            media,
            store: no_s3(),
        },
    }
}

/// These events name no S3 objects; a store that points nowhere proves none is touched.
fn no_s3() -> S3Store {
    let config = aws_sdk_s3::Config::builder()
        .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
        .region(aws_sdk_s3::config::Region::new(REGION))
        .endpoint_url(format!("http://127.0.0.1:{}", testkit::free_port()))
        .credentials_provider(Credentials::new("x", "y", None, None, "none"))
        .build();
    S3Store::new(aws_sdk_s3::Client::from_conf(config))
}

fn context(time_left: Duration) -> Context {
    let mut context = Context::default();
    let deadline = SystemTime::now() + time_left;
    context.deadline = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    context
}

impl Fixture {
    async fn invoke(&self, event: Value) -> Value {
        self.invoke_within(event, Duration::from_secs(30)).await
    }

    async fn invoke_within(&self, event: Value, time_left: Duration) -> Value {
        let answer = handle(&self.app, LambdaEvent::new(event, context(time_left)))
            .await
            .expect("custom events always return a payload");
        serde_json::to_value(answer).unwrap()
    }
}

fn ids(media_id: &str) -> Value {
    json!({"mediaId": media_id, "originationPhoneNumberId": PHONE})
}

#[test]
fn endpoint_verifier_matches_aws_test_vectors() {
    testkit::sigv4::vectors::check_known_answers();
}

#[tokio::test]
async fn deletes_with_a_signed_request_carrying_the_session_token() {
    let f = fixture(&[]).await;
    let payload = f.invoke(ids("media1")).await;
    assert_eq!(
        payload,
        json!({
            "success": true, "dryRun": false,
            "summary": {"total": 1, "deleted": 1, "alreadyDeleted": 0, "failed": 0, "skipped": 0, "dryRun": 0},
            "results": [{"mediaId": "media1", "originationPhoneNumberId": PHONE, "outcome": "deleted", "attempts": 1}]
        })
    );
    let seen = f.endpoint.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "DELETE");
    assert_eq!(
        seen[0].target,
        format!("/v1/whatsapp/media?mediaId=media1&originationPhoneNumberId={PHONE}")
    );
    assert_eq!(seen[0].signature, Ok(()));
    assert_eq!(
        seen[0].header("x-amz-security-token"),
        Some(testkit::SESSION_TOKEN)
    );
    assert_eq!(
        seen[0].header("host"),
        Some(f.endpoint.addr.to_string().as_str())
    );
}

#[tokio::test]
async fn a_second_delete_of_the_same_media_is_already_deleted() {
    let f = fixture(&[]).await;
    f.invoke(ids("media2")).await;
    let payload = f.invoke(ids("media2")).await;
    assert_eq!(payload["results"][0]["outcome"], "alreadyDeleted");
    assert_eq!(payload["results"][0]["attempts"], 1);
    assert_eq!(payload["success"], true);
}

#[tokio::test]
async fn a_not_found_of_an_unknown_phone_number_is_a_failure_never_already_deleted() {
    let f = fixture(&[]).await;
    let unknown = "phone-number-id-00000000000000000000000000000bad";
    f.endpoint.unlink(unknown);
    let event = |media_id: &str, phone: &str| json!({"mediaId": media_id, "originationPhoneNumberId": phone});
    let payload = f
        .invoke(json!({"deletions": [event("lost1", unknown), event("lost2", unknown)]}))
        .await;
    assert_eq!(payload["success"], false);
    for result in payload["results"].as_array().unwrap() {
        assert_eq!(result["outcome"], "failed", "{result}");
        assert_eq!(result["error"]["type"], "UnknownPhoneNumber");
        assert_eq!(result["error"]["httpStatus"], 404);
        assert_eq!(result["error"]["retryable"], false);
        assert!(result["error"]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("phone number {unknown} does not exist")));
        assert_eq!(result["attempts"], 1, "the lookup is not a DELETE attempt");
    }
    // Asked once for the instance, signed like the DELETE, and remembered.
    let lookups = f
        .endpoint
        .seen_of("GetLinkedWhatsAppBusinessAccountPhoneNumber");
    assert_eq!(lookups.len(), 1, "{lookups:?}");
    assert_eq!(lookups[0].method, "GET");
    assert_eq!(
        lookups[0].target,
        format!("/v1/whatsapp/waba/phone/details?id={unknown}")
    );
    assert_eq!(lookups[0].signature, Ok(()));
    assert_eq!(
        payload["results"][0]["error"]["requestId"].as_str(),
        lookups[0].request_id.as_deref(),
        "the evidence is the lookup's answer"
    );

    // A known phone number's 404 stays alreadyDeleted, asked once too.
    f.endpoint.script(
        "gone1",
        [Reply::error(404, "ResourceNotFoundException", "x")],
    );
    f.endpoint.script(
        "gone2",
        [Reply::error(404, "ResourceNotFoundException", "x")],
    );
    let payload = f
        .invoke(json!({"deletions": [ids("gone1"), ids("gone2")]}))
        .await;
    assert_eq!(payload["summary"]["alreadyDeleted"], 2, "{payload}");
    assert_eq!(
        f.endpoint
            .seen_of("GetLinkedWhatsAppBusinessAccountPhoneNumber")
            .len(),
        2
    );
}

#[tokio::test]
async fn a_phone_lookup_that_fails_fails_the_item_with_its_cause() {
    let f = fixture(&[("MAX_ATTEMPTS", "2")]).await;
    for media in ["gone1", "gone2"] {
        f.endpoint
            .script(media, [Reply::error(404, "ResourceNotFoundException", "x")]);
    }
    // A role without the permission, then a service fault on every try.
    f.endpoint.script_phone(
        PHONE,
        [Reply::error(403, "AccessDeniedException", "not allowed")],
    );
    let payload = f.invoke(ids("gone1")).await;
    let error = &payload["results"][0]["error"];
    assert_eq!(payload["results"][0]["outcome"], "failed", "{payload}");
    assert_eq!(error["type"], "AccessDeniedException");
    assert_eq!(error["retryable"], false);
    assert!(error["message"].as_str().unwrap().contains(&format!(
        "whether phone number {PHONE} exists could not be read"
    )));
    f.endpoint.script_phone(
        PHONE,
        (0..2).map(|_| Reply::error(500, "InternalServiceException", "boom")),
    );
    let payload = f.invoke(ids("gone2")).await;
    assert_eq!(
        payload["results"][0]["error"]["type"],
        "InternalServiceException"
    );
    assert_eq!(payload["results"][0]["error"]["retryable"], true);
    // A 2xx that does not name the number (a proxy, a wrong endpoint) proves nothing.
    f.endpoint.script(
        "gone3",
        [Reply::error(404, "ResourceNotFoundException", "x")],
    );
    f.endpoint
        .script_phone(PHONE, [Reply::body(200, r#"{"ok": true}"#)]);
    let payload = f.invoke(ids("gone3")).await;
    assert_eq!(payload["results"][0]["outcome"], "failed", "{payload}");
    assert_eq!(payload["results"][0]["error"]["type"], "UnexpectedResponse");
    assert_eq!(payload["results"][0]["error"]["retryable"], false);
    // Nothing failed was remembered: the next answer is asked for again.
    assert_eq!(
        f.endpoint
            .seen_of("GetLinkedWhatsAppBusinessAccountPhoneNumber")
            .len(),
        4
    );
}

#[tokio::test]
async fn arn_phone_ids_are_sent_encoded_exactly_as_signed() {
    let f = fixture(&[]).await;
    let payload = f
        .invoke(json!({"mediaId": "arnmedia", "originationPhoneNumberId": PHONE_ARN}))
        .await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    let seen = f.endpoint.seen_for("arnmedia");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].signature, Ok(()));
    assert_eq!(
        seen[0].target,
        "/v1/whatsapp/media?mediaId=arnmedia&originationPhoneNumberId=\
         arn%3Aaws%3Asocial-messaging%3Aus-east-1%3A123456789012%3Aphone-number-id%2F0123456789abcdef0123456789abcdef"
    );
    assert_eq!(seen[0].phone_number_id.as_deref(), Some(PHONE_ARN));
}

#[tokio::test]
async fn every_error_in_the_contract_table() {
    // (code, status, retried)
    let table = [
        ("ValidationException", 400, false),
        ("InvalidParametersException", 400, false),
        ("AccessDeniedException", 403, false),
        ("AccessDeniedByMetaException", 403, false),
        ("ThrottledRequestException", 429, true),
        ("InternalServiceException", 500, true),
        ("DependencyException", 502, true),
        ("ServiceUnavailableException", 503, true),
    ];
    let f = fixture(&[("MAX_ATTEMPTS", "3")]).await;
    let mut deletions = Vec::new();
    for (i, (code, status, _)) in table.iter().enumerate() {
        let media_id = format!("err{i}");
        f.endpoint.script(
            &media_id,
            (0..3).map(|_| Reply::error(*status, code, &format!("{code} happened"))),
        );
        deletions.push(ids(&media_id));
    }
    f.endpoint.script(
        "gone",
        [Reply::error(
            404,
            "ResourceNotFoundException",
            "Media not found",
        )],
    );
    deletions.push(ids("gone"));

    let payload = f.invoke(json!({ "deletions": deletions })).await;
    assert_eq!(payload["success"], false);
    assert_eq!(payload["summary"]["failed"], table.len());
    assert_eq!(payload["summary"]["alreadyDeleted"], 1);
    for (i, (code, status, retried)) in table.iter().enumerate() {
        let result = &payload["results"][i];
        let attempts = if *retried { 3 } else { 1 };
        assert_eq!(result["outcome"], "failed", "{code}");
        assert_eq!(result["attempts"], attempts, "{code}");
        assert_eq!(result["error"]["type"], *code);
        assert_eq!(result["error"]["httpStatus"], *status);
        assert_eq!(result["error"]["message"], format!("{code} happened"));
        assert_eq!(result["error"]["retryable"], *retried, "{code}");
        assert!(
            result["error"]["requestId"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{code}: {result}"
        );
        assert_eq!(
            f.endpoint.seen_for(&format!("err{i}")).len(),
            attempts,
            "{code}"
        );
    }
    let gone = &payload["results"][table.len()];
    assert_eq!(gone["outcome"], "alreadyDeleted");
    assert!(gone.get("error").is_none());
}

#[tokio::test]
async fn a_throttle_then_success_takes_two_attempts() {
    let f = fixture(&[]).await;
    f.endpoint.script(
        "throttled",
        [Reply::error(
            429,
            "ThrottledRequestException",
            "Rate exceeded",
        )],
    );
    let payload = f.invoke(ids("throttled")).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted");
    assert_eq!(payload["results"][0]["attempts"], 2);
    assert_eq!(f.endpoint.seen_for("throttled").len(), 2);
}

#[tokio::test]
async fn a_500_storm_is_bounded_by_max_attempts() {
    let f = fixture(&[("MAX_ATTEMPTS", "4")]).await;
    f.endpoint.script(
        "storm",
        (0..10).map(|_| Reply::error(500, "InternalServiceException", "boom")),
    );
    let payload = f.invoke(ids("storm")).await;
    assert_eq!(payload["results"][0]["outcome"], "failed");
    assert_eq!(payload["results"][0]["attempts"], 4);
    assert_eq!(
        payload["results"][0]["error"]["type"],
        "InternalServiceException"
    );
    assert_eq!(f.endpoint.seen_for("storm").len(), 4);
}

#[tokio::test]
async fn unexpected_answers_are_failures_and_only_server_side_ones_are_retried() {
    let f = fixture(&[("MAX_ATTEMPTS", "2")]).await;
    f.endpoint
        .script("falsy", [Reply::body(200, r#"{"success":false}"#)]);
    f.endpoint.script("empty", [Reply::body(200, "")]);
    f.endpoint.script(
        "proxy404",
        [Reply::body(404, "<html><body>Not Found</body></html>")],
    );
    f.endpoint.script(
        "html502",
        (0..2).map(|_| Reply::body(502, "<html><body>Bad Gateway</body></html>")),
    );
    let payload = f
        .invoke(json!({"deletions": [ids("falsy"), ids("empty"), ids("proxy404"), ids("html502")]}))
        .await;
    let results = payload["results"].as_array().unwrap();
    for (result, status, attempts, retryable) in [
        (&results[0], 200, 1, false),
        (&results[1], 200, 1, false),
        (&results[2], 404, 1, false),
        (&results[3], 502, 2, true),
    ] {
        assert_eq!(result["outcome"], "failed", "{result}");
        assert_eq!(result["error"]["type"], "UnexpectedResponse", "{result}");
        assert_eq!(result["error"]["httpStatus"], status, "{result}");
        assert_eq!(result["attempts"], attempts, "{result}");
        assert_eq!(result["error"]["retryable"], retryable, "{result}");
    }
    assert!(results[2]["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Not Found"));
}

#[tokio::test]
async fn a_hung_endpoint_is_cut_before_the_deadline() {
    let f = fixture(&[("REQUEST_TIMEOUT_MS", "60000")]).await;
    f.endpoint.script("hung", (0..5).map(|_| Reply::Hang));
    let time_left = Duration::from_millis(2500);
    let started = Instant::now();
    let payload = f.invoke_within(ids("hung"), time_left).await;
    let took = started.elapsed();
    assert!(
        took < time_left,
        "returned after {took:?}, past the deadline"
    );
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed");
    assert_eq!(result["error"]["type"], "Timeout");
    assert_eq!(result["error"]["retryable"], true);
    // No retry was started that could not have finished in time.
    assert_eq!(result["attempts"], 1);
}

#[tokio::test]
async fn each_attempt_is_bounded_by_request_timeout() {
    let f = fixture(&[("REQUEST_TIMEOUT_MS", "200"), ("MAX_ATTEMPTS", "3")]).await;
    f.endpoint.script("slow", (0..3).map(|_| Reply::Hang));
    let payload = f.invoke(ids("slow")).await;
    assert_eq!(payload["results"][0]["error"]["type"], "Timeout");
    assert_eq!(payload["results"][0]["attempts"], 3);
    assert_eq!(f.endpoint.seen_for("slow").len(), 3);
}

#[tokio::test]
async fn no_attempt_starts_when_the_deadline_is_too_close() {
    let f = fixture(&[]).await;
    let payload = f
        .invoke_within(ids("late"), Duration::from_millis(200))
        .await;
    assert_eq!(payload["results"][0]["error"]["type"], "Timeout");
    assert_eq!(payload["results"][0]["attempts"], 0);
    assert!(f.endpoint.seen().is_empty());
}

#[tokio::test]
async fn a_dropped_connection_is_a_retried_network_error() {
    let f = fixture(&[("MAX_ATTEMPTS", "2")]).await;
    f.endpoint.script("dropped", [Reply::Close]);
    let payload = f.invoke(ids("dropped")).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted", "{payload}");
    assert_eq!(payload["results"][0]["attempts"], 2);
}

#[tokio::test]
async fn connection_refused_is_a_retryable_network_error() {
    // A client pointed at a port nobody listens on, with the default MAX_ATTEMPTS (3).
    let port = testkit::free_port();
    let config = Config::from_lookup(|name| {
        (name == "AWS_ENDPOINT_URL_SOCIALMESSAGING").then(|| format!("http://127.0.0.1:{port}"))
    })
    .unwrap();
    let credentials = Credentials::new("AKID", "secret", None, None, "test");
    let media = WhatsAppClient::new(
        config.media_api(REGION).unwrap(),
        SharedCredentialsProvider::new(credentials),
    )
    .unwrap();
    let app = App {
        config,
        media,
        store: no_s3(),
    };
    let answer = handle(
        &app,
        LambdaEvent::new(ids("refused"), context(Duration::from_secs(10))),
    )
    .await
    .unwrap();
    let payload = serde_json::to_value(answer).unwrap();
    let result = &payload["results"][0];
    assert_eq!(result["error"]["type"], "NetworkError", "{result}");
    assert_eq!(result["error"]["retryable"], true);
    assert_eq!(result["attempts"], 3);
}

#[tokio::test]
async fn a_wrong_signature_is_rejected_by_the_endpoint() {
    let f = fixture_with(&[], "not-the-secret", Duration::ZERO).await;
    let payload = f.invoke(ids("forged")).await;
    let result = &payload["results"][0];
    assert_eq!(result["outcome"], "failed");
    assert_eq!(result["error"]["type"], "InvalidSignatureException");
    assert_eq!(result["error"]["httpStatus"], 403);
    assert_eq!(result["attempts"], 1);
    assert_eq!(
        f.endpoint.seen()[0].signature,
        Err("InvalidSignatureException".to_owned())
    );
}

#[tokio::test]
async fn dry_runs_send_nothing() {
    let f = fixture(&[]).await;
    let payload = f
        .invoke(json!({"dryRun": true, "deletions": [ids("dry1"), ids("bad id")]}))
        .await;
    assert_eq!(payload["dryRun"], true);
    assert_eq!(payload["summary"]["dryRun"], 1);
    assert_eq!(payload["summary"]["failed"], 1);
    assert_eq!(payload["results"][0]["outcome"], "dryRun");

    // DRY_RUN=true in the environment cannot be turned off by an event.
    let f2 = fixture(&[("DRY_RUN", "true")]).await;
    let payload = f2
        .invoke(json!({"dryRun": false, "mediaId": "dry2", "originationPhoneNumberId": PHONE}))
        .await;
    assert_eq!(payload["dryRun"], true);
    assert_eq!(payload["results"][0]["outcome"], "dryRun");
    assert!(f.endpoint.seen().is_empty());
    assert!(f2.endpoint.seen().is_empty());
}

#[tokio::test]
async fn invalid_ids_fail_as_invalid_input_and_never_reach_the_network() {
    let f = fixture(&[]).await;
    let payload = f
        .invoke(json!({"deletions": [
            ids("good1"),
            {"mediaId": "has space", "originationPhoneNumberId": PHONE},
            {"mediaId": "x".repeat(101), "originationPhoneNumberId": PHONE},
            {"mediaId": "ok2", "originationPhoneNumberId": "phone-number-id-a\r\nX-Evil: 1"},
            {"mediaId": "ok3"},
            {"mediaId": 42, "originationPhoneNumberId": PHONE},
            1,
        ]}))
        .await;
    assert_eq!(payload["summary"]["deleted"], 1);
    assert_eq!(payload["summary"]["failed"], 6);
    for result in &payload["results"].as_array().unwrap()[1..] {
        assert_eq!(result["error"]["type"], "InvalidInput", "{result}");
        assert_eq!(result["error"]["retryable"], false);
        assert_eq!(result["attempts"], 0);
    }
    let seen = f.endpoint.seen();
    assert_eq!(seen.len(), 1, "only the valid item is sent");
    assert_eq!(seen[0].media_id.as_deref(), Some("good1"));
}

#[tokio::test]
async fn the_default_phone_number_id_fills_in() {
    let f = fixture(&[("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", PHONE_ARN)]).await;
    let payload = f.invoke(json!({"mediaId": "nophone"})).await;
    assert_eq!(payload["results"][0]["outcome"], "deleted");
    assert_eq!(payload["results"][0]["originationPhoneNumberId"], PHONE_ARN);
    assert_eq!(
        f.endpoint.seen()[0].phone_number_id.as_deref(),
        Some(PHONE_ARN)
    );
}

#[tokio::test]
async fn concurrency_is_capped_and_reached() {
    let f = fixture_with(
        &[("MAX_CONCURRENCY", "3")],
        testkit::SECRET_ACCESS_KEY,
        Duration::from_millis(50),
    )
    .await;
    let deletions: Vec<Value> = (0..12).map(|i| ids(&format!("c{i}"))).collect();
    let payload = f.invoke(json!({ "deletions": deletions })).await;
    assert_eq!(payload["summary"]["deleted"], 12);
    assert_eq!(f.endpoint.max_in_flight(), 3);
    // Results keep the order of the event.
    for (i, result) in payload["results"].as_array().unwrap().iter().enumerate() {
        assert_eq!(result["mediaId"], format!("c{i}"));
    }
    // Connections are pooled and reused, not opened per request. (The pool may open a
    // spare when a finished connection is handed back a moment after the next request
    // starts, so this allows some slack over one per slot.)
    let connections = f.endpoint.connections();
    assert!(
        connections <= 6,
        "{connections} connections for 12 requests"
    );
}

#[tokio::test]
async fn an_event_of_no_known_shape_is_a_function_error() {
    let f = fixture(&[]).await;
    let err = handle(
        &f.app,
        LambdaEvent::new(json!({"Records": "?"}), context(Duration::from_secs(5))),
    )
    .await
    .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(
        diagnostic.error_message.contains("mediaId"),
        "{}",
        diagnostic.error_message
    );

    let err = handle(
        &f.app,
        LambdaEvent::new(
            json!({"mediaId": "a", "dryRun": "yes"}),
            context(Duration::from_secs(5)),
        ),
    )
    .await
    .unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(err);
    assert_eq!(diagnostic.error_type, "InvalidEvent");
    assert!(diagnostic.error_message.contains("dryRun"));
}

#[tokio::test]
async fn max_requests_per_second_keeps_under_the_service_quota() {
    let deletions = |prefix: &str| -> Value {
        let items: Vec<Value> = (0..20).map(|i| ids(&format!("{prefix}{i}"))).collect();
        json!({ "deletions": items })
    };
    // Without a limit, 16 requests at once overrun a 20-per-second quota.
    let unlimited = fixture(&[("MAX_ATTEMPTS", "1")]).await;
    unlimited.endpoint.throttle_above(20.0, 3.0);
    let payload = unlimited.invoke(deletions("u")).await;
    assert!(unlimited.endpoint.throttled() > 0, "{payload}");

    // With MAX_REQUESTS_PER_SECOND at the quota, none is throttled and all are deleted.
    let limited = fixture(&[("MAX_ATTEMPTS", "1"), ("MAX_REQUESTS_PER_SECOND", "20")]).await;
    limited.endpoint.throttle_above(20.0, 3.0);
    let payload = limited.invoke(deletions("l")).await;
    assert_eq!(limited.endpoint.throttled(), 0);
    assert_eq!(payload["summary"]["deleted"], 20, "{payload}");
}

#[tokio::test]
async fn a_throttle_holds_back_every_request_not_yet_sent_even_those_queued_at_the_ceiling() {
    // 16 items at once under a ceiling of 50 a second: they queue at the ceiling, 20 ms
    // apart. The service takes 2, then throttles. From the first throttle on, the adaptive
    // rate (cut to a few a second) decides: the requests already queued at the ceiling do
    // not go out anyway, 20 ms apart, to be throttled in turn.
    let f = fixture(&[("MAX_ATTEMPTS", "1"), ("MAX_REQUESTS_PER_SECOND", "50")]).await;
    f.endpoint.throttle_above(2.0, 2.0);
    let items: Vec<Value> = (0..16).map(|i| ids(&format!("q{i}"))).collect();
    let payload = f
        .invoke_within(json!({ "deletions": items }), Duration::from_secs(2))
        .await;
    let seen = f.endpoint.seen();
    let first_throttle = seen
        .iter()
        .filter(|s| s.status == Some(429))
        .map(|s| s.at)
        .min()
        .unwrap_or_else(|| panic!("never throttled: {payload}"));
    let soon_after = seen
        .iter()
        .filter(|s| s.at > first_throttle && s.at < first_throttle + Duration::from_millis(200))
        .count();
    // Queued at the ceiling, about 9 would have gone out in those 200 ms.
    assert!(
        soon_after <= 1,
        "{soon_after} requests right after a throttle: {}",
        payload["summary"]
    );
    // Nothing is lost: what was not sent before the deadline is reported as failed.
    assert_eq!(payload["summary"]["total"], 16, "{payload}");
}
