/**
 * The e2e suite's view of a cluster: any cluster KUBECONFIG names (the local node cluster, kind). Everything it
 * sends goes from a pod inside the cluster (to a Service's ClusterIP, or to a status URL through cluster DNS), so
 * it needs no route from the test machine.
 */
import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SERVED_BY_HEADER } from '../../contract/rollout.js';
import { ADMIN, ROOT, getJson, k, kubectl, waitFor } from '../cluster/kube.js';

export const NS = 'scoring-e2e';
export const OPERATOR_IMAGE = process.env.E2E_OPERATOR_IMAGE ?? 'localhost/scoring-dev/scoring-operator:dev';
export const SCORER_IMAGE = process.env.E2E_SCORER_IMAGE ?? 'localhost/scoring-dev/scorer:dev';

/** The restricted profile's requirements, for the suite's own pods too. */
const RESTRICTED = {
  pod: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } },
  container: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
};

/** `kubectl apply -k config/default` with our images (scripts/install-operator.sh); waits until it is available. */
export function installOperator(): void {
  const run = spawnSync('bash', [join(ROOT, 'scripts/install-operator.sh'), OPERATOR_IMAGE, SCORER_IMAGE], {
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`scripts/install-operator.sh failed: ${run.stderr}`);
}

/**
 * What every test file of the suite starts from: the operator installed, the suite's namespace made anew (a run that
 * stopped half-way leaves it behind), the client pod, and a model store serving `files` (`key=path` serves the file
 * at path under the name key); returns the store's base URL.
 */
export async function startWorld(files: string[]): Promise<string> {
  kubectl(['delete', 'namespace', NS, '--wait=true', '--timeout=180s']);
  installOperator();
  makeNamespace();
  startClient();
  return startModelStore(files);
}

/** Deletes ScoringModels (their children go with them) and the suite's pods named `pods`. */
export function remove(models: string[], pods: string[] = []): void {
  if (models.length > 0) kubectl(['delete', 'sm', ...models, '-n', NS, '--ignore-not-found', '--wait=true']);
  if (pods.length > 0) kubectl(['delete', 'pod', ...pods, '-n', NS, '--ignore-not-found', '--wait=false']);
}

/** A URL of a Service of the suite's namespace (or `ns`), by its ClusterIP (port 80, the ScoringModels' default). */
export function url(service: string, path: string, ns = NS): string {
  return `http://${clusterIp(service, ns)}${path}`;
}

export async function waitReady(name: string, timeoutMs = 300_000, ns = NS): Promise<void> {
  await waitFor(`${name} Ready`, () => ready(name, ns)?.status === 'True', timeoutMs);
}

/** The suite's namespace (or `ns`, a test's own), under the restricted Pod Security profile. */
export function makeNamespace(ns = NS): void {
  k(['create', 'namespace', ns]);
  k([
    'label',
    'namespace',
    ns,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
}

/** Resolves once a load pod logs `serving`: its first request was answered. */
async function serving(name: string): Promise<void> {
  await waitFor(
    `${name} to be answered`,
    () => kubectl(['logs', '-n', NS, name]).stdout.split('\n').includes('serving'),
    180_000,
    500,
  );
}

/** A pod of the scorer image running `command`, meeting the restricted profile. */
function pod(
  name: string,
  command: string[],
  extra: { container?: Record<string, unknown>; spec?: Record<string, unknown> } = {},
  ns = NS,
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      securityContext: RESTRICTED.pod,
      containers: [
        {
          name: 'main',
          image: SCORER_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command,
          securityContext: RESTRICTED.container,
          ...extra.container,
        },
      ],
      ...extra.spec,
    },
  };
}

/** A static file server for model files (the scorer image's Node, files from a ConfigMap). */
const STORE = `
const http = require('http'), fs = require('fs'), path = require('path');
http.createServer((req, res) => {
  fs.readFile(path.join('/models', path.basename(req.url)), (err, body) => {
    if (err) { res.writeHead(404); res.end('not found'); return; }
    res.writeHead(200, { 'content-length': body.length }); res.end(body);
  });
}).listen(8080);`;

/** Serves `files` over http inside the cluster; returns the base URL (the Service's ClusterIP). */
export async function startModelStore(files: string[]): Promise<string> {
  k(['create', 'configmap', 'models', '-n', NS, ...files.map((f) => `--from-file=${f}`)]);
  const store = pod('model-store', ['node', '-e', STORE], {
    container: { ports: [{ containerPort: 8080 }], volumeMounts: [{ name: 'models', mountPath: '/models' }] },
    spec: { volumes: [{ name: 'models', configMap: { name: 'models' } }] },
  });
  k(['apply', '-f', '-'], JSON.stringify(store));
  k(['expose', 'pod', 'model-store', '-n', NS, '--port=80', '--target-port=8080']);
  k(['wait', '--for=condition=Ready', 'pod/model-store', '-n', NS, '--timeout=180s']);
  return `http://${clusterIp('model-store')}`;
}

export function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

export function clusterIp(service: string, ns = NS): string {
  return getJson(['service', service, '-n', ns])!.spec.clusterIP as string;
}

/** A long-lived pod the suite (in `ns`, a test's own namespace) sends single requests from (kubectl exec). */
export function startClient(ns = NS): void {
  k(['apply', '-f', '-'], JSON.stringify(pod('client', ['node', '-e', 'setInterval(() => {}, 1 << 30)'], {}, ns)));
  k(['wait', '--for=condition=Ready', 'pod/client', '-n', ns, '--timeout=180s']);
}

const SEND = `
const [url, body] = process.argv.slice(1);
fetch(url, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : {})
  .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
  .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e.message) })));`;

/** One request from inside the cluster (the client pod of `ns`); the reply's status and parsed JSON body. */
export function send(url: string, body?: unknown, ns = NS): { status: number; body: unknown } {
  const out = k(['exec', '-n', ns, 'client', '--', 'node', '-e', SEND, url, ...(body ? [JSON.stringify(body)] : [])]);
  const reply = JSON.parse(out) as { status: number; body: string };
  let parsed: unknown = reply.body;
  try {
    parsed = JSON.parse(reply.body);
  } catch {
    // not JSON: kept as text
  }
  return { status: reply.status, body: parsed };
}

/**
 * One gRPC call, with the scorer image's own @grpc/grpc-js and the .proto it ships (the client pod runs that image,
 * in /app); prints {code, body} or {code, details}.
 */
const GRPC_SEND = `
const grpc = require('@grpc/grpc-js'), loader = require('@grpc/proto-loader');
const [address, method, body] = process.argv.slice(1);
const options = { keepCase: true, longs: Number, defaults: true, oneofs: true };
const { GRPCInferenceService } = grpc.loadPackageDefinition(loader.loadSync('scorer/grpc/inference.proto', options)).inference;
const client = new GRPCInferenceService(address, grpc.credentials.createInsecure());
client[method](JSON.parse(body), { deadline: Date.now() + 10000 }, (err, res) => {
  console.log(JSON.stringify(err ? { code: err.code, details: err.details } : { code: 0, body: res }));
  client.close();
});`;

/**
 * One gRPC call from inside the cluster to a Service's gRPC port (8081) by its ClusterIP, retried while the address
 * is not routed yet (UNAVAILABLE, as for sendOnceServed); the status code and the answer.
 */
export function sendGrpcOnceServed(
  service: string,
  method: string,
  body: unknown,
): Promise<{ code: number; body?: unknown; details?: string }> {
  const address = `${clusterIp(service)}:8081`;
  return waitFor(
    `a gRPC answer from ${address}`,
    () => {
      const out = k(['exec', '-n', NS, 'client', '--', 'node', '-e', GRPC_SEND, address, method, JSON.stringify(body)]);
      const reply = JSON.parse(out) as { code: number; body?: unknown; details?: string };
      return reply.code !== 14 ? reply : undefined;
    },
    60_000,
    500,
  );
}

/**
 * The first request to a new Service: a model is Ready once its pods are, and kube-proxy programs the Service's
 * address a moment later (until then the address is unroutable). Retries network errors, never an HTTP answer.
 */
export function sendOnceServed(url: string, body?: unknown, ns = NS): Promise<{ status: number; body: unknown }> {
  return waitFor(
    `an answer from ${url}`,
    () => {
      const reply = send(url, body, ns);
      return reply.status !== 0 ? reply : undefined;
    },
    60_000,
    500,
  );
}

/**
 * POSTs `body` to `url` from `concurrency` loops for `seconds` (or, given `sample`, `{"X": [...]}` of `sample` rows
 * drawn at random from the rows `body` lists, anew for each request); prints "serving" at its first answer, and
 * {ok, failed, errors} when done.
 */
const LOAD = `
const [url, body, seconds, concurrency, sample] = process.argv.slice(1);
const rows = sample ? JSON.parse(body) : undefined;
const draw = () => JSON.stringify({ X: Array.from({ length: Number(sample) }, () => rows[Math.floor(Math.random() * rows.length)]) });
let ok = 0, failed = 0; const errors = {};
const end = Date.now() + Number(seconds) * 1000;
const fail = (what) => { failed++; errors[what] = (errors[what] ?? 0) + 1; };
async function loop() {
  while (Date.now() < end) {
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: rows ? draw() : body });
      await r.arrayBuffer();
      if (r.status === 200 && ok++ === 0) console.log('serving');
      if (r.status !== 200) fail('HTTP ' + r.status);
    } catch (e) { fail(String(e.cause?.code ?? e.message)); }
  }
}
process.on('SIGTERM', () => { console.log(JSON.stringify({ ok, failed, errors })); process.exit(0); });
Promise.all(Array.from({ length: Number(concurrency) }, loop)).then(() => console.log(JSON.stringify({ ok, failed, errors })));`;

export interface LoadResult {
  ok: number;
  failed: number;
  errors: Record<string, number>;
}

/**
 * A load generator pod sending for at most `seconds`; `serving()` waits until its requests are answered, `finish()`
 * ends it early (SIGTERM: it prints its summary and exits), `result()` waits for it to end and reads its summary,
 * `stop()` deletes it. With `sample`, `body` is a list of rows and each request scores `sample` of them, drawn at
 * random.
 */
export function startLoad(
  name: string,
  url: string,
  body: unknown,
  seconds: number,
  concurrency: number,
  sample?: number,
): { serving(): Promise<void>; result(): Promise<LoadResult>; finish(): void; stop(): void } {
  const args = [url, JSON.stringify(body), String(seconds), String(concurrency), ...(sample ? [String(sample)] : [])];
  const p = pod(name, ['node', '-e', LOAD, ...args], { spec: { restartPolicy: 'Never' } });
  k(['apply', '-f', '-'], JSON.stringify(p));
  return {
    serving: () => serving(name),
    async result() {
      await waitFor(
        `${name} to finish`,
        () => getJson(['pod', name, '-n', NS])?.status.phase === 'Succeeded',
        (seconds + 180) * 1000,
      );
      return JSON.parse(k(['logs', '-n', NS, name]).trim().split('\n').pop()!) as LoadResult;
    },
    finish() {
      k(['exec', '-n', NS, name, '--', 'node', '-e', "process.kill(1, 'SIGTERM')"]);
    },
    stop() {
      kubectl(['delete', 'pod', name, '-n', NS, '--wait=false']);
    },
  };
}

/** A pod that the restricted profile forbids (privileged), for a server-side dry run: admission must refuse it. */
export function privilegedPod(namespace: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'privileged-probe', namespace },
    spec: {
      containers: [
        {
          name: 'main',
          image: SCORER_IMAGE,
          command: ['node', '-e', ''],
          securityContext: { privileged: true },
        },
      ],
    },
  });
}

