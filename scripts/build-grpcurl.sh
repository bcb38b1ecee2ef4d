#!/usr/bin/env bash
# Builds grpcurl (a gRPC client nobody here wrote, for the scorer's gRPC tests) from its Go module, once: cached as
# ~/.cache/scoring-operator/bin/grpcurl-<version> (or under $SCORING_CACHE).
# Prints the binary's path (last line of stdout). Two runs at once build it once (scripts/lib/cache.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh
export PATH="/usr/local/go/bin:$PATH"
GO="${GO:-go}"

GRPCURL_VERSION="${GRPCURL_VERSION:-v1.9.3}"
BIN="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/grpcurl-$GRPCURL_VERSION"

ready() { [ -x "$BIN" ] && "$BIN" -version >/dev/null 2>&1; }
build() {
  command -v "$GO" >/dev/null ||
    { echo "build-grpcurl: Go is needed to build grpcurl (none on PATH or /usr/local/go)" >&2; exit 1; }
  local start=$SECONDS
  echo "build-grpcurl: building github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION with" \
    "$("$GO" version | cut -d' ' -f3)" >&2
  GOBIN="$CACHE_TMP" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" install -trimpath -ldflags "-s -w" \
    "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION" >&2
  mv "$CACHE_TMP/grpcurl" "$BIN"
  echo "build-grpcurl: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
