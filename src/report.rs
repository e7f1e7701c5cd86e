//! Item results and the result payload (contract, section 6).

use serde::Serialize;

use crate::event::{InvalidItem, ObjectRef};
use crate::resolve::Target;
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
    /// Requests sent to the API for this item.
    pub attempts: u32,
    /// Why the item failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
}

impl ItemResult {
    /// An item that failed validation: it was never sent.
    pub fn invalid(item: InvalidItem) -> Self {
        Self {
            media_id: item.media_id,
            origination_phone_number_id: item.phone_number_id,
            object: item.object,
            outcome: Outcome::Failed,
            reason: None,
            attempts: 0,
            error: Some(ErrorReport {
                error_type: "InvalidInput".into(),
                http_status: None,
                message: item.problem,
                retryable: false,
                request_id: None,
            }),
        }
    }

    /// A valid item in a dry run: nothing was sent.
    pub fn dry_run(target: Target) -> Self {
        Self::for_target(target, Outcome::DryRun, 0, None)
    }

    /// The end of a deletion that was sent.
    pub fn deletion(target: Target, report: DeleteReport) -> Self {
        let (outcome, error) = match &report.result {
            Ok(Deleted::Deleted) => (Outcome::Deleted, None),
            Ok(Deleted::AlreadyDeleted) => (Outcome::AlreadyDeleted, None),
            Err(e) => (Outcome::Failed, Some(ErrorReport::from(e))),
        };
        Self::for_target(target, outcome, report.attempts, error)
    }

    fn for_target(
        target: Target,
        outcome: Outcome,
        attempts: u32,
        error: Option<ErrorReport>,
    ) -> Self {
        Self {
            media_id: Some(target.media_id.as_str().to_owned()),
            origination_phone_number_id: Some(target.phone_number_id.as_str().to_owned()),
            object: target.object,
            outcome,
            reason: None,
            attempts,
            error,
        }
    }
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
    /// True when no item failed.
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
            success: summary.failed == 0,
            dry_run,
            summary,
            results,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::{MediaId, PhoneNumberId};

    #[test]
    fn payload_matches_the_contract_shape() {
        let target = Target {
            media_id: MediaId::parse("3f9a1c").unwrap(),
            phone_number_id: PhoneNumberId::parse("phone-number-id-0123").unwrap(),
            object: None,
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
            },
        );
        let deleted = ItemResult::deletion(
            target,
            DeleteReport {
                result: Ok(Deleted::Deleted),
                attempts: 1,
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
