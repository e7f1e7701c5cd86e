//! What an object version records: its metadata, then its tags, read from exactly that
//! version; and the ids `MEDIA_KEY_PATTERN` finds in its key.

use std::collections::HashMap;

use super::current;
use crate::config::Config;
use crate::ids::{MediaId, PhoneNumberId};
use crate::model::{Metadata, ObjectRef, StoreError, NULL_VERSION};
use crate::s3::store::{KeyVersion, ObjectStore};

/// The media id and phone number id that `MEDIA_KEY_PATTERN` finds in `key`, if any.
pub(super) fn key_pattern_ids(config: &Config, key: &str) -> (Option<String>, Option<String>) {
    let Some(captures) = config
        .media_key_pattern
        .as_ref()
        .and_then(|pattern| pattern.captures(key))
    else {
        return (None, None);
    };
    let group = |name: &str| captures.name(name).map(|m| m.as_str().to_owned());
    (group("mediaId"), group("originationPhoneNumberId"))
}

/// The names an object version carries: its metadata, and its tags when the metadata
/// names no media id.
#[derive(Debug)]
pub(crate) struct Names {
    /// The version that was read.
    pub(super) version_id: Option<String>,
    pub(super) etag: Option<String>,
    /// Metadata, names in lower case (S3 keeps them so).
    metadata: HashMap<String, String>,
    /// Tags, keys exactly as S3 keeps them (case-sensitive).
    tags: HashMap<String, String>,
}

impl Names {
    /// The value of a name, metadata first (`metadata_name`, lower case), then tags
    /// (`tag_key`, exactly); blank values count as absent.
    fn get(&self, metadata_name: &str, tag_key: &str) -> Option<String> {
        [self.metadata.get(metadata_name), self.tags.get(tag_key)]
            .into_iter()
            .flatten()
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
            .map(str::to_owned)
    }

    /// The media id this version records, if any.
    pub(crate) fn media_id(&self, config: &Config) -> Option<String> {
        self.get(&config.media_id_metadata_key, &config.media_id_tag_key)
    }

    /// The phone number id this version records, if any.
    pub(crate) fn phone_number_id(&self, config: &Config) -> Option<String> {
        self.get(
            &config.phone_number_id_metadata_key,
            &config.phone_number_id_tag_key,
        )
    }

    /// The version that was read.
    pub(crate) fn version_id(&self) -> Option<&str> {
        self.version_id.as_deref()
    }

    /// The ETag of what was read.
    pub(crate) fn etag(&self) -> Option<&str> {
        self.etag.as_deref()
    }

    /// The media id and phone number id this version of `key` stands for: what its
    /// metadata or tags record, or, when they record no media id, what the key pattern
    /// gives.
    pub(crate) fn ids(&self, config: &Config, key: &str) -> (Option<String>, Option<String>) {
        match self.media_id(config) {
            Some(media) => (Some(media), self.phone_number_id(config)),
            None => {
                let (key_media_id, key_phone_number_id) = key_pattern_ids(config, key);
                (
                    key_media_id,
                    self.phone_number_id(config).or(key_phone_number_id),
                )
            }
        }
    }

    /// Whether this version of `key` is the object of `media_id` (uploaded through
    /// `phone_number_id`): it stands for that media id ([`Self::ids`]), and for that phone
    /// number where it names one.
    pub(crate) fn names_media(
        &self,
        config: &Config,
        key: &str,
        media_id: &MediaId,
        phone_number_id: &PhoneNumberId,
    ) -> bool {
        let (media, phone) = self.ids(config, key);
        media.as_deref() == Some(media_id.as_str())
            && phone.is_none_or(|phone| phone_number_id.is_named_by(&phone))
    }

    /// Why this version of `key`, which a caller named with `media_id`, is another media's
    /// object: it stands for another media id, or another phone number. `None` when it
    /// stands for that media, or for none at all (then the caller's word holds: teams that
    /// keep ids in a database name their objects so).
    pub(crate) fn foreign(
        &self,
        config: &Config,
        key: &str,
        media_id: &MediaId,
        phone_number_id: &PhoneNumberId,
    ) -> Option<String> {
        let version = self.version_id().unwrap_or("(none)");
        match self.ids(config, key) {
            (Some(media), _) if media != media_id.as_str() => Some(format!(
                "the version {version} records media {media}, not {media_id}: it is that media's object, and is kept"
            )),
            (_, Some(phone)) if !phone_number_id.is_named_by(&phone) => Some(format!(
                "the version {version} records the phone number {phone}, not {phone_number_id}: it is another media's object, and is kept"
            )),
            _ => None,
        }
    }
}

