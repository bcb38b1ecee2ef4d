#!/usr/bin/env bash
# The e2e suite on a local single-node cluster (e2e/local/up.sh: no Docker, root), torn down afterwards (also when
# the suite fails). Only a cluster this run brought up is torn down: when one is already up, e2e/local/up.sh refuses
# and that cluster is left as it is (run the suite on it with KUBECONFIG=... npm run test:e2e).
#   e2e/local/run.sh
#   e2e/local/run.sh -t 'the URL in status'    (jest's arguments: here, only the tests whose name matches)
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci >&2
npm run build --silent # the down.js the trap runs is this checkout's
export SCORING_CLUSTER_OWNER="e2e-local-$$-$(date +%s%N)"
trap 'node dist/harness/down.js --owner "$SCORING_CLUSTER_OWNER"' EXIT
env=$(e2e/local/up.sh)
eval "$env"
KUBECONFIG="$KUBECONFIG" E2E_SCORER_IMAGE="$SCORER_IMAGE" E2E_OPERATOR_IMAGE="$OPERATOR_IMAGE" npm run test:e2e -- "$@"
