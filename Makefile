# Two commands on a fresh machine with Rust and Python 3:
#   make demo   run the function locally on the sample events (nothing in AWS)
#   make test   every check and test, as CI runs it
# And, day to day:
#   make check  fmt, clippy, cargo-deny and the tests that need nothing outside cargo
#   make invoke EVENT=events/<file>.json   one event, locally
#   make bench  speed, memory, init and size figures, and the fleet table (benchmarks/README.md)
#   make fuzz   the property tests over event parsing and ids, with many more cases
# And, for a release (docs/releasing.md):
#   make package [PACKAGE_BUCKET=...]  the zip and its hashes in dist/; with a bucket, sam package
#   make reproducible                  rebuilds the source elsewhere and compares the bootstrap
#   make publish PACKAGE_BUCKET=...    sam publish to the Serverless Application Repository
# Each installs what it needs into .venv (cargo-lambda, moto, cfn-lint, aws-sam-cli), and
# make test checkov into .venv-scan.

SHELL := /bin/bash
VENV := .venv
TOOLS := $(VENV)/.installed
# Tests find cargo-lambda here; SAM CLI must not phone home from CI.
export CARGO_LAMBDA := $(CURDIR)/$(VENV)/bin/cargo-lambda
export SAM_CLI_TELEMETRY := 0

# The artifact users deploy, run under qemu by tests/arm64.rs.
ARM64_BOOTSTRAP := target/lambda/whatsapp-media-cleanup/bootstrap

# Every cargo-lambda build writes the dependencies' source paths, which start with
# CARGO_HOME, into their panic messages: remapped to /cargo, so that a release rebuilds
# byte for byte under any user's CARGO_HOME, and names no home directory. cargo merges
# CARGO_BUILD_RUSTFLAGS with the flags cargo-lambda passes (its target CPU); RUSTFLAGS
# would replace them. Exported, so that tests/arm64.rs builds with the same flags.
CARGO_HOME_DIR := $(or $(CARGO_HOME),$(HOME)/.cargo)
export LAMBDA_RUSTFLAGS := --remap-path-prefix=$(CARGO_HOME_DIR)=/cargo
LAMBDA_BUILD := PATH="$(CURDIR)/$(VENV)/bin:$$PATH" CARGO_BUILD_RUSTFLAGS="$(LAMBDA_RUSTFLAGS)"
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)

.PHONY: test check demo invoke bench fuzz lint rust-lint deny-report tools system-packages arm64 arm64-tools sam-local package reproducible publish clean

$(TOOLS): requirements-dev.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

tools: $(TOOLS)

# cargo-deny, built from crates.io into the repo's own (ignored) .tools folder.
CARGO_DENY := .tools/bin/cargo-deny
$(CARGO_DENY):
	cargo install cargo-deny --version 0.20.2 --locked --root .tools

