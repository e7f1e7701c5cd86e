//! `make bench`: the release binary under a minimal Runtime API of our own (for precise
//! timings), against the local social-messaging endpoint with a configurable latency
//! (`BENCH_LATENCY_MS`, default 50). Prints a table of figures and their ratio to the ideal.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Value};
use testkit::endpoint::LocalEndpoint;
use testkit::runtime_api::Function;

const CONCURRENCY: usize = 16;
const SIZES: [usize; 4] = [1, 10, 100, 1000];
const COLD_STARTS: usize = 30;
const QUOTA: u32 = 100;

fn root() -> &'static Path {
    testkit::root()
}

fn log() -> PathBuf {
    root().join("target/bench-function.log")
}

fn batch(prefix: &str, n: usize) -> Value {
    let deletions: Vec<Value> = (0..n)
        .map(|i| json!({"mediaId": format!("{prefix}{i}"), "originationPhoneNumberId": testkit::PHONE}))
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
    LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, latency)
        .await
        .expect("endpoint")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // BENCH_BINARY runs another build of the function: make bench runs the deployed
    // profile's (cargo lambda build, for this machine) after the tests' release build.
    let binary = testkit::bench_binary("BENCH_BINARY");
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
        .args(["100", testkit::PHONE, "boto"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(testkit::function_env(&slow.url(), &[]))
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
    drop(function);

    // 6. What reading S3 costs an item, the current-version guard included.
    s3_costs(&binary, &fast).await;

    // 7. What the erasure ledger costs an invocation.
    ledger_costs(&binary, &fast).await;
}

/// Custom events naming `n` objects each, with the erasure ledger and without, against
/// moto through the fault proxy: S3 requests per invocation (the ledger's PutObject among
/// them) and the wall time, the median of five events.
async fn ledger_costs(binary: &Path, endpoint: &LocalEndpoint) {
    const RUNS: usize = 5;
    let moto = testkit::moto::Moto::start();
    let admin = moto.client();
    let proxy = testkit::s3_faults::S3Faults::start(&moto.url).await;
    testkit::moto::create_bucket(&admin, "media", true).await;
    testkit::ledger::create_bucket(&admin, "erasure-ledger", 1).await;
    println!("\nThe erasure ledger's cost: custom events naming N objects, against moto (median of {RUNS}):\n");
    println!("| N | ledger | PutObject per invocation | S3 requests per invocation | wall ms per event |");
    println!("|---:|---|---:|---:|---:|");
    for n in [1usize, 100] {
        for ledger in [false, true] {
            let mut env = vec![
                ("MAX_CONCURRENCY", "16"),
                ("AWS_ENDPOINT_URL_S3", proxy.url.as_str()),
            ];
            if ledger {
                env.push(("ERASURE_LEDGER_BUCKET", "erasure-ledger"));
            }
            let function = Function::spawn(binary, &endpoint.url(), &env, &log()).await;
            let (mut walls, mut puts, mut requests) = (vec![], 0, 0);
            for run in 0..RUNS {
                let mut objects = vec![];
                for i in 0..n {
                    let key = format!("ledger-{ledger}/{n}/{run}/{i}.jpg");
                    let media = format!("l{ledger}n{n}r{run}i{i}").replace(['-', '_'], "");
                    testkit::moto::put(&admin, "media", &key, Some((&media, testkit::PHONE)), "x")
                        .await;
                    objects.push(json!({"bucket": "media", "key": key}));
                }
                proxy.take_requests();
                let (response, took) = function.api.invoke(json!({"deletions": objects})).await;
                assert_eq!(response["summary"]["deleted"], n, "{response}");
                let seen = proxy.take_requests();
                puts += seen.get("PUT").copied().unwrap_or(0);
                requests += seen.values().sum::<usize>();
                walls.push(ms(took));
            }
            println!(
                "| {n} | {} | {:.1} | {:.1} | {:.1} |",
                if ledger { "on" } else { "off" },
                puts as f64 / RUNS as f64,
                requests as f64 / RUNS as f64,
                median(walls)
            );
        }
    }
}

/// Items of each kind that reads S3, against moto's S3 server on loopback (through the
/// fault proxy, which counts the requests): S3 requests per item, by operation, and the
/// wall time of an event of `S3_ITEMS` items at MAX_CONCURRENCY 16. Moto answers in about
/// a millisecond, so the wall time is mostly the requests' count.
async fn s3_costs(binary: &Path, endpoint: &LocalEndpoint) {
    const S3_ITEMS: usize = 100;
    let moto = testkit::moto::Moto::start();
    let admin = moto.client();
    let proxy = testkit::s3_faults::S3Faults::start(&moto.url).await;
    testkit::moto::create_bucket(&admin, "media", true).await;
    let put = |key: String, media: String| {
        let admin = admin.clone();
        async move {
            let ids = Some((media.as_str(), testkit::PHONE));
            let version = testkit::moto::put(&admin, "media", &key, ids, "x").await;
            version.expect("a version id")
        }
    };
    let delete = |key: String| {
        let admin = admin.clone();
        async move {
            let marker = testkit::moto::delete(&admin, "media", &key, None).await;
            marker.expect("a delete marker")
        }
    };
    let (mut markers, mut restored, mut tasks, mut objects) = (vec![], vec![], vec![], vec![]);
    for i in 0..S3_ITEMS {
        // A delete marker that is still the key's current entry: the usual event.
        let key = format!("marker/{i}.jpg");
        put(key.clone(), format!("marker{i}")).await;
        markers.push(testkit::s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            &key,
            Some(&delete(key.clone()).await),
        ));
        // Restored by copy after the marker: the guard reads the copy, and holds back.
        let key = format!("restored/{i}.jpg");
        let hidden = put(key.clone(), format!("restored{i}")).await;
        let marker = delete(key.clone()).await;
        testkit::moto::restore_by_copy(&admin, "media", &key, &hidden).await;
        restored.push(testkit::s3_record(
            "ObjectRemoved:DeleteMarkerCreated",
            "media",
            &key,
            Some(&marker),
        ));
        // A Batch task naming a noncurrent version, whose key was uploaded again since.
        let key = format!("task/{i}.jpg");
        let old = put(key.clone(), format!("task{i}")).await;
        put(key.clone(), format!("newer{i}")).await;
        tasks.push(json!({"taskId": format!("t{i}"), "s3Bucket": "media", "s3Key": key, "s3VersionId": old}));
        // A custom event naming an object: read as current, deleted, then what the key serves.
        let key = format!("object/{i}.jpg");
        put(key.clone(), format!("object{i}")).await;
        objects.push(json!({"bucket": "media", "key": key}));
    }
    let function = Function::spawn(
        binary,
        &endpoint.url(),
        &[
            ("MAX_CONCURRENCY", "16"),
            ("AWS_ENDPOINT_URL_S3", &proxy.url),
        ],
        &log(),
    )
    .await;
    let events = [
        (
            "delete marker, still current",
            json!({"Records": markers}),
            "deleted",
        ),
        (
            "delete marker, key restored by copy",
            json!({"Records": restored}),
            "skipped",
        ),
        (
            "Batch task naming a noncurrent version",
            json!({"invocationSchemaVersion": "2.0", "invocationId": "i", "job": {"id": "j"}, "tasks": tasks}),
            "Succeeded",
        ),
        (
            "custom event naming an object",
            json!({"deletions": objects}),
            "deleted",
        ),
    ];
    println!(
        "\nS3 requests per item, against moto ({S3_ITEMS} items an event, MAX_CONCURRENCY 16):\n"
    );
    println!("| item | outcome | ListObjectVersions | HeadObject | GetObjectTagging | DeleteObject | wall ms per event |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (name, event, expected) in events {
        proxy.take_requests();
        let (response, took) = function.api.invoke(event).await;
        let results = response["results"].as_array().expect("results");
        let mut outcomes = std::collections::BTreeMap::<String, usize>::new();
        for result in results {
            let seen = result.get("outcome").or(result.get("resultCode"));
            *outcomes
                .entry(seen.and_then(Value::as_str).unwrap_or("?").to_owned())
                .or_default() += 1;
        }
        // Another build (BENCH_BINARY) may answer otherwise: the table says so.
        let outcome = match outcomes.len() {
            1 if outcomes.contains_key(expected) => expected.to_owned(),
            _ => format!("{outcomes:?}, expected {expected}"),
        };
        let requests = proxy.take_requests();
        let per_item = |operation: &str| {
            requests.get(operation).copied().unwrap_or(0) as f64 / S3_ITEMS as f64
        };
        println!(
            "| {name} | {outcome} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} |",
            per_item("ListObjectVersions"),
            per_item("HeadObject"),
            per_item("GetObjectTagging"),
            per_item("DeleteObject"),
            ms(took)
        );
    }
}
