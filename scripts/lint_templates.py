#!/usr/bin/env python3
"""Lints and scans template.yaml in each of its variants, as make lint does.

The template deploys in four shapes: a bucket is created, or ExistingBucketName names one
the team has (an EventBridge rule on it), each with UseSqsBuffer false and true. Each
variant is the template with those parameters' defaults set, written to target/, then
checked by cfn-lint, `sam validate --lint` and checkov. Run from the repository's root
with the virtualenvs that make lint installs.
"""

import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
SCAN_VENV = ROOT / ".venv-scan" / "bin"

# Each variant: its file name, and the parameter defaults it sets.
VARIANTS = {
    "template.yaml": {},
    "template-existing-bucket.yaml": {"ExistingBucketName": "team-media-bucket"},
    "template-sqs-buffer.yaml": {"UseSqsBuffer": "true"},
    "template-existing-bucket-sqs-buffer.yaml": {
        "ExistingBucketName": "team-media-bucket",
        "UseSqsBuffer": "true",
    },
}


def with_default(template: str, parameter: str, value: str) -> str:
    """The template with `parameter`'s Default set to `value`; fails unless exactly one
    Default line of that parameter's block was changed."""
    block = re.compile(
        rf"(^  {parameter}:\n(?:    .*\n)*?    Default: )(\"[^\"]*\"|\S*)$", re.MULTILINE
    )
    changed, count = block.subn(rf'\g<1>"{value}"', template)
    if count != 1:
        sys.exit(f"lint_templates: no single Default for the parameter {parameter}")
    return changed


def main() -> None:
    source = (ROOT / "template.yaml").read_text()
    (ROOT / "target").mkdir(exist_ok=True)
    for name, defaults in VARIANTS.items():
        path = ROOT / name
        if defaults:
            text = source
            for parameter, value in defaults.items():
                text = with_default(text, parameter, value)
            path = ROOT / "target" / name
            path.write_text(text)
        print(f"lint_templates: {path.relative_to(ROOT)}", flush=True)
        for command in (
            [VENV / "cfn-lint", path],
            [VENV / "sam", "validate", "--lint", "--template", path, "--region", "us-east-1"],
            [SCAN_VENV / "checkov", "--quiet", "--compact", "--skip-download",
             "--framework", "cloudformation", "-f", path],
        ):
            if subprocess.run([str(part) for part in command], cwd=ROOT).returncode != 0:
                sys.exit(1)


if __name__ == "__main__":
    main()
