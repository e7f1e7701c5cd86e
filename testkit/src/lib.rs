//! The test harness of whatsapp-media-cleanup: the real parts the integration tests run
//! the function against. ARCHITECTURE.md maps its modules.

pub mod docs;
pub mod empty_s3;
pub mod endpoint;
pub mod fleet;
pub mod forward;
pub mod iam;
pub mod lambda;
pub mod ledger;
pub mod moto;
pub mod rig;
pub mod runtime_api;
pub mod s3_faults;
pub mod samples;
pub mod sar;
pub mod sar_api;
pub mod sigv4;

use serde_json::{json, Value};
use sigv4::Credential;

/// Test credentials, shaped like a Lambda role's session credentials.
pub const ACCESS_KEY_ID: &str = "ASIATESTACCESSKEY000";
pub const SECRET_ACCESS_KEY: &str = "TESTsecretKEYdoNOTlog/0123456789abcdefXYZ";
pub const SESSION_TOKEN: &str = "TESTsessionTOKENdoNOTlog//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";
pub const REGION: &str = "us-east-1";

/// The credentials the local endpoint accepts.
pub fn credentials() -> Vec<Credential> {
    vec![Credential {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
        session_token: Some(SESSION_TOKEN.into()),
    }]
}

/// A valid plain phone number id.
pub const PHONE: &str = "phone-number-id-0123456789abcdef0123456789abcdef";
/// A valid phone number ARN.
pub const PHONE_ARN: &str =
    "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123456789abcdef0123456789abcdef";

/// The environment of the function process: region, session credentials, the local
/// endpoint, and `extra` settings.
pub fn function_env(endpoint_url: &str, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    [
        ("AWS_REGION", REGION),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID),
        ("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY),
        ("AWS_SESSION_TOKEN", SESSION_TOKEN),
        ("AWS_ENDPOINT_URL_SOCIALMESSAGING", endpoint_url),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// A loopback port that nothing listens on at the moment of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// The function's settings from `env` (plus the local endpoint), and the real WhatsApp
/// client signing with the session credentials (`secret` may be wrong on purpose).
pub fn media_client(
    env: &[(&str, &str)],
    endpoint_url: &str,
    secret: &str,
) -> (
    whatsapp_media_cleanup::config::Config,
    whatsapp_media_cleanup::WhatsAppClient,
) {
    let mut vars: std::collections::HashMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    vars.insert(
        "AWS_ENDPOINT_URL_SOCIALMESSAGING".into(),
        endpoint_url.into(),
    );
    let config =
        whatsapp_media_cleanup::config::Config::from_lookup(|name| vars.get(name).cloned())
            .expect("valid test settings");
    let credentials = aws_credential_types::Credentials::new(
        ACCESS_KEY_ID,
        secret,
        Some(SESSION_TOKEN.into()),
        None,
        "test",
    );
    let media = whatsapp_media_cleanup::WhatsAppClient::new(
        config.media_api(REGION).expect("valid test settings"),
        aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
    )
    .expect("client");
    (config, media)
}

/// The function's fields of each per-item line in a JSON log (`AWS_LAMBDA_LOG_FORMAT=JSON`),
/// in order.
pub fn item_log_fields(logs: &str) -> Vec<serde_json::Map<String, serde_json::Value>> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("media item"))
        })
        .filter_map(|l| l["fields"].as_object().cloned())
        .collect()
}

/// The lines of a JSON log (`AWS_LAMBDA_LOG_FORMAT=JSON`) that Lambda's log-level filter
/// sends on when the application log level is `level` (Lambda developer guide,
/// "Log-level filtering": https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
/// A line's level is its JSON `level` (TRACE, DEBUG, INFO, WARN, ERROR or FATAL, in any
/// case); a line that is not a JSON object, or whose `level` is missing or invalid, or
/// whose `timestamp` is not RFC 3339, counts as INFO. Lines at `level` or above are kept.
pub fn lambda_log_filter<'a>(logs: &'a str, level: &str) -> Vec<&'a str> {
    const LEVELS: [&str; 6] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
    let rank = |name: &str| LEVELS.iter().position(|l| l.eq_ignore_ascii_case(name));
    let floor = rank(level).expect("a Lambda log level");
    let rfc3339 = regex_lite::Regex::new(
        r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$",
    )
    .expect("a regex");
    logs.lines()
        .filter(|line| {
            let parsed: Option<serde_json::Value> = serde_json::from_str(line).ok();
            let level = parsed
                .as_ref()
                .filter(|l| l["timestamp"].as_str().is_some_and(|t| rfc3339.is_match(t)))
                .and_then(|l| l["level"].as_str())
                .and_then(rank)
                .unwrap_or(2);
            level >= floor
        })
        .collect()
}

