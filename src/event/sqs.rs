//! SQS messages whose bodies are S3 event notifications (also through SNS, raw or not, and
//! EventBridge events routed to the queue), or Lambda on-failure records from the failure
//! queue that carry either (a redrive).

use serde_json::{Map, Value};

use super::{eventbridge, redrive, s3, str_at, WorkItem};

/// One SQS message and its work, or why its body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The SQS `messageId`, reported in `batchItemFailures`.
    pub message_id: String,
    /// The message's items, or the reason its body is unreadable.
    pub items: Result<Vec<WorkItem>, String>,
}

/// Whether the object is an SQS event.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(|record| str_at(record, &["eventSource"]))
        == Some("aws:sqs")
}

/// The messages of the event, in order.
pub(crate) fn parse(map: &Map<String, Value>) -> Vec<Message> {
    let records = map
        .get("Records")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    records
        .iter()
        .map(|record| Message {
            message_id: str_at(record, &["messageId"])
                .unwrap_or_default()
                .to_owned(),
            items: str_at(record, &["body"])
                .ok_or_else(|| "the message has no body".to_owned())
                .and_then(body_items),
        })
        .collect()
}

fn body_items(body: &str) -> Result<Vec<WorkItem>, String> {
    let mut value: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    // An SNS subscription without raw delivery wraps the notification in an envelope.
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let message = str_at(&value, &["Message"]).ok_or("the SNS envelope has no Message")?;
        value = serde_json::from_str(message)
            .map_err(|e| format!("the SNS message is not JSON: {e}"))?;
    }
    if let Some(record) = value.as_object().filter(|map| redrive::matches(map)) {
        value = redrive::original_event(record)?;
    }
    let Value::Object(map) = &value else {
        return Err("the body is not a JSON object".into());
    };
    if s3::matches(map) {
        Ok(s3::parse(&value))
    } else if eventbridge::matches(map) {
        Ok(eventbridge::parse(&value))
    } else {
        Err("the body is not an S3 event notification, an EventBridge event or a Lambda failure record".into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn bodies_of_every_kind() {
        let s3 = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "b"}, "object": {"key": "k.jpg"}}}]});
        let sns = json!({"Type": "Notification", "Message": s3.to_string()});
        let event = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": s3.to_string()},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": sns.to_string()},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "m4", "eventSource": "aws:sqs", "body": "{\"hello\": 1}"},
            {"messageId": "m5", "eventSource": "aws:sqs",
             "body": json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()},
        ]});
        let map = event.as_object().unwrap();
        assert!(matches(map));
        let messages = parse(map);
        assert_eq!(messages.len(), 5);
        assert!(
            matches!(&messages[0].items, Ok(items) if matches!(&items[..], [WorkItem::Object(_)]))
        );
        assert!(
            matches!(&messages[1].items, Ok(items) if matches!(&items[..], [WorkItem::Object(_)]))
        );
        assert!(messages[2].items.is_err());
        assert!(messages[3].items.is_err());
        assert!(
            matches!(&messages[4].items, Ok(items) if matches!(&items[..], [WorkItem::Skipped { .. }]))
        );
        assert_eq!(messages[2].message_id, "m3");
    }
}
