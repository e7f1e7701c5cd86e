//! Item results and the result payload (contract, section 6).

use std::time::Duration;

use serde::Serialize;

use crate::event::{InvalidItem, ObjectRef};
use crate::resolve::Target;
use crate::storage::{Removal, StoreError};
use crate::whatsapp::{DeleteReport, Deleted, MediaError};

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Outcome {
    /// The media was deleted.
    Deleted,
    /// The media was gone already.
    AlreadyDeleted,
    /// Dry run: everything checked, nothing sent.
    DryRun,
    /// The item failed; `error` says why.
    Failed,
    /// Nothing to do; `reason` says why.
    Skipped,
}

impl Outcome {
    /// The outcome in the payload's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::AlreadyDeleted => "alreadyDeleted",
            Self::DryRun => "dryRun",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }
}

/// A failure, as reported in the payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorReport {
    /// The service's error code as received, or one of the function's own types.
    #[serde(rename = "type")]
    pub error_type: String,
    /// The HTTP status, when there was a response.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// Whether the same request may succeed later.
    pub retryable: bool,
    /// The service's request id, when it sent one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl ErrorReport {
    /// An S3 failure, under one of the function's own error types.
    fn s3(error_type: &str, error: &StoreError) -> Self {
        Self {
            error_type: error_type.into(),
            http_status: error.status,
            message: error.to_string(),
            retryable: error.retryable,
            request_id: None,
        }
    }
}

/// What became of the S3 object of an item that names one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum S3Object {
    /// Deleted, after its media.
    Deleted,
    /// It was gone already.
    AlreadyAbsent,
    /// Left in place: the media is not gone, or deletion was not asked for.
    Kept,
    /// The delete failed; `s3Error` says why.
    Failed,
}

impl S3Object {
    /// What became of the object, in the payload's words.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::AlreadyAbsent => "alreadyAbsent",
            Self::Kept => "kept",
            Self::Failed => "failed",
        }
    }
}

impl From<&MediaError> for ErrorReport {
    fn from(error: &MediaError) -> Self {
        Self {
            error_type: error.error_type().to_owned(),
            http_status: error.http_status(),
            message: error.message().to_owned(),
            retryable: error.retryable(),
            request_id: error.request_id().map(str::to_owned),
        }
    }
}

/// The result of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemResult {
    /// The media id, as given or found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub media_id: Option<String>,
    /// The phone number id, as given or found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origination_phone_number_id: Option<String>,
    /// The S3 object, when the item names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectRef>,
    /// What happened.
    pub outcome: Outcome,
    /// Why the item was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What became of the S3 object, for items whose object may be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_object: Option<S3Object>,
    /// Requests sent to the API for this item.
    pub attempts: u32,
    /// Why the item failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// Why the S3 object could not be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_error: Option<ErrorReport>,
    /// The round trip of each request sent, for the metrics; not in the payload.
    #[serde(skip)]
    pub api_latencies: Vec<Duration>,
    /// How many of the requests sent were throttled, for the metrics; not in the payload.
    #[serde(skip)]
    pub throttles: u32,
}

impl ItemResult {
    /// An item that failed validation: it was never sent. The invalid values it echoes are
    /// cut short, so that a multi-megabyte field does not travel on into the payload and
    /// the logs.
    pub fn invalid(item: InvalidItem) -> Self {
        Self {
            media_id: item.media_id.map(echo),
            origination_phone_number_id: item.phone_number_id.map(echo),
            object: item.object,
            outcome: Outcome::Failed,
            reason: None,
            s3_object: None,
            attempts: 0,
            error: Some(ErrorReport {
                error_type: "InvalidInput".into(),
                http_status: None,
                message: item.problem,
                retryable: false,
                request_id: None,
            }),
            s3_error: None,
            api_latencies: Vec::new(),
            throttles: 0,
        }
    }

    /// An item with nothing to do.
    pub fn skipped(object: Option<ObjectRef>, reason: String) -> Self {
        Self {
            media_id: None,
            origination_phone_number_id: None,
            object,
            outcome: Outcome::Skipped,
            reason: Some(reason),
            s3_object: None,
            attempts: 0,
            error: None,
            s3_error: None,
            api_latencies: Vec::new(),
            throttles: 0,
        }
    }

    /// An object whose metadata could not be read.
    pub fn lookup_failed(object: ObjectRef, error: &StoreError) -> Self {
        Self {
            media_id: None,
            origination_phone_number_id: None,
            object: Some(object),
            outcome: Outcome::Failed,
            reason: None,
            s3_object: None,
            attempts: 0,
            error: Some(ErrorReport::s3("MetadataLookupFailed", error)),
            s3_error: None,
            api_latencies: Vec::new(),
            throttles: 0,
        }
    }

