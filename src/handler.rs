//! The Lambda handler: event in, payload out. It knows nothing of HTTP or SigV4; the AWS
//! side sits behind [`MediaApi`].

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures_util::stream::{self, StreamExt};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use thiserror::Error;

use crate::config::Config;
use crate::event::{self, custom::CustomEvent, Event, EventError, WorkItem};
use crate::report::{ItemResult, Outcome, Payload};
use crate::resolve;
use crate::whatsapp::MediaApi;

/// What the handler needs, built once per cold start.
#[derive(Debug)]
pub struct App<M> {
    /// Settings from the environment.
    pub config: Config,
    /// The WhatsApp side.
    pub media: M,
}

/// An invocation that fails as a whole, so that Lambda's retries and failure destinations
/// take over.
#[derive(Debug, Error)]
pub enum FunctionError {
    /// The event has no known shape, or an option of the wrong type.
    #[error(transparent)]
    InvalidEvent(#[from] EventError),
}

impl From<FunctionError> for Diagnostic {
    fn from(error: FunctionError) -> Self {
        let error_type = match &error {
            FunctionError::InvalidEvent(_) => "InvalidEvent",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// Handles one invocation.
pub async fn handle<M: MediaApi>(
    app: &App<M>,
    event: LambdaEvent<Value>,
) -> Result<Value, FunctionError> {
    let deadline = deadline_of(event.context.deadline);
    match event::recognise(&event.payload)? {
        Event::Custom(custom) => {
            let payload = run_custom(app, custom, deadline).await;
            Ok(serde_json::to_value(payload).unwrap_or_else(|e| {
                // Serialising plain structs of strings and numbers cannot fail; keep a
                // readable answer rather than a panic if it ever does.
                serde_json::json!({"success": false, "error": e.to_string()})
            }))
        }
    }
}

async fn run_custom<M: MediaApi>(app: &App<M>, event: CustomEvent, deadline: Instant) -> Payload {
    // The environment's DRY_RUN is a safety switch that no event can turn off.
    let dry_run = app.config.dry_run || event.dry_run;
    let results = stream::iter(event.items)
        .map(|item| process_item(app, item, dry_run, deadline))
        .buffered(app.config.max_concurrency)
        .collect()
        .await;
    Payload::new(dry_run, results)
}

async fn process_item<M: MediaApi>(
    app: &App<M>,
    item: WorkItem,
    dry_run: bool,
    deadline: Instant,
) -> ItemResult {
    let started = Instant::now();
    let result = match item {
        WorkItem::Invalid(invalid) => ItemResult::invalid(invalid),
        WorkItem::Ids(request) => {
            match resolve::ids(request, app.config.default_phone_number_id.as_ref()) {
                Err(invalid) => ItemResult::invalid(*invalid),
                Ok(target) if dry_run => ItemResult::dry_run(target),
                Ok(target) => {
                    let report = app
                        .media
                        .delete_media(&target.media_id, &target.phone_number_id, deadline)
                        .await;
                    ItemResult::deletion(target, report)
                }
            }
        }
    };
    log_item(&result, started);
    result
}

/// One log line per item: ids, outcome, attempts and latency; never a credential.
fn log_item(result: &ItemResult, started: Instant) {
    let latency_ms = started.elapsed().as_millis() as u64;
    let media_id = result.media_id.as_deref().unwrap_or("");
    let phone_number_id = result.origination_phone_number_id.as_deref().unwrap_or("");
    let outcome = serde_json::to_value(result.outcome).unwrap_or_default();
    let outcome = outcome.as_str().unwrap_or_default();
    match &result.error {
        None if result.outcome != Outcome::Failed => tracing::info!(
            media_id = ?media_id,
            origination_phone_number_id = ?phone_number_id,
            outcome,
            attempts = result.attempts,
            latency_ms,
            "media item done"
        ),
        error => tracing::warn!(
            media_id = ?media_id,
            origination_phone_number_id = ?phone_number_id,
            outcome,
            attempts = result.attempts,
            latency_ms,
            error_type = error.as_ref().map(|e| e.error_type.as_str()),
            error_message = error.as_ref().map(|e| e.message.as_str()),
            "media item failed"
        ),
    }
}

/// Deadlines below this (2001-09-09 in epoch milliseconds) are durations, not dates.
const EPOCH_MS_FLOOR: u64 = 1_000_000_000_000;

/// The monotonic instant of the invocation's deadline (now, if it has passed).
///
/// Lambda sends the deadline as epoch milliseconds. Local Runtime API emulators
/// (cargo-lambda 1.9, the .NET test tool) send the function's timeout as a duration
/// instead; no real deadline lies before 2001, so such a value is read as milliseconds
/// from now rather than as a deadline long past.
fn deadline_of(deadline_ms: u64) -> Instant {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ms_since_epoch(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
    }

    #[test]
    fn epoch_deadlines_become_instants() {
        let in_3s = deadline_of(ms_since_epoch(SystemTime::now() + Duration::from_secs(3)));
        let left = in_3s.saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_millis(2500) && left <= Duration::from_secs(3),
            "{left:?}"
        );

        let past = deadline_of(ms_since_epoch(SystemTime::now() - Duration::from_secs(3)));
        assert!(past <= Instant::now());
    }

    #[test]
    fn emulator_durations_count_from_now() {
        let left = deadline_of(600_000).saturating_duration_since(Instant::now());
        assert!(
            left > Duration::from_secs(599) && left <= Duration::from_secs(600),
            "{left:?}"
        );
    }
}
