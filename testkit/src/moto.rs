//! moto's S3 server on 127.0.0.1, from the project's virtualenv, and an S3 client for it.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use aws_sdk_s3::config::{BehaviorVersion, Region};
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

/// A running moto server; killed when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:<port>`: an IP address, so the SDK uses path-style addressing.
    pub url: String,
    /// Once IAM is enforced: the key of an administrator, which `client` signs with.
    admin: OnceLock<Credentials>,
}

/// Session credentials that moto issued: an assumed role's, as Lambda gives a function.
#[derive(Debug, Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl RoleCredentials {
    /// The function's environment variables that carry them.
    pub fn env(&self) -> [(&'static str, &str); 3] {
        [
            ("AWS_ACCESS_KEY_ID", &self.access_key_id),
            ("AWS_SECRET_ACCESS_KEY", &self.secret_access_key),
            ("AWS_SESSION_TOKEN", &self.session_token),
        ]
    }

    /// As the local endpoint accepts them.
    pub fn credential(&self) -> super::sigv4::Credential {
        super::sigv4::Credential {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
            session_token: Some(self.session_token.clone()),
        }
    }
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
        .unwrap_or_else(|| crate::root().join(".venv/bin/moto_server"))
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
            admin: OnceLock::new(),
        }
    }

    /// An S3 client for this server: any credentials until IAM is enforced, then an
    /// administrator's.
    pub fn client(&self) -> aws_sdk_s3::Client {
        let credentials = self
            .admin
            .get()
            .cloned()
            .unwrap_or_else(|| Credentials::new("test", "test", None, None, "moto"));
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(super::REGION))
            .endpoint_url(&self.url)
            .credentials_provider(credentials)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// Turns on moto's IAM authorizer, with `policy` as the function role's only policy.
    /// From then on every request must be signed with a key moto issued: `client` signs
    /// as an administrator, and the function gets the role's session credentials that
    /// this returns.
    pub fn enforce(&self, policy: &super::iam::Policy) -> RoleCredentials {
        assert!(self.admin.get().is_none(), "IAM is already enforced");
        self.call("iam", "CreateUser", &[("UserName", "tests-admin")]);
        let everything = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        self.call(
            "iam",
            "PutUserPolicy",
            &[
                ("UserName", "tests-admin"),
                ("PolicyName", "all"),
                ("PolicyDocument", everything),
            ],
        );
        let key = self.call("iam", "CreateAccessKey", &[("UserName", "tests-admin")]);
        let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
        self.call(
            "iam",
            "CreateRole",
            &[
                ("RoleName", "cleanup-function"),
                ("AssumeRolePolicyDocument", trust),
            ],
        );
        self.call(
            "iam",
            "PutRolePolicy",
            &[
                ("RoleName", "cleanup-function"),
                ("PolicyName", "template"),
                ("PolicyDocument", &policy.document()),
            ],
        );
        let session = self.call(
            "sts",
            "AssumeRole",
            &[
                ("RoleArn", "arn:aws:iam::123456789012:role/cleanup-function"),
                ("RoleSessionName", "whatsapp-media-cleanup"),
            ],
        );
        let role = RoleCredentials {
            access_key_id: xml_text(&session, "AccessKeyId"),
            secret_access_key: xml_text(&session, "SecretAccessKey"),
            session_token: xml_text(&session, "SessionToken"),
        };
        let admin = Credentials::new(
            xml_text(&key, "AccessKeyId"),
            xml_text(&key, "SecretAccessKey"),
            None,
            None,
            "moto-admin",
        );
        self.admin.set(admin).expect("set once");
        // moto authorizes every request after the first N; N = 0 from now on.
        let answer = self.post("/moto-api/reset-auth", "text/plain", "", "0");
        assert!(answer.starts_with("HTTP/1.1 200"), "reset-auth: {answer}");
        role
    }

    /// A query-API call (IAM, STS) before IAM is enforced: moto routes it by the service
    /// in the credential scope, and checks no signature yet.
    fn call(&self, service: &str, action: &str, params: &[(&str, &str)]) -> String {
        let version = if service == "sts" {
            "2011-06-15"
        } else {
            "2010-05-08"
        };
        let mut form = format!("Action={action}&Version={version}");
        for (name, value) in params {
            form.push_str(&format!(
                "&{name}={}",
                percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
            ));
        }
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{}/{service}/aws4_request, SignedHeaders=host, Signature=0",
            super::REGION
        );
        // A server just started may drop the first connection or fail it with a 500: try
        // again, but never after an answer that says what is wrong.
        let mut answer = String::new();
        for _ in 0..5 {
            answer = self.post(
                "/",
                "application/x-www-form-urlencoded",
                &authorization,
                &form,
            );
            if answer.starts_with("HTTP/1.1 200") {
                return answer;
            }
            if answer.starts_with("HTTP/1.1 4") {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("{service} {action}: {answer}")
    }

    fn post(&self, path: &str, content_type: &str, authorization: &str, body: &str) -> String {
        use std::io::{Read, Write};
        let address = self.url.trim_start_matches("http://");
        let Ok(mut stream) = TcpStream::connect(address) else {
            return String::new();
        };
        let mut head = format!(
            "POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n",
            body.len()
        );
        if !authorization.is_empty() {
            head.push_str(&format!("authorization: {authorization}\r\n"));
        }
        head.push_str("\r\n");
        let mut answer = String::new();
        let _ = stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .and_then(|()| stream.read_to_string(&mut answer));
        answer
    }
}

