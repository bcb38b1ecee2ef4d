#!/usr/bin/env bash
# Builds the MinIO server (a real S3-compatible store) from its Go module, for the S3 loading tests.
# Idempotent: a cached binary is reused; two runs at once build it once (scripts/lib/cache.sh). Prints what it built
# and how long it took. GO names the go command (default: go, with /usr/local/go/bin first on PATH).
set -euo pipefail
. "$(dirname "$0")/lib/cache.sh"

MINIO_VERSION="${MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}"
BIN_DIR="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"
BIN="$BIN_DIR/minio-$MINIO_VERSION"
GO="${GO:-go}"

ready() { [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; }
build() {
  export PATH="/usr/local/go/bin:$PATH"
  command -v "$GO" >/dev/null || { echo "build-minio: Go is needed to build MinIO (none on PATH or /usr/local/go)" >&2; exit 1; }
  local start=$SECONDS
  echo "build-minio: building github.com/minio/minio@$MINIO_VERSION with $("$GO" version | cut -d' ' -f3) (several minutes the first time)" >&2
  GOBIN="$CACHE_TMP" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" install -trimpath -ldflags "-s -w" "github.com/minio/minio@$MINIO_VERSION" >&2
  mv "$CACHE_TMP/minio" "$BIN"
  echo "build-minio: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
