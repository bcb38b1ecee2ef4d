/**
 * `npm run bench:scorer`: the scorer under load on 127.0.0.1, side by side with the seed tutorial's Flask app.
 *
 * For identity, an ONNX model and an XGBoost model (the fixtures, and production-sized ones): req/s, p50 and p99 at 16 connections for 1-row and 100-row
 * requests (autocannon), 100-row V2 infer requests with binary input (the binary tensor data extension: no JSON to
 * parse) and with binary input and output, and the same model's raw prediction rate (no HTTP), each model measured
 * in a fresh Node process of its own, as the scorer serves it. The seed's Flask app is driven the same way, with
 * Flask's own server and with gunicorn's 2 sync workers. Then the cost of drift monitoring: the fixtures' models
 * served without and with a baseline (MONITOR_BASELINE), 1-row and 100-row requests. Prints figures; asserts nothing.
 *
 * Then the 1-row path beside a bare node:http JSON echo (its floor), the scaling of workers (WORKERS 1 and 2, the
 * port shared by node:cluster and by SO_REUSEPORT) with each process's memory, and each model's cold start.
 *
 * BENCH_SECONDS (default 10) sets each run's length; `npm run bench:scorer -- --monitoring` runs only the monitoring
 * comparison, `-- --workers` only the echo and workers sections, `-- --echo` only the echo and the path's parts, `-- --cold-start` only the cold starts. Needs `npm run build` (the script does it) and, for the
 * baseline, python3 with Flask and gunicorn (Debian: python3-flask gunicorn); without them the baseline is skipped.
 */
import autocannon from 'autocannon';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { binOf, monitoringPath, outputColumnName, type Baseline, type Histogram } from '../contract/drift.js';
import { freePort } from '../harness/net.js';
import { stopChild } from '../harness/process.js';
import { StopWaiting, waitFor } from '../harness/wait.js';
import { loadScorerConfig } from '../scorer/config.js';
import { HEADER_LENGTH } from '../scorer/http/binary-layout.js';
import { jsonBody } from '../scorer/http/body.js';
import { requestLog } from '../scorer/http/request-log.js';
import { scoreInputs, scoreResponse } from '../scorer/http/score.js';
import { allocate, store } from '../scorer/http/tensor.js';
import type { Datatype, NumericArray, Tensor } from '../scorer/model.js';
import { loadModel } from '../scorer/load/index.js';
import { batchedDestination } from '../scorer/log-batch.js';
import { RequestMetrics } from '../scorer/metrics.js';
import { layoutOf } from '../scorer/monitor/layout.js';
import { DriftWindow } from '../scorer/monitor/window.js';
import { warmUp } from '../scorer/warmup.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = 16;
const PYTHON = process.env.PYTHON ?? '/usr/bin/python3';

interface Target {
  label: string;
  uri: string;
  /** Rows of features to send. */
  rows: number[][];
  /** More of the scorer's settings (PREDICT_THREAD). */
  env?: Record<string, string>;
}

function fixtureRows(name: string): number[][] {
  const { X } = JSON.parse(readFileSync(`${ROOT}test/fixtures/shared/${name}.inputs.json`, 'utf8')) as {
    X: (number | null)[][];
  };
  return X.map((row) => row.map((v) => v ?? 0));
}

/** Writes the models whole, once, when two benchmarks start at once (the cache's lock: scripts/lib/cache.sh). */
const MAKE_BENCH_MODELS = `
. scripts/lib/cache.sh
ready() { [ -f "$1/rows.json" ]; }
make() {
  "$PYTHON" bench/make_bench_models.py "$CACHE_TMP/models"
  rm -rf "$1" # what a run interrupted before models were renamed into place left
  mv -T "$CACHE_TMP/models" "$1"
}
cache_ensure "$1" ready make "$1"`;

/**
 * Production-sized models (bench/make_bench_models.py, written once by Debian's xgboost and onnx into the cache):
 * the fixtures are so small that over HTTP their cost is all JSON and sockets. Absent the libraries, skipped.
 */
