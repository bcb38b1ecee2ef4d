/**
 * config/grafana/scoring-model.json, the per-model dashboard: the panels a model owner needs, every PromQL
 * expression in it parsed by Prometheus' own parser (`promtool check rules` on a rule file whose records are the
 * expressions, template variables substituted), and every metric and label it reads one that a real scorer and a
 * real operator metrics registry expose (or that the kit's scrape configuration adds).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { startMetricsServer } from '../../../operator/metrics-server.js';
import { OperatorMetrics } from '../../../operator/metrics.js';
import { startWorkers, WorkQueue } from '../../../operator/runtime/queue.js';
import { itWithPromtool } from '../../helpers/promtool.js';
import { request, startTestScorer } from '../../helpers/scorer.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

interface Target {
  expr: string;
  refId: string;
  datasource: { uid: string };
}
interface Panel {
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Target[];
}
const dashboard = JSON.parse(readFileSync(`${root}config/grafana/scoring-model.json`, 'utf8')) as {
  uid: string;
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
  panels: Panel[];
};
const panels = dashboard.panels.filter((p) => p.type !== 'row');
/** Each PromQL expression: the panels' queries, and the selectors inside the variables' label_values(). */
const expressions = [
  ...panels.flatMap((p) => p.targets!.map((t) => ({ where: `${p.title} ${t.refId}`, expr: t.expr }))),
  ...dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const query = typeof v.query === 'string' ? v.query : v.query.query;
      const selector = /^label_values\((.+), (\w+)\)$/.exec(query);
      expect(selector).not.toBeNull();
      return { where: `variable ${v.name}`, expr: selector![1]! };
    }),
];
/** The template variables, as one model's values: Grafana's own interval variables too. */
const VARIABLES: Record<string, string> = {
  namespace: 'shop',
  model: 'churn',
  __rate_interval: '2m',
};
const substituted = (expr: string) =>
  expr.replace(/\$(\w+)/g, (m: string, name: string) => {
    if (!(name in VARIABLES)) throw new Error(`unknown variable ${m} in ${expr}`);
    return VARIABLES[name]!;
  });

/** Labels the kit's scrape configuration gives every series: Prometheus' own, and the PodMonitor's relabelings. */
const TARGET_LABELS = new Set(['namespace', 'pod', 'job', 'instance', 'model', 'track']);
/** Series Prometheus makes itself, per target. */
const SYNTHETIC = new Set(['up']);

describe('config/grafana', () => {
  it("has the panels of a model owner's dashboard, templated by namespace and model", () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'model']);
    expect(panels.map((p) => p.title)).toEqual([
      'Ready',
      'Scorer pods scraped',
      'Conditions',
      'Requests/s by status',
      'Latency',
      'Rows scored/s',
      '5xx share',
      'In flight',
      'Reconciles/s by result',
      'Reconcile time',
      'Work queue',
    ]);
    for (const p of panels) {
      expect(p.datasource?.uid).toBe('${datasource}');
      for (const t of p.targets!) expect(t.datasource.uid).toBe('${datasource}');
    }
    // Every model panel is the chosen model's.
    for (const { where, expr } of expressions.filter((e) => /scorer_|scoring_operator_model/.test(e.expr))) {
      for (const selector of expr.match(/(scorer_\w+|scoring_operator_model_\w+|up)\{[^}]*\}/g) ?? []) {
        if (where.startsWith('variable')) continue;
        expect(`${where}: ${selector}`).toMatch(/namespace="\$namespace", model="\$model"/);
      }
    }
  });

  it('is provisioned as a ConfigMap for Grafana’s dashboard sidecar', () => {
    const run = spawnSync('kubectl', ['kustomize', 'config/grafana'], { cwd: root, encoding: 'utf8' });
    expect(run.status).toBe(0);
    const [cm] = loadAll(run.stdout) as { kind: string; metadata: { labels: object }; data: Record<string, string> }[];
    expect(cm).toMatchObject({ kind: 'ConfigMap', metadata: { labels: { grafana_dashboard: '1' } } });
    expect(JSON.parse(cm!.data['scoring-model.json']!)).toEqual(dashboard);
  });

  itWithPromtool('has only expressions that Prometheus parses', async (promtool) => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const rules = expressions.map(({ expr }, i) => ({
        record: `dashboard:expression_${i}`,
        expr: substituted(expr),
      }));
      writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      const run = spawnSync(promtool, ['check', 'rules', 'rules.yaml'], { cwd: dir, encoding: 'utf8' });
      expect(`${run.stdout}${run.stderr}`).toContain(`SUCCESS: ${expressions.length} rules found`);
      expect(run.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads only metrics and labels a real scorer and operator expose, or the scrape adds', async () => {
    /** Each series name in a scrape, with the label names its samples carry. */
    const exposed = new Map<string, Set<string>>();
    const read = (text: string) => {
      for (const m of text.matchAll(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? /gm)) {
        const labels = exposed.get(m[1]!) ?? new Set<string>();
        for (const l of (m[2] ?? '').matchAll(/(\w+)="/g)) labels.add(l[1]!);
        exposed.set(m[1]!, labels);
      }
    };

    const scorer = await startTestScorer({ MODEL_URI: 'identity' });
    try {
      await scorer.ready;
      expect((await request(`${scorer.url}/score`, 'POST', { X: [[1, 2]] })).status).toBe(200);
      read((await request(`${scorer.metricsUrl}/metrics`)).body as string);
    } finally {
      await scorer.close();
    }

    const metrics = new OperatorMetrics(1);
    const queue = new WorkQueue({ metrics: metrics.queue });
    metrics.readQueue(queue);
    metrics.readModels(() => [
      {
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        metadata: { namespace: 'shop', name: 'churn', uid: 'u' },
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'True',
              reason: 'Available',
              message: '',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      },
    ]);
    const workers = startWorkers(queue, 1, async () => undefined, {
      onSuccess: (_key, ms) => metrics.reconciled('success', ms),
    });
    queue.add('shop/churn');
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', metrics });
    try {
      read(await (await fetch(server.url)).text());
    } finally {
      queue.shutDown();
      await workers;
      server.close();
    }

    const used: string[] = [];
    for (const { where, expr } of expressions) {
      for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\}/g)) {
        const [, name, matchers] = m;
        used.push(name!);
        if (SYNTHETIC.has(name!)) continue;
        expect(`${where}: ${name} exposed`).toBe(`${where}: ${name} exposed${exposed.has(name!) ? '' : ' NOT'}`);
        for (const l of matchers!.matchAll(/(\w+)\s*(?:=~|!~|!=|=)/g)) {
          const known = exposed.get(name!)!.has(l[1]!) || TARGET_LABELS.has(l[1]!);
          expect(`${where}: ${name} label ${l[1]}`).toBe(`${where}: ${name} label ${l[1]}${known ? '' : ' UNKNOWN'}`);
        }
      }
      // Each metric is read through a selector with braces, so that the loop above sees it.
      const bare = expr
        .replace(/"[^"]*"/g, '')
        .match(/\b(scorer|scoring_operator|controller_runtime|workqueue)_\w+\b(?!\{)/g);
      expect(`${where}: ${bare ?? []}`).toBe(`${where}: `);
    }
    expect(new Set(used).size).toBeGreaterThanOrEqual(10);
  });
});
