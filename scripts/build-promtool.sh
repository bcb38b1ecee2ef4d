#!/usr/bin/env bash
# Builds promtool (Prometheus' own checker, for `promtool check metrics` on the scorer's and the operator's /metrics)
# from its Go module, once: cached as ~/.cache/scoring-operator/bin/promtool-<version> (or under $SCORING_CACHE).
# Prints the binary's path (last line of stdout). Two runs at once build it once (scripts/lib/cache.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh
export PATH="/usr/local/go/bin:$PATH"
GO="${GO:-go}"

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
BIN="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/promtool-$PROMTOOL_VERSION"

ready() { [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; }
build() {
  command -v "$GO" >/dev/null ||
    { echo "build-promtool: Go is needed to build promtool (none on PATH or /usr/local/go)" >&2; exit 1; }
  local start=$SECONDS
  echo "build-promtool: building github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION with" \
    "$("$GO" version | cut -d' ' -f3) (minutes the first time)" >&2
  GOBIN="$CACHE_TMP" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" install -trimpath -ldflags "-s -w" \
    "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION" >&2
  mv "$CACHE_TMP/promtool" "$BIN"
  echo "build-promtool: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
