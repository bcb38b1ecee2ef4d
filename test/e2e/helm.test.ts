/**
 * The operator installed as most cluster admins install operators: `helm install` of charts/scoring-operator, then
 * `helm upgrade` of a value, then `helm uninstall`. The rest of the suite installs it with kustomize
 * (world.ts installOperator); two operators would both reconcile the same ScoringModels, so this file takes the
 * kustomize install's place for its run (its namespace, restricted, stays) and puts it back afterwards.
 * The release watches only the suite's namespace (watchNamespaces): its RBAC is a Role there, no ClusterRole.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN, getJson, k, kubectl, waitFor } from '../cluster/kube.js';
import { describeWithHelm, helmEnv, runHelm } from '../helpers/helm.js';
import {
  NS,
  OPERATOR_IMAGE,
  SCORER_IMAGE,
  installOperator,
  makeNamespace,
  ready,
  remove,
  sendOnceServed,
  startClient,
  url,
  waitReady,
} from './world.js';

const RELEASE = 'scoring-operator';
const SYSTEM = 'scoring-system';
const CRD = 'scoringmodels.scoring.dev';

/** `registry/name:tag` as the chart's repository and tag. */
function image(ref: string): { repository: string; tag: string } {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/')
    ? { repository: ref.slice(0, colon), tag: ref.slice(colon + 1) }
    : { repository: ref, tag: 'latest' };
}

