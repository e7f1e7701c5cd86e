//! The one home of configuration: every setting read from the environment once, at
//! start-up (contract, section 7), the empty-means-unset rule, where the social-messaging
//! API is ([`endpoint`]), and the safety switches that no event can undo.
//!
//! A bad value fails the start-up with a message that names the variable, so that a
//! misconfigured deployment shows up at its first cold start rather than as odd results.

pub mod endpoint;
mod setting;

use std::time::Duration;

use thiserror::Error;

use crate::ids::PhoneNumberId;
pub use endpoint::Endpoint;
use setting::Env;

/// A setting that could not be used. The message names the variable and the value's problem.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    /// The environment variable at fault.
    pub variable: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// Where the social-messaging API is, as configured (resolved against the region later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSettings {
    /// `AWS_ENDPOINT_URL_SOCIALMESSAGING`, else `AWS_ENDPOINT_URL`.
    pub url_override: Option<String>,
    /// `AWS_USE_FIPS_ENDPOINT=true`.
    pub use_fips: bool,
}

/// Everything the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to send DeleteWhatsAppMessageMedia.
    pub endpoint: EndpointSettings,
    /// `DEFAULT_ORIGINATION_PHONE_NUMBER_ID`: used when an item names no phone number id.
    pub default_phone_number_id: Option<PhoneNumberId>,
    /// `DRY_RUN`: when true, no event can make the function send a DELETE.
    pub dry_run: bool,
    /// `DELETE_S3_OBJECT`: when false, no event can make the function delete an S3 object.
    pub delete_s3_object: bool,
    /// `MEDIA_ID_METADATA_KEY`: the user-metadata name (no `x-amz-meta-`, lower case) that
    /// holds the media id.
    pub media_id_metadata_key: String,
    /// `PHONE_NUMBER_ID_METADATA_KEY`: the user-metadata name that holds the phone number id.
    pub phone_number_id_metadata_key: String,
    /// The tag key that holds the media id: `MEDIA_ID_METADATA_KEY` as written (trimmed,
    /// without `x-amz-meta-`). Tag keys are case-sensitive; metadata names are not.
    pub media_id_tag_key: String,
    /// The tag key that holds the phone number id: `PHONE_NUMBER_ID_METADATA_KEY` as written.
    pub phone_number_id_tag_key: String,
    /// `MEDIA_KEY_PATTERN`: a regex over the decoded key with a named group `mediaId` and,
    /// optionally, `originationPhoneNumberId`.
    pub media_key_pattern: Option<regex_lite::Regex>,
    /// `MAX_CONCURRENCY`: items of one event processed at once.
    pub max_concurrency: usize,
    /// `MAX_REQUESTS_PER_SECOND`: requests sent per second by this instance, retries
    /// included; `None` for no limit.
    pub max_requests_per_second: Option<std::num::NonZeroU32>,
    /// `MAX_ATTEMPTS`: tries per API call, counting the first.
    pub max_attempts: u32,
    /// `REQUEST_TIMEOUT_MS`: the longest one attempt may take.
    pub request_timeout: Duration,
    /// Where the erasure ledger's records go: `None` without `ERASURE_LEDGER_BUCKET`.
    pub ledger: Option<LedgerSettings>,
}

