//! The S3 side: reading an object's metadata and tags (at an exact version), listing the
//! versions of a key, finding the version a delete marker hid, and deleting exactly one
//! version (or, in a bucket without versioning, exactly the object that was read).
//!
//! `null` is a version id like any other: objects written while a bucket had no versioning
//! (or had it suspended) carry it, and S3 takes `versionId=null` in every call.

use std::collections::HashMap;
use std::future::Future;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::model::{StoreError, NULL_VERSION};

/// What HeadObject told about an object that exists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObjectHead {
    /// The version that was read (`None` in a bucket that was never versioned; `null` for
    /// an object written while it was not).
    pub version_id: Option<String>,
    /// The ETag of what was read: the condition under which an object without a version id
    /// is deleted.
    pub etag: Option<String>,
    /// When it was written (seconds and nanoseconds), to tell an upload of the same bytes.
    pub last_modified: Option<(i64, u32)>,
    /// User metadata, names in lower case without `x-amz-meta-`.
    pub metadata: HashMap<String, String>,
}

/// S3 operations the function needs. The real implementation is [`S3Store`].
pub trait ObjectStore: Send + Sync {
    /// HeadObject at `version_id` (the current version when `None`); `Ok(None)` when there
    /// is no such object or version.
    fn head(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<Option<ObjectHead>, StoreError>> + Send;

    /// GetObjectTagging of exactly `version_id` (the current version when `None`): tag
    /// keys exactly as S3 keeps them (case-sensitive, unlike metadata names). Empty when
    /// there is no such object or version any more.
    fn tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> impl Future<Output = Result<HashMap<String, String>, StoreError>> + Send;

    /// Whether `version_id` is a delete marker of exactly `key`: a version id belongs to
    /// one key, so this tells which key a marker was created for.
    fn is_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The version of exactly `key` that was current just before the delete marker
    /// `marker_version_id`: the newest version (not a marker) older than it. `Ok(None)`
    /// when there is none.
    fn version_before_marker(
        &self,
        bucket: &str,
        key: &str,
        marker_version_id: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;

    /// The versions and delete markers of exactly `key`, newest first.
    fn versions(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Vec<KeyVersion>, StoreError>> + Send;

    /// DeleteObject of exactly `version_id` (of the key's current object when `None`), only
    /// if the current object's ETag is still `if_match` when one is given (S3 evaluates
    /// conditional deletes against the current version only).
    fn delete(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        if_match: Option<&str>,
    ) -> impl Future<Output = Result<ObjectDeletion, StoreError>> + Send;

    /// PutObject of a new object (`If-None-Match: *`, so that an object already under the
    /// key is never replaced): the erasure ledger's records.
    fn put_new(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// One entry of a key's version listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVersion {
    /// Its version id (`null` included).
    pub version_id: String,
    /// Whether it is the key's current version.
    pub is_latest: bool,
    /// Whether it is a delete marker.
    pub is_delete_marker: bool,
    /// When it was written, in seconds since the epoch (S3 lists it to the second).
    pub last_modified: Option<i64>,
}

/// What a DeleteObject did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectDeletion {
    /// The version (or object) is gone.
    Removed,
    /// The condition failed (412): the object changed since it was read, and is kept.
    Changed,
    /// There was no such object (404).
    Absent,
}

/// [`ObjectStore`] over the AWS SDK's S3 client.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    /// Wraps a client built once per cold start.
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

impl ObjectStore for S3Store {
    async fn head(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<Option<ObjectHead>, StoreError> {
        let result = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await;
        match result {
            Ok(head) => Ok(Some(ObjectHead {
                version_id: head.version_id().map(str::to_owned),
                etag: head.e_tag().map(str::to_owned),
                last_modified: head.last_modified().map(|t| (t.secs(), t.subsec_nanos())),
                metadata: head
                    .metadata()
                    .map(|m| {
                        m.iter()
                            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            })),
            Err(e) if is_absent(&e) => Ok(None),
            Err(e) => Err(store_error("HeadObject", e, version_id)),
        }
    }

    async fn tags(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Result<HashMap<String, String>, StoreError> {
        let result = self
            .client
            .get_object_tagging()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .send()
            .await;
        match result {
            Ok(tagging) => Ok(tagging
                .tag_set()
                .iter()
                .map(|tag| (tag.key().to_owned(), tag.value().to_owned()))
                .collect()),
            // The version went between HeadObject and this call: it names nothing now.
            Err(e) if is_absent(&e) => Ok(HashMap::new()),
            Err(e) => Err(store_error("GetObjectTagging", e, version_id)),
        }
    }

    async fn is_delete_marker(
        &self,
        bucket: &str,
        key: &str,
        version_id: &str,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .version_id(version_id)
            .send()
            .await;
        match result {
            Ok(_) => Ok(false),
            // S3 answers HeadObject of a delete marker's version id with 405 and
            // `x-amz-delete-marker: true`.
            Err(e) if status_of(&e) == Some(405) => Ok(e
                .raw_response()
                .and_then(|r| r.headers().get("x-amz-delete-marker"))
                == Some("true")),
            Err(e) if is_absent(&e) => Ok(false),
            Err(e) => Err(store_error("HeadObject", e, Some(version_id))),
        }
    }

    async fn version_before_marker(
        &self,
        bucket: &str,
        key: &str,
        marker_version_id: &str,
    ) -> Result<Option<String>, StoreError> {
        // A listing that starts at the marker holds, for this key, exactly the versions
        // older than it (see `version_page`).
        let mut from = Some((key.to_owned(), Some(marker_version_id.to_owned())));
        loop {
            let page = self.version_page(bucket, key, from.take()).await?;
            if let Some(version) = page.versions.into_iter().next() {
                return Ok(Some(version.version_id));
            }
            match page.next {
                Some(next) => from = Some(next),
                None => return Ok(None),
            }
        }
    }

    async fn versions(&self, bucket: &str, key: &str) -> Result<Vec<KeyVersion>, StoreError> {
        let mut found = Vec::new();
        let mut from = None;
        loop {
            let page = self.version_page(bucket, key, from.take()).await?;
            // The SDK hands versions and markers over in two lists; within each, newest
            // first. The one latest entry, whichever list it is in, goes first.
            let mut entries: Vec<KeyVersion> =
                page.versions.into_iter().chain(page.markers).collect();
            entries.sort_by_key(|e| !e.is_latest);
            found.extend(entries);
            match page.next {
                Some(next) => from = Some(next),
                None => return Ok(found),
            }
        }
    }

    async fn delete(
        &self,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
        if_match: Option<&str>,
    ) -> Result<ObjectDeletion, StoreError> {
        let result = self
            .client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .set_version_id(version_id.map(str::to_owned))
            .set_if_match(if_match.map(str::to_owned))
            .send()
            .await;
        match result {
            Ok(_) => Ok(ObjectDeletion::Removed),
            Err(e) if if_match.is_some() && status_of(&e) == Some(412) => {
                Ok(ObjectDeletion::Changed)
            }
            // With If-Match, S3 answers 404 when there is no object to compare with.
            Err(e) if if_match.is_some() && status_of(&e) == Some(404) => {
                Ok(ObjectDeletion::Absent)
            }
            Err(e) => Err(store_error("DeleteObject", e, version_id)),
        }
    }

    async fn put_new(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        // A bucket with Object Lock requires a checksum of each upload: asked for here, so
        // that AWS_REQUEST_CHECKSUM_CALCULATION=when_required cannot drop it.
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .if_none_match("*")
            .checksum_algorithm(aws_sdk_s3::types::ChecksumAlgorithm::Crc32)
            .content_type(content_type)
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| store_error("PutObject", e, None))
    }
}

/// One page of a key's version listing: its entries of exactly that key.
struct VersionPage {
    /// Versions (not markers), newest first.
    versions: Vec<KeyVersion>,
    /// Delete markers, newest first.
    markers: Vec<KeyVersion>,
    /// Where the next page starts (key marker, version id marker), while entries of the
    /// key may remain.
    next: Option<(String, Option<String>)>,
}

impl S3Store {
    /// The page of `ListObjectVersions` for `key` that starts after `from`. S3 lists the
    /// versions of a key newest first, and a listing that starts at (key-marker,
    /// version-id-marker) holds only what comes after that entry: for the same key, exactly
    /// the older versions. Timestamps could not tell them apart: S3 lists them to the
    /// second, and a key re-uploaded within the same second as a delete would be
    /// indistinguishable.
    async fn version_page(
        &self,
        bucket: &str,
        key: &str,
        from: Option<(String, Option<String>)>,
    ) -> Result<VersionPage, StoreError> {
        let (key_marker, version_id_marker) = from.unzip();
        let version_id_marker = version_id_marker.flatten();
        let page = self
            .client
            .list_object_versions()
            .bucket(bucket)
            .prefix(key)
            .set_key_marker(key_marker)
            .set_version_id_marker(version_id_marker.clone())
            .send()
            .await
            .map_err(|e| store_error("ListObjectVersions", e, version_id_marker.as_deref()))?;
        let entry = |version_id: Option<&str>,
                     is_latest: Option<bool>,
                     last_modified: Option<&aws_sdk_s3::primitives::DateTime>,
                     is_delete_marker| KeyVersion {
            version_id: version_id.unwrap_or(NULL_VERSION).to_owned(),
            is_latest: is_latest == Some(true),
            is_delete_marker,
            last_modified: last_modified.map(|t| t.secs()),
        };
        let versions = page
            .versions()
            .iter()
            .filter(|v| v.key() == Some(key))
            .map(|v| entry(v.version_id(), v.is_latest(), v.last_modified(), false))
            .collect();
        let markers = page
            .delete_markers()
            .iter()
            .filter(|m| m.key() == Some(key))
            .map(|m| entry(m.version_id(), m.is_latest(), m.last_modified(), true))
            .collect();
        // The prefix also lists longer keys, which sort after this one: once the listing
        // reaches one, no version of this key is left.
        let passed_key = page
            .versions()
            .iter()
            .map(|v| v.key())
            .chain(page.delete_markers().iter().map(|m| m.key()))
            .any(|k| k != Some(key));
        let next = match (passed_key, page.is_truncated(), page.next_key_marker()) {
            (false, Some(true), Some(next_key)) => Some((
                next_key.to_owned(),
                page.next_version_id_marker().map(str::to_owned),
            )),
            _ => None,
        };
        Ok(VersionPage {
            versions,
            markers,
            next,
        })
    }
}

/// A 400 to a request that names `version`. A listing starts at a delete marker that was
/// listed a moment ago: it went since (S3 answers 400 to a marker that names no version),
/// and a retry lists afresh. HeadObject's answer has no body, so its code is unknown: a
/// version id S3 could not have given, or (a 400 of another kind) an object S3 will not
/// read so.
fn refused_version(operation: &'static str, code: Option<&str>, version: &str) -> StoreError {
    let listing = operation == "ListObjectVersions";
    let message = if listing {
        format!(
            "S3 refused a listing from the version {version:?} (400 {}): it was removed since it was listed; a retry lists the key afresh",
            code.unwrap_or("InvalidArgument")
        )
    } else {
        format!(
            "S3 refused the request for the version id {version:?} (400 {}): most likely not a version id S3 gives (a HEAD's answer does not say why); nothing was read of the object",
            code.unwrap_or("Bad Request")
        )
    };
    StoreError {
        operation,
        status: Some(400),
        message,
        retryable: listing,
    }
}

fn status_of<E>(error: &SdkError<E, HttpResponse>) -> Option<u16> {
    error.raw_response().map(|r| r.status().as_u16())
}

/// Whether S3 said that there is no such object or version: 404 (no such key or version),
/// or 405 (the version is a delete marker). A 400 is never an absence: S3 answers it to a
/// version id that it could not have given (`InvalidArgument`), which names nothing and
/// proves nothing.
fn is_absent<E>(error: &SdkError<E, HttpResponse>) -> bool {
    matches!(status_of(error), Some(404 | 405))
}

/// The failure of `operation`. A 400 to a request that names `version_id` says which
/// version id S3 refused (a HEAD's answer has no body to say it).
fn store_error<E>(
    operation: &'static str,
    error: SdkError<E, HttpResponse>,
    version_id: Option<&str>,
) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = status_of(&error);
    if let (Some(400), Some(version)) = (status, version_id) {
        return refused_version(operation, error.code(), version);
    }
    let code = error.code().unwrap_or_default().to_owned();
    let retryable = match &error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => {
            matches!(status, Some(429) | Some(500..))
                || matches!(
                    code.as_str(),
                    "SlowDown" | "RequestTimeout" | "ThrottlingException"
                )
                // A conditional delete that met a concurrent write: the retry sees 412 or
                // 404 and settles.
                || code == "ConditionalRequestConflict"
                || (operation == "DeleteObject" && status == Some(409))
        }
        _ => false,
    };
    let message = match (code.as_str(), error.message()) {
        ("", _) => DisplayErrorContext(&error).to_string(),
        (code, Some(message)) => format!("{code}: {message}"),
        (code, None) => code.to_owned(),
    };
    StoreError {
        operation,
        status,
        message,
        retryable,
    }
}
