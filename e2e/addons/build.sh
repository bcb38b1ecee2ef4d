#!/usr/bin/env bash
# Builds the local cluster's own images into buildah's storage, each one static binary on a scratch base: the
# sandbox ("pause") image from Debian's catatonit, and the add-ons from their Go modules at pinned versions:
# metrics-server (so that HPAs really scale) and CoreDNS (so that Service names resolve in pods). Binaries are
# cached (two runs at once build each once: scripts/lib/cache.sh); prints the image names.
set -euo pipefail
. "$(dirname "$0")/../../scripts/lib/cache.sh"
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

addon_ready() { [ -x "$CACHE/$1-$3" ]; }
addon_build() { # name module version; run by cache_ensure, which holds the binary's lock
  local start=$SECONDS
  GOBIN="$CACHE_TMP" PATH="/usr/local/go/bin:$PATH" CGO_ENABLED=0 "${GO:-go}" install -trimpath -ldflags "-s -w" "$2@$3" >&2
  mv "$CACHE_TMP/$(basename "$2")" "$CACHE/$1-$3"
  echo "addons: built $1 $3 in $((SECONDS - start)) s" >&2
}
addon() { # name module version
  cache_ensure "$CACHE/$1-$3" addon_ready addon_build "$@"
  scratch "localhost/scoring-dev/$1:$3" "$CACHE/$1-$3" "/$1" 65534:65534
}

# harness/node.ts names this image as containerd's sandbox image.
scratch localhost/scoring-dev/pause:catatonit /usr/bin/catatonit /catatonit 65535:65535 -P
addon metrics-server sigs.k8s.io/metrics-server/cmd/metrics-server v0.8.0
addon coredns github.com/coredns/coredns v1.14.7
