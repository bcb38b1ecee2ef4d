#!/usr/bin/env bash
# From nothing to a model answering over HTTP, in one command: a cluster (kind where Docker runs; otherwise a
# local single-node cluster built from upstream Kubernetes, needing root), our two images built and loaded, the
# operator installed (kubectl apply -k config/default), the seed's identity sample applied; then the first
# POST /score, and the commands to try it yourself. Prints how long each step took. The models the other samples in
# config/samples/ read are put into a model store in the cluster (harness/model-store.ts), so
# `kubectl apply -k config/samples` serves them all; with --model, a model file of your own is put there too, served by
# a ScoringModel, and answers a request of the shape its metadata gives (harness/quickstart-model.ts).
#   npm run quickstart
#   npm run quickstart -- --model ./path/to/model.onnx [--name NAME] [--format onnx|xgboost|lightgbm]
set -euo pipefail
usage() {
  echo "usage: npm run quickstart [-- --model PATH [--name NAME] [--format onnx|xgboost|lightgbm]]" >&2
  exit 2
}
model= name= format=
while [ $# -gt 0 ]; do
  case $1 in
    --model | --name | --format)
      [ $# -ge 2 ] || usage
      declare "${1#--}=$2"
      shift 2
      ;;
    --model=* | --name=* | --format=*)
      a=${1#--}
      declare "${a%%=*}=${a#*=}"
      shift
      ;;
    *) usage ;;
  esac
done
model_args=()
if [ -n "$model" ]; then
  # npm runs scripts from the package's directory: a relative path is the caller's (npm's INIT_CWD).
  case $model in /*) ;; *) model="${INIT_CWD:-$PWD}/$model" ;; esac
  # Refused before the cluster is made, not after.
  [ -f "$model" ] || { echo "quickstart: --model $model: no such file" >&2; exit 2; }
  case ${format:-$model} in
    onnx | xgboost | lightgbm | *.onnx | *.ort | *.json | *.ubj | *.txt) ;;
    *) echo "quickstart: --model $model: the name does not say its format; give --format onnx, xgboost or lightgbm" >&2; exit 2 ;;
  esac
  model_args=(--model "$model")
  [ -z "$name" ] || model_args+=(--name "$name")
  [ -z "$format" ] || model_args+=(--format "$format")
elif [ -n "$name$format" ]; then
  usage
fi
cd "$(dirname "$0")/.."
t0=$SECONDS
step() { echo "quickstart: $1 at $((SECONDS - t0)) s" >&2; }
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci >&2
# kubectl within the supported skew of the cluster's v1.34 (the machine's if it is, else built; none needed before).
PATH="$(scripts/build-k8s.sh --kubectl):$PATH"
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
# The first request, retried for a bounded time: the model is Ready once its pod is, and the Service's address
# answers a moment later (kube-proxy programs it). Retries refused or unrouted
# connections only: an HTTP answer that is not 200 fails at once.
first_score() { # url; prints the answer
  local deadline=$((SECONDS + 60)) out code
  while :; do
    code=0
    out=$(curl -sS -m 5 -o - -w '\n%{http_code}' -X POST "$1/score" -H 'content-type: application/json' \
      -d '{"X": [1, 2]}' 2>/dev/null) || code=$?
    if [ "$code" -eq 0 ]; then
      if [ "${out##*$'\n'}" = 200 ]; then
        echo "${out%$'\n'*}"
        return 0
      fi
      echo "quickstart: POST $1/score answered HTTP ${out##*$'\n'}: ${out%$'\n'*}" >&2
      return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      echo "quickstart: POST $1/score not answered within 60 s (curl exit $code); the Service's endpoints:" >&2
      kubectl get endpointslices -l kubernetes.io/service-name=identity >&2 || true
      return 1
    fi
    sleep 1
  done
}
if [ "$mode" = local ]; then
  # The host routes the Service range to the local node: the ClusterIP answers from here.
  ip=$(kubectl get service identity -o jsonpath='{.spec.clusterIP}')
  answer=$(first_score "http://$ip")
  try="curl -s -X POST http://$ip/score -H 'content-type: application/json' -d '{\"X\": [1, 2]}'"
  stop="npm run cluster:down"
else
  # A port-forward for the first request, stopped however this script ends; ready when it says it forwards.
  pflog=$(mktemp)
  kubectl port-forward service/identity 8080:80 >"$pflog" 2>&1 &
  pf=$!
  trap 'kill "$pf" 2>/dev/null || true; wait "$pf" 2>/dev/null || true; rm -f "$pflog"' EXIT
  deadline=$((SECONDS + 30))
  until grep -q '^Forwarding from 127.0.0.1:8080' "$pflog"; do
    if ! kill -0 "$pf" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
      echo "quickstart: kubectl port-forward service/identity 8080:80 did not start:" >&2
      cat "$pflog" >&2
      exit 1
    fi
    sleep 0.2
  done
  answer=$(first_score http://127.0.0.1:8080)
  try="curl -s -X POST http://127.0.0.1:8080/score -H 'content-type: application/json' -d '{\"X\": [1, 2]}'"
  try="kubectl port-forward service/identity 8080:80 &  $try"
  stop="$KIND delete cluster --name ${KIND_CLUSTER:-scoring}"
fi
step "first /score answered: $answer"
npm run build --silent >&2
node dist/harness/quickstart-model.js --samples --image "$SCORER_IMAGE" >&2
step "the samples' models in the model store"
if [ ${#model_args[@]} -gt 0 ]; then
  reach=port-forward
  [ "$mode" = local ] && reach=clusterip
  yours=$(node dist/harness/quickstart-model.js "${model_args[@]}" --reach "$reach" --image "$SCORER_IMAGE")
  step "your model ready and answered"
fi
cat <<MSG

export KUBECONFIG=$KUBECONFIG
$try
kubectl get sm                     # more models: kubectl apply -k config/samples
$stop                              # when done
MSG
if [ -n "${yours:-}" ]; then
  printf '\nYour model:\n%s\n' "$yours"
fi
