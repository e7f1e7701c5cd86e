//! `make package` (scripts/package.py) as a maintainer runs it: the release zip and its
//! hashes from the deployed arm64 build, and, with PACKAGE_BUCKET, `sam package` to that
//! bucket. Here the bucket is moto's, so nothing can reach AWS; what was uploaded is read
//! back and compared byte for byte.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use testkit::moto::Moto;
use testkit::sar;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const BUCKET: &str = "release-artifacts";

/// The deployed build that `make arm64` leaves, and `make test` builds before the tests.
fn bootstrap() -> Vec<u8> {
    let path = testkit::root().join("target/lambda/whatsapp-media-cleanup/bootstrap");
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e}: run make arm64 (make test does)", path.display()))
}

fn artifact(out: &Path, suffix: &str) -> PathBuf {
    out.join(format!("whatsapp-media-cleanup-{VERSION}-arm64{suffix}"))
}

/// Runs scripts/package.py into `out`, with `env`, as the Makefile does; what it printed.
fn package(out: &Path, env: &[(&str, &str)]) -> String {
    let _ = std::fs::remove_dir_all(out);
    let root = testkit::root();
    let output = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/package.py"))
        .arg("--out")
        .arg(out)
        .env_remove("PACKAGE_BUCKET")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .envs(env.iter().copied())
        .output()
        .expect("run scripts/package.py");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "package.py failed:\n{printed}");
    printed
}

