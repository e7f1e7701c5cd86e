//! The real [`MediaApi`]: a pooled HTTPS client that signs each DELETE with SigV4 and retries
//! with jittered exponential backoff, never past the Lambda deadline.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use aws_credential_types::provider::SharedCredentialsProvider;
use backon::{ExponentialBuilder, Retryable};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use reqwest::header::HOST;
use serde::Deserialize;

use super::adaptive::AdaptiveRate;
use super::credentials::CachedCredentials;
use super::rate::RequestRate;
use super::response::{self, RawResponse};
use super::signing::{Signer, SERVICE_NAME};
use super::{DeleteReport, MediaApi, MediaError, MediaGone};
use crate::config::{self, Endpoint, Endpoints, MediaApiSettings};
use crate::deadline::REPORT_MARGIN;
use crate::ids::{MediaId, PhoneNumberId};

/// An attempt with less time than this would only produce a timeout: it is not started.
const MIN_ATTEMPT: Duration = Duration::from_millis(100);
/// First backoff delay; it doubles per retry, with jitter, up to [`MAX_DELAY`].
const BASE_DELAY: Duration = Duration::from_millis(100);
const MAX_DELAY: Duration = Duration::from_secs(2);

/// RFC 3986 unreserved characters stay; everything else is percent-encoded, as SigV4's
/// canonical query requires. ARNs therefore travel with `%3A` and `%2F`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Why the client could not be built at start-up. Each names the real cause.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTPS client could not be built: most often, no root certificates were found.
    #[error("the HTTPS client could not be built: {0}")]
    Https(String),
}

impl ClientError {
    fn https(error: reqwest::Error) -> Self {
        let mut message = error_chain(&error);
        if message.to_ascii_lowercase().contains("certificate") {
            message.push_str(
                " (no root CA certificates could be loaded: install the ca-certificates package \
                 in the image, or point SSL_CERT_FILE at a PEM bundle)",
            );
        }
        Self::Https(message)
    }
}

/// An error and all of its sources, `: `-separated.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// Deletes WhatsApp media through AWS End User Messaging Social. Built once per cold start.
#[derive(Debug)]
pub struct WhatsAppClient {
    http: reqwest::Client,
    /// Where the function's own Region's requests go, signed for it.
    home: Route,
    /// How other Regions' endpoints are found (a phone-number ARN of another Region).
    endpoints: Endpoints,
    credentials: CachedCredentials,
    backoff: ExponentialBuilder,
    adaptive: AdaptiveRate,
    rate: Option<RequestRate>,
    request_timeout: Duration,
    /// What the service said of each phone number asked about: for [`PHONE_ANSWER_TTL`],
    /// items ask no more (those in flight together wait for the one lookup).
    phones: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<PhoneAnswer>>>>>,
}

impl WhatsAppClient {
    /// Builds the client from its settings, whose home endpoint is resolved already. Does
    /// no I/O: credentials are resolved on first use.
    pub fn new(
        settings: MediaApiSettings,
        credentials: SharedCredentialsProvider,
    ) -> Result<Self, ClientError> {
        let endpoints = settings.endpoints;
        let home = Route::new(&endpoints.home_region, endpoints.home.clone());
        let http = reqwest::Client::builder()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            // A redirect would re-send the DELETE, session token included, to another
            // host; a 3xx is an UnexpectedResponse instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(ClientError::https)?;
        Ok(Self {
            http,
            home,
            endpoints,
            credentials: CachedCredentials::new(credentials),
            backoff: ExponentialBuilder::default()
                .with_jitter()
                .with_min_delay(BASE_DELAY)
                .with_max_delay(MAX_DELAY)
                .with_max_times(settings.max_attempts.saturating_sub(1) as usize),
            adaptive: AdaptiveRate::new(
                settings.max_requests_per_second.map(|n| f64::from(n.get())),
            ),
            rate: settings
                .max_requests_per_second
                .map(RequestRate::per_second),
            request_timeout: settings.request_timeout,
            phones: Mutex::default(),
        })
    }

