//! Records as AWS sends them, for the unit tests.

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
