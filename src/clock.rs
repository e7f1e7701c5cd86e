//! Wall-clock time as AWS writes it: RFC 3339 in UTC, to the millisecond. The erasure
//! ledger dates its records so, and Lambda's log-level filter takes a log line's
//! `timestamp` only in this form.

use std::time::SystemTime;

use aws_sdk_s3::primitives::{DateTime, DateTimeFormat};

/// `time` as RFC 3339 in UTC, always to the millisecond (`2026-12-07T04:07:51.120Z`), so
/// that times sort as text.
pub fn rfc3339(time: SystemTime) -> String {
    let millis = DateTime::from(time).to_millis().unwrap_or_default();
    let seconds = DateTime::from_secs(millis.div_euclid(1000))
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default();
    format!(
        "{}.{:03}Z",
        seconds.trim_end_matches('Z'),
        millis.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;

    #[test]
    fn times_are_utc_to_the_millisecond() {
        let at = UNIX_EPOCH + Duration::from_nanos(1_796_616_471_123_456_789);
        assert_eq!(rfc3339(at), "2026-12-07T04:07:51.123Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_millis(1_796_616_471_120)),
            "2026-12-07T04:07:51.120Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_796_616_471)),
            "2026-12-07T04:07:51.000Z"
        );
    }
}
