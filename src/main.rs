//! The Lambda binary: wires things up once per cold start, then serves invocations.

// The handler's future (event, pipeline, ledger) nests deeper than rustc's default of 128
// allows when it lays the runtime's future out.
#![recursion_limit = "256"]

use aws_config::BehaviorVersion;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use lambda_runtime::{service_fn, Error};
use whatsapp_media_cleanup::config::{self, Config};
use whatsapp_media_cleanup::{handle, metrics, App, S3Store, WhatsAppClient};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    whatsapp_media_cleanup::init_logging();
    let app = build_app().await.map_err(|error| {
        // Fail the cold start loudly: Lambda reports the init error with this log line,
        // and the process ends with the same message.
        tracing::error!(error = %error, "cold start failed");
        Error::from(error.to_string())
    })?;
    let log_level = std::env::var("AWS_LAMBDA_LOG_LEVEL").ok();
    let metrics = metrics::init(&config::function_name(), log_level.as_deref())?;
    lambda_runtime::run(service_fn(|event| async {
        let result = handle(&app, event).await;
        // One EMF document per invocation, whatever its outcome.
        if let Err(e) = metrics::flush(metrics, std::io::stdout()) {
            tracing::warn!(error = %e, "could not write the metrics");
        }
        result
    }))
    .await
}

async fn build_app() -> Result<App<WhatsAppClient, S3Store>, Error> {
    let config = Config::from_env()?;
    config::unset_empty_endpoint_urls();
    // Region and credentials come from aws-config's default chain. Credentials are
    // resolved on first use, so start-up does no network I/O.
    let sdk = aws_config::defaults(BehaviorVersion::latest()).load().await;
    let region = sdk
        .region()
        .ok_or("AWS_REGION: not set, and no region in the AWS config files")?
        .to_string();
    let credentials = sdk
        .credentials_provider()
        .ok_or("no AWS credentials provider could be configured")?;
    let media = WhatsAppClient::new(config.media_api(&region)?, credentials)?;
    // The S3 client honours AWS_ENDPOINT_URL_S3 through the shared config; each attempt is
    // bounded like the media call's.
    let s3 = aws_sdk_s3::config::Builder::from(&sdk)
        .timeout_config(
            TimeoutConfig::builder()
                .operation_attempt_timeout(config.request_timeout)
                .build(),
        )
        .build();
    let store = S3Store::new(aws_sdk_s3::Client::from_conf(s3));
    Ok(App {
        config,
        media,
        store,
    })
}
