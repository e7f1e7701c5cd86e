//! `make demo`: the function's release binary under cargo-lambda's Runtime API emulator,
//! invoked with every sample in `events/`, against the local social-messaging endpoint
//! (which checks each request's SigV4 signature). Nothing in AWS is touched, and
//! everything it starts is stopped when it ends.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::endpoint::LocalEndpoint;
use support::lambda::{Invocation, LocalLambda};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // This example sits in target/<profile>/examples; the function binary beside it.
    let binary = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("whatsapp-media-cleanup"))
        .ok_or("cannot locate the function binary")?;
    if !binary.exists() {
        return Err(format!("{} is missing: run `make demo`", binary.display()).into());
    }

    let endpoint =
        LocalEndpoint::start(0, support::credentials(), support::REGION, Duration::ZERO).await?;
    let env = support::function_env(&endpoint.url(), &[]);
    let log_dir = root.join("target/demo");
    let lambda = LocalLambda::start(&binary, &env, &log_dir);
    println!("local social-messaging endpoint: {}", endpoint.url());
    println!("function logs: {}\n", lambda.function_log.display());

    let mut samples: Vec<PathBuf> = std::fs::read_dir(root.join("events"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    samples.sort();
    let mut shown = 0;
    for sample in samples {
        println!(
            "━━ cargo lambda invoke --data-file events/{}",
            sample.file_name().unwrap_or_default().to_string_lossy()
        );
        let invocation = tokio::task::block_in_place(|| lambda.invoke_file(&sample));
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
        println!();
    }
    drop(lambda);
    println!("done: the emulator and the function have been stopped.");
    Ok(())
}
