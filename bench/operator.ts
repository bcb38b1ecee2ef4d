/**
 * `npm run bench:operator`: the operator on the real control plane (harness/controlplane.ts).
 *
 * For N ScoringModels (BENCH_SIZES, default "100,1000"): the time from the first create until every one has its
 * Deployment, Service and a written status; the operator's API requests per object (reads and writes, from the API
 * server's audit log; its writes checked against its own metrics); its RSS. Then, for the same writes, a bare client loop (server-side apply
 * of the same objects with the same concurrency): the API server's own limit on this machine, and the ratio.
 * Then a quiet period (BENCH_QUIET_SECONDS, default 30; 0 skips it and the settling before it): the operator's
 * writes must be 0, and the script exits 1 when they are not. Then the restart, for the N of BENCH_RESTART_SIZE (default 1000, when it is one of the sizes):
 * a new operator started over its N models, their children in place, and again with their children deleted: the
 * time from its start until it has reconciled every model and every child is there, against the bare loop. Prints
 * figures: RSS (and its peak) and JS heap after each step.
 */
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseSpec, type ScoringModel } from '../operator/api/v1alpha1.js';
import { PooledKubeConfig } from '../operator/kubeconfig.js';
import { desiredDeployment } from '../operator/desired/deployment.js';
import { desiredService } from '../operator/desired/service.js';
import { kubectlOn, startControlPlane, type ControlPlane } from '../harness/controlplane.js';
import { freePort } from '../harness/net.js';
import { installOperator } from '../harness/operator-install.js';
import { repoRoot } from '../harness/paths.js';
import { waitFor } from '../harness/wait.js';

const SIZES = (process.env.BENCH_SIZES ?? '100,1000').split(',').map(Number);
const QUIET_SECONDS = Number(process.env.BENCH_QUIET_SECONDS ?? 30);
const RESTART_SIZE = Number(process.env.BENCH_RESTART_SIZE ?? 1000);
const WORKERS = 4;
const CONVERGE_TIMEOUT_MS = 15 * 60_000;
const ROOT = repoRoot();
const SA_USER = 'system:serviceaccount:scoring-system:scoring-operator';

const kubectl = kubectlOn;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rssMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') / 1024, peak: kib('VmHWM') / 1024 };
}

interface AuditEvent {
  auditID: string;
  user: { username: string };
  stageTimestamp: string;
  verb: string;
  requestURI: string;
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
}

const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** The operator's writes since `since` (Lease renewals aside), from the API server's audit log. */
function operatorWritesInAudit(cp: ControlPlane, since: Date): AuditEvent[] {
  return operatorRequestsInAudit(cp, since).filter((e) => WRITE_VERBS.has(e.verb));
}

/**
 * Every request of the operator's since `since` (Lease traffic aside), once each: a watch has two entries (response
 * started, complete).
 */
function operatorRequestsInAudit(cp: ControlPlane, since: Date): AuditEvent[] {
  const seen = new Set<string>();
  return (
    readFileSync(cp.auditLog, 'utf8')
      .split('\n')
      .filter(Boolean)
      // The API server may be half-way through a line.
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as AuditEvent];
        } catch {
          return [];
        }
      })
      .filter(
        (e) => e.user.username === SA_USER && new Date(e.stageTimestamp) >= since && e.objectRef?.resource !== 'leases',
      )
      .filter((e) => !seen.has(e.auditID) && seen.add(e.auditID))
  );
}

/** "patch deployments 100, patch scoringmodels/status 100, ...": what the writes were. */
function byKind(events: AuditEvent[]): string {
  const counts = new Map<string, number>();
  for (const e of events) {
    const what = e.objectRef?.resource
      ? `${e.verb} ${e.objectRef.resource}${e.objectRef.subresource ? `/${e.objectRef.subresource}` : ''}`
      : `${e.verb} ${e.requestURI}`;
    counts.set(what, (counts.get(what) ?? 0) + 1);
  }
  return [...counts].map(([what, c]) => `${what} ${c}`).join(', ');
}

async function operatorMetric(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+(?:\\.\\d+)?)`, 'gm'))].reduce(
    (n, m) => n + Number(m[1]),
    0,
  );
}

function manifest(namespace: string, n: number): string {
  const items = Array.from({ length: n }, (_, i) => ({
    apiVersion: 'scoring.dev/v1alpha1',
    kind: 'ScoringModel',
    metadata: { name: `m${i}`, namespace },
    spec: { model: { uri: `https://models.example.com/m${i}.onnx` } },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

