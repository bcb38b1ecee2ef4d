#!/usr/bin/env bash
# Prints the kind binary to use: kind on PATH, else kind $KIND_VERSION built with Go from its module (cached; two runs
# at once build it once: scripts/lib/cache.sh).
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/cache.sh"
KIND_VERSION=v0.33.0
KIND=$(command -v kind || true)
if [ -z "$KIND" ]; then
  KIND="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/kind-$KIND_VERSION"
  kind_ready() { [ -x "$KIND" ]; }
  kind_build() { # run by cache_ensure, which holds the binary's lock
    GOBIN="$CACHE_TMP" PATH="/usr/local/go/bin:$PATH" "${GO:-go}" install "sigs.k8s.io/kind@$KIND_VERSION" >&2
    mv "$CACHE_TMP/kind" "$KIND"
  }
  cache_ensure "$KIND" kind_ready kind_build
fi
echo "$KIND"
