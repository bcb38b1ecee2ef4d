/**
 * `npm run bench:scorer`: the scorer under load on 127.0.0.1, side by side with the seed tutorial's Flask app.
 *
 * For identity, an ONNX model and an XGBoost model (the fixtures, and production-sized ones): req/s, p50 and p99 at 16 connections for 1-row and 100-row
 * requests (autocannon), 100-row V2 infer requests with binary input (the binary tensor data extension: no JSON to
 * parse), and the same model's raw in-process prediction rate (no HTTP). The seed's Flask app is
 * driven the same way, with Flask's own server and with gunicorn's 2 sync workers. Prints figures; asserts nothing.
 *
 * BENCH_SECONDS (default 10) sets each run's length. Needs `npm run build` (the script does it) and, for the
 * baseline, python3 with Flask and gunicorn (Debian: python3-flask gunicorn); without them the baseline is skipped.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadScorerConfig } from '../scorer/config.js';
import { HEADER_LENGTH } from '../scorer/http/binary.js';
import { allocate, store } from '../scorer/http/tensor.js';
import type { Datatype } from '../scorer/model.js';
import { loadModel } from '../scorer/load/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface Target {
  label: string;
  uri: string;
  /** Rows of features to send. */
  rows: number[][];
}

function fixtureRows(name: string): number[][] {
  const { X } = JSON.parse(readFileSync(`${ROOT}test/fixtures/shared/${name}.inputs.json`, 'utf8')) as {
    X: (number | null)[][];
  };
  return X.map((row) => row.map((v) => v ?? 0));
}

/**
 * Production-sized models (bench/make_bench_models.py, written once by Debian's xgboost and onnx into the cache):
 * the fixtures are so small that over HTTP their cost is all JSON and sockets. Absent the libraries, skipped.
 */
function productionTargets(): Target[] {
  const dir = `${process.env.SCORING_CACHE ?? `${homedir()}/.cache/scoring-operator`}/bench-models-v1`;
  if (!existsSync(`${dir}/rows.json`)) {
    const made = spawnSync(PYTHON, [`${ROOT}bench/make_bench_models.py`, dir], { stdio: 'inherit' });
    if (made.status !== 0) {
      console.log(`(production-sized models skipped: ${PYTHON} bench/make_bench_models.py failed)`);
      return [];
    }
  }
  const rows = (JSON.parse(readFileSync(`${dir}/rows.json`, 'utf8')) as { X: number[][] }).X;
  return [
    { label: 'onnx (MLP 32-256-256-1)', uri: `${dir}/mlp_256x256.onnx`, rows },
    { label: 'xgboost (500 trees, depth 8)', uri: `${dir}/xgb_500x8.json`, rows },
  ];
}

const TARGETS: Target[] = [
  { label: 'identity', uri: 'identity', rows: fixtureRows('xgb_binary') },
  {
    label: 'onnx (sklearn MLP)',
    uri: `${ROOT}test/fixtures/shared/mlp_classifier.onnx`,
    rows: fixtureRows('mlp_classifier'),
  },
  {
    label: 'xgboost (30 trees, 3 classes)',
    uri: `${ROOT}test/fixtures/shared/xgb_multiclass.json`,
    rows: fixtureRows('xgb_multiclass'),
  },
];

