//! A local social-messaging endpoint for tests and the demo.
//!
//! It speaks HTTP/1.1 with keep-alive over a raw TCP socket, checks each request's SigV4
//! signature from the request line and headers exactly as received (rejecting a mismatch
//! with 403 `InvalidSignatureException`, as AWS does), validates the parameters like the
//! service, and answers DeleteWhatsAppMessageMedia: `{"success": true}` the first time a
//! media id is deleted, `ResourceNotFoundException` after that. Tests can script other
//! replies per media id and read back every request it saw. It also answers
//! PostWhatsAppMessageMedia (an upload from S3) with a new media id, so that the documented
//! upload-then-record-the-ids steps run against it as written, and
//! GetLinkedWhatsAppBusinessAccountPhoneNumber (`GET /v1/whatsapp/waba/phone/details?id=`),
//! with the phone number's details.
//!
//! Every phone number id exists but those a test [`LocalEndpoint::unlink`]s. For such a
//! number both calls answer 404 `ResourceNotFoundException`, as the service documents one
//! 404 for either call whichever resource is missing: a DELETE cannot tell an unknown phone
//! number from media that is gone.
//!
//! The parameters' constraints and errors are the API reference's
//! (https://docs.aws.amazon.com/social-messaging/latest/APIReference/API_DeleteWhatsAppMessageMedia.html,
//! and API_PostWhatsAppMessageMedia.html beside it), but for the phone number id's length:
//! 115, the service's current model, where the page says 100 (docs/contract.md, section
//! 2). Errors travel as restJson1 says, in `x-amzn-ErrorType`
//! (https://smithy.io/2.0/aws/protocols/aws-restjson1-protocol.html). The default quota is
//! 100 requests a second (https://docs.aws.amazon.com/social-messaging/latest/userguide/quotas.html).
//! The answer to an unknown route (404 `UnknownOperationException`) is observed, not
//! documented.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::sigv4::{self, Credential, Expectation};

/// The signing name the endpoint expects.
pub const SERVICE: &str = "social-messaging";

/// A reply the endpoint gives instead of its default behaviour.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP response.
    Http {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request and never answer.
    Hang,
    /// Close the connection without answering.
    Close,
    /// Send the status line, headers and part of the body, then reset the connection.
    Truncated,
}

impl Reply {
    /// `{"success": true}`.
    pub fn success() -> Self {
        Self::body(200, r#"{"success":true}"#)
    }

    /// A restJson1 error with `x-amzn-ErrorType` and a JSON message.
    pub fn error(status: u16, code: &str, message: &str) -> Self {
        Self::Http {
            status,
            headers: vec![("x-amzn-ErrorType".into(), code.into())],
            body: serde_json::json!({ "message": message }).to_string(),
        }
    }

    /// Any status with any body and no error code.
    pub fn body(status: u16, body: &str) -> Self {
        Self::Http {
            status,
            headers: vec![],
            body: body.into(),
        }
    }
}

/// One request, as the endpoint received it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// The request-target exactly as sent: path and raw query.
    pub target: String,
    pub headers: Vec<(String, String)>,
    /// `Ok` when the SigV4 signature checked out, else the AWS error code.
    pub signature: Result<(), String>,
    /// The operation, by its route: `DeleteWhatsAppMessageMedia`,
    /// `PostWhatsAppMessageMedia`, `GetLinkedWhatsAppBusinessAccountPhoneNumber`, or
    /// `None` for a route the service does not have.
    pub operation: Option<&'static str>,
    /// Decoded parameters (the phone number's `id` of a GET is its `phone_number_id`).
    pub media_id: Option<String>,
    pub phone_number_id: Option<String>,
    /// The `x-amzn-RequestId` the endpoint answered with (`None` for hang and close).
    pub request_id: Option<String>,
    /// The status the endpoint answered with (`None` for hang and close).
    pub status: Option<u16>,
    /// When the request was answered.
    pub at: std::time::Instant,
}

impl Seen {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// A token bucket like the service's own throttling: `rate` requests a second, `burst` at once.
struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: std::time::Instant,
}

