//! Reading a DeleteWhatsAppMessageMedia response (restJson1) into an outcome or an error.

use serde::Deserialize;
use serde_json::Value;

use super::{MediaError, MediaGone};

/// How much of an unexpected body is quoted in an error message.
const BODY_EXCERPT_CHARS: usize = 200;

/// The parts of an HTTP response that decide the outcome.
pub(crate) struct RawResponse<'a> {
    pub status: u16,
    /// The `x-amzn-ErrorType` header.
    pub error_type: Option<&'a str>,
    /// The `x-amzn-RequestId` header.
    pub request_id: Option<String>,
    pub body: &'a [u8],
}

#[derive(Deserialize)]
struct SuccessBody {
    success: bool,
}

/// Maps a response as the contract says: `{"success": true}` is a deletion,
/// `ResourceNotFoundException` means the media was already gone, a coded error keeps its
/// code, and anything else is `UnexpectedResponse`.
pub(crate) fn interpret(response: RawResponse<'_>) -> Result<MediaGone, MediaError> {
    let RawResponse {
        status,
        error_type,
        request_id,
        body,
    } = response;

    if (200..300).contains(&status) {
        return success(status, body, request_id);
    }

    // A redirect is never followed, and no code it carries makes it an answer.
    if (300..400).contains(&status) {
        return Err(MediaError::UnexpectedResponse {
            status,
            message: format!("HTTP {status} redirect, not followed: {}", excerpt(body)),
            request_id,
        });
    }

    let json: Option<Value> = serde_json::from_slice(body).ok();
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| json.as_ref()?.get(name)?.as_str().map(str::to_owned))
    };
    let code = error_type
        .map(str::to_owned)
        .or_else(|| field(&["__type", "code"]))
        .map(|raw| sanitize_code(&raw))
        .filter(|code| !code.is_empty());

    match code {
        // Only the service's own 404 says the media is gone: nothing else may let an S3
        // object be deleted.
        Some(code) if code == "ResourceNotFoundException" && status == 404 => {
            Ok(MediaGone::Already)
        }
        Some(code) => Err(MediaError::Service {
            code,
            status,
            message: field(&["message", "Message"]).unwrap_or_default(),
            request_id,
        }),
        None => Err(MediaError::UnexpectedResponse {
            status,
            message: format!("HTTP {status} with no error code: {}", excerpt(body)),
            request_id,
        }),
    }
}

/// A 2xx answer: a deletion only when its body is `{"success": true}`.
fn success(status: u16, body: &[u8], request_id: Option<String>) -> Result<MediaGone, MediaError> {
    match serde_json::from_slice::<SuccessBody>(body) {
        Ok(SuccessBody { success: true }) => Ok(MediaGone::Now),
        Ok(SuccessBody { success: false }) => Err(MediaError::UnexpectedResponse {
            status,
            message: "the service answered {\"success\": false}: the media was not deleted".into(),
            request_id,
        }),
        Err(e) => Err(MediaError::UnexpectedResponse {
            status,
            message: format!("unreadable response body ({e}): {}", excerpt(body)),
            request_id,
        }),
    }
}

/// restJson1 error codes may carry a namespace (`ns#Code`) and a URL (`Code:http://...`).
fn sanitize_code(raw: &str) -> String {
    let before_colon = raw.split(':').next().unwrap_or_default();
    let after_hash = before_colon.rsplit('#').next().unwrap_or_default();
    after_hash.trim().to_owned()
}

/// A short, single-line quote of a body for an error message.
fn excerpt(body: &[u8]) -> String {
    if body.is_empty() {
        return "empty body".into();
    }
    let text = String::from_utf8_lossy(body);
    let mut quoted: String = text
        .chars()
        .take(BODY_EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().count() > BODY_EXCERPT_CHARS {
        quoted.push('…');
    }
    format!("body {quoted:?}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: u16, error_type: Option<&str>, body: &str) -> Result<MediaGone, MediaError> {
        interpret(RawResponse {
            status,
            error_type,
            request_id: Some("req-1".into()),
            body: body.as_bytes(),
        })
    }

    #[test]
    fn a_redirect_or_a_stray_not_found_code_is_never_a_deletion() {
        // A 3xx is unexpected, whatever code it carries, and is not retried.
        let moved = run(307, Some("ResourceNotFoundException"), "").unwrap_err();
        assert_eq!(moved.error_type(), "UnexpectedResponse");
        assert!(!moved.retryable());
        // ResourceNotFoundException means "already deleted" only as the service's 404.
        let odd = run(400, Some("ResourceNotFoundException"), "{}").unwrap_err();
        assert_eq!(odd.error_type(), "ResourceNotFoundException");
        assert_eq!(
            run(404, Some("ResourceNotFoundException"), "{}"),
            Ok(MediaGone::Already)
        );
    }

    #[test]
    fn success_true_is_a_deletion() {
        assert_eq!(run(200, None, r#"{"success":true}"#), Ok(MediaGone::Now));
    }

    #[test]
    fn success_false_and_unreadable_bodies_are_unexpected() {
        for body in [
            r#"{"success":false}"#,
            "",
            "<html>oops</html>",
            r#"{"ok":1}"#,
        ] {
            let err = run(200, None, body).unwrap_err();
            assert_eq!(err.error_type(), "UnexpectedResponse", "{body:?}");
            assert_eq!(err.http_status(), Some(200));
            assert_eq!(err.request_id(), Some("req-1"));
        }
    }

    #[test]
    fn code_comes_from_header_then_type_then_code() {
        let err = run(
            429,
            Some("ThrottledRequestException:http://internal.amazon.com/coral/"),
            r#"{"__type":"Other","message":"Rate exceeded"}"#,
        )
        .unwrap_err();
        assert_eq!(err.error_type(), "ThrottledRequestException");
        assert_eq!(err.message(), "Rate exceeded");

        let err = run(
            400,
            None,
            r#"{"__type":"com.amazonaws.socialmessaging#ValidationException","Message":"bad"}"#,
        )
        .unwrap_err();
        assert_eq!(err.error_type(), "ValidationException");
        assert_eq!(err.message(), "bad");

        let err = run(403, None, r#"{"code":"AccessDeniedByMetaException"}"#).unwrap_err();
        assert_eq!(err.error_type(), "AccessDeniedByMetaException");
        assert_eq!(err.http_status(), Some(403));
    }

    #[test]
    fn only_resource_not_found_means_already_deleted() {
        assert_eq!(
            run(404, Some("ResourceNotFoundException"), "{}"),
            Ok(MediaGone::Already)
        );
        let err = run(404, None, "<html>Not Found</html>").unwrap_err();
        assert_eq!(err.error_type(), "UnexpectedResponse");
        assert!(!err.retryable());
        assert!(err.message().contains("Not Found"), "{}", err.message());
    }

    #[test]
    fn uncoded_server_errors_are_retryable_unexpected_responses() {
        let err = run(503, None, "").unwrap_err();
        assert_eq!(err.error_type(), "UnexpectedResponse");
        assert!(err.retryable());
    }

    #[test]
    fn long_bodies_are_cut_and_control_characters_removed() {
        let body = format!("\r\n{}", "x".repeat(500));
        let err = run(502, None, &body).unwrap_err();
        assert!(!err.message().contains('\n'));
        assert!(err.message().chars().count() < 300);
    }
}
