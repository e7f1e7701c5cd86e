//! `make bench`: the release binary under a minimal Runtime API of our own (for precise
//! timings), against the local social-messaging endpoint with a configurable latency
//! (`BENCH_LATENCY_MS`, default 50). Prints a table of figures and their ratio to the ideal.

use testkit as support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use support::endpoint::LocalEndpoint;
use support::runtime_api::Function;

const CONCURRENCY: usize = 16;
const SIZES: [usize; 4] = [1, 10, 100, 1000];
const COLD_STARTS: usize = 30;
const QUOTA: u32 = 100;

fn root() -> &'static Path {
    support::root()
}

fn log() -> PathBuf {
    root().join("target/bench-function.log")
}

fn batch(prefix: &str, n: usize) -> Value {
    let deletions: Vec<Value> = (0..n)
        .map(|i| json!({"mediaId": format!("{prefix}{i}"), "originationPhoneNumberId": support::PHONE}))
        .collect();
    json!({ "deletions": deletions })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

async fn endpoint(latency: Duration) -> LocalEndpoint {
    LocalEndpoint::start(0, support::credentials(), support::REGION, latency)
        .await
        .expect("endpoint")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // BENCH_BINARY runs another build of the function: make bench runs the deployed
    // profile's (cargo lambda build, for this machine) after the tests' release build.
    let binary = support::bench_binary("BENCH_BINARY");
    let latency_ms: u64 = std::env::var("BENCH_LATENCY_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let latency = Duration::from_millis(latency_ms);
    let concurrency = CONCURRENCY.to_string();

    println!(
        "whatsapp-media-cleanup benchmark of {}: endpoint latency L = {latency_ms} ms, MAX_CONCURRENCY C = {CONCURRENCY}\n",
        binary.display()
    );

    // 0. The endpoint itself must add nothing: one call on a reused connection at L = 0.
    let fast = endpoint(Duration::ZERO).await;
    let function = Function::spawn(&binary, &fast.url(), &[("MAX_CONCURRENCY", "1")], &log()).await;
    function.api.invoke(batch("w", 5)).await;
    let (_, took) = function.api.invoke(batch("z", 200)).await;
    drop(function);
    println!(
        "endpoint check: {:.3} ms per call on a reused connection at L = 0 (200 sequential calls, {} connection(s))\n",
        ms(took) / 200.0,
        fast.connections()
    );

    // 1. Batches of N at C = 16.
    let slow = endpoint(latency).await;
    let function = Function::spawn(
        &binary,
        &slow.url(),
        &[("MAX_CONCURRENCY", &concurrency)],
        &log(),
    )
    .await;
    function.api.invoke(batch("warm", CONCURRENCY)).await;
    println!("| N | wall ms | ideal ceil(N/C) x L ms | ratio |");
    println!("|---:|---:|---:|---:|");
    let mut wall_100 = Duration::ZERO;
    for n in SIZES {
        let (response, took) = function.api.invoke(batch(&format!("n{n}x"), n)).await;
        assert_eq!(response["summary"]["deleted"], n, "{response}");
        let ideal = n.div_ceil(CONCURRENCY) as f64 * latency_ms as f64;
        println!(
            "| {n} | {:.1} | {ideal:.0} | {:.3} |",
            ms(took),
            ms(took) / ideal
        );
        if n == 100 {
            wall_100 = took;
        }
    }
    let rss_kb = function.peak_rss_kb();
    println!();
    println!(
        "most requests in flight at once: {} (MAX_CONCURRENCY {CONCURRENCY}); connections opened: {}",
        slow.max_in_flight(),
        slow.connections()
    );
    println!(
        "peak RSS after the 1000-item event: {:.1} MB (target < 20 MB)",
        rss_kb as f64 / 1024.0
    );
    drop(function);

    // 2. Cold starts: spawn to the first poll for work.
    let mut inits = Vec::new();
    for _ in 0..COLD_STARTS {
        let function = Function::spawn(&binary, &fast.url(), &[], &log()).await;
        inits.push(ms(function.init_time().await));
    }
    println!(
        "init (spawn -> first /runtime/invocation/next), median of {COLD_STARTS}: {:.2} ms (min {:.2}, max {:.2}; target < 20 ms)",
        median(inits.clone()),
        inits.iter().cloned().fold(f64::MAX, f64::min),
        inits.iter().cloned().fold(0.0, f64::max)
    );

    // 3. The deployed artifact's size.
    let zip = root().join("target/lambda/whatsapp-media-cleanup/bootstrap.zip");
    match std::fs::metadata(&zip) {
        Ok(meta) => println!(
            "arm64 bootstrap.zip: {:.2} MB (target < 3.5 MB)",
            meta.len() as f64 / 1_048_576.0
        ),
        Err(_) => println!("arm64 bootstrap.zip: not built ({})", zip.display()),
    }

    // 4. The boto3 baseline: the same 100 deletions in a Python loop.
    let output = Command::new(root().join(".venv/bin/python"))
        .arg(root().join("benchmarks/boto3_baseline.py"))
        .args(["100", support::PHONE, "boto"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(support::function_env(&slow.url(), &[]))
        .output()
        .expect("run the boto3 baseline");
    let baseline: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "boto3 baseline failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let boto_seconds = baseline["seconds"].as_f64().unwrap_or(f64::NAN);
    println!(
        "boto3 loop, 100 deletions: {:.0} ms ({:.1} ms a call); this function: {:.0} ms; speed-up {:.1}x (target >= 12x)",
        boto_seconds * 1000.0,
        boto_seconds * 10.0,
        ms(wall_100),
        boto_seconds * 1000.0 / ms(wall_100)
    );

    // 5. Held to the account's quota: 1000 items against an endpoint that throttles above it.
    let quota = endpoint(latency).await;
    quota.throttle_above(QUOTA as f64, 5.0);
    let rate = QUOTA.to_string();
    let function = Function::spawn(
        &binary,
        &quota.url(),
        &[
            ("MAX_CONCURRENCY", &concurrency),
            ("MAX_REQUESTS_PER_SECOND", &rate),
        ],
        &log(),
    )
    .await;
    let (response, took) = function.api.invoke(batch("q", 1000)).await;
    println!(
        "MAX_REQUESTS_PER_SECOND={QUOTA}, 1000 items against a {QUOTA}/s quota: {:.2} s, {:.1} requests/s, {} throttled, {} deleted",
        took.as_secs_f64(),
        1000.0 / took.as_secs_f64(),
        quota.throttled(),
        response["summary"]["deleted"]
    );
}
