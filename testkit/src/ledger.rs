//! The erasure ledger's bucket as the template creates it (Object Lock on, a default
//! retention), and its records read back, for the tests and `make bench`.

use aws_sdk_s3::types::{
    DefaultRetention, ObjectLockConfiguration, ObjectLockEnabled, ObjectLockRetentionMode,
    ObjectLockRule,
};
use serde_json::Value;

/// Creates `name` with Object Lock on (which turns versioning on) and a default retention
/// of GOVERNANCE mode for `days`, as the template's ledger bucket.
pub async fn create_bucket(s3: &aws_sdk_s3::Client, name: &str, days: i32) {
    s3.create_bucket()
        .bucket(name)
        .object_lock_enabled_for_bucket(true)
        .send()
        .await
        .expect("create the ledger bucket");
    s3.put_object_lock_configuration()
        .bucket(name)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Governance)
                                .days(days)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("the ledger bucket's default retention");
}

/// Every ledger object under `prefix`, in key order, with its records.
pub async fn objects(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Vec<(String, Vec<Value>)> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .expect("list the ledger");
    let mut objects = Vec::new();
    for object in listed.contents() {
        let key = object.key().expect("a key").to_owned();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .send()
            .await
            .expect("get a ledger object")
            .body
            .collect()
            .await
            .expect("its body")
            .into_bytes();
        let records = std::str::from_utf8(&body)
            .expect("UTF-8")
            .lines()
            .map(|line| serde_json::from_str(line).expect("a JSON record a line"))
            .collect();
        objects.push((key, records));
    }
    objects
}

/// Every record under `prefix`, object by object.
pub async fn records(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<Value> {
    objects(s3, bucket, prefix)
        .await
        .into_iter()
        .flat_map(|(_, records)| records)
        .collect()
}

/// Today in UTC, as the ledger's partitions name it: (`YYYY`, `MM`, `DD`), from `date`,
/// a clock of its own beside the function's.
pub fn today() -> (String, String, String) {
    let output = std::process::Command::new("date")
        .args(["-u", "+%Y %m %d"])
        .output()
        .expect("date");
    let text = String::from_utf8(output.stdout).expect("UTF-8");
    let mut parts = text.split_whitespace().map(str::to_owned);
    let mut next = || parts.next().expect("a part of the date");
    (next(), next(), next())
}
