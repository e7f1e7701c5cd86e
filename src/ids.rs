//! The two identifiers that DeleteWhatsAppMessageMedia takes, validated once at construction.
//!
//! A value of [`MediaId`] or [`PhoneNumberId`] is known to satisfy the API's constraints
//! (contract, section 2), so nothing downstream re-checks it and an invalid id can never
//! reach the network.

use std::fmt;

use thiserror::Error;

/// Longest `mediaId` the API accepts, in characters.
const MAX_MEDIA_ID_LEN: usize = 100;
/// Longest `originationPhoneNumberId` the service takes, in characters: its current model
/// says 115 (the API page still says 100, too short for a phone-number ARN with a
/// 32-character id in a Region with a 14-character name, such as `ap-northeast-1`).
const MAX_PHONE_NUMBER_ID_LEN: usize = 115;

const PHONE_NUMBER_ID_PREFIX: &str = "phone-number-id-";

/// Why a string is not a valid id. The message names the field and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum IdError {
    /// The value was empty.
    #[error("{field} is empty")]
    Empty {
        /// The API parameter name.
        field: &'static str,
    },
    /// The value was longer than the API allows.
    #[error("{field} is {len} characters long; at most {max} are allowed")]
    TooLong {
        /// The API parameter name.
        field: &'static str,
        /// The length that was given, in characters.
        len: usize,
        /// The most the API allows.
        max: usize,
    },
    /// The value did not have an allowed form.
    #[error("{field} {problem}")]
    Malformed {
        /// The API parameter name.
        field: &'static str,
        /// What is wrong, in words.
        problem: &'static str,
    },
}

/// The id of a media file held by WhatsApp (`mediaId`): 1 to 100 characters of `[A-Za-z0-9]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MediaId(String);

impl MediaId {
    /// The API parameter name, used in messages.
    pub const FIELD: &'static str = "mediaId";

