//! A fault-injecting proxy in front of moto's S3 server: requests go through unchanged,
//! except those of an operation told to fail, which get an S3 XML error instead, and a
//! request told to race, before which another client's upload lands.

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
}

fn operation_of(method: &str, target: &str) -> Option<Operation> {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    match method {
        "HEAD" => Some(Operation::HeadObject),
        "GET"
            if query
                .split('&')
                .any(|p| p == "versions" || p.starts_with("versions=")) =>
        {
            Some(Operation::ListObjectVersions)
        }
        "GET"
            if query
                .split('&')
                .any(|p| p == "tagging" || p.starts_with("tagging=")) =>
        {
            Some(Operation::GetObjectTagging)
        }
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
    task: tokio::task::JoinHandle<()>,
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
        let (rules, uploads) = (Arc::clone(&faults), Arc::clone(&races));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                tokio::spawn(relay(
                    client,
                    upstream,
                    Arc::clone(&rules),
                    Arc::clone(&uploads),
                ));
            }
        });
        Self {
            url,
            faults,
            races,
            task,
        }
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
) {
    let (read, mut write) = client.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        if let Some(operation) = operation_of(&request.method, &request.target) {
            let path = request.target.split('?').next().unwrap_or_default();
            let race = {
                let mut races = races.lock().unwrap();
                let at = races
                    .iter()
                    .position(|(o, p, ..)| *o == operation && p == path);
                at.map(|at| races.remove(at))
            };
            if let Some((_, path, body, tagging)) = race {
                upload(upstream, &path, &body, &tagging).await;
            }
        }
        let fault = operation_of(&request.method, &request.target).and_then(|op| {
            faults
                .lock()
                .unwrap()
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, status)| *status)
        });
        let response = match fault {
            Some(status) => {
                let (code, reason) = if status == 403 {
                    ("AccessDenied", "Forbidden")
                } else {
                    ("InternalError", "Internal Server Error")
                };
                let body = if request.method == "HEAD" {
                    String::new()
                } else {
                    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>injected {code}</Message><RequestId>FAULT</RequestId></Error>")
                };
                format!(
                    "HTTP/1.1 {status} {reason}\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nx-amz-request-id: FAULT\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            }
            None => match forward(&request, upstream).await {
                Some(bytes) => bytes,
                None => return,
            },
        };
        if write.write_all(&response).await.is_err() {
            return;
        }
    }
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
