//! A fleet of the function's release binary, fed the way Lambda feeds it, against one
//! local endpoint that enforces a shared quota: how K instances, none of which knows of the
//! others, share DeleteWhatsAppMessageMedia's 100 requests a second.
//!
//! - Direct S3 notifications: one record an event, to whichever instance is free. A failed
//!   invocation is retried twice (Lambda's asynchronous retries, with short delays here),
//!   then the event is lost to the failure queue.
//! - SQS: batches of up to 10 messages to whichever instance is free. A message in
//!   `batchItemFailures` comes back after a (short) visibility timeout, and is
//!   dead-lettered on its tenth receive, as the template's redrive policy says.
//!
//! Each instance runs with the template's default settings, read from `template.yaml`.
//! The deletions are permanent deletes whose ids come from the key pattern, so that only
//! the API's quota is measured, not S3.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::endpoint::LocalEndpoint;
use super::runtime_api::{Answer, Function};

/// The quota the endpoint enforces, requests a second, as the service's default
/// (https://docs.aws.amazon.com/social-messaging/latest/userguide/quotas.html).
pub const QUOTA: f64 = 100.0;
/// The endpoint's round trip.
pub const LATENCY: Duration = Duration::from_millis(50);
/// Lambda's asynchronous retries are 1 and 2 minutes apart; here, seconds
/// (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
const ASYNC_RETRY_DELAYS: [Duration; 2] = [Duration::from_secs(1), Duration::from_secs(2)];
/// The SQS visibility timeout after a failure, shortened likewise: a message that failed
/// comes back once it runs out
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html).
const VISIBILITY_TIMEOUT: Duration = Duration::from_secs(2);
/// A message is dead-lettered on this receive if it fails again: the template's
/// maxReceiveCount (tests/template.rs holds the template to it).
pub const MAX_RECEIVES: u32 = 10;
const SQS_BATCH: usize = 10;
/// The steady state begins this long after the start.
pub const WARM_UP: Duration = Duration::from_secs(5);

/// How the fleet is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    /// S3 notifications invoking the function directly (asynchronously).
    Direct,
    /// An SQS queue in front of the function.
    Sqs,
}

/// What a fleet run did.
#[derive(Debug)]
pub struct Figures {
    pub feed: Feed,
    pub instances: usize,
    pub objects: usize,
    pub wall: Duration,
    /// Requests the endpoint answered, and how many of them it throttled.
    pub requests: usize,
    pub throttled: usize,
    /// The same, after [`WARM_UP`].
    pub steady_requests: usize,
    pub steady_throttled: usize,
    /// Distinct media deleted.
    pub deleted: usize,
    /// Events lost to the failure queue, or messages dead-lettered.
    pub lost: usize,
    /// Requests and throttles in each second of the run, for `FLEET_TIMELINE=1`.
    pub timeline: Vec<(usize, usize)>,
}

impl Figures {
    /// Wall time over the ideal, objects / quota.
    pub fn ratio(&self) -> f64 {
        self.wall.as_secs_f64() / (self.objects as f64 / QUOTA)
    }

    fn share(part: usize, whole: usize) -> f64 {
        if whole == 0 {
            0.0
        } else {
            part as f64 / whole as f64
        }
    }

    pub fn throttled_share(&self) -> f64 {
        Self::share(self.throttled, self.requests)
    }

    pub fn steady_throttled_share(&self) -> f64 {
        Self::share(self.steady_throttled, self.steady_requests)
    }
}

/// A parameter's default in `template.yaml`.
pub fn template_default(name: &str) -> String {
    let template =
        std::fs::read_to_string(crate::root().join("template.yaml")).expect("template.yaml");
    let header = format!("  {name}:");
    let mut lines = template.lines().skip_while(|l| l.trim_end() != header);
    lines
        .next()
        .unwrap_or_else(|| panic!("no parameter {name}"));
    lines
        .take_while(|l| l.starts_with("    "))
        .find_map(|l| l.trim().strip_prefix("Default:"))
        .map(|v| v.trim().trim_matches('"').to_owned())
        .unwrap_or_else(|| panic!("no default for {name}"))
}

