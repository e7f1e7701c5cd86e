# Two commands on a fresh machine with Rust and Python 3:
#   make demo   run the function locally on the sample events (nothing in AWS)
#   make test   every check and test, as CI runs it
# Each installs what it needs into .venv (cargo-lambda, moto, cfn-lint, aws-sam-cli).

SHELL := /bin/bash
VENV := .venv
TOOLS := $(VENV)/.installed
# Tests find cargo-lambda here; SAM CLI must not phone home from CI.
export CARGO_LAMBDA := $(CURDIR)/$(VENV)/bin/cargo-lambda
export SAM_CLI_TELEMETRY := 0

.PHONY: test demo lint tools clean

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

tools: $(TOOLS)

# Everything is built in the release profile, once: the unit, integration and
# end-to-end tests all run against the same optimised build that users deploy.
lint: $(TOOLS)
	cargo fmt --check
	cargo clippy --release --locked --all-targets -- -D warnings
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/sam validate --lint --template template.yaml --region us-east-1

test: lint
	cargo test --release --locked

demo: $(TOOLS)
	cargo build --release --locked --bins --examples
	target/release/examples/demo

clean:
	cargo clean
	rm -rf $(VENV)