function batch(rows: number[][], n: number): number[][] {
  return Array.from({ length: n }, (_, i) => rows[i % rows.length]!);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

async function waitFor(url: string, child: ChildProcess, body: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with ${child.exitCode}`);
    const ok = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within 60 s`);
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

interface Figures {
  reqPerSec: number;
  p50: number;
  p99: number;
  failures: number;
}

async function load(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  return {
    reqPerSec: result.requests.total / (result.duration || SECONDS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const HAS_WRK = spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;

/**
 * The same 1-row load from wrk (Debian's), when installed. Flask's server and gunicorn's sync workers close the
 * connection after every answer; autocannon's latencies for such servers came out in seconds while their req/s
 * implied about 7 ms (16 connections / 2,200 req/s), so the comparison is also made with a second load generator.
 */
function wrkLoad(url: string, body: string): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
  try {
    const script = join(dir, 'post.lua');
    writeFileSync(
      script,
      `wrk.method = "POST"\nwrk.body = ${JSON.stringify(body)}\nwrk.headers["Content-Type"] = "application/json"\n`,
    );
    const args = ['-t2', `-c${CONNECTIONS}`, `-d${SECONDS}s`, '--latency', '-s', script, url];
    const out = spawnSync('wrk', args, { encoding: 'utf8' }).stdout;
    const ms = (label: string) => {
      const m = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)$`, 'm').exec(out);
      if (!m) throw new Error(`wrk printed no ${label} latency:\n${out}`);
      return Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2] as 'us' | 'ms' | 's'];
    };
    const count = (re: RegExp) => Number(re.exec(out)?.[1] ?? 0);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    return {
      reqPerSec: count(/^Requests\/sec:\s+([\d.]+)/m),
      p50: ms('50%'),
      p99: ms('99%'),
      failures:
        count(/Non-2xx or 3xx responses: (\d+)/) + (socketErrors?.slice(1).reduce((a, b) => a + Number(b), 0) ?? 0),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Predictions per second with no HTTP: the model's own speed on 100-row batches, in this process. */
async function rawRowsPerSec(target: Target): Promise<number> {
  const config = loadScorerConfig({ MODEL_URI: target.uri });
  const { model } = await loadModel(config, pino({ level: 'silent' }));
  const spec = model.inputs[0]!;
  const rows = batch(target.rows, 100);
  const features = rows[0]!.length;
  const data = allocate(spec.datatype, rows.length * features);
  rows.flat().forEach((v, i) => (data[i] = v));
  const input = { name: spec.name, datatype: spec.datatype, shape: [rows.length, features], data };
  for (let i = 0; i < 200; i++) await model.predict([input]);
  let n = 0;
  const started = performance.now();
  const until = started + Math.min(SECONDS, 3) * 1000;
  while (performance.now() < until) {
    await model.predict([input]);
    n++;
  }
  const rate = (n * rows.length * 1000) / (performance.now() - started);
  await model.dispose();
  return rate;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function line(label: string, rows: number, f: Figures): void {
  console.log(
    `${label.padEnd(34)} ${String(rows).padStart(4)} ${fmt(f.reqPerSec).padStart(9)} ${fmt(f.p50, 1).padStart(7)} ` +
      `${fmt(f.p99, 1).padStart(7)} ${fmt(f.reqPerSec * rows).padStart(11)} ${String(f.failures).padStart(6)}`,
  );
}

async function benchScorer(target: Target, results: Map<string, Figures>): Promise<void> {
  const port = await freePort();
  const child = spawn(process.execPath, [`${ROOT}dist/scorer/main.js`], {
    env: {
      PATH: process.env.PATH,
      MODEL_URI: target.uri,
      MODEL_NAME: 'bench',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    const url = `http://127.0.0.1:${port}/score`;
    await waitFor(url, child, JSON.stringify({ X: target.rows[0] }));
    for (const rows of [1, 100]) {
      const body = JSON.stringify({ X: rows === 1 ? target.rows[0] : batch(target.rows, rows) });
      await load(url, body); // warm-up run, not reported
      const f = await load(url, body);
      results.set(`${target.label}/${rows}`, f);
      line(target.label, rows, f);
    }
    const binary = await binaryInfer(`http://127.0.0.1:${port}/v2/models/bench`, batch(target.rows, 100));
    await load(binary.url, binary.body, binary.headers);
    const f = await load(binary.url, binary.body, binary.headers);
    results.set(`${target.label}/100/binary`, f);
    line('  the same, V2 binary input', 100, f);
    if (HAS_WRK && target.label === 'identity') {
      results.set('identity/1/wrk', wrkLoad(url, JSON.stringify({ X: target.rows[0] })));
    }
  } finally {
    await stop(child);
  }
}

/** A V2 infer request for `rows` with the input's data as raw bytes after the JSON (Inference-Header-Content-Length). */
async function binaryInfer(modelUrl: string, rows: number[][]) {
  const meta = (await (await fetch(modelUrl)).json()) as { inputs: { name: string; datatype: Datatype }[] };
  const { name, datatype } = meta.inputs[0]!;
  const data = allocate(datatype, rows.length * rows[0]!.length);
  rows.flat().forEach((v, i) => store(data, i, v, datatype, () => `row value ${i}`));
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const shape = [rows.length, rows[0]!.length];
  const head = Buffer.from(
    JSON.stringify({ inputs: [{ name, datatype, shape, parameters: { binary_data_size: bytes.length } }] }),
  );
  return {
    url: `${modelUrl}/infer`,
    body: Buffer.concat([head, bytes]),
    headers: { [HEADER_LENGTH]: String(head.length) },
  };
}

async function benchFlask(label: string, command: string[], results: Map<string, Figures>): Promise<void> {
  const port = await freePort();
  const [cmd, ...args] = command.map((c) => c.replace('PORT', String(port)));
  const child = spawn(cmd!, args, { cwd: `${ROOT}bench`, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    const url = `http://127.0.0.1:${port}/score`;
    const body = JSON.stringify({ X: TARGETS[0]!.rows[0] });
    await waitFor(url, child, body);
    await load(url, body);
    const f = await load(url, body);
    results.set(label, f);
    line(label, 1, f);
    if (HAS_WRK) results.set(`${label}/wrk`, wrkLoad(url, body));
  } finally {
    await stop(child);
  }
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  console.log(
    `scorer benchmark: ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.version}, ` +
      `${CONNECTIONS} connections, ${SECONDS} s per run (after a warm-up run), autocannon on the same machine\n`,
  );
  TARGETS.push(...productionTargets());
  console.log(`${'server / model'.padEnd(34)} rows     req/s p50(ms) p99(ms)      rows/s  fails`);
  const results = new Map<string, Figures>();
  for (const target of TARGETS) await benchScorer(target, results);

  const hasFlask = spawnSync(PYTHON, ['-c', 'import flask, gunicorn'], { stdio: 'ignore' }).status === 0;
  if (hasFlask) {
    await benchFlask('seed Flask app (flask dev server)', [PYTHON, 'seed_flask_app.py', 'PORT'], results);
    await benchFlask(
      'seed Flask app (gunicorn -w 2)',
      [PYTHON, '-m', 'gunicorn', '-w', '2', '-b', '127.0.0.1:PORT', 'seed_flask_app:app'],
      results,
    );
  } else {
    console.log(
      `(seed Flask baseline skipped: ${PYTHON} lacks flask or gunicorn; Debian: apt install python3-flask gunicorn)`,
    );
  }

  console.log('\nraw in-process prediction (100-row batches, no HTTP) vs 100-row requests over HTTP');
  const ratios = new Map<string, { json: number; binary: number }>();
  for (const target of TARGETS) {
    const raw = await rawRowsPerSec(target);
    const http = results.get(`${target.label}/100`)!.reqPerSec * 100;
    const binary = results.get(`${target.label}/100/binary`)!.reqPerSec * 100;
    ratios.set(target.label, { json: (100 * http) / raw, binary: (100 * binary) / raw });
    console.log(
      `${target.label.padEnd(34)} raw ${fmt(raw).padStart(11)} rows/s   http ${fmt(http).padStart(11)} rows/s   ` +
        `http/raw ${fmt((100 * http) / raw, 1)}%   V2 binary ${fmt(binary).padStart(11)} rows/s   ` +
        `http/raw ${fmt((100 * binary) / raw, 1)}%`,
    );
  }

  const identity = results.get('identity/1')!;
  const identityWrk = results.get('identity/1/wrk');
  if (identityWrk) {
    console.log('\nthe same 1-row comparison with wrk (-t2)');
    line('scorer, identity', 1, identityWrk);
  }
  for (const label of ['seed Flask app (flask dev server)', 'seed Flask app (gunicorn -w 2)']) {
    const f = results.get(`${label}/wrk`);
    if (f) line(label, 1, f);
  }
  if (!HAS_WRK) console.log('\n(wrk cross-check skipped: no wrk on PATH; Debian: apt install wrk)');

  console.log('\ngoals (same machine; 1-row requests unless said)');
  for (const [label, goal] of [
    ['seed Flask app (flask dev server)', 10],
    ['seed Flask app (gunicorn -w 2)', 3],
  ] as const) {
    const base = results.get(label);
    if (base) {
      console.log(`  vs ${label}: ${fmt(identity.reqPerSec / base.reqPerSec, 1)}x (goal >= ${goal}x)`);
    }
    const baseWrk = results.get(`${label}/wrk`);
    if (baseWrk && identityWrk) {
      console.log(`  vs ${label}, with wrk: ${fmt(identityWrk.reqPerSec / baseWrk.reqPerSec, 1)}x (goal >= ${goal}x)`);
    }
  }
  for (const target of TARGETS) {
    console.log(`  p99 at 1-row, ${target.label}: ${fmt(results.get(`${target.label}/1`)!.p99, 1)} ms (goal < 5 ms)`);
  }
  for (const [label, ratio] of ratios) {
    if (label === 'identity') continue; // it returns its input: there is no model work to compare with
    console.log(
      `  100-row requests vs raw, ${label}: ${fmt(ratio.json, 1)}% JSON /score, ` +
        `${fmt(ratio.binary, 1)}% V2 binary input (goal >= 70%)`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
