//! The function error: an invocation that fails as a whole, so that Lambda retries the
//! event and then keeps it in the failure destination.

use lambda_runtime::Diagnostic;
use thiserror::Error;

use super::payload::{ItemResult, Payload};
use super::size::AnswerError;
use crate::event::EventError;
use crate::ledger::LedgerError;

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
    /// The erasure ledger could not record an asynchronous event's results: Lambda retries
    /// the event, and the retry records what it finds.
    #[error(transparent)]
    LedgerWriteFailed(#[from] LedgerError),
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        let error_type = match &error {
            FunctionError::InvalidEvent(_) | FunctionError::AnswerTooLarge(_) => "InvalidEvent",
            FunctionError::ItemsFailed { .. } => "ItemsFailed",
            FunctionError::LedgerWriteFailed(_) => LedgerError::TYPE,
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