/// The CloudWatch Embedded Metric Format documents in a log, in order.
pub fn emf_documents(logs: &str) -> Vec<serde_json::Value> {
    logs.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l.get("_aws").is_some())
        .collect()
}

/// The function binary for `make bench`'s tools: `$override_var` when set (another
/// build, say an earlier commit's or the deployed profile's), else the release binary
/// beside the running tool.
pub fn bench_binary(override_var: &str) -> std::path::PathBuf {
    std::env::var_os(override_var)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("whatsapp-media-cleanup"))
        .canonicalize()
        .expect("the release binary beside this tool in target/release: run `make bench`")
}

/// Logs never carry the secret key, the session token, a signature or an Authorization
/// header (a settings dump may name the header in lower case; its value never appears).
pub fn assert_no_secrets(logs: &str) {
    assert!(!logs.is_empty(), "no logs to check");
    for secret in [
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
        "Signature=",
        "AWS4-HMAC-SHA256",
        "Authorization",
    ] {
        assert!(!logs.contains(secret), "the logs contain {secret:?}");
    }
}

/// The handler wired to real parts on loopback: moto's S3 server (through the real
/// `S3Store`) and the local endpoint (through the real WhatsApp client), with `env`.
pub struct LocalApp {
    pub moto: moto::Moto,
    /// An S3 client for moto, to stage and inspect objects.
    pub s3: aws_sdk_s3::Client,
    pub endpoint: endpoint::LocalEndpoint,
    pub app: whatsapp_media_cleanup::App<
        whatsapp_media_cleanup::WhatsAppClient,
        whatsapp_media_cleanup::S3Store,
    >,
}

impl LocalApp {
    /// Starts moto and the local endpoint, and builds the handler's settings from `env`.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let moto = moto::Moto::start();
        let s3 = moto.client();
        let endpoint =
            endpoint::LocalEndpoint::start(0, credentials(), REGION, std::time::Duration::ZERO)
                .await
                .expect("local endpoint");
        let (config, media) = media_client(env, &endpoint.url(), SECRET_ACCESS_KEY);
        let app = whatsapp_media_cleanup::App {
            config,
            media,
            store: whatsapp_media_cleanup::S3Store::new(s3.clone()),
        };
        Self {
            moto,
            s3,
            endpoint,
            app,
        }
    }

    /// Deletes the current object (a delete marker in a versioned bucket); returns the
    /// marker's version id.
    pub async fn delete(&self, bucket: &str, key: &str) -> Option<String> {
        let out = self
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("delete object");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        out.version_id().map(str::to_owned)
    }

    /// Invokes the handler in-process, with 30 seconds to go.
    pub async fn invoke(
        &self,
        event: serde_json::Value,
    ) -> Result<serde_json::Value, whatsapp_media_cleanup::FunctionError> {
        let mut context = lambda_runtime::Context::default();
        let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(30);
        context.deadline = deadline
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64;
        let answer = whatsapp_media_cleanup::handle(
            &self.app,
            lambda_runtime::LambdaEvent::new(event, context),
        )
        .await?;
        Ok(serde_json::to_value(answer).expect("an answer is plain JSON"))
    }
}

/// An S3 notification record with every field S3 sends (`key` as S3 sends it,
/// form-URL-encoded):
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
pub fn s3_record(event_name: &str, bucket: &str, key: &str, version_id: Option<&str>) -> Value {
    let mut object = json!({"key": key, "size": 4, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                            "sequencer": "0062E99A88DC407460"});
    if let Some(v) = version_id {
        object["versionId"] = json!(v);
    }
    json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
           "eventTime": "2026-11-25T10:00:00.000Z", "eventName": event_name,
           "userIdentity": {"principalId": "AWS:AROAEXAMPLEID:media-janitor"},
           "requestParameters": {"sourceIPAddress": "203.0.113.10"},
           "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8/IgAtTv8xRjsk"},
           "s3": {"s3SchemaVersion": "1.0", "configurationId": "whatsapp-media-cleanup",
                  "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                             "arn": format!("arn:aws:s3:::{bucket}")},
                  "object": object}})
}

