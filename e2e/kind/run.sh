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
[ -n "${KEEP_CLUSTER:-}" ] || trap '"$KIND" delete cluster --name "$KIND_CLUSTER"' EXIT
KUBECONFIG="$KUBECONFIG" E2E_SCORER_IMAGE="$SCORER_IMAGE" E2E_OPERATOR_IMAGE="$OPERATOR_IMAGE" npm run test:e2e
