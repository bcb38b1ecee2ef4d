#!/usr/bin/env bash
# Builds the Prometheus server from its Go module, for `npm run docs:dashboard` (docs/dashboard.png drawn from real
# scrapes; no test needs it, so .ci/run does not build it): once, cached as
# ~/.cache/scoring-operator/bin/prometheus-<version> (or under $SCORING_CACHE), the version promtool is built at.
# Prints the binary's path (last line of stdout). Two runs at once build it once (scripts/lib/cache.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh
export PATH="/usr/local/go/bin:$PATH"
GO="${GO:-go}"

PROMETHEUS_VERSION="${PROMETHEUS_VERSION:-v0.316.0}"
BIN="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/prometheus-$PROMETHEUS_VERSION"

ready() { [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; }
build() {
  command -v "$GO" >/dev/null ||
    { echo "build-prometheus: Go is needed to build prometheus (none on PATH or /usr/local/go)" >&2; exit 1; }
  local start=$SECONDS
  echo "build-prometheus: building github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION with" \
    "$("$GO" version | cut -d' ' -f3) (minutes the first time)" >&2
  GOBIN="$CACHE_TMP" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" install -trimpath -ldflags "-s -w" \
    "github.com/prometheus/prometheus/cmd/prometheus@$PROMETHEUS_VERSION" >&2
  mv "$CACHE_TMP/prometheus" "$BIN"
  echo "build-prometheus: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
