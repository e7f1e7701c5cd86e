//! S3 event notifications, delivered directly or wrapped in SNS.
//!
//! Keys in notification records are form-URL-encoded (`+` is a space) and are decoded here,
//! once. Only deletions are work; `s3:TestEvent`, `ObjectCreated:*` and the rest are skipped.

use serde_json::{Map, Value};

use super::{decode_key, str_at, Metadata, ObjectItem, ObjectRef, WorkItem};

/// Whether the object is an S3 notification (or SNS carrying one), or S3's test event.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    is_test_event(map)
        || first_record_source(map).is_some_and(|source| source == "aws:s3" || source == "aws:sns")
}

fn is_test_event(map: &Map<String, Value>) -> bool {
    map.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

fn first_record_source(map: &Map<String, Value>) -> Option<&str> {
    let record = map.get("Records")?.as_array()?.first()?;
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))?
        .as_str()
}

/// One work item per record (several for an SNS message that carries several records).
pub(crate) fn parse(value: &Value) -> Vec<WorkItem> {
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return vec![WorkItem::Skipped {
            object: None,
            reason: "s3:TestEvent: S3 checking the notification configuration".into(),
        }];
    }
    let Some(records) = value.get("Records").and_then(Value::as_array) else {
        return vec![WorkItem::invalid(
            None,
            "the notification has no \"Records\" array",
        )];
    };
    records.iter().flat_map(record_items).collect()
}

fn record_items(record: &Value) -> Vec<WorkItem> {
    let source = str_at(record, &["eventSource"]).or_else(|| str_at(record, &["EventSource"]));
    match source {
        Some("aws:s3") => vec![s3_record(record)],
        Some("aws:sns") => match str_at(record, &["Sns", "Message"]) {
            Some(message) => match serde_json::from_str::<Value>(message) {
                Ok(inner) if inner.is_object() => parse(&inner),
                _ => vec![WorkItem::invalid(
                    None,
                    "the SNS message is not an S3 event notification (JSON)",
                )],
            },
            None => vec![WorkItem::invalid(None, "the SNS record has no Sns.Message")],
        },
        other => vec![WorkItem::invalid(
            None,
            format!("a record with eventSource {other:?} in an S3 notification"),
        )],
    }
}

fn s3_record(record: &Value) -> WorkItem {
    let event_name = str_at(record, &["eventName"]).unwrap_or_default();
    let (Some(bucket), Some(raw_key)) = (
        str_at(record, &["s3", "bucket", "name"]),
        str_at(record, &["s3", "object", "key"]),
    ) else {
        return WorkItem::invalid(None, "the S3 record lacks s3.bucket.name or s3.object.key");
    };
    let key = match decode_key(raw_key) {
        Ok(key) => key,
        Err(problem) => return WorkItem::invalid(None, problem),
    };
    let object = ObjectRef {
        bucket: bucket.to_owned(),
        key,
        version_id: str_at(record, &["s3", "object", "versionId"])
            .filter(|v| !v.is_empty())
            .map(str::to_owned),
    };
    let metadata = match event_name {
        "ObjectRemoved:Delete" | "LifecycleExpiration:Delete" => Metadata::Gone,
        "ObjectRemoved:DeleteMarkerCreated" | "LifecycleExpiration:DeleteMarkerCreated" => {
            if object.version_id.is_none() {
                return WorkItem::invalid(
                    Some(object),
                    format!("{event_name} without the delete marker's s3.object.versionId"),
                );
            }
            Metadata::HiddenByMarker
        }
        other => {
            return WorkItem::Skipped {
                object: Some(object),
                reason: format!("{other} is not a deletion"),
            }
        }
    };
    WorkItem::Object(ObjectItem::new(object, metadata))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(event_name: &str, key: &str, version_id: Option<&str>) -> Value {
        let mut object = json!({"key": key, "size": 1024, "sequencer": "0A1B2C3D4E5F678901"});
        if let Some(v) = version_id {
            object["versionId"] = json!(v);
        }
        json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
               "eventName": event_name, "s3": {"bucket": {"name": "media"}, "object": object}})
    }

    #[test]
    fn deletions_by_kind() {
        let items = parse(&json!({"Records": [
            record("ObjectRemoved:Delete", "in/photo+1.jpg", Some("v1")),
            record("ObjectRemoved:DeleteMarkerCreated", "caf%C3%A9.jpg", Some("m1")),
            record("LifecycleExpiration:Delete", "a.jpg", None),
            record("LifecycleExpiration:DeleteMarkerCreated", "b.jpg", Some("m2")),
            record("ObjectCreated:Put", "c.jpg", None),
            record("ObjectRemoved:DeleteMarkerCreated", "d.jpg", None),
            record("ObjectRemoved:Delete", "100%.jpg", None),
        ]}));
        let metadata: Vec<Option<Metadata>> = items
            .iter()
            .map(|i| match i {
                WorkItem::Object(o) => Some(o.metadata.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            metadata[..4],
            [
                Some(Metadata::Gone),
                Some(Metadata::HiddenByMarker),
                Some(Metadata::Gone),
                Some(Metadata::HiddenByMarker)
            ]
        );
        let WorkItem::Object(first) = &items[0] else {
            unreachable!()
        };
        assert_eq!(first.object.key, "in/photo 1.jpg");
        assert_eq!(first.object.version_id.as_deref(), Some("v1"));
        let WorkItem::Object(second) = &items[1] else {
            unreachable!()
        };
        assert_eq!(second.object.key, "café.jpg");
        assert!(
            matches!(&items[4], WorkItem::Skipped { reason, .. } if reason.contains("ObjectCreated:Put"))
        );
        assert!(matches!(&items[5], WorkItem::Invalid(_)));
        assert!(
            matches!(&items[6], WorkItem::Invalid(i) if i.problem.contains("not valid URL encoding"))
        );
    }

    #[test]
    fn sns_wrapped_notifications_and_test_events() {
        let inner = json!({"Records": [record("ObjectRemoved:Delete", "x.jpg", None)]});
        let sns = json!({"Records": [{"EventSource": "aws:sns", "EventVersion": "1.0",
            "Sns": {"Type": "Notification", "Message": inner.to_string()}}]});
        let map = sns.as_object().unwrap();
        assert!(matches(map));
        let items = parse(&sns);
        assert!(matches!(&items[..], [WorkItem::Object(o)] if o.object.key == "x.jpg"));

        let test = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "media"});
        assert!(matches(test.as_object().unwrap()));
        assert!(matches!(&parse(&test)[..], [WorkItem::Skipped { .. }]));

        let garbage =
            json!({"Records": [{"EventSource": "aws:sns", "Sns": {"Message": "not json"}}]});
        assert!(matches!(&parse(&garbage)[..], [WorkItem::Invalid(_)]));
    }
}
