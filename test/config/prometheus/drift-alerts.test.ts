/**
 * The drift alerts of config/prometheus/prometheusrule.yaml (group scoring-drift): their expressions read series a real scorer exposes
 * (the drift fixture's model and baseline), and Prometheus' own rule engine (`promtool test rules`, on synthetic
 * series) fires each alert when a pod's PSI stays above the threshold for 15 minutes, and not for a shorter spike.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { itWithPromtool } from '../../helpers/promtool.js';
import { request, startTestScorer } from '../../helpers/scorer.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = `${root}test/fixtures/generated/`;

interface Rule {
  alert: string;
  expr: string;
  for: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
const manifest = load(readFileSync(`${root}config/prometheus/prometheusrule.yaml`, 'utf8')) as {
  apiVersion: string;
  kind: string;
  spec: { groups: { name: string; rules: Rule[] }[] };
};
const drift = manifest.spec.groups.filter((g) => g.name === 'scoring-drift');
const rules = drift.flatMap((g) => g.rules);
/** The metric names an expression reads (every scorer_* identifier not followed by `(`, which a function would be). */
const metricsOf = (expr: string) => [...new Set(expr.match(/\bscorer_[a-z_]+\b(?!\s*\()/g))].sort();

it('is a PrometheusRule with the two drift alerts, kept out of the samples and the default install', () => {
  expect(manifest).toMatchObject({ apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' });
  expect(rules.map((r) => [r.alert, metricsOf(r.expr)])).toEqual([
    ['ScoringModelFeatureDrift', ['scorer_drift_psi', 'scorer_model_info']],
    ['ScoringModelOutputDrift', ['scorer_drift_output_psi', 'scorer_model_info']],
  ]);
  // Applied with the samples or the operator, it would fail wherever the Prometheus Operator's CRDs are not installed.
  for (const dir of ['samples', 'default']) {
    expect(readFileSync(`${root}config/${dir}/kustomization.yaml`, 'utf8')).not.toMatch(/prometheus/);
  }
  // Drift alerts live in the kit alone.
  expect(readdirSync(`${root}config/samples`).filter((f) => /alert|rule/.test(f))).toEqual([]);
});

it('reads the gauges and labels a monitoring scorer exposes', async () => {
  const scorer = await startTestScorer({
    MODEL_URI: `${FIXTURES}drift_churn.json`,
    MONITOR_BASELINE: `${FIXTURES}drift_churn.baseline.json`,
    MONITOR_MIN_ROWS: '1',
  });
  try {
    await scorer.ready;
    const reply = await request(`${scorer.url}/score`, 'POST', { X: [[35, 114.12, 4178.85, 0, 1]] });
    expect(reply.status).toBe(200);
    const text = (await request(`${scorer.metricsUrl}/metrics`)).body as string;
    /** The label names of a gauge's series in the scrape, each series' names sorted. */
    const labelsOf = (metric: string) => {
      expect(text).toContain(`# TYPE ${metric} gauge\n`);
      return [
        ...new Set(
          text
            .split('\n')
            .filter((l) => l.startsWith(`${metric}{`))
            .map((l) => [...l.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)].map((m) => m[1]).join(',')),
        ),
      ];
    };
    expect(labelsOf('scorer_drift_psi')).toEqual(['feature']);
    expect(labelsOf('scorer_drift_output_psi')).toEqual(['output']);
    expect(labelsOf('scorer_model_info')).toEqual(['name,format,sha256,uri']);
  } finally {
    await scorer.close();
  }
});

describe('promtool', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'drift-alerts-'));
    // The groups alone are a Prometheus rule file; JSON is YAML.
    writeFileSync(join(dir, 'rules.yaml'), JSON.stringify({ groups: drift }));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const run = (promtool: string, args: string[]) => {
    const r = spawnSync(promtool, args, { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return { status: r.status, output: `${r.stdout}${r.stderr}` };
  };

  itWithPromtool('checks the rules', async (promtool) => {
    const checked = run(promtool, ['check', 'rules', 'rules.yaml']);
    expect(checked).toMatchObject({ status: 0 });
    expect(checked.output).toContain('SUCCESS: 2 rules found');
  });

  itWithPromtool(
    'fires on a PSI above 0.2 for 15 minutes, naming the model, and not on a shorter spike',
    async (promtool) => {
      const info = (namespace: string, pod: string, name: string) =>
        `scorer_model_info{namespace="${namespace}", pod="${pod}", name="${name}", format="xgboost", sha256="ab", uri="s3://models/${name}/model.json"}`;
      const psi = (pod: string, feature: string) =>
        `scorer_drift_psi{namespace="shop", pod="${pod}", job="scorers", instance="${pod}:8080", feature="${feature}"}`;
      const description = (what: string, value: string, model: string, namespace: string) =>
        `The PSI of ${what} against the baseline is ${value} (above 0.2) in a scorer pod's window, for 15 minutes. ` +
        `kubectl get sm -n ${namespace} ${model}: the Drifted condition is the verdict on all its pods' counts together.`;
      const tests = {
        rule_files: ['rules.yaml'],
        evaluation_interval: '1m',
        tests: [
          {
            interval: '1m',
            input_series: [
              // Model churn, two pods: monthly_charges shifts at minute 6 in both; support_calls spikes for 5 minutes
              // in one; its prediction stays put.
              { series: info('shop', 'churn-a', 'churn'), values: '1x40' },
              { series: info('shop', 'churn-b', 'churn'), values: '1x40' },
              { series: psi('churn-a', 'monthly_charges'), values: '0.05x5 0.45x35' },
              { series: psi('churn-b', 'monthly_charges'), values: '0.04x5 0.35x35' },
              { series: psi('churn-a', 'support_calls'), values: '0.02x5 0.6x4 0.02x30' },
              { series: psi('churn-a', 'tenure_months'), values: '0.01x40' },
              {
                series: 'scorer_drift_output_psi{namespace="shop", pod="churn-a", output="score"}',
                values: '0.03x40',
              },
              // Model fraud: its predictions have moved from the start.
              { series: info('risk', 'fraud-a', 'fraud'), values: '1x40' },
              {
                series: 'scorer_drift_output_psi{namespace="risk", pod="fraud-a", output="probabilities[1]"}',
                values: '0.3x40',
              },
            ],
            alert_rule_test: [
              // Above the threshold since minute 6: pending, not yet firing, 14 minutes on.
              { eval_time: '20m', alertname: 'ScoringModelFeatureDrift', exp_alerts: [] },
              {
                eval_time: '22m',
                alertname: 'ScoringModelFeatureDrift',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'warning', namespace: 'shop', model: 'churn', feature: 'monthly_charges' },
                    exp_annotations: {
                      summary: 'Feature monthly_charges of model shop/churn has drifted from its training data',
                      // The highest of the two pods' PSI.
                      description: description('monthly_charges', '0.45', 'churn', 'shop'),
                    },
                  },
                ],
              },
              { eval_time: '14m', alertname: 'ScoringModelOutputDrift', exp_alerts: [] },
              {
                eval_time: '16m',
                alertname: 'ScoringModelOutputDrift',
                exp_alerts: [
                  {
                    exp_labels: { severity: 'info', namespace: 'risk', model: 'fraud', output: 'probabilities[1]' },
                    exp_annotations: {
                      summary:
                        'Output probabilities[1] of model risk/fraud has drifted from its predictions on the training data',
                      description: description('probabilities[1]', '0.30', 'fraud', 'risk'),
                    },
                  },
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(join(dir, 'tests.yaml'), JSON.stringify(tests));
      const tested = run(promtool, ['test', 'rules', 'tests.yaml']);
      expect(tested.output).toContain('SUCCESS');
      expect(tested).toMatchObject({ status: 0 });
    },
  );
});