impl TokenBucket {
    fn take(&mut self) -> bool {
        let now = std::time::Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.rate;
        self.tokens = (self.tokens + refill).min(self.burst);
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct State {
    bucket: Mutex<Option<TokenBucket>>,
    throttled: AtomicUsize,
    credentials: Vec<Credential>,
    region: String,
    latency: Duration,
    scripts: Mutex<HashMap<String, VecDeque<Reply>>>,
    deleted: Mutex<HashSet<String>>,
    unlinked: Mutex<HashSet<String>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    connections: AtomicUsize,
    request_ids: AtomicU64,
}

/// A running endpoint. It stops when dropped.
pub struct LocalEndpoint {
    pub addr: SocketAddr,
    state: Arc<State>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for LocalEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LocalEndpoint {
    /// Starts on 127.0.0.1 (`port` 0 picks a free one), accepting `credentials` in `region`.
    pub async fn start(
        port: u16,
        credentials: Vec<Credential>,
        region: &str,
        latency: Duration,
    ) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(State {
            bucket: Mutex::default(),
            throttled: AtomicUsize::new(0),
            credentials,
            region: region.into(),
            latency,
            scripts: Mutex::default(),
            deleted: Mutex::default(),
            unlinked: Mutex::default(),
            seen: Mutex::default(),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            request_ids: AtomicU64::new(1),
        });
        let accept_state = Arc::clone(&state);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                accept_state.connections.fetch_add(1, Ordering::Relaxed);
                tokio::spawn(serve(stream, Arc::clone(&accept_state)));
            }
        });
        Ok(Self { addr, state, task })
    }

    /// The base URL, for `AWS_ENDPOINT_URL_SOCIALMESSAGING`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replies for the next requests about `media_id`, in order; then the default again.
    pub fn script(&self, media_id: &str, replies: impl IntoIterator<Item = Reply>) {
        self.state
            .scripts
            .lock()
            .unwrap()
            .entry(media_id.into())
            .or_default()
            .extend(replies);
    }

    /// Replies for the next GetLinkedWhatsAppBusinessAccountPhoneNumber requests about
    /// `phone_number_id`, in order; then the default again.
    pub fn script_phone(&self, phone_number_id: &str, replies: impl IntoIterator<Item = Reply>) {
        self.script(&format!("phone:{phone_number_id}"), replies);
    }

    /// Makes `phone_number_id` one that does not exist (a typo, a number since removed):
    /// both calls answer 404 `ResourceNotFoundException` for it.
    pub fn unlink(&self, phone_number_id: &str) {
        self.state
            .unlinked
            .lock()
            .unwrap()
            .insert(phone_number_id.into());
    }

    /// The requests seen so far of `operation`.
    pub fn seen_of(&self, operation: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.operation == Some(operation))
            .collect()
    }

    /// Every request seen so far, in order of arrival.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The media id of every request seen so far, in order of arrival.
    pub fn media_ids_seen(&self) -> Vec<String> {
        self.seen().into_iter().filter_map(|s| s.media_id).collect()
    }

    /// The requests seen for one media id.
    pub fn seen_for(&self, media_id: &str) -> Vec<Seen> {
        self.seen()
            .into_iter()
            .filter(|s| s.media_id.as_deref() == Some(media_id))
            .collect()
    }

    /// Throttles (429 `ThrottledRequestException`) above `rate` requests a second, with
    /// `burst` allowed at once, as the service enforces its quota.
    pub fn throttle_above(&self, rate: f64, burst: f64) {
        *self.state.bucket.lock().unwrap() = Some(TokenBucket {
            rate,
            burst,
            tokens: burst,
            last: std::time::Instant::now(),
        });
    }

    /// Requests throttled so far.
    pub fn throttled(&self) -> usize {
        self.state.throttled.load(Ordering::Relaxed)
    }

    /// The most requests that were being answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.state.max_in_flight.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.state.connections.load(Ordering::Relaxed)
    }
}

/// An HTTP/1.1 request as read from the socket.
pub struct Request {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// The value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Reads one request (request line, headers, `Content-Length` body); `None` at EOF.
pub async fn read_request(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
) -> Option<Request> {
    let mut line = String::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await.ok()? == 0 {
            return None;
        }
        if !line.trim().is_empty() {
            break;
        }
    }
    let mut parts = line.trim_end().splitn(3, ' ');
    let (method, target) = (parts.next()?.to_owned(), parts.next()?.to_owned());
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).await.ok()? == 0 {
            return None;
        }
        let header = header.trim_end_matches(['\r', '\n']);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':')?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let length = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.ok()?;
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

