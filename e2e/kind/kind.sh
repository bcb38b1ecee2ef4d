#!/usr/bin/env bash
# Prints the kind binary to use: kind on PATH, else kind $KIND_VERSION built with Go from its module (cached).
set -euo pipefail
KIND_VERSION=v0.33.0
KIND=$(command -v kind || true)
if [ -z "$KIND" ]; then
  KIND="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin/kind-$KIND_VERSION"
  if ! [ -x "$KIND" ]; then # kind is a Go program: built from its module, cached
    gobin=$(mktemp -d)
    GOBIN="$gobin" PATH="/usr/local/go/bin:$PATH" go install "sigs.k8s.io/kind@$KIND_VERSION" >&2
    mkdir -p "$(dirname "$KIND")" && mv "$gobin/kind" "$KIND" && rm -rf "$gobin"
  fi
fi
echo "$KIND"
