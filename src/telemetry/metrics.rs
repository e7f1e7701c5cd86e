//! CloudWatch metrics in Embedded Metric Format: one EMF document on stdout per invocation.
//!
//! Namespace `WhatsAppMediaCleanup`, dimension `FunctionName`. Metrics: `Deleted`,
//! `AlreadyDeleted`, `Failed`, `Skipped`, `DryRun` and `S3DeleteFailed` (counts of items),
//! `Retries` (requests sent beyond the first, per item), `Throttled` (requests the service
//! throttled), `ApiLatency` (milliseconds per
//! DeleteWhatsAppMessageMedia request), `UnreadableMessages` (SQS messages of which no item
//! could be read, so that no item result counts them), `LedgerWriteFailed` (items whose
//! results the erasure ledger could not record), and `ColdStart` (1 on an instance's
//! first invocation).

use std::sync::atomic::{AtomicBool, Ordering};

use metrics::{counter, describe_histogram, histogram, Unit};
use metrics_cloudwatch_embedded::Builder;
pub use metrics_cloudwatch_embedded::Collector;

use super::Settled;
use crate::answer::payload::{Outcome, S3Object};

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "WhatsAppMediaCleanup";

static COLD: AtomicBool = AtomicBool::new(true);

/// Installs the EMF recorder for the process; [`flush`] it after each invocation.
/// `log_level` is `AWS_LAMBDA_LOG_LEVEL`, the level Lambda filters the logs at.
pub fn init(function_name: &str, log_level: Option<&str>) -> Result<&'static Collector, String> {
    let collector = Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("FunctionName", function_name.to_owned())
        .init()
        .map_err(|e| format!("metrics: {e}"))?;
    collector.set_property("level", document_level(log_level));
    describe_histogram!(
        "ApiLatency",
        Unit::Milliseconds,
        "DeleteWhatsAppMessageMedia round trip"
    );
    Ok(collector)
}

/// Counts the outcomes of an invocation's items, and what was measured of each (a no-op
/// where no recorder is installed, as in unit tests).
pub fn record_items(settled: &[Settled]) {
    if COLD.swap(false, Ordering::Relaxed) {
        counter!("ColdStart").increment(1);
    }
    for Settled {
        result, telemetry, ..
    } in settled
    {
        let name = match result.outcome {
            Outcome::Deleted => "Deleted",
            Outcome::AlreadyDeleted => "AlreadyDeleted",
            Outcome::Failed => "Failed",
            Outcome::Skipped => "Skipped",
            Outcome::DryRun => "DryRun",
        };
        counter!(name).increment(1);
        if result.s3_object == Some(S3Object::Failed) {
            counter!("S3DeleteFailed").increment(1);
        }
        if result.attempts > 1 {
            counter!("Retries").increment(u64::from(result.attempts - 1));
        }
        if telemetry.throttles > 0 {
            counter!("Throttled").increment(u64::from(telemetry.throttles));
        }
        for latency in &telemetry.api_latencies {
            histogram!("ApiLatency").record(latency.as_secs_f64() * 1000.0);
        }
    }
}

/// The `level` of each EMF document. Lambda's log-level filter counts a JSON line without
/// a valid `level` (or without an RFC 3339 `timestamp`) as INFO, and drops INFO under WARN
/// or stricter (Lambda developer guide, "Log-level filtering"): the metrics, and with them
/// the dashboard and the alarms, would be lost. So each document carries the level the
/// logs are filtered at, INFO when that is finer, and a `timestamp`.
pub fn document_level(log_level: Option<&str>) -> &'static str {
    match log_level.map(|l| l.trim().to_ascii_uppercase()).as_deref() {
        Some("WARN") => "WARN",
        Some("ERROR") => "ERROR",
        Some("FATAL") => "FATAL",
        _ => "INFO",
    }
}

/// Writes the invocation's EMF documents, each stamped with the time, to `writer`.
pub fn flush(collector: &Collector, writer: impl std::io::Write) -> std::io::Result<()> {
    collector.set_property(
        "timestamp",
        crate::clock::rfc3339(std::time::SystemTime::now()),
    );
    collector.flush(writer)
}

/// Counts the items whose results the erasure ledger could not record.
pub fn record_unrecorded(items: usize) {
    if items > 0 {
        counter!("LedgerWriteFailed").increment(items as u64);
    }
}

/// Counts the SQS messages of an invocation that could not be read (bad JSON, an unknown
/// body, a redriven record of an event that is not redriven this way): they make no item,
/// so `Failed` does not count them.
pub fn record_unreadable(messages: usize) {
    if messages > 0 {
        counter!("UnreadableMessages").increment(messages as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_pass_the_filter_at_every_level() {
        for (configured, level) in [
            (None, "INFO"),
            (Some("TRACE"), "INFO"),
            (Some("debug"), "INFO"),
            (Some("INFO"), "INFO"),
            (Some("WARN"), "WARN"),
            (Some(" error "), "ERROR"),
            (Some("FATAL"), "FATAL"),
            (Some("LOUD"), "INFO"),
        ] {
            assert_eq!(document_level(configured), level, "{configured:?}");
        }
    }
}
