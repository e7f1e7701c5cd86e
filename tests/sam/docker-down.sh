#!/usr/bin/env bash
# Stops dockerd if, and only if, docker-up.sh started it.
set -euo pipefail
cd "$(dirname "$0")/../.."
PID_FILE=target/sam-local/dockerd.pid
[ -f "$PID_FILE" ] || exit 0
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
PID=$(cat "$PID_FILE")
rm -f "$PID_FILE"
$SUDO kill "$PID" 2>/dev/null || exit 0
for _ in $(seq 1 30); do
    $SUDO kill -0 "$PID" 2>/dev/null || exit 0
    sleep 1
done
echo "sam-local: dockerd ($PID) did not stop" >&2
