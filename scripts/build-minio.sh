#!/usr/bin/env bash
# Builds the MinIO server (a real S3-compatible store) from its Go module, for the S3 loading tests.
# Idempotent: a cached binary is reused. Prints what it built and how long it took.
set -euo pipefail

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
BIN_DIR="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"
BIN="$BIN_DIR/minio-$MINIO_VERSION"

if [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; then
  echo "$BIN"
  exit 0
fi
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build-minio: Go is needed to build MinIO (none on PATH or /usr/local/go)" >&2; exit 1; }

mkdir -p "$BIN_DIR"
start=$(date +%s)
echo "build-minio: building github.com/minio/minio@$MINIO_VERSION with $(go version | cut -d' ' -f3) (several minutes the first time)" >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" >&2
mv "$tmp/minio" "$BIN"
echo "build-minio: built $BIN in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
