//! A minimal Lambda Runtime API for the benchmark: it hands one event at a time to the
//! function and times, to the microsecond, how long the function takes to answer, and when
//! the function first asked for work (the end of its init).
//!
//! It serves the paths, headers (the deadline in Unix milliseconds) and 202 answers of
//! https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html, sets the reserved
//! variables of https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html,
//! and its Invoke API answers a function error with 200 and `X-Amz-Function-Error`, as
//! Lambda's Invoke does
//! (https://docs.aws.amazon.com/AWSJavaScriptSDK/v3/latest/clients/client-lambda/interfaces/invokecommandoutput.html).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

use super::endpoint::read_request;

/// What the function answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `/response`: the function's result.
    Response(Value),
    /// `/error`: the function's error (`errorType`, `errorMessage`).
    Error(Value),
}

struct Shared {
    events: AsyncMutex<mpsc::Receiver<(String, Vec<u8>)>>,
    responses: mpsc::Sender<(String, Answer)>,
    first_poll: Mutex<Option<Instant>>,
    time_limit: Mutex<Duration>,
}

/// A running Runtime API on 127.0.0.1.
pub struct RuntimeApi {
    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    shared: Arc<Shared>,
    events: mpsc::Sender<(String, Vec<u8>)>,
    responses: AsyncMutex<mpsc::Receiver<(String, Answer)>>,
    task: tokio::task::JoinHandle<()>,
    next_id: Mutex<u64>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RuntimeApi {
    /// Starts listening on a free port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let (event_tx, event_rx) = mpsc::channel(1);
        let (response_tx, response_rx) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            events: AsyncMutex::new(event_rx),
            responses: response_tx,
            first_poll: Mutex::new(None),
            time_limit: Mutex::new(Duration::from_secs(900)),
        });
        let accept = Arc::clone(&shared);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, Arc::clone(&accept)));
            }
        });
        Ok(Self {
            address,
            shared,
            events: event_tx,
            responses: AsyncMutex::new(response_rx),
            task,
            next_id: Mutex::new(0),
        })
    }

    /// The function timeout the next invocations get (their deadline is now plus this).
    pub fn set_time_limit(&self, limit: Duration) {
        *self.shared.time_limit.lock().unwrap() = limit;
    }

    /// When the function first asked for an invocation.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    /// Invokes the function with `event`; returns its response and the time from handing
    /// the event over to receiving the response.
    pub async fn invoke(&self, event: Value) -> (Value, Duration) {
        match self.invoke_raw(event.to_string().into_bytes()).await {
            (Answer::Response(response), took) => (response, took),
            (Answer::Error(error), _) => panic!("the function failed: {error}"),
        }
    }

    /// Invokes the function with `body` as the event, whatever its bytes.
    pub async fn invoke_raw(&self, body: Vec<u8>) -> (Answer, Duration) {
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            format!("00000000-0000-4000-8000-{:012}", *next)
        };
        let mut responses = self.responses.lock().await;
        let started = Instant::now();
        self.events
            .send((id.clone(), body))
            .await
            .expect("runtime api running");
        let (answered, response) = responses.recv().await.expect("a response");
        let took = started.elapsed();
        assert_eq!(answered, id);
        (response, took)
    }
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    while let Some(request) = read_request(&mut reader).await {
        let path = request.target.as_str();
        let reply = if request.method == "GET" && path.ends_with("/runtime/invocation/next") {
            shared
                .first_poll
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
            let Some((id, event)) = shared.events.lock().await.recv().await else {
                return;
            };
            let deadline = SystemTime::now() + *shared.time_limit.lock().unwrap();
            let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            let mut reply = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 lambda-runtime-aws-request-id: {id}\r\nlambda-runtime-deadline-ms: {deadline_ms}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 lambda-runtime-trace-id: {}\r\n\r\n",
                event.len(),
                trace_id(&id)
            )
            .into_bytes();
            reply.extend_from_slice(&event);
            reply
        } else if request.method == "POST"
            && (path.ends_with("/response") || path.ends_with("/error"))
        {
            let id = path.split('/').rev().nth(1).unwrap_or_default().to_owned();
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let answer = if path.ends_with("/error") {
                Answer::Error(body)
            } else {
                Answer::Response(body)
            };
            let _ = shared.responses.send((id, answer)).await;
            b"HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_vec()
        } else {
            b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_vec()
        };
        if write.write_all(&reply).await.is_err() {
            return;
        }
    }
}

