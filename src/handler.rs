//! The Lambda handler: event in, payload out. It knows nothing of HTTP or SigV4; the AWS
//! side sits behind [`MediaApi`].

use std::time::Instant;

use futures_util::stream::{self, StreamExt};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

use crate::config::{Config, ObjectPolicy, RunOptions as Options};
use crate::deadline;
use crate::event::{self, Event, EventError};
use crate::model::{ObjectItem, StoreError, Target, WorkItem};
use crate::protocol;
use crate::removal;
use crate::report::{ItemResult, Outcome, Payload};
use crate::resolve::{self, Resolution};
use crate::storage::ObjectStore;
use crate::whatsapp::MediaApi;

/// What the handler needs, built once per cold start.
#[derive(Debug)]
pub struct App<M, S> {
    /// Settings from the environment.
    pub config: Config,
    /// The WhatsApp side.
    pub media: M,
    /// The S3 side.
    pub store: S,
}

/// An invocation that fails as a whole, so that Lambda's retries and failure destinations
/// take over.
#[derive(Debug, Error)]
pub enum FunctionError {
    /// The event has no known shape, or an option of the wrong type.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// Items of an asynchronous event (S3 notification, EventBridge) failed: Lambda retries
    /// the event (done items come back `alreadyDeleted`), then sends it to the failure
    /// destination, from which it can be redriven once the cause is mended. A payload
    /// would be taken for a success and dropped.
    #[error("{failed} of {total} items failed ({retryable} may succeed if retried): {details}")]
    ItemsFailed {
        /// Items that failed.
        failed: usize,
        /// Of those, the ones whose failure a retry may mend.
        retryable: usize,
        /// Items in the event.
        total: usize,
        /// The failures, briefly.
        details: String,
    },
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        let error_type = match &error {
            FunctionError::InvalidEvent(_) => "InvalidEvent",
            FunctionError::ItemsFailed { .. } => "ItemsFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one invocation.
pub async fn handle<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    event: LambdaEvent<Value>,
) -> Result<Value, FunctionError> {
    let deadline = deadline::from_context(event.context.deadline);
    match event::recognise(&event.payload)? {
        Event::Custom(custom) => {
            answer_fits(&custom.items)?;
            let options = app
                .config
                .run_options(custom.dry_run, custom.delete_s3_object);
            let results = run(app, custom.items, options, deadline).await;
            Ok(to_value(Payload::new(options.dry_run, results)))
        }
        Event::Notification(items) => {
            let options = app.config.notification_options();
            let results = run(app, items, options, deadline).await;
            let payload = Payload::new(options.dry_run, results);
            failures(&payload)?;
            Ok(to_value(payload))
        }
        Event::Sqs(messages) => {
            let options = app.config.notification_options();
            let mut failed = vec![false; messages.len()];
            let mut owners = Vec::new();
            let mut items = Vec::new();
            for (index, message) in messages.iter().enumerate() {
                match &message.items {
                    Ok(message_items) => {
                        owners.extend(std::iter::repeat_n(index, message_items.len()));
                        items.extend(message_items.iter().cloned());
                    }
                    Err(problem) => {
                        tracing::warn!(message_id = %message.message_id, problem = %problem, "unreadable SQS message");
                        failed[index] = true;
                    }
                }
            }
            crate::metrics::record_unreadable(failed.iter().filter(|f| **f).count());
            let results = run(app, items, options, deadline).await;
            for (owner, result) in owners.iter().zip(&results) {
                failed[*owner] |= result.failed();
            }
            Ok(to_value(protocol::sqs_response(
                messages
                    .into_iter()
                    .zip(failed)
                    .filter(|(_, failed)| *failed)
                    .map(|(message, _)| message.message_id),
            )))
        }
        Event::Batch(job) => {
            let options = app.config.run_options(false, true);
            let (task_ids, items): (Vec<String>, Vec<WorkItem>) =
                job.tasks.into_iter().map(|t| (t.task_id, t.item)).unzip();
            let results = run(app, items, options, deadline).await;
            Ok(to_value(protocol::batch_response(
                job.schema_version,
                job.invocation_id,
                task_ids.into_iter().zip(&results),
            )))
        }
    }
}

fn to_value(response: impl Serialize) -> Value {
    serde_json::to_value(response).unwrap_or_else(|e| {
        // Serialising plain structs of strings and numbers cannot fail; keep a readable
        // answer rather than a panic if it ever does.
        serde_json::json!({"success": false, "error": e.to_string()})
    })
}

/// Refuses, before any work, a custom event whose answer might not fit in Lambda's response.
fn answer_fits(items: &[WorkItem]) -> Result<(), EventError> {
    if items.len() > crate::report::MAX_DELETIONS {
        return Err(EventError::TooManyDeletions {
            count: items.len(),
            max: crate::report::MAX_DELETIONS,
        });
    }
    let bound = crate::report::answer_bound(items);
    if bound > crate::report::RESPONSE_LIMIT {
        return Err(EventError::AnswerTooLarge {
            bound,
            limit: crate::report::RESPONSE_LIMIT,
        });
    }
    Ok(())
}

/// An error naming the failed items of an asynchronous event, if there are any.
fn failures(payload: &Payload) -> Result<(), FunctionError> {
    let failures: Vec<&ItemResult> = payload.results.iter().filter(|r| r.failed()).collect();
    if failures.is_empty() {
        return Ok(());
    }
    let details = failures
        .iter()
        .take(10)
        .map(|r| {
            let error = r.error.as_ref().or(r.s3_error.as_ref());
            let object = r
                .object
                .as_ref()
                .map(|o| format!(" s3://{}/{}", o.bucket, o.key))
                .unwrap_or_default();
            format!(
                "{}{object} media {} ({})",
                error.map_or("failed", |e| e.error_type.as_str()),
                r.media_id.as_deref().unwrap_or("?"),
                error.map_or("", |e| e.message.as_str())
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Err(FunctionError::ItemsFailed {
        failed: failures.len(),
        retryable: failures.iter().filter(|r| r.retryable()).count(),
        total: payload.results.len(),
        details,
    })
}

async fn run<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    items: Vec<WorkItem>,
    options: Options,
    deadline: Instant,
) -> Vec<ItemResult> {
    // Unordered, so that a slow item holds one slot rather than the next items behind it;
    // the results are put back in the event's order afterwards.
    let mut results: Vec<(usize, ItemResult)> =
        stream::iter(items.into_iter().enumerate())
            .map(|(index, item)| async move {
                (index, process_item(app, item, options, deadline).await)
            })
            .buffer_unordered(app.config.max_concurrency)
            .collect()
            .await;
    results.sort_unstable_by_key(|(index, _)| *index);
    let results: Vec<ItemResult> = results.into_iter().map(|(_, result)| result).collect();
    crate::metrics::record_items(&results);
    results
}

async fn process_item<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    item: WorkItem,
    options: Options,
    deadline: Instant,
) -> ItemResult {
    let started = Instant::now();
    let default_phone = app.config.default_phone_number_id.as_ref();
    let result = match item {
        WorkItem::Invalid(invalid) => ItemResult::invalid(invalid),
        WorkItem::Skipped { object, reason } => ItemResult::skipped(object, reason),
        WorkItem::Ids(request) => match resolve::ids(request, default_phone) {
            Ok(target) => delete(app, target, options, deadline).await,
            Err(invalid) => ItemResult::invalid(*invalid),
        },
        WorkItem::Object(item) => match resolve_before(app, item, deadline).await {
            Resolution::Target(target) => delete(app, target, options, deadline).await,
            Resolution::Skipped { object, reason } => ItemResult::skipped(Some(object), reason),
            Resolution::Invalid(invalid) => ItemResult::invalid(*invalid),
            Resolution::Failed { object, error } => ItemResult::lookup_failed(object, &error),
        },
    };
    crate::item_log::log(&result, started.elapsed());
    result
}

/// Resolves an object item, giving up (retryably) when S3 would not answer before the
/// deadline.
async fn resolve_before<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    item: ObjectItem,
    deadline: Instant,
) -> Resolution {
    let object = item.object.clone();
    deadline::bounded(deadline, resolve::object(&app.store, &app.config, item))
        .await
        .unwrap_or_else(|| Resolution::Failed {
            object,
            error: out_of_time("HeadObject"),
        })
}

fn out_of_time(operation: &'static str) -> StoreError {
    StoreError {
        operation,
        status: None,
        message: "no answer from S3 before the Lambda deadline".into(),
        retryable: true,
    }
}

/// WhatsApp first, S3 second: the object goes only once its media is gone.
async fn delete<M: MediaApi, S: ObjectStore>(
    app: &App<M, S>,
    target: Target,
    options: Options,
    deadline: Instant,
) -> ItemResult {
    let object = target.object.clone();
    let (source, media_id, phone_number_id) = (
        target.source.clone(),
        target.media_id.clone(),
        target.phone_number_id.clone(),
    );
    let result = if options.dry_run {
        ItemResult::dry_run(target)
    } else {
        let report = app
            .media
            .delete_media(&target.media_id, &target.phone_number_id, deadline)
            .await;
        ItemResult::deletion(target, report)
    };
    let media_gone = matches!(result.outcome, Outcome::Deleted | Outcome::AlreadyDeleted);
    match (options.objects, object) {
        (ObjectPolicy::NotOurs, _) | (_, None) => result,
        (ObjectPolicy::Delete, Some(object)) if media_gone => {
            let removal = removal::remove(
                &app.store,
                &app.config,
                &object,
                &source,
                &media_id,
                &phone_number_id,
            );
            let removal = deadline::bounded(deadline, removal)
                .await
                .unwrap_or_else(|| Err(out_of_time("DeleteObject")));
            result.with_s3_object(Some(removal))
        }
        (_, Some(_)) => result.with_s3_object(None),
    }
}

#[cfg(test)]
mod fake_tests {
    //! The handler's ordering and reporting with in-memory fakes of both sides, for the
    //! failures moto cannot be made to produce (a DeleteObject that fails).

