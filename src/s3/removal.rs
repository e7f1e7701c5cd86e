//! After its media is gone, the S3 object goes: exactly the version that is that media's
//! object, and no other (contract, section 5).
//!
//! A version is the media's object when it was read and named the media, when the caller
//! named that exact version, or, when only the key is known, when its own metadata or tags
//! record the media id (and the phone number, where they record one). When no version of
//! the key names the media, the object is kept, and the item says why: the key may have
//! been uploaded again for other media since.

use std::time::Instant;

use crate::config::Config;
use crate::deadline;
use crate::ids::{MediaId, PhoneNumberId};
use crate::model::{KeyNow, ObjectRef, ObjectSource, Removal, StoreError, Target, NULL_VERSION};
use crate::s3::resolve;
use crate::s3::store::{ObjectDeletion, ObjectStore};

/// Deletes the version of `object` that is the object of the target's media, then reads
/// what the key serves now; each step gives up when S3 would not answer before the
/// deadline, and a deletion that was made stands whatever the read after it does.
pub async fn remove<S: ObjectStore>(
    store: &S,
    config: &Config,
    object: &ObjectRef,
    target: &Target,
    deadline: Instant,
) -> Result<Removal, StoreError> {
    let (media_id, phone_number_id) = (&target.media_id, &target.phone_number_id);
    let deleting = delete_object(
        store,
        config,
        object,
        &target.source,
        media_id,
        phone_number_id,
    );
    let removal = deadline::bounded(deadline, deleting)
        .await
        .unwrap_or_else(|| Err(StoreError::out_of_time("DeleteObject")))?;
    if !matches!(removal, Removal::Deleted(_)) {
        return Ok(removal);
    }
    let reading = key_now(store, config, object, media_id);
    Ok(Removal::Deleted(
        deadline::bounded(deadline, reading)
            .await
            .unwrap_or_else(|| {
                KeyNow::Unknown("no answer from S3 before the Lambda deadline".into())
            }),
    ))
}

/// Deletes the version of `object` that is the object of `media_id`; a deletion is
/// `Removal::Deleted(KeyNow::Empty)` until the key is read again.
async fn delete_object<S: ObjectStore>(
    store: &S,
    config: &Config,
    object: &ObjectRef,
    source: &ObjectSource,
    media_id: &MediaId,
    phone_number_id: &PhoneNumberId,
) -> Result<Removal, StoreError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    match source {
        ObjectSource::Read { version_id, etag } => {
            delete_read(store, object, version_id.as_deref(), etag.as_deref()).await
        }
        ObjectSource::Named(version) => match store.head(bucket, key, Some(version)).await? {
            None => Ok(Removal::AlreadyAbsent),
            Some(_) => delete_read(store, object, Some(version), None).await,
        },
        ObjectSource::Foreign(reason) => Ok(Removal::Kept(reason.clone())),
        ObjectSource::Key => {
            let versions = store.versions(bucket, key).await?;
            if versions.iter().all(|v| v.is_delete_marker) {
                return Ok(Removal::AlreadyAbsent);
            }
            for version in versions.iter().filter(|v| !v.is_delete_marker) {
                // Each version is read by its own id, except a current `null` one, read as the
                // current object, so that a bucket never versioned (whose listing says `null`)
                // is read, and deleted, as S3 serves it.
                let current_null = version.is_latest && version.version_id == NULL_VERSION;
                let asked = (!current_null).then_some(version.version_id.as_str());
                let Some(names) = resolve::names_at(store, config, bucket, key, asked).await?
                else {
                    continue;
                };
                if names.names_media(config, key, media_id, phone_number_id) {
                    return delete_read(store, object, names.version_id(), names.etag()).await;
                }
            }
            Ok(Removal::Kept(format!(
                "no version of the key records media {media_id} of {phone_number_id}: none is that media's object (the key may have been uploaded again since)"
            )))
        }
    }
}

/// Deletes what was read: exactly `version_id`, else (a bucket never versioned) the
/// current object, on condition that its ETag is still `etag`.
async fn delete_read<S: ObjectStore>(
    store: &S,
    object: &ObjectRef,
    version_id: Option<&str>,
    etag: Option<&str>,
) -> Result<Removal, StoreError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let deleted = match (version_id, etag) {
        (Some(version), _) => store.delete(bucket, key, Some(version), None).await?,
        (None, Some(etag)) => store.delete(bucket, key, None, Some(etag)).await?,
        (None, None) => {
            return Ok(Removal::Kept(
                "S3 gave no version id and no ETag for the object, so nothing could make sure the object deleted is the one that was read".into(),
            ))
        }
    };
    Ok(match deleted {
        ObjectDeletion::Removed => Removal::Deleted(KeyNow::Empty),
        ObjectDeletion::Absent => Removal::AlreadyAbsent,
        ObjectDeletion::Changed => Removal::Kept(format!(
            "the object changed after it was read (its ETag is no longer {}): it was uploaded again, and the new object is not this media's",
            etag.unwrap_or_default()
        )),
    })
}

/// What the key of `object` serves once one of its versions went: deleting the current
/// version by its id makes the previous version current, so the key may still serve a
/// file, perhaps one that records the same media, and the answer says which.
async fn key_now<S: ObjectStore>(
    store: &S,
    config: &Config,
    object: &ObjectRef,
    media_id: &MediaId,
) -> KeyNow {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    match resolve::names_at(store, config, bucket, key, None).await {
        Ok(None) => KeyNow::Empty,
        Ok(Some(names)) => match names.version_id() {
            Some(version_id) => KeyNow::Serves {
                version_id: version_id.to_owned(),
                same_media: names.ids(config, key).0.as_deref() == Some(media_id.as_str()),
            },
            None => KeyNow::ServesUnversioned,
        },
        Err(error) => KeyNow::Unknown(error.to_string()),
    }
}
