//! Log hygiene over the whole suite: every log the suite's function processes and
//! emulators wrote (under the test temp directory) is scanned for the secret key, the
//! session token, signatures and Authorization headers. It runs after the rest of the
//! suite (`make test` calls it with `--ignored`), so it sees every log.

use std::path::{Path, PathBuf};

fn logs_under(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            logs_under(&path, found);
        } else if path.extension().is_some_and(|e| e == "log") {
            found.push(path);
        }
    }
}

#[test]
#[ignore = "runs after the whole suite: make test calls it with --ignored"]
fn no_log_of_the_suite_carries_a_credential() {
    let mut logs = Vec::new();
    logs_under(Path::new(env!("CARGO_TARGET_TMPDIR")), &mut logs);
    // The suite's function logs must all be there, or this check would pass on nothing.
    for expected in [
        "e2e-custom/function.log",
        "arm64/function.log",
        "corpus-function.log",
        "sam-local/function.log",
        // The rig's (testkit::tmp_dir): a wrong guess of cargo's tmp dir would show here.
        "aws-rules-async.log",
    ] {
        assert!(
            logs.iter().any(|l| l.ends_with(expected)),
            "{expected} is missing: run the whole suite first ({logs:?})"
        );
    }
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if log.to_string_lossy().contains("function") {
            testkit::assert_no_secrets(&text);
        } else {
            assert!(
                !text.contains(testkit::SECRET_ACCESS_KEY)
                    && !text.contains(testkit::SESSION_TOKEN),
                "{} carries a credential",
                log.display()
            );
        }
    }
}
