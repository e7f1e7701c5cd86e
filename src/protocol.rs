//! The answers AWS reads back from an invocation, besides the payload: the SQS
//! partial-batch response and the S3 Batch Operations response (in aws_lambda_events'
//! types), and the function error that makes Lambda retry an event and then keep it.

use aws_lambda_events::event::s3::batch_job::{S3BatchJobResponse, S3BatchJobResult};
use aws_lambda_events::event::sqs::SqsBatchResponse;
use lambda_runtime::Diagnostic;
use thiserror::Error;

use crate::event::EventError;
use crate::payload::{AnswerError, ItemResult, Outcome, Payload, S3Object};

/// The SQS partial-batch response: the messages to retry (and, in the end, to dead-letter).
pub fn sqs_response(failed_message_ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message_id in failed_message_ids {
        response.add_failure(message_id);
    }
    response
}

/// The S3 Batch Operations response: one result per task, in the invocation's order. A
/// task missing from the results is a `PermanentFailure`, never a silent success.
pub fn batch_response<'a>(
    schema_version: String,
    invocation_id: String,
    results: impl IntoIterator<Item = (String, &'a ItemResult)>,
) -> S3BatchJobResponse {
    let mut response = S3BatchJobResponse::default();
    response.invocation_schema_version = Some(schema_version);
    response.treat_missing_keys_as = Some(ResultCode::PermanentFailure.as_str().to_owned());
    response.invocation_id = Some(invocation_id);
    response.results = results
        .into_iter()
        .map(|(task_id, item)| task_result(task_id, item))
        .collect();
    response
}

/// An invocation that fails as a whole, so that Lambda's retries and failure destinations
/// take over. Lambda reports it as `{"errorType", "errorMessage"}`.
#[derive(Debug, Error)]
pub enum FunctionError {
    /// The event has no known shape, or an option of the wrong type.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
    /// A custom event whose answer might not fit in Lambda's response; refused before any
    /// work, as an invalid event.
    #[error(transparent)]
    AnswerTooLarge(#[from] AnswerError),
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
            FunctionError::InvalidEvent(_) | FunctionError::AnswerTooLarge(_) => "InvalidEvent",
            FunctionError::ItemsFailed { .. } => "ItemsFailed",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Fails the invocation of an asynchronous event if any of its items failed, naming the
/// first ten.
pub fn fail_on_failed_items(payload: &Payload) -> Result<(), FunctionError> {
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

/// A Batch Operations task's result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultCode {
    /// Done, already done, or nothing to do.
    Succeeded,
    /// Worth retrying.
    TemporaryFailure,
    /// Retrying will not help.
    PermanentFailure,
}

impl ResultCode {
    /// The code in S3's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "Succeeded",
            Self::TemporaryFailure => "TemporaryFailure",
            Self::PermanentFailure => "PermanentFailure",
        }
    }
}

/// Longest `resultString` written, in characters.
const RESULT_STRING_CHARS: usize = 500;

/// The result of one Batch Operations task, from its item's result.
fn task_result(task_id: String, item: &ItemResult) -> S3BatchJobResult {
    let media = item.media_id.as_deref().unwrap_or_default();
    let s3 = match item.s3_object {
        Some(S3Object::Deleted) if item.reason.is_some() => "; S3 object deleted, but ",
        Some(S3Object::Deleted) => "; S3 object deleted",
        Some(S3Object::AlreadyAbsent) => "; S3 object already absent",
        Some(S3Object::Kept) if item.reason.is_some() => "; S3 object kept: ",
        Some(S3Object::Kept) => "; S3 object kept",
        Some(S3Object::Failed) | None => "",
    };
    let (result_code, result_string) = if item.failed() {
        let error = item.error.as_ref().or(item.s3_error.as_ref());
        let code = if item.retryable() {
            ResultCode::TemporaryFailure
        } else {
            ResultCode::PermanentFailure
        };
        let text = error.map_or_else(String::new, |e| format!("{}: {}", e.error_type, e.message));
        (code, text)
    } else {
        // Why the object was kept, or what its key still serves once it was deleted.
        let mut kept_reason = match item.s3_object {
            Some(S3Object::Kept | S3Object::Deleted) => {
                item.reason.as_deref().unwrap_or_default().to_owned()
            }
            _ => String::new(),
        };
        if let Some(version) = &item.current_version_id {
            kept_reason.push_str(&format!(" ({version})"));
        }
        let text = match item.outcome {
            Outcome::Deleted => format!("deleted media {media}{s3}{kept_reason}"),
            Outcome::AlreadyDeleted => {
                format!("media {media} already deleted{s3}{kept_reason}")
            }
            Outcome::DryRun => format!("dry run: media {media} would be deleted"),
            Outcome::Skipped | Outcome::Failed => {
                format!("skipped: {}", item.reason.as_deref().unwrap_or_default())
            }
        };
        (ResultCode::Succeeded, text)
    };
    let mut result = S3BatchJobResult::default();
    result.task_id = Some(task_id);
    result.result_code = Some(result_code.as_str().to_owned());
    result.result_string = Some(result_string.chars().take(RESULT_STRING_CHARS).collect());
    result
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::{ObjectRef, StoreError};
    use crate::pipeline::ItemOutcome;

    fn result(outcome: ItemOutcome) -> ItemResult {
        ItemResult::from(outcome)
    }

    #[test]
    fn the_sqs_answer_names_each_message_to_retry() {
        let answer = serde_json::to_value(sqs_response(["m1".to_owned(), "m3".to_owned()]));
        assert_eq!(
            answer.unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        );
        let none = serde_json::to_value(sqs_response(Vec::new())).unwrap();
        assert_eq!(none, json!({"batchItemFailures": []}));
    }

    #[test]
    fn the_batch_answer_echoes_the_job_and_has_no_nulls() {
        let object = ObjectRef {
            bucket: "media".into(),
            key: "k.jpg".into(),
            version_id: None,
        };
        let skipped = result(ItemOutcome::Skipped {
            object: Some(object.clone()),
            reason: "no media id".into(),
        });
        let failed = result(ItemOutcome::LookupFailed {
            object,
            error: StoreError {
                operation: "HeadObject",
                status: Some(503),
                message: "SlowDown".into(),
                retryable: true,
            },
        });
        let invalid = result(ItemOutcome::Invalid(crate::model::InvalidItem {
            media_id: None,
            phone_number_id: None,
            object: None,
            problem: "the task has no s3Key".into(),
        }));
        let answer = batch_response(
            "2.0".into(),
            "inv".into(),
            [
                ("t1".to_owned(), &skipped),
                ("t2".to_owned(), &failed),
                ("t3".to_owned(), &invalid),
            ],
        );
        assert_eq!(
            serde_json::to_value(answer).unwrap(),
            json!({"invocationSchemaVersion": "2.0", "treatMissingKeysAs": "PermanentFailure",
                   "invocationId": "inv", "results": [
                {"taskId": "t1", "resultCode": "Succeeded", "resultString": "skipped: no media id"},
                {"taskId": "t2", "resultCode": "TemporaryFailure",
                 "resultString": "MetadataLookupFailed: HeadObject failed: SlowDown"},
                {"taskId": "t3", "resultCode": "PermanentFailure",
                 "resultString": "InvalidInput: the task has no s3Key"}]})
        );
    }
}
