#!/usr/bin/env bash
# Builds the local cluster's add-on images into buildah's storage, each from its Go module at a pinned version on a
# scratch base: metrics-server (so that HPAs really scale) and CoreDNS (so that Service names resolve in pods).
# Binaries are cached; prints the image names.
set -euo pipefail
CACHE="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"

addon() { # name module version image-user
  local name=$1 module=$2 version=$3 image="localhost/scoring-dev/$1:$3" bin="$CACHE/$1-$3"
  if ! [ -x "$bin" ]; then
    local start=$SECONDS gobin
    gobin=$(mktemp -d)
    GOBIN="$gobin" PATH="/usr/local/go/bin:$PATH" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$module@$version" >&2
    mkdir -p "$CACHE" && mv "$gobin/$(basename "$module")" "$bin" && rm -rf "$gobin"
    echo "addons: built $name $version in $((SECONDS - start)) s" >&2
  fi
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
    local c
    c=$(buildah from scratch)
    buildah copy "$c" "$bin" "/$name" >/dev/null
    buildah config --entrypoint "[\"/$name\"]" --user 65534:65534 "$c"
    buildah commit -q "$c" "$image" >/dev/null
    buildah rm "$c" >/dev/null
  fi
  echo "$image"
}

addon metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server v0.8.0
addon coredns github.com/coredns/coredns v1.14.7