const KEY_PATTERN: &str = r"^fleet/(?P<mediaId>[A-Za-z0-9]+)\.jpg$";

/// The function's environment: the template's defaults, as a deployed stack has them.
fn settings(s3_url: &str) -> Vec<(String, String)> {
    [
        ("MAX_CONCURRENCY", "MaxConcurrency"),
        ("MAX_REQUESTS_PER_SECOND", "MaxRequestsPerSecond"),
    ]
    .iter()
    .map(|(variable, parameter)| (variable.to_string(), template_default(parameter)))
    .chain([
        ("MEDIA_KEY_PATTERN".to_string(), KEY_PATTERN.to_string()),
        (
            "DEFAULT_ORIGINATION_PHONE_NUMBER_ID".to_string(),
            super::PHONE.to_string(),
        ),
        // Permanent deletes name their media by key; S3 only tells that no current version
        // of the key is left.
        ("AWS_ENDPOINT_URL_S3".to_string(), s3_url.to_string()),
    ])
    .collect()
}

fn notification(media_id: &str) -> Value {
    super::s3_notification(
        "ObjectRemoved:Delete",
        "media",
        &format!("fleet/{media_id}.jpg"),
        None,
    )
}

/// Work waiting for an instance: the event (or message) and when it may be taken.
struct Pending {
    media_id: String,
    not_before: Instant,
    /// Invocations (direct) or receives (SQS) so far.
    tries: u32,
}

struct Queue {
    pending: VecDeque<Pending>,
    /// Events or messages handed out and not yet settled.
    in_flight: usize,
    lost: usize,
}

impl Queue {
    fn settled(&self) -> bool {
        self.pending.is_empty() && self.in_flight == 0
    }

    /// Up to `n` items that may be taken now.
    fn take(&mut self, n: usize, now: Instant) -> Vec<Pending> {
        let mut taken = Vec::new();
        let mut kept = VecDeque::new();
        while let Some(item) = self.pending.pop_front() {
            if taken.len() < n && item.not_before <= now {
                taken.push(item);
            } else {
                kept.push_back(item);
            }
        }
        self.pending = kept;
        self.in_flight += taken.len();
        taken
    }
}

