//! The function's IAM policy as `template.yaml` deploys it, and how the harness enforces it.
//!
//! The template is rendered as CloudFormation would deploy it (`render_template.py`), in
//! one of its parameter variants. The statements attached to the function's role are then
//! enforced in two places, each for what it covers:
//! - moto's own IAM authorizer (`Moto::enforce`): every request must be signed by a key
//!   moto issued, and is allowed only if a statement grants moto's one action for it
//!   (`moto_action`) on the resource;
//! - the fault proxy (`S3Faults::enforce`), for AWS's documented rules that moto lacks
//!   (`s3_actions` cites each operation's page): a request naming a version needs the
//!   plain action as well as the version one (HeadObject `s3:GetObject` and
//!   `s3:GetObjectVersion`, GetObjectTagging
//!   `s3:GetObjectTagging` and `s3:GetObjectVersionTagging`, DeleteObject `s3:DeleteObject`
//!   and `s3:DeleteObjectVersion`), a delete with `If-Match: <ETag>` needs `s3:GetObject`
//!   too, and HeadObject or GetObject of a missing key answers 404 only to a caller with
//!   `s3:ListBucket` on the bucket, 403 to any other.
//!
//! For a versioned GetObjectTagging moto asks for `s3:GetObjectVersion`, which AWS does
//! not: the template grants it anyway, so that only makes the harness stricter.

use std::collections::{BTreeSet, HashMap};

use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The media bucket's name in every rendered policy; `Policy::for_bucket` replaces it.
const RENDERED_BUCKET: &str = "rendered-media-bucket";

/// The erasure ledger's bucket in every rendered policy (`LedgerBucketName`, a bucket the
/// team names, so that the policy names it as deployed): the flows' ledger.
pub const LEDGER_BUCKET: &str = "erasure-ledger";

/// The template's parameter variants whose function policy the S3 flows run under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Variant {
    /// `ExistingBucketName` set (EventBridge), else a bucket is created (notifications).
    pub existing_bucket: bool,
    /// `UseSqsBuffer=true`.
    pub sqs_buffer: bool,
}

impl Variant {
    /// The template's defaults: a created bucket, notifications straight to the function.
    pub const DEFAULT: Self = Self {
        existing_bucket: false,
        sqs_buffer: false,
    };

    /// A created bucket notifying the SQS buffer.
    pub const CREATED_BUFFERED: Self = Self {
        existing_bucket: false,
        sqs_buffer: true,
    };

    /// A bucket the team already has, its deletions through EventBridge to the function.
    pub const EXISTING: Self = Self {
        existing_bucket: true,
        sqs_buffer: false,
    };

    /// A bucket the team already has, through EventBridge to the SQS buffer.
    pub const EXISTING_BUFFERED: Self = Self {
        existing_bucket: true,
        sqs_buffer: true,
    };

    /// The parameter values that select this variant.
    pub fn params(self) -> Vec<String> {
        let bucket = if self.existing_bucket {
            format!("ExistingBucketName={RENDERED_BUCKET}")
        } else {
            format!("MediaBucketName={RENDERED_BUCKET}")
        };
        vec![
            bucket,
            format!("UseSqsBuffer={}", self.sqs_buffer),
            format!("LedgerBucketName={LEDGER_BUCKET}"),
        ]
    }
}

/// template.yaml's deployed resources and outputs for these parameter values
/// (`Name=value`).
pub fn render(params: &[&str]) -> Value {
    try_render(params).unwrap_or_else(|refused| panic!("render failed: {refused}"))
}

/// template.yaml rendered with `params`, or what refused it (a parameter value outside its
/// constraints, as CloudFormation refuses it).
pub fn try_render(params: &[&str]) -> Result<Value, String> {
    let root = crate::root();
    let template = root.join("template.yaml");
    let mut args = vec![template.to_str().expect("a UTF-8 path")];
    args.extend(params);
    sam_cli_script("render_template.py", &args)
}

