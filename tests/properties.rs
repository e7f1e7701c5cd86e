//! Property tests (the fuzzing of this project: cargo-fuzz needs a nightly toolchain, which
//! this project's machines do not have) over event recognition, parsing, key decoding and id
//! validation. `make test` runs the default number of cases as a smoke run; `make fuzz`
//! runs many more (`PROPTEST_CASES`).

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use whatsapp_media_cleanup::event::{self, decode_key, Event};
use whatsapp_media_cleanup::ids::{MediaId, PhoneNumberId};
use whatsapp_media_cleanup::model::WorkItem;

/// Arbitrary JSON, biased towards the names and shapes the recogniser looks at.
fn json_value() -> impl Strategy<Value = Value> {
    let names = prop_oneof![
        Just("Records".to_owned()),
        Just("eventSource".to_owned()),
        Just("EventSource".to_owned()),
        Just("eventName".to_owned()),
        Just("s3".to_owned()),
        Just("bucket".to_owned()),
        Just("key".to_owned()),
        Just("object".to_owned()),
        Just("name".to_owned()),
        Just("Sns".to_owned()),
        Just("Message".to_owned()),
        Just("body".to_owned()),
        Just("messageId".to_owned()),
        Just("source".to_owned()),
        Just("detail-type".to_owned()),
        Just("detail".to_owned()),
        Just("tasks".to_owned()),
        Just("invocationSchemaVersion".to_owned()),
        Just("s3Key".to_owned()),
        Just("s3Bucket".to_owned()),
        Just("deletions".to_owned()),
        Just("mediaId".to_owned()),
        Just("originationPhoneNumberId".to_owned()),
        Just("dryRun".to_owned()),
        Just("deleteS3Object".to_owned()),
        Just("versionId".to_owned()),
        "\\PC{0,8}",
    ];
    let strings = prop_oneof![
        Just("aws:s3".to_owned()),
        Just("aws:sqs".to_owned()),
        Just("aws:sns".to_owned()),
        Just("aws.s3".to_owned()),
        Just("ObjectRemoved:DeleteMarkerCreated".to_owned()),
        Just("ObjectRemoved:Delete".to_owned()),
        Just("Object Deleted".to_owned()),
        Just("1.0".to_owned()),
        Just("2.0".to_owned()),
        Just("s3:TestEvent".to_owned()),
        Just("phone-number-id-abc".to_owned()),
        "[%+a-zA-Z0-9 :/.\\-]{0,24}",
        "\\PC{0,16}",
        ".{0,8}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        strings.prop_map(Value::String),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((names.clone(), inner.clone()), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
            // A JSON document inside a string, as SNS messages and SQS bodies are.
            inner.prop_map(|v| Value::String(v.to_string())),
        ]
    })
}

proptest! {
    /// Any JSON is either recognised (with work items) or a clear error naming the shapes.
    #[test]
    fn recognition_never_panics(value in json_value()) {
        match event::recognise(&value) {
            Ok(_) => {}
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }

    /// Every item of a custom batch is accounted for, whatever it holds.
    #[test]
    fn custom_batches_keep_every_item(items in prop::collection::vec(json_value(), 0..20)) {
        let event = json!({ "deletions": items.clone() });
        match event::recognise(&event) {
            Ok(Event::Custom(custom)) => prop_assert_eq!(custom.items.len(), items.len()),
            other => prop_assert!(false, "not a custom event: {other:?}"),
        }
    }

    /// S3 notifications yield one item per record, each decoded or invalid: never lost.
    #[test]
    fn every_s3_record_becomes_an_item(keys in prop::collection::vec(".{0,30}", 1..10)) {
        let records: Vec<Value> = keys
            .iter()
            .map(|k| json!({
                "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": "us-east-1",
                "eventTime": "2026-11-25T10:00:00.000Z", "eventName": "ObjectRemoved:Delete",
                "userIdentity": {"principalId": "AWS:AROAEXAMPLE:janitor"},
                "requestParameters": {"sourceIPAddress": "203.0.113.10"}, "responseElements": {},
                "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "b"}, "object": {"key": k}}
            }))
            .collect();
        match event::recognise(&json!({ "Records": records })) {
            Ok(Event::Notification { items, .. }) => {
                prop_assert_eq!(items.len(), keys.len());
                for (noticed, key) in items.iter().zip(&keys) {
                    let item = &noticed.item;
                    match decode_key(key) {
                        Ok(decoded) => prop_assert!(matches!(item, WorkItem::Object(o) if o.object.key == decoded), "{item:?}"),
                        Err(_) => prop_assert!(matches!(item, WorkItem::Invalid(_)), "{item:?}"),
                    }
                }
            }
            other => prop_assert!(false, "not a notification: {other:?}"),
        }
    }

    /// Form-URL decoding inverts form-URL encoding, and never panics on anything else.
    #[test]
    fn key_decoding_round_trips(key in "\\PC{0,40}", noise in ".{0,40}") {
        let encoded: String = url_form_encode(&key);
        prop_assert_eq!(decode_key(&encoded), Ok(key));
        let _ = decode_key(&noise);
    }

    /// A media id is accepted exactly when it is 1 to 100 ASCII letters and digits.
    #[test]
    fn media_ids_follow_the_spec(id in ".{0,110}") {
        let valid = (1..=100).contains(&id.chars().count()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        prop_assert_eq!(MediaId::parse(&id).is_ok(), valid);
    }

    /// An accepted phone number id is at most 100 characters, with no space or control
    /// character, in one of the two allowed forms.
    #[test]
    fn phone_number_ids_never_admit_whitespace(
        id in prop_oneof!["phone-number-id-.{0,90}", "arn:.{0,20}:social-messaging:.{0,12}:.{0,12}:phone-number-id/.{0,20}", ".{0,110}"]
    ) {
        if let Ok(parsed) = PhoneNumberId::parse(&id) {
            let s = parsed.as_str();
            prop_assert!(s.chars().count() <= 100);
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()));
            prop_assert!(s.starts_with("phone-number-id-") || s.starts_with("arn:"));
        }
    }
}

/// `application/x-www-form-urlencoded` as S3 writes keys: space as `+`, unreserved kept,
/// everything else as `%XX` of its UTF-8 bytes.
fn url_form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b' ' => "+".to_owned(),
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
