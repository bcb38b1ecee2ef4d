#!/usr/bin/env bash
# Provides the Kubernetes binaries the cluster tests run, printing the directory that holds them (last line of stdout):
#   1. $KUBEBUILDER_ASSETS when set (envtest's convention: kube-apiserver, etcd, kubectl; setup-envtest users reuse theirs);
#   2. else the cache, ~/.cache/scoring-operator/k8s/<version>/, when complete;
#   3. else builds them with Go from the pinned modules in e2e/k8s (k8s.io/kubernetes) and e2e/etcd (etcd 3.6).
# Idempotent. Prints what it built and how long it took. With --node, also the node components (kubelet, kube-proxy,
# kube-scheduler).
# kubectl: the machine's only when its minor version is within one of the release's (Kubernetes' supported skew),
# else built from the same pinned module; it is linked alone into <dir>/path, which the harness, install-operator.sh,
# quickstart and the jest configs put first on PATH. With --kubectl only that is done, and <dir>/path printed.
# Safe when several checkouts run it at once: each binary is built under a lock, once (scripts/lib/cache.sh).
# GO names the go command (default: go, with /usr/local/go/bin first on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib/cache.sh

K8S_VERSION=v1.34.4
ETCD_VERSION=v3.6.16
CONTROL_PLANE=(kube-apiserver kube-controller-manager)
NODE=(kube-scheduler kubelet kube-proxy)
want=("${CONTROL_PLANE[@]}")
[ "${1:-}" = "--node" ] && want+=("${NODE[@]}")

CACHE="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/k8s"
DIR="$CACHE/$K8S_VERSION"
mkdir -p "$DIR"
export PATH="/usr/local/go/bin:$PATH" GOFLAGS=-mod=mod CGO_ENABLED=0
GO="${GO:-go}"

stamp() { echo "$K8S_VERSION $ETCD_VERSION $("$GO" version | cut -d' ' -f3)"; }
need_go() { command -v "$GO" >/dev/null || { echo "build-k8s: Go is needed to build $1 (none on PATH or at /usr/local/go)" >&2; exit 1; }; }
built() { [ -x "$DIR/$1" ] && [ "$(cat "$DIR/$1.stamp" 2>/dev/null)" = "$(stamp)" ]; }
build() { # module-dir package binary [ldflags]; run by cache_ensure, which holds the binary's lock
  local start=$SECONDS
  need_go "$3"
  echo "build-k8s: building $3 ($2) ..." >&2
  (cd "$1" && "$GO" build -trimpath -buildvcs=false -ldflags "-s -w ${4:-}" -o "$CACHE_TMP/$3" "$2")
  stamp > "$CACHE_TMP/$3.stamp"
  # The binary first: a reader that sees the new stamp also sees the new binary.
  mv "$CACHE_TMP/$3" "$DIR/$3"
  mv "$CACHE_TMP/$3.stamp" "$DIR/$3.stamp"
  echo "build-k8s: built $3 in $((SECONDS - start)) s" >&2
}
build_k8s() { build e2e/k8s "k8s.io/kubernetes/cmd/$1" "$1" "$VERSION_FLAGS"; }
build_etcd() { build e2e/etcd go.etcd.io/etcd/server/v3 etcd; }
VERSION_FLAGS="-X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
VERSION_FLAGS+=" -X k8s.io/component-base/version.gitMinor=34 -X k8s.io/component-base/version/verflag.programName=kubernetes"