/// What an object item's key gave: the names of the version that may be read, and, when
/// the key's versions were listed on the way, its current version.
pub(super) enum Read {
    /// The names read (`None`: nothing survives, or nothing may be read).
    Names {
        names: Option<Names>,
        /// `Some` when the listing was read: the key's current version, if it has one.
        current: Option<Option<String>>,
    },
    /// The event's delete marker is no longer listed: it was removed (an undelete) or it
    /// expired, so which version it hid can no longer be told.
    MarkerGone {
        /// The key's current version, if it has one.
        current: Option<KeyVersion>,
    },
}

/// Reads the names of the version of `object` that may be read, if any survives: its
/// metadata, then, only when that names no media id, the tags of exactly the same version.
pub(super) async fn read_names<S: ObjectStore>(
    store: &S,
    config: &Config,
    object: &ObjectRef,
    metadata: &Metadata,
) -> Result<Read, StoreError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let nothing = Read::Names {
        names: None,
        current: None,
    };
    let (version, current) = match metadata {
        Metadata::Gone => return Ok(nothing),
        Metadata::Current => (object.version_id.clone(), None),
        Metadata::HiddenByMarker => {
            let Some(marker) = object.version_id.as_deref() else {
                return Ok(nothing);
            };
            // With versioning suspended, a delete removes the null version for good and a
            // marker with version id null takes its place: what such a marker hid may be
            // gone, and the version listed before it may never have been current then.
            if marker == NULL_VERSION {
                return Ok(nothing);
            }
            match current::behind_marker(store, bucket, key, marker).await? {
                current::Marker::Gone { current } => return Ok(Read::MarkerGone { current }),
                // No version before the marker: nothing to read (`None` would read the
                // current object).
                current::Marker::Listed {
                    hidden: None,
                    current,
                } => {
                    return Ok(Read::Names {
                        names: None,
                        current: Some(current),
                    })
                }
                current::Marker::Listed {
                    hidden: Some(hidden),
                    current,
                } => (Some(hidden), Some(current)),
            }
        }
    };
    let names = names_at(store, config, bucket, key, version.as_deref()).await?;
    Ok(Read::Names { names, current })
}

/// Reads the names of exactly `version` of `key` (the current object when `None`): its
/// metadata, then, only when that names no media id, the tags of the very same version.
/// `None` when there is no such object or version.
pub(crate) async fn names_at<S: ObjectStore>(
    store: &S,
    config: &Config,
    bucket: &str,
    key: &str,
    version: Option<&str>,
) -> Result<Option<Names>, StoreError> {
    let Some(head) = store.head(bucket, key, version).await? else {
        return Ok(None);
    };
    let (head_modified, head_version) = (head.last_modified, head.version_id.clone());
    let mut names = Names {
        // The version asked for, else the one S3 says it read (None when never versioned).
        version_id: version.map(str::to_owned).or(head.version_id),
        etag: head.etag,
        metadata: head.metadata,
        tags: HashMap::new(),
    };
    // No tags are read yet, so this asks the metadata alone.
    if names.media_id(config).is_none() {
        names.tags = store.tags(bucket, key, names.version_id.as_deref()).await?;
        // Without a version id of its own (a bucket never versioned) or with `null` (which
        // an upload replaces while versioning is suspended), the tags are those of whatever
        // is current by now: make sure it is still what HeadObject read.
        if names
            .version_id
            .as_deref()
            .is_none_or(|v| v == NULL_VERSION)
        {
            let again = store.head(bucket, key, version).await?;
            let same = again.is_some_and(|again| {
                again.etag == names.etag
                    && again.last_modified == head_modified
                    && again.version_id == head_version
            });
            if !same {
                return Err(StoreError {
                    operation: "GetObjectTagging",
                    status: None,
                    message: "the object was uploaded again while its metadata and tags were read; a retry reads it afresh".into(),
                    retryable: true,
                });
            }
        }
    }
    Ok(Some(names))
}
