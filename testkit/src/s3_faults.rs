//! A fault-injecting proxy in front of moto's S3 server: requests go through unchanged,
//! except those of an operation told to fail, which get an S3 XML error instead, and a
//! request told to race, before which another client's upload lands. Once told to
//! enforce the function's policy, it adds the IAM rules of S3 that moto lacks (see
//! `testkit::iam`) to the function's requests, and records the actions they needed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use super::endpoint::read_request;

/// An S3 operation, as told from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    HeadObject,
    ListObjectVersions,
    GetObjectTagging,
    DeleteObject,
    GetBucketNotificationConfiguration,
    GetBucketLifecycleConfiguration,
}

/// The operation of a request, by its method and subresource, as each operation's Request
/// Syntax gives them (`GET /?versions`,
/// https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html;
/// `GET /{Key}?tagging`, https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html;
/// `HEAD /{Key}`, https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
fn operation_of(method: &str, target: &str) -> Option<Operation> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    let has = |name: &str| super::iam::has_param(query, name);
    match method {
        "GET" if has("notification") => Some(Operation::GetBucketNotificationConfiguration),
        "GET" if has("lifecycle") => Some(Operation::GetBucketLifecycleConfiguration),
        "HEAD" => Some(Operation::HeadObject),
        "GET" if has("versions") => Some(Operation::ListObjectVersions),
        "GET" if has("tagging") => Some(Operation::GetObjectTagging),
        "DELETE" => Some(Operation::DeleteObject),
        _ => None,
    }
}

/// A running proxy; stops when dropped.
pub struct S3Faults {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3`.
    pub url: String,
    faults: Arc<Mutex<Vec<(Operation, u16)>>>,
    races: Races,
    enforcement: Arc<Mutex<Option<Enforcement>>>,
    requests: Requests,
    task: tokio::task::JoinHandle<()>,
}

/// How many requests of each operation went through (`HeadObject`, or the method of an
/// operation the proxy does not tell).
type Requests = Arc<Mutex<std::collections::BTreeMap<String, usize>>>;

/// The function's policy, whose requests it applies to, and what they needed so far.
struct Enforcement {
    policy: super::iam::Policy,
    access_key_id: String,
    /// Signs the racing uploads, once moto checks every signature.
    admin: aws_sdk_s3::Client,
    used: std::collections::BTreeSet<String>,
    /// Each 403 the function got (the request, and why).
    denied: Vec<String>,
}

/// (operation, `/bucket/key`, body, tagging): the next such request of that path is
/// preceded by an upload of the body with those tags.
type Races = Arc<Mutex<Vec<(Operation, String, String, String)>>>;

impl Drop for S3Faults {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl S3Faults {
    /// Proxies to the S3 server at `upstream` (`http://127.0.0.1:<port>`).
    pub async fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .parse()
            .expect("an address");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let faults: Arc<Mutex<Vec<(Operation, u16)>>> = Arc::default();
        let races: Races = Arc::default();
        let enforcement: Arc<Mutex<Option<Enforcement>>> = Arc::default();
        let requests: Requests = Arc::default();
        let (rules, uploads, iam, counts) = (
            Arc::clone(&faults),
            Arc::clone(&races),
            Arc::clone(&enforcement),
            Arc::clone(&requests),
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(
                    client,
                    upstream,
                    Arc::clone(&rules),
                    Arc::clone(&uploads),
                    Arc::clone(&iam),
                    Arc::clone(&counts),
                ));
            }
        });
        Self {
            url,
            faults,
            races,
            enforcement,
            requests,
            task,
        }
    }

    /// The requests that went through since the last call, by operation; counting starts
    /// again from nothing.
    pub fn take_requests(&self) -> std::collections::BTreeMap<String, usize> {
        std::mem::take(&mut *self.requests.lock().unwrap())
    }

    /// Applies to the requests signed with `access_key_id` (the function's) the rules of
    /// `policy` that moto does not enforce itself (`Moto::enforce` does the rest). Racing
    /// uploads are signed by `admin` from then on.
    pub fn enforce(
        &self,
        policy: &super::iam::Policy,
        access_key_id: &str,
        admin: aws_sdk_s3::Client,
    ) {
        *self.enforcement.lock().unwrap() = Some(Enforcement {
            policy: policy.clone(),
            access_key_id: access_key_id.to_owned(),
            admin,
            used: Default::default(),
            denied: Vec::new(),
        });
    }

    /// Each 403 the function's requests got so far: the request, and what denied it.
    pub fn denied(&self) -> Vec<String> {
        self.enforcement
            .lock()
            .unwrap()
            .as_ref()
            .map(|e| e.denied.clone())
            .unwrap_or_default()
    }

    /// The IAM actions that the function's requests needed so far, as AWS authorizes
    /// them (`s3:ListBucket` for each read of a missing key, which it decides 403 or 404).
    pub fn used_actions(&self) -> std::collections::BTreeSet<String> {
        self.enforcement
            .lock()
            .unwrap()
            .as_ref()
            .map(|e| e.used.clone())
            .unwrap_or_default()
    }

    /// Before the next `operation` on `path` (`/bucket/key`, as the request names it),
    /// uploads `body` under that key: a re-upload that lands between two of the function's
    /// calls (its HeadObject and its GetObjectTagging, or its read and its delete).
    /// `tagging` is the upload's `x-amz-tagging` (`k=v&k2=v2`), or empty.
    pub fn upload_before(&self, operation: Operation, path: &str, body: &str, tagging: &str) {
        self.races.lock().unwrap().push((
            operation,
            path.to_owned(),
            body.to_owned(),
            tagging.to_owned(),
        ));
    }

    /// From now on, `operation` answers HTTP `status` (403 AccessDenied, 500 InternalError).
    pub fn fail(&self, operation: Operation, status: u16) {
        self.faults.lock().unwrap().push((operation, status));
    }

    /// Lets every operation through again.
    pub fn heal(&self) {
        self.faults.lock().unwrap().clear();
    }
}

