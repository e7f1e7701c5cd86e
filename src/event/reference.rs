//! The erasure request's reference: why a deletion was asked for, in the caller's words
//! (a ticket, a data subject request's id). A custom event carries it as `reference`, an
//! S3 Batch Operations job (schema 2.0) as `job.userArguments.reference`. It is written to
//! the erasure ledger, the answer and each item's log line, and changes nothing that is
//! deleted.

use serde_json::Value;

use super::read::json_type;

/// The most characters a reference may have.
pub const MAX_CHARS: usize = 256;

/// Reads a reference: absent (or `null`) is none; else a string of 1 to [`MAX_CHARS`]
/// characters with no control characters, so that it cannot break a log line or bloat an
/// answer. `field` names where it was read, for the error.
pub(crate) fn read(value: Option<&Value>, field: &str) -> Result<Option<String>, String> {
    let text = match value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::String(text)) => text,
        Some(other) => {
            return Err(format!(
                "\"{field}\" must be a string, got {}",
                json_type(other)
            ))
        }
    };
    let chars = text.chars().count();
    if chars == 0 || chars > MAX_CHARS {
        return Err(format!(
            "\"{field}\" must have 1 to {MAX_CHARS} characters, got {chars}"
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(format!("\"{field}\" must not contain control characters"));
    }
    Ok(Some(text.clone()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_reference_is_a_short_printable_string_or_nothing() {
        assert_eq!(read(None, "reference"), Ok(None));
        assert_eq!(read(Some(&json!(null)), "reference"), Ok(None));
        assert_eq!(
            read(Some(&json!("DSR-2026-0042")), "reference"),
            Ok(Some("DSR-2026-0042".into()))
        );
        let longest = "é".repeat(MAX_CHARS);
        assert_eq!(
            read(Some(&json!(longest)), "reference"),
            Ok(Some(longest.clone()))
        );
        for (bad, problem) in [
            (json!(42), "\"reference\" must be a string, got a number"),
            (
                json!(""),
                "\"reference\" must have 1 to 256 characters, got 0",
            ),
            (
                json!("x".repeat(MAX_CHARS + 1)),
                "\"reference\" must have 1 to 256 characters, got 257",
            ),
            (
                json!("DSR\n{\"forged\": 1}"),
                "\"reference\" must not contain control characters",
            ),
        ] {
            assert_eq!(read(Some(&bad), "reference"), Err(problem.into()), "{bad}");
        }
    }
}