    use std::collections::HashMap;
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;
    use crate::ids::{MediaId, PhoneNumberId};
    use crate::storage::ObjectHead;
    use crate::whatsapp::{DeleteReport, Deleted};

    #[derive(Default)]
    struct FakeMedia {
        calls: Mutex<Vec<String>>,
    }

    impl MediaApi for FakeMedia {
        async fn delete_media(
            &self,
            media_id: &MediaId,
            _: &PhoneNumberId,
            _: Instant,
        ) -> DeleteReport {
            self.calls.lock().unwrap().push(media_id.to_string());
            DeleteReport {
                result: Ok(Deleted::Deleted),
                attempts: 1,
                latencies: Vec::new(),
                throttles: 0,
            }
        }
    }

    /// One object at version "v1" whose DeleteObject fails with a 503.
    struct FailingDeletes {
        deletes: Mutex<u32>,
    }

    impl ObjectStore for FailingDeletes {
        async fn head(
            &self,
            _: &str,
            _: &str,
            _: Option<&str>,
        ) -> Result<Option<ObjectHead>, StoreError> {
            Ok(Some(ObjectHead {
                version_id: Some("v1".into()),
                etag: Some("\"e1\"".into()),
                last_modified: None,
                metadata: HashMap::from([
                    ("whatsapp-media-id".into(), "abc".into()),
                    (
                        "whatsapp-origination-phone-number-id".into(),
                        "phone-number-id-1".into(),
                    ),
                ]),
            }))
        }

