//! SQS messages whose bodies are S3 event notifications (also through SNS, raw or not, and
//! EventBridge events routed to the queue), or Lambda on-failure records from the failure
//! queue that carry either (a redrive).

use aws_lambda_events::event::sqs::SqsMessage;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::read::{record_source, typed, Records};
use super::{eventbridge, redrive, s3};
use crate::model::{Noticed, Source};

/// One SQS message and its work, or why its body could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The SQS `messageId`, reported in `batchItemFailures`.
    pub message_id: String,
    /// The message's items, or the reason its body is unreadable.
    pub items: Result<Vec<Noticed>, String>,
    /// `Sqs`, or `Redrive` for a Lambda on-failure record from the failure queue.
    pub source: Source,
}

/// An SNS envelope, as SNS delivers it to an SQS queue without raw delivery: only what the
/// function reads. aws_lambda_events' `SnsMessage` requires the signature fields, which SNS
/// FIFO topics do not send (their envelopes are not signed).
#[derive(Deserialize)]
struct SnsEnvelope {
    #[serde(rename = "Message")]
    message: String,
}

/// The id of a message that cannot be read as an [`SqsMessage`], so that it can still be
/// reported for retry.
#[derive(Deserialize)]
struct MessageId {
    #[serde(rename = "messageId")]
    message_id: Option<String>,
}

/// Whether the object is an SQS event.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.get("Records")
        .and_then(Value::as_array)
        .and_then(|records| records.first())
        .and_then(record_source)
        == Some("aws:sqs")
}

/// The messages of the event, in order.
pub(crate) fn parse(event: &Value) -> Vec<Message> {
    let records = typed::<Records>(event, "the SQS event", "")
        .map(|envelope| envelope.records)
        .unwrap_or_default();
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            match typed::<SqsMessage>(record, "the SQS message", &format!("Records[{index}]")) {
                Ok(message) => {
                    let body = message
                        .body
                        .ok_or_else(|| "the message has no body".to_owned())
                        .and_then(|body| body_items(&body));
                    let (items, source) = match body {
                        Ok((items, source)) => (Ok(items), source),
                        Err(problem) => (Err(problem), Source::Sqs),
                    };
                    Message {
                        message_id: message.message_id.unwrap_or_default(),
                        items,
                        source,
                    }
                }
                Err(problem) => Message {
                    message_id: typed::<MessageId>(record, "", "")
                        .ok()
                        .and_then(|id| id.message_id)
                        .unwrap_or_default(),
                    items: Err(problem),
                    source: Source::Sqs,
                },
            }
        })
        .collect()
}

/// A body's items, and whether it is a redrive.
fn body_items(body: &str) -> Result<(Vec<Noticed>, Source), String> {
    let mut value: Value =
        serde_json::from_str(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    // An SNS subscription without raw delivery wraps the notification in an envelope.
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        let envelope: SnsEnvelope = typed(&value, "the SNS envelope", "body")?;
        value = serde_json::from_str(&envelope.message)
            .map_err(|e| format!("the SNS message is not JSON: {e}"))?;
    }
    let mut source = Source::Sqs;
    if value.as_object().is_some_and(redrive::matches) {
        value = redrive::original_event(&value)?;
        source = Source::Redrive;
    }
    let Value::Object(map) = &value else {
        return Err("the body is not a JSON object".into());
    };
    if s3::matches(map) {
        Ok((s3::parse(&value, "body."), source))
    } else if eventbridge::matches(map) {
        Ok((eventbridge::parse(&value, "body"), source))
    } else {
        Err("the body is not an S3 event notification, an EventBridge event or a Lambda failure record".into())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::event::fixtures::{s3_record, sns_envelope};
    use crate::model::WorkItem;

    /// A message's work items alone.
    fn work(message: &Message) -> Result<Vec<WorkItem>, String> {
        message
            .items
            .clone()
            .map(|items| items.into_iter().map(|n| n.item).collect())
    }

    #[test]
    fn bodies_of_every_kind() {
        let s3 = json!({"Records": [s3_record("ObjectRemoved:Delete", "b", "k.jpg", None)]});
        let sns = sns_envelope(&s3.to_string());
        let event = json!({"Records": [
            {"messageId": "m1", "eventSource": "aws:sqs", "body": s3.to_string()},
            {"messageId": "m2", "eventSource": "aws:sqs", "body": sns.to_string()},
            {"messageId": "m3", "eventSource": "aws:sqs", "body": "{not json"},
            {"messageId": "m4", "eventSource": "aws:sqs", "body": "{\"hello\": 1}"},
            {"messageId": "m5", "eventSource": "aws:sqs",
             "body": json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()},
            {"messageId": "m6", "eventSource": "aws:sqs", "body": 7},
            {"messageId": "m7", "eventSource": "aws:sqs",
             "body": json!({"Type": "Notification", "MessageId": "m", "Message": 5}).to_string()},
            // SNS FIFO topics send envelopes without signature fields.
            {"messageId": "m8", "eventSource": "aws:sqs",
             "body": json!({"Type": "Notification", "MessageId": "4f0c9b6a", "SequenceNumber": "10000000000000003000",
                            "TopicArn": "arn:aws:sns:us-east-1:123456789012:deletions.fifo",
                            "Message": s3.to_string(), "Timestamp": "2026-11-25T10:00:00.000Z",
                            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}).to_string()},
        ]});
        assert!(matches(event.as_object().unwrap()));
        let messages = parse(&event);
        assert_eq!(messages.len(), 8);
        assert!(
            matches!(&work(&messages[0]), Ok(items) if matches!(&items[..], [WorkItem::Object(_)]))
        );
        assert!(
            matches!(&work(&messages[1]), Ok(items) if matches!(&items[..], [WorkItem::Object(_)]))
        );
        assert!(messages[2].items.is_err());
        assert!(messages[3].items.is_err());
        assert!(
            matches!(&work(&messages[4]), Ok(items) if matches!(&items[..], [WorkItem::Skipped { .. }]))
        );
        assert_eq!(messages[2].message_id, "m3");
        // A message that is not an SQS message still names itself, for the retry.
        assert_eq!(messages[5].message_id, "m6");
        assert!(
            matches!(&messages[5].items, Err(p) if p.starts_with("the SQS message cannot be read at Records[5].body: invalid type: integer `7`")),
            "{:?}",
            messages[5].items
        );
        assert!(
            matches!(&messages[6].items, Err(p) if p.starts_with("the SNS envelope cannot be read at body.Message: invalid type: integer `5`")),
            "{:?}",
            messages[6].items
        );
        assert!(
            matches!(&work(&messages[7]), Ok(items) if matches!(&items[..], [WorkItem::Object(_)])),
            "{:?}",
            messages[7].items
        );
    }
}