function productionTargets(): Target[] {
  const dir = `${process.env.SCORING_CACHE ?? `${homedir()}/.cache/scoring-operator`}/bench-models-v1`;
  if (!existsSync(`${dir}/rows.json`)) {
    const made = spawnSync('bash', ['-c', MAKE_BENCH_MODELS, 'make-bench-models', dir], {
      cwd: ROOT,
      env: { ...process.env, PYTHON },
      stdio: 'inherit',
    });
    if (made.status !== 0) {
      console.log(`(production-sized models skipped: ${PYTHON} bench/make_bench_models.py failed)`);
      return [];
    }
  }
  const rows = (JSON.parse(readFileSync(`${dir}/rows.json`, 'utf8')) as { X: number[][] }).X;
  const onnx = { label: 'onnx (MLP 32-256-256-1)', uri: `${dir}/mlp_256x256.onnx`, rows };
  const xgboost = { label: 'xgboost (500 trees, depth 8)', uri: `${dir}/xgb_500x8.json`, rows };
  // The same models predicting on a worker thread (PREDICT_THREAD), which overlaps one request's HTTP with another's
  // prediction: meant for models slower than the exchange.
  const thread = (t: Target) => ({ ...t, label: `${t.label}, thread`, env: { PREDICT_THREAD: 'true' } });
  return [onnx, xgboost, thread(onnx), thread(xgboost)];
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

/** The rows as one row-major typed array of `datatype`. */
function rowsAs(datatype: Datatype, rows: number[][]): NumericArray {
  const data = allocate(datatype, rows.length * rows[0]!.length);
  rows.flat().forEach((v, i) => store(data, i, v, datatype, () => `row value ${i}`));
  return data;
}

/** Until the server `child` runs answers `body` at `url`. */
async function answering(url: string, child: ChildProcess, body: string): Promise<void> {
  await waitFor(
    `${url} to answer`,
    async () => {
      if (child.exitCode !== null) throw new StopWaiting(`${child.spawnfile} exited with ${child.exitCode}`);
      const init = { method: 'POST', body, headers: { 'content-type': 'application/json' } };
      return (await fetch(url, init).catch(() => undefined))?.ok;
    },
    60_000,
    100,
  );
}

interface Figures {
  reqPerSec: number;
  /** Requests answered in the run (autocannon's runs). */
  requests?: number;
  p50: number;
  p99: number;
  failures: number;
  /** The monitoring comparison's change in req/s, in %. */
  change?: number;
}

async function load(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  seconds = SECONDS,
): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    connections: CONNECTIONS,
    duration: seconds,
  });
  return {
    reqPerSec: result.requests.total / (result.duration || seconds),
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

const HAS_WRK = spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;

/**
 * The same 1-row load from wrk (Debian's), when installed. Flask's server and gunicorn's sync workers close the
 * connection after every answer; autocannon's latencies for such servers came out far above what its own req/s
 * implies (Little's law: connections / req/s), so the comparison is also made with a second load generator.
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

/** What the raw child reads on stdin and prints on stdout. */
interface RawJob {
  uri: string;
  rows: number[][];
}
interface RawResult {
  rowsPerSec: number;
  batches: number;
}

/** The argument that makes this script the raw child (rawChild) instead of the benchmark. */
const RAW_CHILD = '--raw-child';

/** Raw rates by model URI: a model served on a thread has the same raw speed as served in-process. */
const rawResults = new Map<string, Promise<RawResult>>();

/**
 * Predictions per second with no HTTP: the model's own speed on 100-row batches, measured in a fresh Node process
 * that loads only this model and has predicted what the scorer's process has by the time of its 100-row runs (see
 * rawChild). Measured here instead, after autocannon and other models, and on 100-row batches alone, XGBoost 500x8
 * came out slower than the scorer served it over HTTP.
 */
function rawRowsPerSec(target: Target): Promise<RawResult> {
  let result = rawResults.get(target.uri);
  if (!result) rawResults.set(target.uri, (result = measureRaw(target)));
  return result;
}

async function measureRaw(target: Target): Promise<RawResult> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), RAW_CHILD], {
    env: { PATH: process.env.PATH, BENCH_SECONDS: String(SECONDS) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const job: RawJob = { uri: target.uri, rows: batch(target.rows, 100) };
  child.stdin!.end(JSON.stringify(job));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the raw measurement of ${target.label} exited with ${code}:\n${out}`);
  return JSON.parse(out.trim().split('\n').pop()!) as RawResult;
}

/**
 * The raw child: loads the model as the scorer does (loadScorerConfig, loadModel, warmUp), predicts single rows for
 * 1 s as the scorer does in its 1-row runs, warms up on the 100-row batch for at least 200 batches and 1 s, then
 * counts batches for BENCH_SECONDS and prints one line of JSON.
 *
 * The single rows matter to V8: called thousands of times a second, the model's predict closure gets hot and
 * TurboFan inlines the forest evaluator into it, specialised to that model's forest; called a few hundred times a
 * second with 100 rows, only the evaluator's own loop gets hot and it is compiled alone. The first runs 100-row
 * batches faster (the README gives XGBoost 500x8's rates both ways).
 */
async function rawChild(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const { uri, rows } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as RawJob;
  const config = loadScorerConfig({ MODEL_URI: uri, MODEL_NAME: 'bench' });
  const { model } = await loadModel(config, pino({ level: 'silent' }));
  await warmUp(model);
  const spec = model.inputs[0]!;
  const features = rows[0]!.length;
  const data = rowsAs(spec.datatype, rows);
  const input = { name: spec.name, datatype: spec.datatype, shape: [rows.length, features], data };
  const one = { ...input, shape: [1, features], data: data.slice(0, features) };
  const single = performance.now() + 1000;
  while (performance.now() < single) await model.predict([one]);
  const warm = performance.now() + 1000;
  for (let i = 0; i < 200 || performance.now() < warm; i++) await model.predict([input]);
  let batches = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  while (performance.now() < until) {
    await model.predict([input]);
    batches++;
  }
  const result: RawResult = { rowsPerSec: (batches * rows.length * 1000) / (performance.now() - started), batches };
  await model.dispose();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function line(label: string, rows: number, f: Figures): void {
  console.log(
    `${label.padEnd(34)} ${String(rows).padStart(4)} ${fmt(f.reqPerSec).padStart(9)} ${fmt(f.p50, 1).padStart(7)} ` +
      `${fmt(f.p99, 1).padStart(7)} ${fmt(f.reqPerSec * rows).padStart(11)} ${String(f.failures).padStart(6)}`,
  );
}

/** Starts the scorer on `target` with more settings (on `cpu`, if given), and waits until it answers /score. */
async function startScorer(
  target: Target,
  env: Record<string, string> = {},
  cpu?: string,
): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const child = spawnNode([`${ROOT}dist/scorer/main.js`], cpu, {
    env: {
      PATH: process.env.PATH,
      MODEL_URI: target.uri,
      MODEL_NAME: 'bench',
      HOST: '127.0.0.1',
      PORT: String(port),
      // gRPC on a port of its own choosing: the scorers of one section run side by side.
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
      ...target.env,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await answering(`http://127.0.0.1:${port}/score`, child, JSON.stringify({ X: target.rows[0] ?? [1] }));
    // With several workers, /score answers once one of them is loaded; the pod is ready once all are.
    await waitFor(
      'the scorer ready',
      async () => (await fetch(`http://127.0.0.1:${port}/v2/health/ready`).catch(() => undefined))?.ok,
      60_000,
      20,
    );
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return { child, port };
}

async function benchScorer(target: Target, results: Map<string, Figures>): Promise<void> {
  const { child, port } = await startScorer(target);
  try {
    const url = `http://127.0.0.1:${port}/score`;
    for (const rows of [1, 100]) {
      const body = JSON.stringify({ X: rows === 1 ? target.rows[0] : batch(target.rows, rows) });
      await load(url, body); // warm-up run, not reported
      const f = await load(url, body);
      results.set(`${target.label}/${rows}`, f);
      line(target.label, rows, f);
    }
    const binary = await binaryInfer(`http://127.0.0.1:${port}/v2/models/bench`, batch(target.rows, 100));
    await load(binary.url, binary.input.body, binary.input.headers);
    const f = await load(binary.url, binary.input.body, binary.input.headers);
    results.set(`${target.label}/100/binary`, f);
    line('  the same, V2 binary input', 100, f);
    await checkBinaryAnswer(binary.url, binary.inputOutput);
    await load(binary.url, binary.inputOutput.body, binary.inputOutput.headers);
    const g = await load(binary.url, binary.inputOutput.body, binary.inputOutput.headers);
    results.set(`${target.label}/100/binary-out`, g);
    line('  the same, V2 binary in and out', 100, g);
    if (HAS_WRK && target.label === 'identity') {
      results.set('identity/1/wrk', wrkLoad(url, JSON.stringify({ X: target.rows[0] })));
    }
  } finally {
    await stopChild(child);
  }
}

interface InferRequest {
  body: Buffer;
  headers: Record<string, string>;
}

/**
 * Two V2 infer requests for `rows`, both with the input's data as raw bytes after the JSON
 * (Inference-Header-Content-Length): `input` answered in JSON, `inputOutput` asking for every output as binary data
 * too (`"binary_data_output": true`).
 */
async function binaryInfer(modelUrl: string, rows: number[][]) {
  const meta = (await (await fetch(modelUrl)).json()) as { inputs: { name: string; datatype: Datatype }[] };
  const { name, datatype } = meta.inputs[0]!;
  const data = rowsAs(datatype, rows);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const inputs = [
    { name, datatype, shape: [rows.length, rows[0]!.length], parameters: { binary_data_size: bytes.length } },
  ];
  const request = (json: object): InferRequest => {
    const head = Buffer.from(JSON.stringify(json));
    return { body: Buffer.concat([head, bytes]), headers: { [HEADER_LENGTH]: String(head.length) } };
  };
  return {
    url: `${modelUrl}/infer`,
    input: request({ inputs }),
    inputOutput: request({ inputs, parameters: { binary_data_output: true } }),
  };
}

/**
 * Checks that the scorer answers `request` with binary outputs, before their figures are reported: a JSON head of
 * Inference-Header-Content-Length bytes whose outputs' binary_data_size add up to the rest of the body.
 */
async function checkBinaryAnswer(url: string, request: InferRequest): Promise<void> {
  const res = await fetch(url, {
    method: 'POST',
    body: request.body,
    headers: { 'content-type': 'application/octet-stream', ...request.headers },
  });
  const body = Buffer.from(await res.arrayBuffer());
  if (!res.ok) throw new Error(`${url} answered ${res.status} to binary_data_output: ${body.toString('utf8')}`);
  const header = res.headers.get(HEADER_LENGTH);
  if (header === null) throw new Error(`${url} answered binary_data_output in JSON`);
  const n = Number(header);
  const head = JSON.parse(body.subarray(0, n).toString('utf8')) as {
    outputs: { name: string; data?: unknown; parameters?: { binary_data_size?: number } }[];
  };
  const sizes = head.outputs.map((o) => o.parameters?.binary_data_size);
  const total = sizes.reduce<number>((a, b) => a + (b ?? NaN), 0);
  if (head.outputs.some((o) => o.data !== undefined) || total !== body.length - n) {
    throw new Error(
      `${url}: a binary answer whose outputs' binary_data_size (${sizes.join(', ')}) do not account for the ` +
        `${body.length - n} bytes after its ${n}-byte JSON head, or that still carries "data"`,
    );
  }
}

async function benchFlask(label: string, command: string[], results: Map<string, Figures>): Promise<void> {
  const port = await freePort();
  const [cmd, ...args] = command.map((c) => c.replace('PORT', String(port)));
  const child = spawn(cmd!, args, { cwd: `${ROOT}bench`, stdio: ['ignore', 'ignore', 'ignore'] });
  try {
    const url = `http://127.0.0.1:${port}/score`;
    const body = JSON.stringify({ X: TARGETS[0]!.rows[0] });
    await answering(url, child, body);
    await load(url, body);
    const f = await load(url, body);
    results.set(label, f);
    line(label, 1, f);
    if (HAS_WRK) results.set(`${label}/wrk`, wrkLoad(url, body));
  } finally {
    await stopChild(child);
  }
}

/**
 * Decile edges of `values` (nearest rank, a repeated value once) and the share of the values in each bin, missing
 * values last: a baseline histogram as the baseline command writes one.
 */
function histogramOf(name: string, values: (number | null)[]): Histogram {
  const present = values.filter((v): v is number => v !== null && !Number.isNaN(v)).sort((a, b) => a - b);
  const edges: number[] = [];
  for (let q = 1; q < 10; q++) {
    const v = present[Math.min(present.length - 1, Math.floor((q * present.length) / 10))];
    if (v !== undefined && (edges.length === 0 || v > edges.at(-1)!)) edges.push(v);
  }
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const v of values) counts[binOf(edges, v)]!++;
  return { name, edges, shares: counts.map((c) => c / values.length) };
}

