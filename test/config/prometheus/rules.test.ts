/**
 * The monitoring kit (config/prometheus) as kubectl renders it, and its PrometheusRule run by Prometheus' own rule
 * engine (`promtool test rules`) on synthetic series: each alert fires for the case it is written for, after its
 * `for:`, and not for its look-alikes. The drift group's own tests are drift-alerts.test.ts's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load, loadAll } from 'js-yaml';
import { GRPC_PORT_NAME, HTTP_PORT_NAME, METRICS_PORT_NAME } from '../../../operator/desired/deployment.js';
import { LABELS, MANAGED_BY } from '../../../operator/desired/labels.js';
import { itWithPromtool } from '../../helpers/promtool.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface Group {
  name: string;
  rules: Rule[];
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- manifests, read loosely
type Obj = Record<string, any>;

function render(dir: string): Obj[] {
  const run = spawnSync('kubectl', ['kustomize', dir], { cwd: root, encoding: 'utf8' });
  if (run.error) throw new Error(`kubectl is needed for this test: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  return loadAll(run.stdout) as Obj[];
}

const kit = render('config/prometheus');
const find = (kind: string) => kit.find((o) => o.kind === kind)!;
const groups = (load(readFileSync(`${root}config/prometheus/prometheusrule.yaml`, 'utf8')) as Obj).spec
  .groups as Group[];
const rules = groups.flatMap((g) => g.rules);
const rule = (alert: string) => rules.find((r) => r.alert === alert)!;

describe('config/prometheus', () => {
  it('renders the monitors, the scraper identity and the rules, in scoring-system', () => {
    expect(kit.map((o) => `${o.kind}/${o.metadata.name} in ${o.metadata.namespace ?? '(cluster)'}`)).toEqual([
      'ServiceAccount/scoring-operator-metrics-scraper in scoring-system',
      'ClusterRoleBinding/scoring-operator-metrics-scraper in (cluster)',
      'Secret/scoring-operator-metrics-scraper in scoring-system',
      'PodMonitor/scoring-scorers in scoring-system',
      'PrometheusRule/scoring-alerts in scoring-system',
      'ServiceMonitor/scoring-operator in scoring-system',
    ]);
  });

  it("scrapes every scorer pod in every namespace by the operator's labels and port name, naming the model", () => {
    const pm = find('PodMonitor');
    expect(pm.spec.namespaceSelector).toEqual({ any: true });
    expect(pm.spec.selector.matchLabels).toEqual({ [LABELS.name]: 'scorer', [LABELS.managedBy]: MANAGED_BY });
    const [endpoint] = pm.spec.podMetricsEndpoints;
    expect(endpoint).toMatchObject({ port: METRICS_PORT_NAME, path: '/metrics' });
    // The pod labels the relabelings read are the operator's (Prometheus' names: non-alphanumerics become _).
    const meta = (label: string) => `__meta_kubernetes_pod_label_${label.replace(/[^a-zA-Z0-9]/g, '_')}`;
    expect(endpoint.relabelings.map((r: Obj) => [r.sourceLabels[0], r.targetLabel])).toEqual([
      [meta(LABELS.instance), 'model'],
      [meta(LABELS.candidateOf), 'model'],
      [meta(LABELS.candidateOf), 'track'],
    ]);
  });

  it("scrapes the operator's metrics Service over HTTPS with the token of a ServiceAccount bound to metrics-reader", () => {
    const manager = render('config/manager');
    const service = manager.find((o) => o.kind === 'Service' && o.metadata.name === 'scoring-operator-metrics')!;
    const sm = find('ServiceMonitor');
    expect(sm.spec.selector.matchLabels).toEqual(service.spec.selector);
    expect(sm.spec.endpoints).toEqual([
      {
        port: service.spec.ports[0].name,
        scheme: 'https',
        path: '/metrics',
        interval: '30s',
        honorLabels: true,
        authorization: { type: 'Bearer', credentials: { name: 'scoring-operator-metrics-scraper', key: 'token' } },
        tlsConfig: { insecureSkipVerify: true },
      },
    ]);
    expect(find('Secret')).toMatchObject({
      type: 'kubernetes.io/service-account-token',
      metadata: { annotations: { 'kubernetes.io/service-account.name': 'scoring-operator-metrics-scraper' } },
    });
    expect(find('ClusterRoleBinding')).toMatchObject({
      roleRef: { kind: 'ClusterRole', name: 'scoring-operator-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'scoring-operator-metrics-scraper', namespace: 'scoring-system' }],
    });
  });

  it('has a NetworkPolicy example that admits what reaches the operator and the scorers, by their labels and port names', () => {
    const [operatorPolicy, scorerPolicy] = loadAll(
      readFileSync(`${root}config/prometheus/networkpolicy.yaml`, 'utf8'),
    ) as Obj[];
    const manager = render('config/manager').find((o) => o.kind === 'Deployment')!;
    const container = manager.spec.template.spec.containers[0];
    expect(operatorPolicy!.spec.podSelector.matchLabels).toEqual(manager.spec.selector.matchLabels);
    const operatorPorts = operatorPolicy!.spec.ingress.flatMap((r: Obj) => r.ports.map((p: Obj) => p.port));
    expect(operatorPorts).toEqual(['metrics', 'routing']);
    for (const port of operatorPorts) expect(container.ports.map((p: Obj) => p.name)).toContain(port);
    // The probes' port is not opened to the network: the kubelet probes from the node.
    expect(operatorPorts).not.toContain('http');
    // The scorers' pods as the PodMonitor selects them: the API's ports from the clients and the operator, the
    // metrics' port from Prometheus' namespace alone.
    expect(scorerPolicy!.spec.podSelector).toEqual(find('PodMonitor').spec.selector);
    const [api, metrics] = scorerPolicy!.spec.ingress as Obj[];
    expect(scorerPolicy!.spec.ingress).toHaveLength(2);
    expect(api!.ports.map((p: Obj) => p.port)).toEqual([HTTP_PORT_NAME, GRPC_PORT_NAME]);
    expect(api!.from).toContainEqual({ podSelector: {} });
    expect(metrics!.ports.map((p: Obj) => p.port)).toEqual([METRICS_PORT_NAME]);
    expect(metrics!.from).toEqual([
      { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
    ]);
    // An example: applied with the kit, it would lock down a namespace (`shop`) the user did not name.
    expect(readFileSync(`${root}config/prometheus/kustomization.yaml`, 'utf8')).not.toContain('networkpolicy');
  });

  it('gives every alert a for:, a severity, and a summary and description naming what it is about', () => {
    expect(rules.map((r) => r.alert)).toEqual([
      'ScoringModelNotReady',
      'ScoringModelLoadFailed',
      'ScoringModelStalled',
      'ScoringModelHighErrorRate',
      'ScoringModelHighLatency',
      'ScoringModelFeatureDrift',
      'ScoringModelOutputDrift',
      'ScoringOperatorDown',
      'ScoringOperatorNoLeader',
      'ScoringOperatorReconcileErrors',
      'ScoringOperatorQueueBacklog',
    ]);
    for (const r of rules) {
      expect(r.for).toMatch(/^\d+m$/);
      expect(['critical', 'warning', 'info']).toContain(r.labels.severity);
      expect(Object.keys(r.annotations).sort()).toEqual(['description', 'summary']);
      if (r.alert.startsWith('ScoringModel')) {
        for (const text of Object.values(r.annotations)) {
          expect(text).toContain('{{ $labels.namespace }}');
          expect(text).toContain('{{ $labels.model }}');
        }
      }
    }
  });
});

/** An annotation as Prometheus expands it: the labels given, and `$value` as the pipeline renders it. */
function expand(template: string, labels: Record<string, string>, value = ''): string {
  return template
    .replace(/\{\{ \$labels\.(\w+) \}\}/g, (_, l: string) => labels[l] ?? '')
    .replace(/\{\{ \$value[^}]*\}\}/g, value);
}
const fired = (alert: string, labels: Record<string, string>, value?: string) => {
  const r = rule(alert);
  const all = { ...labels, severity: r.labels.severity! };
  return {
    exp_labels: all,
    exp_annotations: {
      summary: expand(r.annotations.summary!, labels, value),
      description: expand(r.annotations.description!, labels, value),
    },
  };
};
const at = (evalTime: string, alertname: string, expAlerts: unknown[] = []) => ({
  eval_time: evalTime,
  alertname,
  exp_alerts: expAlerts,
});