    /// Validates `value` against the API's constraints.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_length(Self::FIELD, value, MAX_MEDIA_ID_LEN)?;
        if !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(IdError::Malformed {
                field: Self::FIELD,
                problem: "may contain only the ASCII letters A-Z, a-z and the digits 0-9",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as the API expects it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of the originating phone number (`originationPhoneNumberId`).
///
/// Either `phone-number-id-` followed by ASCII letters, digits, `-` or `_`, or an ARN
/// `arn:<partition>:social-messaging:<region>:<account>:phone-number-id/<[0-9a-zA-Z]+>`;
/// 1 to 115 characters in all. The spec's own pattern (`.*`) would let whitespace and
/// control characters through; this type does not.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneNumberId(String);

impl PhoneNumberId {
    /// The API parameter name, used in messages.
    pub const FIELD: &'static str = "originationPhoneNumberId";

    /// Validates `value` against the API's constraints.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check_length(Self::FIELD, value, MAX_PHONE_NUMBER_ID_LEN)?;
        let valid = if let Some(suffix) = value.strip_prefix(PHONE_NUMBER_ID_PREFIX) {
            !suffix.is_empty()
                && suffix
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        } else if value.starts_with("arn:") {
            is_phone_number_arn(value)
        } else {
            false
        };
        if !valid {
            return Err(IdError::Malformed {
                field: Self::FIELD,
                problem: "must be `phone-number-id-` followed by letters, digits, `-` or `_`, \
                          or an ARN `arn:<partition>:social-messaging:<region>:<account>:phone-number-id/<id>`",
            });
        }
        Ok(Self(value.to_owned()))
    }

    /// The id as the API expects it (unencoded).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Region an ARN names (`None` for a plain `phone-number-id-...`): the phone number
    /// and its media live there, so that is where the DELETE goes.
    pub fn region(&self) -> Option<&str> {
        self.0
            .starts_with("arn:")
            .then(|| self.0.split(':').nth(3))
            .flatten()
    }

    /// Whether `recorded` (as found on an S3 object) names this phone number: the same
    /// string, or the same number in the other form (`phone-number-id-<id>` and an ARN
    /// ending `phone-number-id/<id>`).
    pub fn is_named_by(&self, recorded: &str) -> bool {
        let number = |id: &str| -> Option<String> {
            match id.strip_prefix(PHONE_NUMBER_ID_PREFIX) {
                Some(suffix) => Some(suffix.to_owned()),
                None => id
                    .starts_with("arn:")
                    .then(|| {
                        id.rsplit_once("phone-number-id/")
                            .map(|(_, n)| n.to_owned())
                    })
                    .flatten(),
            }
        };
        let recorded = recorded.trim();
        recorded == self.0 || (number(recorded).is_some() && number(recorded) == number(&self.0))
    }
}

impl fmt::Display for MediaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for PhoneNumberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_length(field: &'static str, value: &str, max: usize) -> Result<(), IdError> {
    let len = value.chars().count();
    if len == 0 {
        return Err(IdError::Empty { field });
    }
    if len > max {
        return Err(IdError::TooLong { field, len, max });
    }
    Ok(())
}

/// `arn:<partition>:social-messaging:<region>:<account>:phone-number-id/<[0-9a-zA-Z]+>`
fn is_phone_number_arn(value: &str) -> bool {
    let mut parts = value.splitn(6, ':');
    let (
        Some("arn"),
        Some(partition),
        Some("social-messaging"),
        Some(region),
        Some(account),
        Some(resource),
    ) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    )
    else {
        return false;
    };
    let Some(id) = resource.strip_prefix("phone-number-id/") else {
        return false;
    };
    let lower_dashed = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    lower_dashed(partition)
        && lower_dashed(region)
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123456789abcdef0123456789abcdef";

    #[test]
    fn media_id_length_edges() {
        assert_eq!(MediaId::parse(""), Err(IdError::Empty { field: "mediaId" }));
        assert!(MediaId::parse("a").is_ok());
        assert!(MediaId::parse(&"a".repeat(100)).is_ok());
        assert_eq!(
            MediaId::parse(&"a".repeat(101)),
            Err(IdError::TooLong {
                field: "mediaId",
                len: 101,
                max: 100
            })
        );
    }

    #[test]
    fn media_id_allows_only_ascii_alphanumerics() {
        assert_eq!(MediaId::parse("AbZ09az").unwrap().as_str(), "AbZ09az");
        for bad in [
            "abc def",
            " abc",
            "abc\n",
            "abc\r\n",
            "a\u{0}b",
            "a-b",
            "a_b",
            "a.b",
            "a/b",
            "a%2F",
            "médía",
            "١٢٣",
            "ａｂｃ",
            "a+b",
        ] {
            let err = MediaId::parse(bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    IdError::Malformed {
                        field: "mediaId",
                        ..
                    }
                ),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn media_id_length_counts_characters_not_bytes() {
        // 100 two-byte characters are 100 characters: rejected for their form, not length.
        let err = MediaId::parse(&"é".repeat(100)).unwrap_err();
        assert!(matches!(err, IdError::Malformed { .. }));
        let err = MediaId::parse(&"é".repeat(101)).unwrap_err();
        assert_eq!(
            err,
            IdError::TooLong {
                field: "mediaId",
                len: 101,
                max: 100
            }
        );
    }

    #[test]
    fn phone_number_id_plain_form() {
        let id = "phone-number-id-0123456789abcdef0123456789abcdef";
        assert_eq!(PhoneNumberId::parse(id).unwrap().as_str(), id);
        assert!(PhoneNumberId::parse("phone-number-id-a").is_ok());
        assert!(PhoneNumberId::parse("phone-number-id-A_b-9").is_ok());
        for bad in [
            "phone-number-id-",
            "phone-number-id-abc def",
            "phone-number-id-abc\n",
            "phone-number-id-abc\r\nX-Injected: 1",
            "phone-number-id-\u{7f}",
            "phone-number-id-é",
            "phone-number-id-a/b",
            "phone-number-id-a:b",
            " phone-number-id-abc",
            "Phone-Number-Id-abc",
            "0123456789abcdef",
            "x",
        ] {
            assert!(PhoneNumberId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn phone_number_id_length_edges() {
        assert_eq!(
            PhoneNumberId::parse(""),
            Err(IdError::Empty {
                field: "originationPhoneNumberId"
            })
        );
        let exactly_115 = format!("{PHONE_NUMBER_ID_PREFIX}{}", "a".repeat(115 - 16));
        assert!(PhoneNumberId::parse(&exactly_115).is_ok());
        let too_long = format!("{exactly_115}a");
        assert_eq!(
            PhoneNumberId::parse(&too_long),
            Err(IdError::TooLong {
                field: "originationPhoneNumberId",
                len: 116,
                max: 115
            })
        );
    }

    #[test]
    fn phone_number_id_arn_forms() {
        assert_eq!(PhoneNumberId::parse(ARN).unwrap().as_str(), ARN);
        for good in [
            "arn:aws-cn:social-messaging:cn-north-1:123456789012:phone-number-id/abc",
            "arn:aws-us-gov:social-messaging:us-gov-west-1:123456789012:phone-number-id/A1",
        ] {
            assert!(PhoneNumberId::parse(good).is_ok(), "{good:?} was rejected");
        }
        for bad in [
            // no partition
            "arn::social-messaging:us-east-1:123456789012:phone-number-id/abc",
            // wrong service, region missing, short account, bad resource id
            "arn:aws:sms:us-east-1:123456789012:phone-number-id/abc",
            "arn:aws:social-messaging::123456789012:phone-number-id/abc",
            "arn:aws:social-messaging:us-east-1:12345:phone-number-id/abc",
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/",
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/ab-c",
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/ab c",
            "arn:aws:social-messaging:us-east-1:123456789012:waba/abc",
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/abc\n",
            "arn:AWS:social-messaging:us-east-1:123456789012:phone-number-id/abc",
        ] {
            assert!(PhoneNumberId::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn phone_number_arns_of_every_region_fit_and_over_115_characters_do_not() {
        // A 32-character id in a Region with a 14-character name: 101 characters.
        let arn = format!(
            "arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/{}",
            "a".repeat(32)
        );
        assert_eq!(arn.len(), 101);
        let id = PhoneNumberId::parse(&arn).unwrap();
        assert_eq!(id.region(), Some("ap-northeast-1"));
        let arn = format!(
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/{}",
            "a".repeat(52)
        );
        assert_eq!(arn.len(), 116);
        assert!(matches!(
            PhoneNumberId::parse(&arn),
            Err(IdError::TooLong { len: 116, .. })
        ));
        assert_eq!(
            PhoneNumberId::parse("phone-number-id-abc")
                .unwrap()
                .region(),
            None
        );
    }

    #[test]
    fn a_phone_number_is_named_in_either_form() {
        let plain =
            PhoneNumberId::parse("phone-number-id-0123456789abcdef0123456789abcdef").unwrap();
        let arn = PhoneNumberId::parse(ARN).unwrap();
        assert!(plain.is_named_by(ARN));
        assert!(arn.is_named_by("phone-number-id-0123456789abcdef0123456789abcdef"));
        assert!(arn.is_named_by(&format!(" {ARN} ")));
        assert!(!plain.is_named_by("phone-number-id-ffff"));
        assert!(!arn.is_named_by("phone-number-id-"));
        assert!(!plain.is_named_by("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn errors_name_the_field() {
        let msg = PhoneNumberId::parse("nope").unwrap_err().to_string();
        assert!(msg.starts_with("originationPhoneNumberId "), "{msg}");
        let msg = MediaId::parse("").unwrap_err().to_string();
        assert_eq!(msg, "mediaId is empty");
    }
}
