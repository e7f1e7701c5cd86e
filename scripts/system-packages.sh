#!/usr/bin/env bash
# Installs the Debian packages that make test needs, each only when it is missing:
#   jq                  the docs' commands, run by tests/docs.rs as users would
#   qemu-user           runs the arm64 build (tests/arm64.rs, make bench)
#   libc6-arm64-cross   the arm64 C library qemu-user loads
#   docker.io           SAM local's containers
#   qemu-user-static    arm64 images inside those containers (binfmt_misc)
#   nodejs, npm         the CDK example's `cdk synth` (Node.js 18 or later: Debian 12's)
# and Debian's arm64 architecture, from which SAM local's base image takes busybox-static
# (downloaded, not installed: tests/sam/base-image.sh). apt-get and dpkg need root;
# elsewhere this uses sudo.
set -euo pipefail
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
missing=()
update=false
if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    $SUDO dpkg --add-architecture arm64
    update=true
fi
# The package lists must know the arm64 busybox-static that SAM local's image downloads.
apt-cache show busybox-static:arm64 >/dev/null 2>&1 || update=true
have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
have jq || missing+=(jq)
have qemu-aarch64 || missing+=(qemu-user)
[ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
have dockerd || missing+=(docker.io)
have qemu-aarch64-static || missing+=(qemu-user-static)
have node || missing+=(nodejs)
have npm || missing+=(npm)
if [ ${#missing[@]} -gt 0 ] || $update; then
    $SUDO apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "system-packages: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