/** The operator's two replicas, each exporting the same conditions from its cache. */
const REPLICAS = ['scoring-operator-a', 'scoring-operator-b'];
const operator = (pod: string) => `job="scoring-operator-metrics", namespace="scoring-system", pod="${pod}"`;
const condition = (pod: string, ns: string, model: string, type: string, status: string, reason: string) =>
  // honorLabels: the model's own namespace, not the operator's.
  `scoring_operator_model_condition{job="scoring-operator-metrics", pod="${pod}", namespace="${ns}", model="${model}", type="${type}", status="${status}", reason="${reason}"}`;
const scorer = (ns: string, model: string, pod: string) =>
  `job="scoring-system/scoring-scorers", namespace="${ns}", model="${model}", pod="${pod}"`;

describe('promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scoring-alerts-'));
    // The PrometheusRule's groups alone are a Prometheus rule file; JSON is YAML.
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (promtool: string, args: string[]) => {
    const r = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };
  const test = (promtool: string, name: string, tests: unknown[]) => {
    writeFileSync(
      join(dir, `${name}.yaml`),
      JSON.stringify({ rule_files: ['rules.yaml'], evaluation_interval: '1m', tests }),
    );
    const tested = run(promtool, ['test', 'rules', `${name}.yaml`]);
    expect(tested.output).toContain('SUCCESS');
    expect(tested).toMatchObject({ status: 0 });
  };

  itWithPromtool('checks every rule', async (promtool) => {
    const checked = run(promtool, ['check', 'rules', 'rules.yaml']);
    expect(checked).toMatchObject({ status: 0 });
    expect(checked.output).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  itWithPromtool(
    "alerts on a model not Ready, failing to load, or stalled, from the operator's conditions",
    async (promtool) => {
      const both = (ns: string, model: string, type: string, status: string, reason: string, values: string) =>
        REPLICAS.map((pod) => ({ series: condition(pod, ns, model, type, status, reason), values }));
      test(promtool, 'conditions', [
        {
          interval: '1m',
          input_series: [
            // Pods that never become available: Ready False, Progressing, for 30 minutes.
            ...both('shop', 'slow', 'Ready', 'False', 'Progressing', '1x30'),
            ...both('shop', 'slow', 'Reconciling', 'True', 'Progressing', '1x30'),
            // Progressing for 10 minutes, then Available.
            ...both('shop', 'late', 'Ready', 'False', 'Progressing', '1x10 _x20'),
            ...both('shop', 'late', 'Ready', 'True', 'Available', '_x10 1x20'),
            // A model file that does not load: Stalled, and ModelLoaded False.
            ...both('shop', 'broken', 'Ready', 'False', 'ModelLoadFailed', '1x30'),
            ...both('shop', 'broken', 'ModelLoaded', 'False', 'ModelLoadFailed', '1x30'),
            ...both('shop', 'broken', 'Stalled', 'True', 'ModelLoadFailed', '1x30'),
            // An image outside the allow-list: Stalled for another reason.
            ...both('risk', 'pinned', 'Ready', 'False', 'ImageNotAllowed', '1x30'),
            ...both('risk', 'pinned', 'Stalled', 'True', 'ImageNotAllowed', '1x30'),
            // Scaled to zero on purpose; serving fine.
            ...both('risk', 'off', 'Ready', 'False', 'ScaledToZero', '1x30'),
            ...both('risk', 'fine', 'Ready', 'True', 'Available', '1x30'),
            ...both('risk', 'fine', 'ModelLoaded', 'True', 'Loaded', '1x30'),
          ],
          alert_rule_test: [
            at('14m', 'ScoringModelNotReady'),
            at('16m', 'ScoringModelNotReady', [fired('ScoringModelNotReady', { namespace: 'shop', model: 'slow' })]),
            at('4m', 'ScoringModelLoadFailed'),
            at('6m', 'ScoringModelLoadFailed', [
              fired('ScoringModelLoadFailed', { namespace: 'shop', model: 'broken' }),
            ]),
            at('4m', 'ScoringModelStalled'),
            at('6m', 'ScoringModelStalled', [
              fired('ScoringModelStalled', { namespace: 'risk', model: 'pinned', reason: 'ImageNotAllowed' }),
            ]),
          ],
        },
      ]);
    },
  );

  itWithPromtool(
    "alerts on a model's 5xx share and p99 latency from the scorers' series, not on a quiet model's or on client errors",
    async (promtool) => {
      const requests = (ns: string, model: string, pod: string, status: number) =>
        `scorer_requests_total{${scorer(ns, model, pod)}, route="/score", method="POST", status="${status}"}`;
      const bucket = (ns: string, model: string, pod: string, status: number, le: string) =>
        `scorer_request_duration_seconds_bucket{${scorer(ns, model, pod)}, route="/score", status="${status}", le="${le}"}`;
      test(promtool, 'requests', [
        {
          interval: '1m',
          input_series: [
            // churn, two pods: 10 requests/s in all, 1/s of them 500s (10%), every one between 0.5 s and 1 s.
            { series: requests('shop', 'churn', 'churn-a', 200), values: '0+240x30' },
            { series: requests('shop', 'churn', 'churn-a', 500), values: '0+60x30' },
            { series: requests('shop', 'churn', 'churn-b', 200), values: '0+300x30' },
            { series: bucket('shop', 'churn', 'churn-a', 200, '0.5'), values: '0x30' },
            { series: bucket('shop', 'churn', 'churn-a', 200, '1'), values: '0+240x30' },
            { series: bucket('shop', 'churn', 'churn-a', 200, '+Inf'), values: '0+240x30' },
            { series: bucket('shop', 'churn', 'churn-b', 200, '0.5'), values: '0x30' },
            { series: bucket('shop', 'churn', 'churn-b', 200, '1'), values: '0+300x30' },
            { series: bucket('shop', 'churn', 'churn-b', 200, '+Inf'), values: '0+300x30' },
            // quiet: half its requests fail, but it gets two a minute.
            { series: requests('shop', 'quiet', 'quiet-a', 200), values: '0+1x30' },
            { series: requests('shop', 'quiet', 'quiet-a', 503), values: '0+1x30' },
            // fraud: fast, and clients that leave before a slow answer (499) are not its latency.
            { series: requests('risk', 'fraud', 'fraud-a', 200), values: '0+600x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 200, '0.5'), values: '0+600x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 200, '1'), values: '0+600x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 200, '+Inf'), values: '0+600x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 499, '0.5'), values: '0x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 499, '1'), values: '0x30' },
            { series: bucket('risk', 'fraud', 'fraud-a', 499, '+Inf'), values: '0+600x30' },
          ],
          alert_rule_test: [
            // Rates exist from minute 1; for: 10m.
            at('10m', 'ScoringModelHighErrorRate'),
            at('12m', 'ScoringModelHighErrorRate', [
              fired('ScoringModelHighErrorRate', { namespace: 'shop', model: 'churn' }, '10%'),
            ]),
            // for: 15m. The p99 of a uniform spread over (0.5 s, 1 s]: 995 ms.
            at('15m', 'ScoringModelHighLatency'),
            at('17m', 'ScoringModelHighLatency', [
              fired('ScoringModelHighLatency', { namespace: 'shop', model: 'churn' }, '995ms'),
            ]),
          ],
        },
      ]);
    },
  );

  itWithPromtool(
    'alerts on the operator: reconcile errors, a queue that does not empty, no leader, no replica scraped',
    async (promtool) => {
      const [a, b] = REPLICAS as [string, string];
      const leading = (pod: string, values: string) => ({
        series: `scoring_operator_leader{${operator(pod)}}`,
        values,
      });
      const depth = (pod: string, values: string) => ({
        series: `workqueue_depth{${operator(pod)}, name="scoringmodel", controller="scoringmodel"}`,
        values,
      });
      const reconciles = (pod: string, result: string, values: string) => ({
        series: `controller_runtime_reconcile_total{${operator(pod)}, controller="scoringmodel", result="${result}"}`,
        values,
      });
      const errors = (pod: string, values: string) => ({
        series: `controller_runtime_reconcile_errors_total{${operator(pod)}, controller="scoringmodel"}`,
        values,
      });
      const up = (pod: string, values: string) => ({ series: `up{${operator(pod)}}`, values });
      const ns = { namespace: 'scoring-system', job: 'scoring-operator-metrics' };
      test(promtool, 'operator', [
        {
          // a leads; 20% of its reconciles fail; its queue holds 3 keys from minute 10 on, and never empties; b,
          // the standby, holds 50 keys it will reconcile once it leads.
          interval: '1m',
          input_series: [
            up(a, '1x40'),
            up(b, '1x40'),
            leading(a, '1x40'),
            leading(b, '0x40'),
            reconciles(a, 'success', '0+48x40'),
            reconciles(a, 'error', '0+12x40'),
            errors(a, '0+12x40'),
            reconciles(b, 'success', '0x40'),
            errors(b, '0x40'),
            depth(a, '0x9 3x30'),
            depth(b, '50x40'),
          ],
          alert_rule_test: [
            at('15m', 'ScoringOperatorReconcileErrors'),
            at('17m', 'ScoringOperatorReconcileErrors', [fired('ScoringOperatorReconcileErrors', ns, '20%')]),
            // Never empty over 15 minutes from minute 24, for 5 more.
            at('28m', 'ScoringOperatorQueueBacklog'),
            at('30m', 'ScoringOperatorQueueBacklog', [
              fired(
                'ScoringOperatorQueueBacklog',
                { ...ns, pod: a, name: 'scoringmodel', controller: 'scoringmodel' },
                '3',
              ),
            ]),
            at('30m', 'ScoringOperatorNoLeader'),
            at('30m', 'ScoringOperatorDown'),
          ],
        },
        {
          // Both replicas run, and the leader lets go at minute 10; none takes over.
          interval: '1m',
          input_series: [up(a, '1x30'), up(b, '1x30'), leading(a, '1x9 0x20'), leading(b, '0x30')],
          alert_rule_test: [
            at('14m', 'ScoringOperatorNoLeader'),
            at('16m', 'ScoringOperatorNoLeader', [fired('ScoringOperatorNoLeader', ns)]),
          ],
        },
        {
          // Scrapes refused from the start (a missing metrics-reader binding): up is 0.
          interval: '1m',
          input_series: [up(a, '0x30'), up(b, '0x30')],
          alert_rule_test: [
            at('9m', 'ScoringOperatorDown'),
            // absent() of a filtered selector keeps no label.
            at('11m', 'ScoringOperatorDown', [fired('ScoringOperatorDown', {})]),
          ],
        },
      ]);
    },
  );
});