/** A ScoringModel's Ready condition. */
export function ready(name: string, ns = NS): { status: string; reason: string; message: string } | undefined {
  const conditions = getJson(['sm', name, '-n', ns])?.status?.conditions as
    { type: string; status: string; reason: string; message: string }[] | undefined;
  return conditions?.find((c) => c.type === 'Ready');
}

/**
 * POSTs `{"X": [row]}` of a row drawn at random from `rows` to `url` from `concurrency` loops for `seconds`, and
 * counts every answer in the 100 ms window it arrived in: answered, failed (not 200, or no answer), served by the
 * candidate (the scoring-served-by header), and wrong (a 200 whose score is not `expected`'s row within `tolerance`,
 * relative to max(1, |expected|)). Prints "serving" at its first 200, "progress <ms> <answered>" every second, and when
 * done (or on SIGTERM) a "window <ms> <answered> <failed> <candidate> <wrong>" line per window, then the totals as
 * JSON with the first answer of each kind of failure.
 */
const RECORDED_LOAD = `
const [url, rowsJson, expectedJson, tolerance, seconds, concurrency] = process.argv.slice(1);
const rows = JSON.parse(rowsJson), expected = JSON.parse(expectedJson), tol = Number(tolerance);
const WINDOW_MS = 100, SERVED_BY = ${JSON.stringify(SERVED_BY_HEADER)};
const windows = new Map(), errors = {}, samples = {};
const totals = { answered: 0, ok: 0, failed: 0, candidate: 0, wrong: 0 };
const end = Date.now() + Number(seconds) * 1000;
const off = (a, e) => {
  if (!Array.isArray(e)) return typeof a === 'number' ? Math.abs(a - e) / Math.max(1, Math.abs(e)) : Infinity;
  if (!Array.isArray(a) || a.length !== e.length) return Infinity;
  return e.reduce((worst, v, i) => Math.max(worst, off(a[i], v)), 0);
};
function record(failure, candidate, wrong) {
  const t = Math.floor(Date.now() / WINDOW_MS) * WINDOW_MS;
  let w = windows.get(t);
  if (!w) windows.set(t, (w = [0, 0, 0, 0]));
  w[0]++; totals.answered++;
  if (failure) { w[1]++; totals.failed++; errors[failure.kind] = (errors[failure.kind] ?? 0) + 1; samples[failure.kind] ??= failure.body.slice(0, 500); }
  else if (totals.ok++ === 0) console.log('serving');
  if (candidate) { w[2]++; totals.candidate++; }
  if (wrong) { w[3]++; totals.wrong++; }
}
async function loop() {
  while (Date.now() < end) {
    const i = Math.floor(Math.random() * rows.length);
    try {
      const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ X: [rows[i]] }) });
      const body = await r.text();
      const candidate = r.headers.get(SERVED_BY) === 'candidate';
      if (r.status !== 200) { record({ kind: 'HTTP ' + r.status, body }, candidate, false); continue; }
      let wrong = true;
      try { wrong = !(off(JSON.parse(body).score, [expected[i]]) <= tol); } catch {}
      record(undefined, candidate, wrong);
    } catch (e) { const kind = String(e.cause?.code ?? e.message); record({ kind, body: kind }, false, false); }
  }
}
function report() {
  const lines = [...windows].map(([t, w]) => 'window ' + t + ' ' + w.join(' '));
  lines.push(JSON.stringify({ ...totals, errors, samples }));
  process.stdout.write(lines.join('\\n') + '\\n', () => process.exit(0));
}
setInterval(() => console.log('progress ' + Date.now() + ' ' + totals.answered), 1000);
process.on('SIGTERM', report);
Promise.all(Array.from({ length: Number(concurrency) }, loop)).then(report);`;

