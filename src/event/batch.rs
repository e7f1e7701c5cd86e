//! S3 Batch Operations invocations, schemas 1.0 (`s3BucketArn`) and 2.0 (`s3Bucket`).
//! Task keys are URL-encoded as in the job's manifest and are decoded here, once.

use serde_json::{Map, Value};

use super::{decode_key, json_type, str_at, EventError, Metadata, ObjectItem, ObjectRef, WorkItem};

/// A Batch Operations invocation, reduced to its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJob {
    /// Echoed in the response.
    pub invocation_id: String,
    /// `1.0` or `2.0`, echoed in the response.
    pub schema_version: String,
    /// The tasks, in order.
    pub tasks: Vec<Task>,
}

/// One task: an object that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Echoed in the task's result.
    pub task_id: String,
    /// Its work.
    pub item: WorkItem,
}

/// Whether the object is a Batch Operations invocation.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.contains_key("invocationSchemaVersion") && map.contains_key("tasks")
}

/// Reads the job. An unknown schema version or a job without tasks fails the invocation:
/// no valid response could be built for it.
pub(crate) fn parse(map: &Map<String, Value>) -> Result<BatchJob, EventError> {
    let schema_version = match map.get("invocationSchemaVersion") {
        Some(Value::String(v)) if v == "1.0" || v == "2.0" => v.clone(),
        other => {
            return Err(EventError::Unrecognised {
                found: format!(
                    "an S3 Batch Operations job with invocationSchemaVersion {}",
                    other.map_or("missing".into(), |v| v.to_string())
                ),
            })
        }
    };
    let Some(Value::Array(tasks)) = map.get("tasks") else {
        return Err(EventError::BadOption {
            field: "tasks",
            expected: "an array",
            found: map.get("tasks").map_or("nothing", json_type),
        });
    };
    Ok(BatchJob {
        invocation_id: map
            .get("invocationId")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        schema_version,
        tasks: tasks
            .iter()
            .map(|task| Task {
                task_id: str_at(task, &["taskId"]).unwrap_or_default().to_owned(),
                item: task_item(task),
            })
            .collect(),
    })
}

fn task_item(task: &Value) -> WorkItem {
    let bucket = match (str_at(task, &["s3Bucket"]), str_at(task, &["s3BucketArn"])) {
        (Some(bucket), _) => Ok(bucket),
        (None, Some(arn)) => bucket_of_arn(arn),
        (None, None) => Err("the task has neither s3Bucket nor s3BucketArn".to_owned()),
    };
    let bucket = match bucket {
        Ok(bucket) => bucket,
        Err(problem) => return WorkItem::invalid(None, problem),
    };
    let Some(raw_key) = str_at(task, &["s3Key"]) else {
        return WorkItem::invalid(None, "the task has no s3Key");
    };
    match decode_key(raw_key) {
        Ok(key) => WorkItem::Object(ObjectItem::new(
            ObjectRef {
                bucket: bucket.to_owned(),
                key,
                version_id: str_at(task, &["s3VersionId"])
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
            },
            Metadata::Current,
        )),
        Err(problem) => WorkItem::invalid(None, problem),
    }
}

/// The bucket of an S3 bucket ARN: the part after the last `:`, whether the ARN leaves
/// Region and account empty (`arn:aws:s3:::media`) or not
/// (`arn:aws:s3:us-east-1:123456789012:media`, as in AWS's own example).
fn bucket_of_arn(arn: &str) -> Result<&str, String> {
    match arn.split(':').collect::<Vec<_>>()[..] {
        ["arn", _, "s3", _, _, .., bucket] if !bucket.is_empty() => Ok(bucket),
        _ => Err(format!(
            "s3BucketArn {arn:?} is not an S3 bucket ARN (arn:<partition>:s3:<region>:<account>:<bucket>)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn both_schemas() {
        let v1 = json!({"invocationSchemaVersion": "1.0", "invocationId": "inv", "job": {"id": "j"},
            "tasks": [{"taskId": "t1", "s3Key": "in/photo+1.jpg", "s3VersionId": "v1",
                       "s3BucketArn": "arn:aws:s3:::media"}]});
        let job = parse(v1.as_object().unwrap()).unwrap();
        assert_eq!(job.invocation_id, "inv");
        assert!(matches!(&job.tasks[0].item, WorkItem::Object(o)
            if o.object.bucket == "media" && o.object.key == "in/photo 1.jpg"
            && o.object.version_id.as_deref() == Some("v1") && o.metadata == Metadata::Current));

        let v2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "inv2",
            "job": {"id": "j", "userArguments": {"k": "v"}},
            "tasks": [{"taskId": "t1", "s3Key": "caf%C3%A9.jpg", "s3VersionId": null, "s3Bucket": "media"},
                      {"taskId": "t2", "s3Key": "bad%zz", "s3Bucket": "media"}]});
        let job = parse(v2.as_object().unwrap()).unwrap();
        assert!(
            matches!(&job.tasks[0].item, WorkItem::Object(o) if o.object.key == "café.jpg" && o.object.version_id.is_none())
        );
        assert!(matches!(&job.tasks[1].item, WorkItem::Invalid(_)));
    }

    #[test]
    fn bucket_arns_of_every_form() {
        for (arn, bucket) in [
            ("arn:aws:s3:::media", Ok("media")),
            ("arn:aws:s3:us-east-1:123456789012:media", Ok("media")),
            ("arn:aws-cn:s3:::media.cn", Ok("media.cn")),
            (
                "arn:aws-us-gov:s3:us-gov-west-1:123456789012:m-1",
                Ok("m-1"),
            ),
        ] {
            assert_eq!(bucket_of_arn(arn).map_err(|_: String| ()), bucket, "{arn}");
        }
        for bad in [
            "media",
            "arn:aws:s3:::",
            "arn:aws:sqs:::media",
            "arn:aws:s3",
        ] {
            let problem = bucket_of_arn(bad).unwrap_err();
            assert!(problem.contains(bad) && problem.contains("not an S3 bucket ARN"));
        }
        let job = json!({"invocationSchemaVersion": "1.0", "invocationId": "i", "job": {"id": "j"},
            "tasks": [{"taskId": "t", "s3Key": "a.jpg", "s3VersionId": null,
                       "s3BucketArn": "arn:aws:s3:us-east-1:123456789012:bucket"},
                      {"taskId": "u", "s3BucketArn": "arn:aws:s3:::bucket"}]});
        let job = parse(job.as_object().unwrap()).unwrap();
        assert!(matches!(&job.tasks[0].item, WorkItem::Object(o) if o.object.bucket == "bucket"));
        assert!(
            matches!(&job.tasks[1].item, WorkItem::Invalid(e) if e.problem == "the task has no s3Key")
        );
    }

    #[test]
    fn unknown_schema_versions_fail_the_invocation() {
        let v3 = json!({"invocationSchemaVersion": "3.0", "tasks": []});
        assert!(parse(v3.as_object().unwrap()).is_err());
    }
}
