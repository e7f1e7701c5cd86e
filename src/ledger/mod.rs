//! The erasure ledger: every item's result, as one JSON record, in an S3 object per
//! invocation, written before the invocation answers. A sink beside the metrics: it
//! records what the pipeline did and decides nothing.
//!
//! Records go under `<prefix>year=YYYY/month=MM/day=DD/` (the day the object is written,
//! in UTC), as JSON lines, in an object whose name holds the time to the millisecond,
//! Lambda's request id and a count of this instance's writes, and which is written with
//! `If-None-Match: *`: no two invocations share one, and none is ever replaced. When the
//! write fails, the invocation fails the way its source retries (`handler.rs`), and the
//! retry records what it finds.

mod record;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Instant, SystemTime};

use thiserror::Error;

pub use record::{Invocation, Record};

use crate::config::LedgerSettings;
use crate::deadline;
use crate::model::StoreError;
use crate::s3::ObjectStore;
use crate::telemetry::Settled;

/// The records' content type: one JSON document a line.
const CONTENT_TYPE: &str = "application/x-ndjson";

/// This instance's writes so far: part of each object's name.
static WRITES: AtomicU64 = AtomicU64::new(0);

/// A ledger that could not be written: the invocation must fail so that it is retried.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the erasure ledger could not be written to s3://{bucket}/{key}: {error}")]
pub struct LedgerError {
    pub bucket: String,
    pub key: String,
    pub error: StoreError,
}

impl LedgerError {
    /// The error's type in answers and logs.
    pub const TYPE: &'static str = "LedgerWriteFailed";
}

/// Writes one record per settled item, in one object; nothing when there is no ledger or
/// no item.
pub async fn write<S: ObjectStore>(
    store: &S,
    settings: Option<&LedgerSettings>,
    settled: &[Settled],
    invocation: Invocation<'_>,
    deadline: Instant,
) -> Result<(), LedgerError> {
    let Some(settings) = settings else {
        return Ok(());
    };
    if settled.is_empty() {
        return Ok(());
    }
    let key = object_key(
        &settings.prefix,
        SystemTime::now(),
        invocation.lambda_request_id,
        WRITES.fetch_add(1, Ordering::Relaxed),
    );
    let body = lines(settled, invocation);
    let put = store.put_new(&settings.bucket, &key, body, CONTENT_TYPE);
    // The items stopped REPORT_MARGIN before the deadline, which leaves this write its time.
    let written = deadline::before_answer(deadline, put)
        .await
        .unwrap_or_else(|| Err(StoreError::out_of_time("PutObject")));
    written.map_err(|error| LedgerError {
        bucket: settings.bucket.clone(),
        key,
        error,
    })
}

/// The records, one JSON document a line.
fn lines(settled: &[Settled], invocation: Invocation<'_>) -> Vec<u8> {
    let mut body = Vec::with_capacity(settled.len() * 512);
    for item in settled {
        // A record of strings and numbers always serialises.
        if serde_json::to_writer(&mut body, &Record::new(item, invocation)).is_ok() {
            body.push(b'\n');
        }
    }
    body
}

/// `<prefix>year=YYYY/month=MM/day=DD/<YYYYMMDDTHHMMSSmmmZ>-<request id>-<count>.json`.
/// The request id keeps only letters, digits and `-` (Lambda's are UUIDs).
fn object_key(prefix: &str, now: SystemTime, lambda_request_id: &str, count: u64) -> String {
    let time = crate::clock::rfc3339(now);
    let digits: String = time.chars().filter(char::is_ascii_digit).collect();
    let (date, rest) = digits.split_at(digits.len().min(8));
    let (year, month, day) = (
        date.get(..4).unwrap_or_default(),
        date.get(4..6).unwrap_or_default(),
        date.get(6..8).unwrap_or_default(),
    );
    let clock = rest;
    let request_id: String = lambda_request_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .take(64)
        .collect();
    format!("{prefix}year={year}/month={month}/day={day}/{date}T{clock}Z-{request_id}-{count}.json")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn objects_are_named_by_day_time_request_and_count() {
        let at = UNIX_EPOCH + Duration::from_millis(1_796_616_471_123);
        assert_eq!(
            object_key("erasures/", at, "8f5c8b4e-1c2d-4e5f-9a0b-1234567890ab", 7),
            "erasures/year=2026/month=12/day=07/20261207T040751123Z-8f5c8b4e-1c2d-4e5f-9a0b-1234567890ab-7.json"
        );
        let whole = UNIX_EPOCH + Duration::from_secs(1_796_616_471);
        assert_eq!(
            object_key("a/", whole, "../x y", 0),
            "a/year=2026/month=12/day=07/20261207T040751000Z-xy-0.json"
        );
    }
}
