//! The Lambda deadline: when it is, and keeping work inside it.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Time kept back before the deadline to build and return the result: the items' work
/// stops this much before it, which leaves the erasure ledger's write and the answer.
pub const REPORT_MARGIN: Duration = Duration::from_millis(500);

/// Of [`REPORT_MARGIN`], what is kept back to answer once the ledger is written.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(100);

/// Deadlines below this (2001-09-09 in epoch milliseconds) are durations, not dates.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The monotonic instant of the invocation's deadline (now, if it has passed).
///
/// Lambda sends the deadline as epoch milliseconds. Local Runtime API emulators
/// (cargo-lambda 1.9, the .NET test tool) send the function's timeout as a duration
/// instead; no real deadline lies before 2001, so such a value is read as milliseconds
/// from now rather than as a deadline long past.
pub fn from_context(deadline_ms: u64) -> Instant {
    let now = Instant::now();
    if deadline_ms < EPOCH_MS_FLOOR {
        return now + Duration::from_millis(deadline_ms);
    }
    let deadline = UNIX_EPOCH + Duration::from_millis(deadline_ms);
    match deadline.duration_since(SystemTime::now()) {
        Ok(left) => now + left,
        Err(_) => now,
    }
}

/// Runs `work` until it ends or the deadline (less [`REPORT_MARGIN`]) comes; `None` if the
/// deadline came first.
pub async fn bounded<T>(deadline: Instant, work: impl Future<Output = T>) -> Option<T> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(REPORT_MARGIN);
    tokio::time::timeout(left, work).await.ok()
}

/// Runs `work` until it ends or the deadline (less [`ANSWER_MARGIN`]) comes; `None` if the
/// deadline came first. For what must be done after the items and before the answer.
pub async fn before_answer<T>(deadline: Instant, work: impl Future<Output = T>) -> Option<T> {
    let left = deadline
        .saturating_duration_since(Instant::now())
        .saturating_sub(ANSWER_MARGIN);
    tokio::time::timeout(left, work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_since_epoch(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[test]
    fn epoch_deadlines_become_instants() {
        let in_3s = from_context(ms_since_epoch(SystemTime::now() + Duration::from_secs(3)));
        let left = in_3s.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_millis(2500) && left <= Duration::from_secs(3),
            "{left:?}"
        );

        let past = from_context(ms_since_epoch(SystemTime::now() - Duration::from_secs(3)));
        assert!(past <= Instant::now());
    }

    #[test]
    fn emulator_durations_count_from_now() {
        let left = from_context(600_000).saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(599) && left <= Duration::from_secs(600),
            "{left:?}"
        );
    }
}

#[cfg(test)]
mod bounded_tests {
    use super::*;

    #[tokio::test]
    async fn work_past_the_deadline_is_cut() {
        let deadline = Instant::now() + REPORT_MARGIN + Duration::from_millis(50);
        let cut = bounded(deadline, tokio::time::sleep(Duration::from_secs(5))).await;
        assert!(cut.is_none());
        assert!(Instant::now() < deadline);
        let done = bounded(Instant::now() + Duration::from_secs(5), async { 7 }).await;
        assert_eq!(done, Some(7));
    }
}
