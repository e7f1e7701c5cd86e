//! SigV4 signing of the media request with `aws-sigv4`.
//!
//! The URL given here is the URL that is sent, byte for byte, so the query string that is
//! signed is the one the service receives.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;
use thiserror::Error;

/// The signing name of AWS End User Messaging Social.
pub const SERVICE_NAME: &str = "social-messaging";

/// A request that could not be signed.
#[derive(Debug, Error)]
pub enum SignError {
    /// The signing parameters were incomplete.
    #[error("signing parameters: {0}")]
    Params(#[from] v4::signing_params::BuildError),
    /// The request could not be put into canonical form.
    #[error("signing: {0}")]
    Request(#[from] aws_sigv4::http_request::SigningError),
}

/// Signs requests for one service in one region.
#[derive(Debug, Clone)]
pub struct Signer {
    region: String,
    service: String,
}

/// The headers to add to a request: `x-amz-date`, `authorization` and, with temporary
/// credentials, `x-amz-security-token`. Deliberately not `Debug`: it holds secrets.
pub struct SignedHeaders {
    /// Header names and values, to be sent as they are.
    pub headers: Vec<(&'static str, String)>,
    /// The hex signature, also inside `authorization`.
    pub signature: String,
}

impl Signer {
    /// The Region it signs for.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// A signer for `service` (normally [`SERVICE_NAME`]) in `region`.
    pub fn new(region: impl Into<String>, service: impl Into<String>) -> Self {
        Self {
            region: region.into(),
            service: service.into(),
        }
    }

    /// Signs a body-less request to `url` (already percent-encoded) whose `Host` header is
    /// `host`, at `time`.
    pub fn sign(
        &self,
        method: &str,
        url: &str,
        host: &str,
        credentials: &Credentials,
        time: SystemTime,
    ) -> Result<SignedHeaders, SignError> {
        let identity: Identity = credentials.clone().into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name(&self.service)
            .time(time)
            .settings(SigningSettings::default())
            .build()?
            .into();
        let request = SignableRequest::new(
            method,
            url,
            std::iter::once(("host", host)),
            SignableBody::Bytes(&[]),
        )?;
        let (instructions, signature) = sign(request, &params)?.into_parts();
        let (headers, _query_params) = instructions.into_parts();
        Ok(SignedHeaders {
            headers: headers
                .into_iter()
                .map(|h| (h.name(), h.value().to_owned()))
                .collect(),
            signature,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    /// 2015-08-30T12:36:00Z, the time of AWS's SigV4 test suite.
    fn suite_time() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_440_938_160)
    }

    fn suite_credentials() -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            None,
            None,
            "test-suite",
        )
    }

    #[test]
    fn known_answer_get_vanilla() {
        let signed = Signer::new("us-east-1", "service")
            .sign(
                "GET",
                "https://example.amazonaws.com/",
                "example.amazonaws.com",
                &suite_credentials(),
                suite_time(),
            )
            .unwrap();
        // AWS's published signature for the test suite's `get-vanilla` request.
        assert_eq!(
            signed.signature,
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        let auth = signed
            .headers
            .iter()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(
            auth,
            Some(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                 SignedHeaders=host;x-amz-date, \
                 Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
            )
        );
    }

    #[test]
    fn known_answer_get_vanilla_query_order_key_case() {
        // The query is sorted before signing; the URL is sent as it is.
        let signed = Signer::new("us-east-1", "service")
            .sign(
                "GET",
                "https://example.amazonaws.com/?Param2=value2&Param1=value1",
                "example.amazonaws.com",
                &suite_credentials(),
                suite_time(),
            )
            .unwrap();
        assert_eq!(
            signed.signature,
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    #[test]
    fn session_token_is_sent_and_signed() {
        let credentials = Credentials::new("AKID", "secret", Some("the-token".into()), None, "t");
        let signed = Signer::new("us-east-1", SERVICE_NAME)
            .sign(
                "DELETE",
                "https://social-messaging.us-east-1.amazonaws.com/v1/whatsapp/media?mediaId=a&originationPhoneNumberId=b",
                "social-messaging.us-east-1.amazonaws.com",
                &credentials,
                suite_time(),
            )
            .unwrap();
        let header = |name: &str| {
            signed
                .headers
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(header("x-amz-security-token").as_deref(), Some("the-token"));
        let auth = header("authorization").unwrap();
        assert!(
            auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert!(
            auth.contains("/us-east-1/social-messaging/aws4_request"),
            "{auth}"
        );
    }
}
