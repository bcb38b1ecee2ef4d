#!/usr/bin/env bash
# Builds the local cluster's own images into buildah's storage, each one static binary on a scratch base: the
# sandbox ("pause") image from Debian's catatonit, and the add-ons from their Go modules at pinned versions:
# metrics-server (so that HPAs really scale) and CoreDNS (so that Service names resolve in pods). Binaries are
# cached; prints the image names.
set -euo pipefail
CACHE="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/bin"

scratch() { # image binary path-in-image user entrypoint-args...
  local image=$1 bin=$2 path=$3 user=$4 c
  shift 4
  if ! buildah inspect --type image "$image" >/dev/null 2>&1; then
    c=$(buildah from scratch)
    buildah copy "$c" "$bin" "$path" >/dev/null
    buildah config --entrypoint "$(printf '"%s",' "$path" "$@" | sed 's/^/[/; s/,$/]/')" --user "$user" "$c"
    buildah commit -q "$c" "$image" >/dev/null
    buildah rm "$c" >/dev/null
  fi
  echo "$image"
}

addon() { # name module version
  local name=$1 module=$2 version=$3 bin="$CACHE/$1-$3" gobin start
  if ! [ -x "$bin" ]; then
    start=$SECONDS
    gobin=$(mktemp -d)
    GOBIN="$gobin" PATH="/usr/local/go/bin:$PATH" CGO_ENABLED=0 go install -trimpath -ldflags "-s -w" "$module@$version" >&2
    mkdir -p "$CACHE" && mv "$gobin/$(basename "$module")" "$bin" && rm -rf "$gobin"
    echo "addons: built $name $version in $((SECONDS - start)) s" >&2
  fi
  scratch "localhost/scoring-dev/$name:$version" "$bin" "/$name" 65534:65534
}

# e2e/cluster/node.ts names this image as containerd's sandbox image.
scratch localhost/scoring-dev/pause:catatonit /usr/bin/catatonit /catatonit 65535:65535 -P
addon metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server v0.8.0
addon coredns github.com/coredns/coredns v1.14.7
