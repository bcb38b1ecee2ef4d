#!/usr/bin/env bash
# The e2e suite on kind (e2e/kind/up.sh, needs Docker); a cluster this run created is deleted afterwards (also when
# the image builds or the suite fail) unless KEEP_CLUSTER=1; one that existed before is left as it is.
#   e2e/kind/run.sh [jest's arguments, e.g. -t 'the URL in status']
set -euo pipefail
cd "$(dirname "$0")/../.."
export KIND_CLUSTER=${KIND_CLUSTER:-scoring-e2e}
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci
KIND=$(e2e/kind/kind.sh)
if [ -z "${KEEP_CLUSTER:-}" ] && ! "$KIND" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
  # Set before up.sh creates it, so that a failing image build or load deletes it too.
  trap '"$KIND" delete cluster --name "$KIND_CLUSTER"' EXIT
fi
env=$(e2e/kind/up.sh)
eval "$env"
KUBECONFIG="$KUBECONFIG" E2E_SCORER_IMAGE="$SCORER_IMAGE" E2E_OPERATOR_IMAGE="$OPERATOR_IMAGE" npm run test:e2e -- "$@"
