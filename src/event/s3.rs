//! S3 event notifications, delivered directly or wrapped in SNS.
//!
//! Keys in notification records are form-URL-encoded (`+` is a space) and are decoded here,
//! once. Only deletions are work; `s3:TestEvent`, `ObjectCreated:*` and the rest are skipped.

use aws_lambda_events::event::s3::S3EventRecord;
use aws_lambda_events::event::sns::SnsRecord;
use serde_json::{Map, Value};

use super::read::{decode_key, record_source, typed, Records};
use crate::model::{Metadata, Noticed, ObjectItem, ObjectRef, WorkItem};

/// Whether the object is an S3 notification (or SNS carrying one), or S3's test event.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    is_test_event(map)
        || map
            .get("Records")
            .and_then(Value::as_array)
            .and_then(|records| records.first())
            .and_then(record_source)
            .is_some_and(|source| source == "aws:s3" || source == "aws:sns")
}

fn is_test_event(map: &Map<String, Value>) -> bool {
    map.get("Event").and_then(Value::as_str) == Some("s3:TestEvent")
}

/// One work item per record (several for an SNS message that carries several records),
/// each with the record's requester. `at` is where the notification sits in the event
/// (empty at the top).
pub(crate) fn parse(value: &Value, at: &str) -> Vec<Noticed> {
    if value.as_object().is_some_and(is_test_event) {
        return vec![Noticed::anonymous(WorkItem::Skipped {
            object: None,
            reason: "s3:TestEvent: S3 checking the notification configuration".into(),
        })];
    }
    let records = match typed::<Records>(value, "the notification", at) {
        Ok(envelope) => envelope.records,
        Err(problem) => return vec![Noticed::anonymous(WorkItem::invalid(None, problem))],
    };
    records
        .iter()
        .enumerate()
        .flat_map(|(index, record)| record_items(record, &format!("{at}Records[{index}]")))
        .collect()
}

fn record_items(record: &Value, at: &str) -> Vec<Noticed> {
    let invalid = |problem| vec![Noticed::anonymous(WorkItem::invalid(None, problem))];
    match record_source(record) {
        Some("aws:s3") => match typed::<S3EventRecord>(record, "the S3 record", at) {
            Ok(record) => {
                let requester = record.principal_id.principal_id.clone();
                vec![Noticed {
                    item: s3_record(record),
                    requester: requester.filter(|r| !r.is_empty()),
                }]
            }
            Err(problem) => invalid(problem),
        },
        Some("aws:sns") => match typed::<SnsRecord>(record, "the SNS record", at) {
            Ok(record) => match serde_json::from_str::<Value>(&record.sns.message) {
                Ok(inner) if inner.is_object() => parse(&inner, &format!("{at}.Sns.Message.")),
                _ => invalid(format!(
                    "{at}.Sns.Message is not an S3 event notification (JSON)"
                )),
            },
            Err(problem) => invalid(problem),
        },
        other => invalid(format!(
            "{at} has eventSource {other:?} in an S3 notification"
        )),
    }
}

