#!/usr/bin/env python3
"""Packages the deployed arm64 build as a release, as `make package` does.

Usage: package.py [--out DIR]   (DIR defaults to dist/)

Reads target/lambda/whatsapp-media-cleanup/bootstrap (built by `make arm64`) and writes,
named with Cargo.toml's version V:
  whatsapp-media-cleanup-V-arm64.zip             the function's code, as Lambda takes it
  whatsapp-media-cleanup-V-arm64.zip.sha256      its SHA-256 (`sha256sum -c` in DIR)
  whatsapp-media-cleanup-V-arm64.bootstrap.sha256  the SHA-256 of the bootstrap inside
  whatsapp-media-cleanup-V-arm64.buildinfo       the commit and the tools that built it

The zip holds one file, `bootstrap`, with a fixed date (1980-01-01, as `sam build` writes
its zips) and mode 0755, so that the same bootstrap gives the same zip (with the same zlib,
which .buildinfo names); cargo-lambda's own zip carries the binary's link time. The
bootstrap's own hash is the one to compare across machines.

With PACKAGE_BUCKET set, it also writes template.yaml with CodeUri pointing at the zip,
then runs `sam package` to that bucket (PACKAGE_PREFIX, default whatsapp-media-cleanup/V),
which uploads the zip, LICENSE and README.md and writes packaged.yaml: the template that
`sam publish` sends to the Serverless Application Repository, or that CloudFormation
deploys. AWS_REGION or AWS_DEFAULT_REGION names the bucket's Region.
"""

import argparse
import hashlib
import json
import os
import pathlib
import re
import subprocess
import sys
import zipfile
import zlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
BOOTSTRAP = ROOT / "target/lambda/whatsapp-media-cleanup/bootstrap"
VENV = ROOT / ".venv" / "bin"
# The earliest time a zip can hold; `sam build` uses it too.
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def version() -> str:
    """Cargo.toml's version: the first `version = "..."` line, the package's."""
    found = re.search(r'^version = "([^"]+)"$', (ROOT / "Cargo.toml").read_text(), re.MULTILINE)
    if not found:
        sys.exit("package: no version in Cargo.toml")
    return found.group(1)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_zip(bootstrap: bytes, path: pathlib.Path) -> None:
    entry = zipfile.ZipInfo("bootstrap", date_time=ZIP_TIME)
    entry.create_system = 3  # Unix, so that the mode below is read
    entry.external_attr = 0o100755 << 16  # a regular file, executable
    entry.compress_type = zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(entry, bootstrap, compresslevel=9)


def tool_version(command: list) -> str:
    try:
        run = subprocess.run(command, capture_output=True, text=True)
    except OSError:
        return "unknown"
    out = run.stdout.strip()
    return out.splitlines()[0] if out else "unknown"


def installed(distribution: str) -> str:
    """The version of a package in the project's virtualenv."""
    return tool_version([
        str(VENV / "python"), "-c",
        f"import importlib.metadata as m; print(m.version({distribution!r}))",
    ])


def buildinfo(name: str) -> str:
    commit = tool_version(["git", "-C", str(ROOT), "rev-parse", "HEAD"])
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
        capture_output=True, text=True,
    ).stdout.strip()
    lines = [
        f"artifact: {name}",
        f"commit: {commit}{' (with uncommitted changes)' if dirty else ''}",
        f"rustc: {tool_version(['rustc', '-V'])}",
        f"cargo-lambda: {installed('cargo-lambda')}",
        f"ziglang: {installed('ziglang')}",
        # The zip's deflated bytes are zlib's: the same bootstrap gives the same zip with
        # the same zlib.
        f"zlib: {zlib.ZLIB_RUNTIME_VERSION}",
    ]
    return "\n".join(lines) + "\n"


def package(bucket: str, out: pathlib.Path, zip_name: str, v: str) -> None:
    """The template with its code, license and readme uploaded, as packaged.yaml."""
    template = (ROOT / "template.yaml").read_text()
    replacements = {
        r"^      CodeUri: \.$": f"      CodeUri: {zip_name}",
        r"^    LicenseUrl: LICENSE$": f"    LicenseUrl: {json.dumps(str(ROOT / 'LICENSE'))}",
        r"^    ReadmeUrl: README.md$": f"    ReadmeUrl: {json.dumps(str(ROOT / 'README.md'))}",
    }
    for pattern, value in replacements.items():
        template, count = re.subn(pattern, value, template, flags=re.MULTILINE)
        if count != 1:
            sys.exit(f"package: template.yaml has no single line matching {pattern}")
    (out / "template.yaml").write_text(template)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    command = [
        str(VENV / "sam"), "package",
        "--template-file", str(out / "template.yaml"),
        "--s3-bucket", bucket,
        "--s3-prefix", os.environ.get("PACKAGE_PREFIX", f"whatsapp-media-cleanup/{v}"),
        "--output-template-file", str(out / "packaged.yaml"),
        "--no-progressbar",
    ]
    if region:
        command += ["--region", region]
    if subprocess.run(command, stdin=subprocess.DEVNULL).returncode != 0:
        sys.exit("package: sam package failed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=ROOT / "dist")
    out = parser.parse_args().out.resolve()
    if not BOOTSTRAP.exists():
        sys.exit(f"package: {BOOTSTRAP} is missing: run `make arm64` first")
    v = version()
    name = f"whatsapp-media-cleanup-{v}-arm64"
    out.mkdir(parents=True, exist_ok=True)
    # A packaged template is only ever this run's: none is left from an earlier bucket.
    for stale in ("template.yaml", "packaged.yaml"):
        (out / stale).unlink(missing_ok=True)
    bootstrap = BOOTSTRAP.read_bytes()
    zip_path = out / f"{name}.zip"
    write_zip(bootstrap, zip_path)
    (out / f"{name}.zip.sha256").write_text(f"{sha256(zip_path.read_bytes())}  {zip_path.name}\n")
    (out / f"{name}.bootstrap.sha256").write_text(f"{sha256(bootstrap)}  bootstrap\n")
    (out / f"{name}.buildinfo").write_text(buildinfo(zip_path.name))
    print(f"package: {zip_path}")
    print((out / f"{name}.zip.sha256").read_text().strip())
    print((out / f"{name}.bootstrap.sha256").read_text().strip())
    bucket = os.environ.get("PACKAGE_BUCKET")
    if bucket:
        package(bucket, out, zip_path.name, v)
        print(f"package: {out / 'packaged.yaml'}")


if __name__ == "__main__":
    main()
