//! The erasure ledger's Athena table and named queries, as template.yaml declares them,
//! run with DuckDB over records that the release binary wrote into moto: the table's
//! columns are exactly the records' fields, and each documented question finds what it
//! should (docs/operating.md, "Prove an erasure").

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde_json::{json, Map, Value};
use testkit::endpoint::{LocalEndpoint, Reply};
use testkit::moto::Moto;
use testkit::runtime_api::Function;
use testkit::{PHONE, REGION};

const LEDGER: &str = "erasure-ledger";

/// The rendered template's resource `name`'s properties, in its default variant.
fn properties(template: &Value, name: &str) -> Value {
    template["Resources"][name]["Properties"].clone()
}

/// DuckDB's type for a Glue column type.
fn duckdb_type(glue: &str) -> &'static str {
    match glue {
        "string" => "VARCHAR",
        "int" => "INTEGER",
        other => panic!("a Glue type the ledger does not use: {other}"),
    }
}

/// Runs `sql` with `parameters` over the ledger files under `root`, its columns those of
/// the Glue table (each matched to a record field as the JSON SerDe matches them, case
/// aside).
fn query(root: &Path, columns: &Map<String, Value>, sql: &str, parameters: Value) -> Vec<Value> {
    let out = Command::new(testkit::root().join(".venv/bin/python"))
        .arg(testkit::root().join("testkit/src/ledger_query.py"))
        .arg(root)
        .arg(Value::Object(columns.clone()).to_string())
        .arg(sql)
        .arg(parameters.to_string())
        .output()
        .expect("run ledger_query.py");
    assert!(
        out.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("JSON rows")
}

async fn download(s3: &aws_sdk_s3::Client, root: &Path) -> Vec<Value> {
    let mut all = Vec::new();
    for (key, records) in testkit::ledger::objects(s3, LEDGER, "erasures/").await {
        let path: PathBuf = root.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        all.extend(records);
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs moto, the SAM CLI and DuckDB: run make test"]
async fn the_documented_queries_answer_from_the_records_the_binary_wrote() {
    // The team's own bucket, so that the table's location names it.
    let template = testkit::iam::render(&[&format!("LedgerBucketName={LEDGER}")]);
    let moto = Moto::start();
    let s3 = moto.client();
    testkit::moto::create_bucket(&s3, "media", true).await;
    for (key, media) in [("in/a.jpg", "ma"), ("in/b.jpg", "mb"), ("in/c.jpg", "mc")] {
        testkit::moto::put(&s3, "media", key, Some((media, PHONE)), "x").await;
    }
    testkit::ledger::create_bucket(&s3, LEDGER, 1).await;
    let endpoint = LocalEndpoint::start(0, testkit::credentials(), REGION, Duration::ZERO)
        .await
        .unwrap();
    endpoint.script("mc", [Reply::error(403, "AccessDeniedException", "no")]);
    let function = Function::spawn(
        Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup")),
        &endpoint.url(),
        &[
            ("AWS_ENDPOINT_URL_S3", &moto.url),
            ("ERASURE_LEDGER_BUCKET", LEDGER),
            ("MAX_ATTEMPTS", "1"),
        ],
        &std::env::temp_dir().join("ledger-queries-function.log"),
    )
    .await;
    function
        .api
        .invoke(json!({"reference": "DSR-1", "deletions": [
            {"bucket": "media", "key": "in/a.jpg"},
            {"bucket": "media", "key": "in/c.jpg"}]}))
        .await;
    // The same media again, by id: the service answers it is gone.
    function
        .api
        .invoke(json!({"mediaId": "ma", "originationPhoneNumberId": PHONE, "reference": "DSR-2"}))
        .await;
    function
        .api
        .invoke(json!({"invocationSchemaVersion": "2.0", "invocationId": "i",
            "job": {"id": "job-1", "userArguments": {"reference": "DSR-1"}},
            "tasks": [{"taskId": "t1", "s3Bucket": "media", "s3Key": "in/b.jpg", "s3VersionId": null}]}))
        .await;
    drop(function);

    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join("ledger-queries");
    let _ = std::fs::remove_dir_all(&root);
    let records = download(&s3, &root).await;
    assert_eq!(records.len(), 4, "{records:?}");

    // The Glue table's columns are exactly the records' fields, as the JSON SerDe matches
    // them (case aside), with their types.
    let table = properties(&template, "LedgerTable");
    let glue: Vec<(String, String)> = table["TableInput"]["StorageDescriptor"]["Columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["Name"].as_str().unwrap().to_owned(),
                c["Type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let fields: Vec<String> = records[0].as_object().unwrap().keys().cloned().collect();
    let mut columns = Map::new();
    for (name, glue_type) in &glue {
        let field = fields
            .iter()
            .find(|f| f.to_ascii_lowercase() == *name)
            .unwrap_or_else(|| panic!("the Glue column {name} is no record field: {fields:?}"));
        columns.insert(field.clone(), json!(duckdb_type(glue_type)));
    }
    assert_eq!(
        columns.len(),
        fields.len(),
        "record fields without a Glue column"
    );
    // Partitions are projected from the keys the function writes: no crawler, no MSCK.
    let parameters = &table["TableInput"]["Parameters"];
    assert_eq!(parameters["projection.enabled"], "true");
    // With no storage.location.template, projection reads the Hive-style layout under
    // the table's location: erasures/year=YYYY/month=MM/day=DD/, the function's keys.
    assert!(parameters.get("storage.location.template").is_none());
    for (part, digits) in [("month", "2"), ("day", "2")] {
        assert_eq!(parameters[format!("projection.{part}.digits")], digits);
    }
    let keys = table["TableInput"]["PartitionKeys"].to_string();
    assert_eq!(
        keys,
        r#"[{"Name":"year","Type":"string"},{"Name":"month","Type":"string"},{"Name":"day","Type":"string"}]"#
    );
    assert_eq!(
        table["TableInput"]["StorageDescriptor"]["Location"],
        format!("s3://{LEDGER}/erasures/")
    );

    let sql = |name: &str| {
        properties(&template, name)["QueryString"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let by_media = query(&root, &columns, &sql("MediaErasureQuery"), json!(["ma"]));
    let outcomes: Vec<&Value> = by_media.iter().map(|r| &r["outcome"]).collect();
    assert_eq!(
        outcomes,
        [&json!("deleted"), &json!("alreadyDeleted")],
        "{by_media:?}"
    );
    assert_eq!(by_media[0]["key"], "in/a.jpg");
    assert_eq!(by_media[0]["s3object"], "deleted");
    assert_eq!(by_media[1]["reference"], "DSR-2");
    assert!(by_media[0]["requestid"].is_string());

    let by_object = query(
        &root,
        &columns,
        &sql("ObjectErasureQuery"),
        json!(["media", "in/b.jpg"]),
    );
    assert_eq!(by_object.len(), 1, "{by_object:?}");
    assert_eq!(by_object[0]["mediaid"], "mb");
    assert_eq!(by_object[0]["source"], "batch");

    let by_reference = query(
        &root,
        &columns,
        &sql("ReferenceErasureQuery"),
        json!(["DSR-1"]),
    );
    let mut media: Vec<&str> = by_reference
        .iter()
        .map(|r| r["mediaid"].as_str().unwrap())
        .collect();
    media.sort_unstable();
    assert_eq!(media, ["ma", "mb", "mc"], "{by_reference:?}");
    assert!(by_reference
        .iter()
        .any(|r| r["jobid"] == "job-1" && r["taskid"] == "t1"));

    let (year, month, day) = testkit::ledger::today();
    let failures = query(
        &root,
        &columns,
        &sql("DayFailuresQuery"),
        json!([year, month, day]),
    );
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["mediaid"], "mc");
    assert_eq!(failures[0]["errortype"], "AccessDeniedException");
    let yesterday = query(
        &root,
        &columns,
        &sql("DayFailuresQuery"),
        json!([year, month, "00"]),
    );
    assert!(yesterday.is_empty());
}
