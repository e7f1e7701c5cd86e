#!/usr/bin/env bash
# Builds, from what this machine has, the base image `sam local` runs the function in:
# public.ecr.aws/lambda/provided:al2023-arm64 (no registry can be reached here). It holds a
# static arm64 busybox (SAM's own image step runs `mv` and `chmod` in it), the arm64 C
# library the bootstrap links, and CA certificates. The arm64 binaries run under
# qemu-aarch64-static through binfmt_misc (see docker-up.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=public.ecr.aws/lambda/provided:al2023-arm64
CONTEXT=target/sam-base-image
SYSROOT=/usr/aarch64-linux-gnu/lib

missing() { echo "sam-local: $*" >&2; exit 1; }
[ -e "$SYSROOT/ld-linux-aarch64.so.1" ] || missing "the arm64 C library ($SYSROOT) is missing: run \`make system-packages\`"
[ -e /etc/ssl/certs/ca-certificates.crt ] || missing "/etc/ssl/certs/ca-certificates.crt is missing: install ca-certificates"

rm -rf "$CONTEXT"
mkdir -p "$CONTEXT/rootfs"/{bin,lib,lib64,etc/ssl/certs,var/task,var/runtime,opt,tmp}

# busybox-static for arm64, downloaded (not installed) from Debian's archive, whose arm64
# architecture make system-packages adds.
BUSYBOX_DEB=$(ls target/busybox-static_*_arm64.deb 2>/dev/null | head -n 1 || true)
if [ -z "$BUSYBOX_DEB" ]; then
    dpkg --print-foreign-architectures | grep -qx arm64 \
        || missing "Debian's arm64 architecture is not added: run \`make system-packages\`"
    (cd target && apt-get download -qq busybox-static:arm64 2>/dev/null)
    BUSYBOX_DEB=$(ls target/busybox-static_*_arm64.deb | head -n 1)
fi
dpkg-deb -x "$BUSYBOX_DEB" "$CONTEXT/busybox"
cp "$CONTEXT/busybox/bin/busybox" "$CONTEXT/rootfs/bin/busybox"
for applet in sh mv chmod cp rm ls cat env mkdir; do
    ln -s busybox "$CONTEXT/rootfs/bin/$applet"
done

# The C library, where the bootstrap's interpreter and the default search path find it.
cp -L "$SYSROOT"/{ld-linux-aarch64.so.1,libc.so.6,libm.so.6,libpthread.so.0,libdl.so.2,librt.so.1} \
    "$CONTEXT/rootfs/lib64/"
ln -s ../lib64/ld-linux-aarch64.so.1 "$CONTEXT/rootfs/lib/ld-linux-aarch64.so.1"
cp -L /etc/ssl/certs/ca-certificates.crt "$CONTEXT/rootfs/etc/ssl/certs/"
chmod 1777 "$CONTEXT/rootfs/tmp"

cat > "$CONTEXT/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
ENV PATH=/var/lang/bin:/usr/local/bin:/usr/bin:/bin:/opt/bin \
    LD_LIBRARY_PATH=/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib \
    LAMBDA_TASK_ROOT=/var/task \
    LAMBDA_RUNTIME_DIR=/var/runtime \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /var/task
DOCKERFILE

DOCKER_BUILDKIT=0 docker build --quiet --platform linux/arm64 -t "$IMAGE" "$CONTEXT" >/dev/null
echo "sam-local: built $IMAGE locally"
