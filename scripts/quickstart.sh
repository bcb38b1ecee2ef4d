#!/usr/bin/env bash
# From nothing to a model answering over HTTP, in one command: a cluster (kind where Docker runs; otherwise a
# local single-node cluster built from upstream Kubernetes, needing root), our two images built and loaded, the
# operator installed (kubectl apply -k config/default), the seed's identity sample applied; then the first
# POST /score, and the commands to try it yourself. Prints how long each step took.
#   npm run quickstart
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo "quickstart: $1 at $((SECONDS - t0)) s" >&2; }
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci >&2
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  mode=kind
  env=$(e2e/kind/up.sh)
else
  mode=local
  env=$(e2e/local/up.sh)
fi
eval "$env"
export KUBECONFIG
step "cluster ($mode) up with the images loaded"
scripts/install-operator.sh "$OPERATOR_IMAGE" "$SCORER_IMAGE"
step "operator ready"
kubectl apply -f config/samples/scoring_v1alpha1_scoringmodel_identity.yaml >&2
kubectl wait --for=condition=Ready scoringmodel/identity --timeout=300s >&2
step "model ready"
kubectl get sm identity >&2
if [ "$mode" = local ]; then
  # The host routes the Service range to the local node: the ClusterIP answers from here.
  ip=$(kubectl get service identity -o jsonpath='{.spec.clusterIP}')
  try="curl -s -X POST http://$ip/score -H 'content-type: application/json' -d '{\"X\": [1, 2]}'"
  answer=$(eval "$try")
  stop="npm run cluster:down"
else
  kubectl port-forward service/identity 8080:80 >/dev/null 2>&1 &
  pf=$!
  sleep 2
  try="curl -s -X POST http://127.0.0.1:8080/score -H 'content-type: application/json' -d '{\"X\": [1, 2]}'"
  answer=$(eval "$try")
  kill "$pf"
  try="kubectl port-forward service/identity 8080:80 &  $try"
  stop="$KIND delete cluster --name ${KIND_CLUSTER:-scoring}"
fi
step "first /score answered: $answer"
cat <<MSG

export KUBECONFIG=$KUBECONFIG
$try
kubectl get sm            # more models: config/samples/
$stop                     # when done
MSG
