#!/usr/bin/env bash
# Installs the operator into the cluster KUBECONFIG names: `kubectl apply -k config/default`, through an overlay
# (.e2e/overlay, kustomize reads only below it) that sets the operator's image and the scorer image it deploys;
# waits until the operator is available.
#   scripts/install-operator.sh OPERATOR_IMAGE SCORER_IMAGE
set -euo pipefail
cd "$(dirname "$0")/.."
# kubectl within the supported skew of v1.34 (the machine's when it is, else built from the pinned module).
PATH="$(scripts/build-k8s.sh --kubectl):$PATH"
op=${1:?operator image}
scorer=${2:?scorer image}
name=${op%:*}
tag=${op##*:}
[ "$name" = "$op" ] && tag=latest
mkdir -p .e2e/overlay
cat > .e2e/overlay/kustomization.yaml <<YAML
resources: [../../config/default]
images:
  - {name: ghcr.io/scoring-dev/scoring-operator, newName: $name, newTag: $tag}
patches:
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: scoring-operator, namespace: scoring-system}
      spec:
        template:
          spec:
            containers: [{name: manager, env: [{name: SCORER_IMAGE, value: "$scorer"}]}]
YAML
kubectl apply -k .e2e/overlay >&2
kubectl rollout status deployment/scoring-operator -n scoring-system --timeout=300s >&2