    /// Records what became of the S3 object: `None` when its deletion was not attempted.
    pub fn with_s3_object(mut self, removal: Option<Result<Removal, StoreError>>) -> Self {
        (self.s3_object, self.s3_error) = match removal {
            None => (Some(S3Object::Kept), None),
            Some(Ok(Removal::Deleted)) => (Some(S3Object::Deleted), None),
            Some(Ok(Removal::AlreadyAbsent)) => (Some(S3Object::AlreadyAbsent), None),
            Some(Err(e)) => (
                Some(S3Object::Failed),
                Some(ErrorReport::s3("S3DeleteFailed", &e)),
            ),
        };
        self
    }

    /// Whether the item failed, at either step.
    pub fn failed(&self) -> bool {
        self.outcome == Outcome::Failed || self.s3_object == Some(S3Object::Failed)
    }

    /// Whether a failure of the item may succeed if retried.
    pub fn retryable(&self) -> bool {
        self.error.iter().chain(&self.s3_error).any(|e| e.retryable)
    }

    /// A valid item in a dry run: nothing was sent.
    pub fn dry_run(target: Target) -> Self {
        Self::for_target(target, Outcome::DryRun, 0, None, Vec::new())
    }

    /// The end of a deletion that was sent.
    pub fn deletion(target: Target, report: DeleteReport) -> Self {
        let (outcome, error) = match &report.result {
            Ok(Deleted::Deleted) => (Outcome::Deleted, None),
            Ok(Deleted::AlreadyDeleted) => (Outcome::AlreadyDeleted, None),
            Err(e) => (Outcome::Failed, Some(ErrorReport::from(e))),
        };
        Self::for_target(target, outcome, report.attempts, error, report.latencies)
            .with_throttles(report.throttles)
    }

    fn for_target(
        target: Target,
        outcome: Outcome,
        attempts: u32,
        error: Option<ErrorReport>,
        api_latencies: Vec<Duration>,
    ) -> Self {
        Self {
            media_id: Some(target.media_id.as_str().to_owned()),
            origination_phone_number_id: Some(target.phone_number_id.as_str().to_owned()),
            object: target.object,
            outcome,
            reason: None,
            s3_object: None,
            attempts,
            error,
            s3_error: None,
            api_latencies,
            throttles: 0,
        }
    }

    fn with_throttles(mut self, throttles: u32) -> Self {
        self.throttles = throttles;
        self
    }
}

/// Longest invalid value echoed back, in characters: ids are at most 100 when valid.
const ECHO_CHARS: usize = 120;

fn echo(value: String) -> String {
    if value.chars().count() <= ECHO_CHARS {
        return value;
    }
    let mut cut: String = value.chars().take(ECHO_CHARS).collect();
    cut.push('…');
    cut
}

/// Counts of each outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub total: usize,
    pub deleted: usize,
    pub already_deleted: usize,
    pub failed: usize,
    pub skipped: usize,
    pub dry_run: usize,
}

/// The result payload of an invocation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    /// True when no item failed (nor the deletion of its S3 object).
    pub success: bool,
    /// Whether this invocation was a dry run.
    pub dry_run: bool,
    /// Counts of each outcome.
    pub summary: Summary,
    /// One result per item, in the order of the event.
    pub results: Vec<ItemResult>,
}

impl Payload {
    /// Sums up `results`.
    pub fn new(dry_run: bool, results: Vec<ItemResult>) -> Self {
        let mut summary = Summary {
            total: results.len(),
            ..Summary::default()
        };
        for result in &results {
            let count = match result.outcome {
                Outcome::Deleted => &mut summary.deleted,
                Outcome::AlreadyDeleted => &mut summary.already_deleted,
                Outcome::DryRun => &mut summary.dry_run,
                Outcome::Failed => &mut summary.failed,
                Outcome::Skipped => &mut summary.skipped,
            };
            *count += 1;
        }
        Self {
            success: !results.iter().any(ItemResult::failed),
            dry_run,
            summary,
            results,
        }
    }
}

/// The SQS partial-batch response: the messages to retry (and, in the end, to dead-letter).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SqsResponse {
    /// Messages that failed or could not be read.
    pub batch_item_failures: Vec<BatchItemFailure>,
}

/// One SQS message to retry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    /// The SQS `messageId`.
    pub item_identifier: String,
}

