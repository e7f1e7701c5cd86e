//! An independent SigV4 verifier for the local endpoint, written from AWS's specification
//! with `hmac` and `sha2` (not `aws-sigv4`), so that the function's signer is checked by
//! code that does not share its mistakes.
//!
//! Its sources:
//! - the canonical request, the string to sign and the signing key (each path segment
//!   encoded twice, as for every service but S3):
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html
//! - the `Authorization` header's elements, and a scope date that must be the request's:
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-signing-elements.html
//! - a request must arrive within five minutes of its time stamp:
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_aws-signing.html
//! - AWS's test-suite vectors (`get-vanilla` and others), in `vectors`:
//!   http://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html
//!
//! Two choices are the harness's own, stricter than AWS: the session token must be signed
//! (some services take it unsigned), and every failure is a 403 whose code
//! (`InvalidSignatureException`, `UnrecognizedClientException`) is the one restJson
//! services were observed to answer.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Why a request's signature was refused: the AWS error code and message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub code: &'static str,
    pub message: String,
}

fn reject(code: &'static str, message: impl Into<String>) -> Rejection {
    Rejection {
        code,
        message: message.into(),
    }
}

/// A key pair the endpoint accepts.
#[derive(Debug, Clone)]
pub struct Credential {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

/// What the verifier needs to know about the server.
#[derive(Debug, Clone)]
pub struct Expectation<'a> {
    pub credentials: &'a [Credential],
    pub region: &'a str,
    pub service: &'a str,
    /// Seconds since the epoch, to check `x-amz-date` against.
    pub now_epoch_secs: u64,
}

/// Verifies the SigV4 `Authorization` of a request given as its raw parts.
pub fn verify(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    expect: &Expectation<'_>,
) -> Result<(), Rejection> {
    let header = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .next()
    };
    let auth = header("authorization").ok_or_else(|| {
        reject(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    })?;
    let rest = auth.strip_prefix("AWS4-HMAC-SHA256 ").ok_or_else(|| {
        reject(
            "IncompleteSignatureException",
            "unsupported authorization scheme",
        )
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let (Some(credential), Some(signed_headers), Some(signature)) =
        (credential, signed_headers, signature)
    else {
        return Err(reject(
            "IncompleteSignatureException",
            "Authorization lacks Credential, SignedHeaders or Signature",
        ));
    };
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, "aws4_request"] = scope[..] else {
        return Err(reject(
            "IncompleteSignatureException",
            "malformed credential scope",
        ));
    };
    if region != expect.region || service != expect.service {
        return Err(reject(
            "InvalidSignatureException",
            format!(
                "credential scope {region}/{service} should be {}/{}",
                expect.region, expect.service
            ),
        ));
    }
    let key = expect
        .credentials
        .iter()
        .find(|c| c.access_key_id == access_key_id)
        .ok_or_else(|| {
            reject(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            )
        })?;
    let signed: Vec<&str> = signed_headers.split(';').collect();
    if !signed.contains(&"host") || !signed.contains(&"x-amz-date") {
        return Err(reject(
            "InvalidSignatureException",
            "host and x-amz-date must be signed",
        ));
    }
    if let Some(token) = &key.session_token {
        if header("x-amz-security-token") != Some(token.as_str())
            || !signed.contains(&"x-amz-security-token")
        {
            return Err(reject(
                "UnrecognizedClientException",
                "The security token included in the request is invalid.",
            ));
        }
    }
    let amz_date = header("x-amz-date")
        .ok_or_else(|| reject("IncompleteSignatureException", "x-amz-date is missing"))?;
    if !amz_date.starts_with(date) {
        return Err(reject(
            "InvalidSignatureException",
            "x-amz-date does not match the credential scope date",
        ));
    }
    let signed_at = epoch_of(amz_date)
        .ok_or_else(|| reject("IncompleteSignatureException", "x-amz-date is malformed"))?;
    if signed_at.abs_diff(expect.now_epoch_secs) > 300 {
        return Err(reject(
            "InvalidSignatureException",
            "Signature expired: the request time is more than 5 minutes from the server time",
        ));
    }
    let expected = signature_for(
        &key.secret_access_key,
        method,
        target,
        headers,
        &signed,
        body,
        amz_date,
        region,
        service,
    );
    if expected != signature {
        return Err(reject(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    Ok(())
}

/// The hex SigV4 signature of a request, computed from its raw request-target and headers.
#[allow(clippy::too_many_arguments)]
pub fn signature_for(
    secret: &str,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    signed_headers: &[&str],
    body: &[u8],
    amz_date: &str,
    region: &str,
    service: &str,
) -> String {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let canonical_uri = path
        .split('/')
        .map(uri_encode)
        .collect::<Vec<_>>()
        .join("/");
    let canonical_headers: String = signed_headers
        .iter()
        .map(|name| {
            let values: Vec<String> = headers
                .iter()
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect();
            format!("{name}:{}\n", values.join(","))
        })
        .collect();
    let payload_hash = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("x-amz-content-sha256"))
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| hex::encode(Sha256::digest(body)));
    let canonical_request = format!(
        "{method}\n{canonical_uri}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_query(query),
        signed_headers.join(";")
    );
    let date = &amz_date[..8];
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    hex::encode(hmac(&key, string_to_sign.as_bytes()))
}

/// The canonical query: each name and value decoded, strictly re-encoded, then sorted.
pub fn canonical_query(raw: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k)),
                uri_encode(&percent_decode(v)),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// Decodes `%XX` escapes; anything else is kept as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            if let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// RFC 3986 encoding as SigV4 defines it: unreserved characters stay, the rest is `%XX`.
fn uri_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// Seconds since the epoch of `YYYYMMDDTHHMMSSZ`.
fn epoch_of(amz_date: &str) -> Option<u64> {
    if amz_date.len() != 16 || &amz_date[8..9] != "T" || !amz_date.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| amz_date.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(9..11)?, n(11..13)?, n(13..15)?);
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

pub mod vectors {
    //! The verifier itself is held to AWS's published test-suite signatures.
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    pub fn check_known_answers() {
        let headers = h(&[
            ("Host", "example.amazonaws.com"),
            ("X-Amz-Date", "20150830T123600Z"),
        ]);
        let signed = ["host", "x-amz-date"];
        let sig = |target| {
            signature_for(
                SECRET,
                "GET",
                target,
                &headers,
                &signed,
                b"",
                "20150830T123600Z",
                "us-east-1",
                "service",
            )
        };
        assert_eq!(
            sig("/"),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(
            sig("/?Param2=value2&Param1=value1"),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
        assert_eq!(epoch_of("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(canonical_query("b=2&a=x%3Ay&a=1"), "a=1&a=x%3Ay&b=2");
        assert_eq!(canonical_query("a=x:y/z"), "a=x%3Ay%2Fz");
    }
}