/// A zip's entries as Python's zipfile reads them: name, Unix mode, date and content's
/// SHA-256.
fn zip_entries(zip: &Path) -> Value {
    let script = "import hashlib, json, sys, zipfile\n\
        z = zipfile.ZipFile(sys.argv[1])\n\
        print(json.dumps([{'name': i.filename, 'mode': i.external_attr >> 16, \
        'date': list(i.date_time), 'sha256': hashlib.sha256(z.read(i)).hexdigest()} \
        for i in z.infolist()]))";
    let output = Command::new(testkit::root().join(".venv/bin/python"))
        .args(["-c", script])
        .arg(zip)
        .output()
        .expect("python");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

fn sha256_hex(data: &[u8]) -> String {
    let output = Command::new(testkit::root().join(".venv/bin/python"))
        .args([
            "-c",
            "import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(data)?;
            child.wait_with_output()
        })
        .expect("python");
    String::from_utf8(output.stdout)
        .expect("hex")
        .trim()
        .to_owned()
}

#[test]
#[ignore = "needs the arm64 build and the SAM CLI: run make test"]
fn the_release_zip_holds_the_deployed_bootstrap_and_is_the_same_every_time() {
    let bootstrap = bootstrap();
    let tmp = testkit::tmp_dir().join("package");
    let (first, second) = (tmp.join("first"), tmp.join("second"));
    package(&first, &[]);
    package(&second, &[]);

    let zip = artifact(&first, ".zip");
    let entries = zip_entries(&zip);
    let hash = sha256_hex(&bootstrap);
    assert_eq!(
        entries,
        serde_json::json!([{"name": "bootstrap", "mode": 0o100755, "date": [1980, 1, 1, 0, 0, 0],
                            "sha256": hash}]),
        "one executable bootstrap, with a fixed date"
    );
    // The same bootstrap gives the same zip, whenever it is packaged (with the same zlib).
    let bytes = std::fs::read(&zip).expect("zip");
    assert!(bytes == std::fs::read(artifact(&second, ".zip")).expect("zip"));
    // The hashes are what sha256sum writes and checks.
    let zip_sum = std::fs::read_to_string(artifact(&first, ".zip.sha256")).expect("sha256");
    assert_eq!(
        zip_sum,
        format!(
            "{}  whatsapp-media-cleanup-{VERSION}-arm64.zip\n",
            sha256_hex(&bytes)
        )
    );
    let bootstrap_sum =
        std::fs::read_to_string(artifact(&first, ".bootstrap.sha256")).expect("sha256");
    assert_eq!(bootstrap_sum, format!("{hash}  bootstrap\n"));
    let info = std::fs::read_to_string(artifact(&first, ".buildinfo")).expect("buildinfo");
    for field in [
        "commit: ",
        "rustc: rustc ",
        "cargo-lambda: 1.",
        "ziglang: 0.",
        "zlib: 1.",
    ] {
        assert!(info.contains(field), "buildinfo lacks {field:?}:\n{info}");
    }
    assert!(
        !first.join("packaged.yaml").exists(),
        "no bucket, no sam package"
    );
}

/// The dependencies' source paths in the deployed build start with /cargo, not with the
/// builder's CARGO_HOME (the Makefile's remap), so the same commit rebuilds to the same
/// bytes under any user's CARGO_HOME, and the release names no home directory.
#[test]
#[ignore = "needs the arm64 build: run make test"]
fn the_deployed_bootstrap_names_no_cargo_home() {
    let bootstrap = bootstrap();
    let contains = |needle: &str| {
        bootstrap
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
    };
    let cargo_home = std::env::var("CARGO_HOME")
        .unwrap_or_else(|_| format!("{}/.cargo", std::env::var("HOME").expect("HOME")));
    assert!(
        contains("/cargo/registry/src/"),
        "the dependencies' paths, remapped"
    );
    assert!(
        !contains(&format!("{cargo_home}/registry")),
        "{cargo_home} is in the bootstrap"
    );
}

/// An S3 URI's bucket and key.
fn s3_uri(value: &Value) -> (String, String) {
    let uri = value
        .as_str()
        .unwrap_or_else(|| panic!("not a string: {value}"));
    let (bucket, key) = uri
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or_else(|| panic!("not an S3 URI: {uri}"));
    (bucket.to_owned(), key.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the arm64 build, the SAM CLI and moto: run make test"]
async fn sam_package_uploads_the_release_zip_and_the_packaged_template_points_at_it() {
    let moto = Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, BUCKET, false).await;
    let out = testkit::tmp_dir().join("package/to-bucket");
    let home = testkit::tmp_dir().join("package/home");
    std::fs::create_dir_all(&home).expect("home");
    let printed = tokio::task::block_in_place(|| {
        package(
            &out,
            &[
                ("PACKAGE_BUCKET", BUCKET),
                ("AWS_ENDPOINT_URL_S3", moto.url.as_str()),
                ("AWS_ACCESS_KEY_ID", "test"),
                ("AWS_SECRET_ACCESS_KEY", "test"),
                ("AWS_REGION", testkit::REGION),
                // No profile or credentials of the machine's: only moto's test key.
                ("AWS_CONFIG_FILE", "/dev/null"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
                ("HOME", home.to_str().expect("UTF-8")),
                ("SAM_CLI_TELEMETRY", "0"),
            ],
        )
    });
    let packaged_path = out.join("packaged.yaml");
    assert!(packaged_path.exists(), "{printed}");
    let packaged = sar::parse(&packaged_path);

    // The function's code is the release zip, uploaded as it is.
    let code = &packaged["Resources"]["CleanupFunction"]["Properties"]["CodeUri"];
    let (bucket, key) = s3_uri(code);
    assert_eq!(bucket, BUCKET);
    assert!(
        key.starts_with(&format!("whatsapp-media-cleanup/{VERSION}/")),
        "{key}"
    );
    let uploaded = get(&s3, &bucket, &key).await;
    let release_zip = std::fs::read(artifact(&out, ".zip")).expect("zip");
    assert!(
        uploaded == release_zip,
        "the uploaded code is the release zip"
    );
    let copy = out.join("uploaded.zip");
    std::fs::write(&copy, &uploaded).expect("write");
    assert_eq!(zip_entries(&copy)[0]["sha256"], sha256_hex(&bootstrap()));

    // The license and readme that SAR shows, uploaded as they are.
    let metadata = &packaged["Metadata"]["AWS::ServerlessRepo::Application"];
    for (field, file) in [("LicenseUrl", "LICENSE"), ("ReadmeUrl", "README.md")] {
        let (bucket, key) = s3_uri(&metadata[field]);
        let uploaded = get(&s3, &bucket, &key).await;
        assert!(
            uploaded == std::fs::read(testkit::root().join(file)).expect(file),
            "{field} is {file}"
        );
    }

    // What `sam publish` would send for it, with a TemplateBody under 51,200 bytes:
    // CloudFormation's limit for a template in a request
    // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html),
    // past which users report SAR refuses an application.
    let requests = sar::publish_requests(&packaged_path).expect("sam publish's checks");
    let body = requests["CreateApplication"]["TemplateBody"]
        .as_u64()
        .expect("size");
    assert!(body < 51_200, "TemplateBody of {body} bytes");
    assert_eq!(
        requests["CreateApplicationVersion"]["SemanticVersion"],
        VERSION
    );
}

async fn get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<u8> {
    let object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("s3://{bucket}/{key}: {e:?}"));
    object
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec()
}
