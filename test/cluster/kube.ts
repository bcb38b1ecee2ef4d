/** Helpers for the cluster suite: kubectl as admin, waiting on the world, the operator as a child process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCORER_PORT } from '../../contract/env.js';
import { kubeconfigYaml } from '../../harness/kubeconfig.js';
import { freePort } from '../../harness/net.js';
import { StopWaiting, waitFor } from '../../harness/wait.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The cluster suite's control plane, or (the e2e suite) whatever cluster KUBECONFIG names. */
export const ADMIN = process.env.TEST_KUBECONFIG ?? process.env.KUBECONFIG!;
export const DIR = process.env.TEST_CLUSTER_DIR!;

export function kubectl(
  args: string[],
  input?: string,
  kubeconfig = ADMIN,
): { status: number; stdout: string; stderr: string } {
  const run = spawnSync('kubectl', args, {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    env: { ...process.env, KUBECONFIG: kubeconfig },
  });
  return { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
}

/** kubectl that must succeed; returns stdout. */
export function k(args: string[], input?: string): string {
  const run = kubectl(args, input);
  if (run.status !== 0) throw new Error(`kubectl ${args.join(' ')} failed: ${run.stderr}`);
  return run.stdout;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- kubectl JSON, read loosely by the tests
export function getJson<T = Record<string, any>>(args: string[]): T | undefined {
  const run = kubectl(['get', ...args, '-o', 'json']);
  if (run.status !== 0) {
    if (/NotFound/.test(run.stderr)) return undefined;
    throw new Error(`kubectl get ${args.join(' ')} failed: ${run.stderr}`);
  }
  return JSON.parse(run.stdout) as T;
}

export { waitFor };

/**
 * The RBAC authorizer learns of bindings from its informers (at start-up, and again after a kube-apiserver
 * restart): until it has, the operator would be refused, and log "forbidden", which the suite counts as a missing verb.
 */
export async function waitForAuthorizer(timeoutMs = 60_000): Promise<void> {
  const sa = OPERATOR_USER;
  await waitFor(
    'the RBAC authorizer to know the operator',
    () =>
      [
        ['list', 'scoringmodels.scoring.dev', '-A'],
        ['patch', 'deployments', '-A'],
        ['create', 'leases', '-n', 'scoring-system'],
      ].every((check) => kubectl(['auth', 'can-i', '--as', sa, ...check]).stdout.trim() === 'yes'),
    timeoutMs,
  );
}

let installed = false;
/** The ServiceAccount the tests scrape the operator's /metrics as, and its token. */
const SCRAPER = 'metrics-scraper';
let scraperToken = '';
/** The CRD from crds/ and the RBAC from config/rbac, applied with the real API server; a token for the operator. */
export async function installOperatorPrerequisites(): Promise<string> {
  if (!installed) {
    k(['apply', '-f', 'config/default/namespace.yaml']);
    k(['apply', '-k', 'config/crd']);
    // Polled, not `kubectl wait`: that fails at once on a CRD whose status has no conditions yet.
    await waitFor('the CRD to be established', () =>
      getJson(['crd', 'scoringmodels.scoring.dev'])?.status?.conditions?.some(
        (c: { type: string; status: string }) => c.type === 'Established' && c.status === 'True',
      ),
    );
    k(['apply', '-n', 'scoring-system', '-f', '-'], k(['kustomize', 'config/rbac']));
    // The tests' scraper of the operator's /metrics, as a Prometheus would be: bound to the metrics-reader role.
    k(
      ['apply', '-f', '-'],
      k(['create', 'serviceaccount', SCRAPER, '-n', 'scoring-system', '--dry-run=client', '-o', 'yaml']),
    );
    k(
      ['apply', '-f', '-'],
      k([
        'create',
        'clusterrolebinding',
        SCRAPER,
        '--clusterrole=scoring-operator-metrics-reader',
        `--serviceaccount=scoring-system:${SCRAPER}`,
        '--dry-run=client',
        '-o',
        'yaml',
      ]),
    );
    await waitForAuthorizer();
    await waitFor(
      'the RBAC authorizer to know the scraper',
      () =>
        kubectl([
          'auth',
          'can-i',
          '--as',
          `system:serviceaccount:scoring-system:${SCRAPER}`,
          'get',
          '/metrics',
        ]).stdout.trim() === 'yes',
    );
    scraperToken = k(['create', 'token', SCRAPER, '-n', 'scoring-system', '--duration=2h']).trim();
    installed = true;
  }
  const token = k(['create', 'token', 'scoring-operator', '-n', 'scoring-system', '--duration=2h']).trim();
  const server = /server: (\S+)/.exec(readFileSync(ADMIN, 'utf8'))![1]!;
  const path = join(DIR, 'operator.kubeconfig');
  writeFileSync(path, kubeconfigYaml(server, join(DIR, 'ca.crt'), { token }));
  return path;
}

export interface OperatorProcess {
  child: ChildProcess;
  /** Its POD_NAME: the identity it holds the Lease under. */
  identity: string | undefined;
  metricsUrl: string;
  /** The health probes' base URL (plain HTTP). */
  probesUrl: string;
  logs(): Record<string, unknown>[];
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `node dist/operator/main.js` as the operator's ServiceAccount (not admin). */
export async function startOperator(kubeconfig: string, env: Record<string, string> = {}): Promise<OperatorProcess> {
  const port = await freePort();
  const metricsPort = await freePort();
  // Each operator its own routing port, so that several run at once (the default, 8082, is a pod's).
  const routingPort = await freePort();
  const child = spawn(process.execPath, [join(ROOT, 'dist/operator/main.js')], {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: kubeconfig,
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      ROUTING_PORT: String(routingPort),
      ROUTING_URL: `http://127.0.0.1:${routingPort}`,
      LEASE_NAMESPACE: 'scoring-system',
      SCORER_IMAGE: 'scoring.dev/scorer:test',
      LOG_LEVEL: 'info',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  const metricsUrl = `https://127.0.0.1:${metricsPort}/metrics`;
  await waitFor('the operator to be ready', async () => {
    if (child.exitCode !== null) throw new StopWaiting(`operator exited ${child.exitCode}: ${out}`);
    return (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok;
  });
  return {
    child,
    identity: env.POD_NAME,
    metricsUrl,
    probesUrl: `http://127.0.0.1:${port}`,
    logs: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code] = await exited;
      return code as number | null;
    },
  };
}

/**
 * A GET of the operator's /metrics with `token` (none: no Authorization header), over a connection of its own: a
 * kept-alive one can be closed by the server while the tests' kubectl (spawnSync) blocks this process, and the next
 * request on it then fails ("other side closed"). The certificate is the operator's self-signed one.
 */
export function scrape(op: OperatorProcess, token?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    get(op.metricsUrl, { agent: false, rejectUnauthorized: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The operator's /metrics, scraped as the metrics-reader ServiceAccount. */
export async function metricsOf(op: OperatorProcess): Promise<string> {
  const { status, text } = await scrape(op, scraperToken);
  if (status !== 200) throw new Error(`/metrics: ${status} ${text}`);
  return text;
}

/** The operator's count of write requests it sent, from its /metrics. */
export async function writes(op: OperatorProcess): Promise<number> {
  const text = await metricsOf(op);
  return [...text.matchAll(/^scoring_operator_api_writes_total\{[^}]*\} (\d+)/gm)].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

export function scoringModel(name: string, spec: Record<string, unknown>, namespace = 'default'): string {
  return JSON.stringify({
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name, namespace },
    spec,
  });
}

/** The operator's ServiceAccount, as the API server names it in audit entries and impersonation. */
export const OPERATOR_USER = 'system:serviceaccount:scoring-system:scoring-operator';

export interface AuditEvent {
  user: { username: string };
  verb: string;
  stageTimestamp: string;
  objectRef?: { resource?: string; namespace?: string; name?: string };
}

/** The audit log's complete entries: the API server may be half-way through writing the last line. */
export function audit(): AuditEvent[] {
  const text = readFileSync(join(DIR, 'audit.log'), 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** Writes a pod's status as a kubelet would (no kubelet runs in the cluster suite). */
export function setPodStatus(pod: string, status: Record<string, unknown>, namespace = 'default'): void {
  k(['patch', pod, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
}

/** A running scorer container whose readiness probe passes, as a kubelet reports it. */
export function readyPodStatus(image = 'scoring.dev/scorer:test'): Record<string, unknown> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    phase: 'Running',
    conditions: [
      { type: 'Ready', status: 'True', lastTransitionTime: now },
      { type: 'ContainersReady', status: 'True', lastTransitionTime: now },
    ],
    containerStatuses: [
      {
        name: 'scorer',
        image,
        imageID: '',
        ready: true,
        started: true,
        restartCount: 0,
        state: { running: { startedAt: now } },
      },
    ],
  };
}

/** A scorer container that exited with `message` and waits to start again, as a kubelet reports it. */
export function crashedPodStatus(message: string, restartCount = 3): Record<string, unknown> {
  return {
    containerStatuses: [
      {
        name: 'scorer',
        image: 'scoring.dev/scorer:test',
        imageID: '',
        ready: false,
        restartCount,
        state: { waiting: { reason: 'CrashLoopBackOff' } },
        lastState: { terminated: { exitCode: 1, reason: 'Error', message: `${message}\n` } },
      },
    ],
  };
}

/** The events recorded about a ScoringModel, as `type Condition=Reason`, sorted (two can share a microsecond). */
export function eventsOf(name: string, namespace = 'default'): string[] {
  return (
    getJson(['events.events.k8s.io', '-n', namespace])!.items as {
      regarding: { kind: string; name: string };
      type: string;
      action: string;
      reason: string;
    }[]
  )
    .filter((e) => e.regarding.kind === 'ScoringModel' && e.regarding.name === name)
    .map((e) => `${e.type} ${e.action}=${e.reason}`)
    .sort();
}
/**
 * Addresses 127.0.0.N (N from 2: Linux routes all of 127/8 to the loopback interface) on which `port` can be bound
 * now: the scorers listen on the port the Deployment declares, as in a pod.
 */
export async function freeLoopbackAddresses(count: number, port: number): Promise<string[]> {
  const found: string[] = [];
  for (let n = 2; n < 255 && found.length < count; n++) {
    const host = `127.0.0.${n}`;
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, host, () => resolve(true));
    });
    if (bound) {
      await new Promise((resolve) => server.close(resolve));
      found.push(host);
    }
  }
  if (found.length < count) throw new Error(`port ${port} is taken on every loopback address tried`);
  return found;
}

/** A scorer process standing in for a pod: `node dist/scorer/main.js` on `host`, at the port a Deployment declares. */
export interface ScorerProcess {
  host: string;
  url: string;
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/scorer/main.js` on `host`:SCORER_PORT with `env` (a pod template's, say); resolves once ready. */
export async function startScorerProcess(host: string, env: Record<string, string>): Promise<ScorerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'dist/scorer/main.js')], {
    env: {
      PATH: process.env.PATH,
      LOG_LEVEL: 'warn',
      TERMINATION_LOG: join(DIR, `scorer-${host}.termination-log`),
      ...env,
      HOST: host,
      PORT: String(SCORER_PORT),
      // The cluster tests reach the scorers over HTTP only; gRPC on any free port, so that only 8080 must be free.
      GRPC_PORT: '0',
      METRICS_PORT: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = once(child, 'exit');
  const url = `http://${host}:${SCORER_PORT}`;
  await waitFor(`the scorer on ${host} to be ready`, async () => {
    if (child.exitCode !== null) throw new StopWaiting(`the scorer on ${host} exited ${child.exitCode}: ${out}`);
    return (await fetch(`${url}/v2/health/ready`).catch(() => undefined))?.ok;
  });
  return {
    host,
    url,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
