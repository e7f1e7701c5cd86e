//! Recognising what invoked the function, and turning the event into work items.

pub mod custom;

use serde::Serialize;
use serde_json::Value;
use thiserror::Error;

/// The shapes this function accepts, named in the error for an event of no known shape.
const EXPECTED_SHAPES: &str = "a custom event: {\"mediaId\", \"originationPhoneNumberId\"} \
     (optionally with \"bucket\", \"key\", \"versionId\"), or {\"deletions\": [ ...such items... ]}, \
     each optionally with \"dryRun\" and \"deleteS3Object\"";

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
}

/// An S3 object named by an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectRef {
    /// The bucket name.
    pub bucket: String,
    /// The object key, decoded.
    pub key: String,
    /// The version, when the event names one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
}

/// One deletion asked for by an event, with its ids as given (not yet validated).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdsRequest {
    /// `mediaId` as given.
    pub media_id: String,
    /// `originationPhoneNumberId` as given, if it was.
    pub phone_number_id: Option<String>,
    /// The S3 object the media was uploaded from, if the event names it.
    pub object: Option<ObjectRef>,
}

/// An item of a known event shape that cannot be worked on; it fails as `InvalidInput`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidItem {
    /// `mediaId`, if it was a string.
    pub media_id: Option<String>,
    /// `originationPhoneNumberId`, if it was a string.
    pub phone_number_id: Option<String>,
    /// The object, if one was named.
    pub object: Option<ObjectRef>,
    /// What is wrong with the item.
    pub problem: String,
}

/// One unit of work produced from an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkItem {
    /// Ids to delete, as given.
    Ids(IdsRequest),
    /// An item that cannot be worked on.
    Invalid(InvalidItem),
}

/// A recognised event, reduced to its work.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// A manual invoke.
    Custom(custom::CustomEvent),
}

/// Recognises the event's shape and reads its work items.
pub fn recognise(payload: &Value) -> Result<Event, EventError> {
    let Value::Object(map) = payload else {
        return Err(EventError::Unrecognised {
            found: format!("a JSON {}", json_type(payload)),
        });
    };
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
        assert!(message.contains("[\"foo\"]"), "{message}");
    }
}