async fn relay(
    client: TcpStream,
    upstream: SocketAddr,
    faults: Arc<Mutex<Vec<(Operation, u16)>>>,
    races: Races,
    enforcement: Arc<Mutex<Option<Enforcement>>>,
    requests: Requests,
) {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        let operation = operation_of(&request.method, &request.target);
        let name = operation.map_or_else(|| request.method.clone(), |o| format!("{o:?}"));
        *requests.lock().unwrap().entry(name).or_default() += 1;
        if let Some(operation) = operation {
            let path = request.target.split('?').next().unwrap_or_default();
            let race = {
                let mut races = races.lock().unwrap();
                let at = races
                    .iter()
                    .position(|(o, p, ..)| *o == operation && p == path);
                at.map(|at| races.remove(at))
            };
            if let Some((_, path, body, tagging)) = race {
                let admin = enforcement
                    .lock()
                    .unwrap()
                    .as_ref()
                    .map(|e| e.admin.clone());
                match admin {
                    Some(admin) => signed_upload(&admin, &path, &body, &tagging).await,
                    None => upload(upstream, &path, &body, &tagging).await,
                }
            }
        }
        let fault = operation.and_then(|op| {
            faults
                .lock()
                .unwrap()
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, status)| *status)
        });
        let response = match (fault, refused_version_id(&request.target)) {
            (Some(status), _) => error_response(&request.method, status),
            (None, Some(_)) => error_response(&request.method, 400),
            (None, None) => {
                let needs = function_needs(&request, &enforcement);
                let denied = needs
                    .as_ref()
                    .and_then(|needs| authorize(&request, needs, &enforcement));
                match denied {
                    Some(denied) => denied,
                    None => match (forward(&request, upstream).await, &needs) {
                        (Some(bytes), Some(needs)) => {
                            missing_key_rule(&request, needs, bytes, &enforcement)
                        }
                        (Some(bytes), None) => bytes,
                        (None, _) => return,
                    },
                }
            }
        };
        if write.write_all(&response).await.is_err() {
            return;
        }
    }
}

