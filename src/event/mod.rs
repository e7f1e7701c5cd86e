//! Recognising what invoked the function, and turning the event into work items.

pub mod batch;
pub mod custom;
pub mod eventbridge;
pub mod redrive;
pub mod s3;
pub mod sqs;

use serde_json::Value;
use thiserror::Error;

use crate::model::WorkItem;

/// The shapes this function accepts, named in the error for an event of no known shape.
const EXPECTED_SHAPES: &str = "an S3 event notification (Records[].eventSource \"aws:s3\", \
     directly or through SNS), an EventBridge \"Object Deleted\" event (source \"aws.s3\"), \
     SQS messages whose bodies are S3 notifications, EventBridge events or Lambda on-failure \
     records carrying either (Records[].eventSource \"aws:sqs\"), \
     an S3 Batch Operations job (invocationSchemaVersion 1.0 or 2.0 with tasks), \
     or a custom event: {\"mediaId\", \"originationPhoneNumberId\"} and/or {\"bucket\", \"key\", \"versionId\"}, \
     or {\"deletions\": [ ...such items... ]}, each optionally with \"dryRun\" and \"deleteS3Object\"";

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
    /// A custom event holds more deletions than one answer can carry.
    #[error("a custom event may hold at most {max} deletions, and this one holds {count}: split it, or use S3 Batch Operations for bulk work (its tasks report to a completion report, not to one response)")]
    TooManyDeletions {
        /// The deletions in the event.
        count: usize,
        /// The most one event may hold.
        max: usize,
    },
    /// The answer to a custom event could exceed Lambda's response limit (its keys or ids
    /// are unusually long).
    #[error("the answer to this event could take {bound} bytes, over Lambda's {limit}-byte response limit, so every outcome would be lost: send fewer deletions per invocation, or use S3 Batch Operations for bulk work")]
    AnswerTooLarge {
        /// The most the answer could take.
        bound: usize,
        /// Lambda's limit.
        limit: usize,
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
}

/// A recognised event, reduced to its work.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A manual invoke.
    Custom(custom::CustomEvent),
    /// An asynchronous notification: S3 (directly or through SNS) or EventBridge.
    Notification(Vec<WorkItem>),
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
        return Ok(Event::Notification(s3::parse(payload, "")));
    }
    if eventbridge::matches(map) {
        return Ok(Event::Notification(eventbridge::parse(payload)));
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

/// Decodes a form-URL-encoded S3 key (`+` is a space, `%XX` a byte of UTF-8), as S3
/// notifications and Batch Operations manifests carry them. A `%` not followed by two hex
/// digits, or bytes that are not UTF-8, are an error, never a guess.
pub fn decode_key(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(format!(
                "the key {raw:?} is not valid URL encoding: `%` at byte {i} is not followed by two hex digits"
            ));
        }
    }
    let plus_as_space = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("the key {raw:?} does not decode to UTF-8"))
}

/// The most characters of a parse error kept: serde's messages quote the offending value,
/// which may be megabytes long.
const PROBLEM_CHARS: usize = 300;

/// Reads one record, message body or task (`what`, at `at`) as `T`. A value of the wrong
/// shape is a problem that names the field, by its path from `at`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    value: &Value,
    what: &str,
    at: &str,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = match (at, path.as_str()) {
            (at, ".") => at.to_owned(),
            ("", path) => path.to_owned(),
            (at, path) => format!("{at}.{path}"),
        };
        let mut problem = format!("{what} cannot be read at {field}: {}", error.inner());
        if let Some((cut, _)) = problem.char_indices().nth(PROBLEM_CHARS) {
            problem.truncate(cut);
            problem.push('…');
        }
        problem
    })
}

/// The `Records` of an S3, SNS or SQS event, each read on its own, so that one malformed
/// record fails only itself.
#[derive(serde::Deserialize)]
pub(crate) struct Records {
    /// The records, not yet read.
    #[serde(rename = "Records")]
    pub records: Vec<Value>,
}

/// The `eventSource` of a record (`EventSource` in SNS records), if it has one.
pub(crate) fn record_source(record: &Value) -> Option<&str> {
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))?
        .as_str()
}

/// The JSON type of a value, in words, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Records as AWS sends them, for the unit tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use serde_json::{json, Value};

    /// An S3 notification record with every field S3 sends.
    pub(crate) fn s3_record(
        event_name: &str,
        bucket: &str,
        key: &str,
        version_id: Option<&str>,
    ) -> Value {
        let mut object = json!({"key": key, "size": 1024, "eTag": "d41d8cd98f00b204e9800998ecf8427e",
                                "sequencer": "0A1B2C3D4E5F678901"});
        if let Some(v) = version_id {
            object["versionId"] = json!(v);
        }
        json!({"eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
               "eventTime": "2026-11-25T10:00:00.000Z", "eventName": event_name,
               "userIdentity": {"principalId": "AWS:AROAEXAMPLE:janitor"},
               "requestParameters": {"sourceIPAddress": "203.0.113.10"},
               "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
               "s3": {"s3SchemaVersion": "1.0", "configurationId": "cleanup",
                      "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                                 "arn": format!("arn:aws:s3:::{bucket}")},
                      "object": object}})
    }

    /// An SNS envelope, as SNS delivers it to SQS without raw delivery.
    pub(crate) fn sns_envelope(message: &str) -> Value {
        json!({"Type": "Notification", "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
               "TopicArn": "arn:aws:sns:us-east-1:123456789012:media-deletions",
               "Subject": "Amazon S3 Notification", "Message": message,
               "Timestamp": "2026-11-25T10:00:00.000Z", "SignatureVersion": "1",
               "Signature": "EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=",
               "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem",
               "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"})
    }

    /// An SNS record of an SNS event, carrying `message`.
    pub(crate) fn sns_record(message: &str) -> Value {
        let mut sns = sns_envelope(message);
        let envelope = sns.as_object_mut().unwrap();
        let cert = envelope.remove("SigningCertURL").unwrap();
        let unsubscribe = envelope.remove("UnsubscribeURL").unwrap();
        envelope.insert("SigningCertUrl".into(), cert);
        envelope.insert("UnsubscribeUrl".into(), unsubscribe);
        envelope.insert("MessageAttributes".into(), json!({}));
        json!({"EventSource": "aws:sns", "EventVersion": "1.0",
               "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:media-deletions:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
               "Sns": sns})
    }
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

    #[test]
    fn keys_are_form_url_decoded_once() {
        for (raw, decoded) in [
            ("photo+1.jpg", "photo 1.jpg"),
            ("photo%201.jpg", "photo 1.jpg"),
            ("caf%C3%A9.jpg", "café.jpg"),
            ("a%2Bb.jpg", "a+b.jpg"),
            ("a%252B.jpg", "a%2B.jpg"),
            ("plain/key.png", "plain/key.png"),
        ] {
            assert_eq!(decode_key(raw).as_deref(), Ok(decoded), "{raw}");
        }
        for bad in ["100%.jpg", "a%2.jpg", "a%zz.jpg", "%C3%28.jpg", "%"] {
            assert!(decode_key(bad).is_err(), "{bad}");
        }
    }
}
