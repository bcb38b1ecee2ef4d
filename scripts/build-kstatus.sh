#!/usr/bin/env bash
# Builds e2e/kstatus (the kstatus rules of sigs.k8s.io/cli-utils, what Flux, kpt and cli-utils appliers wait on, as a
# command for the cluster suite) with Go, once: cached as ~/.cache/scoring-operator/bin/kstatus-<cli-utils version>
# (or under $SCORING_CACHE), rebuilt when e2e/kstatus or Go changes (the stamp beside it). Prints its path on the last
# line. Two runs at once build it once (scripts/lib/cache.sh). GO names the go command (default: go, with
# /usr/local/go/bin first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh
export PATH="/usr/local/go/bin:$PATH"
GO="${GO:-go}"
command -v "$GO" >/dev/null ||
  { echo "build-kstatus: Go is needed to build e2e/kstatus (none on PATH or at /usr/local/go)" >&2; exit 1; }

VERSION=$(awk '$1 == "sigs.k8s.io/cli-utils" { print $2 }' e2e/kstatus/go.mod)
BIN="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/kstatus-$VERSION"
STAMP=$({ "$GO" version; cat e2e/kstatus/go.mod e2e/kstatus/go.sum e2e/kstatus/main.go; } | sha256sum | cut -d' ' -f1)

ready() { [ -x "$BIN" ] && [ "$(cat "$BIN.stamp" 2>/dev/null)" = "$STAMP" ]; }
build() {
  local start=$SECONDS
  echo "build-kstatus: building e2e/kstatus (sigs.k8s.io/cli-utils $VERSION) ..." >&2
  (cd e2e/kstatus && CGO_ENABLED=0 "$GO" build -trimpath -buildvcs=false -ldflags "-s -w" -o "$CACHE_TMP/kstatus" .)
  echo "$STAMP" > "$CACHE_TMP/kstatus.stamp"
  # The binary first: a reader that sees the new stamp also sees the new binary.
  mv "$CACHE_TMP/kstatus" "$BIN"
  mv "$CACHE_TMP/kstatus.stamp" "$BIN.stamp"
  echo "build-kstatus: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