    /// Where the DELETE for `phone_number_id` goes: the Region a phone-number ARN names
    /// (its phone number and media live there), else the function's own. An endpoint URL
    /// that is set always wins.
    fn route(&self, phone_number_id: &PhoneNumberId) -> Result<Cow<'_, Route>, MediaError> {
        let elsewhere = phone_number_id
            .region()
            .and_then(|region| Some((region, self.endpoints.elsewhere(region)?)));
        match elsewhere {
            Some((region, Ok(endpoint))) => Ok(Cow::Owned(Route::new(region, endpoint))),
            Some((_, Err(e))) => Err(MediaError::Network(format!(
                "no endpoint for the ARN's Region: {e}"
            ))),
            None => Ok(Cow::Borrowed(&self.home)),
        }
    }

    /// The request URL, with the query in canonical form (sorted, strictly encoded).
    fn media_url(route: &Route, media_id: &MediaId, phone_number_id: &PhoneNumberId) -> String {
        format!(
            "{}?mediaId={}&originationPhoneNumberId={}",
            route.endpoint.media_url,
            utf8_percent_encode(media_id.as_str(), QUERY_VALUE),
            utf8_percent_encode(phone_number_id.as_str(), QUERY_VALUE),
        )
    }

    /// How long an attempt started at `start` may take, or `None` if it could not finish
    /// before `deadline` less the margin to report.
    fn attempt_timeout(&self, start: Instant, deadline: Instant) -> Option<Duration> {
        let budget = deadline
            .checked_duration_since(start)?
            .checked_sub(REPORT_MARGIN)?;
        (budget >= MIN_ATTEMPT).then(|| budget.min(self.request_timeout))
    }

    /// The signed request: what may fail before anything is sent (credentials, signing).
    async fn signed_request(
        &self,
        method: reqwest::Method,
        route: &Route,
        url: &str,
        timeout: Duration,
    ) -> Result<reqwest::RequestBuilder, MediaError> {
        let credentials = self.credentials.get().await?;
        let signed = route
            .signer
            .sign(
                method.as_str(),
                url,
                &route.endpoint.host,
                &credentials,
                SystemTime::now(),
            )
            .map_err(|e| {
                MediaError::Credentials(format!("the request could not be signed: {e}"))
            })?;
        let mut request = self
            .http
            .request(method, url)
            .timeout(timeout)
            .header(HOST, &route.endpoint.host);
        for (name, value) in signed.headers {
            request = request.header(name, value);
        }
        if let Some(trace_id) = config::trace_id() {
            request = request.header(TRACE_ID_HEADER, trace_id);
        }
        Ok(request)
    }

    /// Sends one signed DELETE, without retries, and reads the answer, with its request id
    /// when the service sent one.
    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> (Result<MediaGone, MediaError>, Option<String>) {
        match Answered::receive(request, timeout).await {
            Ok(answer) => (response::interpret(answer.raw()), answer.request_id),
            Err(error) => (Err(error), None),
        }
    }
}

/// What came back for one request: its status, the headers that matter, and its body.
struct Answered {
    status: u16,
    /// The `x-amzn-ErrorType` header.
    error_type: Option<String>,
    /// The `x-amzn-RequestId` header.
    request_id: Option<String>,
    body: Vec<u8>,
}

impl Answered {
    /// Sends `request` and reads the whole answer, within `timeout`.
    async fn receive(
        request: reqwest::RequestBuilder,
        timeout: Duration,
    ) -> Result<Self, MediaError> {
        let response = request
            .send()
            .await
            .map_err(|e| transport_error(e, timeout))?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (status, error_type) = (response.status().as_u16(), header("x-amzn-ErrorType"));
        let request_id = header("x-amzn-RequestId");
        let body = response
            .bytes()
            .await
            .map_err(|e| transport_error(e, timeout))?;
        Ok(Self {
            status,
            error_type,
            request_id,
            body: body.to_vec(),
        })
    }

    /// The answer as the restJson1 reader takes it.
    fn raw(&self) -> RawResponse<'_> {
        RawResponse {
            status: self.status,
            error_type: self.error_type.as_deref(),
            request_id: self.request_id.clone(),
            body: &self.body,
        }
    }
}