/** Counts of the answers that arrived in one window of a recorded load. */
export interface LoadWindow {
  /** The window's start, ms since the epoch (the node's clock, which is this machine's). */
  t: number;
  answered: number;
  failed: number;
  candidate: number;
  wrong: number;
}

export const LOAD_WINDOW_MS = 100;

export interface RecordedLoad {
  answered: number;
  ok: number;
  failed: number;
  candidate: number;
  wrong: number;
  errors: Record<string, number>;
  /** The first answer of each kind of failure (its body, or the network error). */
  samples: Record<string, string>;
  windows: LoadWindow[];
}

/** The windows' counts summed over the windows that lie wholly within [from, to] (ms since the epoch). */
export function between(windows: LoadWindow[], from: number, to: number): Omit<LoadWindow, 't'> {
  const sum = { answered: 0, failed: 0, candidate: 0, wrong: 0 };
  for (const w of windows) {
    if (w.t < from || w.t + LOAD_WINDOW_MS > to) continue;
    sum.answered += w.answered;
    sum.failed += w.failed;
    sum.candidate += w.candidate;
    sum.wrong += w.wrong;
  }
  return sum;
}

/**
 * A load pod scoring single rows drawn from `rows` (RECORDED_LOAD above) for at most `seconds`: `serving()` waits for
 * its first 200, `progress()` reads its clock and count (undefined before its first), `finish()` ends it (SIGTERM: it
 * reports), `result()` waits for it to end and reads its report, `stop()` deletes it.
 */
