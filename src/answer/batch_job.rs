//! The S3 Batch Operations response: one result code and string per task.

use aws_lambda_events::event::s3::batch_job::{S3BatchJobResponse, S3BatchJobResult};

use super::payload::{ItemResult, Outcome, S3Object};
use crate::ledger::LedgerError;

/// The S3 Batch Operations response: one result per task, in the invocation's order. A
/// task missing from the results is a `PermanentFailure`, never a silent success. When
/// the erasure ledger could not record the tasks (`unrecorded`), each is a
/// `TemporaryFailure`, so that Batch Operations retries it and the retry is recorded.
pub fn batch_response<'a>(
    schema_version: String,
    invocation_id: String,
    results: impl IntoIterator<Item = (String, &'a ItemResult)>,
    unrecorded: Option<&LedgerError>,
) -> S3BatchJobResponse {
    let mut response = S3BatchJobResponse::default();
    response.invocation_schema_version = Some(schema_version);
    response.treat_missing_keys_as = Some(ResultCode::PermanentFailure.as_str().to_owned());
    response.invocation_id = Some(invocation_id);
    response.results = results
        .into_iter()
        .map(|(task_id, item)| {
            let result = task_result(task_id, item);
            match unrecorded {
                Some(error) => unrecorded_result(result, error),
                None => result,
            }
        })
        .collect();
    response
}

/// A task's result when the ledger could not record it: a `TemporaryFailure` that says
/// what was done and why it must be retried.
fn unrecorded_result(mut result: S3BatchJobResult, error: &LedgerError) -> S3BatchJobResult {
    let done = result.result_string.take().unwrap_or_default();
    let text = format!("{}: {done} (not recorded: {error})", LedgerError::TYPE);
    result.result_code = Some(ResultCode::TemporaryFailure.as_str().to_owned());
    result.result_string = Some(text.chars().take(RESULT_STRING_CHARS).collect());
    result
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
            None,
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

        let unrecorded = LedgerError {
            bucket: "ledger".into(),
            key: "erasures/x.json".into(),
            error: StoreError {
                operation: "PutObject",
                status: Some(503),
                message: "SlowDown".into(),
                retryable: true,
            },
        };
        let answer = batch_response(
            "2.0".into(),
            "inv".into(),
            [("t1".to_owned(), &skipped), ("t3".to_owned(), &invalid)],
            Some(&unrecorded),
        );
        assert_eq!(
            serde_json::to_value(answer).unwrap()["results"],
            json!([
                {"taskId": "t1", "resultCode": "TemporaryFailure", "resultString":
                 "LedgerWriteFailed: skipped: no media id (not recorded: the erasure ledger could not be written to s3://ledger/erasures/x.json: PutObject failed: SlowDown)"},
                {"taskId": "t3", "resultCode": "TemporaryFailure", "resultString":
                 "LedgerWriteFailed: InvalidInput: the task has no s3Key (not recorded: the erasure ledger could not be written to s3://ledger/erasures/x.json: PutObject failed: SlowDown)"}])
        );
    }
}
