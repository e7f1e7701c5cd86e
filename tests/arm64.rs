//! The artifact users deploy: the arm64 `bootstrap` from `cargo lambda build --release
//! --arm64`, run under `qemu-aarch64 -L /usr/aarch64-linux-gnu` behind cargo-lambda's
//! Runtime API emulator, against moto's S3 server and the local social-messaging endpoint.
//! `make test` builds the artifact and installs qemu before this runs.

use std::ffi::OsStr;
use std::path::Path;
use std::time::Duration;

use testkit::endpoint::LocalEndpoint;
use testkit::lambda::{Invocation, LocalLambda};
use testkit::moto::Moto;
use testkit::samples::{self, KEY_PATTERN};

const BOOTSTRAP: &str = "target/lambda/whatsapp-media-cleanup/bootstrap";
const QEMU: &str = "qemu-aarch64";
const SYSROOT: &str = "/usr/aarch64-linux-gnu";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs qemu, cargo-lambda and moto: run make test"]
async fn the_arm64_artifact_runs_the_samples() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bootstrap = root.join(BOOTSTRAP);
    assert!(
        bootstrap.exists(),
        "{} is missing: `make test` builds it with `cargo lambda build --release --arm64`",
        bootstrap.display()
    );
    assert!(
        Path::new(SYSROOT).exists(),
        "{SYSROOT} is missing: `make test` installs qemu-user and libc6-arm64-cross"
    );
    let moto = Moto::start();
    let s3 = moto.client();
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), testkit::REGION, Duration::ZERO)
        .await
        .unwrap();
    let env = testkit::function_env(
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("MEDIA_KEY_PATTERN", KEY_PATTERN),
            ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", testkit::PHONE),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("arm64");
    let lambda = LocalLambda::start_command(
        OsStr::new(QEMU),
        &[OsStr::new("-L"), OsStr::new(SYSROOT), bootstrap.as_os_str()],
        &env,
        &log_dir,
    );
    let invoke = |file: &Path| tokio::task::block_in_place(|| lambda.invoke_file(file));

    // Ids given: the signed DELETE, from the arm64 build.
    match invoke(&root.join("events/custom-ids.json")) {
        Invocation::Payload(p) => {
            assert_eq!(p["results"][0]["outcome"], "deleted", "{p}");
        }
        Invocation::Error { text, .. } => panic!("the arm64 function failed: {text}"),
    }
    assert_eq!(endpoint.seen()[0].signature, Ok(()));

    // S3 in both directions: a delete marker, and a Batch Operations job.
    for sample in [
        "s3-object-removed-delete-marker.json",
        "s3-batch-operations-2.0.json",
    ] {
        samples::run_and_check(
            &s3,
            &endpoint,
            &log_dir,
            &root.join("events").join(sample),
            &invoke,
        )
        .await;
    }
}

/// The deployed build is the lean one: `cargo lambda build --release` (which `sam build`
/// runs) applies Cargo.toml's `workspace.metadata.lambda.build` profile, fat LTO at
/// opt-level "s", and does not put in its own defaults over it: thin LTO, and
/// `panic = "abort"`, which would make a panic crash the instance instead of failing one
/// invocation. Asked of cargo-lambda itself, so that an upgrade that changes this fails here.
#[test]
#[ignore = "needs qemu, cargo-lambda and moto: run make test"]
fn the_deployed_build_uses_the_lean_profile_and_keeps_panics_to_one_invocation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv_bin = root.join(".venv/bin");
    let path = std::env::join_paths(std::iter::once(venv_bin).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    // The same build as `make test`'s (so cargo finds it fresh), copied elsewhere: the
    // other test may be running target/lambda's bootstrap.
    let lambda_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("lean-profile");
    let output = std::process::Command::new(testkit::lambda::cargo_lambda())
        .args([
            "lambda",
            "build",
            "--release",
            "--arm64",
            "--locked",
            "--lambda-dir",
        ])
        .arg(&lambda_dir)
        .current_dir(root)
        .env("PATH", path)
        // The Makefile's flags for every cargo-lambda build (the CARGO_HOME remap).
        .env(
            "CARGO_BUILD_RUSTFLAGS",
            std::env::var("LAMBDA_RUSTFLAGS").unwrap_or_default(),
        )
        .env("RUST_LOG", "debug")
        .output()
        .unwrap();
    // cargo-lambda logs to stdout, cargo to stderr.
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{log}");
    let config = log
        .lines()
        .find_map(|line| {
            line.split_once("release optimizations config=")
                .map(|(_, c)| c)
        })
        .unwrap_or_else(|| panic!("cargo-lambda logged no release configuration:\n{log}"));
    for wanted in [
        r#"profile.release.lto=\"fat\""#,
        r#"profile.release.opt-level=\"s\""#,
        "profile.release.codegen-units=1",
        r#"profile.release.strip=\"symbols\""#,
    ] {
        assert!(config.contains(wanted), "{wanted} missing from {config}");
    }
    for unwanted in [r#"lto=\"thin\""#, "panic="] {
        assert!(!config.contains(unwanted), "{unwanted} in {config}");
    }
}
