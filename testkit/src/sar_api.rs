//! A local stand-in for the Serverless Application Repository's
//! CreateCloudFormationChangeSet, for the README's SAR commands (tests/docs.rs).
//!
//! SAR answers the call by creating a CloudFormation change set of the application's
//! template, for a stack named `serverlessrepo-` and the stack name given
//! (https://docs.aws.amazon.com/serverlessrepo/latest/devguide/serverlessrepo-how-to-consume-new-version.html),
//! and returns its ARN as ChangeSetId (REST JSON, 201:
//! https://docs.aws.amazon.com/serverlessrepo/latest/devguide/applications-applicationid-changesets.html).
//! This records each request as the AWS CLI sent it, and creates the change set in moto's
//! CloudFormation, with a template that has the one output the README reads, so that the
//! CLI's waits and `execute-change-set` that follow run against a real API.

use std::sync::{Arc, Mutex};

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::endpoint::read_request;

/// One CreateCloudFormationChangeSet: the application id from the path (decoded), and the
/// JSON body.
#[derive(Debug, Clone)]
pub struct ChangeSetRequest {
    pub application_id: String,
    pub body: Value,
}

/// A running stand-in; stops when dropped.
pub struct SarApi {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_SERVERLESSAPPLICATIONREPOSITORY`.
    pub url: String,
    requests: Arc<Mutex<Vec<ChangeSetRequest>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SarApi {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The stack SAR's change set makes: one output, the function's name.
const TEMPLATE: &str = r#"{"Resources": {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
 "Outputs": {"FunctionName": {"Value": "serverlessrepo-whatsapp-media-cleanup-CleanupFunction-Ab12Cd34"}}}"#;

impl SarApi {
    /// Serves on loopback; change sets go to moto's CloudFormation at `moto_url`.
    pub async fn start(moto_url: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let (seen, moto) = (Arc::clone(&requests), moto_url.to_owned());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (seen, moto) = (Arc::clone(&seen), moto.clone());
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    while let Some(request) = read_request(&mut reader).await {
                        let (status, body) = answer(&request, &moto, &seen).await;
                        let response = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                             Content-Length: {}\r\n\r\n{body}",
                            body.len()
                        );
                        if write.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            url,
            requests,
            task,
        }
    }

    /// Every CreateCloudFormationChangeSet received, in order.
    pub fn requests(&self) -> Vec<ChangeSetRequest> {
        self.requests.lock().expect("requests").clone()
    }
}

async fn answer(
    request: &crate::endpoint::Request,
    moto: &str,
    seen: &Mutex<Vec<ChangeSetRequest>>,
) -> (&'static str, String) {
    let path = request.target.split('?').next().unwrap_or_default();
    let application = path
        .strip_prefix("/applications/")
        .and_then(|rest| rest.strip_suffix("/changesets"));
    let (Some(application), "POST") = (application, request.method.as_str()) else {
        let error = json!({"errorCode": "NotFoundException", "message": format!("no {path}")});
        return ("404 Not Found", error.to_string());
    };
    let application_id = percent_encoding::percent_decode_str(application)
        .decode_utf8_lossy()
        .into_owned();
    let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
    seen.lock().expect("requests").push(ChangeSetRequest {
        application_id: application_id.clone(),
        body: body.clone(),
    });
    let stack = format!(
        "serverlessrepo-{}",
        body["stackName"].as_str().unwrap_or_default()
    );
    let (change_set, stack_id) = create_change_set(moto, &stack).await;
    let reply = json!({
        "applicationId": application_id,
        "changeSetId": change_set,
        "semanticVersion": body["semanticVersion"],
        "stackId": stack_id,
    });
    ("201 Created", reply.to_string())
}

/// CreateChangeSet in moto's CloudFormation (its query API): the change set's and the
/// stack's ARNs.
async fn create_change_set(moto: &str, stack: &str) -> (String, String) {
    let encode = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    let form = format!(
        "Action=CreateChangeSet&Version=2010-05-15&ChangeSetType=CREATE&ChangeSetName=sar&StackName={}&TemplateBody={}",
        encode(stack),
        encode(TEMPLATE)
    );
    let address = moto.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.expect("moto");
    // moto routes a request by the service its credential scope names; it checks no
    // signature unless IAM is enforced.
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/{}/cloudformation/aws4_request, SignedHeaders=host, Signature=00\r\n\
         Content-Length: {}\r\n\r\n{form}",
        crate::REGION,
        form.len()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let element = |name: &str| {
        let open = format!("<{name}>");
        response
            .split_once(&open)
            .and_then(|(_, rest)| rest.split_once(&format!("</{name}>")))
            .map(|(value, _)| value.to_owned())
            .unwrap_or_else(|| panic!("moto's CreateChangeSet has no {name}:\n{response}"))
    };
    (element("Id"), element("StackId"))
}