impl MediaApi for WhatsAppClient {
    async fn delete_media(
        &self,
        media_id: &MediaId,
        phone_number_id: &PhoneNumberId,
        deadline: Instant,
    ) -> DeleteReport {
        let route = match self.route(phone_number_id) {
            Ok(route) => route,
            Err(error) => return Tally::default().report(Err(error)),
        };
        let call = Call {
            url: Self::media_url(&route, media_id, phone_number_id),
            route: &route,
            deadline,
        };
        let tally = Mutex::new(Tally::default());
        let result = self
            .retried(
                || self.attempt(&call, &tally),
                "DeleteWhatsAppMessageMedia",
                media_id.as_str(),
                deadline,
            )
            .await;
        let mut tally = tally.into_inner().unwrap_or_default();
        let result = match result {
            Ok(MediaGone::Already) => {
                let confirmed = self.confirm_gone(&route, phone_number_id, deadline).await;
                // A lookup that decided the outcome is its evidence.
                if let Err(e) = &confirmed {
                    tally.request_id = e.request_id().map(str::to_owned);
                }
                confirmed
            }
            other => other,
        };
        tally.report(result)
    }
}

/// How long an instance trusts what the service said of a phone number: a number removed
/// from the account since is asked about again within this time.
const PHONE_ANSWER_TTL: Duration = Duration::from_secs(300);

/// What GetLinkedWhatsAppBusinessAccountPhoneNumber said of a phone number, and when.
#[derive(Debug, Clone)]
struct PhoneAnswer {
    exists: bool,
    /// The answer's `x-amzn-RequestId`.
    request_id: Option<String>,
    at: Instant,
}

/// The part of GetLinkedWhatsAppBusinessAccountPhoneNumber's answer that names the number.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneDetails {
    phone_number: PhoneNumberDetails,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhoneNumberDetails {
    phone_number_id: Option<String>,
    arn: Option<String>,
}

/// The id part of a phone number id or ARN (`phone-number-id-<id>`,
/// `arn:...:phone-number-id/<id>`): the same number, whichever form names it.
fn number_part(phone: &str) -> &str {
    phone
        .rsplit_once("phone-number-id/")
        .or_else(|| phone.rsplit_once("phone-number-id-"))
        .map_or(phone, |(_, id)| id)
}

impl WhatsAppClient {
    /// `ResourceNotFoundException` proves the media gone only if its phone number exists:
    /// the service documents one 404 whichever resource is missing. So such an answer asks
    /// GetLinkedWhatsAppBusinessAccountPhoneNumber (with the same retries, rate gates and
    /// deadline), unless the instance asked about the number within [`PHONE_ANSWER_TTL`].
    async fn confirm_gone(
        &self,
        route: &Route,
        phone_number_id: &PhoneNumberId,
        deadline: Instant,
    ) -> Result<MediaGone, MediaError> {
        let phone = phone_number_id.as_str();
        let slot = self
            .phones
            .lock()
            .map(|mut phones| Arc::clone(phones.entry(phone.to_owned()).or_default()))
            .unwrap_or_default();
        let mut known = slot.lock().await;
        let fresh = known
            .as_ref()
            .filter(|answer| answer.at.elapsed() < PHONE_ANSWER_TTL)
            .cloned();
        let answer = match fresh {
            Some(answer) => answer,
            None => {
                let answer = self
                    .look_up_phone(route, phone, deadline)
                    .await
                    .map_err(|e| e.in_phone_lookup(phone))?;
                *known = Some(answer.clone());
                answer
            }
        };
        drop(known);
        if answer.exists {
            return Ok(MediaGone::Already);
        }
        Err(MediaError::UnknownPhoneNumber {
            message: format!(
                "DeleteWhatsAppMessageMedia answered ResourceNotFoundException, and phone number {phone} does not exist (GetLinkedWhatsAppBusinessAccountPhoneNumber): the media was not proven gone, and its object is kept. Check the phone number id the object records, or DEFAULT_ORIGINATION_PHONE_NUMBER_ID"
            ),
            request_id: answer.request_id,
        })
    }

