//! `make demo`: the function's release binary under cargo-lambda's Runtime API emulator,
//! invoked with every sample in `events/`, against moto's S3 server and the local
//! social-messaging endpoint (which checks each request's SigV4 signature). Samples that
//! name S3 objects are staged first: the objects are uploaded, then tagged with their media
//! ids (as users record them), and deleted where the sample reports a deletion. Nothing in
//! AWS is touched: the endpoints are local and the credentials are the tests' own. And
//! everything it starts is stopped when it ends.

use std::path::PathBuf;
use std::time::Duration;

use testkit::endpoint::LocalEndpoint;
use testkit::lambda::{Invocation, LocalLambda};
use testkit::moto::Moto;
use testkit::samples::{self, KEY_PATTERN};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = testkit::root();
    // The function's binary, beside this one in target/<profile>.
    let binary = testkit::function_binary();
    if !binary.exists() {
        return Err(format!("{} is missing: run `make demo`", binary.display()).into());
    }

    let endpoint =
        LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO).await?;
    let moto = Moto::start();
    let s3 = moto.client();
    let env = testkit::function_env(
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("MEDIA_KEY_PATTERN", KEY_PATTERN),
            ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", testkit::PHONE),
        ],
    );
    let log_dir = root.join("target/demo");
    let lambda = LocalLambda::start(&binary, &env, &log_dir);
    println!("local social-messaging endpoint: {}", endpoint.url());
    println!("moto S3 server: {}", moto.url);
    println!("function logs: {}\n", lambda.function_log.display());

    // `make invoke EVENT=...` names one event; `make demo`, none: every sample.
    let mut samples: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if samples.is_empty() {
        samples = std::fs::read_dir(root.join("events"))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        samples.sort();
    }
    for sample in &samples {
        if !sample.is_file() {
            return Err(format!("{}: no such event file", sample.display()).into());
        }
    }
    let mut shown = 0;
    for sample in samples {
        let name = sample
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let shown_path = sample.strip_prefix(root).unwrap_or(&sample);
        println!(
            "━━ cargo lambda invoke --data-file {}",
            shown_path.display()
        );
        let raw: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sample)?)?;
        let staged = samples::stage(&s3, &raw).await;
        let data_file = if staged.media_ids.is_empty() || raw.get("mediaId").is_some() {
            sample.clone()
        } else {
            println!(
                "staged in S3 (version ids replaced by moto's): media {:?}",
                staged.media_ids
            );
            let file = log_dir.join(&name);
            std::fs::write(&file, staged.event.to_string())?;
            file
        };
        let invocation = tokio::task::block_in_place(|| lambda.invoke_file(&data_file));
        match invocation {
            Invocation::Payload(payload) => println!("{}", serde_json::to_string_pretty(&payload)?),
            Invocation::Error { text, .. } => println!("function error:\n{text}"),
        }
        let seen = endpoint.seen();
        println!("requests the endpoint received:");
        if seen.len() == shown {
            println!("  (none)");
        }
        for request in &seen[shown..] {
            let signature = match &request.signature {
                Ok(()) => "SigV4 ok".to_owned(),
                Err(code) => format!("SigV4 rejected: {code}"),
            };
            let status = request.status.map_or("no answer".into(), |s| s.to_string());
            println!(
                "  {} {}  [{signature}] -> {status}",
                request.method, request.target
            );
        }
        shown = seen.len();
        for (bucket, key) in &staged.objects_deleted {
            let left = testkit::moto::versions(&s3, bucket, key).await.len();
            println!("S3 s3://{bucket}/{key}: {left} version(s) left");
        }
        println!();
    }
    drop(lambda);
    drop(moto);
    println!("done: the emulator, the function and moto have been stopped.");
    Ok(())
}