/** Polls until every ScoringModel in `namespace` has a Deployment, a Service and a written status. */
async function converged(kc: KubeConfig, namespace: string, n: number): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  let last = '';
  await waitFor(
    `${namespace} to converge`,
    async () => {
      const [d, s, sm] = await Promise.all([
        apps.listNamespacedDeployment({ namespace }),
        core.listNamespacedService({ namespace }),
        custom.listNamespacedCustomObject({
          group: 'scoring.dev',
          version: 'v1alpha1',
          plural: 'scoringmodels',
          namespace,
        }),
      ]);
      const withStatus = (sm.items as { status?: { observedGeneration?: number } }[]).filter(
        (x) => x.status?.observedGeneration,
      );
      last = `${d.items.length} Deployments, ${s.items.length} Services, ${withStatus.length} statuses of ${n}`;
      return d.items.length === n && s.items.length === n && withStatus.length === n;
    },
    CONVERGE_TIMEOUT_MS,
    250,
  ).catch(() => {
    throw new Error(`${namespace}: not converged after ${CONVERGE_TIMEOUT_MS / 1000} s: ${last}`);
  });
}

/** The operator's writes, done by a plain client: SSA of each child and of status, WORKERS at a time. */
async function bareLoop(kc: KubeConfig, namespace: string): Promise<number> {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const models = (
    (
      await custom.listNamespacedCustomObject({
        group: 'scoring.dev',
        version: 'v1alpha1',
        plural: 'scoringmodels',
        namespace,
      })
    ).items as ScoringModel[]
  ).map((o) => ({ ...o, spec: (parseSpec(o.spec) as { spec: ScoringModel['spec'] }).spec }));
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < models.length) {
      const sm = models[next++]!;
      const copy = { ...sm, metadata: { ...sm.metadata, name: `bare-${sm.metadata.name}` } };
      for (const child of [desiredDeployment(copy, { scorerImage: 'scorer:bench' }), desiredService(copy)]) {
        await objects.patch(
          child as KubernetesObject,
          undefined,
          undefined,
          'bench-bare',
          true,
          PatchStrategy.ServerSideApply,
        );
      }
      await custom.patchNamespacedCustomObjectStatus(
        {
          group: 'scoring.dev',
          version: 'v1alpha1',
          plural: 'scoringmodels',
          namespace,
          name: sm.metadata.name,
          body: {
            apiVersion: 'scoring.dev/v1alpha1',
            kind: 'ScoringModel',
            metadata: { name: sm.metadata.name, namespace },
            status: { url: 'bench' },
          },
          fieldManager: 'bench-bare',
          force: true,
        },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      );
    }
  };
  await Promise.all(Array.from({ length: WORKERS }, worker));
  return (performance.now() - started) / 1000;
}

/**
 * The Node flags the operator's image starts it with (Dockerfile.operator's ENTRYPOINT, between `node` and the
 * script), so that the bench measures the process as it ships.
 */
function operatorNodeFlags(): string[] {
  const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(join(ROOT, 'Dockerfile.operator'), 'utf8'))?.[1];
  const [node, ...args] = entrypoint ? (JSON.parse(entrypoint) as string[]) : [];
  const script = args.indexOf('dist/operator/main.js');
  if (node !== 'node' || script < 0)
    throw new Error(`Dockerfile.operator: no ENTRYPOINT ["node", ..., "dist/operator/main.js"]`);
  return args.slice(0, script);
}

interface RunningOperator {
  child: ReturnType<typeof spawn>;
  metrics: string;
}

