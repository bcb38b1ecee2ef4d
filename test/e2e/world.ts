/**
 * The e2e suite's view of a cluster: any cluster KUBECONFIG names (the local node cluster, kind). Everything it
 * sends goes from a pod inside the cluster (to a Service's ClusterIP, or to a status URL through cluster DNS), so
 * it needs no route from the test machine.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, getJson, k, kubectl, waitFor } from '../cluster/kube.js';

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

/** The suite's namespace, under the restricted Pod Security profile. */
export function makeNamespace(): void {
  k(['create', 'namespace', NS]);
  k([
    'label',
    'namespace',
    NS,
    'pod-security.kubernetes.io/enforce=restricted',
    'pod-security.kubernetes.io/warn=restricted',
  ]);
}

/** A pod of the scorer image running `command`, meeting the restricted profile. */
function pod(
  name: string,
  command: string[],
  extra: { container?: Record<string, unknown>; spec?: Record<string, unknown> } = {},
): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NS, labels: { app: name } },
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

export function clusterIp(service: string): string {
  return getJson(['service', service, '-n', NS])!.spec.clusterIP as string;
}

/** A long-lived pod the suite sends single requests from (kubectl exec). */
export function startClient(): void {
  k(['apply', '-f', '-'], JSON.stringify(pod('client', ['node', '-e', 'setInterval(() => {}, 1 << 30)'])));
  k(['wait', '--for=condition=Ready', 'pod/client', '-n', NS, '--timeout=180s']);
}

const SEND = `
const [url, body] = process.argv.slice(1);
fetch(url, body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : {})
  .then(async (r) => console.log(JSON.stringify({ status: r.status, body: await r.text() })))
  .catch((e) => console.log(JSON.stringify({ status: 0, body: String(e.cause?.code ?? e.message) })));`;

/** One request from inside the cluster; the reply's status and parsed JSON body. */
export function send(url: string, body?: unknown): { status: number; body: unknown } {
  const out = k(['exec', '-n', NS, 'client', '--', 'node', '-e', SEND, url, ...(body ? [JSON.stringify(body)] : [])]);
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
 * The first request to a new Service: a model is Ready once its pods are, and kube-proxy programs the Service's
 * address a moment later (until then the address is unroutable). Retries network errors, never an HTTP answer.
 */
export function sendOnceServed(url: string, body?: unknown): Promise<{ status: number; body: unknown }> {
  return waitFor(
    `an answer from ${url}`,
    () => {
      const reply = send(url, body);
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
    async serving() {
      await waitFor(
        `${name} to be answered`,
        () => kubectl(['logs', '-n', NS, name]).stdout.split('\n').includes('serving'),
        180_000,
        500,
      );
    },
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
export function ready(name: string): { status: string; reason: string; message: string } | undefined {
  const conditions = getJson(['sm', name, '-n', NS])?.status?.conditions as
    { type: string; status: string; reason: string; message: string }[] | undefined;
  return conditions?.find((c) => c.type === 'Ready');
}
