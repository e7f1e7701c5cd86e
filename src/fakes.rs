//! In-memory fakes of both sides, for the unit tests: the versions of one bucket's keys
//! ([`MemoryStore`]) and the WhatsApp API ([`FakeMedia`]). The integration tests use the
//! real parts instead (moto, the local social-messaging endpoint).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use crate::ids::{MediaId, PhoneNumberId};
use crate::model::StoreError;
use crate::s3::store::{KeyVersion, ObjectDeletion, ObjectHead, ObjectStore};
use crate::whatsapp::{self, DeleteReport, MediaApi};

/// What a version carries: user metadata and tags.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    metadata: HashMap<String, String>,
    tags: HashMap<String, String>,
}

/// A version's metadata and tags.
pub(crate) fn names(metadata: &[(&str, &str)], tags: &[(&str, &str)]) -> Names {
    let map = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    Names {
        metadata: map(metadata),
        tags: map(tags),
    }
}

#[derive(Debug)]
struct Version {
    key: String,
    version_id: String,
    marker: bool,
    names: Names,
    /// When it was written: the store's clock, which ticks once a write.
    at: i64,
}

/// The versions of keys in one bucket (the bucket name is not looked at), oldest first.
/// Every call is recorded; DeleteObject succeeds, or fails with `failing_delete`, or, in a
/// `read_only` store, fails the test.
#[derive(Debug, Default)]
pub(crate) struct MemoryStore {
    versions: Vec<Version>,
    /// The calls made, as `"<operation> <key> <version>"`.
    pub calls: Mutex<Vec<String>>,
    /// What every DeleteObject fails with, if set.
    pub failing_delete: Option<StoreError>,
    /// A DeleteObject fails the test: for stages that must only read.
    pub read_only: bool,
    /// Writes so far: the time of the last one.
    clock: i64,
    /// The objects PutObject wrote: key and body.
    pub puts: Mutex<Vec<(String, Vec<u8>)>>,
    /// What every PutObject fails with, if set.
    pub failing_put: Option<StoreError>,
}

impl MemoryStore {
    /// A store whose DeleteObject fails the test.
    pub fn read_only() -> Self {
        Self {
            read_only: true,
            ..Self::default()
        }
    }

    /// Writes a new version of `key`, at the next tick of the store's clock.
    pub fn put(&mut self, key: &str, version_id: &str, names: Names) {
        self.write(key, version_id, false, names);
    }

    /// Puts a delete marker on `key`, at the next tick of the store's clock.
    pub fn mark(&mut self, key: &str, version_id: &str) {
        self.write(key, version_id, true, Names::default());
    }

    /// The time of the last write.
    pub fn now(&self) -> i64 {
        self.clock
    }

    fn write(&mut self, key: &str, version_id: &str, marker: bool, names: Names) {
        self.clock += 1;
        self.versions.push(Version {
            key: key.into(),
            version_id: version_id.into(),
            marker,
            names,
            at: self.clock,
        });
    }

    /// Removes exactly `version_id` of `key` (a delete marker removed is an undelete).
    pub fn remove(&mut self, key: &str, version_id: &str) {
        self.versions
            .retain(|v| !(v.key == key && v.version_id == version_id));
    }

    /// The DeleteObject calls made.
    pub fn deletes(&self) -> usize {
        self.calls()
            .iter()
            .filter(|call| call.starts_with("delete "))
            .count()
    }

    /// The calls made so far.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn find(&self, key: &str, version: Option<&str>) -> Option<&Version> {
        self.versions
            .iter()
            .rev()
            .find(|v| v.key == key && version.is_none_or(|want| want == v.version_id))
            .filter(|v| !v.marker)
    }

    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl ObjectStore for MemoryStore {
    async fn head(
        &self,
        _: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<Option<ObjectHead>, StoreError> {
        self.log(format!("head {key} {version:?}"));
        Ok(self.find(key, version).map(|v| ObjectHead {
            version_id: Some(v.version_id.clone()),
            etag: Some(format!("\"{}\"", v.version_id)),
            last_modified: None,
            metadata: v.names.metadata.clone(),
        }))
    }

    async fn tags(
        &self,
        _: &str,
        key: &str,
        version: Option<&str>,
    ) -> Result<HashMap<String, String>, StoreError> {
        self.log(format!("tags {key} {version:?}"));
        Ok(self
            .find(key, version)
            .map(|v| v.names.tags.clone())
            .unwrap_or_default())
    }

    async fn is_delete_marker(
        &self,
        _: &str,
        key: &str,
        version: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .versions
            .iter()
            .any(|v| v.key == key && v.version_id == version && v.marker))
    }

    async fn version_before_marker(
        &self,
        _: &str,
        key: &str,
        marker: &str,
    ) -> Result<Option<String>, StoreError> {
        let at = self
            .versions
            .iter()
            .position(|v| v.key == key && v.version_id == marker);
        Ok(at.and_then(|at| {
            self.versions[..at]
                .iter()
                .rev()
                .find(|v| v.key == key && !v.marker)
                .map(|v| v.version_id.clone())
        }))
    }

    async fn versions(&self, _: &str, key: &str) -> Result<Vec<KeyVersion>, StoreError> {
        let mine: Vec<&Version> = self.versions.iter().filter(|v| v.key == key).collect();
        Ok(mine
            .iter()
            .rev()
            .enumerate()
            .map(|(i, v)| KeyVersion {
                version_id: v.version_id.clone(),
                is_latest: i == 0,
                is_delete_marker: v.marker,
                last_modified: Some(v.at),
            })
            .collect())
    }

    async fn delete(
        &self,
        _: &str,
        key: &str,
        version: Option<&str>,
        _: Option<&str>,
    ) -> Result<ObjectDeletion, StoreError> {
        assert!(
            !self.read_only,
            "DeleteObject {key} {version:?} in a read-only stage"
        );
        self.log(format!("delete {key} {version:?}"));
        match &self.failing_delete {
            Some(error) => Err(error.clone()),
            None => Ok(ObjectDeletion::Removed),
        }
    }

    async fn put_new(&self, _: &str, key: &str, body: Vec<u8>, _: &str) -> Result<(), StoreError> {
        if let Some(error) = &self.failing_put {
            return Err(error.clone());
        }
        self.puts.lock().unwrap().push((key.to_owned(), body));
        Ok(())
    }
}

/// The WhatsApp API: every media deletes at the first request, or fails with `failing`.
/// The ids asked for are recorded.
#[derive(Debug, Default)]
pub(crate) struct FakeMedia {
    /// The media ids asked for, in order.
    pub calls: Mutex<Vec<String>>,
    /// What every request fails with, if set.
    pub failing: Option<whatsapp::MediaError>,
}

impl MediaApi for FakeMedia {
    async fn delete_media(
        &self,
        media_id: &MediaId,
        _: &PhoneNumberId,
        _: Instant,
    ) -> DeleteReport {
        self.calls.lock().unwrap().push(media_id.to_string());
        DeleteReport {
            result: self
                .failing
                .clone()
                .map_or(Ok(whatsapp::MediaGone::Now), Err),
            attempts: 1,
            latencies: Vec::new(),
            throttles: 0,
            request_id: Some(format!("fake-request-{media_id}")),
        }
    }
}
