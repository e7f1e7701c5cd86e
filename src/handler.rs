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
use crate::ledger::{self, Invocation, LedgerError};
use crate::model::{Noticed, Origin, Source, WorkItem};
use crate::pipeline::{self, App, Finished};
use crate::s3::ObjectStore;
use crate::telemetry::{self, Settled};
use crate::whatsapp::MediaApi;

/// Answers one invocation: recognises its event, runs the event's items, records them in
/// the erasure ledger, and answers in the protocol of its source, or fails it as a whole
/// where that source retries.
pub async fn handle<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    event: LambdaEvent<Value>,
) -> Result<Answer, FunctionError> {
    let run = Run {
        app,
        deadline: deadline::from_context(event.context.deadline),
        invocation: Invocation {
            lambda_request_id: &event.context.request_id,
            function_version: &event.context.env_config.version,
        },
    };
    let config = &app.config;
    match event::recognise(&event.payload)? {
        Event::Custom(custom) => {
            // Refused before any work if its answer might not fit in Lambda's response.
            size::answer_fits(&custom.items)?;
            let options = config.run_options(custom.dry_run, custom.delete_s3_object);
            let origin = Origin {
                source: Source::Custom,
                reference: custom.reference.clone(),
                ..Origin::default()
            };
            let origins = vec![origin; custom.items.len()];
            let (settled, recorded) = run.items(custom.items, &origins, options).await;
            let payload = Payload::new(options.dry_run, telemetry::results(settled))
                .with_reference(custom.reference);
            Ok(Answer::Payload(match recorded {
                Ok(()) => payload,
                Err(error) => payload.with_ledger_error(&error),
            }))
        }
        Event::Notification { items, source } => {
            let options = config.notification_options();
            let (items, origins) = noticed(items, source);
            let (settled, recorded) = run.items(items, &origins, options).await;
            // A failure must fail the invocation, so that Lambda retries it and then keeps
            // it in the failure destination: a payload would be dropped. So must a result
            // the ledger could not record.
            recorded?;
            let payload = Payload::new(options.dry_run, telemetry::results(settled));
            failure::fail_on_failed_items(&payload)?;
            Ok(Answer::Payload(payload))
        }
        Event::Sqs(messages) => {
            let options = config.notification_options();
            Ok(Answer::Sqs(run.sqs_batch(messages, options).await))
        }
        Event::Batch(job) => {
            // A Batch Operations job deletes its objects, and is never a dry run (unless
            // DRY_RUN says so).
            let options = config.run_options(false, true);
            Ok(Answer::BatchJob(run.batch_job(job, options).await))
        }
    }
}

/// What every kind of event's run shares: the app, the deadline, and the invocation the
/// ledger names.
struct Run<'a, M, S> {
    app: &'a App<M, S>,
    deadline: Instant,
    invocation: Invocation<'a>,
}

/// A notification's items, and the origin of each.
fn noticed(items: Vec<Noticed>, source: Source) -> (Vec<WorkItem>, Vec<Origin>) {
    items
        .into_iter()
        .map(|Noticed { item, requester }| {
            let origin = Origin {
                source,
                requester,
                ..Origin::default()
            };
            (item, origin)
        })
        .unzip()
}

/// Settles the item at `index`, whose origin is `origins[index]`.
fn settle_from(origins: &[Origin]) -> impl Fn(usize, Finished) -> Settled + Sync + '_ {
    move |index, finished| {
        let origin = origins.get(index).cloned().unwrap_or_default();
        telemetry::settle(finished, origin)
    }
}