/**
 * A baseline of the rows the benchmark sends: every feature, and every value of every output of the model's
 * predictions on them (asked of the scorer at `port` by V2 infer, which names the outputs), so that the monitored
 * scorer counts all that it would in production.
 */
async function benchBaseline(port: number, rows: number[][]): Promise<Baseline> {
  const model = `http://127.0.0.1:${port}/v2/models/bench`;
  const meta = (await (await fetch(model)).json()) as { inputs: { name: string; datatype: Datatype }[] };
  const { name, datatype } = meta.inputs[0]!;
  const input = { name, datatype, shape: [rows.length, rows[0]!.length], data: rows.flat() };
  const res = await fetch(`${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [input] }),
  });
  if (!res.ok) throw new Error(`${model}/infer answered ${res.status}: ${await res.text()}`);
  const { outputs } = (await res.json()) as { outputs: { name: string; datatype: Datatype; data: number[] }[] };
  const features = rows[0]!.map((_, j) =>
    histogramOf(
      `x${j}`,
      rows.map((row) => row[j]!),
    ),
  );
  const predicted = outputs
    .filter((o) => o.datatype !== 'BYTES')
    .flatMap((o) => {
      const width = o.data.length / rows.length;
      return Array.from({ length: width }, (_, j) =>
        histogramOf(
          outputColumnName(o.name, j, width),
          rows.map((_, r) => o.data[r * width + j]!),
        ),
      );
    });
  return { version: 1, rows: rows.length, features, outputs: predicted };
}

/**
 * Rounds of the monitoring comparison: in each, both scorers are loaded for a fifth of BENCH_SECONDS, one after the
 * other, so that the two runs of a round meet the same machine (on a shared one, req/s moves by more than monitoring
 * costs from one minute to the next).
 */
const MONITORING_ROUNDS = 6;
const MONITORING_RUN_SECONDS = Math.max(1, Math.round(SECONDS / 5));

/** The argument that makes this script the counting child (countingChild) instead of the benchmark. */
const COUNTING_CHILD = '--counting-child';

/** What the counting child reads on stdin; it prints the µs per count by batch size. */
interface CountingJob {
  uri: string;
  rows: number[][];
  baseline: Baseline;
  sizes: number[];
}

/**
 * Microseconds the drift window takes to count a batch of `target`'s rows (its features and its predictions), by
 * batch size, with no HTTP: the work monitoring adds to a request, a figure that moves less with what else the
 * machine is doing than req/s. Measured in a fresh Node process that counts this model's tensors only, as a
 * scorer's does: counted here after other models' (an FP64 input, then FP32 ones), V8's code for the counting
 * handles several kinds of arrays and came out at twice the time.
 */
async function countingCost(target: Target, baseline: Baseline, sizes: number[]): Promise<Map<number, number>> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), COUNTING_CHILD], {
    env: { PATH: process.env.PATH },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const job: CountingJob = { uri: target.uri, rows: batch(target.rows, Math.max(...sizes)), baseline, sizes };
  child.stdin!.end(JSON.stringify(job));
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the counting cost of ${target.label} exited with ${code}:\n${out}`);
  return new Map(JSON.parse(out.trim().split('\n').pop()!) as [number, number][]);
}

