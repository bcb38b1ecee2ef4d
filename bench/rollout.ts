/**
 * `npm run bench:rollout`: what a rollout costs the stable scorer's clients. A stable scorer following a routing
 * endpoint (ROUTING_URL, harness/routing.ts), a candidate scorer, and a scorer without ROUTING_URL, each a Node process
 * of its own on 127.0.0.1 serving the same model, loaded with /score requests of 1 and 100 rows (autocannon, as
 * bench:scorer) at 1 connection (the hop alone) and at 16 (under load, where the forwarding scorer shares the
 * machine's cores with the candidate), in turn: no rollout (the scorer without ROUTING_URL), weight 0, forwarding
 * 10%, 50% and 100% (each forwarded request sent to the candidate as a binary V2 infer request, its answer returned),
 * and mirroring 100% (every request answered locally and also sent to the candidate, whose answer is compared).
 *
 * req/s, and p50/p99 from every answer's own time (autocannon's histogram has 1 ms steps, coarser than the hop), then
 * the forwarded request's added latency: forwarding 100%'s p50 and p99 minus weight 0's. Prints figures; asserts only
 * that nothing failed and that the stable scorer forwarded and mirrored the shares it was told (from its report).
 * BENCH_SECONDS (default 10) sets each run's length.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { rolloutReportPath, rolloutReportSchema, type RolloutReport, type Routing } from '../contract/rollout.js';
import { freePort } from '../harness/net.js';
import { stopChild } from '../harness/process.js';
import { startRoutingServer, type RoutingServer } from '../harness/routing.js';
import { StopWaiting, waitFor } from '../harness/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARM_UP_SECONDS = Math.min(SECONDS, 5);
const MODEL = { label: 'xgboost (30 trees, 3 classes)', file: `${ROOT}test/fixtures/shared/xgb_multiclass.json` };
const NAME = 'bench';

const ROWS = (
  JSON.parse(readFileSync(`${ROOT}test/fixtures/shared/xgb_multiclass.inputs.json`, 'utf8')) as {
    X: (number | null)[][];
  }
).X.map((row) => row.map((v) => v ?? 0));

interface Scorer {
  child: ChildProcess;
  url: string;
}

async function startScorer(env: Record<string, string>): Promise<Scorer> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${ROOT}dist/scorer/main.js`], {
    env: {
      PATH: process.env.PATH,
      MODEL_URI: MODEL.file,
      MODEL_NAME: NAME,
      HOST: '127.0.0.1',
      PORT: String(port),
      // Two scorers at once (stable and candidate): gRPC, not used here, on any free port.
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `${url} to be ready`,
      async () => {
        if (child.exitCode !== null) throw new StopWaiting(`the scorer exited with ${child.exitCode}`);
        return (await fetch(`${url}/v2/health/ready`).catch(() => undefined))?.ok;
      },
      60_000,
      100,
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { child, url };
}

async function report(stable: Scorer): Promise<RolloutReport> {
  const res = await fetch(`${stable.url}${rolloutReportPath(NAME)}`);
  if (!res.ok) throw new Error(`GET .../rollout answered ${res.status}: ${await res.text()}`);
  return rolloutReportSchema.parse(await res.json());
}

/** What the stable scorer is told in a run; undefined: the scorer without ROUTING_URL serves the run. */
interface Mode {
  label: string;
  weight: number;
  shadow: number;
}

const MODES: (Mode | { label: string; weight?: undefined; shadow?: undefined })[] = [
  { label: 'no rollout (no ROUTING_URL)' },
  { label: 'weight 0', weight: 0, shadow: 0 },
  { label: 'forwarding 10%', weight: 10, shadow: 0 },
  { label: 'forwarding 50%', weight: 50, shadow: 0 },
  { label: 'forwarding 100%', weight: 100, shadow: 0 },
  { label: 'mirroring 100%', weight: 0, shadow: 100 },
];

let versions = 0;

/** Tells the stable scorer `mode` (a new step, so its counts start afresh) and waits until it follows. */
async function route(routing: RoutingServer, stable: Scorer, candidate: Scorer, mode: Mode): Promise<void> {
  const version = `v${++versions}`;
  const next: Routing = {
    version,
    step: `bench/${version}`,
    candidates: [candidate.url],
    weight: mode.weight,
    shadow: mode.shadow,
    tolerance: 0,
  };
  routing.set(next);
  await waitFor(
    `the stable scorer to follow ${version}`,
    async () => (await report(stable)).routing.version === version,
  );
}

/**
 * Checks from the stable scorer's counts of a run (after minus before) that it forwarded and mirrored the shares it
 * was told: within the requests in flight at either end of the run.
 */