MINOR=$(echo "$K8S_VERSION" | cut -d. -f2)
kubectl_minor() { "$1" version --client -o json 2>/dev/null | sed -n 's/.*"gitVersion": *"v1\.\([0-9][0-9]*\)\..*/\1/p' | head -n1; }
kubectl_fits() { # path: within one minor of the release
  local m
  m=$(kubectl_minor "$1")
  [ -n "$m" ] && [ "$m" -ge $((MINOR - 1)) ] && [ "$m" -le $((MINOR + 1)) ]
}
kubectl_current() { # the machine's (a link) still within the skew, or one built here with these versions
  if [ -L "$DIR/kubectl" ]; then kubectl_fits "$DIR/kubectl"; else built kubectl; fi
}
kubectl_ready() { kubectl_current && [ "$(readlink "$DIR/path/kubectl")" = ../kubectl ]; }
kubectl_make() { # run by cache_ensure, which holds kubectl's lock
  local other=""
  if ! kubectl_current; then
    # The machine's kubectl (not ours, should <dir>/path already be on PATH), when within the skew.
    for c in $(type -ap kubectl); do
      case "$c" in "$DIR"/*) continue ;; esac
      other=$c && break
    done
    if [ -n "$other" ] && kubectl_fits "$other"; then
      ln -s "$(readlink -f "$other")" "$CACHE_TMP/kubectl"
      mv -T "$CACHE_TMP/kubectl" "$DIR/kubectl"
      rm -f "$DIR/kubectl.stamp"
      echo "build-k8s: using the machine's kubectl $other (v1.$(kubectl_minor "$other"))" >&2
    else
      [ -n "$other" ] && echo "build-k8s: the machine's kubectl $other is v1.$(kubectl_minor "$other" || true), outside" \
        "v1.$((MINOR - 1))-v1.$((MINOR + 1)) (kubectl's supported skew around $K8S_VERSION): building $K8S_VERSION's" >&2
      build_k8s kubectl
    fi
  fi
  mkdir -p "$DIR/path"
  ln -sfn ../kubectl "$DIR/path/kubectl"
}
provide_kubectl() { cache_ensure "$DIR/kubectl" kubectl_ready kubectl_make; }
if [ "${1:-}" = "--kubectl" ]; then
  provide_kubectl
  echo "$DIR/path"
  exit 0
fi

ASSETS=""
if [ -n "${KUBEBUILDER_ASSETS:-}" ]; then
  for b in kube-apiserver etcd; do
    [ -x "$KUBEBUILDER_ASSETS/$b" ] || { echo "build-k8s: KUBEBUILDER_ASSETS=$KUBEBUILDER_ASSETS has no $b" >&2; exit 1; }
  done
  # envtest's assets have no kube-controller-manager (or node components): those come from the cache or a build,
  # and the harness gets one directory holding both.
  ASSETS="$KUBEBUILDER_ASSETS"
  missing=()
  for b in "${want[@]}"; do [ -x "$ASSETS/$b" ] || missing+=("$b"); done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "$ASSETS"
    exit 0
  fi
  want=("${missing[@]}")
fi
need_go "the Kubernetes binaries"
total=$SECONDS
for b in "${want[@]}"; do
  cache_ensure "$DIR/$b" built build_k8s "$b"
done
if [ -z "$ASSETS" ]; then cache_ensure "$DIR/etcd" built build_etcd etcd; fi
provide_kubectl
echo "build-k8s: binaries ready in $DIR ($((SECONDS - total)) s)" >&2
if [ -n "$ASSETS" ]; then
  # One directory per set of assets, made whole and then renamed into place: a run never changes one that another
  # run's harness is using.
  merged="$CACHE/envtest-$(printf '%s\n' "$ASSETS" "$DIR" "${want[@]}" | sha256sum | cut -c1-16)"
  merged_ready() { [ -d "$merged" ]; }
  merge() {
    mkdir "$CACHE_TMP/merged"
    for f in "$ASSETS"/*; do ln -s "$f" "$CACHE_TMP/merged/"; done
    for b in "${want[@]}"; do ln -sf "$DIR/$b" "$CACHE_TMP/merged/$b"; done
    mv -T "$CACHE_TMP/merged" "$merged"
  }
  cache_ensure "$merged" merged_ready merge
  echo "build-k8s: using KUBEBUILDER_ASSETS=$ASSETS with ${want[*]} from $DIR" >&2
  echo "$merged"
  exit 0
fi
echo "$DIR"
