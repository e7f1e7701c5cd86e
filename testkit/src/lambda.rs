//! The real function binary under cargo-lambda's Runtime API emulator
//! (`cargo lambda watch --only-lambda-apis`), invoked with `cargo lambda invoke`. The
//! emulator serves the Runtime API under `/.rt`, its own path; AWS's is
//! https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html.

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What an invocation returned.
#[derive(Debug)]
pub enum Invocation {
    /// The function's payload.
    Payload(Value),
    /// A function error: its `errorType` and the text cargo-lambda printed.
    Error { error_type: String, text: String },
}

/// The emulator and one function process; both are killed when this is dropped.
pub struct LocalLambda {
    emulator: Child,
    function: Child,
    port: u16,
    cargo_lambda: PathBuf,
    /// Where the function's stdout and stderr go.
    pub function_log: PathBuf,
}

impl Drop for LocalLambda {
    fn drop(&mut self) {
        for child in [&mut self.function, &mut self.emulator] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The cargo-lambda executable: `$CARGO_LAMBDA`, else the project's virtualenv.
pub fn cargo_lambda() -> PathBuf {
    std::env::var_os("CARGO_LAMBDA")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::root().join(".venv/bin/cargo-lambda"))
}

impl LocalLambda {
    /// Starts the emulator, then `binary` with `env` (and nothing of this process's AWS
    /// settings), writing logs under `log_dir`.
    pub fn start(binary: &Path, env: &[(String, String)], log_dir: &Path) -> Self {
        Self::start_command(binary.as_os_str(), &[], env, log_dir)
    }

    /// As [`Self::start`], with the function run as `program args...` (e.g. under qemu).
    pub fn start_command(
        program: &std::ffi::OsStr,
        args: &[&std::ffi::OsStr],
        env: &[(String, String)],
        log_dir: &Path,
    ) -> Self {
        let cargo_lambda = cargo_lambda();
        assert!(
            cargo_lambda.exists(),
            "{} is missing: run `make test` (it installs cargo-lambda into .venv)",
            cargo_lambda.display()
        );
        std::fs::create_dir_all(log_dir).expect("log dir");
        let port = super::free_port();
        let emulator_log = File::create(log_dir.join("emulator.log")).expect("emulator log");
        let emulator = Command::new(&cargo_lambda)
            .args([
                "lambda",
                "watch",
                "--only-lambda-apis",
                "-A",
                "127.0.0.1",
                "-P",
            ])
            .arg(port.to_string())
            .stdin(Stdio::null())
            .stdout(emulator_log.try_clone().expect("log"))
            .stderr(emulator_log)
            .spawn()
            .expect("start cargo lambda watch");
        let ready = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                ready.elapsed() < Duration::from_secs(30),
                "the Runtime API emulator did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }

        let function_log = log_dir.join("function.log");
        let log = File::create(&function_log).expect("function log");
        let mut command = Command::new(program);
        command
            .args(args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let function = command.spawn().expect("start the function binary");
        Self {
            emulator,
            function,
            port,
            cargo_lambda,
            function_log,
        }
    }

    /// Invokes the function with the JSON in `data_file`.
    pub fn invoke_file(&self, data_file: &Path) -> Invocation {
        self.invoke(&["--data-file".as_ref(), data_file.as_os_str()])
    }

    /// Invokes the function with `data` as the event.
    pub fn invoke_json(&self, data: &str) -> Invocation {
        self.invoke(&["--data-ascii".as_ref(), data.as_ref()])
    }

    fn invoke(&self, data: &[&std::ffi::OsStr]) -> Invocation {
        let output = Command::new(&self.cargo_lambda)
            .args(["lambda", "invoke", "-A", "127.0.0.1", "-P"])
            .arg(self.port.to_string())
            .args(["--output-format", "json"])
            .args(data)
            .stdin(Stdio::null())
            .output()
            .expect("run cargo lambda invoke");
        let stdout = String::from_utf8_lossy(&output.stdout);
        if output.status.success() {
            let payload = serde_json::from_str(&stdout)
                .unwrap_or_else(|e| panic!("invoke printed no JSON ({e}): {stdout}"));
            return Invocation::Payload(payload);
        }
        let text = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
        let error_type = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("Error: "))
            .unwrap_or_default()
            .trim()
            .to_owned();
        Invocation::Error { error_type, text }
    }

    /// Whether the function process is still running.
    pub fn function_is_running(&mut self) -> bool {
        matches!(self.function.try_wait(), Ok(None))
    }
}
