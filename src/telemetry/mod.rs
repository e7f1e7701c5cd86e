//! What the function tells beside its answers: one log line per item ([`item_log`]) and
//! one CloudWatch EMF document per invocation ([`metrics`]). The erasure ledger
//! (`crate::ledger`) takes the same settled items.

pub mod item_log;
pub mod metrics;

use std::time::SystemTime;

use crate::answer::payload::ItemResult;
use crate::model::Origin;
use crate::pipeline::{Finished, Telemetry};

/// Installs the log subscriber, as lambda_runtime's default one does (the level from
/// `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`; JSON under `AWS_LAMBDA_LOG_FORMAT=JSON`), but
/// for one thing: each JSON line carries an RFC 3339 `timestamp`. Lambda's log-level
/// filter counts a line without a valid one as INFO, whatever its `level`, and drops it
/// under WARN or stricter: a failed item's line would be lost.
pub fn init_logging() {
    use std::str::FromStr;

    use lambda_runtime::tracing::subscriber;
    use subscriber::filter::{EnvFilter, LevelFilter};

    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").or_else(|_| std::env::var("RUST_LOG"));
    let level =
        LevelFilter::from_str(level.as_deref().unwrap_or("INFO")).unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = subscriber::fmt().with_target(false).with_env_filter(filter);
    if json {
        logs.json()
            .with_timer(subscriber::fmt::time::SystemTime)
            .init();
    } else {
        // Lambda stamps text lines itself.
        logs.without_time().init();
    }
}

/// An item that ended: its result, what was measured of it, where it came from, and when
/// it ended.
#[derive(Debug)]
pub struct Settled {
    /// The payload's result.
    pub result: ItemResult,
    /// What the run measured.
    pub telemetry: Telemetry,
    /// Its source, requester and reference.
    pub origin: Origin,
    /// When it ended.
    pub ended: SystemTime,
}

/// The payload's result of an item that just ended (from `origin`), logged now with its
/// latency and its reference.
pub fn settle(finished: Finished, origin: Origin) -> Settled {
    let Finished { outcome, telemetry } = finished;
    let result = ItemResult::from(outcome);
    item_log::log(&result, telemetry.latency, origin.reference.as_deref());
    Settled {
        result,
        telemetry,
        origin,
        ended: SystemTime::now(),
    }
}

/// Records a run's metrics from its settled items.
pub fn record_metrics(settled: &[Settled]) {
    metrics::record_items(settled);
}

/// The results of settled items, in order.
pub fn results(settled: Vec<Settled>) -> Vec<ItemResult> {
    settled.into_iter().map(|s| s.result).collect()
}

/// Results the erasure ledger could not record: logged with why, and counted as
/// `LedgerWriteFailed` (items).
pub fn unrecorded(error: &crate::ledger::LedgerError, items: usize) {
    tracing::error!(error = %error, items, "erasure ledger not written");
    metrics::record_unrecorded(items);
}

/// An SQS message of which no item could be read: logged with why, and counted as
/// `UnreadableMessages` (it makes no item, so `Failed` does not count it).
pub fn unreadable_message(message_id: &str, problem: &str) {
    tracing::error!(message_id = %message_id, problem = %problem, "unreadable SQS message");
    metrics::record_unreadable(1);
}
