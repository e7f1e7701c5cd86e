//! Lambda asynchronous on-failure records, as the failure queue holds them: the original
//! event (`requestPayload`) back for a redrive, with why it failed (`requestContext`,
//! `responseContext`, `responsePayload`). The function takes them in SQS messages from the
//! failure queue and processes the original event as if it had arrived directly.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::read::typed;
use super::{eventbridge, s3};

/// A Lambda on-failure record, as far as the function reads it. aws_lambda_events has no
/// type for these: Lambda writes them to a failure destination, not to a function.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FailureRecord {
    request_context: RequestContext,
    /// The original event: JSON, or a string when the event was not JSON.
    request_payload: Value,
}

#[derive(Debug, Deserialize)]
struct RequestContext {
    /// Why the invocation failed: `RetriesExhausted`, `EventAgeExceeded`, ...
    condition: Option<String>,
}

/// Whether the object is an on-failure record.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.contains_key("requestContext") && map.contains_key("requestPayload")
}

/// The original event of a record, if it is one that a queue message can carry to the end:
/// an S3 notification (directly or through SNS) or an EventBridge event. These report
/// deletions that already happened, so redriving them deletes media and never an S3
/// object. A custom or Batch Operations event would delete S3 objects after its media and
/// report to its caller: it must be invoked again directly, and is refused here rather
/// than half done.
pub(crate) fn original_event(record: &Value) -> Result<Value, String> {
    let record: FailureRecord = typed(record, "the failure record", "")?;
    let condition = record
        .request_context
        .condition
        .as_deref()
        .unwrap_or("unknown");
    let payload = match record.request_payload {
        // A payload that was not JSON arrives as a string.
        Value::String(text) => serde_json::from_str(&text)
            .map_err(|e| format!("the failure record's requestPayload is not JSON: {e}"))?,
        payload => payload,
    };
    match &payload {
        Value::Object(inner) if s3::matches(inner) || eventbridge::matches(inner) => Ok(payload),
        _ => Err(format!(
            "the failure record ({condition}) carries an event that is not an S3 notification \
             or an EventBridge event: invoke it again directly, since a redrive through SQS \
             could not report it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn record(payload: Value) -> Value {
        json!({"version": "1.0", "timestamp": "2026-11-25T10:00:00.000Z",
               "requestContext": {"requestId": "r1", "condition": "RetriesExhausted",
                                  "approximateInvokeCount": 3,
                                  "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:f:$LATEST"},
               "requestPayload": payload,
               "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                   "functionError": "Unhandled"},
               "responsePayload": {"errorType": "ItemsFailed", "errorMessage": "1 of 1 items failed (1 may succeed if retried): ..."}})
    }

    #[test]
    fn notifications_come_back_and_other_events_are_refused() {
        let s3 = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectRemoved:Delete",
                                     "s3": {"bucket": {"name": "b"}, "object": {"key": "k"}}}]});
        let eventbridge =
            json!({"source": "aws.s3", "detail-type": "Object Deleted", "detail": {}});
        for event in [s3, eventbridge] {
            let record = record(event.clone());
            assert!(matches(record.as_object().unwrap()));
            assert_eq!(original_event(&record), Ok(event));
        }
        let string_payload = record(json!(
            json!({"source": "aws.s3", "detail-type": "x"}).to_string()
        ));
        assert!(original_event(&string_payload).is_ok());

        for refused in [
            json!({"mediaId": "a"}),
            json!({"invocationSchemaVersion": "2.0", "tasks": []}),
            json!(5),
        ] {
            let problem = original_event(&record(refused)).unwrap_err();
            assert!(
                problem.contains("RetriesExhausted")
                    && problem.contains("invoke it again directly"),
                "{problem}"
            );
        }
        assert!(original_event(&record(json!("{not json")))
            .unwrap_err()
            .contains("not JSON"));
    }
}
