#!/usr/bin/env python3
"""Prints the longest functions under src/, tests excepted, longest first.

Usage: scripts/function_lengths.py [LIMIT]   (default 10 rows)

A function's length is its lines from `fn` to its closing brace. Trait methods without a
body and everything from a file's `#[cfg(test)] mod tests` on are left out. Braces in
strings or comments are counted like any other, which is close enough for Rust as
rustfmt writes it.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
FN = re.compile(r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:async\s+)?fn\s+(\w+)")


def functions(path):
    lines = path.read_text().split("\n")
    for i, line in enumerate(lines):
        if line.startswith("#[cfg(test)]") and i + 1 < len(lines) and "mod tests" in lines[i + 1]:
            lines = lines[:i]
            break
    for start, line in enumerate(lines):
        match = FN.match(line)
        if not match:
            continue
        depth, opened = 0, False
        for end in range(start, len(lines)):
            text = lines[end]
            if not opened and ";" in text and "{" not in text:
                break  # a declaration without a body
            depth += text.count("{") - text.count("}")
            opened = opened or "{" in text
            if opened and depth <= 0:
                yield end - start + 1, f"{path.relative_to(ROOT)}:{start + 1}", match.group(1)
                break


def main():
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    found = [f for path in sorted((ROOT / "src").rglob("*.rs")) for f in functions(path)]
    for length, place, name in sorted(found, reverse=True)[:limit]:
        print(f"{length:4} {place} {name}")


if __name__ == "__main__":
    main()