/// The S3 Batch Operations response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// Echoed from the invocation.
    pub invocation_schema_version: String,
    /// How S3 treats tasks missing from `results`.
    pub treat_missing_keys_as: ResultCode,
    /// Echoed from the invocation.
    pub invocation_id: String,
    /// One result per task.
    pub results: Vec<TaskResult>,
}

/// A Batch Operations task's result code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ResultCode {
    /// Done, already done, or nothing to do.
    Succeeded,
    /// Worth retrying.
    TemporaryFailure,
    /// Retrying will not help.
    PermanentFailure,
}

/// The result of one Batch Operations task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskResult {
    /// Echoed from the task.
    pub task_id: String,
    /// The task's result.
    pub result_code: ResultCode,
    /// What happened, in a few words (it lands in the job's completion report).
    pub result_string: String,
}

/// Longest `resultString` written, in characters.
const RESULT_STRING_CHARS: usize = 500;

impl TaskResult {
    /// The task result of an item.
    pub fn new(task_id: String, item: &ItemResult) -> Self {
        let media = item.media_id.as_deref().unwrap_or_default();
        let s3 = match item.s3_object {
            Some(S3Object::Deleted) => "; S3 object deleted",
            Some(S3Object::AlreadyAbsent) => "; S3 object already absent",
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
            let text =
                error.map_or_else(String::new, |e| format!("{}: {}", e.error_type, e.message));
            (code, text)
        } else {
            let text = match item.outcome {
                Outcome::Deleted => format!("deleted media {media}{s3}"),
                Outcome::AlreadyDeleted => format!("media {media} already deleted{s3}"),
                Outcome::DryRun => format!("dry run: media {media} would be deleted"),
                Outcome::Skipped | Outcome::Failed => {
                    format!("skipped: {}", item.reason.as_deref().unwrap_or_default())
                }
            };
            (ResultCode::Succeeded, text)
        };
        Self {
            task_id,
            result_code,
            result_string: result_string.chars().take(RESULT_STRING_CHARS).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::{MediaId, PhoneNumberId};

    #[test]
    fn words_for_logs_are_the_payload_words() {
        for outcome in [
            Outcome::Deleted,
            Outcome::AlreadyDeleted,
            Outcome::DryRun,
            Outcome::Failed,
            Outcome::Skipped,
        ] {
            assert_eq!(json!(outcome), json!(outcome.as_str()));
        }
        for s3_object in [
            S3Object::Deleted,
            S3Object::AlreadyAbsent,
            S3Object::Kept,
            S3Object::Failed,
        ] {
            assert_eq!(json!(s3_object), json!(s3_object.as_str()));
        }
    }

    #[test]
    fn payload_matches_the_contract_shape() {
        let target = Target {
            media_id: MediaId::parse("3f9a1c").unwrap(),
            phone_number_id: PhoneNumberId::parse("phone-number-id-0123").unwrap(),
            object: None,
            object_read: false,
        };
        let failed = ItemResult::deletion(
            target.clone(),
            DeleteReport {
                result: Err(MediaError::Service {
                    code: "ThrottledRequestException".into(),
                    status: 429,
                    message: "Rate exceeded".into(),
                    request_id: Some("r-1".into()),
                }),
                attempts: 3,
                latencies: Vec::new(),
                throttles: 0,
            },
        );
        let deleted = ItemResult::deletion(
            target,
            DeleteReport {
                result: Ok(Deleted::Deleted),
                attempts: 1,
                latencies: Vec::new(),
                throttles: 0,
            },
        );
        let payload = serde_json::to_value(Payload::new(false, vec![failed, deleted])).unwrap();
        assert_eq!(
            payload,
            json!({
                "success": false,
                "dryRun": false,
                "summary": {"total": 2, "deleted": 1, "alreadyDeleted": 0, "failed": 1, "skipped": 0, "dryRun": 0},
                "results": [
                    {"mediaId": "3f9a1c", "originationPhoneNumberId": "phone-number-id-0123",
                     "outcome": "failed", "attempts": 3,
                     "error": {"type": "ThrottledRequestException", "httpStatus": 429,
                               "message": "Rate exceeded", "retryable": true, "requestId": "r-1"}},
                    {"mediaId": "3f9a1c", "originationPhoneNumberId": "phone-number-id-0123",
                     "outcome": "deleted", "attempts": 1}
                ]
            })
        );
    }

    #[test]
    fn an_empty_event_succeeds() {
        let payload = Payload::new(true, vec![]);
        assert!(payload.success);
        assert_eq!(payload.summary.total, 0);
    }
}
