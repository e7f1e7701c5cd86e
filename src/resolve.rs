//! From what an event gave to the validated ids of one deletion: ids given, or found for an
//! S3 object in its metadata, its tags, its key (`MEDIA_KEY_PATTERN`), or the configured
//! default.

use std::collections::HashMap;

use crate::config::Config;
use crate::ids::{MediaId, PhoneNumberId};
use crate::model::{
    IdsRequest, InvalidItem, Metadata, ObjectItem, ObjectRef, ObjectSource, StoreError, Target,
    NULL_VERSION,
};
use crate::storage::ObjectStore;

/// What became of an S3 object item.
#[derive(Debug)]
pub enum Resolution {
    /// Ids found and valid.
    Target(Target),
    /// Nothing to delete, and why.
    Skipped {
        /// The object.
        object: ObjectRef,
        /// Why.
        reason: String,
    },
    /// Ids found but not valid.
    Invalid(Box<InvalidItem>),
    /// S3 could not be read.
    Failed {
        /// The object.
        object: ObjectRef,
        /// The S3 failure.
        error: StoreError,
    },
}

/// Finds the ids of an S3 object (contract, section 4). A permanently deleted object's
/// metadata is never read from whatever now stands under its key.
pub async fn object<S: ObjectStore>(store: &S, config: &Config, item: ObjectItem) -> Resolution {
    let ObjectItem {
        mut object,
        metadata,
        decoded_key,
    } = item;
    // The other form of an EventBridge key, for the current-version check below.
    let other_form = decoded_key.clone();
    if let (Metadata::HiddenByMarker, Some(decoded), Some(marker)) =
        (&metadata, decoded_key, object.version_id.as_deref())
    {
        match marker_key(store, &object, decoded, marker).await {
            Ok(Some(key)) => object.key = key,
            Ok(None) => {}
            Err(error) => return Resolution::Failed { object, error },
        }
    }
    let asked_version = object.version_id.clone();
    let found = match read_names(store, config, &object, &metadata).await {
        Ok(found) => found,
        Err(error) => return Resolution::Failed { object, error },
    };
    let source = match (&metadata, &found) {
        (Metadata::Current, None) => {
            return Resolution::Skipped {
                reason: match &object.version_id {
                    Some(v) => format!("the object version {v} does not exist"),
                    None => "the object does not exist".into(),
                },
                object,
            }
        }
        (Metadata::Current, Some(found)) => {
            object.version_id = found.version_id.clone();
            ObjectSource::Read {
                version_id: found.version_id.clone(),
                etag: found.etag.clone(),
            }
        }
        _ => ObjectSource::Key,
    };

    let (key_media_id, key_phone_number_id) = key_pattern_ids(config, &object.key);
    let recorded = found.as_ref().and_then(|f| f.media_id(config));
    let Some(media_id) = recorded.clone().or(key_media_id) else {
        let reason = no_media_id_reason(config, &metadata, &object, found.is_some());
        return Resolution::Skipped { object, reason };
    };
    // The key pattern names media by its key alone: while the key still has a current
    // version, that version stands for the same media, whichever other version went (or is
    // named). Only the current version itself, read as such, may act for it.
    let read_as_current = metadata == Metadata::Current && asked_version.is_none();
    if recorded.is_none() && !read_as_current {
        let keys = std::iter::once(object.key.clone()).chain(other_form);
        for key in keys {
            let current = current_version(store, &object.bucket, &key).await;
            match current {
                Ok(Some(current)) if object.version_id.as_deref() != Some(current.as_str()) => {
                    return Resolution::Skipped {
                        reason: format!(
                            "MEDIA_KEY_PATTERN names media {media_id}, but the key {key:?} still has a current version ({current}), which stands for it"
                        ),
                        object,
                    }
                }
                Ok(_) => {}
                Err(error) => return Resolution::Failed { object, error },
            }
        }
    }
    let phone_number_id = found
        .as_ref()
        .and_then(|f| f.phone_number_id(config))
        .or(key_phone_number_id);
    let request = IdsRequest {
        media_id,
        phone_number_id,
        object: Some(object),
    };
    match ids(request, config.default_phone_number_id.as_ref()) {
        Ok(target) => Resolution::Target(Target { source, ..target }),
        Err(invalid) => Resolution::Invalid(invalid),
    }
}