    /// GetLinkedWhatsAppBusinessAccountPhoneNumber for `phone`, retried as a DELETE is.
    async fn look_up_phone(
        &self,
        route: &Route,
        phone: &str,
        deadline: Instant,
    ) -> Result<PhoneAnswer, MediaError> {
        let url = format!(
            "{}?id={}",
            route.endpoint.phone_url,
            utf8_percent_encode(&lookup_id(phone), QUERY_VALUE)
        );
        self.retried(
            || self.phone_exists(route, &url, phone, deadline),
            "GetLinkedWhatsAppBusinessAccountPhoneNumber",
            phone,
            deadline,
        )
        .await
    }

    /// One GetLinkedWhatsAppBusinessAccountPhoneNumber, after a turn under the same rate
    /// gates as a DELETE: the number exists when the answer names it (a 2xx that does not
    /// is no proof, and fails), and does not on the service's own 404.
    async fn phone_exists(
        &self,
        route: &Route,
        url: &str,
        phone: &str,
        deadline: Instant,
    ) -> Result<PhoneAnswer, MediaError> {
        self.wait_turn(deadline).await?;
        let timeout = self
            .attempt_timeout(Instant::now(), deadline)
            .ok_or_else(|| MediaError::Timeout("no time left before the Lambda deadline".into()))?;
        let request = self
            .signed_request(reqwest::Method::GET, route, url, timeout)
            .await?;
        let answered = Answered::receive(request, timeout).await?;
        let (status, request_id) = (answered.status, answered.request_id.clone());
        let answer = |exists| PhoneAnswer {
            exists,
            request_id: request_id.clone(),
            at: Instant::now(),
        };
        if (200..300).contains(&status) {
            let named = serde_json::from_slice::<PhoneDetails>(&answered.body)
                .ok()
                .is_some_and(|d| {
                    let number = d.phone_number;
                    [number.phone_number_id, number.arn]
                        .iter()
                        .flatten()
                        .any(|named| number_part(named) == number_part(phone))
                });
            if named {
                return Ok(answer(true));
            }
            return Err(MediaError::UnexpectedResponse {
                status,
                message: "the answer does not name the phone number asked about".into(),
                request_id,
            });
        }
        // The service's own 404 is the one answer that says the number does not exist.
        response::interpret(answered.raw()).map(|_| answer(false))
    }
}

/// The longest `id` GetLinkedWhatsAppBusinessAccountPhoneNumber takes (its API reference).
const LOOKUP_ID_CHARS: usize = 100;

/// The id to ask GetLinkedWhatsAppBusinessAccountPhoneNumber about: the phone number id
/// as given, but for an ARN longer than the call takes (a 32-character id in a Region such
/// as `ap-northeast-1`), which is asked about in its short form, `phone-number-id-<id>`.
fn lookup_id(phone: &str) -> Cow<'_, str> {
    match phone.rsplit_once(":phone-number-id/") {
        Some((_, id)) if phone.chars().count() > LOOKUP_ID_CHARS => {
            Cow::Owned(format!("phone-number-id-{id}"))
        }
        _ => Cow::Borrowed(phone),
    }
}

impl WhatsAppClient {
    /// Runs `attempt` of `operation` (about `subject`, for the log) with jittered backoff,
    /// retrying what can be retried, up to `MAX_ATTEMPTS` tries; a retry that could not
    /// finish before `deadline` is not waited for.
    async fn retried<T, Fut>(
        &self,
        attempt: impl FnMut() -> Fut,
        operation: &'static str,
        subject: &str,
        deadline: Instant,
    ) -> Result<T, MediaError>
    where
        Fut: std::future::Future<Output = Result<T, MediaError>>,
    {
        attempt
            .retry(self.backoff)
            .sleep(tokio::time::sleep)
            .when(MediaError::retryable)
            .adjust(|_, delay| {
                delay.filter(|d| {
                    self.attempt_timeout(Instant::now() + *d, deadline)
                        .is_some()
                })
            })
            .notify(|error, delay| {
                tracing::debug!(
                    operation,
                    subject,
                    error_type = error.error_type(),
                    delay_ms = delay.as_millis() as u64,
                    "retrying"
                );
            })
            .await
    }
}

