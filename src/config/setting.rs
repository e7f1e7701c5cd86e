//! Reading one environment variable into a setting. Each variable's name is written once,
//! where it is read, and each error names it.

use std::ops::RangeInclusive;

use super::ConfigError;
use crate::ids::PhoneNumberId;

/// The environment, through a lookup that returns a variable's value if it is set.
pub(super) struct Env<F>(pub(super) F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// The variable `name`. An empty one counts as unset, as the AWS SDKs and Lambda's
    /// console treat it.
    pub(super) fn get(&self, name: &'static str) -> Setting {
        Setting {
            name,
            value: (self.0)(name).filter(|v| !v.trim().is_empty()),
        }
    }
}

/// One variable's name and value, if it is set.
pub(super) struct Setting {
    name: &'static str,
    value: Option<String>,
}

impl Setting {
    fn error(&self, problem: impl Into<String>) -> ConfigError {
        ConfigError::new(self.name, problem)
    }

    /// `true` or `false`, in any case.
    pub(super) fn bool_or(self, default: bool) -> Result<bool, ConfigError> {
        match self.value.as_deref().map(str::trim) {
            None => Ok(default),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(true),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.error(format!("expected `true` or `false`, got {v:?}"))),
        }
    }

    /// A whole number within `range`.
    pub(super) fn number(self, range: RangeInclusive<u64>) -> Result<Option<u64>, ConfigError> {
        let Some(value) = &self.value else {
            return Ok(None);
        };
        let number: u64 = value
            .trim()
            .parse()
            .map_err(|_| self.error(format!("expected a whole number, got {value:?}")))?;
        if !range.contains(&number) {
            return Err(self.error(format!(
                "must be between {} and {}, got {number}",
                range.start(),
                range.end()
            )));
        }
        Ok(Some(number))
    }

    /// A whole number within `range`, `default` when unset.
    pub(super) fn number_or(
        self,
        default: u64,
        range: RangeInclusive<u64>,
    ) -> Result<u64, ConfigError> {
        Ok(self.number(range)?.unwrap_or(default))
    }

    /// An http(s) URL with a host, without a trailing `/`.
    pub(super) fn url(self) -> Result<Option<String>, ConfigError> {
        let Some(value) = &self.value else {
            return Ok(None);
        };
        let value = value.trim().trim_end_matches('/').to_owned();
        match reqwest::Url::parse(&value) {
            Ok(url) if matches!(url.scheme(), "http" | "https") && url.host_str().is_some() => {
                Ok(Some(value))
            }
            _ => Err(self.error(format!(
                "expected an http(s) URL such as https://host:port, got {value:?}"
            ))),
        }
    }

    /// An S3 general purpose bucket's name: 3 to 63 lower-case letters, digits, `.` and
    /// `-`, beginning and ending with a letter or digit.
    pub(super) fn bucket_name(self) -> Result<Option<String>, ConfigError> {
        let Some(value) = &self.value else {
            return Ok(None);
        };
        let name = value.trim();
        let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        let valid = (3..=63).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && edge(name.as_bytes().first())
            && edge(name.as_bytes().last());
        if !valid {
            return Err(self.error(format!(
                "expected an S3 bucket name (3 to 63 lower-case letters, digits, `.` and `-`), got {value:?}"
            )));
        }
        Ok(Some(name.to_owned()))
    }

    /// A key prefix ending in `/` (added when missing), from `default` when unset: at most
    /// 512 bytes, without control characters, not starting with `/`.
    pub(super) fn key_prefix_or(self, default: &str) -> Result<String, ConfigError> {
        let value = self.value.as_deref().unwrap_or(default).trim();
        if value.len() > 512 || value.starts_with('/') || value.chars().any(char::is_control) {
            return Err(self.error(format!(
                "expected a key prefix of at most 512 bytes, without control characters, not starting with `/`, got {value:?}"
            )));
        }
        Ok(if value.ends_with('/') {
            value.to_owned()
        } else {
            format!("{value}/")
        })
    }

    /// A valid phone number id.
    pub(super) fn phone_number_id(self) -> Result<Option<PhoneNumberId>, ConfigError> {
        self.value
            .as_deref()
            .map(|v| PhoneNumberId::parse(v.trim()).map_err(|e| self.error(e.to_string())))
            .transpose()
    }

    /// A name that serves for metadata and tags: (the metadata name, the tag key), from
    /// `default` when unset. S3 returns user-metadata names in lower case without
    /// `x-amz-meta-` (either form is accepted here), while tag keys are case-sensitive, so
    /// the tag key is the name as written, trimmed and without the prefix.
    pub(super) fn names_or(self, default: &str) -> Result<(String, String), ConfigError> {
        let value = self.value.as_deref().unwrap_or(default);
        let trimmed = value.trim();
        let name = match trimmed.get(..11) {
            Some(prefix) if prefix.eq_ignore_ascii_case("x-amz-meta-") => &trimmed[11..],
            _ => trimmed,
        };
        let valid = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !valid {
            return Err(self.error(format!(
                "expected a metadata name of letters, digits, `-`, `_` or `.`, got {value:?}"
            )));
        }
        Ok((name.to_ascii_lowercase(), name.to_owned()))
    }

    /// A regex with a named group `mediaId` (and, optionally, `originationPhoneNumberId`).
    pub(super) fn key_pattern(self) -> Result<Option<regex_lite::Regex>, ConfigError> {
        let Some(pattern) = &self.value else {
            return Ok(None);
        };
        let regex = regex_lite::Regex::new(pattern)
            .map_err(|e| self.error(format!("not a valid regex: {e}")))?;
        if !regex.capture_names().flatten().any(|n| n == "mediaId") {
            return Err(self.error("needs a named group `(?P<mediaId>...)`"));
        }
        Ok(Some(regex))
    }
}
