//! Reading an event's parts: each record, message or task in a type of its own, one at a
//! time, and S3's key encoding.

use serde_json::Value;

/// Decodes a form-URL-encoded S3 key (`+` is a space, `%XX` a byte of UTF-8), as S3
/// notifications and Batch Operations manifests carry them. A `%` not followed by two hex
/// digits, or bytes that are not UTF-8, are an error, never a guess.
pub fn decode_key(raw: &str) -> Result<String, String> {
    let bytes = raw.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'%'
            && !(bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
        {
            return Err(format!(
                "the key {raw:?} is not valid URL encoding: `%` at byte {i} is not followed by two hex digits"
            ));
        }
    }
    let plus_as_space = raw.replace('+', " ");
    percent_encoding::percent_decode_str(&plus_as_space)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("the key {raw:?} does not decode to UTF-8"))
}

/// The most characters of a parse error kept: serde's messages quote the offending value,
/// which may be megabytes long.
const PROBLEM_CHARS: usize = 300;

/// Reads one record, message body or task (`what`, at `at`) as `T`. A value of the wrong
/// shape is a problem that names the field, by its path from `at`.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    value: &Value,
    what: &str,
    at: &str,
) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let path = error.path().to_string();
        let field = match (at, path.as_str()) {
            ("", ".") => "the top".to_owned(),
            (at, ".") => at.to_owned(),
            ("", path) => path.to_owned(),
            (at, path) => format!("{at}.{path}"),
        };
        let mut problem = format!("{what} cannot be read at {field}: {}", error.inner());
        if let Some((cut, _)) = problem.char_indices().nth(PROBLEM_CHARS) {
            problem.truncate(cut);
            problem.push('…');
        }
        problem
    })
}

/// The `Records` of an S3, SNS or SQS event, each read on its own, so that one malformed
/// record fails only itself.
#[derive(serde::Deserialize)]
pub(crate) struct Records {
    /// The records, not yet read.
    #[serde(rename = "Records")]
    pub records: Vec<Value>,
}

/// The `eventSource` of a record (`EventSource` in SNS records), if it has one.
pub(crate) fn record_source(record: &Value) -> Option<&str> {
    record
        .get("eventSource")
        .or_else(|| record.get("EventSource"))?
        .as_str()
}

/// The JSON type of a value, in words, for messages.
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_form_url_decoded_once() {
        for (raw, decoded) in [
            ("photo+1.jpg", "photo 1.jpg"),
            ("photo%201.jpg", "photo 1.jpg"),
            ("caf%C3%A9.jpg", "café.jpg"),
            ("a%2Bb.jpg", "a+b.jpg"),
            ("a%252B.jpg", "a%2B.jpg"),
            ("plain/key.png", "plain/key.png"),
        ] {
            assert_eq!(decode_key(raw).as_deref(), Ok(decoded), "{raw}");
        }
        for bad in ["100%.jpg", "a%2.jpg", "a%zz.jpg", "%C3%28.jpg", "%"] {
            assert!(decode_key(bad).is_err(), "{bad}");
        }
    }
}