/// One deletion's request: where it goes, and by when it must be answered.
struct Call<'a> {
    route: &'a Route,
    url: String,
    deadline: Instant,
}

/// What the attempts of one deletion measured.
#[derive(Debug, Default)]
struct Tally {
    attempts: u32,
    throttles: u32,
    latencies: Vec<Duration>,
    /// The request id of the last answer.
    request_id: Option<String>,
}

impl Tally {
    fn report(self, result: Result<MediaGone, MediaError>) -> DeleteReport {
        DeleteReport {
            result,
            attempts: self.attempts,
            latencies: self.latencies,
            throttles: self.throttles,
            request_id: self.request_id,
        }
    }
}

impl WhatsAppClient {
    /// One attempt: a turn under both rates, the signed request, and its answer, which the
    /// adaptive rate learns from.
    async fn attempt(
        &self,
        call: &Call<'_>,
        tally: &Mutex<Tally>,
    ) -> Result<MediaGone, MediaError> {
        self.wait_turn(call.deadline).await?;
        let timeout = self
            .attempt_timeout(Instant::now(), call.deadline)
            .ok_or_else(|| {
                MediaError::Timeout(
                    "no time left before the Lambda deadline to start an attempt".into(),
                )
            })?;
        // Only a request that goes on the wire is an attempt, and only its round trip is a
        // latency: a credentials or signing failure is neither.
        let request = self
            .signed_request(reqwest::Method::DELETE, call.route, &call.url, timeout)
            .await?;
        let sent = Instant::now();
        let (result, request_id) = self.send(request, timeout).await;
        // Only an answer teaches the rate: a throttle lowers it, anything else lets it grow.
        // A timeout or a dropped connection says nothing about the quota.
        let answered = match &result {
            Ok(_) => Some(false),
            Err(e) => e.http_status().map(|_| e.is_throttle()),
        };
        if let Some(throttled) = answered {
            self.adaptive.on_response(throttled, sent);
        }
        if let Ok(mut tally) = tally.lock() {
            tally.attempts += 1;
            tally.latencies.push(sent.elapsed());
            tally.throttles += u32::from(answered == Some(true));
            tally.request_id = request_id;
        }
        result
    }

