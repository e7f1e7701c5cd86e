//! Recognising what invoked the function, and turning the event into work items.

pub mod batch;
pub mod custom;
pub mod eventbridge;
#[cfg(test)]
pub(crate) mod fixtures;
mod read;
pub mod redrive;
pub mod reference;
pub mod s3;
pub mod sqs;

pub use read::decode_key;
use read::json_type;

use serde_json::Value;
use thiserror::Error;

use crate::model::{Noticed, Source};

/// The shapes this function accepts, named in the error for an event of no known shape.
const EXPECTED_SHAPES: &str = "an S3 event notification (Records[].eventSource \"aws:s3\", \
     directly or through SNS), an EventBridge \"Object Deleted\" event (source \"aws.s3\"), \
     SQS messages whose bodies are S3 notifications, EventBridge events or Lambda on-failure \
     records carrying either (Records[].eventSource \"aws:sqs\"), \
     an S3 Batch Operations job (invocationSchemaVersion 1.0 or 2.0 with tasks), \
     or a custom event: {\"mediaId\", \"originationPhoneNumberId\"} and/or {\"bucket\", \"key\", \"versionId\"}, \
     or {\"deletions\": [ ...such items... ]}, each optionally with \"dryRun\", \"deleteS3Object\" \
     and \"reference\"";

/// An event the function cannot work with at all. Bad *items* of a known shape are not
/// this: they fail one by one in the payload.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EventError {
    /// The event matches none of the accepted shapes.
    #[error("unrecognised event ({found}); expected {EXPECTED_SHAPES}")]
    Unrecognised {
        /// What was found instead, in words.
        found: String,
    },
    /// An option of the event has the wrong type.
    #[error("\"{field}\" must be {expected}, got {found}")]
    BadOption {
        /// The option's name.
        field: &'static str,
        /// The type it must have.
        expected: &'static str,
        /// The JSON type it had.
        found: &'static str,
    },
    /// The event's `reference` is not a short printable string.
    #[error("{0}")]
    BadReference(String),
}

/// A recognised event, reduced to its work.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A manual invoke.
    Custom(custom::CustomEvent),
    /// An asynchronous notification: S3 (directly or through SNS) or EventBridge.
    Notification {
        /// Its items, each with its requester.
        items: Vec<Noticed>,
        /// `S3` or `EventBridge`.
        source: Source,
    },
    /// A batch of SQS messages.
    Sqs(Vec<sqs::Message>),
    /// An S3 Batch Operations invocation.
    Batch(batch::BatchJob),
}

/// Recognises the event's shape and reads its work items.
pub fn recognise(payload: &Value) -> Result<Event, EventError> {
    let Value::Object(map) = payload else {
        return Err(EventError::Unrecognised {
            found: format!("a JSON {}", json_type(payload)),
        });
    };
    if s3::matches(map) {
        return Ok(Event::Notification {
            items: s3::parse(payload, ""),
            source: Source::S3,
        });
    }
    if eventbridge::matches(map) {
        return Ok(Event::Notification {
            items: eventbridge::parse(payload, ""),
            source: Source::EventBridge,
        });
    }
    if sqs::matches(map) {
        return Ok(Event::Sqs(sqs::parse(payload)));
    }
    if batch::matches(map) {
        return batch::parse(payload).map(Event::Batch);
    }
    if custom::matches(map) {
        return custom::parse(map).map(Event::Custom);
    }
    let mut keys: Vec<&str> = map.keys().map(String::as_str).take(10).collect();
    keys.sort_unstable();
    Err(EventError::Unrecognised {
        found: if keys.is_empty() {
            "an empty object".into()
        } else {
            format!("an object with keys {keys:?}")
        },
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn events_of_no_known_shape_name_the_expected_shapes() {
        for event in [
            json!(null),
            json!([]),
            json!("x"),
            json!({}),
            json!({"foo": 1}),
        ] {
            let err = recognise(&event).unwrap_err();
            let message = err.to_string();
            assert!(matches!(err, EventError::Unrecognised { .. }), "{event}");
            assert!(message.contains("mediaId"), "{message}");
            assert!(message.contains("deletions"), "{message}");
        }
        let message = recognise(&json!({"foo": 1})).unwrap_err().to_string();
        assert!(message.contains("aws:s3") && message.contains("Batch Operations"));
        assert!(message.contains("[\"foo\"]"), "{message}");
    }
}
