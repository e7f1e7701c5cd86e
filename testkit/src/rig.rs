//! The deployed function in miniature: the release binary under a Runtime API, its S3
//! calls through the fault proxy to moto, and its DELETEs to the local endpoint, all under
//! the function role's IAM policy.

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use super::endpoint::LocalEndpoint;
use super::iam::Policy;
use super::moto::Moto;
use super::runtime_api::{Answer, Function};
use super::s3_faults::S3Faults;
use super::REGION;

/// The release binary under a Runtime API, against moto (through the fault proxy) and the
/// local endpoint, with IAM enforced as the template deploys it.
pub struct Rig {
    /// An administrator's client, to stage and inspect objects.
    pub s3: aws_sdk_s3::Client,
    pub endpoint: LocalEndpoint,
    pub function: Function,
    pub faults: S3Faults,
    pub log: PathBuf,
    _moto: Moto,
}

impl Rig {
    /// Under `policy` (the function role's statements), as moto and the fault proxy
    /// enforce it (`testkit::iam`), with `extra` settings; the log goes to
    /// `<target tmp>/<name>.log`.
    pub async fn start(name: &str, policy: &Policy, extra: &[(&str, &str)]) -> Self {
        let moto = Moto::start();
        let role = moto.enforce(policy);
        let s3 = moto.client();
        let faults = S3Faults::start(&moto.url).await;
        faults.enforce(policy, &role.access_key_id, s3.clone());
        let endpoint = LocalEndpoint::start(0, vec![role.credential()], REGION, Duration::ZERO)
            .await
            .unwrap();
        let log = crate::tmp_dir().join(format!("{name}.log"));
        let mut env = vec![
            ("AWS_ENDPOINT_URL_S3", faults.url.as_str()),
            ("MAX_ATTEMPTS", "1"),
        ];
        env.extend(role.env());
        env.extend_from_slice(extra);
        // FUNCTION_BINARY runs these against another build (an earlier commit's, say), to
        // see which of the rules it breaks.
        let binary = crate::function_binary();
        let function = Function::spawn(&binary, &endpoint.url(), &env, &log).await;
        Self {
            s3,
            endpoint,
            function,
            faults,
            log,
            _moto: moto,
        }
    }

    pub async fn invoke(&self, event: Value) -> Answer {
        self.function
            .api
            .invoke_raw(event.to_string().into_bytes())
            .await
            .0
    }

    /// The function's payload, or a panic naming the function error.
    pub async fn payload(&self, event: Value) -> Value {
        match self.invoke(event).await {
            Answer::Response(r) => r,
            Answer::Error(e) => panic!(
                "expected a payload, got {e}\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            ),
        }
    }

    pub async fn bucket(&self, name: &str, versioned: bool) {
        super::moto::create_bucket(&self.s3, name, versioned).await;
    }

    /// Uploads `key` and, when given, records `media_id` (of `phone`) as tags, the way users
    /// do after PostWhatsAppMessageMedia. Returns the version id S3 gave, if any.
    pub async fn put(
        &self,
        bucket: &str,
        key: &str,
        ids: Option<(&str, &str)>,
        body: &str,
    ) -> Option<String> {
        super::moto::put(&self.s3, bucket, key, ids, body).await
    }

    /// Deletes `key` (exactly `version`, when given) as another client of the bucket
    /// would. Returns the version id S3 answered: the delete marker's, for a key deleted
    /// without a version in a versioned bucket.
    pub async fn delete(&self, bucket: &str, key: &str, version: Option<&str>) -> Option<String> {
        super::moto::delete(&self.s3, bucket, key, version).await
    }

    pub async fn versions(&self, bucket: &str, key: &str) -> Vec<String> {
        super::moto::versions(&self.s3, bucket, key).await
    }

    pub async fn body(&self, bucket: &str, key: &str) -> Option<String> {
        let object = self
            .s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        let bytes = object.body.collect().await.ok()?.into_bytes();
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    pub fn media_seen(&self) -> Vec<String> {
        self.endpoint.media_ids_seen()
    }
}
