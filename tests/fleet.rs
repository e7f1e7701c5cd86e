//! A short fleet run (`testkit/src/fleet.rs`): a few instances of the release binary with
//! the template's defaults, fed directly and through SQS, against one endpoint enforcing a
//! shared quota. It asserts only that nothing is lost; `make bench` measures the rest.

use std::path::Path;

use testkit::fleet::{self, Feed};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_fleet_over_the_quota_loses_nothing() {
    let binary = Path::new(env!("CARGO_BIN_EXE_whatsapp-media-cleanup"));
    let log_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleet");
    for feed in [Feed::Direct, Feed::Sqs] {
        let f = fleet::run(binary, &log_dir, feed, 6, 300).await;
        assert_eq!(f.lost, 0, "{f:?}");
        assert_eq!(f.deleted, 300, "{f:?}");
    }
}
