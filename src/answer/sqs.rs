//! The SQS partial-batch response: which messages of a batch to retry.

use aws_lambda_events::event::sqs::SqsBatchResponse;

/// The SQS partial-batch response: the messages to retry (and, in the end, to dead-letter).
pub fn sqs_response(failed_message_ids: impl IntoIterator<Item = String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message_id in failed_message_ids {
        response.add_failure(message_id);
    }
    response
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_sqs_answer_names_each_message_to_retry() {
        let answer = serde_json::to_value(sqs_response(["m1".to_owned(), "m3".to_owned()]));
        assert_eq!(
            answer.unwrap(),
            json!({"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]})
        );
        let none = serde_json::to_value(sqs_response(Vec::new())).unwrap();
        assert_eq!(none, json!({"batchItemFailures": []}));
    }
}
