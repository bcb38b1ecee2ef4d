/** The install manifests as kubectl renders them (`kubectl kustomize`, offline): what `kubectl apply -k` installs. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

function render(dir: string): Obj[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
  if (run.error) throw new Error(`kubectl is needed for this test: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  return loadAll(run.stdout) as Obj[];
}

const objects = render('config/default');
const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name)!;

describe('config/default', () => {
  it('puts every namespaced object in scoring-system, a namespace that enforces restricted pod security', () => {
    const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'];
    for (const o of objects.filter((x) => !clusterScoped.includes(x.kind))) {
      expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(
        `${o.kind}/${o.metadata.name} in scoring-system`,
      );
    }
    expect(find('Namespace', 'scoring-system').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
  });

  it('installs the generated CRD', () => {
    expect(find('CustomResourceDefinition', 'scoringmodels.scoring.dev')).toBeDefined();
  });

  it('grants the operator exactly the verbs its code uses', () => {
    expect(find('ClusterRole', 'scoring-operator-manager').rules).toEqual([
      { apiGroups: ['scoring.dev'], resources: ['scoringmodels'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['scoring.dev'], resources: ['scoringmodels/status'], verbs: ['patch'] },
      { apiGroups: ['scoring.dev'], resources: ['scoringmodels/finalizers'], verbs: ['update'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['list', 'watch', 'create', 'patch'] },
      { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch', 'create', 'patch'] },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: ['list', 'watch', 'create', 'patch', 'delete'],
      },
      { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
      { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
    ]);
    expect(find('Role', 'scoring-operator-leader-election').rules).toEqual([
      { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
    ]);
  });

  it('runs the operator non-root, read-only, without capabilities, probed, as its ServiceAccount', () => {
    const d = find('Deployment', 'scoring-operator') as Obj & {
      spec: { template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } } };
    };
    const pod = d.spec.template.spec;
    const c = pod.containers[0]!;
    expect(pod.serviceAccountName).toBe('scoring-operator');
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(c.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: '/healthz' } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: '/readyz' } });
    expect((c.env as { name: string }[]).map((e) => e.name)).toEqual([
      'SCORER_IMAGE',
      'LEADER_ELECT',
      'LEASE_NAMESPACE',
      'POD_NAME',
      'PORT',
      'LOG_LEVEL',
    ]);
  });
});

describe('config/samples', () => {
  it('renders the three sample ScoringModels', () => {
    expect(render('config/samples').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ScoringModel/churn',
      'ScoringModel/identity',
      'ScoringModel/iris',
    ]);
  });
});