# checkov pins boto3 to a version that aws-sam-cli's own pin excludes, so it has a
# virtualenv of its own, from requirements-scan.txt.
SCAN_VENV := .venv-scan
SCAN_TOOLS := $(SCAN_VENV)/.installed
$(SCAN_TOOLS): requirements-scan.txt
	python3 -m venv $(SCAN_VENV)
	$(SCAN_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

# Everything is built in the release profile, once: the unit, integration and
# end-to-end tests all run against the same optimised build that users deploy.
rust-lint: $(CARGO_DENY)
	cargo fmt --check
	cargo clippy --release --locked --workspace --all-targets -- -D warnings
	$(CARGO_DENY) --log-level error check licenses bans sources

# The everyday loop: a plain cargo test runs what needs nothing outside cargo (the tests
# that need moto, cargo-lambda, SAM or qemu are #[ignore = "needs ..."]).
check: rust-lint
	cargo test --release --locked --workspace

# The template in each of the shapes it deploys in (scripts/lint_templates.py), through
# cfn-lint, sam validate and checkov.
lint: rust-lint $(TOOLS) $(SCAN_TOOLS)
	$(VENV)/bin/python scripts/lint_templates.py

# make test shows cargo-deny's errors only; this prints its whole report, the duplicate
# crate versions (warnings, allowed by deny.toml) included.
deny-report: $(CARGO_DENY)
	$(CARGO_DENY) check licenses bans sources

# The Debian packages the whole suite needs, each installed only when missing (apt-get
# needs root; elsewhere sudo): jq (the docs' commands run as users would), qemu-user and
# the arm64 C library (the arm64 build runs under qemu), docker.io and qemu-user-static
# (SAM local, whose arm64 image runs under binfmt_misc).
system-packages:
	scripts/system-packages.sh

# The arm64 cross build needs the Rust target, and zig, which cargo-lambda finds as the
# ziglang module of the virtualenv's python (so .venv/bin goes first on PATH).
arm64-tools:
	rustup target list --installed | grep -qx aarch64-unknown-linux-gnu \
		|| rustup target add aarch64-unknown-linux-gnu

arm64: $(TOOLS) arm64-tools
	$(LAMBDA_BUILD) cargo-lambda lambda build --release --arm64 --locked

# Every test: the ignored ones too, which need moto, cargo-lambda, the SAM CLI or qemu.
# SAM local and the log check are left for their own steps below, in that order.
LATER_TESTS := --skip every_sample_under_sam_local_and_start_lambda_from_boto3 \
	--skip no_log_of_the_suite_carries_a_credential

# The CDK example's packages (examples/cdk, from its package-lock.json), for its `cdk synth`
# in tests/release.rs. npm comes with Node.js.
CDK_MODULES := examples/cdk/node_modules/.package-lock.json
$(CDK_MODULES): examples/cdk/package-lock.json
	cd examples/cdk && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: lint system-packages arm64 $(CDK_MODULES)
	cargo test --release --locked -- --include-ignored $(LATER_TESTS)
	$(MAKE) --no-print-directory sam-local
	@# The testkit's tools run nowhere else: make demo, once, on every sample.
	cargo build --release --locked --workspace --bins --examples
	target/release/demo > target/tmp/demo.out || { cat target/tmp/demo.out; exit 1; }
	cargo test --release --locked --test log_hygiene -- --ignored
	$(MAKE) --no-print-directory reproducible

# SAM local, as users first run it (tests/sam_local.rs): Docker, the base image SAM
# expects (built here: no registry can be reached), `sam build`, then every sample through
# `sam local invoke`, and boto3 against `sam local start-lambda`. Needs root or sudo
# (dockerd, binfmt_misc). dockerd is stopped afterwards if this started it.
sam-local: $(TOOLS) system-packages arm64-tools
	tests/sam/docker-up.sh
	status=0; \
	tests/sam/base-image.sh \
	&& $(LAMBDA_BUILD) $(VENV)/bin/sam build < /dev/null \
	&& cargo test --release --locked --test sam_local -- --ignored \
	|| status=$$?; \
	tests/sam/docker-down.sh; \
	exit $$status

demo: $(TOOLS)
	cargo build --release --locked --workspace --bins --examples
	target/release/demo

# One event, locally and safely: `make invoke EVENT=events/custom-ids.json`. The same
# staging and local endpoints as the demo; no credential of yours is passed on.
invoke: $(TOOLS)
	@test -n "$(EVENT)" || (echo 'usage: make invoke EVENT=events/<file>.json' >&2; exit 2)
	cargo build --release --locked --workspace --bins --examples
	target/release/demo $(EVENT)

# Figures, not assertions: these machines are too noisy for timed tests.
# The bench runs twice: on the tests' release build, then on the deployed build's profile
# (Cargo.toml's workspace.metadata.lambda.build) built for this machine, which it can time.
DEPLOYED_HOST := target/lambda-host
bench: $(TOOLS) system-packages arm64-tools
	$(LAMBDA_BUILD) cargo-lambda lambda build --release --arm64 --locked --output-format zip
	$(LAMBDA_BUILD) cargo-lambda lambda build --release --locked --lambda-dir $(DEPLOYED_HOST)
	cargo build --release --locked --workspace --bins --examples
	target/release/bench
	BENCH_BINARY=$(DEPLOYED_HOST)/whatsapp-media-cleanup/bootstrap target/release/bench
	target/release/fleet

# cargo-fuzz needs a nightly toolchain; proptest does the same job on stable. make test
# runs its default 256 cases per property as a smoke run; this runs 500,000 (a few minutes).
fuzz:
	PROPTEST_CASES=500000 cargo test --release --locked --test properties

# The release: dist/whatsapp-media-cleanup-<version>-arm64.zip, its SHA-256, the SHA-256 of
# its bootstrap and what built it (scripts/package.py). With PACKAGE_BUCKET set, sam package
# uploads it there and writes dist/packaged.yaml (AWS_REGION: the bucket's Region).
package: $(TOOLS) arm64
	$(VENV)/bin/python scripts/package.py

# Two builds of the same source in different directories give the same bootstrap: the
# working tree's tracked files (uncommitted changes included) are copied to
# target/reproduce/tree and built there with its own target directory, which is kept, so
# only the first run builds everything.
REPRODUCE := target/reproduce/tree
reproducible: $(TOOLS) arm64
	mkdir -p $(REPRODUCE)
	find $(REPRODUCE) -mindepth 1 -maxdepth 1 ! -name target -exec rm -rf {} +
	@# -m: the files get the time of extraction, so cargo rebuilds from them whatever
	@# their commit's date.
	tree=$$(git stash create); git archive --format=tar $${tree:-HEAD} | tar -x -m -C $(REPRODUCE)
	cd $(REPRODUCE) && $(LAMBDA_BUILD) cargo-lambda lambda build --release --arm64 --locked
	sha256sum $(ARM64_BOOTSTRAP) $(REPRODUCE)/$(ARM64_BOOTSTRAP)
	cmp $(ARM64_BOOTSTRAP) $(REPRODUCE)/$(ARM64_BOOTSTRAP) \
		&& echo "reproducible: the same bootstrap from $(REPRODUCE)"

# For the maintainers: publishes dist/packaged.yaml (make package, with PACKAGE_BUCKET) as
# a new version of the application in the Serverless Application Repository, in AWS_REGION.
# The bucket's policy must let serverlessrepo.amazonaws.com read it (docs/releasing.md).
# Only a clean tree at the tag v<version>, and never over a version already published
# (sam publish would only warn).
publish:
	@test -n "$(PACKAGE_BUCKET)" -a -n "$(AWS_REGION)" \
		|| { echo 'usage: make publish PACKAGE_BUCKET=<bucket> AWS_REGION=<region>' >&2; exit 2; }
	@test -z "$$(git status --porcelain --untracked-files=no)" \
		|| { echo 'publish: the tree has uncommitted changes' >&2; exit 2; }
	@git tag --points-at HEAD | grep -qx "v$(VERSION)" \
		|| { echo 'publish: HEAD is not tagged v$(VERSION)' >&2; exit 2; }
	$(MAKE) --no-print-directory package
	$(VENV)/bin/sam publish --template dist/packaged.yaml --region $(AWS_REGION) --fail-on-same-version

clean:
	cargo clean
	rm -rf $(VENV)
