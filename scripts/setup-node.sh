#!/usr/bin/env bash
# Installs, from Debian, what the local single-node cluster and the image builds need: containerd (with its CRI
# plugin) and runc, the CNI plugins, iptables, buildah and debootstrap (images without Docker), catatonit (the
# pause image). Idempotent.
set -euo pipefail
need=()
for pkg in containerd runc containernetworking-plugins iptables iproute2 util-linux buildah debootstrap catatonit openssl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -q
  # No init system here: the packages must not try to start their services.
  DEBIAN_FRONTEND=noninteractive RUNLEVEL=1 apt-get install -y -q --no-install-recommends "${need[@]}" >&2
fi