export function startRecordedLoad(
  name: string,
  target: string,
  rows: unknown[],
  expected: unknown[],
  tolerance: number,
  seconds: number,
  concurrency: number,
): {
  serving(): Promise<void>;
  progress(): { at: number; answered: number } | undefined;
  finish(): void;
  result(): Promise<RecordedLoad>;
  stop(): void;
} {
  const args = [target, JSON.stringify(rows), JSON.stringify(expected), String(tolerance), String(seconds)];
  const p = pod(name, ['node', '-e', RECORDED_LOAD, ...args, String(concurrency)], {
    spec: { restartPolicy: 'Never' },
  });
  k(['apply', '-f', '-'], JSON.stringify(p));
  return {
    serving: () => serving(name),
    progress() {
      const last = kubectl(['logs', '-n', NS, name, '--tail=3'])
        .stdout.split('\n')
        .filter((l) => l.startsWith('progress '))
        .pop();
      if (!last) return undefined;
      const [, at, answered] = last.split(' ');
      return { at: Number(at), answered: Number(answered) };
    },
    finish() {
      k(['exec', '-n', NS, name, '--', 'node', '-e', "process.kill(1, 'SIGTERM')"]);
    },
    async result() {
      await waitFor(
        `${name} to finish`,
        () => getJson(['pod', name, '-n', NS])?.status.phase === 'Succeeded',
        (seconds + 180) * 1000,
      );
      const lines = k(['logs', '-n', NS, name]).trim().split('\n');
      const windows = lines
        .filter((l) => l.startsWith('window '))
        .map((l) => {
          const [t, answered, failed, candidate, wrong] = l.slice('window '.length).split(' ').map(Number);
          return { t: t!, answered: answered!, failed: failed!, candidate: candidate!, wrong: wrong! };
        })
        .sort((a, b) => a.t - b.t);
      return { ...(JSON.parse(lines.pop()!) as Omit<RecordedLoad, 'windows'>), windows };
    },
    stop() {
      kubectl(['delete', 'pod', name, '-n', NS, '--wait=false']);
    },
  };
}

