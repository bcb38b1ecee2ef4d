/** The install manifests as kubectl renders them (`kubectl kustomize`, offline): what `kubectl apply -k` installs. */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

interface Grant {
  role: 'ClusterRole' | 'Role';
  group: string;
  resource: string;
  verbs: string[];
}
const cluster = (group: string, resource: string, verbs: string[]): Grant => ({
  role: 'ClusterRole',
  group,
  resource,
  verbs,
});

/** The API group and resource of each kind operator/desired builds. */
const KINDS: Record<string, { group: string; resource: string }> = {
  Deployment: { group: 'apps', resource: 'deployments' },
  Service: { group: '', resource: 'services' },
  HorizontalPodAutoscaler: { group: 'autoscaling', resource: 'horizontalpodautoscalers' },
  PodDisruptionBudget: { group: 'policy', resource: 'poddisruptionbudgets' },
};

/**
 * What the operator does with the API server and the grants each use needs: calls (`ApiClass.method`, as made in
 * operator/) or, for a grant no call shows, a line of code that needs it. The roles must be exactly the union.
 */
const USES: { calls?: string[]; evidence?: { file: string; text: string }; grants: Grant[]; why: string }[] = [
  {
    calls: ['CustomObjectsApi.listClusterCustomObject', 'CustomObjectsApi.listNamespacedCustomObject'],
    grants: [cluster('scoring.dev', 'scoringmodels', ['list', 'watch'])],
    why: "an informer lists, then watches from the list's resourceVersion; reads by name come from its cache",
  },
  {
    calls: ['AppsV1Api.listDeploymentForAllNamespaces', 'AppsV1Api.listNamespacedDeployment'],
    grants: [cluster('apps', 'deployments', ['list', 'watch'])],
    why: 'informer',
  },
  {
    calls: ['CoreV1Api.listServiceForAllNamespaces', 'CoreV1Api.listNamespacedService'],
    grants: [cluster('', 'services', ['list', 'watch'])],
    why: 'informer',
  },
  {
    calls: [
      'AutoscalingV2Api.listHorizontalPodAutoscalerForAllNamespaces',
      'AutoscalingV2Api.listNamespacedHorizontalPodAutoscaler',
    ],
    grants: [cluster('autoscaling', 'horizontalpodautoscalers', ['list', 'watch'])],
    why: 'informer',
  },
  {
    calls: ['PolicyV1Api.listPodDisruptionBudgetForAllNamespaces', 'PolicyV1Api.listNamespacedPodDisruptionBudget'],
    grants: [cluster('policy', 'poddisruptionbudgets', ['list', 'watch'])],
    why: 'informer',
  },
  {
    calls: ['CoreV1Api.listPodForAllNamespaces', 'CoreV1Api.listNamespacedPod'],
    grants: [cluster('', 'pods', ['list', 'watch'])],
    why: "informer: status reads the scorers' termination messages",
  },
  {
    calls: ['KubernetesObjectApi.patch'],
    grants: Object.values(KINDS).map((r) => cluster(r.group, r.resource, ['create', 'patch'])),
    why: 'server-side apply of the children operator/desired builds: a patch, which creates an absent object',
  },
  {
    calls: ['KubernetesObjectApi.read'],
    grants: Object.values(KINDS).map((r) => cluster(r.group, r.resource, ['get'])),
    why: "a child missing from the caches (which hold only the operator's labelled objects) is read by name, so that a same-named object of someone else's is left alone",
  },
  {
    calls: ['KubernetesObjectApi.delete'],
    grants: [
      cluster('autoscaling', 'horizontalpodautoscalers', ['delete']),
      cluster('policy', 'poddisruptionbudgets', ['delete']),
      cluster('apps', 'deployments', ['delete']),
    ],
    why:
      "the HPA and PDB the ScoringModel no longer asks for, and a rollout's candidate Deployment once it is " +
      'promoted or rolled back (the other children go by garbage collection)',
  },
  {
    calls: ['CustomObjectsApi.patchNamespacedCustomObject'],
    grants: [cluster('scoring.dev', 'scoringmodels', ['patch'])],
    why: 'a JSON patch removes the scoring.dev/rollout annotation (promote, abort) once acted on',
  },
  {
    calls: ['CustomObjectsApi.patchNamespacedCustomObjectStatus'],
    grants: [cluster('scoring.dev', 'scoringmodels/status', ['patch'])],
    why: 'status by server-side apply on the status subresource',
  },
  {
    evidence: { file: 'operator/desired/labels.ts', text: 'blockOwnerDeletion: true' },
    grants: [cluster('scoring.dev', 'scoringmodels/finalizers', ['update'])],
    why: 'the API server asks for it of whoever sets blockOwnerDeletion on an owner reference',
  },
  {
    calls: ['EventsV1Api.createNamespacedEvent'],
    grants: [cluster('events.k8s.io', 'events', ['create'])],
    why: 'one new event per condition transition',
  },
  {
    calls: ['CoordinationV1Api.readNamespacedLease'],
    grants: [{ role: 'Role', group: 'coordination.k8s.io', resource: 'leases', verbs: ['get'] }],
    why: 'leader election reads the Lease',
  },
  {
    calls: ['CoordinationV1Api.createNamespacedLease'],
    grants: [{ role: 'Role', group: 'coordination.k8s.io', resource: 'leases', verbs: ['create'] }],
    why: 'the first replica creates it',
  },
  {
    calls: ['CoordinationV1Api.replaceNamespacedLease'],
    grants: [{ role: 'Role', group: 'coordination.k8s.io', resource: 'leases', verbs: ['update'] }],
    why: 'acquire, renew and release (a replace, guarded by resourceVersion)',
  },
  {
    calls: ['AuthenticationV1Api.createTokenReview'],
    grants: [cluster('authentication.k8s.io', 'tokenreviews', ['create'])],
    why: "/metrics asks who a scraper's bearer token belongs to",
  },
  {
    calls: ['AuthorizationV1Api.createSubjectAccessReview'],
    grants: [cluster('authorization.k8s.io', 'subjectaccessreviews', ['create'])],
    why: 'and whether that user may get the /metrics non-resource URL',
  },
];

