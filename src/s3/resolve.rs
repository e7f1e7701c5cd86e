//! From what an event gave to the validated ids of one deletion: ids given, or found for an
//! S3 object in its metadata, its tags, its key (`MEDIA_KEY_PATTERN`), or the configured
//! default.

use crate::config::Config;
use crate::ids::{MediaId, PhoneNumberId};
use crate::model::{
    IdsRequest, InvalidItem, Metadata, ObjectItem, ObjectRef, ObjectSource, StoreError, Target,
    NULL_VERSION,
};
use crate::s3::store::ObjectStore;

mod current;
mod marker;
mod names;

use marker::{marker_form, marker_gone_in_either};
pub(crate) use names::names_at;
use names::{key_pattern_ids, read_names, Names, Read};

/// What became of an S3 object item.
#[derive(Debug)]
pub enum Resolution {
    /// Ids found and valid.
    Target(Target),
    /// Nothing to delete, and why.
    Skipped { object: ObjectRef, reason: String },
    /// Ids found and valid, but a current version of the key stands for the media: it
    /// stays, and this says why.
    HeldBack {
        /// The deletion that is not made.
        target: Box<Target>,
        reason: String,
    },
    /// Ids found but not valid.
    Invalid(Box<InvalidItem>),
    /// S3 could not be read.
    Failed {
        object: ObjectRef,
        error: StoreError,
    },
}

/// Finds the ids of an S3 object (contract, section 4). A permanently deleted object's
/// metadata is never read from whatever now stands under its key, and media goes only while
/// no current version of the key stands for it (`current::holds_back`).
pub async fn object<S: ObjectStore>(store: &S, config: &Config, item: ObjectItem) -> Resolution {
    let ObjectItem {
        mut object,
        metadata,
        decoded_key,
        deleted_at,
    } = item;
    // The other form of an EventBridge key, which nothing read can rule out after a
    // permanent delete, for the key pattern's check below. A marker proves its key.
    let other_form = decoded_key.clone().filter(|_| metadata == Metadata::Gone);
    let unproven_form = match marker_form(store, &mut object, &metadata, decoded_key).await {
        Ok(unproven_form) => unproven_form,
        Err(error) => return Resolution::Failed { object, error },
    };
    let asked_version = object.version_id.clone();
    let (found, current) = match read_names(store, config, &object, &metadata).await {
        Ok(Read::Names { names, current }) => (names, current),
        Ok(Read::MarkerGone { current }) => {
            return marker_gone_in_either(store, object, current, unproven_form, deleted_at).await
        }
        Err(error) => return Resolution::Failed { object, error },
    };
    let (target, named_by) = match target(config, &mut object, &metadata, found.as_ref()) {
        Ok(found) => found,
        Err(end) => return *end,
    };
    // A request that names no version reads the current one: that is the object the caller
    // asks to go, and nothing else stands for its media.
    if metadata == Metadata::Current && asked_version.is_none() {
        return Resolution::Target(target);
    }
    let guard = current::Guard {
        bucket: &object.bucket,
        key: &object.key,
        other_form: other_form.as_deref(),
        read: found.as_ref().and_then(|f| f.version_id()),
        current,
        request: metadata == Metadata::Current,
    };
    guarded(store, config, guard, named_by, target, &object).await
}