interface ReplicaSet {
  metadata: { name: string; annotations: Record<string, string> };
  spec: { replicas: number; template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
  status: { readyReplicas?: number };
}

/** The operator's ReplicaSets by their Deployment revision. */
function replicaSets(): Map<string, ReplicaSet> {
  const list = getJson<{ items: ReplicaSet[] }>([
    'replicasets',
    '-n',
    SYSTEM,
    '-l',
    'app.kubernetes.io/name=scoring-operator,app.kubernetes.io/component=manager',
  ])!;
  return new Map(list.items.map((rs) => [rs.metadata.annotations['deployment.kubernetes.io/revision']!, rs]));
}

const logLevelOf = (rs: ReplicaSet) =>
  rs.spec.template.spec.containers[0]!.env.find((e) => e.name === 'LOG_LEVEL')?.value;

describeWithHelm('the operator installed with Helm', (helm) => {
  let home: string;
  const run = (args: string[], timeoutMs = 60_000) =>
    runHelm(helm(), args, { ...helmEnv(home), KUBECONFIG: ADMIN }, timeoutMs);
  const must = (args: string[], timeoutMs = 60_000) => {
    const out = run(args, timeoutMs);
    if (out.status !== 0) throw new Error(`helm ${args.join(' ')} failed: ${out.stderr}`);
    return out.stdout;
  };
  const operator = image(OPERATOR_IMAGE);
  const scorer = image(SCORER_IMAGE);

  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'helm-e2e-'));
    // The kustomize install's objects, less its namespace (with them the CRD, and every ScoringModel: the suite's
    // namespace is made anew below). Foreground: its pods are gone before the release's come, so that no pod of the
    // old Deployment is counted as the new one's.
    const installed = k(['kustomize', 'config/default']);
    kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=180s']);
    k(
      ['delete', '-f', '-', '--ignore-not-found', '--cascade=foreground', '--wait=true', '--timeout=300s'],
      installed
        .split(/^---$/m)
        .filter((doc) => !/^kind: Namespace$/m.test(doc))
        .join('---\n'),
    );
    // The operator's namespace, restricted, as config/default makes it: Helm makes none, and a run of this file alone
    // finds no kustomize install before it.
    k(['apply', '-f', 'config/default/namespace.yaml']);
    makeNamespace();
    startClient();
    must(
      [
        'install',
        RELEASE,
        'charts/scoring-operator',
        '--namespace',
        SYSTEM,
        '--set',
        `image.repository=${operator.repository},image.tag=${operator.tag}`,
        '--set',
        `scorer.image.repository=${scorer.repository},scorer.image.tag=${scorer.tag}`,
        '--set',
        `watchNamespaces={${NS}}`,
        '--wait',
        '--timeout=5m',
      ],
      360_000,
    );
  }, 900_000);

  afterAll(() => {
    remove(['identity']);
    run(['uninstall', RELEASE, '--namespace', SYSTEM, '--wait', '--timeout=3m'], 240_000);
    rmSync(home, { recursive: true, force: true });
    // The rest of the suite's install, back (the kept CRD is simply applied over).
    installOperator();
  }, 600_000);

  it('brings up both replicas of the operator and the CRD, the release deployed', () => {
    expect(JSON.parse(must(['status', RELEASE, '--namespace', SYSTEM, '--output', 'json'])).info.status).toBe(
      'deployed',
    );
    const d = getJson(['deployment', 'scoring-operator', '-n', SYSTEM])!;
    expect(d.status.readyReplicas).toBe(2);
    expect(d.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    const crd = getJson(['crd', CRD])!;
    expect(crd.metadata.labels['app.kubernetes.io/managed-by']).toBe('Helm');
    expect(crd.metadata.annotations['helm.sh/resource-policy']).toBe('keep');
  });

  it('reconciles a ScoringModel in its watched namespace with a Role there, and the model answers', async () => {
    expect(getJson(['clusterrolebinding', 'scoring-operator-manager'])).toBeUndefined();
    expect(getJson(['rolebinding', 'scoring-operator-manager', '-n', NS])).toBeDefined();
    k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        metadata: { name: 'identity', namespace: NS },
        spec: { model: { uri: 'identity', format: 'identity' } },
      }),
    );
    await waitReady('identity');
    expect(await sendOnceServed(url('identity', '/score'), { X: [1, 2] })).toEqual({
      status: 200,
      body: { score: [1, 2] },
    });
  });

  it('helm upgrade of the log level rolls the operator to a new ReplicaSet, and the model stays served', async () => {
    const before = replicaSets();
    const revision = getJson(['deployment', 'scoring-operator', '-n', SYSTEM])!.metadata.annotations[
      'deployment.kubernetes.io/revision'
    ] as string;
    expect(logLevelOf(before.get(revision)!)).toBe('info');
    must(
      [
        'upgrade',
        RELEASE,
        'charts/scoring-operator',
        '--namespace',
        SYSTEM,
        '--reuse-values',
        '--set',
        'logLevel=debug',
        '--wait',
        '--timeout=5m',
      ],
      360_000,
    );
    const next = String(Number(revision) + 1);
    const after = await waitFor(
      'the old ReplicaSet scaled to 0 and the new one ready',
      () => {
        const sets = replicaSets();
        const fresh = sets.get(next);
        return fresh?.status.readyReplicas === 2 && sets.get(revision)?.spec.replicas === 0 ? sets : undefined;
      },
      300_000,
    );
    expect(after.get(next)!.metadata.name).not.toBe(before.get(revision)!.metadata.name);
    expect(logLevelOf(after.get(next)!)).toBe('debug');
    expect(JSON.parse(must(['status', RELEASE, '--namespace', SYSTEM, '--output', 'json'])).version).toBe(2);
    expect(ready('identity')?.status).toBe('True');
    expect(await sendOnceServed(url('identity', '/score'), { X: [3] })).toEqual({ status: 200, body: { score: [3] } });
  });

  it('helm uninstall removes the operator and keeps the CRD, and with it the ScoringModels', async () => {
    must(['uninstall', RELEASE, '--namespace', SYSTEM, '--wait', '--timeout=3m'], 240_000);
    await waitFor(
      'the operator Deployment gone',
      () => !getJson(['deployment', 'scoring-operator', '-n', SYSTEM]),
      120_000,
    );
    expect(getJson(['crd', CRD])).toBeDefined();
    expect(getJson(['sm', 'identity', '-n', NS])).toBeDefined();
  });
});