const needed = (uses: typeof USES) =>
  new Set(uses.flatMap((u) => u.grants.flatMap((g) => g.verbs.map((v) => `${g.role} ${g.group}/${g.resource} ${v}`))));

function granted(): Set<string> {
  const rules = [
    ...(find('ClusterRole', 'scoring-operator-manager').rules as Rule[]).map((r) => ['ClusterRole', r] as const),
    ...(find('Role', 'scoring-operator-leader-election').rules as Rule[]).map((r) => ['Role', r] as const),
  ];
  const all = rules.flatMap(([role, r]) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${role} ${g}/${res} ${v}`))),
  );
  // A grant written twice would hide behind the set.
  expect(new Set(all).size).toBe(all.length);
  return new Set(all);
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(root, dir, f));
}

/**
 * Every method called on a client-node API client in operator/, as `ApiClass.method`: clients are found where they
 * are made (`kc.makeApiClient(X)`, `X.makeApiClient(kc)`) or received (`name: XApi`).
 */
function apiCalls(): Set<string> {
  const calls = new Set<string>();
  for (const file of sources('operator')) {
    const text = readFileSync(file, 'utf8');
    const clients = new Map<string, string>();
    for (const m of text.matchAll(/const (\w+) = (?:\w+\.makeApiClient\((\w+Api)\)|(\w+Api)\.makeApiClient\()/g)) {
      clients.set(m[1]!, (m[2] ?? m[3])!);
    }
    for (const m of text.matchAll(/\b(\w+): (\w+Api)\b/g)) clients.set(m[1]!, m[2]!);
    for (const [name, api] of clients) {
      for (const m of text.matchAll(new RegExp(`\\b${name}\\.(\\w+)\\(`, 'g'))) calls.add(`${api}.${m[1]}`);
    }
  }
  return calls;
}

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
    expect(granted()).toEqual(needed(USES));
  });

  it('lets a ClusterRole of its own read /metrics, and nothing else', () => {
    expect(find('ClusterRole', 'scoring-operator-metrics-reader').rules).toEqual([
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    const service = find('Service', 'scoring-operator-metrics') as Obj & { spec: { ports: unknown } };
    expect(service.spec.ports).toEqual([{ name: 'https', port: 8443, targetPort: 'metrics' }]);
  });

  it('justifies every API call in operator/ by an entry of USES (and no entry names a call no longer made)', () => {
    const made = apiCalls();
    expect([...made].filter((c) => !USES.some((u) => u.calls?.includes(c)))).toEqual([]);
    expect(USES.flatMap((u) => u.calls ?? []).filter((c) => !made.has(c))).toEqual([]);
    for (const { evidence } of USES.filter((u) => u.evidence)) {
      expect(readFileSync(join(root, evidence!.file), 'utf8')).toContain(evidence!.text);
    }
  });

  it('server-side applies exactly the kinds USES grants create and patch on', () => {
    const built = new Set<string>();
    for (const file of sources('operator/desired')) {
      for (const m of readFileSync(file, 'utf8').matchAll(/apiVersion: '([^']+)',\s*kind: '(\w+)'/g)) {
        const group = m[1]!.includes('/') ? m[1]!.split('/')[0] : '';
        expect(KINDS[m[2]!]).toEqual({ group, resource: expect.any(String) });
        built.add(`${group}/${KINDS[m[2]!]!.resource}`);
      }
    }
    const applied = USES.find((u) => u.calls?.includes('KubernetesObjectApi.patch'))!.grants;
    expect(new Set(applied.map((g) => `${g.group}/${g.resource}`))).toEqual(built);
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
      'METRICS_PORT',
      'ROUTING_PORT',
      'ROUTING_URL',
      'LOG_LEVEL',
    ]);
    // Kubernetes expands $(LEASE_NAMESPACE), defined above it: the routing Service of the operator's own namespace.
    expect((c.env as { name: string; value?: string }[]).find((e) => e.name === 'ROUTING_URL')?.value).toBe(
      'http://scoring-operator-routing.$(LEASE_NAMESPACE).svc:8082',
    );
    const routing = find('Service', 'scoring-operator-routing') as Obj & {
      spec: { selector: unknown; ports: unknown };
    };
    expect(routing.spec).toMatchObject({
      selector: (d.spec as unknown as { selector: { matchLabels: unknown } }).selector.matchLabels,
      ports: [{ name: 'routing', port: 8082, targetPort: 'routing' }],
    });
  });

  it('keeps one of the two replicas up through a node drain, and spreads them over nodes and zones', () => {
    const d = find('Deployment', 'scoring-operator') as Obj & {
      spec: { replicas: number; selector: unknown; template: { spec: { topologySpreadConstraints: unknown[] } } };
    };
    expect(d.spec.replicas).toBe(2);
    expect(find('PodDisruptionBudget', 'scoring-operator')).toMatchObject({
      spec: { maxUnavailable: 1, selector: d.spec.selector },
    });
    expect(d.spec.template.spec.topologySpreadConstraints).toMatchObject([
      { topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: d.spec.selector },
      {
        topologyKey: 'topology.kubernetes.io/zone',
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: d.spec.selector,
      },
    ]);
  });
});

describe('config/samples', () => {
  it('renders the five sample ScoringModels', () => {
    expect(render('config/samples').map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'ScoringModel/churn',
      'ScoringModel/churn-monitored',
      'ScoringModel/fraud',
      'ScoringModel/identity',
      'ScoringModel/iris',
    ]);
  });
});
