//! template.yaml as CloudFormation would deploy it: rendered by samtranslator (the SAM
//! transform of the SAM CLI package) with parameter values, and its conditions evaluated
//! (`testkit/src/render_template.py`), in both bucket modes, direct and buffered.

use serde_json::{json, Value};
use testkit::iam::render;

/// The rule's ARN, named from the stack id (render_template.py's) so that its targets'
/// permissions can name it before it exists.
const RULE_ARN: &str =
    "arn:aws:events:us-east-1:123456789012:rule/whatsapp-media-cleanup-6c1f2e40-7d5b-11ef-9a1c-0a1b2c3d4e5f";

/// Whether `name` is created after `dependency`: through DependsOn, directly or through a
/// handle whose metadata refers to it.
fn waits_for(t: &Value, name: &str, dependency: &str) -> bool {
    let depends_on: Vec<String> = match &resource(t, name)["DependsOn"] {
        Value::Array(d) => d
            .iter()
            .filter_map(|d| d.as_str().map(str::to_owned))
            .collect(),
        Value::String(d) => vec![d.clone()],
        _ => Vec::new(),
    };
    depends_on.iter().any(|d| {
        d == dependency
            || (resource(t, d)["Type"] == "AWS::CloudFormation::WaitConditionHandle"
                && resource(t, d)["Metadata"]
                    .as_object()
                    .unwrap()
                    .values()
                    .any(|v| v == &json!({"Ref": dependency})))
    })
}

/// What a created bucket notifies: every removal, and the delete markers of lifecycle
/// expirations, which S3 never sends as `s3:ObjectRemoved:*`. Not
/// `s3:LifecycleExpiration:Delete`, through which noncurrent versions expire, one
/// invocation each, for nothing.
const DELETIONS: [&str; 2] = [
    "s3:ObjectRemoved:*",
    "s3:LifecycleExpiration:DeleteMarkerCreated",
];

fn notified_events(configurations: &Value) -> Vec<String> {
    configurations
        .as_array()
        .expect("notification configurations")
        .iter()
        .map(|c| c["Event"].as_str().unwrap().to_owned())
        .collect()
}

fn resource<'a>(t: &'a Value, name: &str) -> &'a Value {
    t["Resources"]
        .get(name)
        .unwrap_or_else(|| panic!("no resource {name}"))
}

fn has(t: &Value, name: &str) -> bool {
    t["Resources"].get(name).is_some()
}

/// Every statement of the function's own inline policies (not SAM's generated ones).
fn function_statements(t: &Value) -> Vec<Value> {
    resource(t, "CleanupFunctionRole")["Properties"]["Policies"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
        .collect()
}

fn statement(statements: &[Value], sid: &str) -> Value {
    statements
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid}"))
        .clone()
}

/// The S3 resources the function role may touch.
/// The media bucket's resources in the function's S3 statements (the ledger's apart).
fn s3_resources(t: &Value) -> Vec<String> {
    function_statements(t)
        .iter()
        .filter(|s| {
            let action = s["Action"].to_string();
            action.contains("s3:") && s["Sid"] != "LedgerRecords"
        })
        .flat_map(|s| match &s["Resource"] {
            Value::Array(r) => r.iter().map(|v| v.as_str().unwrap().to_owned()).collect(),
            r => vec![r.as_str().unwrap().to_owned()],
        })
        .collect()
}

fn batch_statement(t: &Value, sid: &str) -> Value {
    let role = resource(t, "BatchOperationsRole");
    let statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap();
    statement(statements, sid)
}

fn check_batch_operations_role(t: &Value, manifests: &str, reports: &str) {
    let role = resource(t, "BatchOperationsRole");
    let trust = &role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Service"],
        "batchoperations.s3.amazonaws.com"
    );
    assert_eq!(trust["Action"], "sts:AssumeRole");
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:SourceAccount"],
        "123456789012"
    );
    let invoke = batch_statement(t, "InvokeCleanup");
    assert_eq!(invoke["Action"], "lambda:InvokeFunction");
    assert_eq!(
        invoke["Resource"][0],
        json!({"Fn::GetAtt": ["CleanupFunction", "Arn"]})
    );
    assert_eq!(
        batch_statement(t, "ReadManifests")["Resource"],
        format!("arn:aws:s3:::{manifests}")
    );
    assert_eq!(
        batch_statement(t, "WriteReports")["Resource"],
        format!("arn:aws:s3:::{reports}")
    );
    assert_eq!(batch_statement(t, "WriteReports")["Action"], "s3:PutObject");
    assert_eq!(
        t["Outputs"]["BatchOperationsRoleArn"]["Value"],
        json!({"Fn::GetAtt": ["BatchOperationsRole", "Arn"]})
    );
}

