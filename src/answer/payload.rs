//! The result payload (contract, section 6), the answer to custom events and the body of
//! a notification's log: one result per item, written from its typed outcome.

use serde::Serialize;

use crate::ledger::LedgerError;
use crate::model::{InvalidItem, KeyNow, ObjectRef, Removal, StoreError, Target};
use crate::pipeline::{ItemOutcome, MediaStep, ObjectStep};
use crate::whatsapp::{MediaError, MediaGone};

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
    /// The same report, with `message` (clipped) for its message.
    fn with_message(self, message: impl std::fmt::Display) -> Self {
        Self {
            message: clip(message.to_string()),
            ..self
        }
    }

    /// An S3 failure, under one of the function's own error types.
    fn s3(error_type: &str, error: &StoreError) -> Self {
        Self {
            error_type: error_type.into(),
            http_status: error.status,
            message: clip(error.to_string()),
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
            error_type: clip_to(error.error_type(), LABEL_CHARS),
            http_status: error.http_status(),
            message: clip(error.message()),
            retryable: error.retryable(),
            request_id: error.request_id().map(|id| clip_to(id, LABEL_CHARS)),
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
    /// Why the item was skipped, or why its S3 object was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// What became of the S3 object, for items whose object may be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_object: Option<S3Object>,
    /// Once the function deleted the item's object version: the version the key serves
    /// now, when it still serves one (deleting the current version by its id makes the
    /// previous one current).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version_id: Option<String>,
    /// Requests sent to the API for this item.
    pub attempts: u32,
    /// Why the item failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorReport>,
    /// Why the S3 object could not be deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_error: Option<ErrorReport>,
}

impl From<ItemOutcome> for ItemResult {
    fn from(outcome: ItemOutcome) -> Self {
        match outcome {
            ItemOutcome::Invalid(item) => Self::invalid(item),
            ItemOutcome::Skipped { object, reason } => Self::skipped(object, reason),
            ItemOutcome::LookupFailed { object, error } => Self::lookup_failed(object, &error),
            ItemOutcome::HeldBack { target, reason } => Self {
                reason: Some(clip(reason)),
                ..Self::for_target(target, Outcome::Skipped, 0, None)
            },
            ItemOutcome::Resolved {
                target,
                media,
                object,
            } => {
                let result = match media {
                    MediaStep::DryRun => Self::for_target(target, Outcome::DryRun, 0, None),
                    MediaStep::Sent { result, attempts } => {
                        Self::deletion(target, result, attempts)
                    }
                };
                match object {
                    ObjectStep::Untouched => result,
                    ObjectStep::Kept => result.with_s3_object(None),
                    ObjectStep::Removed(removal) => result.with_s3_object(Some(removal)),
                }
            }
        }
    }
}

impl ItemResult {
    /// An item that failed validation: it was never sent. The invalid values it echoes are
    /// cut short, so that a multi-megabyte field does not travel on into the payload and
    /// the logs.
    fn invalid(item: InvalidItem) -> Self {
        Self {
            media_id: item.media_id.map(echo),
            origination_phone_number_id: item.phone_number_id.map(echo),
            object: item.object,
            outcome: Outcome::Failed,
            reason: None,
            s3_object: None,
            current_version_id: None,
            attempts: 0,
            error: Some(ErrorReport {
                error_type: "InvalidInput".into(),
                http_status: None,
                message: clip(item.problem),
                retryable: false,
                request_id: None,
            }),
            s3_error: None,
        }
    }

    /// An item with nothing to do.
    pub(super) fn skipped(object: Option<ObjectRef>, reason: String) -> Self {
        Self {
            media_id: None,
            origination_phone_number_id: None,
            object,
            outcome: Outcome::Skipped,
            reason: Some(clip(reason)),
            s3_object: None,
            current_version_id: None,
            attempts: 0,
            error: None,
            s3_error: None,
        }
    }

    /// An object whose metadata could not be read.
    fn lookup_failed(object: ObjectRef, error: &StoreError) -> Self {
        Self {
            media_id: None,
            origination_phone_number_id: None,
            object: Some(object),
            outcome: Outcome::Failed,
            reason: None,
            s3_object: None,
            current_version_id: None,
            attempts: 0,
            error: Some(ErrorReport::s3("MetadataLookupFailed", error)),
            s3_error: None,
        }
    }

    /// Records what became of the S3 object: `None` when its deletion was not attempted.
    pub(super) fn with_s3_object(mut self, removal: Option<Result<Removal, StoreError>>) -> Self {
        (self.s3_object, self.s3_error) = match removal {
            None => (Some(S3Object::Kept), None),
            Some(Ok(Removal::Deleted(now))) => {
                self.reason = match &now {
                    KeyNow::Empty => None,
                    KeyNow::Serves { same_media: false, .. } => Some(
                        "the key still serves a file: another version of it is current now (currentVersionId)".into(),
                    ),
                    KeyNow::Serves { same_media: true, .. } => Some(
                        "the key still serves a file: another version of it is current now (currentVersionId), and it records the same media, whose WhatsApp copy is gone".into(),
                    ),
                    KeyNow::ServesUnversioned => Some(
                        "the key still serves a file: an object without a version id is current now".into(),
                    ),
                    KeyNow::Unknown(error) => Some(clip(format!(
                        "the version was deleted, but what the key serves now could not be read: {error}"
                    ))),
                };
                if let KeyNow::Serves { version_id, .. } = now {
                    self.current_version_id = Some(clip_to(&version_id, VERSION_CHARS));
                }
                (Some(S3Object::Deleted), None)
            }
            Some(Ok(Removal::AlreadyAbsent)) => (Some(S3Object::AlreadyAbsent), None),
            Some(Ok(Removal::Kept(reason))) => {
                self.reason = Some(clip(reason));
                (Some(S3Object::Kept), None)
            }
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

    /// The end of a deletion that was sent.
    pub(super) fn deletion(
        target: Target,
        result: Result<MediaGone, MediaError>,
        attempts: u32,
    ) -> Self {
        let (outcome, error) = match &result {
            Ok(MediaGone::Now) => (Outcome::Deleted, None),
            Ok(MediaGone::Already) => (Outcome::AlreadyDeleted, None),
            Err(e) => (Outcome::Failed, Some(ErrorReport::from(e))),
        };
        Self::for_target(target, outcome, attempts, error)
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
            s3_object: None,
            current_version_id: None,
            attempts,
            error,
            s3_error: None,
        }
    }
}

/// Longest invalid value echoed back, in characters: ids are at most 115 when valid.
pub(super) const ECHO_CHARS: usize = 120;

/// Longest message or reason the function writes into a result, in characters.
pub(super) const MESSAGE_CHARS: usize = 400;
/// Longest error type or request id written, in characters.
pub(super) const LABEL_CHARS: usize = 64;
/// Longest version id the function writes of its own reading (`currentVersionId`), in
/// characters: S3's version ids are 32; one longer (AWS allows 1,024 bytes) is cut, with
/// an ellipsis, so that 1,000 items still fit in one answer.
pub(super) const VERSION_CHARS: usize = 48;

/// `text` on one line (control characters become spaces), cut to [`MESSAGE_CHARS`]: what
/// the function writes stays small and bounded, whatever a service or S3 said.
fn clip(text: impl AsRef<str>) -> String {
    clip_to(text.as_ref(), MESSAGE_CHARS)
}

fn clip_to(text: &str, max_chars: usize) -> String {
    let mut clipped: String = text
        .chars()
        .take(max_chars)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(max_chars).is_some() {
        clipped.push('…');
    }
    clipped
}

/// `value` as echoed back: cut to [`ECHO_CHARS`], with an ellipsis.
pub(super) fn echo(value: String) -> String {
    if value.chars().count() <= ECHO_CHARS {
        return value;
    }
    cut(&value, ECHO_CHARS)
}

/// `value` cut to `max_chars`, with an ellipsis when it was longer.
pub(crate) fn cut(value: &str, max_chars: usize) -> String {
    let mut cut: String = value.chars().take(max_chars).collect();
    if value.chars().nth(max_chars).is_some() {
        cut.push('…');
    }
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
    /// The event's `reference`, as the erasure ledger records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Why the erasure ledger could not record the results: the invocation failed, and
    /// should be sent again (a retry records what it finds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ledger_error: Option<ErrorReport>,
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
            reference: None,
            ledger_error: None,
        }
    }

    /// The same payload, answering an event with this `reference`.
    pub fn with_reference(self, reference: Option<String>) -> Self {
        Self { reference, ..self }
    }

    /// The same payload, failed because the erasure ledger could not record it.
    pub fn with_ledger_error(self, error: &LedgerError) -> Self {
        Self {
            success: false,
            ledger_error: Some(
                ErrorReport::s3(LedgerError::TYPE, &error.error).with_message(error),
            ),
            ..self
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
            source: crate::model::ObjectSource::Key,
        };
        let failed = ItemResult::deletion(
            target.clone(),
            Err(MediaError::Service {
                code: "ThrottledRequestException".into(),
                status: 429,
                message: "Rate exceeded".into(),
                request_id: Some("r-1".into()),
            }),
            3,
        );
        let deleted = ItemResult::deletion(target, Ok(MediaGone::Now), 1);
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