async fn serve(stream: TcpStream, state: Arc<State>) {
    // One write per response and no Nagle delay, so that the endpoint adds no latency of
    // its own on reused connections.
    let _ = stream.set_nodelay(true);
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        let now = state.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        state.max_in_flight.fetch_max(now, Ordering::SeqCst);
        if !state.latency.is_zero() {
            tokio::time::sleep(state.latency).await;
        }
        let (reply, request_id) = state.answer(&request);
        state.in_flight.fetch_sub(1, Ordering::SeqCst);
        match reply {
            Reply::Http {
                status,
                headers,
                body,
            } => {
                let mut response = format!(
                    "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-amzn-RequestId: {request_id}\r\n",
                    reason(status),
                    body.len()
                );
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                if write.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
            Reply::Hang => {
                // Hold the connection until the client gives up and closes it.
                let mut sink = [0u8; 64];
                while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Reply::Close => return,
            Reply::Truncated => {
                let partial = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"succ";
                let _ = write.write_all(partial.as_bytes()).await;
                return;
            }
        }
    }
}

/// The details the service gives of a phone number that exists (asked by its id or ARN):
/// its `phone-number-id-` form and its ARN.
fn phone_details(asked: &str) -> Reply {
    let number = asked
        .rsplit_once("phone-number-id/")
        .or_else(|| asked.rsplit_once("phone-number-id-"))
        .map_or(asked, |(_, id)| id);
    Reply::body(
        200,
        &serde_json::json!({
            "linkedWhatsAppBusinessAccountId": "waba-0123456789abcdef0123456789abcdef",
            "phoneNumber": {"phoneNumberId": format!("phone-number-id-{number}"),
                            "arn": format!("arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/{number}"),
                            "metaPhoneNumberId": "123456789012345",
                            "phoneNumber": "+15555550100", "displayPhoneNumber": "+1 555-555-0100",
                            "displayPhoneNumberName": "Example", "qualityRating": "GREEN"}
        })
        .to_string(),
    )
}

impl State {
    /// The reply to `request`, and the request id it carries.
    fn answer(&self, request: &Request) -> (Reply, String) {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.request_ids.fetch_add(1, Ordering::Relaxed)
        );
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let signature = sigv4::verify(
            &request.method,
            &request.target,
            &request.headers,
            &request.body,
            &Expectation {
                credentials: &self.credentials,
                region: &self.region,
                service: SERVICE,
                now_epoch_secs: now,
            },
        );
        let (path, query) = request
            .target
            .split_once('?')
            .unwrap_or((&request.target, ""));
        let param = |name: &str| {
            query.split('&').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                (k == name).then(|| sigv4::percent_decode(v))
            })
        };
        let mut media_id = param("mediaId");
        let mut phone_number_id = param("originationPhoneNumberId");
        let upload = request.method == "POST" && path == "/v1/whatsapp/media";
        let details = request.method == "GET" && path == "/v1/whatsapp/waba/phone/details";
        let operation = match (request.method.as_str(), path) {
            ("DELETE", "/v1/whatsapp/media") => Some("DeleteWhatsAppMessageMedia"),
            ("POST", "/v1/whatsapp/media") => Some("PostWhatsAppMessageMedia"),
            ("GET", "/v1/whatsapp/waba/phone/details") => {
                Some("GetLinkedWhatsAppBusinessAccountPhoneNumber")
            }
            _ => None,
        };
        if details {
            phone_number_id = param("id");
        }
        let unlinked = phone_number_id
            .as_ref()
            .is_some_and(|p| self.unlinked.lock().unwrap().contains(p));
        if upload {
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
            phone_number_id = body["originationPhoneNumberId"].as_str().map(str::to_owned);
            media_id = Some(format!(
                "uploaded{:08}",
                self.request_ids.fetch_add(1, Ordering::Relaxed)
            ));
        }

        let reply = if let Err(rejection) = &signature {
            Reply::error(403, rejection.code, &rejection.message)
        } else if let Some(scripted) = details
            .then(|| {
                let key = format!("phone:{}", phone_number_id.as_deref().unwrap_or_default());
                self.scripts
                    .lock()
                    .unwrap()
                    .get_mut(&key)
                    .and_then(VecDeque::pop_front)
            })
            .flatten()
        {
            scripted
        } else if details {
            match phone_number_id.as_deref() {
                Some(id) if !unlinked && invalid_params(Some("m"), Some(id)).is_none() => {
                    phone_details(id)
                }
                Some(_) if !unlinked => Reply::error(400, "ValidationException", "id"),
                _ => Reply::error(404, "ResourceNotFoundException", "Resource not found"),
            }
        } else if upload {
            upload_reply(
                &request.body,
                media_id.as_deref(),
                phone_number_id.as_deref(),
            )
        } else if request.method != "DELETE" || path != "/v1/whatsapp/media" {
            Reply::error(404, "UnknownOperationException", "unknown operation")
        } else if let Some(problem) =
            invalid_params(media_id.as_deref(), phone_number_id.as_deref())
        {
            Reply::error(400, "ValidationException", &problem)
        } else if unlinked {
            Reply::error(404, "ResourceNotFoundException", "Resource not found")
        } else if !self
            .bucket
            .lock()
            .unwrap()
            .as_mut()
            .is_none_or(TokenBucket::take)
        {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            Reply::error(429, "ThrottledRequestException", "Rate exceeded")
        } else {
            let media_id = media_id.clone().unwrap_or_default();
            let scripted = self
                .scripts
                .lock()
                .unwrap()
                .get_mut(&media_id)
                .and_then(VecDeque::pop_front);
            scripted.unwrap_or_else(|| {
                if self.deleted.lock().unwrap().insert(media_id) {
                    Reply::success()
                } else {
                    Reply::error(404, "ResourceNotFoundException", "Media not found")
                }
            })
        };

        self.seen.lock().unwrap().push(Seen {
            method: request.method.clone(),
            target: request.target.clone(),
            headers: request.headers.clone(),
            signature: signature.map_err(|r| r.code.to_owned()),
            operation,
            media_id,
            phone_number_id,
            status: match &reply {
                Reply::Http { status, .. } => Some(*status),
                _ => None,
            },
            request_id: matches!(reply, Reply::Http { .. }).then(|| request_id.clone()),
            at: std::time::Instant::now(),
        });
        (reply, request_id)
    }
}