/** The counting child: loads the model, predicts each batch once, then times the window counting it. */
async function countingChild(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const { uri, rows, baseline, sizes } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CountingJob;
  const log = pino({ level: 'silent' });
  const { model } = await loadModel(loadScorerConfig({ MODEL_URI: uri, MODEL_NAME: 'bench' }), log);
  const layout = layoutOf(baseline, model, Number.MAX_SAFE_INTEGER);
  const window = new DriftWindow(baseline, { sha256: '', uri }, model.inputs, layout, {
    windowSeconds: 600,
    minRows: 500,
    now: Date.now,
    log,
  });
  const spec = model.inputs[0]!;
  const cost: [number, number][] = [];
  for (const size of sizes) {
    const values = rows.slice(0, size);
    const data = rowsAs(spec.datatype, values);
    const input: Tensor = { name: spec.name, datatype: spec.datatype, shape: [size, values[0]!.length], data };
    const outputs = await model.predict([input]);
    const time = (ms: number) => {
      const started = performance.now();
      let counted = 0;
      while (performance.now() - started < ms) {
        for (let i = 0; i < 100; i++) window.count([input], outputs);
        counted += 100;
      }
      return ((performance.now() - started) * 1000) / counted;
    };
    time(500); // warm-up: V8 compiles the counting for these tensors
    cost.push([size, time(1000)]);
  }
  await model.dispose();
  process.stdout.write(`${JSON.stringify(cost)}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs each of `count` servers once a round, `rounds` times, each round starting with the next server, so that the
 * machine's drift (a VM's neighbours, V8 warming) touches all of them alike; `measure(j)` loads server j once. The
 * runs of each server, in round order: the runs of one round pair up across servers (`pairedRatio`).
 */
async function alternatedRounds<T>(count: number, rounds: number, measure: (j: number) => Promise<T>): Promise<T[][]> {
  const runs = Array.from({ length: count }, () => [] as T[]);
  for (let i = 0; i < rounds; i++) {
    for (let k = 0; k < count; k++) {
      const j = (i + k) % count;
      runs[j]!.push(await measure(j));
    }
  }
  return runs;
}

/** The median over the rounds of each round's `of(run) / of(base run)`. */
function pairedRatio<T>(runs: readonly T[], base: readonly T[], of: (run: T) => number): number {
  return median(runs.map((run, i) => of(run) / of(base[i]!)));
}

/** The mean of several runs' figures (failures added up). */
function meanOf(runs: Figures[]): Figures {
  const mean = (f: (x: Figures) => number) => runs.reduce((a, x) => a + f(x), 0) / runs.length;
  return {
    reqPerSec: mean((x) => x.reqPerSec),
    p50: mean((x) => x.p50),
    p99: mean((x) => x.p99),
    failures: runs.reduce((a, x) => a + x.failures, 0),
  };
}

/**
 * The cost of drift monitoring: `target` served by two scorers at once, one without a baseline and one with
 * (benchBaseline's, written to `dir`), loaded in turn with the same /score requests of 1 and 100 rows.
 */
async function benchMonitoring(target: Target, results: Map<string, Figures>, dir: string): Promise<void> {
  const plain = await startScorer(target);
  let monitored: Awaited<ReturnType<typeof startScorer>> | undefined;
  try {
    const path = join(dir, `${target.label.replace(/[^\w]+/g, '_')}.json`);
    const baseline = await benchBaseline(plain.port, batch(target.rows, 100));
    writeFileSync(path, JSON.stringify(baseline));
    const cost = await countingCost(target, baseline, [1, 100]);
    monitored = await startScorer(target, { MONITOR_BASELINE: path });
    const report = `http://127.0.0.1:${monitored.port}${monitoringPath('bench')}`;
    const check = await fetch(report);
    if (!check.ok) throw new Error(`${report} answered ${check.status}: ${await check.text()}`);
    const urls = [plain, monitored].map((s) => `http://127.0.0.1:${s.port}/score`);
    for (const rows of [1, 100]) {
      const body = JSON.stringify({ X: rows === 1 ? target.rows[0] : batch(target.rows, rows) });
      for (const url of urls) await load(url, body, {}, MONITORING_RUN_SECONDS); // warm-up runs, not reported
      // Each goes first in every other round: neither meets the machine's trends (other work, V8 warming) alone.
      const runs = await alternatedRounds(2, MONITORING_ROUNDS, (k) =>
        load(urls[k]!, body, {}, MONITORING_RUN_SECONDS),
      );
      const [off, on] = runs.map(meanOf) as [Figures, Figures];
      // The median of the rounds' changes: a round the machine disturbed moves it less than it moves the means.
      const change = 100 * (pairedRatio(runs[1]!, runs[0]!, (f) => f.reqPerSec) - 1);
      results.set(`${target.label}/${rows}/monitoring-off`, off);
      results.set(`${target.label}/${rows}/monitoring-on`, { ...on, change });
      const counting = cost.get(rows)!;
      console.log(
        `${target.label.padEnd(34)} ${String(rows).padStart(4)} ${fmt(off.reqPerSec).padStart(9)} ` +
          `${fmt(on.reqPerSec).padStart(9)} ${`${change >= 0 ? '+' : ''}${fmt(change, 1)}%`.padStart(7)} ` +
          `${fmt(off.p99, 1).padStart(7)} ${fmt(on.p99, 1).padStart(7)} ${String(off.failures + on.failures).padStart(6)} ` +
          `${fmt(counting, 2).padStart(9)} ${`${fmt((counting * off.reqPerSec) / 1e4, 1)}%`.padStart(7)}`,
      );
    }
    // The monitored scorer counted what it served: its figures are monitoring's.
    const counted = (await (await fetch(report)).json()) as { window: { rows: number } };
    if (!(counted.window.rows > 0)) throw new Error(`${report} counted no row: ${JSON.stringify(counted)}`);
  } finally {
    await stopChild(plain.child);
    if (monitored) await stopChild(monitored.child);
  }
}

