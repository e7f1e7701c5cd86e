//! The Lambda handler: recognise the event, run its items through the pipeline, answer in
//! the protocol of its source. It knows nothing of HTTP or SigV4; the AWS side sits behind
//! [`MediaApi`] and [`ObjectStore`].

use std::time::Instant;

use aws_lambda_events::event::s3::batch_job::S3BatchJobResponse;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use lambda_runtime::LambdaEvent;
use serde_json::Value;

use crate::answer::payload::{ItemResult, Payload};
use crate::answer::{batch_job, failure, size, sqs, Answer, FunctionError};
use crate::config::RunOptions;
use crate::deadline;
use crate::event::batch::BatchJob;
use crate::event::sqs::Message;
use crate::event::{self, Event};
use crate::pipeline::{self, App};
use crate::s3::ObjectStore;
use crate::telemetry;
use crate::whatsapp::MediaApi;

/// Answers one invocation: recognises its event, runs the event's items, and answers in the
/// protocol of its source, or fails it as a whole where that source retries.
pub async fn handle<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    event: LambdaEvent<Value>,
) -> Result<Answer, FunctionError> {
    let deadline = deadline::from_context(event.context.deadline);
    let config = &app.config;
    // Each item is written and logged as it ends.
    let settle = telemetry::settle;
    match event::recognise(&event.payload)? {
        Event::Custom(custom) => {
            // Refused before any work if its answer might not fit in Lambda's response.
            size::answer_fits(&custom.items)?;
            let options = config.run_options(custom.dry_run, custom.delete_s3_object);
            let settled = pipeline::run(app, custom.items, options, deadline, &settle).await;
            let results = telemetry::record_metrics(settled);
            Ok(Answer::Payload(Payload::new(options.dry_run, results)))
        }
        Event::Notification(items) => {
            let options = config.notification_options();
            let settled = pipeline::run(app, items, options, deadline, &settle).await;
            let payload = Payload::new(options.dry_run, telemetry::record_metrics(settled));
            // A failure must fail the invocation, so that Lambda retries it and then keeps
            // it in the failure destination: a payload would be dropped.
            failure::fail_on_failed_items(&payload)?;
            Ok(Answer::Payload(payload))
        }
        Event::Sqs(messages) => {
            let options = config.notification_options();
            Ok(Answer::Sqs(
                run_sqs_batch(app, messages, options, deadline).await,
            ))
        }
        Event::Batch(job) => {
            // A Batch Operations job deletes its objects, and is never a dry run (unless
            // DRY_RUN says so).
            let options = config.run_options(false, true);
            Ok(Answer::BatchJob(
                run_batch_job(app, job, options, deadline).await,
            ))
        }
    }
}

/// An SQS message's id, and whether its body could be read.
struct Received {
    message_id: String,
    readable: bool,
}

/// Runs each SQS message's items, and names the messages to retry: those with an item that
/// failed, and those whose body could not be read (a group of no items).
async fn run_sqs_batch<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    messages: Vec<Message>,
    options: RunOptions,
    deadline: Instant,
) -> SqsBatchResponse {
    let mut received = Vec::with_capacity(messages.len());
    let mut groups = Vec::with_capacity(messages.len());
    for message in messages {
        let readable = match message.items {
            Ok(items) => {
                groups.push(items);
                true
            }
            Err(problem) => {
                telemetry::unreadable_message(&message.message_id, &problem);
                groups.push(Vec::new());
                false
            }
        };
        received.push(Received {
            message_id: message.message_id,
            readable,
        });
    }
    let settled = pipeline::run_groups(app, groups, options, deadline, &telemetry::settle).await;
    let failed = received
        .into_iter()
        .zip(settled.into_iter().map(telemetry::record_metrics))
        .filter(|(message, results)| !message.readable || results.iter().any(ItemResult::failed))
        .map(|(message, _)| message.message_id);
    sqs::sqs_response(failed)
}

/// Runs a Batch Operations job's tasks, and answers with a result per task.
async fn run_batch_job<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    job: BatchJob,
    options: RunOptions,
    deadline: Instant,
) -> S3BatchJobResponse {
    let (task_ids, items): (Vec<String>, Vec<_>) =
        job.tasks.into_iter().map(|t| (t.task_id, t.item)).unzip();
    let settled = pipeline::run(app, items, options, deadline, &telemetry::settle).await;
    let results = telemetry::record_metrics(settled);
    batch_job::batch_response(
        job.schema_version,
        job.invocation_id,
        task_ids.into_iter().zip(&results),
    )
}

#[cfg(test)]
mod tests {
    //! The order of the stages and what each source answers, with the in-memory fakes of
    //! both sides, for the failures moto cannot be made to produce (a DeleteObject that
    //! fails).

    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::fakes::{names, FakeMedia, MemoryStore};
    use crate::model::StoreError;

    /// One object, `k.jpg` at version `v1`, whose DeleteObject fails with a 503.
    fn app() -> App<FakeMedia, MemoryStore> {
        let mut store = MemoryStore::default();
        store.failing_delete = Some(StoreError {
            operation: "DeleteObject",
            status: Some(503),
            message: "SlowDown: Please reduce your request rate.".into(),
            retryable: true,
        });
        store.put(
            "k.jpg",
            "v1",
            names(
                &[
                    ("whatsapp-media-id", "abc"),
                    ("whatsapp-origination-phone-number-id", "phone-number-id-1"),
                ],
                &[],
            ),
        );
        App {
            config: Config::from_lookup(|_| None).unwrap(),
            media: FakeMedia::default(),
            store,
        }
    }

    async fn invoke(app: &App<FakeMedia, MemoryStore>, event: Value) -> Value {
        let mut context = lambda_runtime::Context::default();
        context.deadline = 600_000;
        serde_json::to_value(handle(app, LambdaEvent::new(event, context)).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn an_s3_delete_that_fails_after_the_media_is_gone_is_reported_and_retryable() {
        let app = app();
        let payload = invoke(&app, json!({"bucket": "b", "key": "k.jpg"})).await;
        let result = &payload["results"][0];
        assert_eq!(result["outcome"], "deleted");
        assert_eq!(result["s3Object"], "failed");
        assert_eq!(result["s3Error"]["type"], "S3DeleteFailed");
        assert_eq!(result["s3Error"]["retryable"], true);
        assert_eq!(result["s3Error"]["httpStatus"], 503);
        assert_eq!(payload["success"], false);

        let response = invoke(
            &app,
            json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"},
                   "tasks": [{"taskId": "t", "s3Key": "k.jpg", "s3Bucket": "b", "s3VersionId": null}]}),
        )
        .await;
        assert_eq!(response["results"][0]["resultCode"], "TemporaryFailure");
        assert!(response["results"][0]["resultString"]
            .as_str()
            .unwrap()
            .starts_with("S3DeleteFailed"));
        assert_eq!(app.store.deletes(), 2);
    }

    #[tokio::test]
    async fn a_dry_run_keeps_objects_and_sends_nothing() {
        let app = app();
        let payload = invoke(&app, json!({"bucket": "b", "key": "k.jpg", "dryRun": true})).await;
        assert_eq!(payload["results"][0]["outcome"], "dryRun");
        assert_eq!(payload["results"][0]["s3Object"], "kept");
        assert!(app.media.calls.lock().unwrap().is_empty());
        assert_eq!(app.store.deletes(), 0);
    }
}
