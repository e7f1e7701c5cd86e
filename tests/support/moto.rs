//! moto's S3 server on 127.0.0.1, from the project's virtualenv, and an S3 client for it.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`: an IP address, so the SDK uses path-style addressing.
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The moto_server executable: `$MOTO_SERVER`, else the project's virtualenv.
fn moto_server() -> PathBuf {
    std::env::var_os("MOTO_SERVER")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/moto_server"))
}

impl Moto {
    /// Starts a fresh server (empty state) and waits until it answers.
    pub fn start() -> Self {
        let server = moto_server();
        assert!(
            server.exists(),
            "{} is missing: run `make test` (it installs moto[server] into .venv)",
            server.display()
        );
        let port = super::free_port();
        let child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// An S3 client for this server (moto accepts any credentials).
    pub fn client(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(super::REGION))
            .endpoint_url(&self.url)
            .credentials_provider(Credentials::new("test", "test", None, None, "moto"))
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

/// Creates a bucket, versioned or not.
pub async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str, versioned: bool) {
    s3.create_bucket()
        .bucket(name)
        .send()
        .await
        .expect("create bucket");
    if versioned {
        enable_versioning(s3, name).await;
    }
}

/// Turns versioning on for a bucket (objects already in it keep the version id `null`).
pub async fn enable_versioning(s3: &aws_sdk_s3::Client, name: &str) {
    s3.put_bucket_versioning()
        .bucket(name)
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .expect("enable versioning");
}

/// The version ids (not delete markers) that exist for exactly `key`.
pub async fn versions(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Vec<String> {
    let out = s3
        .list_object_versions()
        .bucket(bucket)
        .prefix(key)
        .send()
        .await
        .expect("list object versions");
    out.versions()
        .iter()
        .filter(|v| v.key() == Some(key))
        .filter_map(|v| v.version_id().map(str::to_owned))
        .collect()
}

/// Replaces the tag set of `key` (at `version`, else the current version) with `tags`.
pub async fn put_tags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    tags: &[(&str, &str)],
) {
    use aws_sdk_s3::types::{Tag, Tagging};
    let tag_set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("tag"))
        .collect();
    s3.put_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(tag_set))
                .build()
                .expect("tagging"),
        )
        .send()
        .await
        .expect("put object tagging");
}

/// Records the media ids on an object as tags, with the README's own code.
pub async fn tag_ids(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    media_id: &str,
    phone_number_id: &str,
) {
    super::record_ids::record_ids(s3, bucket, key, version, media_id, phone_number_id)
        .await
        .expect("record the ids as tags");
}
