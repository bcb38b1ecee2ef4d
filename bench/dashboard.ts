/**
 * `npm run docs:dashboard`: draws docs/dashboard.png, the Grafana dashboard's panels (config/grafana/
 * scoring-model.json) from real data, where no Grafana runs.
 *
 * A real control plane (harness/controlplane.ts), the operator on it, a ScoringModel of an XGBoost fixture whose pod
 * is a real scorer process on a loopback address (the pod's status set as a kubelet would), and a real Prometheus
 * (PROMETHEUS, built from its Go module: scripts/build-prometheus.sh) scraping both every 2 s, with the labels the
 * monitoring kit's PodMonitor and ServiceMonitor give them. Load in phases: steady, a burst, malformed requests, a
 * spec change the operator reconciles. Then every panel's PromQL, its template variables filled in, is asked of
 * Prometheus' query_range API and the answers plotted by scripts/plot_dashboard.py (Debian's python3-matplotlib).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCORER_METRICS_PORT, SCORER_PORT } from '../contract/env.js';
import { kubectlOn, startControlPlane } from '../harness/controlplane.js';
import { freePort } from '../harness/net.js';
import { installOperator } from '../harness/operator-install.js';
import { repoRoot } from '../harness/paths.js';
import { waitFor } from '../harness/wait.js';

const ROOT = repoRoot();
const NS = 'shop';
const MODEL = 'churn';
const SCRAPE_SECONDS = 2;
const RATE_INTERVAL = '10s';
const FIXTURE = 'test/fixtures/shared/xgb_binary';
const PHASE_SECONDS = Number(process.env.DASHBOARD_PHASE_SECONDS ?? 40);

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const kubectl = kubectlOn;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function ready(url: string): Promise<boolean> {
  return (await fetch(url).catch(() => undefined))?.ok ?? false;
}

/** Starts `cmd`, its output in `log`; stopped (SIGTERM) at the end. */
function started(
  children: ChildProcess[],
  log: string,
  cmd: string,
  args: string[],
  env: Record<string, string> = {},
): ChildProcess {
  const out = openSync(log, 'w');
  const child = spawn(cmd, args, { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', out, out] });
  closeSync(out);
  children.push(child);
  return child;
}

/** Requests at `perSecond` for `seconds`, each `body`; resolves when done. */
async function load(url: string, body: string, perSecond: number, seconds: number): Promise<void> {
  const end = Date.now() + seconds * 1000;
  const sendOne = () =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined);
  while (Date.now() < end) {
    const tick = Date.now();
    await Promise.all(Array.from({ length: perSecond / 10 }, sendOne));
    await sleep(Math.max(0, 100 - (Date.now() - tick)));
  }
}

interface Panel {
  title: string;
  type: string;
  unit?: string;
  series: { legend: string; points: [number, number][] }[];
}

/** Every panel's queries over [start, end], the dashboard's variables filled in, as Prometheus answers them. */
async function panels(prometheus: string, start: number, end: number): Promise<Panel[]> {
  const dashboard = JSON.parse(readFileSync(join(ROOT, 'config/grafana/scoring-model.json'), 'utf8')) as Json;
  const out: Panel[] = [];
  for (const p of dashboard.panels as Json[]) {
    if (p.type === 'row' || p.type === 'table') continue;
    const panel: Panel = { title: p.title, type: p.type, unit: p.fieldConfig?.defaults?.unit, series: [] };
    for (const t of (p.targets ?? []) as Json[]) {
      const expr = (t.expr as string)
        .replaceAll('$namespace', NS)
        .replaceAll('$model', MODEL)
        .replaceAll('$__rate_interval', RATE_INTERVAL);
      const q = new URLSearchParams({
        query: expr,
        start: String(start),
        end: String(end),
        step: String(SCRAPE_SECONDS),
      });
      const res = (await (await fetch(`${prometheus}/api/v1/query_range?${q}`)).json()) as Json;
      if (res.status !== 'success') throw new Error(`Prometheus refused ${expr}: ${JSON.stringify(res)}`);
      for (const r of res.data.result as Json[]) {
        const legend = ((t.legendFormat as string | undefined) ?? '').replace(
          /\{\{(\w+)\}\}/g,
          (_, l: string) => r.metric[l] ?? '',
        );
        panel.series.push({
          legend,
          points: (r.values as [number, string][]).map(([ts, v]) => [ts - start, Number(v)]),
        });
      }
    }
    out.push(panel);
  }
  return out;
}

async function main(): Promise<void> {
  const prometheusBin = process.env.PROMETHEUS;
  if (!prometheusBin)
    throw new Error('PROMETHEUS must name a prometheus binary (scripts/build-prometheus.sh prints one)');
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const dir = mkdtempSync(join(tmpdir(), 'scoring-dashboard-'));
  const children: ChildProcess[] = [];
  const cp = await startControlPlane();
  try {
    const operatorKubeconfig = installOperator(cp, join(dir, 'operator.kubeconfig'));
    const [health, metricsPort, routing] = [await freePort(), await freePort(), await freePort()];
    started(children, join(dir, 'operator.log'), process.execPath, [join(ROOT, 'dist/operator/main.js')], {
      KUBECONFIG: operatorKubeconfig,
      PORT: String(health),
      METRICS_PORT: String(metricsPort),
      // Prometheus scrapes it without a token here; the kit's ServiceMonitor scrapes HTTPS with one.
      METRICS_SECURE: 'false',
      ROUTING_PORT: String(routing),
      LEASE_NAMESPACE: 'scoring-system',
      LOG_LEVEL: 'warn',
      POD_NAME: 'scoring-operator-0',
    });
    await waitFor('the operator to be ready', () => ready(`http://127.0.0.1:${health}/readyz`), 60_000, 200);

    // The model, and its pod played by a real scorer on 127.0.0.2 with the pod's own environment.
    kubectl(cp, ['create', 'namespace', NS]);
    const uri = join(ROOT, `${FIXTURE}.json`);
    const sm = {
      apiVersion: 'scoring.dev/v1alpha1',
      kind: 'ScoringModel',
      metadata: { name: MODEL, namespace: NS },
      spec: { model: { uri, format: 'xgboost' } },
    };
    kubectl(cp, ['apply', '-f', '-'], JSON.stringify(sm));
    const pod = await waitFor(
      'the model pod',
      () => (JSON.parse(kubectl(cp, ['get', 'pods', '-n', NS, '-o', 'json'])) as Json).items[0] as Json | undefined,
      60_000,
      200,
    );
    const container = (pod.spec.containers as Json[]).find((c) => c.name === 'scorer')!;
    const env = Object.fromEntries(
      (container.env as Json[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value]),
    );
    const host = '127.0.0.2';
    const scorer = `http://${host}:${SCORER_PORT}`;
    started(children, join(dir, 'scorer.log'), process.execPath, [join(ROOT, 'dist/scorer/main.js')], {
      ...env,
      HOST: host,
      PORT: String(SCORER_PORT),
      GRPC_PORT: '0',
      // The pod's metrics port, on the pod's own address like the API's: Prometheus scrapes it there.
      METRICS_PORT: String(SCORER_METRICS_PORT),
      LOG_LEVEL: 'warn',
      TERMINATION_LOG: join(dir, 'termination-log'),
    });
    await waitFor('the scorer to be ready', () => ready(`${scorer}/v2/health/ready`), 60_000, 200);
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const status = {
      phase: 'Running',
      podIP: host,
      podIPs: [{ ip: host }],
      conditions: [
        { type: 'Ready', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
      ],
      containerStatuses: [
        {
          name: 'scorer',
          image: container.image,
          imageID: '',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: now } },
        },
      ],
    };
    kubectl(cp, [
      'patch',
      'pod',
      pod.metadata.name,
      '-n',
      NS,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);

    // Prometheus, with the labels the kit's monitors give: namespace, model and pod on the scorer; the operator's pod.
    const promPort = await freePort();
    const config = {
      global: { scrape_interval: `${SCRAPE_SECONDS}s`, evaluation_interval: `${SCRAPE_SECONDS}s` },
      scrape_configs: [
        {
          job_name: 'scorer',
          static_configs: [
            {
              targets: [`${host}:${SCORER_METRICS_PORT}`],
              labels: { namespace: NS, model: MODEL, pod: pod.metadata.name },
            },
          ],
        },
        {
          job_name: 'operator',
          // As the kit's ServiceMonitor (honorLabels): the model condition series keep their models' namespace.
          honor_labels: true,
          static_configs: [
            {
              targets: [`127.0.0.1:${metricsPort}`],
              labels: { namespace: 'scoring-system', pod: 'scoring-operator-0' },
            },
          ],
        },
      ],
    };
    writeFileSync(join(dir, 'prometheus.yml'), JSON.stringify(config));
    started(children, join(dir, 'prometheus.log'), prometheusBin, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'tsdb')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ]);
    const prometheus = `http://127.0.0.1:${promPort}`;
    await waitFor('Prometheus to be ready', () => ready(`${prometheus}/-/ready`), 60_000, 200);
    await waitFor(
      'the model Ready',
      () => {
        const got = JSON.parse(kubectl(cp, ['get', 'sm', MODEL, '-n', NS, '-o', 'json'])) as Json;
        return (got.status?.conditions as Json[] | undefined)?.some((c) => c.type === 'Ready' && c.status === 'True');
      },
      60_000,
      200,
    );

    const start = Math.floor(Date.now() / 1000);
    const inputs = (JSON.parse(readFileSync(join(ROOT, `${FIXTURE}.inputs.json`), 'utf8')) as { X: number[][] }).X;
    const good = JSON.stringify({ X: inputs.slice(0, 8) });
    const bad = JSON.stringify({ X: [[1, 2]] }); // the wrong number of features: a 422 or 400 naming it
    console.log(`dashboard: load in 4 phases of ${PHASE_SECONDS} s against ${MODEL} (${FIXTURE})`);
    await load(`${scorer}/score`, good, 50, PHASE_SECONDS);
    await Promise.all([
      load(`${scorer}/score`, good, 200, PHASE_SECONDS),
      load(`${scorer}/score`, JSON.stringify({ X: inputs }), 20, PHASE_SECONDS),
    ]);
    await Promise.all([
      load(`${scorer}/score`, good, 50, PHASE_SECONDS),
      load(`${scorer}/score`, bad, 20, PHASE_SECONDS),
    ]);
    // A spec change: the operator reconciles it (its panels move), the scorer goes on answering.
    kubectl(cp, ['patch', 'sm', MODEL, '-n', NS, '--type=merge', '-p', '{"spec":{"replicas":2}}']);
    await load(`${scorer}/score`, good, 50, PHASE_SECONDS);
    await sleep(3 * SCRAPE_SECONDS * 1000);
    const end = Math.floor(Date.now() / 1000);

    const data = {
      model: `${NS}/${MODEL}`,
      rateInterval: RATE_INTERVAL,
      seconds: end - start,
      panels: await panels(prometheus, start, end),
    };
    const dataFile = join(dir, 'panels.json');
    writeFileSync(dataFile, JSON.stringify(data));
    const out = join(ROOT, 'docs/dashboard.png');
    const plot = spawnSync('/usr/bin/python3', [join(ROOT, 'scripts/plot_dashboard.py'), dataFile, out], {
      stdio: 'inherit',
    });
    if (plot.status !== 0) throw new Error('scripts/plot_dashboard.py failed (python3-matplotlib installed?)');
    console.log(`dashboard: wrote ${out} (${data.panels.length} panels, ${data.seconds} s of data)`);
  } finally {
    for (const child of children.reverse()) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    }
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
