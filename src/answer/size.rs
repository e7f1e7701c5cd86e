//! The bound that keeps a custom event's answer within Lambda's response limit, counted
//! before any work.

use thiserror::Error;

use super::payload::{echo, ECHO_CHARS, VERSION_CHARS};
#[cfg(doc)]
use super::payload::{LABEL_CHARS, MESSAGE_CHARS};
use crate::model::{ObjectRef, WorkItem};

/// Lambda's limit for a synchronous response: 6 MB. A custom event's payload must fit in it,
/// or the caller loses every outcome, failures included, after all the work was done.
pub const RESPONSE_LIMIT: usize = 6 * 1024 * 1024;

/// The most deletions one custom event may hold. Each result is at most
/// [`WRITTEN_PER_ITEM`] bytes plus what it echoes (its ids, bucket, key and version id), so
/// 1,000 results fit in [`RESPONSE_LIMIT`] with keys of up to 1,024 bytes, S3's longest.
/// More work than that belongs to S3 Batch Operations.
pub const MAX_DELETIONS: usize = 1_000;

/// The most one result holds besides what it echoes: its field names, outcome words and
/// numbers, and at most one message block (an `error`, an `s3Error` or a `reason`, each
/// clipped to [`MESSAGE_CHARS`] with labels of [`LABEL_CHARS`], at most 4 bytes a
/// character once control characters are gone).
pub const WRITTEN_PER_ITEM: usize = 2_560;

/// `success`, `dryRun` and `summary` around the results, the event's `reference` (at most
/// 256 characters of 4 bytes), and a `ledgerError` block like an item's message block.
const ENVELOPE: usize = 256 + (256 * 4 + 16) + WRITTEN_PER_ITEM;
/// Ids found on an object are echoed when they are not valid: [`ECHO_CHARS`] and an
/// ellipsis each, 6 bytes a character at worst (`\u0001`).
const FOUND_IDS: usize = 2 * ((ECHO_CHARS + 1) * 6 + 2);
/// The default phone number id, a valid one: at most 115 characters of ASCII, quoted.
const DEFAULT_PHONE_NUMBER_ID: usize = 115 + 2;
/// The version id that S3 reads for an object named without one: at most 1,024 bytes.
const READ_VERSION_ID: usize = 1_024 * 2 + 2;
/// `currentVersionId`: [`VERSION_CHARS`] and an ellipsis, 4 bytes a character at most.
const CURRENT_VERSION_ID: usize = (VERSION_CHARS + 1) * 4 + 2;

/// A custom event whose answer might not fit in Lambda's response: refused before any
/// work, as an invalid event.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum AnswerError {
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
}

/// Refuses, before any work, a custom event whose answer might not fit in Lambda's
/// response.
pub fn answer_fits(items: &[WorkItem]) -> Result<(), AnswerError> {
    if items.len() > MAX_DELETIONS {
        return Err(AnswerError::TooManyDeletions {
            count: items.len(),
            max: MAX_DELETIONS,
        });
    }
    let bound = answer_bound(items);
    if bound > RESPONSE_LIMIT {
        return Err(AnswerError::AnswerTooLarge {
            bound,
            limit: RESPONSE_LIMIT,
        });
    }
    Ok(())
}