/// Runs `instances` copies of `binary` on `objects` deletions fed as `feed`, against a fresh
/// endpoint that throttles above [`QUOTA`] (a throttled request uses no token).
pub async fn run(
    binary: &Path,
    log_dir: &Path,
    feed: Feed,
    instances: usize,
    objects: usize,
) -> Figures {
    let endpoint = LocalEndpoint::start(0, super::credentials(), super::REGION, LATENCY)
        .await
        .expect("endpoint");
    // The service's bucket: the quota a second, and a burst of a second's worth.
    endpoint.throttle_above(QUOTA, QUOTA);
    std::fs::create_dir_all(log_dir).expect("log dir");
    let s3 = super::empty_s3::EmptyS3::start().await;
    let env: Vec<(String, String)> = super::function_env(&endpoint.url(), &[])
        .into_iter()
        .chain(settings(&s3.url))
        .collect();
    let timeout = Duration::from_secs(
        template_default("FunctionTimeout")
            .parse()
            .expect("seconds"),
    );

    let queue = Arc::new(Mutex::new(Queue {
        pending: (0..objects)
            .map(|i| Pending {
                media_id: format!("fleet{instances}x{i}"),
                not_before: Instant::now(),
                tries: 0,
            })
            .collect(),
        in_flight: 0,
        lost: 0,
    }));
    let started = Instant::now();
    let mut workers = Vec::new();
    for n in 0..instances {
        let log = log_dir.join(format!("fleet-{feed:?}-{instances}-{n}-function.log"));
        let function = Function::spawn_with_env(binary, env.clone(), &log).await;
        function.api.set_time_limit(timeout);
        let queue = Arc::clone(&queue);
        workers.push(tokio::spawn(async move {
            serve(function, queue, feed).await;
        }));
    }
    for worker in workers {
        let _ = worker.await;
    }
    let wall = started.elapsed();

    let seen = endpoint.seen();
    let steady = started + WARM_UP;
    let throttled = |s: &&super::endpoint::Seen| s.status == Some(429);
    let mut deleted: Vec<&str> = seen
        .iter()
        .filter(|s| s.status == Some(200))
        .filter_map(|s| s.media_id.as_deref())
        .collect();
    deleted.sort_unstable();
    deleted.dedup();
    let lost = queue.lock().expect("queue").lost;
    let mut timeline = vec![(0, 0); wall.as_secs() as usize + 1];
    for s in &seen {
        let second = s.at.saturating_duration_since(started).as_secs() as usize;
        if let Some(slot) = timeline.get_mut(second) {
            slot.0 += 1;
            slot.1 += usize::from(s.status == Some(429));
        }
    }
    Figures {
        feed,
        instances,
        objects,
        wall,
        requests: seen.len(),
        throttled: seen.iter().filter(throttled).count(),
        steady_requests: seen.iter().filter(|s| s.at >= steady).count(),
        steady_throttled: seen
            .iter()
            .filter(|s| s.at >= steady)
            .filter(throttled)
            .count(),
        deleted: deleted.len(),
        lost,
        timeline,
    }
}

/// One instance taking work until everything is settled.
async fn serve(function: Function, queue: Arc<Mutex<Queue>>, feed: Feed) {
    let batch = match feed {
        Feed::Direct => 1,
        Feed::Sqs => SQS_BATCH,
    };
    loop {
        let taken = {
            let mut q = queue.lock().expect("queue");
            if q.settled() {
                return;
            }
            q.take(batch, Instant::now())
        };
        if taken.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let failed: Vec<bool> = match feed {
            Feed::Direct => {
                let event = notification(&taken[0].media_id);
                let (answer, _) = function
                    .api
                    .invoke_raw(event.to_string().into_bytes())
                    .await;
                vec![matches!(answer, Answer::Error(_))]
            }
            Feed::Sqs => {
                let records: Vec<Value> = taken
                    .iter()
                    .map(|p| {
                        json!({"messageId": p.media_id, "receiptHandle": "AQEB", "eventSource": "aws:sqs",
                               "body": notification(&p.media_id).to_string(), "attributes": {},
                               "messageAttributes": {}, "awsRegion": super::REGION,
                               "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:buffer"})
                    })
                    .collect();
                let event = json!({ "Records": records });
                let (answer, _) = function
                    .api
                    .invoke_raw(event.to_string().into_bytes())
                    .await;
                let failures: Vec<String> = match &answer {
                    Answer::Response(r) => r["batchItemFailures"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_owned))
                        .collect(),
                    // A failed invocation fails the whole batch.
                    Answer::Error(_) => taken.iter().map(|p| p.media_id.clone()).collect(),
                };
                taken
                    .iter()
                    .map(|p| failures.contains(&p.media_id))
                    .collect()
            }
        };
        let mut q = queue.lock().expect("queue");
        q.in_flight -= taken.len();
        for (mut item, failed) in taken.into_iter().zip(failed) {
            if !failed {
                continue;
            }
            item.tries += 1;
            let retry = match feed {
                Feed::Direct => ASYNC_RETRY_DELAYS.get(item.tries as usize - 1).copied(),
                Feed::Sqs => (item.tries < MAX_RECEIVES).then_some(VISIBILITY_TIMEOUT),
            };
            match retry {
                Some(delay) => {
                    item.not_before = Instant::now() + delay;
                    q.pending.push_back(item);
                }
                None => q.lost += 1,
            }
        }
    }
}