/** The operator as a process of its own, once ready (its caches synced); `env` adds to its settings. */
async function startOperator(kubeconfig: string, env: Record<string, string> = {}): Promise<RunningOperator> {
  const port = await freePort();
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [...operatorNodeFlags(), join(ROOT, 'dist/operator/main.js')], {
    env: {
      PATH: process.env.PATH,
      KUBECONFIG: kubeconfig,
      PORT: String(port),
      // The benchmark reads /metrics as often as it likes, over plain HTTP: no access reviews in what it measures.
      METRICS_PORT: String(metricsPort),
      METRICS_SECURE: 'false',
      ROUTING_PORT: String(await freePort()),
      LEASE_NAMESPACE: 'scoring-system',
      WORKERS: String(WORKERS),
      LOG_LEVEL: 'warn',
      POD_NAME: 'bench',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitFor(
    'the operator to be ready',
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok,
    60_000,
    100,
  );
  return { child, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
}

async function stopOperator(child: ReturnType<typeof spawn>): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** "RSS 123 MiB (peak 130 MiB), JS heap used 45 MiB of 80 MiB, external 9 MiB" of a running operator. */
async function memoryLine(child: ReturnType<typeof spawn>, metrics: string): Promise<string> {
  const memory = rssMiB(child.pid!);
  const mib = async (name: string) => ((await operatorMetric(metrics, name)) / 2 ** 20).toFixed(0);
  return (
    `RSS ${memory.rss.toFixed(0)} MiB (peak ${memory.peak.toFixed(0)} MiB), ` +
    `JS heap used ${await mib('nodejs_heap_size_used_bytes')} MiB of ${await mib('nodejs_heap_size_total_bytes')} MiB, ` +
    `external ${await mib('nodejs_external_memory_bytes')} MiB`
  );
}

/** Deletes every Deployment and Service of `namespace`, 16 at a time (kubectl deletes one by one, and waits). */
async function deleteChildren(kc: KubeConfig, namespace: string): Promise<void> {
  const apps = kc.makeApiClient(AppsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const deletes = [
    ...(await apps.listNamespacedDeployment({ namespace })).items.map(
      (d) => () => apps.deleteNamespacedDeployment({ namespace, name: d.metadata!.name! }),
    ),
    ...(await core.listNamespacedService({ namespace })).items.map(
      (s) => () => core.deleteNamespacedService({ namespace, name: s.metadata!.name! }),
    ),
  ];
  let next = 0;
  const worker = async () => {
    while (next < deletes.length) await deletes[next++]!();
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await waitFor(
    `the Deployments and Services of ${namespace} to be gone`,
    async () =>
      (await apps.listNamespacedDeployment({ namespace })).items.length +
        (await core.listNamespacedService({ namespace })).items.length ===
      0,
    CONVERGE_TIMEOUT_MS,
    250,
  );
}

/**
 * A new operator over the N models of `namespace` (it watches that namespace only): the seconds from its start until
 * it has reconciled each model once and each has its Deployment, Service and status; its writes; its memory.
 */
async function restart(
  kc: KubeConfig,
  kubeconfig: string,
  namespace: string,
  n: number,
): Promise<{ seconds: number; writes: number; memory: string }> {
  const started = performance.now();
  const { child, metrics } = await startOperator(kubeconfig, { WATCH_NAMESPACES: namespace });
  try {
    await waitFor(
      `the restarted operator to reconcile ${n} models`,
      async () => (await operatorMetric(metrics, 'controller_runtime_reconcile_total')) >= n,
      CONVERGE_TIMEOUT_MS,
      100,
    );
    await converged(kc, namespace, n);
    const seconds = (performance.now() - started) / 1000;
    const writes = await operatorMetric(metrics, 'scoring_operator_api_writes_total');
    return { seconds, writes, memory: await memoryLine(child, metrics) };
  } finally {
    await stopOperator(child);
  }
}

async function main(): Promise<void> {
  const built = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  if (built.status !== 0) throw new Error('npm run build failed');
  const cp = await startControlPlane({ auditReadsBy: SA_USER });
  // The operator's own pooled client, so that the bare loop is the API server's limit, not client-node's.
  const kc = new PooledKubeConfig();
  kc.loadFromFile(cp.kubeconfig);
  let operator: ReturnType<typeof spawn> | undefined;
  try {
    const operatorKubeconfig = installOperator(cp, join(cp.dir, 'operator.kubeconfig'));
    const first = await startOperator(operatorKubeconfig);
    operator = first.child;
    const { metrics } = first;
    console.log(
      `operator benchmark: control plane ${cp.server} (kube-apiserver v1.34.4, etcd 3.6, one machine), ${WORKERS} workers, ` +
        `node ${[...operatorNodeFlags(), 'dist/operator/main.js'].join(' ')} (Dockerfile.operator)\n`,
    );

    const results: { n: number; seconds: number; line: string }[] = [];
    for (const n of SIZES) {
      const ns = `bench-${n}`;
      kubectl(cp, ['create', 'namespace', ns]);
      const writesBefore = await operatorMetric(metrics, 'scoring_operator_api_writes_total');
      const since = new Date();
      const started = performance.now();
      kubectl(cp, ['apply', '--server-side', '-f', '-'], manifest(ns, n));
      const created = (performance.now() - started) / 1000;
      await converged(kc, ns, n);
      const seconds = (performance.now() - started) / 1000;
      await sleep(1000);
      const writes = (await operatorMetric(metrics, 'scoring_operator_api_writes_total')) - writesBefore;
      const requests = operatorRequestsInAudit(cp, since);
      const audited = requests.filter((e) => WRITE_VERBS.has(e.verb));
      const memory = await memoryLine(operator, metrics);
      const line =
        `N=${n}: converged in ${seconds.toFixed(1)} s (creating them took ${created.toFixed(1)} s; ${(n / seconds).toFixed(0)} models/s)\n` +
        `  operator API requests: ${requests.length} (${(requests.length / n).toFixed(2)} per object; reads: ` +
        `${byKind(requests.filter((e) => !WRITE_VERBS.has(e.verb))) || 'none'})\n` +
        `  operator writes: ${writes} (${(writes / n).toFixed(2)} per object; audit log: ${audited.length}: ${byKind(audited)})\n` +
        `  operator ${memory}`;
      console.log(line);
      results.push({ n, seconds, line });
    }

    // BENCH_QUIET_SECONDS=0: no settling and no quiet period (the figures of a large N without the wait).
    if (QUIET_SECONDS > 0) {
      // The world settles after "converged": the controller-manager still creates ReplicaSets and pods and writes
      // Deployment status, and the operator follows (status.replicas). Quiet starts once every Deployment's status is
      // the controller-manager's last word on it and the operator's writes have stopped for 5 s.
      const apps = kc.makeApiClient(AppsV1Api);
      const settleStarted = performance.now();
      let settled = await operatorMetric(metrics, 'scoring_operator_api_writes_total');
      for (;;) {
        await sleep(5000);
        const now = await operatorMetric(metrics, 'scoring_operator_api_writes_total');
        const pending = (await apps.listDeploymentForAllNamespaces()).items.filter(
          (d) =>
            d.status?.observedGeneration !== d.metadata?.generation ||
            (d.status?.replicas ?? 0) !== (d.spec?.replicas ?? 1) ||
            (d.status?.updatedReplicas ?? 0) !== (d.spec?.replicas ?? 1),
        ).length;
        if (now === settled && pending === 0) break;
        settled = now;
      }
      console.log(`settled ${((performance.now() - settleStarted) / 1000).toFixed(0)} s after convergence`);
      const quietFrom = await operatorMetric(metrics, 'scoring_operator_api_writes_total');
      const quietSince = new Date();
      await sleep(QUIET_SECONDS * 1000);
      const quietWrites = (await operatorMetric(metrics, 'scoring_operator_api_writes_total')) - quietFrom;
      const quietAudited = operatorWritesInAudit(cp, quietSince);
      const objects = new Set(quietAudited.map((e) => `${e.objectRef?.namespace}/${e.objectRef?.name}`));
      console.log(
        `quiet ${QUIET_SECONDS} s after settling: ${quietWrites} operator writes (metrics), ` +
          `${quietAudited.length} in the audit log` +
          (quietAudited.length ? ` (${byKind(quietAudited)}; to ${objects.size} objects)` : '') +
          ' (goal: 0)',
      );
      if (quietWrites !== 0 || quietAudited.length !== 0) process.exitCode = 1;
    }

    // The restarts and the bare loop run with the operator stopped, so that none sees another's writes. The
    // restarts come first: the bare loop's status writes would be changes for the operator to undo.
    await stopOperator(operator);
    const restarts: { what: string; seconds: number; writes: number; memory: string }[] = [];
    if (results.some((r) => r.n === RESTART_SIZE)) {
      const ns = `bench-${RESTART_SIZE}`;
      restarts.push({ what: 'children in place', ...(await restart(kc, operatorKubeconfig, ns, RESTART_SIZE)) });
      await deleteChildren(kc, ns);
      restarts.push({ what: 'children deleted', ...(await restart(kc, operatorKubeconfig, ns, RESTART_SIZE)) });
    }
    for (const { n, seconds } of results) {
      const bare = await bareLoop(kc, `bench-${n}`);
      console.log(
        `N=${n}: bare client loop, the same ${3 * n} SSA writes at ${WORKERS} in flight: ${bare.toFixed(1)} s ` +
          `-> operator/bare = ${(seconds / bare).toFixed(2)}`,
      );
      if (n !== RESTART_SIZE) continue;
      for (const r of restarts) {
        console.log(
          `N=${n}: operator restarted over its models, ${r.what}: converged ${r.seconds.toFixed(1)} s after its ` +
            `start (${r.writes} writes) -> restart/bare = ${(r.seconds / bare).toFixed(2)} (goal: <= 1.5); ${r.memory}`,
        );
      }
    }
  } finally {
    if (operator) await stopOperator(operator);
    await cp.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
