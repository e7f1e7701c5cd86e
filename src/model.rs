//! The shared types: the words that several stages use. An event becomes [`WorkItem`]s,
//! an object item is resolved to a [`Target`], the object of a target is removed
//! ([`Removal`]), and an S3 call may fail ([`StoreError`]). This module imports nothing of
//! the crate's but [`crate::ids`], which imports nothing.

use serde::Serialize;
use thiserror::Error;

use crate::ids::{MediaId, PhoneNumberId};

/// The version id S3 gives objects written while a bucket had no versioning, or had it
/// suspended.
pub const NULL_VERSION: &str = "null";

/// An S3 object named by an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    pub bucket: String,
    /// The object key, decoded.
    pub key: String,
    /// The version, when the event names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// One deletion asked for by an event, with its ids as given (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdsRequest {
    /// `mediaId` as given.
    pub media_id: String,
    /// `originationPhoneNumberId` as given, if it was.
    pub phone_number_id: Option<String>,
    /// The S3 object the media was uploaded from, if the event names it.
    pub object: Option<ObjectRef>,
}

/// An item of a known event shape that cannot be worked on; it fails as `InvalidInput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidItem {
    /// `mediaId`, if it was a string.
    pub media_id: Option<String>,
    /// `originationPhoneNumberId`, if it was a string.
    pub phone_number_id: Option<String>,
    /// The object, if one was named.
    pub object: Option<ObjectRef>,
    /// What is wrong with the item.
    pub problem: String,
}

/// Where an object's metadata can still be read, if anywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Metadata {
    /// The object exists: read it at its `versionId` (or the current version).
    Current,
    /// A delete marker (the object's `versionId`) hid the object: read the version of that
    /// exact key that was current just before the marker.
    HiddenByMarker,
    /// Permanently deleted: no metadata survives, and nothing else under the key is read.
    Gone,
}

/// An S3 object whose media ids must be found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectItem {
    /// The object, key decoded.
    pub object: ObjectRef,
    /// Where its metadata may be read.
    pub metadata: Metadata,
    /// EventBridge only: the key percent-decoded, where that differs from the key as
    /// delivered (AWS documents no encoding for EventBridge keys). It is the object only
    /// when the delivered key names nothing and it does: for a delete marker, the marker's
    /// version id proves which of the two keys it was created for. For a permanent delete
    /// nothing proves it, so it only keeps the key pattern from acting while this form of
    /// the key still has a current version.
    pub decoded_key: Option<String>,
    /// When the event says the deletion happened (seconds since the epoch): S3's
    /// `eventTime`, EventBridge's `time`. It tells a delete marker that is gone from a
    /// version written after it.
    pub deleted_at: Option<i64>,
}

impl ObjectItem {
    /// An object whose key is exactly as given.
    pub fn new(object: ObjectRef, metadata: Metadata) -> Self {
        Self {
            object,
            metadata,
            decoded_key: None,
            deleted_at: None,
        }
    }

    /// The same item, deleted at `deleted_at` (seconds since the epoch).
    pub fn deleted_at(self, deleted_at: Option<i64>) -> Self {
        Self { deleted_at, ..self }
    }
}

/// One unit of work produced from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkItem {
    /// Ids to delete, as given.
    Ids(IdsRequest),
    /// An object whose ids come from its metadata or key.
    Object(ObjectItem),
    /// Nothing to do (not a deletion, a test event), with the reason.
    Skipped {
        /// The object the record named, if any.
        object: Option<ObjectRef>,
        /// Why nothing is done.
        reason: String,
    },
    /// An item that cannot be worked on.
    Invalid(InvalidItem),
}

impl WorkItem {
    /// An invalid item that names only a problem (and maybe an object).
    pub(crate) fn invalid(object: Option<ObjectRef>, problem: impl Into<String>) -> Self {
        Self::Invalid(InvalidItem {
            media_id: None,
            phone_number_id: None,
            object,
            problem: problem.into(),
        })
    }
}

