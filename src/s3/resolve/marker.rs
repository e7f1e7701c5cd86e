//! The delete marker an event names: which form of an EventBridge key it was listed under,
//! and what to do when it is no longer listed (removed, or expired).

use super::{current, Resolution};
use crate::model::{Metadata, ObjectRef, StoreError};
use crate::s3::store::{KeyVersion, ObjectStore};

/// Sets `object`'s key to the form of an EventBridge key its delete marker was listed
/// under. `Ok(Some(decoded))` when the marker is listed under neither form: should the
/// marker be gone, the decoded form too must be judged.
pub(super) async fn marker_form<S: ObjectStore>(
    store: &S,
    object: &mut ObjectRef,
    metadata: &Metadata,
    decoded_key: Option<String>,
) -> Result<Option<String>, StoreError> {
    let (Metadata::HiddenByMarker, Some(decoded), Some(marker)) =
        (metadata, decoded_key, object.version_id.as_deref())
    else {
        return Ok(None);
    };
    match marker_key(store, object, decoded, marker).await? {
        MarkerKey::Delivered => Ok(None),
        MarkerKey::Decoded(key) => {
            object.key = key;
            Ok(None)
        }
        MarkerKey::Neither(decoded) => Ok(Some(decoded)),
    }
}

/// A delete marker that is no longer listed. Removing a marker makes the version it hid
/// current again (an undelete): when the current version was written before the marker's
/// event, it is what the marker hid, and it stands for its media. A current version
/// written since (S3 lists the time to the second, so the same second counts as since)
/// leaves which version the marker hid untold: that fails the item, so that someone looks.
/// With no current version, another marker stands on the key, whose own event reads what
/// it hid, or nothing is left to read.
pub(super) fn marker_gone(
    object: ObjectRef,
    current: Option<KeyVersion>,
    deleted_at: Option<i64>,
) -> Resolution {
    let marker = object.version_id.clone().unwrap_or_default();
    let gone = format!("the delete marker {marker} no longer exists (it was removed, or it expired), so which version it hid cannot be told");
    let Some(current) = current else {
        let reason = format!("{gone}: the key has no current version (another delete marker's event reads what that one hid)");
        return Resolution::Skipped { object, reason };
    };
    let version = &current.version_id;
    let untold = match (current.last_modified, deleted_at) {
        (Some(written), Some(deleted)) if written < deleted => {
            return Resolution::Skipped {
                reason: format!("{gone}: the key's current version {version} was written before the deletion, so the marker was removed (the object was undeleted) and {version} stands for what it hid"),
                object,
            }
        }
        (Some(_), Some(_)) => format!("the key's current version {version} was written after the deletion"),
        (_, None) => format!("the event carries no time, so the key's current version {version} cannot be told from one written since"),
        (None, _) => format!("S3 listed no time for the key's current version {version}"),
    };
    Resolution::Failed {
        error: StoreError {
            operation: "ListObjectVersions",
            status: None,
            message: format!("{gone}, and {untold}: the media of the version the marker hid cannot be found; delete it by hand (a custom event with its ids)"),
            retryable: false,
        },
        object,
    }
}

/// Which key a delete marker delivered by EventBridge belongs to: the key as delivered
/// when the marker is one of its versions, else its percent-decoded form when the marker
/// is one of that key's. `None` keeps the delivered key: nothing is chosen on a guess.
pub(super) async fn marker_key<S: ObjectStore>(
    store: &S,
    object: &ObjectRef,
    decoded: String,
    marker: &str,
) -> Result<MarkerKey, StoreError> {
    let bucket = object.bucket.as_str();
    if store.is_delete_marker(bucket, &object.key, marker).await? {
        return Ok(MarkerKey::Delivered);
    }
    Ok(
        match store.is_delete_marker(bucket, &decoded, marker).await? {
            true => MarkerKey::Decoded(decoded),
            false => MarkerKey::Neither(decoded),
        },
    )
}

/// Which form of an EventBridge key a delete marker is a version of.
pub(super) enum MarkerKey {
    /// The key as delivered.
    Delivered,
    /// Its percent-decoded form.
    Decoded(String),
    /// Neither (the marker is gone): the decoded form is kept, to be judged too.
    Neither(String),
}

/// [`marker_gone`] for the key as delivered and, when the marker was listed under neither
/// form of an EventBridge key, for its decoded form too: skipped only when both are.
pub(super) async fn marker_gone_in_either<S: ObjectStore>(
    store: &S,
    object: ObjectRef,
    current: Option<KeyVersion>,
    other_form: Option<String>,
    deleted_at: Option<i64>,
) -> Resolution {
    let delivered = marker_gone(object.clone(), current, deleted_at);
    let (Resolution::Skipped { .. }, Some(other)) = (&delivered, other_form) else {
        return delivered;
    };
    let current = match current::listed_current(store, &object.bucket, &other).await {
        Ok(current) => current,
        Err(error) => return Resolution::Failed { object, error },
    };
    let decoded = ObjectRef {
        key: other.clone(),
        ..object.clone()
    };
    match marker_gone(decoded, current, deleted_at) {
        Resolution::Failed { mut error, .. } => {
            error.message = format!("under the key's decoded form {other:?}: {}", error.message);
            Resolution::Failed { object, error }
        }
        _ => delivered,
    }
}