/// An S3 notification of one record.
pub fn s3_notification(
    event_name: &str,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
) -> Value {
    json!({"Records": [s3_record(event_name, bucket, key, version_id)]})
}

/// An SQS message of the queue named `queue`, as Lambda's event source mapping hands it
/// to the function.
pub fn sqs_message(queue: &str, id: &str, body: String) -> Value {
    json!({"messageId": id, "receiptHandle": "AQEB", "body": body, "attributes": {},
           "messageAttributes": {}, "md5OfBody": "x", "eventSource": "aws:sqs",
           "eventSourceARN": format!("arn:aws:sqs:{REGION}:123456789012:{queue}"), "awsRegion": REGION})
}

/// A Lambda on-failure record, as the failure queue holds it, around `payload`:
/// https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html
pub fn failure_record(payload: &Value) -> String {
    json!({"version": "1.0", "timestamp": "2026-11-25T16:00:00.000Z",
           "requestContext": {"requestId": "5f0a5b7e-1c2d-4e3f-8a9b-0c1d2e3f4a5b",
                              "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:cleanup:$LATEST",
                              "condition": "RetriesExhausted", "approximateInvokeCount": 3},
           "requestPayload": payload,
           "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
           "responsePayload": {"errorType": "ItemsFailed", "errorMessage": "1 of 1 items failed (1 may succeed if retried): ..."}})
    .to_string()
}

/// An SNS event of one record carrying `message`, as SNS invokes a function.
pub fn sns_event(message: &str) -> Value {
    json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:media-deletions:21be56ed-a058-49f5-8c98-aedd2564c486",
        "Sns": {"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:media-deletions",
                "Subject": "Amazon S3 Notification", "Message": message,
                "Timestamp": "2026-11-25T10:00:01.000Z", "SignatureVersion": "1",
                "Signature": "EXAMPLE", "SigningCertUrl": "EXAMPLE", "UnsubscribeUrl": "EXAMPLE",
                "MessageAttributes": {}}}]})
}

/// The repository's root (the testkit's parent).
pub fn root() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit sits in the repository")
}

/// The profile directory (`target/release`) of the running test or binary.
fn profile_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the running executable");
    let dir = exe.parent().expect("its directory");
    // Integration tests run from target/<profile>/deps, examples from .../examples, the
    // testkit's binaries from target/<profile>.
    if dir
        .file_name()
        .is_some_and(|name| name == "deps" || name == "examples")
    {
        dir.parent().expect("the profile directory").to_owned()
    } else {
        dir.to_owned()
    }
}

/// The function's binary of this build: `FUNCTION_BINARY` when set (another build, an
/// earlier commit's, say), else the one cargo built beside the running test or binary.
pub fn function_binary() -> std::path::PathBuf {
    std::env::var_os("FUNCTION_BINARY")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| profile_dir().join("whatsapp-media-cleanup"))
}

/// A program of the main package's `examples/`, as `cargo test` (all targets) builds
/// them; never one older than its source, which would test old code.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let binary = profile_dir().join("examples").join(name);
    let source = root().join("examples").join(format!("{name}.rs"));
    let modified = |path: &std::path::Path| std::fs::metadata(path).and_then(|m| m.modified());
    match (modified(&binary), modified(&source)) {
        (Ok(built), Ok(written)) if built >= written => binary,
        (Ok(_), _) => panic!("{} is older than examples/{name}.rs: run the whole `cargo test` (or `cargo build --examples`)", binary.display()),
        (Err(_), _) => panic!("{} is not built: run the whole `cargo test` (or `cargo build --examples`), which builds the examples", binary.display()),
    }
}

/// Where the harness writes its logs: cargo's `target/tmp` (the integration tests'
/// `CARGO_TARGET_TMPDIR`), which the log-hygiene test scans.
pub fn tmp_dir() -> std::path::PathBuf {
    let dir = profile_dir()
        .parent()
        .expect("the target directory")
        .join("tmp");
    let _ = std::fs::create_dir_all(&dir);
    dir
}
