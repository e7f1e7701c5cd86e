//! EventBridge `Object Deleted` events from S3. Their keys are used as delivered: AWS
//! documents no encoding for them. Their percent-decoded form rides along, for the case
//! where the delivered key names nothing and the decoded one does.

use aws_lambda_events::event::eventbridge::EventBridgeEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::read::typed;
use crate::model::{Metadata, Noticed, ObjectItem, ObjectRef, WorkItem};

/// The `detail` of S3's EventBridge events, as far as the function reads it. The crate
/// types the envelope only, and leaves the detail of each source to its user.
#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) struct ObjectDetail {
    bucket: DetailBucket,
    object: DetailObject,
    /// `Object Deleted` only: `Permanently Deleted` or `Delete Marker Created`.
    deletion_type: Option<String>,
    /// The account or service principal whose request deleted the object. Kept as it
    /// comes, so that a value of another type leaves the event readable.
    requester: Option<Value>,
}

#[derive(Debug, Deserialize, Serialize)]
struct DetailBucket {
    name: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
struct DetailObject {
    key: String,
    version_id: Option<String>,
}

/// Whether the object is an EventBridge event from S3.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.get("source").and_then(Value::as_str) == Some("aws.s3") && map.contains_key("detail-type")
}

/// The event's one work item, with its requester. `at` is where the event sits (empty at
/// the top).
pub(crate) fn parse(value: &Value, at: &str) -> Vec<Noticed> {
    let event = match typed::<EventBridgeEvent<ObjectDetail>>(value, "the EventBridge event", at) {
        Ok(event) => event,
        Err(problem) => return vec![Noticed::anonymous(WorkItem::invalid(None, problem))],
    };
    let requester = match &event.detail.requester {
        Some(Value::String(requester)) if !requester.is_empty() => Some(requester.clone()),
        _ => None,
    };
    vec![Noticed {
        item: item(event),
        requester,
    }]
}

fn item(event: EventBridgeEvent<ObjectDetail>) -> WorkItem {
    let detail_type = event.detail_type;
    let deleted_at = event.time.map(|time| time.timestamp());
    let detail = event.detail;
    let object = ObjectRef {
        bucket: detail.bucket.name,
        key: detail.object.key,
        version_id: detail.object.version_id.filter(|v| !v.is_empty()),
    };
    if detail_type != "Object Deleted" {
        return WorkItem::Skipped {
            object: Some(object),
            reason: format!("EventBridge \"{detail_type}\" is not a deletion"),
        };
    }
    match detail.deletion_type.as_deref() {
        // Nothing is read for a permanent delete, so nothing could prove which form of
        // the key was the object: the key pattern sees the key as delivered, never a guess.
        // Its decoded form rides along all the same: the key pattern must not act while
        // either form still has a current version.
        Some("Permanently Deleted") => {
            let decoded_key = percent_decoded(&object.key);
            WorkItem::Object(ObjectItem {
                object,
                metadata: Metadata::Gone,
                decoded_key,
                deleted_at,
            })
        }
        Some("Delete Marker Created") if object.version_id.is_some() => {
            let decoded_key = percent_decoded(&object.key);
            WorkItem::Object(ObjectItem {
                object,
                metadata: Metadata::HiddenByMarker,
                decoded_key,
                deleted_at,
            })
        }
        Some("Delete Marker Created") => WorkItem::invalid(
            Some(object),
            "\"Delete Marker Created\" without the marker's detail.object.version-id",
        ),
        other => WorkItem::invalid(
            Some(object),
            format!("unknown detail.deletion-type {other:?}"),
        ),
    }
}

/// The key percent-decoded (`%XX` only: a `+` stays a `+`), when that is valid UTF-8 and
/// differs from the key.
fn percent_decoded(key: &str) -> Option<String> {
    percent_encoding::percent_decode_str(key)
        .decode_utf8()
        .ok()
        .filter(|decoded| decoded != key)
        .map(|decoded| decoded.into_owned())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse_top(value: &Value) -> Vec<WorkItem> {
        parse(value, "").into_iter().map(|n| n.item).collect()
    }

    #[test]
    fn the_item_names_the_events_requester() {
        let mut deleted = event("Object Deleted", "Permanently Deleted");
        deleted["detail"]["requester"] = json!("123456789012");
        assert_eq!(
            parse(&deleted, "")[0].requester.as_deref(),
            Some("123456789012")
        );
        let unnamed = event("Object Deleted", "Permanently Deleted");
        assert_eq!(parse(&unnamed, "")[0].requester, None);
        // A requester of another type names nobody, and the event is still read.
        deleted["detail"]["requester"] = json!(123456789012u64);
        let odd = parse(&deleted, "");
        assert_eq!(odd[0].requester, None);
        assert!(matches!(odd[0].item, WorkItem::Object(_)));
    }

    fn event(detail_type: &str, deletion_type: &str) -> Value {
        json!({"version": "0", "source": "aws.s3", "detail-type": detail_type,
               "detail": {"bucket": {"name": "media"},
                          "object": {"key": "in/photo 1.jpg", "version-id": "m1"},
                          "deletion-type": deletion_type}})
    }

    #[test]
    fn both_deletion_types_and_others_skipped() {
        let gone = parse_top(&event("Object Deleted", "Permanently Deleted"));
        assert!(
            matches!(&gone[..], [WorkItem::Object(o)] if o.metadata == Metadata::Gone && o.object.key == "in/photo 1.jpg")
        );
        let marker = parse_top(&event("Object Deleted", "Delete Marker Created"));
        assert!(
            matches!(&marker[..], [WorkItem::Object(o)] if o.metadata == Metadata::HiddenByMarker)
        );
        let created = parse_top(&event("Object Created", ""));
        assert!(matches!(&created[..], [WorkItem::Skipped { .. }]));
        let odd = parse_top(&event("Object Deleted", "Vaporised"));
        assert!(matches!(&odd[..], [WorkItem::Invalid(_)]));
    }

    #[test]
    fn keys_stay_as_delivered_with_their_decoded_form_alongside() {
        let marker = |key: &str| {
            let mut e = event("Object Deleted", "Delete Marker Created");
            e["detail"]["object"]["key"] = json!(key);
            match &parse_top(&e)[..] {
                [WorkItem::Object(o)] => (o.object.key.clone(), o.decoded_key.clone()),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(
            marker("in/photo%201%2B2.jpg"),
            (
                "in/photo%201%2B2.jpg".into(),
                Some("in/photo 1+2.jpg".into())
            )
        );
        // Plain keys, `+` included, and keys that do not decode have no other form.
        assert_eq!(
            marker("in/photo 1+2.jpg"),
            ("in/photo 1+2.jpg".into(), None)
        );
        assert_eq!(marker("100%.jpg"), ("100%.jpg".into(), None));
        assert_eq!(marker("bad%C3%28.jpg"), ("bad%C3%28.jpg".into(), None));
    }
}
