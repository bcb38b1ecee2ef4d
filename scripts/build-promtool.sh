#!/usr/bin/env bash
# Builds promtool (Prometheus' own checker, for `promtool check metrics` on the scorer's and the operator's /metrics)
# from its Go module. Idempotent: a cached binary is reused. Prints the binary's path (last line of stdout).
# Safe when two checkouts run it at once: the second waits on the cache's lock, then finds the binary built.
set -euo pipefail

PROMTOOL_VERSION="${PROMTOOL_VERSION:-v0.316.0}"
BIN_DIR="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"
BIN="$BIN_DIR/promtool-$PROMTOOL_VERSION"

usable() { [ -x "$BIN" ] && "$BIN" --version >/dev/null 2>&1; }
if usable; then
  echo "$BIN"
  exit 0
fi
export PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null || { echo "build-promtool: Go is needed to build promtool (none on PATH or /usr/local/go)" >&2; exit 1; }

mkdir -p "$BIN_DIR"
exec 9>"$BIN_DIR/.promtool.lock"
flock 9
# Another run may have built it while this one waited for the lock.
if usable; then
  echo "$BIN"
  exit 0
fi
start=$(date +%s)
echo "build-promtool: building github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION with $(go version | cut -d' ' -f3) (minutes the first time)" >&2
# In the cache's directory, so that the final mv is a rename on one file system: no reader sees half a binary.
tmp=$(mktemp -d "$BIN_DIR/.promtool-build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-mod=mod go install -trimpath -ldflags "-s -w" \
  "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION" >&2
mv "$tmp/promtool" "$BIN"
echo "build-promtool: built $BIN in $(( $(date +%s) - start )) s" >&2
echo "$BIN"
