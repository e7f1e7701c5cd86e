//! The current-version guard (contract, section 4): media read from one version of a key
//! goes only while no current version of that key stands for it. A copy of an old version
//! onto the key (AWS's way to restore an object), an undelete (its delete marker removed)
//! or an upload with the same ids all make a current version that still serves the media,
//! however late the event of the version that went arrives.

use crate::config::Config;
use crate::ids::MediaId;
use crate::model::StoreError;
use crate::s3::store::{KeyVersion, ObjectStore};

use super::names::{key_pattern_ids, names_at};

/// How the media id was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NamedBy {
    /// The version's metadata or tags record it, or the caller gave it.
    Record,
    /// `MEDIA_KEY_PATTERN` names it by the key alone, so every version of the key stands
    /// for it.
    KeyPattern,
}

/// What the guard looks at.
#[derive(Debug)]
pub(crate) struct Guard<'a> {
    pub bucket: &'a str,
    pub key: &'a str,
    /// EventBridge's permanent deletes only: the other form of the key (percent-decoded),
    /// which the key pattern may name the same media by.
    pub other_form: Option<&'a str>,
    /// The version the media was read from (a marker's: the version it hid), if any.
    pub read: Option<&'a str>,
    /// The key's current version, when its listing was read already (`Some(None)`: none).
    pub current: Option<Option<String>>,
    /// A request to delete (a custom event or a Batch task): it may name the current
    /// version itself, which is then the object the caller asks to go. For a notification,
    /// the version read being current again means the object was undeleted.
    pub request: bool,
}

/// Why `media_id` must stay, if a current version of the key stands for it.
pub(crate) async fn holds_back<S: ObjectStore>(
    store: &S,
    config: &Config,
    guard: Guard<'_>,
    media_id: &MediaId,
    named_by: NamedBy,
) -> Result<Option<String>, StoreError> {
    let current = match guard.current.clone() {
        Some(current) => current,
        None => current_version(store, guard.bucket, guard.key).await?,
    };
    let is_read = |version: &str| guard.read == Some(version);
    match named_by {
        NamedBy::KeyPattern => {
            if let Some(current) = current.filter(|c| !(guard.request && is_read(c))) {
                return Ok(Some(pattern_reason(media_id, guard.key, &current)));
            }
            let Some(other) = guard.other_form else {
                return Ok(None);
            };
            if key_pattern_ids(config, other).0.as_deref() != Some(media_id.as_str()) {
                return Ok(None);
            }
            Ok(current_version(store, guard.bucket, other)
                .await?
                .map(|current| pattern_reason(media_id, other, &current)))
        }
        NamedBy::Record => {
            let Some(current) = current else {
                return Ok(None);
            };
            if is_read(&current) {
                return Ok((!guard.request).then(|| format!(
                    "the version {current} that the delete marker hid is the key's current version again (the object was undeleted), and it records media {media_id}: the media stays"
                )));
            }
            let names = names_at(store, config, guard.bucket, guard.key, Some(&current)).await?;
            let stands = names.is_some_and(|names| {
                names.ids(config, guard.key).0.as_deref() == Some(media_id.as_str())
            });
            Ok(stands.then(|| format!(
                "the key's current version {current} records media {media_id} too (a restore by copy, or an upload with the same ids): it still serves the media, so the media stays"
            )))
        }
    }
}

fn pattern_reason(media_id: &MediaId, key: &str, current: &str) -> String {
    format!(
        "MEDIA_KEY_PATTERN names media {media_id}, but the key {key:?} still has a current version ({current}), which stands for it"
    )
}

/// The key's current version, if it has one (a delete marker is none). Read from the
/// version listing (`s3:ListBucketVersions`), which answers the same whether or not the
/// key exists.
pub(super) async fn listed_current<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
) -> Result<Option<KeyVersion>, StoreError> {
    Ok(current_entry(&store.versions(bucket, key).await?).cloned())
}

/// The version id of the key's current version, if it has one.
async fn current_version<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(listed_current(store, bucket, key)
        .await?
        .map(|v| v.version_id))
}

fn current_entry(listing: &[KeyVersion]) -> Option<&KeyVersion> {
    listing.iter().find(|v| v.is_latest && !v.is_delete_marker)
}

