//! Everything that can go wrong with a DeleteWhatsAppMessageMedia call, and the one place
//! that decides whether it is worth retrying.

use thiserror::Error;

/// A failed DeleteWhatsAppMessageMedia call.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MediaError {
    /// The service answered with an error code (`x-amzn-ErrorType`, `__type` or `code`).
    #[error("{code} (HTTP {status}): {message}")]
    Service {
        /// The error code as received, e.g. `ThrottledRequestException`.
        code: String,
        status: u16,
        /// The service's message.
        message: String,
        /// `x-amzn-RequestId`, when the service sent one.
        request_id: Option<String>,
    },
    /// A response that is neither a deletion nor a coded error: `{"success": false}`, an
    /// unreadable body, or an error status with no code (a proxy or a wrong endpoint).
    #[error("unexpected response (HTTP {status}): {message}")]
    UnexpectedResponse {
        status: u16,
        /// What was unexpected about it.
        message: String,
        /// `x-amzn-RequestId`, when the service sent one.
        request_id: Option<String>,
    },
    /// An attempt ran out of time, or there was no time left to start one.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The request could not be sent or its response could not be read.
    #[error("network error: {0}")]
    Network(String),
    /// No credentials could be had to sign the request.
    #[error("no credentials to sign the request: {0}")]
    Credentials(String),
    /// The API answered `ResourceNotFoundException`, and the phone number does not exist
    /// either (GetLinkedWhatsAppBusinessAccountPhoneNumber answered it so): the service
    /// gives one 404 whichever resource is missing, so the media was never proven gone.
    #[error("unknown phone number (HTTP 404): {message}")]
    UnknownPhoneNumber {
        /// What was asked, and what to check.
        message: String,
        /// The lookup's `x-amzn-RequestId`.
        request_id: Option<String>,
    },
}

impl MediaError {
    /// The `error.type` reported in the payload: the service's code as received, or a type
    /// of the function's own.
    pub fn error_type(&self) -> &str {
        match self {
            Self::Service { code, .. } => code,
            Self::UnexpectedResponse { .. } => "UnexpectedResponse",
            Self::Timeout(_) => "Timeout",
            Self::Network(_) => "NetworkError",
            Self::Credentials(_) => "CredentialsError",
            Self::UnknownPhoneNumber { .. } => "UnknownPhoneNumber",
        }
    }

    /// The same error, met while asking whether `phone_number_id` exists after the API
    /// answered `ResourceNotFoundException`: its message says so.
    pub(crate) fn in_phone_lookup(self, phone_number_id: &str) -> Self {
        let context = |m: &str| {
            format!(
                "DeleteWhatsAppMessageMedia answered ResourceNotFoundException, and whether phone number {phone_number_id} exists could not be read (GetLinkedWhatsAppBusinessAccountPhoneNumber): {m}"
            )
        };
        match self {
            Self::Service {
                code,
                status,
                message,
                request_id,
            } => Self::Service {
                message: context(&message),
                code,
                status,
                request_id,
            },
            Self::UnexpectedResponse {
                status,
                message,
                request_id,
            } => Self::UnexpectedResponse {
                message: context(&message),
                status,
                request_id,
            },
            Self::Timeout(m) => Self::Timeout(context(&m)),
            Self::Network(m) => Self::Network(context(&m)),
            Self::Credentials(m) => Self::Credentials(context(&m)),
            unknown @ Self::UnknownPhoneNumber { .. } => unknown,
        }
    }

    /// Whether the service throttled the request: `ThrottledRequestException`, or any 429.
    pub fn is_throttle(&self) -> bool {
        matches!(self, Self::Service { code, status, .. }
            if code == "ThrottledRequestException" || *status == 429)
    }

    /// The HTTP status of the response, when there was one.
    pub fn http_status(&self) -> Option<u16> {
        match self {
            Self::Service { status, .. } | Self::UnexpectedResponse { status, .. } => Some(*status),
            Self::UnknownPhoneNumber { .. } => Some(404),
            _ => None,
        }
    }

    /// The service's request id, when there was one.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Service { request_id, .. }
            | Self::UnexpectedResponse { request_id, .. }
            | Self::UnknownPhoneNumber { request_id, .. } => request_id.as_deref(),
            _ => None,
        }
    }

    /// The message, without the type and status that are reported beside it.
    pub fn message(&self) -> &str {
        match self {
            Self::Service { message, .. }
            | Self::UnexpectedResponse { message, .. }
            | Self::UnknownPhoneNumber { message, .. } => message,
            Self::Timeout(m) | Self::Network(m) | Self::Credentials(m) => m,
        }
    }

    /// Whether trying the same request again may succeed: throttles, server-side faults and
    /// transport failures. Client errors (4xx) and unexpected answers are final.
    pub fn retryable(&self) -> bool {
        match self {
            Self::Service { code, status, .. } => {
                matches!(
                    code.as_str(),
                    "ThrottledRequestException"
                        | "ThrottlingException"
                        | "InternalServiceException"
                        | "DependencyException"
                ) || *status == 429
                    || *status >= 500
            }
            Self::UnexpectedResponse { status, .. } => *status == 429 || *status >= 500,
            Self::Timeout(_) | Self::Network(_) | Self::Credentials(_) => true,
            Self::UnknownPhoneNumber { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(code: &str, status: u16) -> MediaError {
        MediaError::Service {
            code: code.into(),
            status,
            message: "m".into(),
            request_id: None,
        }
    }

    #[test]
    fn retryability_follows_the_contract_table() {
        for (code, status, retryable) in [
            ("ValidationException", 400, false),
            ("InvalidParametersException", 400, false),
            ("AccessDeniedException", 403, false),
            ("AccessDeniedByMetaException", 403, false),
            ("ResourceNotFoundException", 404, false),
            ("ThrottledRequestException", 429, true),
            ("InternalServiceException", 500, true),
            ("DependencyException", 502, true),
            ("ServiceUnavailableException", 503, true),
        ] {
            assert_eq!(service(code, status).retryable(), retryable, "{code}");
        }
        let unexpected = |status| MediaError::UnexpectedResponse {
            status,
            message: "m".into(),
            request_id: None,
        };
        assert!(!unexpected(200).retryable());
        assert!(!unexpected(404).retryable());
        assert!(unexpected(503).retryable());
        assert!(MediaError::Timeout("t".into()).retryable());
        assert!(MediaError::Network("n".into()).retryable());
    }

    #[test]
    fn error_types_are_the_code_as_received_or_our_own() {
        assert_eq!(
            service("AccessDeniedByMetaException", 403).error_type(),
            "AccessDeniedByMetaException"
        );
        assert_eq!(MediaError::Timeout("t".into()).error_type(), "Timeout");
        assert_eq!(MediaError::Network("n".into()).error_type(), "NetworkError");
    }
}
