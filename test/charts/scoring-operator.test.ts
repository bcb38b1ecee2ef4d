/**
 * The Helm chart (charts/scoring-operator): `helm lint`, what `helm template` renders for the default values (the
 * objects `kubectl kustomize config/default` renders: config/ and the chart are one install, said twice) and for
 * values a cluster admin sets.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dump, load, loadAll } from 'js-yaml';
import { describeWithHelm, helmEnv, runHelm } from '../helpers/helm.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const CHART = 'charts/scoring-operator';

interface Obj {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

interface Container {
  name: string;
  image: string;
  imagePullPolicy: string;
  env: { name: string; value?: string }[];
  resources: unknown;
  volumeMounts?: unknown;
}
interface PodSpec {
  serviceAccountName: string;
  containers: Container[];
  nodeSelector?: unknown;
  tolerations?: unknown;
  affinity?: unknown;
  imagePullSecrets?: unknown;
  volumes?: unknown;
}
type Deployment = Obj & { spec: { replicas: number; template: { spec: PodSpec } } };

const key = (o: Obj) => `${o.kind} ${o.metadata.namespace ?? '-'}/${o.metadata.name}`;
const byKey = (a: Obj, b: Obj) => key(a).localeCompare(key(b));

/** The labels Helm and kustomize each add to say who installed an object: not part of what is installed. */
const INSTALLER_LABELS = [
  'app.kubernetes.io/managed-by',
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'helm.sh/chart',
];

/** An object without its installer's labels and Helm's resource policy (the chart's keep, on the CRD). */
function withoutInstaller(o: Obj): Obj {
  const copy = structuredClone(o);
  const { labels, annotations } = copy.metadata;
  for (const l of INSTALLER_LABELS) delete labels?.[l];
  if (labels && Object.keys(labels).length === 0) delete copy.metadata.labels;
  delete annotations?.['helm.sh/resource-policy'];
  if (annotations && Object.keys(annotations).length === 0) delete copy.metadata.annotations;
  return copy;
}

