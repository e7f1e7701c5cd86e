//! What the function tells beside its answers: one log line per item ([`item_log`]) and
//! one CloudWatch EMF document per invocation ([`metrics`]).

pub mod item_log;
pub mod metrics;

use crate::answer::payload::ItemResult;
use crate::pipeline::{Finished, Telemetry};

/// The payload's result of an item that just ended, logged now with its latency.
pub fn settle(finished: Finished) -> (ItemResult, Telemetry) {
    let Finished { outcome, telemetry } = finished;
    let result = ItemResult::from(outcome);
    item_log::log(&result, telemetry.latency);
    (result, telemetry)
}

/// Records a run's metrics from its results and what was measured of them, and returns
/// the results, in order.
pub fn record_metrics(settled: Vec<(ItemResult, Telemetry)>) -> Vec<ItemResult> {
    metrics::record_items(&settled);
    settled.into_iter().map(|(result, _)| result).collect()
}

/// An SQS message of which no item could be read: logged with why, and counted as
/// `UnreadableMessages` (it makes no item, so `Failed` does not count it).
pub fn unreadable_message(message_id: &str, problem: &str) {
    tracing::warn!(message_id = %message_id, problem = %problem, "unreadable SQS message");
    metrics::record_unreadable(1);
}