/// Where the erasure ledger writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerSettings {
    /// `ERASURE_LEDGER_BUCKET`.
    pub bucket: String,
    /// `ERASURE_LEDGER_PREFIX` (default `erasures/`), ending in `/`.
    pub prefix: String,
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads settings through `lookup`, which returns a variable's value if it is set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(lookup);
        let url_override = match env.get("AWS_ENDPOINT_URL_SOCIALMESSAGING").url()? {
            Some(url) => Some(url),
            None => env.get("AWS_ENDPOINT_URL").url()?,
        };
        let default_phone_number_id = env
            .get("DEFAULT_ORIGINATION_PHONE_NUMBER_ID")
            .phone_number_id()?;
        let (media_id_metadata_key, media_id_tag_key) = env
            .get("MEDIA_ID_METADATA_KEY")
            .names_or("whatsapp-media-id")?;
        let (phone_number_id_metadata_key, phone_number_id_tag_key) = env
            .get("PHONE_NUMBER_ID_METADATA_KEY")
            .names_or("whatsapp-origination-phone-number-id")?;
        Ok(Self {
            endpoint: EndpointSettings {
                url_override,
                use_fips: env.get("AWS_USE_FIPS_ENDPOINT").bool_or(false)?,
            },
            default_phone_number_id,
            dry_run: env.get("DRY_RUN").bool_or(false)?,
            delete_s3_object: env.get("DELETE_S3_OBJECT").bool_or(true)?,
            media_id_metadata_key,
            phone_number_id_metadata_key,
            media_id_tag_key,
            phone_number_id_tag_key,
            media_key_pattern: env.get("MEDIA_KEY_PATTERN").key_pattern()?,
            max_concurrency: env.get("MAX_CONCURRENCY").number_or(16, 1..=1000)? as usize,
            max_requests_per_second: env
                .get("MAX_REQUESTS_PER_SECOND")
                .number(1..=10_000)?
                .and_then(|n| std::num::NonZeroU32::new(n as u32)),
            max_attempts: env.get("MAX_ATTEMPTS").number_or(3, 1..=10)? as u32,
            request_timeout: Duration::from_millis(
                env.get("REQUEST_TIMEOUT_MS").number_or(5000, 1..=900_000)?,
            ),
            ledger: match env.get("ERASURE_LEDGER_BUCKET").bucket_name()? {
                Some(bucket) => Some(LedgerSettings {
                    bucket,
                    prefix: env
                        .get("ERASURE_LEDGER_PREFIX")
                        .key_prefix_or("erasures/")?,
                }),
                None => None,
            },
        })
    }
}

impl Config {
    /// How a custom event or a Batch Operations job runs: what it asks for, less what the
    /// safety switches forbid. `DRY_RUN=true` and `DELETE_S3_OBJECT=false` win over any
    /// event.
    pub fn run_options(&self, dry_run: bool, delete_objects: bool) -> RunOptions {
        RunOptions {
            dry_run: self.dry_run || dry_run,
            objects: if self.delete_s3_object && delete_objects {
                ObjectPolicy::Delete
            } else {
                ObjectPolicy::Keep
            },
        }
    }

    /// How a notification (S3, SNS, EventBridge, SQS) runs: it reports a deletion that
    /// already happened, so its object is not the function's to delete.
    pub fn notification_options(&self) -> RunOptions {
        RunOptions {
            dry_run: self.dry_run,
            objects: ObjectPolicy::NotOurs,
        }
    }

    /// What the WhatsApp client needs, and nothing else: its retry, rate and timeout
    /// settings, and the endpoints for `region` (the function's own), resolved now.
    pub fn media_api(&self, region: &str) -> Result<MediaApiSettings, ConfigError> {
        Ok(MediaApiSettings {
            endpoints: Endpoints::new(self.endpoint.clone(), region)?,
            max_attempts: self.max_attempts,
            max_requests_per_second: self.max_requests_per_second,
            request_timeout: self.request_timeout,
        })
    }
}

/// What happens to the S3 object of an item after its media is gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectPolicy {
    /// The event reports a deletion that already happened: nothing to do, nothing reported.
    NotOurs,
    /// Deletion was not asked for (or was switched off): reported as `kept`.
    Keep,
    /// Delete exactly the version whose metadata was read.
    Delete,
}

/// How the items of one event run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Resolve and validate, send nothing.
    pub dry_run: bool,
    /// What becomes of each item's S3 object.
    pub objects: ObjectPolicy,
}

/// The WhatsApp client's settings.
#[derive(Debug, Clone)]
pub struct MediaApiSettings {
    /// Where requests go.
    pub endpoints: Endpoints,
    /// `MAX_ATTEMPTS`.
    pub max_attempts: u32,
    /// `MAX_REQUESTS_PER_SECOND`.
    pub max_requests_per_second: Option<std::num::NonZeroU32>,
    /// `REQUEST_TIMEOUT_MS`.
    pub request_timeout: Duration,
}

/// The endpoint of the function's own Region, resolved, and the rule for any other Region
/// a phone-number ARN names.
#[derive(Debug, Clone)]
pub struct Endpoints {
    settings: EndpointSettings,
    /// The function's own Region.
    pub home_region: String,
    pub home: Endpoint,
}

impl Endpoints {
    /// Resolves the endpoint of `home_region`.
    pub fn new(settings: EndpointSettings, home_region: &str) -> Result<Self, ConfigError> {
        Ok(Self {
            home: endpoint::resolve(&settings, home_region)?,
            home_region: home_region.to_owned(),
            settings,
        })
    }

    /// The endpoint for `region`, when a request must go there rather than home: never
    /// while an endpoint URL is set, since it always wins.
    pub fn elsewhere(&self, region: &str) -> Option<Result<Endpoint, ConfigError>> {
        (self.settings.url_override.is_none() && region != self.home_region)
            .then(|| endpoint::resolve(&self.settings, region))
    }
}

