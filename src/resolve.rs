//! From what an event gave to the validated ids of one deletion: ids given, or found for an
//! S3 object in its metadata, its key (`MEDIA_KEY_PATTERN`), or the configured default.

use crate::config::Config;
use crate::event::{IdsRequest, InvalidItem, Metadata, ObjectItem, ObjectRef};
use crate::ids::{MediaId, PhoneNumberId};
use crate::storage::{ObjectHead, ObjectStore, StoreError};

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
    /// Whether `object` was just read from S3 (so it exists, at that exact version).
    pub object_read: bool,
}

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
    } = item;
    let head = match read_metadata(store, &object, &metadata).await {
        Ok(head) => head,
        Err(error) => return Resolution::Failed { object, error },
    };
    let object_read = match (&metadata, &head) {
        (Metadata::Current, None) => {
            return Resolution::Skipped {
                reason: match &object.version_id {
                    Some(v) => format!("the object version {v} does not exist"),
                    None => "the object does not exist".into(),
                },
                object,
            }
        }
        (Metadata::Current, Some(head)) => {
            object.version_id = head.version_id.clone();
            true
        }
        _ => false,
    };

    let from_metadata = |name: &str| {
        head.as_ref()
            .and_then(|h| h.metadata.get(name))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let captures = config
        .media_key_pattern
        .as_ref()
        .and_then(|pattern| pattern.captures(&object.key));
    let from_key = |group: &str| {
        captures
            .as_ref()
            .and_then(|c| c.name(group))
            .map(|m| m.as_str().to_owned())
    };
    let Some(media_id) =
        from_metadata(&config.media_id_metadata_key).or_else(|| from_key("mediaId"))
    else {
        let reason = no_media_id_reason(config, &metadata, head.is_some());
        return Resolution::Skipped { object, reason };
    };
    let phone_number_id = from_metadata(&config.phone_number_id_metadata_key)
        .or_else(|| from_key("originationPhoneNumberId"));
    let request = IdsRequest {
        media_id,
        phone_number_id,
        object: Some(object),
    };
    match ids(request, config.default_phone_number_id.as_ref()) {
        Ok(target) => Resolution::Target(Target {
            object_read,
            ..target
        }),
        Err(invalid) => Resolution::Invalid(invalid),
    }
}

/// The metadata that may be read for `object`, if any survives.
async fn read_metadata<S: ObjectStore>(
    store: &S,
    object: &ObjectRef,
    metadata: &Metadata,
) -> Result<Option<ObjectHead>, StoreError> {
    let (bucket, key) = (object.bucket.as_str(), object.key.as_str());
    match metadata {
        Metadata::Gone => Ok(None),
        Metadata::Current => store.head(bucket, key, object.version_id.as_deref()).await,
        Metadata::HiddenByMarker => {
            let Some(marker) = object.version_id.as_deref() else {
                return Ok(None);
            };
            match store.version_before_marker(bucket, key, marker).await? {
                Some(version) => store.head(bucket, key, Some(&version)).await,
                None => Ok(None),
            }
        }
    }
}

fn no_media_id_reason(config: &Config, metadata: &Metadata, read: bool) -> String {
    let source = match (metadata, read) {
        (Metadata::Gone, _) => "the object was permanently deleted, so no metadata survives".into(),
        (Metadata::HiddenByMarker, false) => {
            "no earlier version of the key holds metadata".to_owned()
        }
        (_, _) => format!("no x-amz-meta-{} metadata", config.media_id_metadata_key),
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
            object: request.object,
            object_read: false,
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