/// The deletion that the names read (or the key pattern) ask for, and which of the two
/// named the media; otherwise the item's end: skipped (no such object, no media id) or
/// invalid. A request's object takes the version that was read.
fn target(
    config: &Config,
    object: &mut ObjectRef,
    metadata: &Metadata,
    found: Option<&Names>,
) -> Result<(Target, current::NamedBy), Box<Resolution>> {
    let source = match (metadata, found) {
        (Metadata::Current, None) => {
            return Err(Box::new(Resolution::Skipped {
                reason: match &object.version_id {
                    Some(v) => format!("the object version {v} does not exist"),
                    None => "the object does not exist".into(),
                },
                object: object.clone(),
            }))
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
    let recorded = found.and_then(|f| f.media_id(config));
    let named_by = match recorded {
        Some(_) => current::NamedBy::Record,
        None => current::NamedBy::KeyPattern,
    };
    let Some(media_id) = recorded.or(key_media_id) else {
        let reason = no_media_id_reason(config, metadata, object, found.is_some());
        return Err(Box::new(Resolution::Skipped {
            object: object.clone(),
            reason,
        }));
    };
    let phone_number_id = found
        .and_then(|f| f.phone_number_id(config))
        .or(key_phone_number_id);
    let request = IdsRequest {
        media_id,
        phone_number_id,
        object: Some(object.clone()),
    };
    match ids(request, config.default_phone_number_id.as_ref()) {
        Ok(target) => Ok((Target { source, ..target }, named_by)),
        Err(invalid) => Err(Box::new(Resolution::Invalid(invalid))),
    }
}

/// A request (custom event or Batch task) that gave ids and named an exact version of an
/// object: the version is read before anything is sent, so that a version id S3 refuses
/// fails the item, a current version that records the same media holds it back, and a
/// version that records other media is kept once the media is gone (contract, section 5).
pub async fn named_version<S: ObjectStore>(
    store: &S,
    config: &Config,
    target: Target,
) -> Resolution {
    let (Some(object), ObjectSource::Named(version)) = (&target.object, &target.source) else {
        return Resolution::Target(target);
    };
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    let names = match names_at(store, config, bucket, key, Some(version)).await {
        Ok(names) => names,
        Err(error) => {
            let object = object.clone();
            return Resolution::Failed { object, error };
        }
    };
    let source = match &names {
        // No such version: the removal finds it absent.
        None => ObjectSource::Named(version.clone()),
        Some(names) => {
            match names.foreign(config, key, &target.media_id, &target.phone_number_id) {
                Some(reason) => ObjectSource::Foreign(reason),
                None => ObjectSource::Read {
                    version_id: Some(version.clone()),
                    etag: names.etag().map(str::to_owned),
                },
            }
        }
    };
    let guard = current::Guard {
        bucket,
        key,
        other_form: None,
        read: Some(version),
        current: None,
        request: true,
    };
    let target = Target {
        source,
        ..target.clone()
    };
    guarded(
        store,
        config,
        guard,
        current::NamedBy::Record,
        target,
        object,
    )
    .await
}

/// `target`, unless a current version of its key holds its media back.
async fn guarded<S: ObjectStore>(
    store: &S,
    config: &Config,
    guard: current::Guard<'_>,
    named_by: current::NamedBy,
    target: Target,
    object: &ObjectRef,
) -> Resolution {
    match current::holds_back(store, config, guard, &target.media_id, named_by).await {
        Ok(None) => Resolution::Target(target),
        Ok(Some(reason)) => Resolution::HeldBack {
            target: Box::new(target),
            reason,
        },
        Err(error) => Resolution::Failed {
            object: object.clone(),
            error,
        },
    }
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
        // Gone from both, while the decoded form was uploaded again since: which version
        // it hid cannot be told on that key either, and the item fails.
        let deleted = store.now();
        store.put("a b.jpg", "v3", tags("since"));
        let untold = object(&store, &config, eventbridge("m9").deleted_at(Some(deleted))).await;
        assert!(
            matches!(&untold, Resolution::Failed { error, .. } if error.message.contains("decoded form \"a b.jpg\"")),
            "{untold:?}"
        );
    }

    async fn resolution(store: &MemoryStore, item: ObjectItem) -> Resolution {
        let config = Config::from_lookup(|_| None).unwrap();
        object(store, &config, item).await
    }

    fn held_back(resolution: &Resolution) -> &str {
        match resolution {
            Resolution::HeldBack { reason, .. } => reason,
            other => panic!("expected the media held back, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_current_version_that_records_the_media_holds_it_back() {
        let tags = |id| names(&[], &[(MEDIA, id), (PHONE, "phone-number-id-1")]);
        let mut store = MemoryStore::read_only();
        // Restored by copy: the hidden version is copied back onto the key.
        store.put("copied.jpg", "v1", tags("m1"));
        store.mark("copied.jpg", "d1");
        store.put("copied.jpg", "v2", tags("m1"));
        // Uploaded again since, for other media: that does not hold m2 back.
        store.put("other.jpg", "v1", tags("m2"));
        store.mark("other.jpg", "d1");
        store.put("other.jpg", "v2", tags("m9"));
        let marker = |key| item(key, Some("d1"), Metadata::HiddenByMarker);

        let copied = resolution(&store, marker("copied.jpg")).await;
        assert!(held_back(&copied).contains("current version v2 records media m1"));
        let t = resolved(&store, marker("other.jpg")).await;
        assert_eq!(t.media_id.as_str(), "m2");

        // A request naming a noncurrent version is held back the same way; naming the
        // current version itself, it is the caller asking for exactly that object to go.
        let named = |version| item("copied.jpg", Some(version), Metadata::Current);
        let old = resolution(&store, named("v1")).await;
        assert!(held_back(&old).contains("v2"), "{old:?}");
        let t = resolved(&store, named("v2")).await;
        assert_eq!(
            t.source,
            ObjectSource::Read {
                version_id: Some("v2".into()),
                etag: Some("\"v2\"".into())
            }
        );
    }

    #[tokio::test]
    async fn a_marker_that_is_gone_is_told_by_what_is_current_and_when_it_was_written() {
        let tags = |id| names(&[], &[(MEDIA, id), (PHONE, "phone-number-id-1")]);
        let marker = |key, at| item(key, Some("d1"), Metadata::HiddenByMarker).deleted_at(at);
        let failed = |resolution: &Resolution, why: &str| matches!(resolution, Resolution::Failed { error, .. } if !error.retryable && error.message.contains(why));
        let mut store = MemoryStore::read_only();
        // Undeleted: d1 was removed, so v1, written before the deletion, is current again.
        store.put("undeleted.jpg", "v1", tags("m1"));
        store.mark("undeleted.jpg", "d1");
        let deleted = store.now();
        store.remove("undeleted.jpg", "d1");
        let undeleted = resolution(&store, marker("undeleted.jpg", Some(deleted))).await;
        assert!(
            matches!(&undeleted, Resolution::Skipped { reason, .. } if reason.contains("d1 no longer exists") && reason.contains("v1 was written before")),
            "{undeleted:?}"
        );
        // A version written in the same second as the deletion, or an event without its
        // time, cannot be told from one written since: the item fails, so that someone
        // looks, rather than pass for done.
        let same_second = resolution(&store, marker("undeleted.jpg", Some(deleted - 1))).await;
        assert!(failed(&same_second, "written after"), "{same_second:?}");
        let timeless = resolution(&store, marker("undeleted.jpg", None)).await;
        assert!(failed(&timeless, "carries no time"), "{timeless:?}");
        // d1 was removed after another upload: which version it hid cannot be told.
        store.put("reuploaded.jpg", "v1", tags("m1"));
        store.mark("reuploaded.jpg", "d1");
        let deleted = store.now();
        store.put("reuploaded.jpg", "v2", tags("m2"));
        store.remove("reuploaded.jpg", "d1");
        let reuploaded = resolution(&store, marker("reuploaded.jpg", Some(deleted))).await;
        assert!(failed(&reuploaded, "written after"), "{reuploaded:?}");
        // Another marker is current: its own event reads what it hid.
        store.put("remarked.jpg", "v1", tags("m1"));
        store.mark("remarked.jpg", "d1");
        let deleted = store.now();
        store.mark("remarked.jpg", "d2");
        store.remove("remarked.jpg", "d1");
        let remarked = resolution(&store, marker("remarked.jpg", Some(deleted))).await;
        assert!(
            matches!(&remarked, Resolution::Skipped { reason, .. } if reason.contains("no current version")),
            "{remarked:?}"
        );
        // A later marker d2 hides v1, and d1 is listed but no longer current: v1 is found by
        // a listing that starts at d1, and nothing is current, so the media goes.
        let mut store = MemoryStore::read_only();
        store.put("again.jpg", "v1", tags("m1"));
        store.mark("again.jpg", "d1");
        store.put("again.jpg", "v2", tags("m2"));
        store.mark("again.jpg", "d2");
        let t = resolved(&store, marker("again.jpg", Some(2))).await;
        assert_eq!(t.media_id.as_str(), "m1");
    }

    #[tokio::test]
    async fn a_named_version_that_records_other_media_is_not_that_medias_object() {
        let config = Config::from_lookup(|_| None).unwrap();
        let mut store = MemoryStore::read_only();
        store.put(
            "k.jpg",
            "v1",
            names(&[], &[(MEDIA, "mediab"), (PHONE, "phone-number-id-1")]),
        );
        store.put("k.jpg", "v2", names(&[], &[]));
        store.put("k.jpg", "v3", names(&[], &[(PHONE, "phone-number-id-2")]));
        let named = |version: &str| Target {
            media_id: MediaId::parse("mediaa").unwrap(),
            phone_number_id: PhoneNumberId::parse("phone-number-id-1").unwrap(),
            object: Some(ObjectRef {
                bucket: "media".into(),
                key: "k.jpg".into(),
                version_id: Some(version.into()),
            }),
            source: ObjectSource::Named(version.into()),
        };
        let source = |resolution| match resolution {
            Resolution::Target(t) => t.source,
            other => panic!("{other:?}"),
        };
        let other_media = source(named_version(&store, &config, named("v1")).await);
        assert!(
            matches!(&other_media, ObjectSource::Foreign(r) if r.contains("records media mediab")),
            "{other_media:?}"
        );
        // Recording no ids at all, it stays the caller's word.
        let bare = source(named_version(&store, &config, named("v2")).await);
        assert!(
            matches!(&bare, ObjectSource::Read { version_id: Some(v), .. } if v == "v2"),
            "{bare:?}"
        );
        let other_phone = source(named_version(&store, &config, named("v3")).await);
        assert!(
            matches!(&other_phone, ObjectSource::Foreign(r) if r.contains("phone-number-id-2")),
            "{other_phone:?}"
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