/// S3's answer to a version id it could not have given: 400 `InvalidArgument` ("Invalid
/// version id specified"), where moto answers 404 as if it were one that does not exist.
/// AWS lists `InvalidArgument` (400) among S3's errors
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html) without the rule;
/// real S3 answers it to an empty or malformed `versionId` of HeadObject, GetObjectTagging
/// and DeleteObject, and to a malformed `version-id-marker` of ListObjectVersions (observed,
/// not documented: a 404 `NoSuchVersion` is only for a well-formed id). A well-formed
/// marker that names no version (S3 answers 400 too, also observed) is passed to moto: the
/// function never lists from a marker it has not just seen listed. This refusal is checked
/// before the IAM rules; AWS documents neither order.
fn refused_version_id(target: &str) -> Option<String> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = super::sigv4::percent_decode(value);
        match name {
            "versionId" | "version-id-marker" if !well_formed_version_id(&value) => Some(value),
            _ => None,
        }
    })
}

/// `null` (the version of an object written before versioning:
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/manage-objects-versioned-bucket.html)
/// or a UUID, which is moto's format, not S3's: S3 documents its version ids only as opaque
/// and URL-safe (https://docs.aws.amazon.com/AmazonS3/latest/userguide/AddingObjectstoVersioningEnabledBuckets.html).
fn well_formed_version_id(id: &str) -> bool {
    let hex_groups: Vec<&str> = id.split('-').collect();
    id == "null"
        || (hex_groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && hex_groups
                .iter()
                .all(|g| g.chars().all(|c| c.is_ascii_hexdigit())))
}

/// An S3 error answer: 400 InvalidArgument, 403 AccessDenied, else 500 InternalError, in
/// S3's XML error body (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html),
/// and no body to a HEAD, whose errors carry only a status
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html).
fn error_response(method: &str, status: u16) -> Vec<u8> {
    let (code, reason) = match status {
        400 => ("InvalidArgument", "Bad Request"),
        403 => ("AccessDenied", "Forbidden"),
        _ => ("InternalError", "Internal Server Error"),
    };
    let body = if method == "HEAD" {
        String::new()
    } else {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{code} (test harness)</Message><RequestId>HARNESS</RequestId></Error>")
    };
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nx-amz-request-id: HARNESS\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// The access key id a request is signed with.
fn signer(request: &super::endpoint::Request) -> Option<&str> {
    let authorization = request.header("authorization")?;
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split('/').next()
}

/// What S3 asks of one of the function's requests (`iam::s3_actions`): `None` for a
/// request of another client, or while no policy is enforced.
fn function_needs(
    request: &super::endpoint::Request,
    enforcement: &Mutex<Option<Enforcement>>,
) -> Option<(Vec<String>, String)> {
    let enforcement = enforcement.lock().unwrap();
    if signer(request) != Some(enforcement.as_ref()?.access_key_id.as_str()) {
        return None;
    }
    let needs =
        super::iam::s3_actions(&request.method, &request.target, request.header("if-match"));
    Some(needs.unwrap_or_else(|| {
        panic!(
            "the function sent an unclassified S3 request: {} {}",
            request.method, request.target
        )
    }))
}

/// Records the actions a request of the function needs, and answers 403 `AccessDenied`
/// where AWS asks for an action that moto does not check (`iam::moto_action` is the one it
/// checks) and the policy does not allow it: without an allow, IAM denies
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html).
fn authorize(
    request: &super::endpoint::Request,
    (actions, resource): &(Vec<String>, String),
    enforcement: &Mutex<Option<Enforcement>>,
) -> Option<Vec<u8>> {
    let mut enforcement = enforcement.lock().unwrap();
    let e = enforcement.as_mut()?;
    e.used.extend(actions.iter().cloned());
    let moto_checks = super::iam::moto_action(&request.method, &request.target);
    let denied = actions
        .iter()
        .filter(|a| Some(*a) != moto_checks.as_ref())
        .find(|a| !e.policy.allows(a, resource))?;
    e.denied
        .push(format!("{} {}: {denied}", request.method, request.target));
    Some(error_response(&request.method, 403))
}