impl<M: MediaApi, S: ObjectStore> Run<'_, M, S> {
    /// Runs `items` (of `origins`), counts them, and records them in the ledger.
    async fn items(
        &self,
        items: Vec<WorkItem>,
        origins: &[Origin],
        options: RunOptions,
    ) -> (Vec<Settled>, Result<(), LedgerError>) {
        let settled = pipeline::run(
            self.app,
            items,
            options,
            self.deadline,
            &settle_from(origins),
        )
        .await;
        let recorded = self.record(&settled).await;
        (settled, recorded)
    }

    /// Counts settled items in the metrics and writes their records to the ledger.
    async fn record(&self, settled: &[Settled]) -> Result<(), LedgerError> {
        telemetry::record_metrics(settled);
        let settings = self.app.config.ledger.as_ref();
        ledger::write(
            &self.app.store,
            settings,
            settled,
            self.invocation,
            self.deadline,
        )
        .await
        .inspect_err(|error| telemetry::unrecorded(error, settled.len()))
    }

    /// Runs each SQS message's items, and names the messages to retry: those with an item
    /// that failed, and those whose body could not be read (a group of no items). When
    /// the ledger could not record the items, every message is retried.
    async fn sqs_batch(&self, messages: Vec<Message>, options: RunOptions) -> SqsBatchResponse {
        let mut received = Vec::with_capacity(messages.len());
        let mut groups = Vec::with_capacity(messages.len());
        let mut origins = Vec::new();
        for message in messages {
            let readable = match message.items {
                Ok(items) => {
                    let (items, of_message) = noticed(items, message.source);
                    origins.extend(of_message);
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
        let settle = settle_from(&origins);
        let settled = pipeline::run_groups(self.app, groups, options, self.deadline, &settle).await;
        let item_failed: Vec<bool> = settled
            .iter()
            .map(|items| items.iter().any(|s| s.result.failed()))
            .collect();
        let all: Vec<Settled> = settled.into_iter().flatten().collect();
        let recorded = self.record(&all).await.is_ok();
        let failed = received
            .into_iter()
            .zip(item_failed)
            .filter(|(message, item_failed)| !recorded || !message.readable || *item_failed)
            .map(|(message, _)| message.message_id);
        sqs::sqs_response(failed)
    }

    /// Runs a Batch Operations job's tasks, and answers with a result per task.
    async fn batch_job(&self, job: BatchJob, options: RunOptions) -> S3BatchJobResponse {
        let (task_ids, items): (Vec<String>, Vec<_>) =
            job.tasks.into_iter().map(|t| (t.task_id, t.item)).unzip();
        let origins: Vec<Origin> = task_ids
            .iter()
            .map(|task_id| Origin {
                source: Source::Batch,
                reference: job.reference.clone(),
                job_id: job.job_id.clone(),
                task_id: Some(task_id.clone()).filter(|t| !t.is_empty()),
                requester: None,
            })
            .collect();
        let (settled, recorded) = self.items(items, &origins, options).await;
        let results: Vec<ItemResult> = telemetry::results(settled);
        batch_job::batch_response(
            job.schema_version,
            job.invocation_id,
            task_ids.into_iter().zip(&results),
            recorded.as_ref().err(),
        )
    }
}

/// An SQS message's id, and whether its body could be read.
struct Received {
    message_id: String,
    readable: bool,
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
        serde_json::to_value(answer(app, event).await.unwrap()).unwrap()
    }

    async fn answer(
        app: &App<FakeMedia, MemoryStore>,
        event: Value,
    ) -> Result<Answer, FunctionError> {
        let mut context = lambda_runtime::Context::default();
        context.deadline = 600_000;
        context.request_id = "0b3f9a1c-7d5e-4f2a-9c1b-2e4d6f8a0b1c".into();
        handle(app, LambdaEvent::new(event, context)).await
    }

    /// [`app`] with its erasure ledger in the bucket `ledger`.
    fn ledgered(failing_put: bool) -> App<FakeMedia, MemoryStore> {
        let mut app = app();
        app.store.failing_delete = None;
        app.config.ledger = Some(crate::config::LedgerSettings {
            bucket: "ledger".into(),
            prefix: "erasures/".into(),
        });
        if failing_put {
            app.store.failing_put = Some(StoreError {
                operation: "PutObject",
                status: Some(403),
                message: "AccessDenied: Access Denied".into(),
                retryable: false,
            });
        }
        app
    }

    /// The records of every object the ledger wrote, in order.
    fn records(app: &App<FakeMedia, MemoryStore>) -> Vec<Vec<Value>> {
        app.store
            .puts
            .lock()
            .unwrap()
            .iter()
            .map(|(key, body)| {
                assert!(key.starts_with("erasures/year="), "{key}");
                assert!(key.ends_with(".json"), "{key}");
                std::str::from_utf8(body)
                    .unwrap()
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap())
                    .collect()
            })
            .collect()
    }

    fn sqs_message(id: &str, body: Value) -> Value {
        json!({"messageId": id, "eventSource": "aws:sqs", "body": body.to_string()})
    }

    fn s3_event(key: &str) -> Value {
        json!({"Records": [crate::event::fixtures::s3_record(
            "ObjectRemoved:Delete", "media", key, Some("v9"))]})
    }

    fn batch_event(reference: &str) -> Value {
        json!({"invocationSchemaVersion": "2.0", "invocationId": "i", 
               "job": {"id": "job-1", "userArguments": {"reference": reference}},
               "tasks": [{"taskId": "t1", "s3Key": "k.jpg", "s3Bucket": "b", "s3VersionId": null}]})
    }

    #[tokio::test]
    async fn every_item_of_every_source_is_recorded_once_with_its_origin() {
        let app = ledgered(false);
        let payload = invoke(
            &app,
            json!({"deletions": [{"bucket": "b", "key": "k.jpg"}, {"mediaId": "x y"}],
                   "reference": "DSR-2026-0042"}),
        )
        .await;
        assert_eq!(payload["reference"], "DSR-2026-0042");
        assert_eq!(payload["success"], false, "the invalid id fails");
        assert!(payload.get("ledgerError").is_none());
        invoke(&app, s3_event("gone.jpg")).await;
        invoke(
            &app,
            json!({"Records": [sqs_message("m1", s3_event("q.jpg"))]}),
        )
        .await;
        invoke(&app, batch_event("DSR-7")).await;

        let written = records(&app);
        assert_eq!(
            written.iter().map(Vec::len).collect::<Vec<_>>(),
            [2, 1, 1, 1]
        );
        let deleted = &written[0][0];
        assert_eq!(deleted["outcome"], "deleted");
        assert_eq!(deleted["mediaId"], "abc");
        assert_eq!(deleted["originationPhoneNumberId"], "phone-number-id-1");
        assert_eq!(deleted["bucket"], "b");
        assert_eq!(deleted["key"], "k.jpg");
        assert_eq!(
            deleted["versionId"], "v1",
            "the version that was read and deleted"
        );
        assert_eq!(deleted["s3Object"], "deleted");
        assert_eq!(deleted["requestId"], "fake-request-abc");
        assert_eq!(deleted["attempts"], 1);
        assert_eq!(deleted["source"], "custom");
        assert_eq!(deleted["reference"], "DSR-2026-0042");
        assert_eq!(
            deleted["lambdaRequestId"],
            "0b3f9a1c-7d5e-4f2a-9c1b-2e4d6f8a0b1c"
        );
        assert!(deleted["time"].as_str().unwrap().ends_with('Z'));
        let invalid = &written[0][1];
        assert_eq!(invalid["outcome"], "failed");
        assert_eq!(invalid["errorType"], "InvalidInput");
        // Every record has the same fields, null where they do not apply.
        let fields = |record: &Value| {
            record
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(fields(deleted), fields(invalid));
        assert_eq!(fields(deleted).len(), 21);

        let notified = &written[1][0];
        assert_eq!(notified["source"], "s3");
        assert_eq!(notified["outcome"], "skipped");
        assert_eq!(notified["requester"], "AWS:AROAEXAMPLE:janitor");
        assert_eq!(notified["versionId"], "v9");
        assert_eq!(written[2][0]["source"], "sqs");
        assert_eq!(written[2][0]["requester"], "AWS:AROAEXAMPLE:janitor");
        let task = &written[3][0];
        assert_eq!(task["source"], "batch");
        assert_eq!(task["jobId"], "job-1");
        assert_eq!(task["taskId"], "t1");
        assert_eq!(task["reference"], "DSR-7");
        assert_eq!(task["outcome"], "deleted");
    }

    #[tokio::test]
    async fn a_record_that_cannot_be_written_fails_each_source_the_way_it_retries() {
        let app = ledgered(true);
        let payload = invoke(
            &app,
            json!({"bucket": "b", "key": "k.jpg", "reference": "r"}),
        )
        .await;
        assert_eq!(payload["success"], false);
        assert_eq!(payload["results"][0]["outcome"], "deleted");
        assert_eq!(payload["ledgerError"]["type"], "LedgerWriteFailed");
        assert!(payload["ledgerError"]["message"]
            .as_str()
            .unwrap()
            .contains("could not be written to s3://ledger/erasures/year="));

        let error = answer(&app, s3_event("gone.jpg")).await.unwrap_err();
        assert!(
            matches!(error, FunctionError::LedgerWriteFailed(_)),
            "{error}"
        );
        assert_eq!(
            lambda_runtime::Diagnostic::from(error).error_type,
            "LedgerWriteFailed"
        );

        let sqs = invoke(
            &app,
            json!({"Records": [sqs_message("m1", s3_event("a.jpg")), sqs_message("m2", s3_event("b.jpg"))]}),
        )
        .await;
        assert_eq!(
            sqs,
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]})
        );

        let batch = invoke(&app, batch_event("DSR-7")).await;
        assert_eq!(batch["results"][0]["resultCode"], "TemporaryFailure");
        assert!(batch["results"][0]["resultString"]
            .as_str()
            .unwrap()
            .starts_with("LedgerWriteFailed: deleted media abc"));
        assert!(app.store.puts.lock().unwrap().is_empty());
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