/// What a delete marker's key lists now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// The marker is listed: the version it hid, if any, and the key's current version.
    Listed {
        hidden: Option<String>,
        current: Option<String>,
    },
    /// The marker is no longer listed (removed, or expired); the key's current version.
    Gone { current: Option<KeyVersion> },
}

/// Lists the key once: whether the marker still exists, the key's current version, and,
/// while the marker is itself current (as it usually is), the version it hid: every other
/// entry is older than it, so that is the newest version listed. A marker that is no longer
/// current needs a second listing that starts at it (`version_before_marker`).
pub(crate) async fn behind_marker<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    marker: &str,
) -> Result<Marker, StoreError> {
    let listing = store.versions(bucket, key).await?;
    let is_marker = |v: &&KeyVersion| v.is_delete_marker && v.version_id == marker;
    let Some(entry) = listing.iter().find(is_marker) else {
        let current = current_entry(&listing).cloned();
        return Ok(Marker::Gone { current });
    };
    let current = current_entry(&listing).map(|v| v.version_id.clone());
    let hidden = if entry.is_latest {
        listing
            .iter()
            .find(|v| !v.is_delete_marker)
            .map(|v| v.version_id.clone())
    } else {
        store.version_before_marker(bucket, key, marker).await?
    };
    Ok(Marker::Listed { hidden, current })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{names, MemoryStore};

    fn config(pattern: Option<&str>) -> Config {
        Config::from_lookup(|name| match name {
            "MEDIA_KEY_PATTERN" => pattern.map(str::to_owned),
            _ => None,
        })
        .unwrap()
    }

    fn guard<'a>(key: &'a str, read: Option<&'a str>, request: bool) -> Guard<'a> {
        Guard {
            bucket: "media",
            key,
            other_form: None,
            read,
            current: None,
            request,
        }
    }

    #[tokio::test]
    async fn a_recorded_media_is_held_back_only_by_a_current_version_that_records_it() {
        let config = config(None);
        let media = MediaId::parse("m1").unwrap();
        let tags = |id| names(&[], &[("whatsapp-media-id", id)]);
        let mut store = MemoryStore::read_only();
        store.put("same.jpg", "v1", tags("m1"));
        store.put("same.jpg", "v2", tags("m1"));
        store.put("other.jpg", "v1", tags("m1"));
        store.put("other.jpg", "v2", tags("m2"));
        store.put("bare.jpg", "v1", tags("m1"));
        store.put("bare.jpg", "v2", names(&[], &[]));
        let held = |key, read, request| {
            holds_back(
                &store,
                &config,
                guard(key, read, request),
                &media,
                NamedBy::Record,
            )
        };
        let reason = held("same.jpg", Some("v1"), true).await.unwrap();
        assert!(reason.is_some_and(|r| r.contains("current version v2 records media m1")));
        // The current version itself: the caller's request, or, for a notification, an
        // undelete.
        assert_eq!(held("same.jpg", Some("v2"), true).await.unwrap(), None);
        let undeleted = held("same.jpg", Some("v2"), false).await.unwrap();
        assert!(undeleted.is_some_and(|r| r.contains("undeleted")));
        // Other media, or none, does not hold it back.
        assert_eq!(held("other.jpg", Some("v1"), false).await.unwrap(), None);
        assert_eq!(held("bare.jpg", Some("v1"), false).await.unwrap(), None);
        assert_eq!(held("gone.jpg", Some("v1"), false).await.unwrap(), None);
    }

    #[tokio::test]
    async fn the_key_patterns_other_form_holds_back_only_the_media_it_names() {
        let config = config(Some(r"^(?P<mediaId>[a-z]+)[ %20]*\.jpg$"));
        let media = MediaId::parse("ab").unwrap();
        let mut store = MemoryStore::read_only();
        store.put("ab .jpg", "v1", names(&[], &[]));
        store.put("zz .jpg", "v1", names(&[], &[]));
        let held = |other| {
            let guard = Guard {
                other_form: Some(other),
                ..guard("ab%20.jpg", None, false)
            };
            holds_back(&store, &config, guard, &media, NamedBy::KeyPattern)
        };
        assert!(held("ab .jpg").await.unwrap().is_some());
        assert_eq!(held("zz .jpg").await.unwrap(), None);
    }
}