/// What invoked the function, as the erasure ledger names it (`source`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// An S3 event notification, directly or through SNS.
    S3,
    /// An EventBridge event from S3.
    EventBridge,
    /// An SQS message whose body is a notification.
    Sqs,
    /// An S3 Batch Operations task.
    Batch,
    /// A manual invoke.
    #[default]
    Custom,
    /// A Lambda on-failure record from the failure queue: an event back for a redrive.
    Redrive,
}

/// Where an item came from and who asked for it: what the erasure ledger records beside
/// the item's result. Nothing here changes what is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The kind of event.
    pub source: Source,
    /// The principal whose request caused the deletion, as S3 names it: an S3
    /// notification's `userIdentity.principalId`, an EventBridge event's
    /// `detail.requester`.
    pub requester: Option<String>,
    /// Why the deletion was asked for, in the caller's words: a custom event's
    /// `reference`, a Batch Operations job's `userArguments.reference`.
    pub reference: Option<String>,
    /// The Batch Operations job.
    pub job_id: Option<String>,
    /// The Batch Operations task.
    pub task_id: Option<String>,
}

/// A work item of a notification, and the principal whose request it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Noticed {
    /// The work.
    pub item: WorkItem,
    /// The notification's requester, if it names one.
    pub requester: Option<String>,
}

impl Noticed {
    /// An item without a requester: what could not be read names none.
    pub(crate) fn anonymous(item: WorkItem) -> Self {
        Self {
            item,
            requester: None,
        }
    }
}

/// A deletion whose ids are valid and complete: ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The media to delete.
    pub media_id: MediaId,
    /// The phone number the media was uploaded through.
    pub phone_number_id: PhoneNumberId,
    /// The S3 object the media came from, if known. When its metadata was read, its
    /// `version_id` is the version that was read: the one to delete, and no other.
    pub object: Option<ObjectRef>,
    /// What is known of which version of `object` is the media's.
    pub source: ObjectSource,
}

/// Which version of an item's S3 object is its media's object: the only one that may be
/// deleted once the media is gone (contract, section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectSource {
    /// The version was read, and it named the media (by its metadata, tags or key).
    Read {
        /// The version read (`None` in a bucket that was never versioned).
        version_id: Option<String>,
        /// Its ETag: an object without a version id is deleted only while it still has it.
        etag: Option<String>,
    },
    /// The caller named this exact version.
    Named(String),
    /// Only the key is known: the version whose ids name the media is looked for among the
    /// key's versions.
    Key,
    /// The caller named a version that records other media, or another phone number: it
    /// is another media's object, kept, and this says why.
    Foreign(String),
}

/// What became of an item's S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// The version (or the object, in a bucket never versioned) was deleted, and this is
    /// what the key serves now.
    Deleted(KeyNow),
    /// There was nothing to delete.
    AlreadyAbsent,
    /// Left in place, and why.
    Kept(String),
}

/// What a key serves once the function deleted one of its versions. Deleting the current
/// version by its id makes the previous version current: the key may still serve a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyNow {
    /// Nothing: no version, or a delete marker, is current.
    Empty,
    /// This version is current.
    Serves {
        version_id: String,
        /// Whether it records the media that was just deleted: the key still serves the
        /// media's file, now without its WhatsApp copy.
        same_media: bool,
    },
    /// The current object has no version id (a bucket never versioned, uploaded again).
    ServesUnversioned,
    /// It could not be read, and why.
    Unknown(String),
}

/// A failed S3 call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{operation} failed: {message}")]
pub struct StoreError {
    /// The S3 operation, e.g. `HeadObject`.
    pub operation: &'static str,
    /// The HTTP status, when S3 answered.
    pub status: Option<u16>,
    /// What went wrong.
    pub message: String,
    /// Whether the same call may succeed later.
    pub retryable: bool,
}

impl StoreError {
    /// `operation` got no answer from S3 before the Lambda deadline: a retry may.
    pub fn out_of_time(operation: &'static str) -> Self {
        Self {
            operation,
            status: None,
            message: "no answer from S3 before the Lambda deadline".into(),
            retryable: true,
        }
    }
}
