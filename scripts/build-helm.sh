#!/usr/bin/env bash
# Builds helm (for the chart's `helm lint`/`helm template` unit tests and the e2e suite's `helm install`) from its Go
# module, once: cached as ~/.cache/scoring-operator/bin/helm-<version> (or under $SCORING_CACHE).
# Prints the binary's path (last line of stdout). Two runs at once build it once (scripts/lib/cache.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh
export PATH="/usr/local/go/bin:$PATH"
GO="${GO:-go}"

HELM_VERSION="${HELM_VERSION:-v4.3.1}"
BIN="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/helm-$HELM_VERSION"

ready() { [ -x "$BIN" ] && "$BIN" version --short >/dev/null 2>&1; }
build() {
  command -v "$GO" >/dev/null ||
    { echo "build-helm: Go is needed to build helm (none on PATH or /usr/local/go)" >&2; exit 1; }
  local start=$SECONDS
  echo "build-helm: building helm.sh/helm/v4/cmd/helm@$HELM_VERSION with" \
    "$("$GO" version | cut -d' ' -f3) (minutes the first time)" >&2
  # The version is stamped as helm's Makefile does for a tagged release (without it, `helm version` says v4.3).
  GOBIN="$CACHE_TMP" CGO_ENABLED=0 GOFLAGS=-mod=mod "$GO" install -trimpath \
    -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
    "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
  mv "$CACHE_TMP/helm" "$BIN"
  echo "build-helm: built $BIN in $((SECONDS - start)) s" >&2
}
cache_ensure "$BIN" ready build
echo "$BIN"
