#!/usr/bin/env bash
# The e2e suite on a local single-node cluster (e2e/local/up.sh: no Docker, root), torn down afterwards (also when
# the suite fails).
#   e2e/local/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
trap 'node dist/e2e/cluster/down.js' EXIT
env=$(e2e/local/up.sh)
eval "$env"
. scripts/node24.sh >/dev/null
KUBECONFIG="$KUBECONFIG" E2E_SCORER_IMAGE="$SCORER_IMAGE" E2E_OPERATOR_IMAGE="$OPERATOR_IMAGE" npm run test:e2e
