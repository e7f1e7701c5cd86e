//! A minimal Lambda Runtime API for the benchmark: it hands one event at a time to the
//! function and times, to the microsecond, how long the function takes to answer, and when
//! the function first asked for work (the end of its init).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Mutex as AsyncMutex};

use super::endpoint::read_request;

struct Shared {
    events: AsyncMutex<mpsc::Receiver<(String, Value)>>,
    responses: mpsc::Sender<(String, Value)>,
    first_poll: Mutex<Option<Instant>>,
}

/// A running Runtime API on 127.0.0.1.
pub struct RuntimeApi {
    /// `host:port`, for `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    shared: Arc<Shared>,
    events: mpsc::Sender<(String, Value)>,
    responses: AsyncMutex<mpsc::Receiver<(String, Value)>>,
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

    /// When the function first asked for an invocation.
    pub fn first_poll(&self) -> Option<Instant> {
        *self.shared.first_poll.lock().unwrap()
    }

    /// Invokes the function with `event`; returns its response and the time from handing
    /// the event over to receiving the response.
    pub async fn invoke(&self, event: Value) -> (Value, Duration) {
        let id = {
            let mut next = self.next_id.lock().unwrap();
            *next += 1;
            format!("00000000-0000-4000-8000-{:012}", *next)
        };
        let mut responses = self.responses.lock().await;
        let started = Instant::now();
        self.events
            .send((id.clone(), event))
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
            let deadline = SystemTime::now() + Duration::from_secs(900);
            let deadline_ms = deadline.duration_since(UNIX_EPOCH).unwrap().as_millis();
            let body = event.to_string();
            format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
                 lambda-runtime-aws-request-id: {id}\r\nlambda-runtime-deadline-ms: {deadline_ms}\r\n\
                 lambda-runtime-invoked-function-arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n\
                 lambda-runtime-trace-id: Root=1-00000000-000000000000000000000000\r\n\r\n{body}",
                body.len()
            )
        } else if request.method == "POST"
            && (path.ends_with("/response") || path.ends_with("/error"))
        {
            let id = path.split('/').rev().nth(1).unwrap_or_default().to_owned();
            let body = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
            let _ = shared.responses.send((id, body)).await;
            "HTTP/1.1 202 Accepted\r\ncontent-length: 2\r\n\r\n{}".to_owned()
        } else {
            "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n".to_owned()
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}
