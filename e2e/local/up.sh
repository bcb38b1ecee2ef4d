#!/usr/bin/env bash
# A local single-node cluster with our images in it, without Docker (needs root): builds both images from our
# Dockerfiles with buildah (e2e/images/build.sh), starts the control plane and the node
# (npm run cluster:up -- --node), loads the images into the node's containerd. Prints, for eval:
#   KUBECONFIG=...  SCORER_IMAGE=...  OPERATOR_IMAGE=...
# Stop it with `npm run cluster:down`.
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/node24.sh >/dev/null
[ -d node_modules ] || npm ci >&2
bash scripts/setup-node.sh
npm run build --silent >&2
# Refuse a second cluster before the image builds, not after them.
node dist/harness/up.js --check
start=$SECONDS
built=$(e2e/images/build.sh)
mapfile -t images <<<"$built"
echo "local: images built in $((SECONDS - start)) s" >&2
t=$SECONDS
kubeconfig=$(node dist/harness/up.js --node | sed -n 's/^export KUBECONFIG=//p')
echo "local: cluster up in $((SECONDS - t)) s" >&2
node dist/harness/load-images.js "${images[@]}"
echo "KUBECONFIG=$kubeconfig"
echo "SCORER_IMAGE=${images[0]}"
echo "OPERATOR_IMAGE=${images[1]}"
