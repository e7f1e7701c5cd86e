//! CloudWatch metrics in Embedded Metric Format: one EMF document on stdout per invocation.
//!
//! Namespace `WhatsAppMediaCleanup`, dimension `FunctionName`. Metrics: `Deleted`,
//! `AlreadyDeleted`, `Failed`, `Skipped`, `DryRun` and `S3DeleteFailed` (counts of items),
//! `Retries` (requests sent beyond the first, per item), `Throttled` (requests the service
//! throttled), `ApiLatency` (milliseconds per
//! DeleteWhatsAppMessageMedia request), `UnreadableMessages` (SQS messages of which no item
//! could be read, so that no item result counts them), and `ColdStart` (1 on an instance's
//! first invocation).

use std::sync::atomic::{AtomicBool, Ordering};

use metrics::{counter, describe_histogram, histogram, Unit};
use metrics_cloudwatch_embedded::Builder;
pub use metrics_cloudwatch_embedded::Collector;

use crate::answer::payload::{ItemResult, Outcome, S3Object};
use crate::pipeline::Telemetry;

/// The CloudWatch namespace of every metric.
pub const NAMESPACE: &str = "WhatsAppMediaCleanup";

static COLD: AtomicBool = AtomicBool::new(true);

/// Installs the EMF recorder for the process; `flush` it after each invocation.
pub fn init(function_name: &str) -> Result<&'static Collector, String> {
    let collector = Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("FunctionName", function_name.to_owned())
        .init()
        .map_err(|e| format!("metrics: {e}"))?;
    describe_histogram!(
        "ApiLatency",
        Unit::Milliseconds,
        "DeleteWhatsAppMessageMedia round trip"
    );
    Ok(collector)
}

/// Counts the outcomes of an invocation's items, and what was measured of each (a no-op
/// where no recorder is installed, as in unit tests).
pub fn record_items(results: &[(ItemResult, Telemetry)]) {
    if COLD.swap(false, Ordering::Relaxed) {
        counter!("ColdStart").increment(1);
    }
    for (result, telemetry) in results {
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

/// Counts the SQS messages of an invocation that could not be read (bad JSON, an unknown
/// body, a redriven record of an event that is not redriven this way): they make no item,
/// so `Failed` does not count them.
pub fn record_unreadable(messages: usize) {
    if messages > 0 {
        counter!("UnreadableMessages").increment(messages as u64);
    }
}
