//! What the function tells beside its answers: one log line per item ([`item_log`]) and
//! one CloudWatch EMF document per invocation ([`metrics`]).

pub mod item_log;
pub mod metrics;

use crate::payload::ItemResult;
use crate::pipeline::Finished;

/// The payload's results of finished items, in order: each is logged with its latency,
/// and all are counted with what was measured of them.
pub fn record(finished: Vec<Finished>) -> Vec<ItemResult> {
    let results: Vec<(ItemResult, _)> = finished
        .into_iter()
        .map(|Finished { outcome, telemetry }| {
            let result = ItemResult::from(outcome);
            item_log::log(&result, telemetry.latency);
            (result, telemetry)
        })
        .collect();
    metrics::record_items(&results);
    results.into_iter().map(|(result, _)| result).collect()
}

/// An SQS message of which no item could be read: logged with why, and counted as
/// `UnreadableMessages` (it makes no item, so `Failed` does not count it).
pub fn unreadable_message(message_id: &str, problem: &str) {
    tracing::warn!(message_id = %message_id, problem = %problem, "unreadable SQS message");
    metrics::record_unreadable(1);
}