/// What one of the testkit's Python scripts, run by the virtualenv's Python (which has the
/// SAM CLI's packages), printed as JSON; or its standard error when it failed.
pub(crate) fn sam_cli_script(script: &str, args: &[&str]) -> Result<Value, String> {
    let root = crate::root();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make test` (it installs aws-sam-cli into .venv)",
        python.display()
    );
    let out = Command::new(python)
        .arg(root.join("testkit/src").join(script))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).expect("JSON"))
}

/// Every statement the deployed template attaches to the function's role: the role's
/// inline policies, and the `AWS::IAM::Policy` resources naming the role
/// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-properties-iam-policy.html).
/// The template has no `AWS::IAM::RolePolicy` or `AWS::IAM::ManagedPolicy`, which this
/// does not read.
fn role_statements(template: &Value) -> Vec<Value> {
    let resources = template["Resources"].as_object().expect("Resources");
    let role = &resources["CleanupFunctionRole"]["Properties"];
    let mut documents: Vec<&Value> = role["Policies"]
        .as_array()
        .map(|p| p.iter().map(|p| &p["PolicyDocument"]).collect())
        .unwrap_or_default();
    for resource in resources.values() {
        let names_role = resource["Properties"]["Roles"]
            .as_array()
            .is_some_and(|r| r.iter().any(|r| r["Ref"] == "CleanupFunctionRole"));
        if resource["Type"] == "AWS::IAM::Policy" && names_role {
            documents.push(&resource["Properties"]["PolicyDocument"]);
        }
    }
    // Logs (CloudWatch) and traces (X-Ray) only: nothing that S3 or the WhatsApp API
    // would authorize.
    let known = ["AWSLambdaBasicExecutionRole", "AWSXrayWriteOnlyAccess"];
    assert!(
        role["ManagedPolicyArns"].as_array().is_none_or(|arns| arns
            .iter()
            .all(|a| known.iter().any(|k| a.to_string().contains(k)))),
        "the harness knows no managed policy but {known:?}: {role}"
    );
    documents
        .into_iter()
        .flat_map(|d| match &d["Statement"] {
            Value::Array(s) => s.clone(),
            s => vec![s.clone()],
        })
        .map(|mut s| {
            // A resource the render leaves as a reference (a queue's ARN) stands for an
            // ARN that no S3 or social-messaging request names.
            let resources: Vec<Value> = match &s["Resource"] {
                Value::Array(r) => r.clone(),
                r => vec![r.clone()],
            };
            let resources: Vec<Value> = resources
                .into_iter()
                .map(|r| match r {
                    Value::String(_) => r,
                    reference => Value::from(format!(
                        "arn:aws:cloudformation:us-east-1:123456789012:reference/{}",
                        reference["Fn::GetAtt"][0].as_str().unwrap_or("unknown")
                    )),
                })
                .collect();
            s["Resource"] = Value::Array(resources);
            s
        })
        .collect()
}

/// The function role's statements, as the template deploys them in `variant`.
pub fn function_policy(variant: Variant) -> Policy {
    static RENDERED: OnceLock<Mutex<HashMap<Variant, Vec<Value>>>> = OnceLock::new();
    let mut rendered = RENDERED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let statements = rendered.entry(variant).or_insert_with(|| {
        let params = variant.params();
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        role_statements(&render(&params))
    });
    Policy {
        statements: statements.clone(),
    }
}

/// IAM statements, evaluated as AWS does for one identity policy: an explicit Deny wins,
/// else any Allow, else the request is denied
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic_AccessPolicyLanguage_Interplay.html).
/// Actions match in any case, resources as written
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
#[derive(Debug, Clone)]
pub struct Policy {
    pub statements: Vec<Value>,
}

impl Policy {
    /// The policy as if the template were deployed once for each of `buckets`: each
    /// resource naming the media bucket names each of them.
    pub fn for_buckets(&self, buckets: &[&str]) -> Self {
        let statements = self
            .statements
            .iter()
            .map(|s| {
                let mut s = s.clone();
                if s.get("Resource").is_some() {
                    let resources: Vec<Value> = strings(&s["Resource"])
                        .iter()
                        .flat_map(|r| {
                            if r.contains(RENDERED_BUCKET) {
                                buckets
                                    .iter()
                                    .map(|b| r.replace(RENDERED_BUCKET, b))
                                    .collect()
                            } else {
                                vec![r.clone()]
                            }
                        })
                        .map(Value::from)
                        .collect();
                    s["Resource"] = Value::Array(resources);
                }
                s
            })
            .collect();
        Self { statements }
    }

    /// The policy with `action` taken out of every statement (and statements left with no
    /// action dropped), as if it were removed from template.yaml.
    pub fn without(&self, action: &str) -> Self {
        let statements = self
            .statements
            .iter()
            .filter_map(|s| {
                let mut s = s.clone();
                let kept: Vec<Value> = strings(&s["Action"])
                    .into_iter()
                    .filter(|a| a != action)
                    .map(Value::from)
                    .collect();
                if kept.is_empty() {
                    return None;
                }
                s["Action"] = Value::Array(kept);
                Some(s)
            })
            .collect();
        Self { statements }
    }

    /// Every action the statements allow, as written.
    pub fn actions(&self) -> BTreeSet<String> {
        self.statements
            .iter()
            .filter(|s| s["Effect"] == "Allow")
            .flat_map(|s| strings(&s["Action"]))
            .collect()
    }

    /// Whether `action` on `resource` (an ARN) is allowed.
    pub fn allows(&self, action: &str, resource: &str) -> bool {
        let applies = |s: &Value| {
            assert!(
                s.get("NotAction").is_none()
                    && s.get("NotResource").is_none()
                    && s.get("Condition").is_none(),
                "the harness evaluates Action and Resource only; teach it this statement: {s}"
            );
            strings(&s["Action"])
                .iter()
                .any(|a| wildcard(&a.to_ascii_lowercase(), &action.to_ascii_lowercase()))
                && strings(&s["Resource"])
                    .iter()
                    .any(|r| wildcard(r, resource))
        };
        let matching: Vec<&Value> = self.statements.iter().filter(|s| applies(s)).collect();
        !matching.iter().any(|s| s["Effect"] == "Deny")
            && matching.iter().any(|s| s["Effect"] == "Allow")
    }

    /// The policy as a JSON document, for IAM.
    pub fn document(&self) -> String {
        serde_json::json!({"Version": "2012-10-17", "Statement": self.statements}).to_string()
    }
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// IAM's wildcards: `*` any run of characters, `?` any one
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
fn wildcard(pattern: &str, value: &str) -> bool {
    let (p, v): (Vec<char>, Vec<char>) = (pattern.chars().collect(), value.chars().collect());
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether the query string (`a=1&b`) has the parameter `name`, with a value or without.
pub fn has_param(query: &str, name: &str) -> bool {
    query.split('&').any(|p| {
        p.strip_prefix(name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('='))
    })
}

/// The IAM actions that S3 asks for a request, as AWS documents them for each operation,
/// and the resource ARN they are authorized on, or `None` for a request the harness does
/// not classify. `if_match` is the request's `If-Match` header.
pub fn s3_actions(
    method: &str,
    target: &str,
    if_match: Option<&str>,
) -> Option<(Vec<String>, String)> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has = |name: &str| has_param(query, name);
    let path = path.trim_start_matches('/');
    let (bucket, key) = path.split_once('/').unwrap_or((path, ""));
    let key = percent_encoding::percent_decode_str(key).decode_utf8_lossy();
    let (actions, resource): (Vec<&str>, String) = if key.is_empty() {
        let action = match method {
            "GET" if has("versions") => "ListBucketVersions",
            "GET" if query.is_empty() || has("list-type") || has("prefix") => "ListBucket",
            _ => return None,
        };
        (vec![action], format!("arn:aws:s3:::{bucket}"))
    } else {
        // Each operation's page documents its actions:
        // - GetObjectTagging, and GetObjectVersionTagging for a version:
        //   https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObjectTagging.html
        // - HeadObject: s3:GetObject, and "the relevant read object (or version)
        //   permission": https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html.
        //   A GET of a version is held to the same pair, stricter than AWS, whose GetObject
        //   page asks only s3:GetObjectVersion; the function sends no GetObject.
        // - DeleteObject always, and DeleteObjectVersion for a version:
        //   https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html
        // - a delete with `If-Match: <ETag>` needs s3:GetObject too (`*` does not):
        //   https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html
        // - PutObjectTagging, and PutObjectVersionTagging for a version:
        //   https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObjectTagging.html
        // Bucket operations are authorized on the bucket's ARN, ListObjectVersions as
        // s3:ListBucketVersions: https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html
        let etag_condition = if_match.is_some_and(|m| m.trim() != "*");
        let actions = match (method, has("tagging"), has("versionId")) {
            ("GET", true, false) => vec!["GetObjectTagging"],
            ("GET", true, true) => vec!["GetObjectTagging", "GetObjectVersionTagging"],
            ("HEAD" | "GET", false, false) => vec!["GetObject"],
            ("HEAD" | "GET", false, true) => vec!["GetObject", "GetObjectVersion"],
            ("DELETE", false, false) if etag_condition => vec!["DeleteObject", "GetObject"],
            ("DELETE", false, false) => vec!["DeleteObject"],
            ("DELETE", false, true) => vec!["DeleteObject", "DeleteObjectVersion"],
            ("PUT", true, false) => vec!["PutObjectTagging"],
            ("PUT", true, true) => vec!["PutObjectTagging", "PutObjectVersionTagging"],
            ("PUT", false, _) => vec!["PutObject"],
            _ => return None,
        };
        (actions, format!("arn:aws:s3:::{bucket}/{key}"))
    };
    Some((
        actions.into_iter().map(|a| format!("s3:{a}")).collect(),
        resource,
    ))
}

/// The one action moto 5.2 authorizes a request by (its `ACTION_MAP` in
/// `moto/s3/responses.py`, not AWS's rule: the last query parameter it knows wins, so a
/// versioned tag read is `GetObjectVersion`).
pub fn moto_action(method: &str, target: &str) -> Option<String> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let has = |name: &str| has_param(query, name);
    let key = path
        .trim_start_matches('/')
        .split_once('/')
        .map_or("", |(_, k)| k);
    let action = match (method, key.is_empty()) {
        ("GET", true) if has("versions") => "ListBucketVersions",
        ("GET", true) => "ListBucket",
        ("HEAD", false) => "GetObject",
        ("GET", false) if has("versionId") => "GetObjectVersion",
        ("GET", false) if has("tagging") => "GetObjectTagging",
        ("GET", false) => "GetObject",
        ("DELETE", false) if has("versionId") => "DeleteObjectVersion",
        ("DELETE", false) => "DeleteObject",
        _ => return None,
    };
    Some(format!("s3:{action}"))
}