/// The most bytes the payload for `items` can take, counted before any work: each item's
/// echoed strings as they will be written, plus [`WRITTEN_PER_ITEM`].
pub fn answer_bound(items: &[WorkItem]) -> usize {
    let json_len =
        |value: &str| serde_json::to_string(value).map_or(value.len() * 6 + 2, |json| json.len());
    let object_len = |object: Option<&ObjectRef>| {
        object.map_or(0, |o| {
            json_len(&o.bucket) + json_len(&o.key) + o.version_id.as_deref().map_or(0, json_len)
        })
    };
    // Ids are echoed as given when valid, cut short when not.
    let id_len = |id: Option<&String>| id.map_or(0, |id| json_len(&echo(id.clone())));
    ENVELOPE
        + items
            .iter()
            .map(|item| {
                WRITTEN_PER_ITEM
                    + match item {
                        WorkItem::Ids(request) => {
                            // DEFAULT_ORIGINATION_PHONE_NUMBER_ID stands in for a missing one.
                            let phone = match &request.phone_number_id {
                                Some(given) => id_len(Some(given)),
                                None => DEFAULT_PHONE_NUMBER_ID,
                            };
                            let now_current = match request.object {
                                Some(_) => CURRENT_VERSION_ID,
                                None => 0,
                            };
                            id_len(Some(&request.media_id))
                                + phone
                                + object_len(request.object.as_ref())
                                + now_current
                        }
                        WorkItem::Object(item) => {
                            let read_version = match item.object.version_id {
                                Some(_) => 0,
                                None => READ_VERSION_ID,
                            };
                            object_len(Some(&item.object))
                                + FOUND_IDS
                                + read_version
                                + CURRENT_VERSION_ID
                        }
                        WorkItem::Invalid(invalid) => {
                            id_len(invalid.media_id.as_ref())
                                + id_len(invalid.phone_number_id.as_ref())
                                + object_len(invalid.object.as_ref())
                        }
                        WorkItem::Skipped { object, .. } => object_len(object.as_ref()),
                    }
            })
            .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::payload::ItemResult;
    use crate::ids::{MediaId, PhoneNumberId};
    use crate::model::{KeyNow, Removal, StoreError, Target};
    use crate::whatsapp::{MediaError, MediaGone};

    #[test]
    fn what_a_result_writes_besides_its_echoes_stays_within_the_bound() {
        // The longest of everything the function writes: a service error whose code,
        // message and request id are huge and full of quotes, backslashes, control
        // characters and four-byte characters; echoed fields empty.
        let nasty = "\"\\\u{1}😀".repeat(5_000);
        let empty_object = Some(ObjectRef {
            bucket: String::new(),
            key: String::new(),
            version_id: Some(String::new()),
        });
        let target = Target {
            media_id: MediaId::parse("a").unwrap(),
            phone_number_id: PhoneNumberId::parse("phone-number-id-a").unwrap(),
            object: empty_object.clone(),
            source: crate::model::ObjectSource::Key,
        };
        let echoed = r#""a""phone-number-id-a""""""""#.len();
        let failed = ItemResult::deletion(
            target.clone(),
            Err(MediaError::Service {
                code: nasty.clone(),
                status: 503,
                message: nasty.clone(),
                request_id: Some(nasty.clone()),
            }),
            u32::MAX,
        );
        let gone = |removal| {
            ItemResult::deletion(target.clone(), Ok(MediaGone::Already), u32::MAX)
                .with_s3_object(Some(removal))
        };
        let s3_failed = gone(Err(StoreError {
            operation: "DeleteObject",
            status: Some(503),
            message: nasty.clone(),
            retryable: true,
        }));
        let kept = gone(Ok(Removal::Kept(nasty.clone())));
        let unknown = gone(Ok(Removal::Deleted(KeyNow::Unknown(nasty.clone()))));
        // The version the key serves now is echoed (counted apart, as CURRENT_VERSION_ID).
        let serves = gone(Ok(Removal::Deleted(KeyNow::Serves {
            version_id: String::new(),
            same_media: true,
        })));
        let skipped = ItemResult::skipped(empty_object, nasty.clone());
        // The longest version id S3 may give, of 4-byte characters: cut, and within its
        // own share of the bound.
        let long = gone(Ok(Removal::Deleted(KeyNow::Serves {
            version_id: "\u{1F600}".repeat(1_024),
            same_media: false,
        })));
        let version = serde_json::to_string(&long.current_version_id).unwrap();
        assert!(version.len() <= CURRENT_VERSION_ID, "{}", version.len());
        for result in [failed, s3_failed, kept, unknown, serves, skipped] {
            let written = serde_json::to_string(&result).unwrap().len() + 1 - echoed;
            assert!(written <= WRITTEN_PER_ITEM, "{written}: {result:?}");
        }
    }

    #[test]
    fn the_envelope_holds_the_longest_reference_and_a_ledger_error() {
        let error = crate::ledger::LedgerError {
            bucket: "b".repeat(63),
            key: "\u{1}".repeat(1000),
            error: crate::model::StoreError {
                operation: "PutObject",
                status: Some(503),
                message: "\u{10FFFF}".repeat(2000),
                retryable: true,
            },
        };
        let payload = super::super::payload::Payload::new(false, vec![])
            .with_reference(Some(
                "\u{10FFFF}".repeat(crate::event::reference::MAX_CHARS),
            ))
            .with_ledger_error(&error);
        let written = serde_json::to_string(&payload).unwrap().len();
        assert!(written <= ENVELOPE, "{written}");
    }

    #[test]
    fn the_bound_counts_what_each_item_echoes() {
        let ids = |key: &str| {
            WorkItem::Ids(crate::model::IdsRequest {
                media_id: "m".into(),
                phone_number_id: Some("phone-number-id-a".into()),
                object: Some(ObjectRef {
                    bucket: "b".into(),
                    key: key.into(),
                    version_id: None,
                }),
            })
        };
        // Besides what it names, an item with an object may echo the version its key
        // serves after a delete.
        let plain = answer_bound(&[ids("k")]);
        let written = ENVELOPE + WRITTEN_PER_ITEM + CURRENT_VERSION_ID;
        assert!(plain > written && plain < written + 400, "{plain}");
        // A control character is six bytes of JSON.
        assert_eq!(answer_bound(&[ids("\u{1}")]), plain + 5);
        // The maximum number of items, with keys of S3's longest, fits.
        let most: Vec<WorkItem> = (0..MAX_DELETIONS).map(|_| ids(&"k".repeat(1024))).collect();
        assert!(answer_bound(&most) <= RESPONSE_LIMIT);
        // And the maximum number of objects named alone, whose ids and version are read.
        let objects: Vec<WorkItem> = (0..MAX_DELETIONS)
            .map(|i| {
                WorkItem::Object(crate::model::ObjectItem::new(
                    ObjectRef {
                        bucket: "media".into(),
                        key: format!("in/{i:04}.jpg"),
                        version_id: None,
                    },
                    crate::model::Metadata::Current,
                ))
            })
            .collect();
        assert!(
            answer_bound(&objects) <= RESPONSE_LIMIT,
            "{}",
            answer_bound(&objects)
        );
    }
}