/// The X-Ray trace header Lambda gives the invocation `request_id` (one of its own per
/// invocation, as Lambda's are).
pub fn trace_id(request_id: &str) -> String {
    let serial = request_id.rsplit('-').next().unwrap_or_default();
    format!("Root=1-67891233-{serial:0>24};Parent=53995c3f42cd8ad8;Sampled=1")
}

/// The function process, killed when dropped.
pub struct Function {
    child: Child,
    spawned: Instant,
    /// The Runtime API it polls.
    pub api: RuntimeApi,
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Function {
    /// Starts `binary` against a fresh Runtime API, the social-messaging endpoint at
    /// `endpoint_url` and `extra` settings, logging to `log`.
    pub async fn spawn(
        binary: &Path,
        endpoint_url: &str,
        extra: &[(&str, &str)],
        log: &Path,
    ) -> Self {
        Self::spawn_with_env(binary, super::function_env(endpoint_url, extra), log).await
    }

    /// Starts `binary` with exactly `env` (plus the Runtime API's own variables).
    pub async fn spawn_with_env(binary: &Path, env: Vec<(String, String)>, log: &Path) -> Self {
        let api = RuntimeApi::start().await.expect("runtime api");
        let log = std::fs::File::create(log).expect("log");
        let spawned = Instant::now();
        let child = Command::new(binary)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .envs(env)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start the function");
        Self {
            child,
            spawned,
            api,
        }
    }

    /// Time from spawn to the first poll for work.
    pub async fn init_time(&self) -> Duration {
        loop {
            if let Some(at) = self.api.first_poll() {
                return at - self.spawned;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Peak resident memory so far, in kB (VmHWM).
    pub fn peak_rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|l| l.starts_with("VmHWM:"))?
                    .split_whitespace()
                    .nth(1)?
                    .parse()
                    .ok()
            })
            .unwrap_or(0)
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

/// Lambda's Invoke API (`POST /2015-03-31/functions/<name>/invocations`) in front of a
/// running function, for clients such as `aws lambda invoke`; stops when dropped.
pub struct InvokeApi {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_LAMBDA`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for InvokeApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl InvokeApi {
    /// Serves `function` under `name` (any other name is ResourceNotFoundException). A
    /// function error comes back as Lambda sends it: status 200, `X-Amz-Function-Error`.
    pub async fn start(function: Arc<Function>, name: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let path = format!("/2015-03-31/functions/{name}/invocations");
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (function, path) = (Arc::clone(&function), path.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    while let Some(request) = read_request(&mut reader).await {
                        let target = request.target.split('?').next().unwrap_or_default();
                        let (status, error, body) = if request.method != "POST" || target != path {
                            let body = format!(
                                r#"{{"Type":"User","message":"Function not found: {target}"}}"#
                            );
                            ("404 Not Found", None, body.into_bytes())
                        } else {
                            match function.api.invoke_raw(request.body).await.0 {
                                Answer::Response(r) => ("200 OK", None, r.to_string().into_bytes()),
                                Answer::Error(e) => {
                                    ("200 OK", Some("Unhandled"), e.to_string().into_bytes())
                                }
                            }
                        };
                        let mut head = format!(
                            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                             x-amz-executed-version: $LATEST\r\n",
                            body.len()
                        );
                        if status.starts_with("404") {
                            head.push_str("x-amzn-errortype: ResourceNotFoundException\r\n");
                        }
                        if let Some(error) = error {
                            head.push_str(&format!("x-amz-function-error: {error}\r\n"));
                        }
                        head.push_str("\r\n");
                        let mut reply = head.into_bytes();
                        reply.extend_from_slice(&body);
                        if write.write_all(&reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, task }
    }
}