    /// Waits for this request's turn under MAX_REQUESTS_PER_SECOND, then at the instance's
    /// adaptive rate (shared by all its items, retries included). A turn that comes too late
    /// to finish before the deadline is not waited for. The adaptive rate is the last gate,
    /// so that a cut holds back every request not yet sent.
    async fn wait_turn(&self, deadline: Instant) -> Result<(), MediaError> {
        let latest_start = deadline
            .checked_sub(REPORT_MARGIN + MIN_ATTEMPT)
            .unwrap_or_else(Instant::now);
        if let Some(rate) = &self.rate {
            if !rate.wait_until_ready(latest_start).await {
                return Err(MediaError::Timeout(
                    "MAX_REQUESTS_PER_SECOND leaves no turn before the Lambda deadline".into(),
                ));
            }
        }
        if !self.adaptive.acquire(latest_start).await {
            return Err(MediaError::Timeout(
                "the adaptive rate, lowered by throttles, leaves no turn before the Lambda deadline"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// An endpoint and the signer for its Region.
#[derive(Debug, Clone)]
struct Route {
    endpoint: Endpoint,
    signer: Signer,
}

impl Route {
    fn new(region: &str, endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            signer: Signer::new(region, SERVICE_NAME),
        }
    }
}

fn transport_error(error: reqwest::Error, timeout: Duration) -> MediaError {
    if error.is_timeout() {
        return MediaError::Timeout(format!(
            "no complete response within {} ms",
            timeout.as_millis()
        ));
    }
    MediaError::Network(error_chain(&error.without_url()))
}

/// The header that carries the invocation's X-Ray trace id, as the AWS SDKs send it.
const TRACE_ID_HEADER: &str = "x-amzn-trace-id";

#[cfg(test)]
mod tests {
    use aws_credential_types::Credentials;

    use super::*;

    fn client(vars: &[(&str, &str)], region: &str) -> WhatsAppClient {
        let vars: std::collections::HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let config = crate::config::Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let credentials = Credentials::new("AKID", "secret", None, None, "test");
        WhatsAppClient::new(
            config.media_api(region).unwrap(),
            SharedCredentialsProvider::new(credentials),
        )
        .unwrap()
    }

    fn phone(id: &str) -> PhoneNumberId {
        PhoneNumberId::parse(id).unwrap()
    }

    #[test]
    fn an_arn_of_another_region_is_sent_there_and_signed_for_it() {
        let client = client(&[], "us-east-1");
        let tokyo =
            phone("arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/abc");
        let route = client.route(&tokyo).unwrap();
        assert_eq!(route.signer.region(), "ap-northeast-1");
        assert_eq!(
            route.endpoint.host,
            "social-messaging.ap-northeast-1.amazonaws.com"
        );
        // Signed for that Region: its credential scope names it.
        let url = WhatsAppClient::media_url(&route, &MediaId::parse("m").unwrap(), &tokyo);
        let signed = route
            .signer
            .sign(
                "DELETE",
                &url,
                &route.endpoint.host,
                &Credentials::new("AKID", "secret", None, None, "test"),
                SystemTime::now(),
            )
            .unwrap();
        let authorization = signed
            .headers
            .iter()
            .find(|(name, _)| *name == "authorization")
            .map(|(_, value)| value.clone())
            .unwrap();
        assert!(
            authorization.contains("/ap-northeast-1/social-messaging/aws4_request"),
            "{authorization}"
        );
        assert!(url.starts_with(
            "https://social-messaging.ap-northeast-1.amazonaws.com/v1/whatsapp/media?"
        ));
        // Another partition's Region gets its own domain.
        let beijing =
            phone("arn:aws-cn:social-messaging:cn-north-1:123456789012:phone-number-id/abc");
        assert_eq!(
            client.route(&beijing).unwrap().endpoint.host,
            "social-messaging.cn-north-1.amazonaws.com.cn"
        );
        // The function's own Region, and plain ids, go home.
        let home = phone("arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/abc");
        assert_eq!(client.route(&home).unwrap().signer.region(), "us-east-1");
        assert_eq!(
            client
                .route(&phone("phone-number-id-abc"))
                .unwrap()
                .signer
                .region(),
            "us-east-1"
        );
    }

    #[test]
    fn a_phone_number_is_the_same_whichever_form_names_it() {
        let id = "0123456789abcdef0123456789abcdef";
        let arn = format!("arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/{id}");
        assert_eq!(number_part(&arn), id);
        assert_eq!(number_part(&format!("phone-number-id-{id}")), id);
        assert_ne!(
            number_part("phone-number-id-abc"),
            number_part("phone-number-id-abd")
        );
    }

    #[test]
    fn a_phone_number_arn_too_long_for_the_lookup_is_asked_about_in_its_short_form() {
        let short = "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/abc";
        assert_eq!(lookup_id(short), short);
        assert_eq!(lookup_id("phone-number-id-abc"), "phone-number-id-abc");
        let id = "0123456789abcdef0123456789abcdef";
        let long =
            format!("arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/{id}");
        assert!(long.len() > LOOKUP_ID_CHARS);
        assert_eq!(lookup_id(&long), format!("phone-number-id-{id}"));
    }

    #[test]
    fn fips_holds_for_other_regions_and_an_endpoint_url_always_wins() {
        let tokyo =
            phone("arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/abc");
        let fips = client(&[("AWS_USE_FIPS_ENDPOINT", "true")], "us-east-1");
        assert_eq!(
            fips.route(&tokyo).unwrap().endpoint.host,
            "social-messaging-fips.ap-northeast-1.amazonaws.com"
        );
        let local = client(
            &[("AWS_ENDPOINT_URL_SOCIALMESSAGING", "http://127.0.0.1:4566")],
            "us-east-1",
        );
        let route = local.route(&tokyo).unwrap();
        assert_eq!(route.endpoint.host, "127.0.0.1:4566");
        assert_eq!(route.signer.region(), "us-east-1");
    }
}