function checkShares(mode: Mode, before: RolloutReport, after: RolloutReport, f: Figures, connections: number): void {
  const forwarded = after.forwarded - before.forwarded;
  const mirrored = after.mirrored + after.mirrorsSkipped - (before.mirrored + before.mirrorsSkipped);
  const errors = after.candidate.errors - before.candidate.errors;
  const near = (count: number, percent: number) => Math.abs(count - (f.answers * percent) / 100) <= 2 * connections + 1;
  if (!near(forwarded, mode.weight) || !near(mirrored, mode.shadow) || errors > 0) {
    throw new Error(
      `${mode.label}: of ${f.answers} answers, ${forwarded} forwarded and ${mirrored} mirrored, ${errors} candidate errors`,
    );
  }
}

interface Figures {
  reqPerSec: number;
  /** Milliseconds, from every 2xx answer's time. */
  p50: number;
  p99: number;
  failures: number;
  answers: number;
}

/** The value at quantile q of sorted values (nearest rank). */
const rank = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;

async function load(url: string, body: string, connections: number, seconds: number): Promise<Figures> {
  const times: number[] = [];
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        connections,
        duration: seconds,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) times.push(ms);
    });
  });
  times.sort((a, b) => a - b);
  return {
    reqPerSec: result.requests.total / (result.duration || seconds),
    p50: rank(times, 0.5),
    p99: rank(times, 0.99),
    failures: result.non2xx + result.errors + result.timeouts,
    answers: times.length,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function line(rows: number, connections: number, label: string, f: Figures): void {
  console.log(
    `${String(rows).padStart(4)} ${String(connections).padStart(5)}  ${label.padEnd(28)}` +
      `${fmt(f.reqPerSec).padStart(9)} ${fmt(f.p50, 3).padStart(8)} ${fmt(f.p99, 3).padStart(8)} ` +
      `${String(f.failures).padStart(6)}`,
  );
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  console.log(
    `rollout benchmark: ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.version}, ` +
      `${MODEL.label}, POST /score, ${SECONDS} s per run (after a ${WARM_UP_SECONDS} s warm-up), autocannon on ` +
      'the same machine; stable and candidate scorers in processes of their own\n',
  );
  const candidate = await startScorer({});
  const routing = await startRoutingServer({
    version: 'v0',
    step: 'bench/v0',
    candidates: [candidate.url],
    weight: 0,
    shadow: 0,
    tolerance: 0,
  });
  let stable: Scorer | undefined;
  let plain: Scorer | undefined;
  const results = new Map<string, Figures>();
  try {
    stable = await startScorer({ ROUTING_URL: routing.url });
    plain = await startScorer({});
    console.log(`rows conns  ${'routing'.padEnd(28)}    req/s  p50(ms)  p99(ms)  fails`);
    for (const rows of [1, 100]) {
      const body = JSON.stringify({
        X: rows === 1 ? ROWS[0] : Array.from({ length: rows }, (_, i) => ROWS[i % ROWS.length]),
      });
      for (const connections of [1, 16]) {
        for (const mode of MODES) {
          const served = mode.weight === undefined ? plain : stable;
          if (mode.weight !== undefined) await route(routing, stable, candidate, mode);
          await load(`${served.url}/score`, body, connections, WARM_UP_SECONDS);
          const before = mode.weight === undefined ? undefined : await report(stable);
          const f = await load(`${served.url}/score`, body, connections, SECONDS);
          if (f.failures > 0) throw new Error(`${mode.label}: ${f.failures} requests failed`);
          if (mode.weight !== undefined) checkShares(mode, before!, await report(stable), f, connections);
          results.set(`${rows}/${connections}/${mode.label}`, f);
          line(rows, connections, mode.label, f);
        }
      }
    }
  } finally {
    for (const scorer of [stable, plain, candidate]) if (scorer) await stopChild(scorer.child);
    await routing.close();
  }

  console.log("\nthe forwarded request's added latency (forwarding 100% minus weight 0)");
  for (const rows of [1, 100]) {
    for (const connections of [1, 16]) {
      const [off, on] = ['weight 0', 'forwarding 100%'].map((m) => results.get(`${rows}/${connections}/${m}`)!) as [
        Figures,
        Figures,
      ];
      const plus = (n: number) => `${n >= 0 ? '+' : ''}${fmt(n, 3)} ms`;
      console.log(
        `  ${String(rows).padStart(3)}-row requests, ${String(connections).padStart(2)} connection${connections === 1 ? ' ' : 's'}: ` +
          `p50 ${plus(on.p50 - off.p50)}, p99 ${plus(on.p99 - off.p99)}; ` +
          `req/s ${fmt((100 * (on.reqPerSec - off.reqPerSec)) / off.reqPerSec, 1)}%`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