function kustomize(dir: string): Obj[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
  if (run.error) throw new Error(`kubectl is needed for this test: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  return loadAll(run.stdout) as Obj[];
}

/** The monitoring kit's kinds, and the scraper's objects (named after the chart's full name). */
const KIT_KINDS = ['PodMonitor', 'ServiceMonitor', 'PrometheusRule', 'ConfigMap'];
const isKit = (o: Obj) => KIT_KINDS.includes(o.kind) || o.metadata.name.endsWith('-metrics-scraper');

describeWithHelm('the Helm chart', (helm) => {
  let home: string;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'helm-test-'));
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  const run = (args: string[]) => runHelm(helm(), args, helmEnv(home));

  /** `helm template RELEASE` into `namespace` with `values` (as a values file); the rendered objects. */
  function template(values: unknown = {}, release = 'scoring-operator', namespace = 'scoring-system'): Obj[] {
    const file = join(home, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, dump(values));
    const out = run(['template', release, CHART, '--namespace', namespace, '--values', file]);
    if (out.status !== 0) throw new Error(`helm template failed: ${out.stderr}`);
    return (loadAll(out.stdout) as (Obj | null)[]).filter((o): o is Obj => o !== null);
  }
  /** What `helm template` says when it refuses `values`. */
  function refusal(values: unknown): string {
    const file = join(home, `values-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, dump(values));
    const out = run(['template', 'scoring-operator', CHART, '--namespace', 'scoring-system', '--values', file]);
    expect(out.status).not.toBe(0);
    return out.stderr;
  }
  const find = (objects: Obj[], kind: string, name: string) => {
    const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
    if (!found) throw new Error(`no ${kind} ${name} among ${objects.map(key).join(', ')}`);
    return found;
  };
  const manager = (objects: Obj[], name = 'scoring-operator') => {
    const d = find(objects, 'Deployment', name) as Deployment;
    return { deployment: d, pod: d.spec.template.spec, container: d.spec.template.spec.containers[0]! };
  };
  const env = (c: Container) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));

  it('passes helm lint --strict', () => {
    const out = run(['lint', '--strict', CHART]);
    expect(`${out.stdout}${out.stderr}`).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(out.status).toBe(0);
  });

  it('renders, with the default values, exactly the objects of kubectl kustomize config/default (less its Namespace)', () => {
    // Helm does not own the namespace it installs into (helm install --create-namespace, or kubectl create namespace).
    const config = kustomize('config/default')
      .filter((o) => o.kind !== 'Namespace')
      .map(withoutInstaller);
    const chart = template().map(withoutInstaller);
    expect(chart.map(key).sort()).toEqual(config.map(key).sort());
    expect(chart.sort(byKey)).toEqual(config.sort(byKey));
  });

  it("labels every object as Helm's, part of scoring-operator", () => {
    for (const o of template()) {
      expect(`${key(o)} ${JSON.stringify(o.metadata.labels)}`).toBe(
        `${key(o)} ${JSON.stringify({
          ...o.metadata.labels,
          'app.kubernetes.io/part-of': 'scoring-operator',
          'app.kubernetes.io/managed-by': 'Helm',
          'app.kubernetes.io/instance': 'scoring-operator',
        })}`,
      );
    }
  });

  it("is versioned as the project, and runs the operator and the scorer of the chart's appVersion by default", () => {
    const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
    const chart = load(readFileSync(join(root, CHART, 'Chart.yaml'), 'utf8')) as {
      version: string;
      appVersion: string;
    };
    expect(chart).toMatchObject({ version, appVersion: version });
    const { container } = manager(template());
    expect(container.image).toBe(`ghcr.io/scoring-dev/scoring-operator:${version}`);
    expect(env(container).SCORER_IMAGE).toBe(`ghcr.io/scoring-dev/scorer:${version}`);
  });

  it('installs the CRD as a template that helm uninstall keeps, unless crds.keep or crds.enabled say otherwise', () => {
    const crd = (objects: Obj[]) => objects.find((o) => o.kind === 'CustomResourceDefinition');
    expect(crd(template())?.metadata.annotations).toEqual({ 'helm.sh/resource-policy': 'keep' });
    expect(crd(template({ crds: { keep: false } }))?.metadata.annotations).toBeUndefined();
    expect(crd(template({ crds: { enabled: false } }))).toBeUndefined();
  });

  it('puts the images, replicas, resources, log level, allow-list and scheduling values a cluster admin sets in the Deployment', () => {
    const objects = template({
      image: { repository: 'registry.example/ml/operator', tag: '1.2.3', pullPolicy: 'Always' },
      scorer: {
        image: { repository: 'registry.example/ml/scorer', tag: '1.2.4' },
        allowedImages: ['registry.example/ml/scorer', 'registry.example/models/'],
      },
      imagePullSecrets: [{ name: 'registry' }],
      replicas: 3,
      logLevel: 'debug',
      resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
      nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'system' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }],
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['system'] }] }],
          },
        },
      },
    });
    const { deployment, pod, container } = manager(objects);
    expect(deployment.spec.replicas).toBe(3);
    expect(container).toMatchObject({
      image: 'registry.example/ml/operator:1.2.3',
      imagePullPolicy: 'Always',
      resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    });
    expect(env(container)).toMatchObject({
      SCORER_IMAGE: 'registry.example/ml/scorer:1.2.4',
      SCORER_IMAGES: 'registry.example/ml/scorer,registry.example/models/',
      LOG_LEVEL: 'debug',
      LEADER_ELECT: 'true',
    });
    expect(pod).toMatchObject({
      imagePullSecrets: [{ name: 'registry' }],
      nodeSelector: { 'kubernetes.io/os': 'linux', pool: 'system' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'system', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: expect.any(Object) } },
    });
  });

  it('watches only the listed namespaces, granted by a Role in each instead of the ClusterRole', () => {
    const objects = template({ watchNamespaces: ['team-a', 'team-b'] });
    expect(env(manager(objects).container).WATCH_NAMESPACES).toBe('team-a,team-b');
    // Cluster-wide still: the metrics-reader role, and the TokenReviews and SubjectAccessReviews of /metrics (cluster
    // -scoped kinds, which no Role can grant), in a ClusterRole of their own.
    expect(
      objects
        .filter((o) => o.kind === 'ClusterRole')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([
      'scoring-operator-metrics-auth',
      'scoring-operator-metrics-reader',
      'scoringmodel-editor',
      'scoringmodel-viewer',
    ]);
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toMatchObject([
      {
        metadata: { name: 'scoring-operator-metrics-auth' },
        roleRef: { kind: 'ClusterRole', name: 'scoring-operator-metrics-auth' },
        subjects: [{ kind: 'ServiceAccount', name: 'scoring-operator', namespace: 'scoring-system' }],
      },
    ]);
    type Rule = { apiGroups: string[]; resources: string[] };
    const clusterRole = find(template(), 'ClusterRole', 'scoring-operator-manager') as Obj & { rules: Rule[] };
    const isReview = (r: Rule) => /^(authentication|authorization)\.k8s\.io$/.test(r.apiGroups[0]!);
    const auth = find(objects, 'ClusterRole', 'scoring-operator-metrics-auth') as Obj & { rules: Rule[] };
    expect(auth.rules).toEqual(clusterRole.rules.filter(isReview));
    expect(auth.rules.map((r) => r.resources[0])).toEqual(['tokenreviews', 'subjectaccessreviews']);
    for (const ns of ['team-a', 'team-b']) {
      const role = objects.find((o) => key(o) === `Role ${ns}/scoring-operator-manager`) as Obj & { rules: unknown };
      expect(role?.rules).toEqual(clusterRole.rules.filter((r) => !isReview(r)));
      expect(objects.find((o) => key(o) === `RoleBinding ${ns}/scoring-operator-manager`)).toMatchObject({
        roleRef: { kind: 'Role', name: 'scoring-operator-manager' },
        subjects: [{ kind: 'ServiceAccount', name: 'scoring-operator', namespace: 'scoring-system' }],
      });
    }
    // The Lease stays in the operator's own namespace.
    expect(objects.find((o) => key(o) === 'Role scoring-system/scoring-operator-leader-election')).toBeDefined();
  });

  it("names the objects after another release, and points the scorers at that release's routing Service", () => {
    const objects = template({}, 'ml', 'ml-system');
    const { pod, container } = manager(objects, 'ml-scoring-operator');
    expect(pod.serviceAccountName).toBe('ml-scoring-operator');
    expect(env(container).ROUTING_URL).toBe('http://ml-scoring-operator-routing.$(LEASE_NAMESPACE).svc:8082');
    expect(find(objects, 'Service', 'ml-scoring-operator-routing').metadata.namespace).toBe('ml-system');
    expect(find(objects, 'ClusterRoleBinding', 'ml-scoring-operator-manager')).toMatchObject({
      roleRef: { name: 'ml-scoring-operator-manager' },
      subjects: [{ name: 'ml-scoring-operator', namespace: 'ml-system' }],
    });
    expect(find(objects, 'ClusterRole', 'ml-scoring-operator-metrics-reader')).toMatchObject({
      rules: [{ nonResourceURLs: ['/metrics'], verbs: ['get'] }],
    });
    for (const o of objects.filter(
      (x) => !['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(x.kind),
    )) {
      expect(`${key(o)}`).toBe(`${o.kind} ml-system/${o.metadata.name}`);
    }
  });

  it('leaves out the PDB and the aggregated user roles when asked', () => {
    const objects = template({ podDisruptionBudget: { enabled: false }, rbac: { aggregateToUserRoles: false } });
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toEqual([]);
    expect(objects.filter((o) => o.kind === 'ClusterRole').map((o) => o.metadata.name)).toEqual([
      'scoring-operator-manager',
      'scoring-operator-metrics-reader',
    ]);
  });

  it('runs one replica without leader election, and refuses several without it', () => {
    const { deployment, container } = manager(template({ replicas: 1, leaderElection: { enabled: false } }));
    expect(deployment.spec.replicas).toBe(1);
    expect(env(container).LEADER_ELECT).toBe('false');
    expect(refusal({ leaderElection: { enabled: false } })).toContain('leaderElection.enabled=false needs replicas: 1');
  });

  it("serves metricsCertSecret's certificate: the Secret mounted read-only and METRICS_CERT_DIR pointing at it", () => {
    const plain = manager(template());
    expect(env(plain.container).METRICS_CERT_DIR).toBeUndefined();
    expect(plain.pod.volumes).toBeUndefined();

    const { pod, container } = manager(template({ metricsCertSecret: 'operator-metrics-tls' }));
    const dir = env(container).METRICS_CERT_DIR;
    expect(dir).toBe('/etc/scoring-operator/metrics-certificate');
    expect(pod.volumes).toEqual([{ name: 'metrics-certificate', secret: { secretName: 'operator-metrics-tls' } }]);
    expect(container.volumeMounts).toEqual([{ name: 'metrics-certificate', mountPath: dir, readOnly: true }]);
    // The rest of the container as before.
    expect(container.env.filter((e) => e.name !== 'METRICS_CERT_DIR')).toEqual(plain.container.env);
    expect({ ...container, env: undefined, volumeMounts: undefined }).toEqual({ ...plain.container, env: undefined });
    expect(refusal({ metricsCertSecret: 'Operator_TLS' })).toContain('metricsCertSecret');
  });

  it('refuses values the operator would refuse at start-up, naming them', () => {
    expect(refusal({ logLevel: 'verbose' })).toContain('logLevel');
    expect(refusal({ watchNamespaces: ['Team_A'] })).toContain('watchNamespaces');
    expect(refusal({ scorer: { allowedImages: ['a,b'] } })).toContain('allowedImages');
    expect(refusal({ replica: 2 })).toContain('replica');
  });

  describe('with monitoring.enabled', () => {
    const FILES = join(root, CHART, 'files');
    const filesUnder = (dir: string): string[] =>
      readdirSync(dir, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
        .sort();

    it('reads a copy of the kit that scripts/sync-chart-monitoring.sh, run again, would not change', () => {
      const out = mkdtempSync(join(home, 'files-'));
      const run = spawnSync('bash', ['scripts/sync-chart-monitoring.sh', out], { cwd: root, encoding: 'utf8' });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(filesUnder(FILES)).toEqual(filesUnder(out));
      expect(filesUnder(FILES)).toEqual([
        'grafana/scoring-model.json',
        'prometheus/operator-metrics-scraper.yaml',
        'prometheus/operator-servicemonitor.yaml',
        'prometheus/prometheusrule.yaml',
        'prometheus/scorer-podmonitor.yaml',
      ]);
      for (const f of filesUnder(out)) {
        expect(`${f}: ${readFileSync(join(FILES, f), 'utf8')}`).toBe(`${f}: ${readFileSync(join(out, f), 'utf8')}`);
      }
    });

    it('renders, besides the default objects, exactly those of kubectl kustomize config/prometheus and config/grafana', () => {
      const defaults = new Set(template().map(key));
      const objects = template({ monitoring: { enabled: true } });
      const added = objects.filter((o) => !defaults.has(key(o)));
      expect(added.every(isKit)).toBe(true);
      expect(objects.filter((o) => defaults.has(key(o)))).toEqual(template());
      // The chart's ServiceMonitor selects its own release's metrics Service only (the one difference from the kit's,
      // whose Service no Helm release labels): two releases in a namespace would otherwise each scrape both.
      const chart = added.map(withoutInstaller);
      const monitor = find(chart, 'ServiceMonitor', 'scoring-operator') as Obj & {
        spec: { selector: { matchLabels: Record<string, string> } };
      };
      expect(monitor.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('scoring-operator');
      delete monitor.spec.selector.matchLabels['app.kubernetes.io/instance'];
      const kit = [...kustomize('config/prometheus'), ...kustomize('config/grafana')].map(withoutInstaller);
      expect(chart.map(key).sort()).toEqual(kit.map(key).sort());
      expect(chart.sort(byKey)).toEqual(kit.sort(byKey));
      // Not the NetworkPolicy example.
      expect(objects.filter((o) => o.kind === 'NetworkPolicy')).toEqual([]);
      // The dashboard byte for byte.
      const dashboard = find(objects, 'ConfigMap', 'scoring-model-dashboard') as Obj & { data: Record<string, string> };
      expect(dashboard.data).toEqual({
        'scoring-model.json': readFileSync(join(root, 'config/grafana/scoring-model.json'), 'utf8'),
      });
      // The scraper is bound to the chart's metrics-reader ClusterRole.
      expect(find(objects, 'ClusterRoleBinding', 'scoring-operator-metrics-scraper')).toMatchObject({
        roleRef: { name: find(objects, 'ClusterRole', 'scoring-operator-metrics-reader').metadata.name },
      });
    });

    it("puts the labels for Prometheus' selector on every object of the kit, and the names and namespace of another release", () => {
      const objects = template(
        {
          monitoring: {
            enabled: true,
            labels: { release: 'kube-prometheus-stack', team: 'ml' },
            dashboard: { sidecarLabel: 'grafana_dashboard_ml', sidecarLabelValue: 'yes', namespace: 'monitoring' },
          },
        },
        'ml',
        'ml-system',
      );
      const kit = objects.filter(isKit);
      expect(kit.map(key).sort()).toEqual([
        'ClusterRoleBinding -/ml-scoring-operator-metrics-scraper',
        'ConfigMap monitoring/scoring-model-dashboard',
        'PodMonitor ml-system/scoring-scorers',
        'PrometheusRule ml-system/scoring-alerts',
        'Secret ml-system/ml-scoring-operator-metrics-scraper',
        'ServiceAccount ml-system/ml-scoring-operator-metrics-scraper',
        'ServiceMonitor ml-system/ml-scoring-operator',
      ]);
      for (const o of kit) {
        expect(`${key(o)} ${JSON.stringify(o.metadata.labels)}`).toBe(
          `${key(o)} ${JSON.stringify({
            ...o.metadata.labels,
            release: 'kube-prometheus-stack',
            team: 'ml',
            'app.kubernetes.io/part-of': 'scoring-operator',
            'app.kubernetes.io/managed-by': 'Helm',
            'app.kubernetes.io/instance': 'ml',
          })}`,
        );
      }
      // Only the dashboard carries the sidecar's label, with the value asked for.
      expect(kit.filter((o) => o.metadata.labels?.grafana_dashboard_ml).map(key)).toEqual([
        'ConfigMap monitoring/scoring-model-dashboard',
      ]);
      expect(find(kit, 'ConfigMap', 'scoring-model-dashboard').metadata.labels?.grafana_dashboard_ml).toBe('yes');
      expect(kit.some((o) => 'grafana_dashboard' in (o.metadata.labels ?? {}))).toBe(false);

      // The ServiceMonitor scrapes this release's metrics Service with this release's scraper's token.
      const service = find(objects, 'Service', 'ml-scoring-operator-metrics') as Obj & {
        spec: { ports: { name: string }[] };
      };
      const monitor = find(kit, 'ServiceMonitor', 'ml-scoring-operator') as Obj & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; authorization: { credentials: { name: string } } }[];
        };
      };
      expect(service.metadata.labels).toMatchObject(monitor.spec.selector.matchLabels);
      expect(monitor.spec.selector.matchLabels['app.kubernetes.io/instance']).toBe('ml');
      expect(monitor.spec.endpoints.map((e) => [e.port, e.authorization.credentials.name])).toEqual([
        ['https', 'ml-scoring-operator-metrics-scraper'],
      ]);
      expect(service.spec.ports.map((p) => p.name)).toContain('https');
      expect(find(kit, 'Secret', 'ml-scoring-operator-metrics-scraper').metadata.annotations).toEqual({
        'kubernetes.io/service-account.name': 'ml-scoring-operator-metrics-scraper',
      });
      expect(find(kit, 'ClusterRoleBinding', 'ml-scoring-operator-metrics-scraper')).toMatchObject({
        roleRef: { kind: 'ClusterRole', name: 'ml-scoring-operator-metrics-reader' },
        subjects: [{ kind: 'ServiceAccount', name: 'ml-scoring-operator-metrics-scraper', namespace: 'ml-system' }],
      });
      find(objects, 'ClusterRole', 'ml-scoring-operator-metrics-reader');

      // The operator's alerts read this release's scrape job (its metrics Service's name) and name its namespace.
      const rule = JSON.stringify(find(kit, 'PrometheusRule', 'scoring-alerts'));
      expect(rule).toContain('up{job=\\"ml-scoring-operator-metrics\\"}');
      expect(rule).toContain('kubectl get pods -n ml-system');
      expect(rule).toContain('the ml-scoring-operator-metrics-scraper ServiceAccount');
      expect(rule).not.toMatch(/[^-]scoring-operator-metrics|scoring-system/);
      // Prometheus' templates, left to Prometheus.
      expect(rule).toContain('{{ $labels.namespace }}/{{ $labels.model }}');
    });

    it('leaves out each part of the kit when asked, and only that part', () => {
      const all = template({ monitoring: { enabled: true } })
        .filter(isKit)
        .map(key)
        .sort();
      const without = (part: string) =>
        template({ monitoring: { enabled: true, [part]: { enabled: false } } })
          .filter(isKit)
          .map(key)
          .sort();
      const scraper = [
        'ClusterRoleBinding -/scoring-operator-metrics-scraper',
        'Secret scoring-system/scoring-operator-metrics-scraper',
        'ServiceAccount scoring-system/scoring-operator-metrics-scraper',
      ];
      const expected: Record<string, string[]> = {
        podMonitor: ['PodMonitor scoring-system/scoring-scorers'],
        serviceMonitor: ['ServiceMonitor scoring-system/scoring-operator', ...scraper],
        prometheusRule: ['PrometheusRule scoring-system/scoring-alerts'],
        dashboard: ['ConfigMap scoring-system/scoring-model-dashboard'],
      };
      for (const [part, objects] of Object.entries(expected)) {
        expect(`${part}: ${without(part).join(', ')}`).toBe(
          `${part}: ${all.filter((k) => !objects.includes(k)).join(', ')}`,
        );
      }
      expect(template().filter(isKit)).toEqual([]);
    });

    it('passes helm lint --strict', () => {
      const file = join(home, 'values-monitoring.yaml');
      writeFileSync(
        file,
        dump({ monitoring: { enabled: true, labels: { release: 'kube-prometheus-stack' } }, watchNamespaces: ['a'] }),
      );
      const out = run(['lint', '--strict', CHART, '--values', file]);
      expect(`${out.stdout}${out.stderr}`).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(out.status).toBe(0);
    });

    it('refuses misspelt monitoring values, naming them', () => {
      expect(refusal({ monitoring: { enabled: true, podMonitors: { enabled: false } } })).toContain('podMonitors');
      expect(refusal({ monitoring: { labels: { release: 1 } } })).toContain('release');
      expect(refusal({ monitoring: { dashboard: { namespace: 'Monitoring' } } })).toContain('namespace');
      expect(refusal({ monitoring: { serviceMonitor: { enabled: 'yes' } } })).toContain('enabled');
    });
  });
});