/// The media id and phone number id that `MEDIA_KEY_PATTERN` finds in `key`, if any.
fn key_pattern_ids(config: &Config, key: &str) -> (Option<String>, Option<String>) {
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

/// The version id of the key's current version, if it has one (a delete marker is none).
/// Read from the version listing (`s3:ListBucketVersions`), which answers the same whether
/// or not the key exists.
async fn current_version<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, StoreError> {
    Ok(store
        .versions(bucket, key)
        .await?
        .into_iter()
        .find(|v| v.is_latest && !v.is_delete_marker)
        .map(|v| v.version_id))
}

/// The names an object version carries: its metadata, and its tags when the metadata
/// names no media id.
#[derive(Debug)]
pub(crate) struct Names {
    /// The version that was read.
    version_id: Option<String>,
    /// Its ETag.
    etag: Option<String>,
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

    /// Whether this version of `key` is the object of `media_id` (uploaded through
    /// `phone_number_id`): its metadata or tags record that media id (and that phone
    /// number, where they record one), or, when they record no media id, the key pattern
    /// gives it.
    pub(crate) fn names_media(
        &self,
        config: &Config,
        key: &str,
        media_id: &MediaId,
        phone_number_id: &PhoneNumberId,
    ) -> bool {
        let (media, phone) = match self.media_id(config) {
            Some(media) => (Some(media), self.phone_number_id(config)),
            None => {
                let (key_media_id, key_phone_number_id) = key_pattern_ids(config, key);
                (
                    key_media_id,
                    self.phone_number_id(config).or(key_phone_number_id),
                )
            }
        };
        media.as_deref() == Some(media_id.as_str())
            && phone.is_none_or(|phone| phone_number_id.is_named_by(&phone))
    }
}

/// Reads the names of the version of `object` that may be read, if any survives: its
/// metadata, then, only when that names no media id, the tags of exactly the same version.
async fn read_names<S: ObjectStore>(
    store: &S,
    config: &Config,
    object: &ObjectRef,
    metadata: &Metadata,
) -> Result<Option<Names>, StoreError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let version = match metadata {
        Metadata::Gone => return Ok(None),
        Metadata::Current => object.version_id.clone(),
        Metadata::HiddenByMarker => {
            let Some(marker) = object.version_id.as_deref() else {
                return Ok(None);
            };
            // With versioning suspended, a delete removes the null version for good and a
            // marker with version id null takes its place: what such a marker hid may be
            // gone, and the version listed before it may never have been current then.
            if marker == NULL_VERSION {
                return Ok(None);
            }
            match store.version_before_marker(bucket, key, marker).await? {
                Some(version) => Some(version),
                None => return Ok(None),
            }
        }
    };
    names_at(store, config, bucket, key, version.as_deref()).await
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

/// Which key a delete marker delivered by EventBridge belongs to: the key as delivered
/// when the marker is one of its versions, else its percent-decoded form when the marker
/// is one of that key's. `None` keeps the delivered key: nothing is chosen on a guess.
async fn marker_key<S: ObjectStore>(
    store: &S,
    object: &ObjectRef,
    decoded: String,
    marker: &str,
) -> Result<Option<String>, StoreError> {
    let bucket = object.bucket.as_str();
    if store.is_delete_marker(bucket, &object.key, marker).await? {
        return Ok(None);
    }
    Ok(store
        .is_delete_marker(bucket, &decoded, marker)
        .await?
        .then_some(decoded))
}

fn no_media_id_reason(
    config: &Config,
    metadata: &Metadata,
    object: &ObjectRef,
    read: bool,
) -> String {
    let (name, tag) = (&config.media_id_metadata_key, &config.media_id_tag_key);
    let source = match (metadata, read) {
        (Metadata::Gone, _) => {
            "the object was permanently deleted, so no metadata or tag survives".into()
        }
        (Metadata::HiddenByMarker, false)
            if object.version_id.as_deref() == Some(NULL_VERSION) =>
        {
            "the delete marker has version id null (versioning suspended): it replaced the null version for good, so which version it hid cannot be proven".to_owned()
        }
        (Metadata::HiddenByMarker, false) => {
            "no earlier version of the key holds metadata or tags".to_owned()
        }
        (_, _) => format!("no x-amz-meta-{name} metadata and no {tag} tag"),
    };
    match config.media_key_pattern {
        Some(_) => format!("no media id: {source}, and the key does not match MEDIA_KEY_PATTERN"),
        None => format!("no media id: {source}, and MEDIA_KEY_PATTERN is not set"),
    }
}

/// Validates the ids of `request`, taking the phone number id from `default_phone_number_id`
/// (`DEFAULT_ORIGINATION_PHONE_NUMBER_ID`) when the request gives none.
pub fn ids(
    request: IdsRequest,
    default_phone_number_id: Option<&PhoneNumberId>,
) -> Result<Target, Box<InvalidItem>> {
    let media_id = MediaId::parse(&request.media_id);
    let phone_number_id = match (&request.phone_number_id, default_phone_number_id) {
        (Some(given), _) => PhoneNumberId::parse(given).map_err(|e| e.to_string()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(
            "\"originationPhoneNumberId\" is missing and DEFAULT_ORIGINATION_PHONE_NUMBER_ID is not set"
                .to_owned(),
        ),
    };
    match (media_id, phone_number_id) {
        (Ok(media_id), Ok(phone_number_id)) => Ok(Target {
            media_id,
            phone_number_id,
            source: match request.object.as_ref().and_then(|o| o.version_id.clone()) {
                Some(version) => ObjectSource::Named(version),
                None => ObjectSource::Key,
            },
            object: request.object,
        }),
        (media_id, phone_number_id) => {
            let problems: Vec<String> =
                [media_id.err().map(|e| e.to_string()), phone_number_id.err()]
                    .into_iter()
                    .flatten()
                    .collect();
            Err(Box::new(InvalidItem {
                media_id: Some(request.media_id),
                phone_number_id: request.phone_number_id,
                object: request.object,
                problem: problems.join("; "),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fakes::{names, MemoryStore};

    fn request(media_id: &str, phone: Option<&str>) -> IdsRequest {
        IdsRequest {
            media_id: media_id.into(),
            phone_number_id: phone.map(str::to_owned),
            object: None,
        }
    }

    #[test]
    fn given_ids_win_over_the_default() {
        let default = PhoneNumberId::parse("phone-number-id-default").unwrap();
        let t = ids(
            request("abc", Some("phone-number-id-given")),
            Some(&default),
        )
        .unwrap();
        assert_eq!(t.phone_number_id.as_str(), "phone-number-id-given");
        let t = ids(request("abc", None), Some(&default)).unwrap();
        assert_eq!(t.phone_number_id.as_str(), "phone-number-id-default");
    }

    fn item(key: &str, version: Option<&str>, metadata: Metadata) -> ObjectItem {
        ObjectItem::new(
            ObjectRef {
                bucket: "media".into(),
                key: key.into(),
                version_id: version.map(str::to_owned),
            },
            metadata,
        )
    }

    async fn resolved(store: &MemoryStore, item: ObjectItem) -> Target {
        let config = Config::from_lookup(|_| None).unwrap();
        match object(store, &config, item).await {
            Resolution::Target(t) => t,
            other => panic!("{other:?}"),
        }
    }

    const MEDIA: &str = "whatsapp-media-id";
    const PHONE: &str = "whatsapp-origination-phone-number-id";

    #[tokio::test]
    async fn tags_give_the_ids_when_metadata_does_not_and_metadata_wins() {
        let mut store = MemoryStore::read_only();
        store.put(
            "tagged.jpg",
            "v1",
            names(&[], &[(MEDIA, "fromtags"), (PHONE, "phone-number-id-t")]),
        );
        store.put(
            "both.jpg",
            "v1",
            names(
                &[(MEDIA, "frommeta"), (PHONE, "phone-number-id-m")],
                &[(MEDIA, "fromtags")],
            ),
        );
        // A phone number id in metadata and a media id in tags: each id from the first
        // source that gives it.
        store.put(
            "mixed.jpg",
            "v1",
            names(
                &[(PHONE, "phone-number-id-m")],
                &[(MEDIA, "fromtags"), (PHONE, "phone-number-id-t")],
            ),
        );

        let t = resolved(&store, item("tagged.jpg", None, Metadata::Current)).await;
        assert_eq!(
            (t.media_id.as_str(), t.phone_number_id.as_str()),
            ("fromtags", "phone-number-id-t")
        );
        assert!(matches!(t.source, ObjectSource::Read { .. }));

        let t = resolved(&store, item("both.jpg", None, Metadata::Current)).await;
        assert_eq!(
            (t.media_id.as_str(), t.phone_number_id.as_str()),
            ("frommeta", "phone-number-id-m")
        );

        let t = resolved(&store, item("mixed.jpg", None, Metadata::Current)).await;
        assert_eq!(
            (t.media_id.as_str(), t.phone_number_id.as_str()),
            ("fromtags", "phone-number-id-m")
        );

        // Tags are read only when the metadata names no media id, and always of the very
        // version whose metadata was read.
        assert_eq!(
            store.calls(),
            [
                "head tagged.jpg None",
                "tags tagged.jpg Some(\"v1\")",
                "head both.jpg None",
                "head mixed.jpg None",
                "tags mixed.jpg Some(\"v1\")"
            ]
        );
    }

    #[tokio::test]
    async fn a_marker_reads_the_tags_of_the_version_it_hid_never_a_newer_one() {
        let mut store = MemoryStore::read_only();
        store.put(
            "race.jpg",
            "v1",
            names(&[], &[(MEDIA, "oldmedia"), (PHONE, "phone-number-id-1")]),
        );
        store.mark("race.jpg", "m1");
        store.put(
            "race.jpg",
            "v2",
            names(&[], &[(MEDIA, "newmedia"), (PHONE, "phone-number-id-1")]),
        );
        let t = resolved(
            &store,
            item("race.jpg", Some("m1"), Metadata::HiddenByMarker),
        )
        .await;
        assert_eq!(t.media_id.as_str(), "oldmedia");
        assert_eq!(t.source, ObjectSource::Key);
        assert!(store
            .calls
            .lock()
            .unwrap()
            .contains(&"tags race.jpg Some(\"v1\")".to_owned()));
    }

    #[tokio::test]
    async fn a_blank_or_invalid_tag_is_never_taken_for_an_id() {
        let mut store = MemoryStore::read_only();
        store.put("blank.jpg", "v1", names(&[(MEDIA, "  ")], &[(MEDIA, " ")]));
        store.put(
            "bad.jpg",
            "v1",
            names(&[], &[(MEDIA, "not valid"), (PHONE, "phone-number-id-1")]),
        );
        let config = Config::from_lookup(|_| None).unwrap();
        let blank = object(&store, &config, item("blank.jpg", None, Metadata::Current)).await;
        assert!(
            matches!(&blank, Resolution::Skipped { reason, .. } if reason.contains("no whatsapp-media-id tag")),
            "{blank:?}"
        );
        let bad = object(&store, &config, item("bad.jpg", None, Metadata::Current)).await;
        assert!(
            matches!(&bad, Resolution::Invalid(e) if e.media_id.as_deref() == Some("not valid")),
            "{bad:?}"
        );
    }

    #[tokio::test]
    async fn the_marker_decides_which_form_of_an_eventbridge_key_it_belongs_to() {
        let mut store = MemoryStore::read_only();
        let tags = |id| names(&[], &[(MEDIA, id), (PHONE, "phone-number-id-1")]);
        store.put("a b.jpg", "v1", tags("decoded"));
        store.mark("a b.jpg", "m1");
        store.put("a%20b.jpg", "v2", tags("literal"));
        store.mark("a%20b.jpg", "m2");
        let eventbridge = |marker: &str| ObjectItem {
            decoded_key: Some("a b.jpg".into()),
            ..item("a%20b.jpg", Some(marker), Metadata::HiddenByMarker)
        };
        let t = resolved(&store, eventbridge("m1")).await;
        assert_eq!(t.media_id.as_str(), "decoded");
        assert_eq!(t.object.unwrap().key, "a b.jpg");
        let t = resolved(&store, eventbridge("m2")).await;
        assert_eq!(t.media_id.as_str(), "literal");
        assert_eq!(t.object.unwrap().key, "a%20b.jpg");
        // A marker of neither key: the key stays as delivered, and nothing is found.
        let config = Config::from_lookup(|_| None).unwrap();
        let none = object(&store, &config, eventbridge("m9")).await;
        assert!(
            matches!(&none, Resolution::Skipped { object, .. } if object.key == "a%20b.jpg"),
            "{none:?}"
        );
    }

    #[test]
    fn every_problem_is_named() {
        let err = ids(request("a b", Some("bad")), None).unwrap_err();
        assert!(err.problem.starts_with("mediaId "), "{}", err.problem);
        assert!(
            err.problem.contains("; originationPhoneNumberId "),
            "{}",
            err.problem
        );
        assert_eq!(err.media_id.as_deref(), Some("a b"));

        let err = ids(request("abc", None), None).unwrap_err();
        assert!(err.problem.contains("DEFAULT_ORIGINATION_PHONE_NUMBER_ID"));
    }
}
