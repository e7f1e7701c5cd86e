//! Custom events: manual invokes that name ids, or a batch of them under `deletions`.
//!
//! Keys in custom events are plain (not URL-encoded).

use serde_json::{Map, Value};

use super::read::json_type;
use super::EventError;
use crate::model::{IdsRequest, InvalidItem, Metadata, ObjectItem, ObjectRef, WorkItem};

/// A manual invoke, reduced to its items and options.
#[derive(Debug, PartialEq, Eq)]
pub struct CustomEvent {
    /// The items, in the order given.
    pub items: Vec<WorkItem>,
    /// `"dryRun": true`: resolve and validate, send nothing.
    pub dry_run: bool,
    /// `"deleteS3Object": false` keeps the event's S3 objects.
    pub delete_s3_object: bool,
    /// `"reference"`: why the deletions were asked for, for the erasure ledger.
    pub reference: Option<String>,
}

const ITEM_FIELDS: [&str; 5] = [
    "mediaId",
    "originationPhoneNumberId",
    "bucket",
    "key",
    "versionId",
];

/// Whether the object has the shape of a custom event.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    matches!(map.get("deletions"), Some(Value::Array(_)))
        || map.contains_key("mediaId")
        || map.contains_key("originationPhoneNumberId")
        || (map.contains_key("bucket") && map.contains_key("key"))
}

/// Reads a custom event. Items that are wrong fail one by one; only a wrong type for an
/// option fails the event.
pub(crate) fn parse(map: &Map<String, Value>) -> Result<CustomEvent, EventError> {
    let dry_run = bool_option(map, "dryRun", false)?;
    let delete_s3_object = bool_option(map, "deleteS3Object", true)?;
    let reference = super::reference::read(map.get("reference"), "reference")
        .map_err(EventError::BadReference)?;
    let items = match map.get("deletions") {
        Some(Value::Array(items)) => items.iter().map(item).collect(),
        _ => vec![item_from_map(map)],
    };
    Ok(CustomEvent {
        items,
        dry_run,
        delete_s3_object,
        reference,
    })
}

fn bool_option(
    map: &Map<String, Value>,
    field: &'static str,
    default: bool,
) -> Result<bool, EventError> {
    match map.get(field) {
        None => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(EventError::BadOption {
            field,
            expected: "true or false",
            found: json_type(other),
        }),
    }
}

fn item(value: &Value) -> WorkItem {
    match value {
        Value::Object(map) => item_from_map(map),
        other => WorkItem::Invalid(InvalidItem {
            media_id: None,
            phone_number_id: None,
            object: None,
            problem: format!(
                "a deletion must be an object with \"mediaId\" and \"originationPhoneNumberId\", got {}",
                json_type(other)
            ),
        }),
    }
}

/// The object a custom item names, if it names both its bucket and its key.
fn object(
    bucket: Option<String>,
    key: Option<String>,
    version_id: Option<String>,
    problems: &mut Vec<String>,
) -> Option<ObjectRef> {
    match (bucket, key) {
        (Some(bucket), Some(key)) => Some(ObjectRef {
            bucket,
            key,
            version_id,
        }),
        (None, None) => None,
        (Some(_), None) => {
            problems.push("\"bucket\" is given without \"key\"".into());
            None
        }
        (None, Some(_)) => {
            problems.push("\"key\" is given without \"bucket\"".into());
            None
        }
    }
}