/// The function's name inside Lambda (`AWS_LAMBDA_FUNCTION_NAME`), `unknown` elsewhere.
pub fn function_name() -> String {
    std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "unknown".into())
}

/// An empty `AWS_ENDPOINT_URL*` means "not set", as everywhere in this function: the
/// template declares the endpoint variables empty, so that `sam local invoke --env-vars` can
/// point them at local servers. The AWS SDK would take "" for a URL and fail every S3 call,
/// so the empty ones are removed before it reads the environment. Call it at start-up,
/// before any other thread runs.
pub fn unset_empty_endpoint_urls() {
    for (name, value) in std::env::vars_os() {
        let is_endpoint = name
            .to_str()
            .is_some_and(|n| n.starts_with("AWS_ENDPOINT_URL"));
        if is_endpoint && value.to_str().is_some_and(|v| v.trim().is_empty()) {
            std::env::remove_var(name);
        }
    }
}

/// The invocation's trace id, as the AWS SDKs' recursion-detection step reads it: inside
/// Lambda (`AWS_LAMBDA_FUNCTION_NAME`), from `_X_AMZN_TRACE_ID`, which lambda_runtime sets
/// for each invocation. Control characters are percent-encoded, so that it is always a
/// valid header value.
pub fn trace_id() -> Option<String> {
    std::env::var_os("AWS_LAMBDA_FUNCTION_NAME")?;
    let trace_id = std::env::var("_X_AMZN_TRACE_ID").ok()?;
    Some(percent_encoding::utf8_percent_encode(&trace_id, percent_encoding::CONTROLS).collect())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_match_the_contract() {
        let c = config(&[]).unwrap();
        assert_eq!(c.max_concurrency, 16);
        assert_eq!(c.max_attempts, 3);
        assert_eq!(c.max_requests_per_second, None);
        assert_eq!(c.request_timeout, Duration::from_millis(5000));
        assert!(!c.dry_run);
        assert_eq!(c.endpoint.url_override, None);
        assert!(!c.endpoint.use_fips);
        assert_eq!(c.default_phone_number_id, None);
        assert!(c.delete_s3_object);
        assert_eq!(c.media_id_metadata_key, "whatsapp-media-id");
        assert_eq!(
            c.phone_number_id_metadata_key,
            "whatsapp-origination-phone-number-id"
        );
        assert!(c.media_key_pattern.is_none());
    }

    #[test]
    fn metadata_names_and_key_pattern() {
        let c = config(&[
            ("MEDIA_ID_METADATA_KEY", "X-Amz-Meta-Media"),
            ("PHONE_NUMBER_ID_METADATA_KEY", " Phone "),
            (
                "MEDIA_KEY_PATTERN",
                r"^media/(?P<mediaId>[A-Za-z0-9]+)\.\w+$",
            ),
            ("DELETE_S3_OBJECT", "false"),
        ])
        .unwrap();
        assert_eq!(c.media_id_metadata_key, "media");
        assert_eq!(c.phone_number_id_metadata_key, "phone");
        // Tag keys are case-sensitive: they are matched as written.
        assert_eq!(c.media_id_tag_key, "Media");
        assert_eq!(c.phone_number_id_tag_key, "Phone");
        assert!(!c.delete_s3_object);
        let caps = c
            .media_key_pattern
            .unwrap()
            .captures("media/abc123.jpg")
            .unwrap();
        assert_eq!(&caps["mediaId"], "abc123");
    }

    #[test]
    fn the_ledger_is_off_until_it_has_a_bucket() {
        assert_eq!(config(&[]).unwrap().ledger, None);
        assert_eq!(
            config(&[("ERASURE_LEDGER_PREFIX", "audit/")])
                .unwrap()
                .ledger,
            None
        );
        let on = |prefix: Option<&str>| {
            let mut vars = vec![("ERASURE_LEDGER_BUCKET", "erasure-ledger-1")];
            vars.extend(prefix.map(|p| ("ERASURE_LEDGER_PREFIX", p)));
            config(&vars).map(|c| c.ledger.unwrap())
        };
        assert_eq!(
            on(None).unwrap(),
            LedgerSettings {
                bucket: "erasure-ledger-1".into(),
                prefix: "erasures/".into()
            }
        );
        assert_eq!(
            on(Some("audit/whatsapp")).unwrap().prefix,
            "audit/whatsapp/"
        );
        for bad in ["Ledger", "ab", "-ledger", "ledger_1", "ledger-"] {
            let e = config(&[("ERASURE_LEDGER_BUCKET", bad)]).unwrap_err();
            assert_eq!(e.variable, "ERASURE_LEDGER_BUCKET", "{bad}");
        }
        for bad in ["/erasures/", "a\nb"] {
            assert_eq!(on(Some(bad)).unwrap_err().variable, "ERASURE_LEDGER_PREFIX");
        }
    }

    #[test]
    fn reads_every_setting() {
        let c = config(&[
            ("MAX_CONCURRENCY", "4"),
            ("MAX_ATTEMPTS", "5"),
            ("MAX_REQUESTS_PER_SECOND", "100"),
            ("REQUEST_TIMEOUT_MS", "250"),
            ("DRY_RUN", "TRUE"),
            ("AWS_USE_FIPS_ENDPOINT", "true"),
            ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", "phone-number-id-abc"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:1"),
            ("AWS_ENDPOINT_URL_SOCIALMESSAGING", "http://127.0.0.1:2/"),
        ])
        .unwrap();
        assert_eq!(c.max_concurrency, 4);
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.max_requests_per_second.map(|n| n.get()), Some(100));
        assert_eq!(c.request_timeout, Duration::from_millis(250));
        assert!(c.dry_run);
        assert!(c.endpoint.use_fips);
        assert_eq!(
            c.default_phone_number_id.unwrap().as_str(),
            "phone-number-id-abc"
        );
        // The service-specific variable wins over the global one.
        assert_eq!(
            c.endpoint.url_override.as_deref(),
            Some("http://127.0.0.1:2")
        );
    }

    #[test]
    fn global_endpoint_is_used_when_no_service_endpoint() {
        let c = config(&[("AWS_ENDPOINT_URL", "https://example.com")]).unwrap();
        assert_eq!(
            c.endpoint.url_override.as_deref(),
            Some("https://example.com")
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (var, value) in [
            ("MAX_CONCURRENCY", "0"),
            ("MAX_CONCURRENCY", "many"),
            ("MAX_ATTEMPTS", "-1"),
            ("MAX_ATTEMPTS", "11"),
            ("MAX_REQUESTS_PER_SECOND", "0"),
            ("MAX_REQUESTS_PER_SECOND", "fast"),
            ("REQUEST_TIMEOUT_MS", "1.5"),
            ("DRY_RUN", "yes"),
            ("AWS_USE_FIPS_ENDPOINT", "1"),
            ("DEFAULT_ORIGINATION_PHONE_NUMBER_ID", "+15551234567"),
            ("AWS_ENDPOINT_URL_SOCIALMESSAGING", "localhost:9000"),
            ("AWS_ENDPOINT_URL", "ftp://example.com"),
            ("DELETE_S3_OBJECT", "no"),
            ("MEDIA_ID_METADATA_KEY", "has space"),
            ("MEDIA_KEY_PATTERN", "(unclosed"),
            ("MEDIA_KEY_PATTERN", "^(?P<id>.*)$"),
        ] {
            let err = config(&[(var, value)]).unwrap_err();
            assert_eq!(err.variable, var);
            assert!(err.to_string().starts_with(&format!("{var}: ")), "{err}");
        }
    }

    #[test]
    fn the_safety_switches_win_over_any_event() {
        let open = config(&[]).unwrap();
        let safe = config(&[("DRY_RUN", "true"), ("DELETE_S3_OBJECT", "false")]).unwrap();
        for (event_dry_run, event_delete) in [(false, true), (true, false), (false, false)] {
            let options = safe.run_options(event_dry_run, event_delete);
            assert!(options.dry_run);
            assert_eq!(options.objects, ObjectPolicy::Keep);
        }
        assert_eq!(
            open.run_options(false, true),
            RunOptions {
                dry_run: false,
                objects: ObjectPolicy::Delete
            }
        );
        assert_eq!(open.run_options(true, false).objects, ObjectPolicy::Keep);
        assert!(open.run_options(true, true).dry_run);
        // A notification's object is never the function's to delete, dry run or not.
        assert_eq!(open.notification_options().objects, ObjectPolicy::NotOurs);
        assert!(safe.notification_options().dry_run);
    }

    #[test]
    fn empty_values_count_as_unset() {
        let c = config(&[("DRY_RUN", ""), ("MAX_ATTEMPTS", " ")]).unwrap();
        assert!(!c.dry_run);
        assert_eq!(c.max_attempts, 3);
    }
}
