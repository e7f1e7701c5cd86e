//! `make bench`, fleet part: K instances of the release binary, fed as Lambda feeds them
//! (direct S3 notifications, and SQS batches), against one endpoint that enforces the
//! account's 100 requests a second with a 50 ms round trip (`testkit/src/fleet.rs`).
//! Prints, for K = 8, 16 and 32, the wall time over N / quota, the throttled share (all, and
//! after the first 5 s), deletions, and what was lost. `FLEET_TIMELINE=1` adds, under each
//! row, the requests and throttles of each second.

use testkit::fleet::{self, Feed};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // FLEET_BINARY runs another build (say, an earlier commit's) for a before/after table.
    let binary = testkit::bench_binary("FLEET_BINARY");
    let objects: usize = std::env::var("FLEET_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let log_dir = testkit::root().join("target/fleet");
    println!(
        "fleet: {objects} deletions a run, quota {} requests/s, latency {} ms, template defaults: \
         MaxConcurrency {}, MaxRequestsPerSecond {}; ReservedConcurrency {} \
         (so K = 32 is the most a direct feed runs)",
        fleet::QUOTA,
        fleet::LATENCY.as_millis(),
        fleet::template_default("MaxConcurrency"),
        fleet::template_default("MaxRequestsPerSecond"),
        fleet::template_default("ReservedConcurrency"),
    );
    println!(
        "| feed | K | wall s | wall / (N / quota) | throttled, all | throttled, after {} s | deleted | lost |",
        fleet::WARM_UP.as_secs()
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let sizes: Vec<usize> = std::env::var("FLEET_INSTANCES")
        .unwrap_or_else(|_| "8,16,32".into())
        .split(',')
        .filter_map(|k| k.trim().parse().ok())
        .collect();
    // FLEET_FEEDS=direct or sqs runs one feed only.
    let feeds: Vec<Feed> = [Feed::Direct, Feed::Sqs]
        .into_iter()
        .filter(|feed| {
            std::env::var("FLEET_FEEDS").map_or(true, |only| {
                only.split(',')
                    .any(|f| f.trim().eq_ignore_ascii_case(&format!("{feed:?}")))
            })
        })
        .collect();
    for feed in feeds {
        for &instances in &sizes {
            let f = fleet::run(&binary, &log_dir, feed, instances, objects).await;
            println!(
                "| {:?} | {} | {:.1} | {:.2} | {:.1}% | {:.1}% | {} | {} |",
                f.feed,
                f.instances,
                f.wall.as_secs_f64(),
                f.ratio(),
                100.0 * f.throttled_share(),
                100.0 * f.steady_throttled_share(),
                f.deleted,
                f.lost
            );
            if std::env::var_os("FLEET_TIMELINE").is_some() {
                let seconds: Vec<String> = f
                    .timeline
                    .iter()
                    .map(|(requests, throttled)| format!("{requests}/{throttled}"))
                    .collect();
                println!("  requests/throttled each second: {}", seconds.join(" "));
            }
        }
    }
}