/// PostWhatsAppMessageMedia: exactly one source, a valid phone number id; the new media id.
fn upload_reply(body: &[u8], media_id: Option<&str>, phone: Option<&str>) -> Reply {
    let body: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let sources = ["sourceS3File", "sourceS3PresignedUrl"]
        .iter()
        .filter(|s| body.get(**s).is_some())
        .count();
    let file_ok = body.get("sourceS3PresignedUrl").is_some()
        || (body["sourceS3File"]["bucketName"].is_string()
            && body["sourceS3File"]["key"].is_string());
    if sources != 1 || !file_ok {
        return Reply::error(
            400,
            "InvalidParametersException",
            "give exactly one of sourceS3File {bucketName, key} and sourceS3PresignedUrl",
        );
    }
    match invalid_params(media_id, phone) {
        Some(problem) => Reply::error(400, "ValidationException", &problem),
        None => Reply::body(200, &serde_json::json!({ "mediaId": media_id }).to_string()),
    }
}

/// The service's own parameter checks, so a client that sent a bad id would be caught here.
fn invalid_params(media_id: Option<&str>, phone: Option<&str>) -> Option<String> {
    let media_ok = media_id.is_some_and(|m| {
        (1..=100).contains(&m.len()) && m.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    let phone_ok = phone.is_some_and(|p| {
        (1..=115).contains(&p.chars().count())
            && (p.starts_with("phone-number-id-")
                || (p.starts_with("arn:") && p.contains(":phone-number-id/")))
    });
    match (media_ok, phone_ok) {
        (true, true) => None,
        (false, _) => Some(format!("1 validation error detected: mediaId {media_id:?}")),
        (_, false) => Some(format!(
            "1 validation error detected: originationPhoneNumberId {phone:?}"
        )),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