/** Runs benchMonitoring for each target under a header, and returns the goal lines. */
async function monitoringSection(targets: Target[], results: Map<string, Figures>): Promise<string[]> {
  console.log(
    `\ndrift monitoring: each model served by two scorers, without and with MONITOR_BASELINE (deciles of every ` +
      `feature and output), /score loaded in turn for ${MONITORING_RUN_SECONDS} s, ${MONITORING_ROUNDS} rounds: ` +
      "req/s and p99 (ms) their means, the change the median of the rounds';\n" +
      'then the µs the window takes to count one such request with no HTTP (in this process), and that as a share ' +
      'of the µs per request without monitoring (1e6 / req/s)',
  );
  console.log(`${'model'.padEnd(34)} rows   without      with  change p99 off  p99 on  fails  count µs  of req`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-baselines-'));
  try {
    for (const target of targets) await benchMonitoring(target, results, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return targets.flatMap((target) =>
    [1, 100].map((rows) => {
      const { change } = results.get(`${target.label}/${rows}/monitoring-on`)!;
      const goal = rows === 1 ? ' (goal >= -5%)' : '';
      const shown = `${change! >= 0 ? '+' : ''}${fmt(change!, 1)}%`;
      return `  drift monitoring, ${rows}-row requests, ${target.label}: ${shown} req/s${goal}`;
    }),
  );
}

/** Resident memory of a process, in MiB, from /proc; undefined once it is gone. */
function rssMiB(pid: number): number | undefined {
  try {
    const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return kb / 1024;
  } catch {
    return undefined;
  }
}

/**
 * The fields of /proc/PID/stat after the command in parentheses: [0] is the line's field 3 (the state), [1] field 4
 * (the parent), [11] and [12] fields 14 and 15 (user and system time).
 */
function statFields(pid: number | string): string[] {
  return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
}

/** The processes whose parent is `pid` (a scorer primary's workers). */
function childrenOf(pid: number): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(statFields(d)[1]) === pid;
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Rounds of the workers section, and the seconds of each server's run in a round. */
const WORKER_ROUNDS = 6;
const WORKER_RUN_SECONDS = 3;

/**
 * Workers (WORKERS): the production-sized XGBoost model (500 trees of depth 8), where prediction dominates, on 100-row
 * requests with 1 and 2 workers, the 2 sharing the port through node:cluster's primary and with SO_REUSEPORT; and
 * the resident memory of each process after the load. The three scorers run side by side, loaded in WORKER_ROUNDS
 * rounds that take each in turn, each round starting with the next (as the echo section does): the scaling is the
 * median of the rounds' 2-worker/1-worker ratios, so that the machine's drift touches all three alike.
 */
async function workersSection(target: Target | undefined): Promise<string[]> {
  if (!target) return ['  workers: skipped (no production-sized XGBoost model)'];
  console.log(
    `\nworkers: ${target.label}, 100-row requests, ${WORKER_ROUNDS} rounds of ${WORKER_RUN_SECONDS} s taking each ` +
      'in turn, medians; RSS (MiB) of each process after the load',
  );
  const body = JSON.stringify({ X: batch(target.rows, 100) });
  const configs: { label: string; env: Record<string, string> }[] = [
    { label: '1 worker (one process)', env: { WORKERS: '1' } },
    { label: '2 workers, node:cluster', env: { WORKERS: '2' } },
    { label: '2 workers, SO_REUSEPORT', env: { WORKERS: '2', REUSE_PORT: 'true' } },
  ];
  const scorers: { child: ChildProcess; port: number }[] = [];
  try {
    for (const config of configs) scorers.push(await startScorer(target, config.env));
    const urls = scorers.map(({ port }) => `http://127.0.0.1:${port}/score`);
    for (const url of urls) await load(url, body);
    const runs = await alternatedRounds(configs.length, WORKER_ROUNDS, (j) =>
      load(urls[j]!, body, {}, WORKER_RUN_SECONDS),
    );
    const scaling = (j: number) => pairedRatio(runs[j]!, runs[0]!, (f) => f.reqPerSec);
    configs.forEach(({ label }, j) => {
      const reqPerSec = median(runs[j]!.map((f) => f.reqPerSec));
      const p99 = median(runs[j]!.map((f) => f.p99));
      const failures = runs[j]!.reduce((sum, f) => sum + f.failures, 0);
      const { child } = scorers[j]!;
      const workers = childrenOf(child.pid!);
      const rss = [child.pid!, ...workers].map((pid) => fmt(rssMiB(pid) ?? NaN));
      const memory =
        workers.length === 0 ? `rss ${rss[0]}` : `rss primary ${rss[0]}, workers ${rss.slice(1).join(', ')}`;
      const times = j === 0 ? '' : ` (${fmt(scaling(j), 2)}x)`;
      console.log(
        `${label.padEnd(34)} ${fmt(reqPerSec).padStart(9)} req/s${times} ${fmt(reqPerSec * 100).padStart(9)} rows/s  ` +
          `p99 ${fmt(p99, 1)} ms  ${memory}  fails ${failures}`,
      );
    });
    return configs
      .slice(1)
      .map(
        (c, k) =>
          `  ${c.label} vs 1 worker, ${target.label}, 100-row: ${fmt(scaling(k + 1), 2)}x (median of ${WORKER_ROUNDS} rounds; goal >= 1.7x)`,
      );
  } finally {
    for (const { child } of scorers) await stopChild(child);
  }
}

/**
 * CPUs for a server and for the load generator (this process, autocannon included) when the machine has two or more
 * and util-linux's taskset: each on its own core, so that the scheduler's placement of two busy processes on two
 * cores (and the cost of waking one on the other's) does not move the figure from one run to the next as much as the
 * code under test does. Undefined otherwise (then nothing is pinned).
 */
function pinning(): { server: string; load: string } | undefined {
  const cpus = availableParallelism();
  if (cpus < 2 || spawnSync('taskset', ['-V'], { stdio: 'ignore' }).error !== undefined) return undefined;
  return { server: String(cpus - 1), load: String(cpus - 2) };
}

/** Spawns `node args` on `cpu` (taskset), or anywhere. */
function spawnNode(args: string[], cpu: string | undefined, options: Parameters<typeof spawn>[2]): ChildProcess {
  return cpu === undefined
    ? spawn(process.execPath, args, options)
    : spawn('taskset', ['-c', cpu, process.execPath, ...args], options);
}

/** CPU time (user and system, all threads) a process has used, in µs, from /proc. */
function cpuMicros(pid: number): number {
  const fields = statFields(pid);
  // User and system time, in clock ticks: 100 a second on Linux.
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

// Groups of fresh processes, one of each server in a group: identical scorer processes side by side served 81-91% of
// the echo over the same 30 rounds, one of them 4-5 µs a request slower than the others throughout (where V8 placed
// its code and heap, it seems), so a figure from a few processes is their luck as much as the code's; twelve draws of
// each server make that luck a part of the median rather than of the figure.
const ECHO_GROUPS = 12;
// Seconds of unmeasured load each process gets first: a fresh process costs about twice its steady CPU a request in
// its first half second of load and settles after about two (V8 compiling the hot path in tiers).
const ECHO_WARM_SECONDS = 2;
// Rounds of a group, each loading its three processes in turn for ECHO_RUN_SECONDS. Short runs and few processes at
// once: a process left idle between its runs pays for it when the load comes back (6 s more idle before each 1 s run
// raised the echo's CPU a request by 7 µs and the scorer's by 15-32 µs), and a server is loaded in production, not
// woken; the earlier method, 9 processes side by side, left each idle 8 s between its runs.
const ECHO_ROUNDS = 4;
const ECHO_RUN_SECONDS = 1;

/**
 * The 1-row path against its floor: the scorer's POST /score on the identity model beside a bare node:http JSON echo
 * (bench/echo-server.ts), the same load. ECHO_GROUPS groups, each of three fresh processes: the echo, the scorer as
 * deployed and the scorer without its request log lines. A group's processes are warmed, then loaded in ECHO_ROUNDS
 * rounds that take each in turn, each round starting with the next, so that a drift of the machine touches all alike.
 * Each server on one core and the load generator on the other (pinning). The ratio is the median over every round of
 * every group of that round's scorer/echo; the server's CPU time per request says what the path costs.
 */
async function echoSection(): Promise<string[]> {
  const pin = pinning();
  console.log(
    `\n1-row POST /score on the identity model vs a bare node:http JSON echo (no framework); ${ECHO_GROUPS} groups ` +
      `of fresh processes (one of each server), each process warmed ${ECHO_WARM_SECONDS} s, then ${ECHO_ROUNDS} ` +
      `rounds of ${ECHO_RUN_SECONDS} s taking each in turn; medians over all rounds; ` +
      (pin ? `servers on CPU ${pin.server}, the load generator on CPU ${pin.load}` : 'nothing pinned (no taskset)'),
  );
  const body = JSON.stringify({ X: [1.5, 2.5, 3.5, 4.5, 5.5] });
  const identity = { label: 'identity', uri: 'identity', rows: [] };
  const kinds = ['node:http echo', 'scorer, identity', '  the same, no request log lines'];
  const all = `0-${availableParallelism() - 1}`;
  // groups[g][kind][round]
  const groups: { reqPerSec: number; cpuPerRequest: number }[][][] = [];
  for (let g = 0; g < ECHO_GROUPS; g++) {
    const children: ChildProcess[] = [];
    try {
      const urls: string[] = [];
      const port = await freePort();
      children.push(
        spawnNode([`${ROOT}dist/bench/echo-server.js`, String(port)], pin?.server, {
          stdio: ['ignore', 'ignore', 'inherit'],
        }),
      );
      urls.push(`http://127.0.0.1:${port}/score`);
      await answering(urls[0]!, children[0]!, body);
      // The scorer as deployed (LOG_LEVEL info: a log line per request), and without its request log lines (warn).
      for (const level of ['info', 'warn']) {
        const scorer = await startScorer(identity, { LOG_LEVEL: level }, pin?.server);
        children.push(scorer.child);
        urls.push(`http://127.0.0.1:${scorer.port}/score`);
      }
      if (pin) spawnSync('taskset', ['-a', '-p', '-c', pin.load, String(process.pid)], { stdio: 'ignore' });
      for (const url of urls) await load(url, body, {}, ECHO_WARM_SECONDS);
      groups.push(
        await alternatedRounds(urls.length, ECHO_ROUNDS, async (j) => {
          const pid = children[j]!.pid!;
          const before = cpuMicros(pid);
          const { reqPerSec, requests } = await load(urls[j]!, body, {}, ECHO_RUN_SECONDS);
          return { reqPerSec, cpuPerRequest: (cpuMicros(pid) - before) / requests! };
        }),
      );
    } finally {
      if (pin) spawnSync('taskset', ['-a', '-p', '-c', all, String(process.pid)], { stdio: 'ignore' });
      for (const child of children) await stopChild(child);
    }
  }
  const runs = (kind: number) => groups.flatMap((group) => group[kind]!);
  const ratio = (kind: number) => pairedRatio(runs(kind), runs(0), (r) => r.reqPerSec);
  const cpu = (kind: number) => median(runs(kind).map((r) => r.cpuPerRequest));
  // Each group's own ratio: how far apart processes of one server are (the echo's row: its rate in each group).
  const perGroup = (kind: number) =>
    groups
      .map((group) =>
        kind === 0
          ? fmt(median(group[0]!.map((r) => r.reqPerSec)))
          : `${fmt(100 * pairedRatio(group[kind]!, group[0]!, (r) => r.reqPerSec), 1)}%`,
      )
      .join(', ');
  console.log(
    `${''.padEnd(34)} ${'req/s'.padStart(9)} ${'of echo'.padStart(8)} ${'server CPU µs/req'.padStart(18)}  ` +
      'each group: req/s (echo), of echo',
  );
  kinds.forEach((label, kind) => {
    const rate = median(runs(kind).map((r) => r.reqPerSec));
    console.log(
      `${label.padEnd(34)} ${fmt(rate).padStart(9)} ${`${fmt(100 * ratio(kind), 1)}%`.padStart(8)} ` +
        `${fmt(cpu(kind), 1).padStart(18)}  ${perGroup(kind)}`,
    );
  });
  const pct = (kind: number) => `${fmt(100 * ratio(kind), 1)}%`;
  return [
    `  1-row scorer vs bare node:http echo (${ECHO_GROUPS} groups of fresh processes): ${pct(1)} (goal >= 90%); ` +
      `without request log lines ${pct(2)}; server CPU per request: echo ${fmt(cpu(0), 1)} µs, the scorer's path ` +
      `${fmt(cpu(2) - cpu(0), 1)} µs more, its log line ${fmt(cpu(1) - cpu(2), 1)} µs more`,
  ];
}

/**
 * What each part of the 1-row POST /score path costs beyond the echo's work, each in a loop of its own in this
 * process (no HTTP): the checks and the input tensor, the model (identity), the answer's values, the metrics and the
 * log line (into a LineBatch over /dev/null). The body's parse and the answer's JSON.stringify, which the echo does
 * too, for scale. Each part's median of 5 runs of 200,000 calls, in ns a call.
 */
async function partsSection(): Promise<void> {
  console.log('\nthe 1-row path in parts, no HTTP (ns a call, median of 5 runs of 200,000 calls)');
  const { model } = await loadModel(
    loadScorerConfig({ MODEL_URI: 'identity', MODEL_NAME: 'bench' }),
    pino({ level: 'silent' }),
  );
  const body = Buffer.from(JSON.stringify({ X: [1.5, 2.5, 3.5, 4.5, 5.5] }));
  const parsed = jsonBody(body);
  const request = scoreInputs(parsed, model, 10_000);
  const outputs = model.predict(request.inputs) as Tensor[];
  const answer = scoreResponse(outputs, model, request);
  const metrics = new RequestMetrics();
  const batch = batchedDestination('/dev/null');
  const logLine = requestLog(pino({ base: { component: 'scorer' } }, batch));
  const parts: [string, () => unknown][] = [
    ['parse the body (the echo too)', () => jsonBody(body)],
    ['checks and the input tensor (scoreInputs)', () => scoreInputs(parsed, model, 10_000)],
    ['predict (identity)', () => model.predict(request.inputs)],
    ["the answer's values (scoreResponse)", () => scoreResponse(outputs, model, request)],
    ['JSON.stringify of the answer (the echo too)', () => JSON.stringify(answer)],
    ['metrics (RequestMetrics.observe)', () => metrics.observe('/score', 'POST', 200, 0.00004)],
    ['the log line (batched, with a clock reading)', () => logLine('POST', '/score', 200, 0.00004, 1)],
  ];
  try {
    for (const [label, call] of parts) {
      const runs: number[] = [];
      for (let r = 0; r < 6; r++) {
        const started = process.hrtime.bigint();
        for (let i = 0; i < 200_000; i++) call();
        // The first run warms up.
        if (r > 0) runs.push(Number(process.hrtime.bigint() - started) / 200_000);
      }
      console.log(`${label.padEnd(46)} ${fmt(median(runs)).padStart(6)}`);
    }
  } finally {
    batch.end();
    await model.dispose();
  }
}

/**
 * Cold start: from spawning `node dist/scorer/main.js` to its first 200 on /v2/health/ready (polled every 5 ms), for
 * each model, and for the largest with 2 workers.
 */
async function coldStartSection(targets: Target[]): Promise<void> {
  console.log('\ncold start: process start to ready (first 200 on /v2/health/ready, polled every 5 ms)');
  const runs: { target: Target; env: Record<string, string>; label: string }[] = targets
    .filter((t) => !t.env)
    .map((t) => ({ target: t, env: {}, label: t.label }));
  const xgb = targets.find((t) => t.label === 'xgboost (500 trees, depth 8)');
  if (xgb) runs.push({ target: xgb, env: { WORKERS: '2' }, label: `${xgb.label}, 2 workers` });
  for (const { target, env, label } of runs) {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const started = performance.now();
      const child = spawn(process.execPath, [`${ROOT}dist/scorer/main.js`], {
        env: {
          PATH: process.env.PATH,
          MODEL_URI: target.uri,
          MODEL_NAME: 'bench',
          HOST: '127.0.0.1',
          PORT: String(port),
          GRPC_PORT: '0',
          METRICS_PORT: '0',
          LOG_LEVEL: 'warn',
          ...env,
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      try {
        await waitFor(
          `${label} ready`,
          async () => {
            if (child.exitCode !== null) throw new StopWaiting(`the scorer exited with ${child.exitCode}`);
            return (await fetch(`http://127.0.0.1:${port}/v2/health/ready`).catch(() => undefined))?.ok;
          },
          120_000,
          5,
        );
        times.push(performance.now() - started);
      } finally {
        await stopChild(child);
      }
    }
    console.log(`${label.padEnd(34)} ${fmt(median(times)).padStart(6)} ms (median of 3)`);
  }
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  console.log(
    `scorer benchmark: ${cpus()[0]?.model ?? 'cpu'} x${availableParallelism()}, Node ${process.version}, ` +
      `${CONNECTIONS} connections, ${SECONDS} s per run (after a warm-up run), autocannon on the same machine\n`,
  );
  // The fixtures' models, before the production-sized ones join them.
  const fixtureTargets = [...TARGETS];
  if (process.argv.includes('--echo')) {
    const goals = await echoSection();
    await partsSection();
    console.log(`\ngoals (same machine)\n${goals.join('\n')}`);
    return;
  }
  if (process.argv.includes('--workers')) {
    const goals = [...(await echoSection()), ...(await workersSection(productionTargets()[1]))];
    console.log(`\ngoals (same machine)\n${goals.join('\n')}`);
    return;
  }
  if (process.argv.includes('--cold-start')) {
    await coldStartSection([...TARGETS, ...productionTargets()]);
    return;
  }
  if (process.argv.includes('--monitoring')) {
    const goals = await monitoringSection(fixtureTargets, new Map());
    console.log(`\ngoals (same machine)\n${goals.join('\n')}`);
    return;
  }
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

  console.log(
    '\nraw prediction (100-row batches, no HTTP; each model in a fresh Node process, as the scorer runs it) vs ' +
      '100-row requests over HTTP.\nrows/s, then µs per 100-row batch (raw) or per request (HTTP: 1e6 / req/s; ' +
      'the difference from raw is what the HTTP exchange costs), then HTTP as % of raw',
  );
  const column = (title: string) => `${title.padStart(12)} ${'µs/req'.padStart(9)} ${'of raw'.padStart(7)}`;
  console.log(
    `${'model'.padEnd(34)} ${'raw rows/s'.padStart(13)} ${'µs/batch'.padStart(9)}   ${column('JSON /score')}   ` +
      `${column('V2 bin in')}   ${column('V2 bin in+out')}`,
  );
  const ratios = new Map<string, { json: number; binary: number; binaryOut: number }>();
  for (const target of TARGETS) {
    const raw = (await rawRowsPerSec(target)).rowsPerSec;
    const http = (key: string) => {
      const f = results.get(`${target.label}/100${key}`)!;
      const ratio = (100 * 100 * f.reqPerSec) / raw;
      return {
        text: `${fmt(f.reqPerSec * 100).padStart(12)} ${fmt(1e6 / f.reqPerSec, 1).padStart(9)} ${`${fmt(ratio, 1)}%`.padStart(7)}`,
        ratio,
      };
    };
    const [json, binary, binaryOut] = [http(''), http('/binary'), http('/binary-out')];
    ratios.set(target.label, { json: json.ratio, binary: binary.ratio, binaryOut: binaryOut.ratio });
    console.log(
      `${target.label.padEnd(34)} ${fmt(raw).padStart(13)} ${fmt((1e6 * 100) / raw, 1).padStart(9)}   ` +
        `${json.text}   ${binary.text}   ${binaryOut.text}`.trimEnd(),
    );
  }

  const monitoringGoals = await monitoringSection(fixtureTargets, results);
  const echoGoals = await echoSection();
  await partsSection();
  const workerGoals = await workersSection(TARGETS.find((t) => t.label === 'xgboost (500 trees, depth 8)' && !t.env));
  await coldStartSection(TARGETS);

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
        `${fmt(ratio.binary, 1)}% V2 binary input, ${fmt(ratio.binaryOut, 1)}% V2 binary in and out (goal >= 70%)`,
    );
  }
  for (const goal of monitoringGoals) console.log(goal);
  for (const goal of [...echoGoals, ...workerGoals]) console.log(goal);
}

(process.argv[2] === RAW_CHILD ? rawChild() : process.argv[2] === COUNTING_CHILD ? countingChild() : main()).catch(
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