/// S3's rule for a read of a key that does not exist: 404 only to a caller allowed
/// `s3:ListBucket` on the bucket, 403 AccessDenied to any other
/// (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, and the same on
/// API_GetObject.html). Records every 403 the function gets, whoever denied it.
fn missing_key_rule(
    request: &super::endpoint::Request,
    (actions, resource): &(Vec<String>, String),
    response: Vec<u8>,
    enforcement: &Mutex<Option<Enforcement>>,
) -> Vec<u8> {
    let mut enforcement = enforcement.lock().unwrap();
    let Some(e) = enforcement.as_mut() else {
        return response;
    };
    if response.starts_with(b"HTTP/1.1 403") {
        e.denied.push(format!(
            "{} {}: denied by moto",
            request.method, request.target
        ));
        return response;
    }
    // HeadObject and GetObject, of a version or not: the reads whose first action is
    // s3:GetObject (a tag read's is s3:GetObjectTagging).
    let is_object_read = matches!(request.method.as_str(), "HEAD" | "GET")
        && actions.first().map(String::as_str) == Some("s3:GetObject");
    if !is_object_read || !response.starts_with(b"HTTP/1.1 404") {
        return response;
    }
    e.used.insert("s3:ListBucket".into());
    let bucket = resource
        .trim_start_matches("arn:aws:s3:::")
        .split('/')
        .next()
        .unwrap_or_default();
    if e.policy
        .allows("s3:ListBucket", &format!("arn:aws:s3:::{bucket}"))
    {
        response
    } else {
        e.denied.push(format!(
            "{} {}: a missing key without s3:ListBucket",
            request.method, request.target
        ));
        error_response(&request.method, 403)
    }
}

/// Another client's PutObject of `body` at `path`, signed by an administrator.
async fn signed_upload(admin: &aws_sdk_s3::Client, path: &str, body: &str, tagging: &str) {
    let (bucket, key) = path
        .trim_start_matches('/')
        .split_once('/')
        .expect("/bucket/key");
    let key = super::sigv4::percent_decode(key);
    admin
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .set_tagging((!tagging.is_empty()).then(|| tagging.to_owned()))
        .send()
        .await
        .expect("the racing upload");
}

/// Another client's PutObject of `body` at `path`, straight to the upstream.
async fn upload(upstream: SocketAddr, path: &str, body: &str, tagging: &str) {
    let mut put = super::endpoint::Request {
        method: "PUT".into(),
        target: path.to_owned(),
        headers: vec![
            ("host".into(), upstream.to_string()),
            ("content-length".into(), body.len().to_string()),
            // moto takes any credentials, but not none.
            (
                "authorization".into(),
                "AWS4-HMAC-SHA256 Credential=racer/20260101/us-east-1/s3/aws4_request, \
                 SignedHeaders=host, Signature=0"
                    .into(),
            ),
            ("x-amz-content-sha256".into(), "UNSIGNED-PAYLOAD".into()),
        ],
        body: body.as_bytes().to_vec(),
    };
    if !tagging.is_empty() {
        put.headers
            .push(("x-amz-tagging".into(), tagging.to_owned()));
    }
    let response = forward(&put, upstream).await.expect("the racing upload");
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "the racing upload failed: {}",
        String::from_utf8_lossy(&response)
    );
}

/// Sends the request upstream on a fresh connection (`Connection: close`) and returns the
/// whole response.
async fn forward(request: &super::endpoint::Request, upstream: SocketAddr) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(upstream).await.ok()?;
    let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        if !name.eq_ignore_ascii_case("connection") {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str("connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(&request.body).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    // The client keeps its connection to the proxy: drop the upstream's close.
    Some(strip_connection_close(response))
}

fn strip_connection_close(response: Vec<u8>) -> Vec<u8> {
    let Some(end) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
        return response;
    };
    let head = String::from_utf8_lossy(&response[..end]).into_owned();
    let kept: Vec<&str> = head
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let mut out = kept.join("\r\n").into_bytes();
    out.extend_from_slice(&response[end..]);
    out
}
