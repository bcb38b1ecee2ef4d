#!/usr/bin/env bash
# The e2e suite on kind (e2e/kind/up.sh, needs Docker); the cluster is deleted afterwards unless KEEP_CLUSTER=1.
#   e2e/kind/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export KIND_CLUSTER=${KIND_CLUSTER:-scoring-e2e}
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci
env=$(e2e/kind/up.sh)
eval "$env"
kind_bin=$(command -v kind || ls "${SCORING_CACHE:-$HOME/.cache/scoring-operator}"/bin/kind-* | tail -1)
[ -n "${KEEP_CLUSTER:-}" ] || trap '"$kind_bin" delete cluster --name "$KIND_CLUSTER"' EXIT
KUBECONFIG="$KUBECONFIG" E2E_SCORER_IMAGE="$SCORER_IMAGE" E2E_OPERATOR_IMAGE="$OPERATOR_IMAGE" npm run test:e2e
