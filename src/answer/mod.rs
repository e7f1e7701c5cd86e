//! What the function answers, in the protocol of what invoked it: the result payload for
//! custom events, the SQS partial-batch response, the S3 Batch Operations response, and
//! the function error that makes Lambda retry an event and then keep it.

pub mod batch_job;
pub mod failure;
pub mod payload;
pub mod size;
pub mod sqs;

use aws_lambda_events::event::s3::batch_job::S3BatchJobResponse;
use aws_lambda_events::event::sqs::SqsBatchResponse;
use serde::Serialize;

pub use failure::FunctionError;
pub use payload::Payload;

/// An invocation's answer, serialised as exactly one of its shapes.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Answer {
    /// To a custom event, or a notification whose items all succeeded.
    Payload(Payload),
    /// To an SQS batch: the messages to retry.
    Sqs(SqsBatchResponse),
    /// To an S3 Batch Operations invocation: a result per task.
    BatchJob(S3BatchJobResponse),
}