fn item_from_map(map: &Map<String, Value>) -> WorkItem {
    let mut problems = Vec::new();
    let mut string_field = |field: &str| match map.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!(
                "\"{field}\" must be a string, got {}",
                json_type(other)
            ));
            None
        }
    };
    let [media_id, phone_number_id, bucket, key, version_id] = ITEM_FIELDS.map(&mut string_field);
    // An empty version id counts as none, as in every other source: S3 would refuse it.
    let version_id = version_id.filter(|v| !v.is_empty());

    let object = object(bucket, key, version_id, &mut problems);
    match (media_id, object) {
        (Some(media_id), object) if problems.is_empty() => WorkItem::Ids(IdsRequest {
            media_id,
            phone_number_id,
            object,
        }),
        // An object alone: its ids come from its metadata or key.
        (None, Some(object)) if problems.is_empty() && phone_number_id.is_none() => {
            WorkItem::Object(ObjectItem::new(object, Metadata::Current))
        }
        (media_id, object) => {
            if media_id.is_none() && problems.is_empty() {
                problems.push(if object.is_some() {
                    "\"originationPhoneNumberId\" is given without \"mediaId\"".into()
                } else {
                    "\"mediaId\" is missing (or give \"bucket\" and \"key\")".into()
                });
            }
            WorkItem::Invalid(InvalidItem {
                media_id,
                phone_number_id,
                object,
                problem: problems.join("; "),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::{recognise, Event};

    fn custom(event: Value) -> CustomEvent {
        match recognise(&event).unwrap() {
            Event::Custom(c) => c,
            other => panic!("not a custom event: {other:?}"),
        }
    }

    #[test]
    fn single_ids_with_object_and_options() {
        let c = custom(json!({
            "mediaId": "abc", "originationPhoneNumberId": "phone-number-id-1",
            "bucket": "b", "key": "in/photo 1.jpg", "versionId": "v1",
            "dryRun": true, "deleteS3Object": false
        }));
        assert!(c.dry_run);
        assert!(!c.delete_s3_object);
        assert_eq!(
            c.items,
            vec![WorkItem::Ids(IdsRequest {
                media_id: "abc".into(),
                phone_number_id: Some("phone-number-id-1".into()),
                object: Some(ObjectRef {
                    bucket: "b".into(),
                    key: "in/photo 1.jpg".into(),
                    version_id: Some("v1".into())
                }),
            })]
        );
    }

    #[test]
    fn a_reference_is_read_once_for_the_whole_event() {
        let c = custom(json!({"deletions": [{"mediaId": "a"}, {"mediaId": "b"}],
                              "reference": "DSR-2026-0042"}));
        assert_eq!(c.reference.as_deref(), Some("DSR-2026-0042"));
        assert_eq!(c.items.len(), 2);
        assert_eq!(custom(json!({"mediaId": "a"})).reference, None);
        let bad = recognise(&json!({"mediaId": "a", "reference": ["x"]})).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "\"reference\" must be a string, got an array"
        );
    }

    #[test]
    fn defaults_are_no_dry_run_and_delete_the_object() {
        let c = custom(json!({"mediaId": "abc"}));
        assert!(!c.dry_run);
        assert!(c.delete_s3_object);
        assert!(matches!(&c.items[0], WorkItem::Ids(r) if r.phone_number_id.is_none()));
    }

    #[test]
    fn bad_items_fail_one_by_one() {
        let c = custom(json!({"deletions": [
            1, {}, {"mediaId": 5}, {"mediaId": "ok", "originationPhoneNumberId": ["x"]},
            {"mediaId": "ok", "bucket": "b"}, null, {"mediaId": "fine"}
        ]}));
        assert_eq!(c.items.len(), 7);
        let problems: Vec<String> = c
            .items
            .iter()
            .map(|i| match i {
                WorkItem::Invalid(e) => e.problem.clone(),
                _ => String::new(),
            })
            .collect();
        assert!(problems[0].contains("got a number"), "{}", problems[0]);
        assert_eq!(
            problems[1],
            "\"mediaId\" is missing (or give \"bucket\" and \"key\")"
        );
        assert_eq!(problems[2], "\"mediaId\" must be a string, got a number");
        assert_eq!(
            problems[3],
            "\"originationPhoneNumberId\" must be a string, got an array"
        );
        assert_eq!(problems[4], "\"bucket\" is given without \"key\"");
        assert!(problems[5].contains("got null"));
        assert_eq!(problems[6], "");
        // The valid id of an item that failed for another reason is kept for the report.
        assert!(matches!(&c.items[3], WorkItem::Invalid(e) if e.media_id.as_deref() == Some("ok")));
    }

    #[test]
    fn objects_alone_are_resolved_from_s3() {
        let c = custom(json!({"bucket": "media", "key": "in/photo 1.jpg", "versionId": "v1"}));
        assert_eq!(
            c.items,
            vec![WorkItem::Object(ObjectItem::new(
                ObjectRef {
                    bucket: "media".into(),
                    key: "in/photo 1.jpg".into(),
                    version_id: Some("v1".into())
                },
                Metadata::Current,
            ))]
        );
        let c = custom(json!({"deletions": [
            {"bucket": "media", "key": "a%20b.jpg"},
            {"bucket": "media", "key": "c.jpg", "originationPhoneNumberId": "phone-number-id-x"}
        ]}));
        // Custom keys are plain: no decoding.
        assert!(matches!(&c.items[0], WorkItem::Object(o) if o.object.key == "a%20b.jpg"));
        assert!(matches!(&c.items[1], WorkItem::Invalid(_)));
    }

    #[test]
    fn an_empty_version_id_counts_as_none() {
        let c = custom(json!({"deletions": [
            {"mediaId": "abc", "originationPhoneNumberId": "phone-number-id-1",
             "bucket": "media", "key": "a.jpg", "versionId": ""},
            {"bucket": "media", "key": "b.jpg", "versionId": ""},
        ]}));
        let versions: Vec<Option<String>> = c
            .items
            .iter()
            .map(|item| match item {
                WorkItem::Ids(r) => r.object.as_ref().unwrap().version_id.clone(),
                WorkItem::Object(o) => o.object.version_id.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(versions, [None, None]);
    }

    #[test]
    fn wrong_option_types_fail_the_event() {
        for (event, field) in [
            (json!({"mediaId": "a", "dryRun": "true"}), "dryRun"),
            (
                json!({"deletions": [], "deleteS3Object": 0}),
                "deleteS3Object",
            ),
        ] {
            let err = recognise(&event).unwrap_err();
            assert!(
                matches!(err, EventError::BadOption { field: f, .. } if f == field),
                "{err:?}"
            );
        }
    }

    #[test]
    fn deletions_that_are_not_an_array_are_not_a_custom_event() {
        assert!(matches!(
            recognise(&json!({"deletions": "x"})),
            Err(EventError::Unrecognised { .. })
        ));
    }
}