        async fn tags(
            &self,
            _: &str,
            _: &str,
            _: Option<&str>,
        ) -> Result<HashMap<String, String>, StoreError> {
            Ok(HashMap::new())
        }

        async fn is_delete_marker(&self, _: &str, _: &str, _: &str) -> Result<bool, StoreError> {
            Ok(false)
        }

        async fn version_before_marker(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<String>, StoreError> {
            Ok(None)
        }

        async fn versions(
            &self,
            _: &str,
            _: &str,
        ) -> Result<Vec<crate::storage::KeyVersion>, StoreError> {
            Ok(vec![crate::storage::KeyVersion {
                version_id: "v1".into(),
                is_latest: true,
                is_delete_marker: false,
            }])
        }

        async fn delete(
            &self,
            _: &str,
            _: &str,
            _: Option<&str>,
            _: Option<&str>,
        ) -> Result<crate::storage::Deleted, StoreError> {
            *self.deletes.lock().unwrap() += 1;
            Err(StoreError {
                operation: "DeleteObject",
                status: Some(503),
                message: "SlowDown: Please reduce your request rate.".into(),
                retryable: true,
            })
        }
    }

    fn app() -> App<FakeMedia, FailingDeletes> {
        App {
            config: Config::from_lookup(|_| None).unwrap(),
            media: FakeMedia::default(),
            store: FailingDeletes {
                deletes: Mutex::new(0),
            },
        }
    }

    async fn invoke(app: &App<FakeMedia, FailingDeletes>, event: Value) -> Value {
        let mut context = lambda_runtime::Context::default();
        context.deadline = 600_000;
        handle(app, LambdaEvent::new(event, context)).await.unwrap()
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
        assert_eq!(*app.store.deletes.lock().unwrap(), 2);
    }

    #[tokio::test]
    async fn a_dry_run_keeps_objects_and_sends_nothing() {
        let app = app();
        let payload = invoke(&app, json!({"bucket": "b", "key": "k.jpg", "dryRun": true})).await;
        assert_eq!(payload["results"][0]["outcome"], "dryRun");
        assert_eq!(payload["results"][0]["s3Object"], "kept");
        assert!(app.media.calls.lock().unwrap().is_empty());
        assert_eq!(*app.store.deletes.lock().unwrap(), 0);
    }
}
