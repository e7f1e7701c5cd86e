//! One record of the erasure ledger: what became of one item, flat, in the payload's
//! camelCase words, with the evidence (the API's request id) and who asked and why.
//! Every field is always written, `null` when it does not apply, so that each record has
//! the same columns for Athena and DuckDB.

use serde::Serialize;

use crate::answer::payload::{self, ItemResult};
use crate::model::Source;
use crate::telemetry::Settled;

/// The longest requester, job id, task id or request id written, in characters: values
/// from an event or an answer are bounded before they are stored.
const ECHO_CHARS: usize = 256;

/// The invocation around the records.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    /// Lambda's request id of the invocation.
    pub lambda_request_id: &'a str,
    /// `AWS_LAMBDA_FUNCTION_VERSION`: `$LATEST`, or the published version that ran.
    pub function_version: &'a str,
}

/// One item's record.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Record<'a> {
    /// When the item ended: RFC 3339, UTC, to the millisecond.
    pub time: String,
    pub outcome: &'static str,
    pub reason: Option<&'a str>,
    pub error_type: Option<&'a str>,
    pub error_message: Option<&'a str>,
    pub media_id: Option<&'a str>,
    pub origination_phone_number_id: Option<&'a str>,
    pub bucket: Option<&'a str>,
    pub key: Option<&'a str>,
    pub version_id: Option<&'a str>,
    pub s3_object: Option<&'static str>,
    pub current_version_id: Option<&'a str>,
    /// The `x-amzn-RequestId` of the media API's answer that decided the outcome.
    pub request_id: Option<String>,
    pub attempts: u32,
    pub source: Source,
    pub requester: Option<String>,
    pub reference: Option<&'a str>,
    pub job_id: Option<String>,
    pub task_id: Option<String>,
    pub lambda_request_id: &'a str,
    pub function_version: &'a str,
}

impl<'a> Record<'a> {
    /// The record of a settled item.
    pub fn new(settled: &'a Settled, invocation: Invocation<'a>) -> Self {
        let Settled {
            result,
            telemetry,
            origin,
            ended,
        } = settled;
        let ItemResult {
            media_id,
            origination_phone_number_id,
            object,
            outcome,
            reason,
            s3_object,
            current_version_id,
            attempts,
            error,
            s3_error,
        } = result;
        let error = error.as_ref().or(s3_error.as_ref());
        let request_id = telemetry
            .request_id
            .as_deref()
            .or_else(|| error.and_then(|e| e.request_id.as_deref()))
            .map(bounded);
        Self {
            time: crate::clock::rfc3339(*ended),
            outcome: outcome.as_str(),
            reason: reason.as_deref(),
            error_type: error.map(|e| e.error_type.as_str()),
            error_message: error.map(|e| e.message.as_str()),
            media_id: media_id.as_deref(),
            origination_phone_number_id: origination_phone_number_id.as_deref(),
            bucket: object.as_ref().map(|o| o.bucket.as_str()),
            key: object.as_ref().map(|o| o.key.as_str()),
            version_id: object.as_ref().and_then(|o| o.version_id.as_deref()),
            s3_object: s3_object.map(|s| s.as_str()),
            current_version_id: current_version_id.as_deref(),
            request_id,
            attempts: *attempts,
            source: origin.source,
            requester: origin.requester.as_deref().map(bounded),
            reference: origin.reference.as_deref(),
            job_id: origin.job_id.as_deref().map(bounded),
            task_id: origin.task_id.as_deref().map(bounded),
            lambda_request_id: invocation.lambda_request_id,
            function_version: invocation.function_version,
        }
    }
}

/// `value` cut to [`ECHO_CHARS`], with an ellipsis.
fn bounded(value: &str) -> String {
    payload::cut(value, ECHO_CHARS)
}