/** status.rollout, as far as the suite reads it (operator/api/v1alpha1.ts rolloutStatusSchema). */
export interface RolloutStatus {
  phase: 'Shadow' | 'Canary' | 'Paused' | 'Promoting' | 'Promoted' | 'RolledBack' | 'Aborted';
  revision: string;
  stableRevision: string;
  step: number;
  steps: number;
  weight: number;
  shadowPercent: number;
  startedAt?: string;
  stepStartedAt?: string;
  finishedAt?: string;
  analysis?: {
    pods: { answered: number; asked: number };
    candidate: { requests: number; errorRate: number; p99Ms?: number };
    stable: { requests: number; errorRate: number; p99Ms?: number };
    agreement?: { rows: number; share: number; meanAbsDiff?: number };
  };
  message: string;
}

/**
 * A run of polls that saw the same rollout state (phase, step, weight, shadow percent; undefined: no rollout yet).
 * The state began between the previous run's last poll's sending and this run's first poll's answer, and ended
 * between this run's last poll's sending and the next run's first answer (ms since the epoch, this machine's clock).
 */
export interface RolloutRun {
  key: string;
  first: RolloutStatus | undefined;
  last: RolloutStatus | undefined;
  firstSentAt: number;
  firstSeenAt: number;
  lastSentAt: number;
  lastSeenAt: number;
}

export function rolloutKey(r: RolloutStatus | undefined): string {
  return r ? `${r.phase} step ${r.step}/${r.steps} weight ${r.weight} shadow ${r.shadowPercent}` : 'no rollout';
}

const execFileAsync = promisify(execFile);

/**
 * Polls a ScoringModel's status.rollout every `intervalMs` (without blocking the test, as kubectl through spawnSync
 * would) and keeps the runs of polls that saw the same state: when each state began and ended, to attribute the
 * load's windows to steps.
 */
export function watchRollout(
  name: string,
  intervalMs = 250,
): { runs(): RolloutRun[]; latest(): RolloutStatus | undefined; stop(): Promise<void> } {
  const runs: RolloutRun[] = [];
  let stopped = false;
  const poll = async () => {
    while (!stopped) {
      const sentAt = Date.now();
      try {
        const { stdout } = await execFileAsync('kubectl', ['get', 'sm', name, '-n', NS, '-o', 'json'], {
          env: { ...process.env, KUBECONFIG: ADMIN },
          maxBuffer: 16 << 20,
        });
        const seenAt = Date.now();
        const rollout = (JSON.parse(stdout) as { status?: { rollout?: RolloutStatus } }).status?.rollout;
        const key = rolloutKey(rollout);
        const run = runs.at(-1);
        if (run?.key === key) Object.assign(run, { last: rollout, lastSentAt: sentAt, lastSeenAt: seenAt });
        else
          runs.push({
            key,
            first: rollout,
            last: rollout,
            firstSentAt: sentAt,
            firstSeenAt: seenAt,
            lastSentAt: sentAt,
            lastSeenAt: seenAt,
          });
      } catch {
        // A poll that failed (the API server busy) tells nothing: the next one does.
      }
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  };
  const done = poll();
  return {
    runs: () => runs,
    latest: () => runs.at(-1)?.last,
    async stop() {
      stopped = true;
      await done;
    },
  };
}
