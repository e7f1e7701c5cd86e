//! S3 Batch Operations invocations, schemas 1.0 (`s3BucketArn`) and 2.0 (`s3Bucket`).
//! Task keys are URL-encoded as in the job's manifest and are decoded here, once.

use aws_lambda_events::event::s3::batch_job::S3BatchJobTask;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::read::{decode_key, typed};
use super::EventError;
use crate::model::{Metadata, ObjectItem, ObjectRef, WorkItem};

/// A Batch Operations invocation, reduced to its tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchJob {
    /// Echoed in the response.
    pub invocation_id: String,
    /// `1.0` or `2.0`, echoed in the response.
    pub schema_version: String,
    /// The job's id, for the erasure ledger.
    pub job_id: Option<String>,
    /// `job.userArguments.reference` (schema 2.0): why the job was run, for the erasure
    /// ledger.
    pub reference: Option<String>,
    /// The tasks, in order.
    pub tasks: Vec<Task>,
}

/// One task: an object that still exists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    /// Echoed in the task's result.
    pub task_id: String,
    pub item: WorkItem,
}

/// The invocation around its tasks. Its tasks are read one by one (as
/// [`S3BatchJobTask`] or [`TaskV2`]), so that one malformed task fails only itself:
/// aws_lambda_events' `S3BatchJobEvent` reads them all or none.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    invocation_schema_version: String,
    #[serde(default)]
    invocation_id: String,
    #[serde(default)]
    job: Job,
    tasks: Vec<Value>,
}

/// The job around the tasks: its id, and (schema 2.0) the arguments it was created with.
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Job {
    id: Option<String>,
    #[serde(default)]
    user_arguments: Map<String, Value>,
}

/// A task of schema 2.0. aws_lambda_events has only schema 1.0's task, which names its
/// bucket by `s3BucketArn`; 2.0 names it by `s3Bucket`. (Of 2.0's `job.userArguments`,
/// only `reference` is read, for the erasure ledger: nothing a job says changes what is
/// deleted.)
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskV2 {
    task_id: Option<String>,
    s3_bucket: Option<String>,
    s3_key: Option<String>,
    s3_version_id: Option<String>,
}

/// Whether the object is a Batch Operations invocation.
pub(crate) fn matches(map: &Map<String, Value>) -> bool {
    map.contains_key("invocationSchemaVersion") && map.contains_key("tasks")
}

/// Reads the job. An unknown schema version or a job without a list of tasks fails the
/// invocation: no valid response could be built for it.
pub(crate) fn parse(event: &Value) -> Result<BatchJob, EventError> {
    let invocation: Invocation = typed(event, "the S3 Batch Operations job", "")
        .map_err(|found| EventError::Unrecognised { found })?;
    let v2 = match invocation.invocation_schema_version.as_str() {
        "1.0" => false,
        "2.0" => true,
        other => {
            return Err(EventError::Unrecognised {
                found: format!("an S3 Batch Operations job with invocationSchemaVersion {other:?}"),
            })
        }
    };
    let reference = super::reference::read(
        invocation.job.user_arguments.get("reference"),
        "job.userArguments.reference",
    );
    let tasks = invocation
        .tasks
        .iter()
        .enumerate()
        .map(|(index, task)| {
            let task = read_task(task, &format!("tasks[{index}]"), v2);
            match &reference {
                Ok(_) => task,
                // A job whose reference is wrong fails each task, naming it: nothing is
                // deleted under a reference the ledger could not record.
                Err(problem) => Task {
                    item: WorkItem::invalid(None, problem.clone()),
                    ..task
                },
            }
        })
        .collect();
    Ok(BatchJob {
        invocation_id: invocation.invocation_id,
        schema_version: invocation.invocation_schema_version,
        job_id: invocation.job.id.filter(|id| !id.is_empty()),
        reference: reference.unwrap_or_default(),
        tasks,
    })
}

/// The id of a task that cannot be read, so that its result still names it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TaskId {
    task_id: Option<String>,
}

