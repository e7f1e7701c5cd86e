//! From what an event gave to the validated ids of one deletion.

use crate::event::{IdsRequest, InvalidItem, ObjectRef};
use crate::ids::{MediaId, PhoneNumberId};

/// A deletion whose ids are valid and complete: ready to be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The media to delete.
    pub media_id: MediaId,
    /// The phone number the media was uploaded through.
    pub phone_number_id: PhoneNumberId,
    /// The S3 object the media came from, if known.
    pub object: Option<ObjectRef>,
}

/// Validates the ids of `request`, taking the phone number id from `default_phone_number_id`
/// (`DEFAULT_ORIGINATION_PHONE_NUMBER_ID`) when the request gives none.
pub fn ids(
    request: IdsRequest,
    default_phone_number_id: Option<&PhoneNumberId>,
) -> Result<Target, Box<InvalidItem>> {
    let media_id = MediaId::parse(&request.media_id);
    let phone_number_id = match (&request.phone_number_id, default_phone_number_id) {
        (Some(given), _) => PhoneNumberId::parse(given).map_err(|e| e.to_string()),
        (None, Some(default)) => Ok(default.clone()),
        (None, None) => Err(
            "\"originationPhoneNumberId\" is missing and DEFAULT_ORIGINATION_PHONE_NUMBER_ID is not set"
                .to_owned(),
        ),
    };
    match (media_id, phone_number_id) {
        (Ok(media_id), Ok(phone_number_id)) => Ok(Target {
            media_id,
            phone_number_id,
            object: request.object,
        }),
        (media_id, phone_number_id) => {
            let problems: Vec<String> =
                [media_id.err().map(|e| e.to_string()), phone_number_id.err()]
                    .into_iter()
                    .flatten()
                    .collect();
            Err(Box::new(InvalidItem {
                media_id: Some(request.media_id),
                phone_number_id: request.phone_number_id,
                object: request.object,
                problem: problems.join("; "),
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(media_id: &str, phone: Option<&str>) -> IdsRequest {
        IdsRequest {
            media_id: media_id.into(),
            phone_number_id: phone.map(str::to_owned),
            object: None,
        }
    }

    #[test]
    fn given_ids_win_over_the_default() {
        let default = PhoneNumberId::parse("phone-number-id-default").unwrap();
        let t = ids(
            request("abc", Some("phone-number-id-given")),
            Some(&default),
        )
        .unwrap();
        assert_eq!(t.phone_number_id.as_str(), "phone-number-id-given");
        let t = ids(request("abc", None), Some(&default)).unwrap();
        assert_eq!(t.phone_number_id.as_str(), "phone-number-id-default");
    }

    #[test]
    fn every_problem_is_named() {
        let err = ids(request("a b", Some("bad")), None).unwrap_err();
        assert!(err.problem.starts_with("mediaId "), "{}", err.problem);
        assert!(
            err.problem.contains("; originationPhoneNumberId "),
            "{}",
            err.problem
        );
        assert_eq!(err.media_id.as_deref(), Some("a b"));

        let err = ids(request("abc", None), None).unwrap_err();
        assert!(err.problem.contains("DEFAULT_ORIGINATION_PHONE_NUMBER_ID"));
    }
}