fn s3_record(record: S3EventRecord) -> WorkItem {
    let event_name = record.event_name.unwrap_or_default();
    let deleted_at = record.event_time.timestamp();
    // The key as S3 sends it, form-URL-encoded, decoded here once. The crate's
    // `urlDecodedKey` is not a field S3 sends, so it is never read.
    let (Some(bucket), Some(raw_key)) = (record.s3.bucket.name, record.s3.object.key) else {
        return WorkItem::invalid(None, "the S3 record lacks s3.bucket.name or s3.object.key");
    };
    let key = match decode_key(&raw_key) {
        Ok(key) => key,
        Err(problem) => return WorkItem::invalid(None, problem),
    };
    let object = ObjectRef {
        bucket,
        key,
        version_id: record.s3.object.version_id.filter(|v| !v.is_empty()),
    };
    let metadata = match event_name.as_str() {
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
    WorkItem::Object(ObjectItem::new(object, metadata).deleted_at(Some(deleted_at)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::fixtures::{s3_record, sns_record};

    fn record(event_name: &str, key: &str, version_id: Option<&str>) -> Value {
        s3_record(event_name, "media", key, version_id)
    }

    /// The work items alone.
    fn parse(value: &Value, at: &str) -> Vec<WorkItem> {
        super::parse(value, at)
            .into_iter()
            .map(|n| n.item)
            .collect()
    }

    #[test]
    fn each_item_names_its_records_requester() {
        let mut other = record("ObjectRemoved:Delete", "b.jpg", None);
        other["userIdentity"]["principalId"] = json!("AWS:AIDAOTHER");
        let mut blank = record("ObjectRemoved:Delete", "c.jpg", None);
        blank["userIdentity"] = json!({});
        let inner = json!({"Records": [record("ObjectRemoved:Delete", "d.jpg", None)]});
        let noticed = super::parse(
            &json!({"Records": [record("ObjectRemoved:Delete", "a.jpg", None), other, blank,
                                sns_record(&inner.to_string())]}),
            "",
        );
        let requesters: Vec<Option<&str>> =
            noticed.iter().map(|n| n.requester.as_deref()).collect();
        assert_eq!(
            requesters,
            [
                Some("AWS:AROAEXAMPLE:janitor"),
                Some("AWS:AIDAOTHER"),
                None,
                Some("AWS:AROAEXAMPLE:janitor")
            ]
        );
    }

    #[test]
    fn deletions_by_kind() {
        let items = parse(
            &json!({"Records": [
                record("ObjectRemoved:Delete", "in/photo+1.jpg", Some("v1")),
                record("ObjectRemoved:DeleteMarkerCreated", "caf%C3%A9.jpg", Some("m1")),
                record("LifecycleExpiration:Delete", "a.jpg", None),
                record("LifecycleExpiration:DeleteMarkerCreated", "b.jpg", Some("m2")),
                record("ObjectCreated:Put", "c.jpg", None),
                record("ObjectRemoved:DeleteMarkerCreated", "d.jpg", None),
                record("ObjectRemoved:Delete", "100%.jpg", None),
            ]}),
            "",
        );
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
        let sns = json!({"Records": [sns_record(&inner.to_string())]});
        let map = sns.as_object().unwrap();
        assert!(matches(map));
        let items = parse(&sns, "");
        assert!(matches!(&items[..], [WorkItem::Object(o)] if o.object.key == "x.jpg"));

        let test = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "media"});
        assert!(matches(test.as_object().unwrap()));
        assert!(matches!(&parse(&test, "")[..], [WorkItem::Skipped { .. }]));

        let garbage = json!({"Records": [sns_record("not json")]});
        assert!(
            matches!(&parse(&garbage, "")[..], [WorkItem::Invalid(i)] if i.problem == "Records[0].Sns.Message is not an S3 event notification (JSON)")
        );
    }

    #[test]
    fn each_record_is_read_on_its_own_and_a_bad_one_names_its_field() {
        let mut bad_key = record("ObjectRemoved:Delete", "k.jpg", None);
        bad_key["s3"]["object"]["key"] = json!(5);
        let mut no_time = record("ObjectRemoved:Delete", "k.jpg", None);
        no_time.as_object_mut().unwrap().remove("eventTime");
        let inner = json!({"Records": [bad_key.clone()]});
        let items = parse(
            &json!({"Records": [record("ObjectRemoved:Delete", "good.jpg", None), bad_key, no_time,
                                sns_record(&inner.to_string())]}),
            "",
        );
        assert!(matches!(&items[0], WorkItem::Object(o) if o.object.key == "good.jpg"));
        let problems: Vec<&str> = items[1..]
            .iter()
            .map(|item| match item {
                WorkItem::Invalid(i) => i.problem.as_str(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(problems[0].starts_with("the S3 record cannot be read at Records[1].s3.object.key: invalid type: integer `5`"), "{}", problems[0]);
        assert!(
            problems[1].starts_with(
                "the S3 record cannot be read at Records[2]: missing field `eventTime`"
            ),
            "{}",
            problems[1]
        );
        assert!(
            problems[2].starts_with(
                "the S3 record cannot be read at Records[3].Sns.Message.Records[0].s3.object.key"
            ),
            "{}",
            problems[2]
        );
    }

    #[test]
    fn the_key_is_the_one_s3_sends_decoded_once_never_url_decoded_key() {
        // `urlDecodedKey` is a field of the crate's type, not of S3's notification: a record
        // that carries one anyway must not change which object is named.
        let mut forged = record("ObjectRemoved:Delete", "in/a%2Bb+c.jpg", None);
        forged["s3"]["object"]["urlDecodedKey"] = json!("other/object.jpg");
        let items = parse(&json!({"Records": [forged]}), "");
        assert!(
            matches!(&items[..], [WorkItem::Object(o)] if o.object.key == "in/a+b c.jpg"),
            "{items:?}"
        );
    }
}
