//! One log line per item, with its fields as plain values that CloudWatch Logs Insights can
//! filter on (`media_id = "3f9a1c"`): never Debug quoting, and absent fields left out rather
//! than logged as `""` or `None`. Never a credential.

use std::borrow::Cow;
use std::time::Duration;

use crate::answer::payload::{ItemResult, S3Object};

/// Logs `result`, which took `latency` from start to end, with the erasure request's
/// `reference`: `info` when it is done, `error` with the error when it failed. A failure
/// is an error so that it survives Lambda's log-level filter at every level the template
/// allows (up to ERROR): someone must act on it.
pub fn log(result: &ItemResult, latency: Duration, reference: Option<&str>) {
    let reference = reference.map(one_line);
    let media_id = result.media_id.as_deref().map(one_line);
    let phone_number_id = result.origination_phone_number_id.as_deref().map(one_line);
    let object = result.object.as_ref();
    let bucket = object.map(|o| one_line(&o.bucket));
    let key = object.map(|o| one_line(&o.key));
    let version_id = object.and_then(|o| o.version_id.as_deref()).map(one_line);
    let outcome = result.outcome.as_str();
    let s3_object = result.s3_object.map(S3Object::as_str);
    let latency_ms = latency.as_millis() as u64;
    if !result.failed() {
        tracing::info!(
            media_id = media_id.as_deref(),
            origination_phone_number_id = phone_number_id.as_deref(),
            bucket = bucket.as_deref(),
            key = key.as_deref(),
            version_id = version_id.as_deref(),
            outcome,
            reason = result.reason.as_deref().map(one_line).as_deref(),
            s3_object,
            current_version_id = result
                .current_version_id
                .as_deref()
                .map(one_line)
                .as_deref(),
            attempts = result.attempts,
            latency_ms,
            reference = reference.as_deref(),
            "media item done"
        );
        return;
    }
    let error = result.error.as_ref().or(result.s3_error.as_ref());
    tracing::error!(
        media_id = media_id.as_deref(),
        origination_phone_number_id = phone_number_id.as_deref(),
        bucket = bucket.as_deref(),
        key = key.as_deref(),
        version_id = version_id.as_deref(),
        outcome,
        s3_object,
        attempts = result.attempts,
        latency_ms,
        error_type = error.map(|e| e.error_type.as_str()),
        error_message = error.map(|e| one_line(&e.message)).as_deref(),
        retryable = result.retryable(),
        reference = reference.as_deref(),
        "media item failed"
    );
}

/// The value with its control characters escaped (`\r`, `\n`, `\u{0}`), so that no value,
/// however hostile, can break a line of the text log format or forge one. Valid ids and
/// ordinary keys come through untouched.
fn one_line(value: &str) -> Cow<'_, str> {
    if !value.chars().any(char::is_control) {
        return Cow::Borrowed(value);
    }
    Cow::Owned(
        value
            .chars()
            .map(|c| match c {
                c if c.is_control() => c.escape_default().to_string(),
                c => c.to_string(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_plain_values_borrowed() {
        assert!(matches!(one_line("3f9a1c"), Cow::Borrowed("3f9a1c")));
        assert!(matches!(one_line("in/photo 1+2.jpg"), Cow::Borrowed(_)));
        assert_eq!(one_line("abc\r\nX-Injected: 1"), "abc\\r\\nX-Injected: 1");
        assert_eq!(one_line("a\u{0}b\u{1b}[31m"), "a\\u{0}b\\u{1b}[31m");
        assert!(!one_line("\n\r\t\u{85}").chars().any(char::is_control));
    }
}
