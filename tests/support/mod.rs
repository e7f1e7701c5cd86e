//! Shared fixtures for the integration and end-to-end suites.
#![allow(dead_code)]

pub mod endpoint;
pub mod lambda;
pub mod sigv4;

use sigv4::Credential;

/// Test credentials, shaped like a Lambda role's session credentials.
pub const ACCESS_KEY_ID: &str = "ASIATESTACCESSKEY000";
pub const SECRET_ACCESS_KEY: &str = "TESTsecretKEYdoNOTlog/0123456789abcdefXYZ";
pub const SESSION_TOKEN: &str = "TESTsessionTOKENdoNOTlog//////////wEaCXVzLWVhc3QtMSJHMEUCIQ==";
pub const REGION: &str = "us-east-1";

/// The credentials the local endpoint accepts.
pub fn credentials() -> Vec<Credential> {
    vec![Credential {
        access_key_id: ACCESS_KEY_ID.into(),
        secret_access_key: SECRET_ACCESS_KEY.into(),
        session_token: Some(SESSION_TOKEN.into()),
    }]
}

/// A valid plain phone number id.
pub const PHONE: &str = "phone-number-id-0123456789abcdef0123456789abcdef";
/// A valid phone number ARN.
pub const PHONE_ARN: &str =
    "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123456789abcdef0123456789abcdef";
