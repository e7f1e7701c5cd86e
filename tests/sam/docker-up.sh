#!/usr/bin/env bash
# Makes Docker ready for `sam local` on this machine, once make system-packages has installed
# docker.io and qemu-user-static: starts dockerd when none answers (recording that this
# script started it, so that docker-down.sh stops it and nothing else), and lets arm64
# images run: binfmt_misc mounted and qemu-aarch64-static registered with the F flag, so
# that it works inside containers. Needs root (or sudo) for all of this.
set -euo pipefail
cd "$(dirname "$0")/../.."
STATE=target/sam-local
mkdir -p "$STATE"
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)

missing() { echo "sam-local: $*" >&2; exit 1; }

command -v dockerd >/dev/null || [ -x /usr/sbin/dockerd ] || missing "dockerd is missing: run make system-packages"
command -v qemu-aarch64-static >/dev/null || missing "qemu-aarch64-static is missing: run make system-packages"

if ! docker info >/dev/null 2>&1; then
    $SUDO dockerd >"$STATE/dockerd.log" 2>&1 &
    echo $! >"$STATE/dockerd.pid"
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        sleep 1
    done
    docker info >/dev/null 2>&1 || missing "dockerd did not start: see $STATE/dockerd.log"
    echo "sam-local: started dockerd"
fi

BINFMT=/proc/sys/fs/binfmt_misc
[ -e "$BINFMT/register" ] || $SUDO mount -t binfmt_misc binfmt_misc "$BINFMT" \
    || missing "binfmt_misc cannot be mounted here, so arm64 images cannot run"
if ! grep -qs '^flags: .*F' "$BINFMT/qemu-aarch64" \
    || ! grep -qs 'qemu-aarch64-static' "$BINFMT/qemu-aarch64"; then
    [ -e "$BINFMT/qemu-aarch64" ] && echo -1 | $SUDO tee "$BINFMT/qemu-aarch64" >/dev/null
    printf '%s' ':qemu-aarch64:M::\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:F' \
        | $SUDO tee "$BINFMT/register" >/dev/null
    echo "sam-local: registered qemu-aarch64-static for arm64 binaries"
fi