/// The endpoint variables are declared, empty (unset to the function), so that
/// `sam local invoke --env-vars` can set them.
fn check_endpoint_variables(t: &Value) {
    let variables = &resource(t, "CleanupFunction")["Properties"]["Environment"]["Variables"];
    for name in ["AWS_ENDPOINT_URL_SOCIALMESSAGING", "AWS_ENDPOINT_URL_S3"] {
        assert_eq!(variables[name], "", "{name}: {variables}");
    }
}

fn check_tag_reads(t: &Value) {
    // Without s3:ListBucket, S3 answers HeadObject of a missing key with 403, not 404.
    // tests/iam.rs runs the flows under these statements, each action removed in turn.
    let listing = statement(&function_statements(t), "MediaVersions");
    assert_eq!(
        listing["Action"],
        json!(["s3:ListBucket", "s3:ListBucketVersions"]),
        "{listing}"
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn by_default_a_versioned_bucket_is_created_and_notifies_the_function() {
    let t = render(&[]);
    let bucket_name = "whatsapp-media-123456789012-us-east-1";
    let bucket = resource(&t, "MediaBucket");
    assert_eq!(bucket["Properties"]["BucketName"], bucket_name);
    assert_eq!(
        bucket["Properties"]["VersioningConfiguration"]["Status"],
        "Enabled"
    );
    assert_eq!(
        notified_events(&bucket["Properties"]["NotificationConfiguration"]["LambdaConfigurations"]),
        DELETIONS
    );
    assert!(!has(&t, "ExistingBucketDeletionsRule"));
    assert!(!has(&t, "ExistingBucketRuleInvokePermission"));
    assert!(has(&t, "BucketInvokePermission"));
    for arn in s3_resources(&t) {
        assert!(
            arn == format!("arn:aws:s3:::{bucket_name}")
                || arn == format!("arn:aws:s3:::{bucket_name}/*"),
            "{arn}"
        );
    }
    assert!(waits_for(&t, "MediaBucket", "BucketInvokePermission"));
    // Requests without TLS are refused.
    let policy = &resource(&t, "MediaBucketPolicy")["Properties"];
    assert_eq!(policy["Bucket"], json!({"Ref": "MediaBucket"}));
    let deny = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(deny["Effect"], "Deny");
    assert_eq!(deny["Action"], "s3:*");
    assert_eq!(
        deny["Condition"],
        json!({"Bool": {"aws:SecureTransport": "false"}})
    );
    check_tag_reads(&t);
    check_endpoint_variables(&t);
    check_logs_and_tracing(&t, 30, "PassThrough");
    check_batch_operations_role(
        &t,
        &format!("{bucket_name}/batch-manifests/*"),
        &format!("{bucket_name}/batch-reports/*"),
    );
}

/// The function logs to a log group of the stack's, kept `days`, in X-Ray mode `tracing`.
fn check_logs_and_tracing(t: &Value, days: u64, tracing: &str) {
    let function = &resource(t, "CleanupFunction")["Properties"];
    assert_eq!(
        function["LoggingConfig"]["LogGroup"],
        json!({"Ref": "FunctionLogGroup"})
    );
    assert_eq!(
        resource(t, "FunctionLogGroup")["Properties"]["RetentionInDays"],
        json!(days.to_string())
    );
    assert_eq!(function["TracingConfig"]["Mode"], tracing);
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn logs_are_kept_for_a_set_time_and_tracing_is_one_parameter() {
    let t = render(&["LogRetentionInDays=90", "Tracing=Active"]);
    check_logs_and_tracing(&t, 90, "Active");
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn an_existing_bucket_is_watched_through_eventbridge_with_iam_for_it_alone() {
    let t = render(&["ExistingBucketName=team-media"]);
    assert!(!has(&t, "MediaBucket"), "no bucket may be created");
    assert!(!has(&t, "BucketInvokePermission"));
    let rule = resource(&t, "ExistingBucketDeletionsRule");
    assert_eq!(rule["Type"], "AWS::Events::Rule");
    assert_eq!(
        rule["Properties"]["EventPattern"],
        json!({"source": ["aws.s3"], "detail-type": ["Object Deleted"],
               "detail": {"bucket": {"name": ["team-media"]}}})
    );
    let targets = rule["Properties"]["Targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!(
        targets[0]["Arn"],
        json!({"Fn::GetAtt": ["CleanupFunction", "Arn"]})
    );
    // Events EventBridge cannot deliver are not lost either.
    assert_eq!(
        targets[0]["DeadLetterConfig"]["Arn"],
        json!({"Fn::GetAtt": ["FailedEventsQueue", "Arn"]})
    );
    let queue_policy = &resource(&t, "FailedEventsQueuePolicy")["Properties"]["PolicyDocument"];
    // The stack's own rule, by its exact name: no other rule of the account may send.
    assert_eq!(
        queue_policy["Statement"][0]["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": RULE_ARN}})
    );
    let permission = resource(&t, "ExistingBucketRuleInvokePermission");
    assert_eq!(
        permission["Properties"]["Principal"],
        "events.amazonaws.com"
    );
    assert_eq!(permission["Properties"]["SourceArn"], json!(RULE_ARN));
    // The rule delivers from the moment it exists: only once the function and the failure
    // queue take its events.
    assert_eq!(
        rule["Properties"]["Name"],
        RULE_ARN.rsplit('/').next().unwrap()
    );
    assert!(waits_for(
        &t,
        "ExistingBucketDeletionsRule",
        "ExistingBucketRuleInvokePermission"
    ));
    assert!(waits_for(
        &t,
        "ExistingBucketDeletionsRule",
        "FailedEventsQueuePolicy"
    ));
    let resources = s3_resources(&t);
    assert_eq!(
        resources,
        ["arn:aws:s3:::team-media/*", "arn:aws:s3:::team-media"],
        "IAM must cover the existing bucket only"
    );
    assert_eq!(t["Outputs"]["MediaBucketName"]["Value"], "team-media");
    check_tag_reads(&t);
    check_batch_operations_role(
        &t,
        "team-media/batch-manifests/*",
        "team-media/batch-reports/*",
    );
    // Nothing still names the bucket the template would otherwise create.
    assert!(!t.to_string().contains("whatsapp-media-123456789012"));
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn an_existing_bucket_with_the_sqs_buffer_sends_its_events_to_the_queue() {
    let t = render(&["ExistingBucketName=team-media", "UseSqsBuffer=true"]);
    assert!(!has(&t, "MediaBucket"));
    let rule = resource(&t, "ExistingBucketDeletionsRule");
    let target = &rule["Properties"]["Targets"][0];
    assert_eq!(target["Arn"], json!({"Fn::GetAtt": ["BufferQueue", "Arn"]}));
    assert!(!has(&t, "ExistingBucketRuleInvokePermission"));
    let statements = resource(&t, "BufferQueuePolicy")["Properties"]["PolicyDocument"]["Statement"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(statements.len(), 1, "{statements:?}");
    assert_eq!(
        statements[0]["Principal"]["Service"],
        "events.amazonaws.com"
    );
    assert_eq!(
        statements[0]["Condition"],
        json!({"ArnEquals": {"aws:SourceArn": RULE_ARN}})
    );
    assert!(waits_for(
        &t,
        "ExistingBucketDeletionsRule",
        "BufferQueuePolicy"
    ));
    assert!(waits_for(
        &t,
        "ExistingBucketDeletionsRule",
        "FailedEventsQueuePolicy"
    ));
    let mapping = resource(&t, "BufferQueueMapping");
    assert_eq!(
        mapping["Properties"]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn a_created_bucket_with_the_sqs_buffer_notifies_the_queue() {
    let t = render(&["UseSqsBuffer=true"]);
    let bucket = resource(&t, "MediaBucket");
    let notifications = &bucket["Properties"]["NotificationConfiguration"];
    assert!(notifications.get("LambdaConfigurations").is_none());
    assert_eq!(
        notified_events(&notifications["QueueConfigurations"]),
        DELETIONS
    );
    for configuration in notifications["QueueConfigurations"].as_array().unwrap() {
        assert_eq!(
            configuration["Queue"],
            json!({"Fn::GetAtt": ["BufferQueue", "Arn"]})
        );
    }
    let statements =
        &resource(&t, "BufferQueuePolicy")["Properties"]["PolicyDocument"]["Statement"];
    assert_eq!(statements[0]["Principal"]["Service"], "s3.amazonaws.com");
    // S3 checks that it may send to the queue when the notification is set.
    assert!(waits_for(&t, "MediaBucket", "BufferQueuePolicy"));
    assert!(!has(&t, "ExistingBucketDeletionsRule"));
    // What the buffer dead-letters is seen, as the failure queue's is.
    let alarm = &resource(&t, "BufferDeadLetterAlarm")["Properties"];
    assert_eq!(
        alarm["Dimensions"][0]["Value"],
        json!({"Fn::GetAtt": ["BufferDeadLetterQueue", "QueueName"]})
    );
    assert_eq!(alarm["Threshold"], json!(1));
    assert!(!has(&render(&[]), "BufferDeadLetterAlarm"));
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn batch_operations_manifests_and_reports_may_live_in_buckets_of_their_own() {
    let t = render(&[
        "ExistingBucketName=team-media",
        "BatchManifestBucketName=team-manifests",
        "BatchReportBucketName=team-reports",
        "BatchManifestPrefix=jobs/in/",
        "BatchReportPrefix=",
    ]);
    check_batch_operations_role(&t, "team-manifests/jobs/in/*", "team-reports/*");
    assert_eq!(
        batch_statement(&t, "BucketLocations")["Resource"],
        json!(["arn:aws:s3:::team-manifests", "arn:aws:s3:::team-reports"])
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_failure_queue_can_be_redriven_with_one_switch_and_is_off_by_default() {
    for (params, enabled) in [(&[][..], false), (&["RedriveFailedEvents=true"][..], true)] {
        let t = render(params);
        let mapping = resource(&t, "FailedEventsRedriveMapping");
        assert_eq!(mapping["Type"], "AWS::Lambda::EventSourceMapping");
        assert_eq!(mapping["Properties"]["Enabled"], enabled, "{params:?}");
        assert_eq!(
            mapping["Properties"]["EventSourceArn"],
            json!({"Fn::GetAtt": ["FailedEventsQueue", "Arn"]})
        );
        assert_eq!(
            mapping["Properties"]["FunctionResponseTypes"],
            json!(["ReportBatchItemFailures"])
        );
        // Lambda refuses a mapping whose queue would hand a message out again before the
        // function's timeout (every_sqs_source_waits_six_function_timeouts, below).
        let queue = &resource(&t, "FailedEventsQueue")["Properties"];
        let timeout = number(&resource(&t, "CleanupFunction")["Properties"]["Timeout"]);
        assert!(number(&queue["VisibilityTimeout"]) >= timeout);
        assert_eq!(
            queue["RedrivePolicy"]["deadLetterTargetArn"],
            json!({"Fn::GetAtt": ["FailedEventsDeadLetterQueue", "Arn"]})
        );
        let consumer = &resource(&t, "FailedEventsConsumerPolicy")["Properties"];
        assert_eq!(consumer["Roles"], json!([{"Ref": "CleanupFunctionRole"}]));
        assert_eq!(
            consumer["PolicyDocument"]["Statement"][0]["Resource"],
            json!({"Fn::GetAtt": ["FailedEventsQueue", "Arn"]})
        );
        assert!(has(&t, "FailedRedrivesAlarm"));
    }
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn a_dashboard_shows_a_bulk_run_and_reserved_concurrency_is_one_parameter() {
    let t = render(&[]);
    let body = resource(&t, "Dashboard")["Properties"]["DashboardBody"]
        .as_str()
        .expect("the dashboard body, substituted")
        .to_owned();
    let dashboard: Value = serde_json::from_str(&body).expect("the dashboard body is JSON");
    let widgets = dashboard["widgets"].as_array().unwrap();
    let metrics = widgets
        .iter()
        .map(|w| w["properties"]["metrics"].to_string())
        .collect::<String>();
    for name in [
        "Deleted",
        "AlreadyDeleted",
        "Failed",
        "S3DeleteFailed",
        "UnreadableMessages",
        "Throttled",
        "Retries",
        "ApiLatency",
        "ApproximateNumberOfMessagesVisible",
        "ConcurrentExecutions",
    ] {
        assert!(
            metrics.contains(&format!("\"{name}\"")),
            "{name} is not on the dashboard"
        );
    }
    for percentile in ["p50", "p90", "p99"] {
        assert!(metrics.contains(percentile), "{percentile}");
    }
    assert!(widgets
        .iter()
        .all(|w| w["properties"]["region"] == "us-east-1"));
    let unreadable = &resource(&t, "UnreadableMessagesAlarm")["Properties"];
    assert_eq!(unreadable["MetricName"], "UnreadableMessages");
    assert_eq!(unreadable["Threshold"], json!(1));

    // Capped by default, at the fleet size whose throttles the fleet benchmark measures.
    let function = |t: &Value| resource(t, "CleanupFunction")["Properties"].clone();
    assert_eq!(function(&t)["ReservedConcurrentExecutions"], "32");
    let capped = render(&["ReservedConcurrency=64"]);
    assert_eq!(function(&capped)["ReservedConcurrentExecutions"], "64");
    let uncapped = render(&["ReservedConcurrency="]);
    assert!(function(&uncapped)
        .get("ReservedConcurrentExecutions")
        .is_none());
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn phone_numbers_of_other_regions_are_one_parameter_away() {
    let resource =
        |t: &Value| statement(&function_statements(t), "DeleteWhatsAppMedia")["Resource"].clone();
    // By default, this stack's Region only.
    assert_eq!(
        resource(&render(&[])),
        "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/*"
    );
    // ARNs of other Regions are sent there: the role must allow them.
    assert_eq!(
        resource(&render(&["PhoneNumberIdRegion=*"])),
        "arn:aws:social-messaging:*:123456789012:phone-number-id/*"
    );
    assert_eq!(
        resource(&render(&[
            "PhoneNumberIdRegion=ap-northeast-1",
            "PhoneNumberIdResource=0123abc"
        ])),
        "arn:aws:social-messaging:ap-northeast-1:123456789012:phone-number-id/0123abc"
    );
}

/// The first number in `from..to` for which `holds` (which, once true, stays true), by
/// bisection: each try is a render.
fn first(mut from: u64, mut to: u64, holds: impl Fn(u64) -> bool) -> u64 {
    while from < to {
        let middle = from + (to - from) / 2;
        if holds(middle) {
            to = middle;
        } else {
            from = middle + 1;
        }
    }
    from
}

/// The parameter's number as CloudFormation renders it (a string) or writes it (a number).
fn number(value: &Value) -> u64 {
    match value {
        Value::String(s) => s.parse().unwrap(),
        other => other
            .as_u64()
            .unwrap_or_else(|| panic!("not a number: {other}")),
    }
}

/// The template's retention for the created bucket: its objects expire after
/// `ExpireCurrentObjectsAfterDays`, and the delete markers that puts on them notify the
/// function (tests/aws_rules.rs runs such an event).
#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn a_retention_setting_expires_current_objects_and_their_media() {
    let rules = |t: &Value| {
        resource(t, "MediaBucket")["Properties"]["LifecycleConfiguration"]["Rules"]
            .as_array()
            .unwrap()
            .clone()
    };
    let kept = render(&[]);
    assert_eq!(
        rules(&kept).len(),
        1,
        "objects are kept until deleted by default"
    );
    let expiring = render(&["ExpireCurrentObjectsAfterDays=30"]);
    let rules = rules(&expiring);
    let rule = rules
        .iter()
        .find(|r| r["Id"] == "expire-current-objects")
        .expect("a rule that expires current objects");
    assert_eq!(rule["Status"], "Enabled");
    assert_eq!(number(&rule["ExpirationInDays"]), 30);
    // Expiry of the created bucket's current objects only: a bucket the team has is
    // theirs to configure.
    let existing = render(&[
        "ExistingBucketName=team-media",
        "ExpireCurrentObjectsAfterDays=30",
    ]);
    assert!(!has(&existing, "MediaBucket"));
}

/// Lambda advises a visibility timeout of six times the function's timeout for an SQS
/// source, and refuses a mapping whose queue's is shorter than the timeout
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-configure.html). The queues'
/// come from the function's timeout, so no set of parameters breaks the rule.
#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn every_sqs_source_waits_six_function_timeouts() {
    for timeout in [10, 30, 60, 120, 300, 600, 900] {
        let t = render(&[&format!("FunctionTimeout={timeout}"), "UseSqsBuffer=true"]);
        let function = &resource(&t, "CleanupFunction")["Properties"];
        assert_eq!(number(&function["Timeout"]), timeout);
        for queue in ["BufferQueue", "FailedEventsQueue"] {
            let visibility = number(&resource(&t, queue)["Properties"]["VisibilityTimeout"]);
            assert_eq!(
                visibility,
                6 * timeout,
                "{queue} at FunctionTimeout={timeout}"
            );
        }
    }
    let refused = testkit::iam::try_render(&["FunctionTimeout=45"]);
    assert!(refused.is_err_and(|e| e.contains("FunctionTimeout")));
}

/// AWS: "make sure that your function's reserved concurrency is greater than or equal to
/// the total maximum concurrency for all Amazon SQS event sources on the function.
/// Otherwise, Lambda may throttle your messages", and a throttled batch counts as a
/// receive, so it may reach the dead-letter queue unprocessed
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html). The buffer's and
/// the redrive's mappings together, at the most the parameters accept, fit in the least
/// reserved concurrency they accept.
#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_sqs_mappings_together_never_exceed_the_reserved_concurrency() {
    let accepted = |name: &str, n: u64| testkit::iam::try_render(&[&format!("{name}={n}")]).is_ok();
    // Lambda's own bounds on maximum concurrency are 2 and 1000.
    let most_sqs = first(2, 1001, |n| !accepted("SqsMaximumConcurrency", n)) - 1;
    let least_reserved = first(0, 1001, |n| accepted("ReservedConcurrency", n));
    let t = render(&[
        &format!("SqsMaximumConcurrency={most_sqs}"),
        "UseSqsBuffer=true",
    ]);
    let mappings: Vec<&Value> = t["Resources"]
        .as_object()
        .unwrap()
        .values()
        .filter(|r| r["Type"] == "AWS::Lambda::EventSourceMapping")
        .collect();
    assert_eq!(mappings.len(), 2, "the buffer's and the redrive's");
    let total: u64 = mappings
        .iter()
        .map(|m| number(&m["Properties"]["ScalingConfig"]["MaximumConcurrency"]))
        .sum();
    assert!(
        total <= least_reserved,
        "the SQS mappings may run {total} instances, over the least reserved concurrency {least_reserved}"
    );
    assert!(
        testkit::iam::try_render(&["ReservedConcurrency="]).is_ok(),
        "no reservation stays possible"
    );
}

/// A dead-letter queue keeps a message's first enqueue time, and its
/// ApproximateAgeOfOldestMessage counts only from the move; AWS advises a dead-letter
/// queue's retention longer than its source's
/// (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/setting-up-dead-letter-queue-retention.html).
/// Each queue's age alarm fires well before its messages expire, a dead-letter queue's
/// after a day, while what was dead-lettered last still has days left. And the versions a
/// marker event reads outlast every queue it can wait in.
#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn nothing_in_a_queue_expires_unseen() {
    let t = render(&["UseSqsBuffer=true"]);
    let queue = |name: &str| resource(&t, name)["Properties"].clone();
    let retention = |name: &str| number(&queue(name)["MessageRetentionPeriod"]);
    let day = 86_400;
    for (source, dead_letter) in [
        ("FailedEventsQueue", "FailedEventsDeadLetterQueue"),
        ("BufferQueue", "BufferDeadLetterQueue"),
    ] {
        assert_eq!(
            queue(source)["RedrivePolicy"]["deadLetterTargetArn"],
            json!({"Fn::GetAtt": [dead_letter, "Arn"]})
        );
        assert!(
            retention(dead_letter) >= retention(source) + 3 * day,
            "{dead_letter} must keep a dead-lettered message days longer than {source}"
        );
        // AWS advises at least 5; throttled batches count as receives too, so 10.
        assert_eq!(
            number(&queue(source)["RedrivePolicy"]["maxReceiveCount"]),
            u64::from(testkit::fleet::MAX_RECEIVES)
        );
    }
    for (alarm, name, dead_letter) in [
        ("FailedEventsAgeAlarm", "FailedEventsQueue", false),
        (
            "FailedRedrivesAgeAlarm",
            "FailedEventsDeadLetterQueue",
            true,
        ),
        ("BufferAgeAlarm", "BufferQueue", false),
        ("BufferDeadLetterAgeAlarm", "BufferDeadLetterQueue", true),
    ] {
        let alarm = &resource(&t, alarm)["Properties"];
        assert_eq!(alarm["MetricName"], "ApproximateAgeOfOldestMessage");
        assert_eq!(
            alarm["Dimensions"][0]["Value"],
            json!({"Fn::GetAtt": [name, "QueueName"]})
        );
        assert_eq!(alarm["ComparisonOperator"], "GreaterThanOrEqualToThreshold");
        let threshold = number(&alarm["Threshold"]);
        let most = if dead_letter {
            day
        } else {
            retention(name) / 2
        };
        assert!(threshold <= most, "{name}: {threshold}");
    }
    // The longest a marker event waits before it reads a version: EventBridge's retries (a
    // day), Lambda's (6 hours), then the failure queue and its dead-letter queue, which
    // keeps the first enqueue time.
    let longest_wait = day + 21_600 + retention("FailedEventsDeadLetterQueue");
    let least_days = first(1, 366, |n| {
        testkit::iam::try_render(&[&format!("NoncurrentVersionDays={n}")]).is_ok()
    });
    assert!(
        least_days * day >= longest_wait,
        "NoncurrentVersionDays accepts {least_days}: a redriven marker event would find no version"
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn by_default_the_erasure_ledger_is_a_locked_bucket_kept_with_the_stack() {
    let t = render(&[]);
    let bucket = resource(&t, "LedgerBucket");
    assert_eq!(bucket["DeletionPolicy"], "Retain");
    assert_eq!(bucket["UpdateReplacePolicy"], "Retain");
    let p = &bucket["Properties"];
    assert_eq!(p["ObjectLockEnabled"], true);
    assert_eq!(
        p["ObjectLockConfiguration"],
        json!({"ObjectLockEnabled": "Enabled",
               "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": "365"}}})
    );
    assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
    let rules = p["LifecycleConfiguration"]["Rules"].as_array().unwrap();
    assert_eq!(
        rules[0]["ExpirationInDays"], "365",
        "records expire after their retention"
    );
    assert_eq!(rules[0]["NoncurrentVersionExpiration"]["NoncurrentDays"], 1);
    assert_eq!(rules[1]["ExpiredObjectDeleteMarker"], true);
    for block in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(p["PublicAccessBlockConfiguration"][block], true, "{block}");
    }
    let policy = resource(&t, "LedgerBucketPolicy");
    assert_eq!(
        policy["DeletionPolicy"], "Retain",
        "the bucket keeps its TLS rule"
    );
    let tls = &policy["Properties"]["PolicyDocument"]["Statement"][0];
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
    // The function writes there, under erasures/ only, and may do nothing else with it.
    let env = &resource(&t, "CleanupFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(env["ERASURE_LEDGER_BUCKET"], json!({"Ref": "LedgerBucket"}));
    assert!(
        env.get("ERASURE_LEDGER_PREFIX").is_none(),
        "the function's default, erasures/"
    );
    let records = statement(&function_statements(&t), "LedgerRecords");
    assert_eq!(records["Action"], "s3:PutObject");
    assert_eq!(
        records["Resource"],
        "arn:aws:s3:::${LedgerBucket}/erasures/*"
    );
    for other in function_statements(&t) {
        if other["Sid"] != "LedgerRecords" {
            assert!(
                !other["Resource"].to_string().contains("LedgerBucket"),
                "{other}"
            );
        }
    }
    assert!(has(&t, "LedgerTable") && has(&t, "DayFailuresQuery"));

    // COMPLIANCE and the days are parameters.
    let compliance = render(&["LedgerRetentionMode=COMPLIANCE", "LedgerRetentionDays=2555"]);
    assert_eq!(
        resource(&compliance, "LedgerBucket")["Properties"]["ObjectLockConfiguration"]["Rule"],
        json!({"DefaultRetention": {"Mode": "COMPLIANCE", "Days": "2555"}})
    );
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn a_team_names_its_own_ledger_bucket_or_turns_the_ledger_off() {
    let own = render(&["LedgerBucketName=team-ledger"]);
    assert!(!has(&own, "LedgerBucket") && !has(&own, "LedgerBucketPolicy"));
    let env = &resource(&own, "CleanupFunction")["Properties"]["Environment"]["Variables"];
    assert_eq!(env["ERASURE_LEDGER_BUCKET"], "team-ledger");
    assert_eq!(
        statement(&function_statements(&own), "LedgerRecords")["Resource"],
        "arn:aws:s3:::team-ledger/erasures/*"
    );
    assert_eq!(own["Outputs"]["LedgerBucket"]["Value"], "team-ledger");
    assert!(has(&own, "LedgerTable"));

    let off = render(&["LedgerBucketName=off"]);
    let env = &resource(&off, "CleanupFunction")["Properties"]["Environment"]["Variables"];
    assert!(env.get("ERASURE_LEDGER_BUCKET").is_none());
    assert!(function_statements(&off)
        .iter()
        .all(|s| s["Sid"] != "LedgerRecords"));
    for name in [
        "LedgerBucket",
        "LedgerTable",
        "LedgerDatabase",
        "MediaErasureQuery",
    ] {
        assert!(!has(&off, name), "{name}");
    }
    assert!(off["Outputs"].get("LedgerBucket").is_none());
}

#[test]
#[ignore = "needs the SAM CLI: run make test"]
fn the_failure_queue_is_watched_whatever_a_messages_receive_count() {
    // ApproximateAgeOfOldestMessage leaves out messages received three times or more:
    // this alarm counts what has sat there, visible or in flight, every hour for 5 days.
    let t = render(&[]);
    let alarm = &resource(&t, "FailedEventsStuckAlarm")["Properties"];
    let metrics = alarm["Metrics"].as_array().unwrap();
    let stat = |id: &str| {
        metrics
            .iter()
            .find(|m| m["Id"] == id)
            .map(|m| m["MetricStat"].clone())
            .unwrap()
    };
    assert_eq!(
        stat("visible")["Metric"]["MetricName"],
        "ApproximateNumberOfMessagesVisible"
    );
    assert_eq!(
        stat("inflight")["Metric"]["MetricName"],
        "ApproximateNumberOfMessagesNotVisible"
    );
    for id in ["visible", "inflight"] {
        assert_eq!(
            stat(id)["Metric"]["Dimensions"][0]["Value"],
            json!({"Fn::GetAtt": ["FailedEventsQueue", "QueueName"]})
        );
        assert_eq!(stat(id)["Period"], 3600);
        // A message that moves between visible and in flight within an hour still counts.
        assert_eq!(stat(id)["Stat"], "Maximum");
    }
    assert_eq!(alarm["Threshold"], 1);
    // Every period of the window must breach, and the window ends before SQS drops the
    // message, within CloudWatch's evaluation range of at most 7 days.
    assert_eq!(alarm["DatapointsToAlarm"], alarm["EvaluationPeriods"]);
    let window = alarm["EvaluationPeriods"].as_u64().unwrap() * 3600;
    let retention = resource(&t, "FailedEventsQueue")["Properties"]["MessageRetentionPeriod"]
        .as_u64()
        .unwrap();
    assert!(
        window < retention && window <= 7 * 86400,
        "{window} s of {retention}"
    );
}
