/** What an operator run against a control plane of the harness needs: the benchmarks start theirs this way. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kubectlOn, type ControlPlane } from './controlplane.js';
import { kubeconfigYaml } from './kubeconfig.js';

/**
 * Applies the namespace, the CRD (waiting until it is established) and the RBAC of config/ to `cp`, and writes a
 * kubeconfig with a token of the operator's ServiceAccount (2 hours) to `path`: the operator then runs with exactly
 * the rights config/rbac gives it. Returns `path`.
 */
export function installOperator(cp: ControlPlane, path: string): string {
  const kubectl = (args: string[], input?: string) => kubectlOn(cp, args, input);
  kubectl(['apply', '-f', 'config/default/namespace.yaml']);
  kubectl(['apply', '-k', 'config/crd']);
  kubectl(['wait', '--for', 'condition=established', 'crd/scoringmodels.scoring.dev', '--timeout=60s']);
  kubectl(['apply', '-n', 'scoring-system', '-f', '-'], kubectl(['kustomize', 'config/rbac']));
  const token = kubectl(['create', 'token', 'scoring-operator', '-n', 'scoring-system', '--duration=2h']).trim();
  writeFileSync(path, kubeconfigYaml(cp.server, join(cp.dir, 'ca.crt'), { token }));
  return path;
}