fn read_task(value: &Value, at: &str, v2: bool) -> Task {
    let task = if v2 {
        typed::<TaskV2>(value, "the task", at).map(|task| {
            let bucket = task
                .s3_bucket
                .ok_or_else(|| "the task has no s3Bucket".to_owned());
            (task.task_id, bucket, task.s3_key, task.s3_version_id)
        })
    } else {
        typed::<S3BatchJobTask>(value, "the task", at).map(|task| {
            let bucket = match task.s3_bucket_arn.as_deref() {
                Some(arn) => bucket_of_arn(arn).map(str::to_owned),
                None => Err("the task has no s3BucketArn".to_owned()),
            };
            (task.task_id, bucket, task.s3_key, task.s3_version_id)
        })
    };
    let (task_id, bucket, raw_key, version_id) = match task {
        Ok(fields) => fields,
        Err(problem) => {
            return Task {
                task_id: typed::<TaskId>(value, "", "")
                    .ok()
                    .and_then(|id| id.task_id)
                    .unwrap_or_default(),
                item: WorkItem::invalid(None, problem),
            }
        }
    };
    let item = match (bucket, raw_key) {
        (Err(problem), _) => WorkItem::invalid(None, problem),
        (Ok(_), None) => WorkItem::invalid(None, "the task has no s3Key"),
        (Ok(bucket), Some(raw_key)) => match decode_key(&raw_key) {
            Ok(key) => WorkItem::Object(ObjectItem::new(
                ObjectRef {
                    bucket,
                    key,
                    version_id: version_id.filter(|v| !v.is_empty()),
                },
                Metadata::Current,
            )),
            Err(problem) => WorkItem::invalid(None, problem),
        },
    };
    Task {
        task_id: task_id.unwrap_or_default(),
        item,
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
        let job = parse(&v1).unwrap();
        assert_eq!(job.invocation_id, "inv");
        assert!(matches!(&job.tasks[0].item, WorkItem::Object(o)
            if o.object.bucket == "media" && o.object.key == "in/photo 1.jpg"
            && o.object.version_id.as_deref() == Some("v1") && o.metadata == Metadata::Current));

        let v2 = json!({"invocationSchemaVersion": "2.0", "invocationId": "inv2",
            "job": {"id": "j", "userArguments": {"k": "v"}},
            "tasks": [{"taskId": "t1", "s3Key": "caf%C3%A9.jpg", "s3VersionId": null, "s3Bucket": "media"},
                      {"taskId": "t2", "s3Key": "bad%zz", "s3Bucket": "media"}]});
        let job = parse(&v2).unwrap();
        assert!(
            matches!(&job.tasks[0].item, WorkItem::Object(o) if o.object.key == "café.jpg" && o.object.version_id.is_none())
        );
        assert!(matches!(&job.tasks[1].item, WorkItem::Invalid(_)));
    }

    #[test]
    fn the_job_id_and_its_reference_are_read_and_a_bad_reference_fails_each_task() {
        let job = |user_arguments: Value| {
            parse(
                &json!({"invocationSchemaVersion": "2.0", "invocationId": "i",
                "job": {"id": "job-1", "userArguments": user_arguments},
                "tasks": [{"taskId": "t1", "s3Key": "a.jpg", "s3Bucket": "media"}]}),
            )
            .unwrap()
        };
        let with = job(json!({"reference": "DSR-7", "other": "ignored"}));
        assert_eq!(with.job_id.as_deref(), Some("job-1"));
        assert_eq!(with.reference.as_deref(), Some("DSR-7"));
        assert!(matches!(&with.tasks[0].item, WorkItem::Object(_)));
        assert_eq!(job(json!({})).reference, None);
        let bad = job(json!({"reference": 7}));
        assert_eq!(bad.tasks[0].task_id, "t1");
        assert!(matches!(&bad.tasks[0].item, WorkItem::Invalid(e)
            if e.problem == "\"job.userArguments.reference\" must be a string, got a number"));
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
        let job = parse(&job).unwrap();
        assert!(matches!(&job.tasks[0].item, WorkItem::Object(o) if o.object.bucket == "bucket"));
        assert!(
            matches!(&job.tasks[1].item, WorkItem::Invalid(e) if e.problem == "the task has no s3Key")
        );
    }

    #[test]
    fn unknown_schema_versions_fail_the_invocation() {
        let v3 = json!({"invocationSchemaVersion": "3.0", "tasks": []});
        assert!(parse(&v3).is_err());
    }
}
