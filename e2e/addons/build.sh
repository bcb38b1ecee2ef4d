#!/usr/bin/env bash
# Builds the local cluster's add-on images into buildah's storage: metrics-server (so that HPAs really scale), from
# its Go module at a pinned version, on a scratch base. The binary is cached; prints the image name.
set -euo pipefail
VERSION=v0.8.0
IMAGE=localhost/scoring-dev/metrics-server:$VERSION
CACHE="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"
BIN="$CACHE/metrics-server-$VERSION"
if ! [ -x "$BIN" ]; then
  export PATH="/usr/local/go/bin:$PATH" CGO_ENABLED=0
  start=$SECONDS
  gobin=$(mktemp -d)
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/metrics-server/cmd/metrics-server@$VERSION" >&2
  mkdir -p "$CACHE" && mv "$gobin/metrics-server" "$BIN" && rm -rf "$gobin"
  echo "addons: built metrics-server $VERSION in $((SECONDS - start)) s" >&2
fi
if ! buildah inspect --type image "$IMAGE" >/dev/null 2>&1; then
  c=$(buildah from scratch)
  buildah copy "$c" "$BIN" /metrics-server >/dev/null
  buildah config --entrypoint '["/metrics-server"]' --user 65534:65534 "$c"
  buildah commit -q "$c" "$IMAGE" >/dev/null
  buildah rm "$c" >/dev/null
fi
echo "$IMAGE"