/// The text of the first `<tag>` element.
fn xml_text(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = start + xml[start..].find('<').expect("a closing tag");
    xml[start..end].to_owned()
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

/// The tags of exactly `version` of an object (the current version when `None`), sorted.
pub async fn tags(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .expect("get object tagging")
        .tag_set()
        .iter()
        .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
        .collect();
    tags.sort();
    tags
}

/// Records the media ids on an object as tags on exactly `version`, keeping its other
/// tags, as the documented `record_ids` does (`examples/record_ids.rs`, which
/// `tests/docs.rs` runs against moto).
pub async fn tag_ids(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
    media_id: &str,
    phone_number_id: &str,
) {
    let ids = [
        ("whatsapp-media-id", media_id),
        ("whatsapp-origination-phone-number-id", phone_number_id),
    ];
    let mut tags: Vec<(String, String)> = tags(s3, bucket, key, version)
        .await
        .into_iter()
        .filter(|(name, _)| ids.iter().all(|(id, _)| name != id))
        .collect();
    tags.extend(ids.map(|(name, value)| (name.to_owned(), value.to_owned())));
    let pairs: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    put_tags(s3, bucket, key, version, &pairs).await;
}

/// Uploads `key` and, when given, records `(media_id, phone)` as tags on the version it
/// wrote, the way users do after PostWhatsAppMessageMedia. Returns the version id S3 gave.
pub async fn put(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    ids: Option<(&str, &str)>,
    body: &str,
) -> Option<String> {
    let version = s3
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .expect("put object")
        .version_id()
        .map(str::to_owned);
    if let Some((media_id, phone)) = ids {
        tag_ids(s3, bucket, key, version.as_deref(), media_id, phone).await;
    }
    version
}

/// Deletes `key` (exactly `version`, when given). Returns the version id S3 answered: the
/// delete marker's, for a key deleted without a version in a versioned bucket.
pub async fn delete(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Option<String> {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .set_version_id(version.map(str::to_owned))
        .send()
        .await
        .expect("delete object")
        .version_id()
        .map(str::to_owned)
}

/// Copies `version` of `key` back onto `key` (AWS's documented way to restore a previous
/// version: the copy becomes current, with the version's metadata and tags). Returns the
/// copy's version id.
pub async fn restore_by_copy(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version: &str,
) -> String {
    s3.copy_object()
        .bucket(bucket)
        .key(key)
        .copy_source(format!("{bucket}/{key}?versionId={version}"))
        .send()
        .await
        .expect("copy object")
        .version_id()
        .expect("a version id")
        .to_owned()
}
