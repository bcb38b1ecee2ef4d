#!/usr/bin/env bash
# A kind cluster with our images in it, for machines with Docker: creates the cluster (KIND_CLUSTER, default
# scoring), builds both images with `docker build`, loads them (`kind load docker-image`), installs metrics-server
# (for HPAs). Prints, for eval:
#   KUBECONFIG=...  SCORER_IMAGE=...  OPERATOR_IMAGE=...  KIND=... (the kind binary it used)
# Delete it with `kind delete cluster --name scoring`.
set -euo pipefail
cd "$(dirname "$0")/../.."
CLUSTER=${KIND_CLUSTER:-scoring}
SCORER=scoring-dev/scorer:dev
OPERATOR=scoring-dev/scoring-operator:dev
KIND=$(e2e/kind/kind.sh)
# kubectl within the supported skew of the release the harness pins (scripts/build-k8s.sh --kubectl).
PATH="$(scripts/build-k8s.sh --kubectl):$PATH"
if ! "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  "$KIND" create cluster --name "$CLUSTER" --wait 120s >&2
fi
docker build -f Dockerfile.scorer -t "$SCORER" . >&2
docker build -f Dockerfile.operator -t "$OPERATOR" . >&2
"$KIND" load docker-image --name "$CLUSTER" "$SCORER" "$OPERATOR" >&2
kubeconfig="${SCORING_CACHE:-$HOME/.cache/scoring-operator}/kind-$CLUSTER.kubeconfig"
mkdir -p "$(dirname "$kubeconfig")"
# Written beside it and renamed into place: another run at once reads the old file or the whole new one.
"$KIND" get kubeconfig --name "$CLUSTER" > "$kubeconfig.$$"
mv "$kubeconfig.$$" "$kubeconfig"
# kind has no metrics-server: upstream's manifest, told that kind's kubelets serve self-signed certificates.
if ! KUBECONFIG="$kubeconfig" kubectl get deployment metrics-server -n kube-system >/dev/null 2>&1; then
  KUBECONFIG="$kubeconfig" kubectl apply \
    -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/v0.8.0/components.yaml" >&2
  KUBECONFIG="$kubeconfig" kubectl patch -n kube-system deployment metrics-server --type=json \
    -p '[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--kubelet-insecure-tls"}]' >&2
fi
echo "KUBECONFIG=$kubeconfig"
echo "SCORER_IMAGE=docker.io/$SCORER"
echo "OPERATOR_IMAGE=docker.io/$OPERATOR"
echo "KIND=$KIND"
