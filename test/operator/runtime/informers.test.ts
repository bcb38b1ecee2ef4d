/**
 * The informers, with client-node's real ListWatch, against a scripted API server on a real socket: its lists fail
 * on demand and its watches stay open until a test ends them. Time is a ManualClock, so backoffs pass without waiting.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { EventEmitter, once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { OperatorMetrics } from '../../../operator/metrics.js';
import { ManualClock } from '../../../operator/runtime/clock.js';
import { FIELD_MANAGER } from '../../../operator/desired/labels.js';
import { appliedBy } from '../../../operator/managed-fields.js';
import { InformerSet, LIST_PAGE_SIZE } from '../../../operator/runtime/informers.js';
import { readyScorers } from '../../../operator/scorer-pods.js';
import { liveDeployment, livePod } from '../../helpers/live-objects.js';
import { model } from '../../helpers/scoringmodel.js';
import { waitFor } from '../../helpers/wait.js';

const DEPLOYMENTS = '/apis/apps/v1/deployments';
const PODS = '/api/v1/pods';
const SCORINGMODELS = '/apis/scoring.dev/v1alpha1/scoringmodels';

/** A ManualClock that tells when a timer is set, and for how long. */
class WatchedClock extends ManualClock {
  readonly set: number[] = [];
  readonly events = new EventEmitter();
  override setTimeout(fn: () => void, ms: number): unknown {
    this.set.push(ms);
    this.events.emit('set');
    return super.setTimeout(fn, ms);
  }
}

interface ApiServer {
  url: string;
  /** Requests seen: the path, whether it was a watch, and a list's page size and continue token. */
  seen: { path: string; watch: boolean; limit?: string; continue?: string; resourceVersion?: string }[];
  events: EventEmitter;
  /** Lists, and watches, of a path still to fail, with a 500. */
  failLists: Map<string, number>;
  failWatches: Map<string, number>;
  /** What a list of a path returns (else nothing). */
  items: Map<string, unknown[]>;
  /** Sends a watch event to the open watches of a path. */
  send(path: string, type: string, object: unknown): void;
  /** Ends the open watches of a path, as the API server does when a watch times out. */
  endWatches(path: string): void;
  close(): Promise<void>;
}

async function startApiServer(): Promise<ApiServer> {
  const seen: ApiServer['seen'] = [];
  const events = new EventEmitter();
  const failLists = new Map<string, number>();
  const failWatches = new Map<string, number>();
  const items = new Map<string, unknown[]>();
  const failing = (fail: Map<string, number>, path: string) => {
    const left = fail.get(path) ?? 0;
    if (left > 0) fail.set(path, left - 1);
    return left > 0;
  };
  const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', code: 500 };
  const watches = new Map<ServerResponse, string>();
  const json = { 'content-type': 'application/json' };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const watch = url.searchParams.get('watch') === 'true';
    if (failing(watch ? failWatches : failLists, path)) {
      res.writeHead(500, json).end(JSON.stringify({ ...status, message: 'etcd is unavailable' }));
    } else if (watch) {
      res.writeHead(200, json).flushHeaders();
      watches.set(res, path);
      res.once('close', () => watches.delete(res));
    } else {
      // Pages as the API server makes them: `limit` objects from where `continue` says, and a token while more are left.
      const all = items.get(path) ?? [];
      const from = Number(url.searchParams.get('continue') ?? 0);
      const to = url.searchParams.has('limit') ? from + Number(url.searchParams.get('limit')) : all.length;
      res.writeHead(200, json).end(
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'List',
          metadata: { resourceVersion: '1', ...(to < all.length ? { continue: String(to) } : {}) },
          items: all.slice(from, to),
        }),
      );
    }
    const param = (name: string) => url.searchParams.get(name) ?? undefined;
    seen.push({
      path,
      watch,
      limit: param('limit'),
      continue: param('continue'),
      resourceVersion: param('resourceVersion'),
    });
    events.emit('request');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    events,
    failLists,
    failWatches,
    items,
    send: (path, type, object) => {
      for (const [res, p] of watches) if (p === path) res.write(`${JSON.stringify({ type, object })}\n`);
    },
    endWatches: (path) => {
      for (const [res, p] of watches) if (p === path) res.end();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Resolves once `check()` holds, looking again at each `event` of `emitter`; fails after 10 s. */
async function until(emitter: EventEmitter, event: string, what: string, check: () => boolean): Promise<void> {
  const signal = AbortSignal.timeout(10_000);
  while (!check()) {
    await once(emitter, event, { signal }).catch((err: unknown) => {
      throw new Error(`timed out waiting for ${what}`, { cause: err });
    });
  }
}

describe('InformerSet', () => {
  let api: ApiServer;
  let clock: WatchedClock;
  let metrics: OperatorMetrics;
  let logs: Record<string, unknown>[];
  let informers: InformerSet;

  beforeEach(async () => {
    api = await startApiServer();
    clock = new WatchedClock();
    metrics = new OperatorMetrics(1);
    logs = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line));
        done();
      },
    });
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'test', server: api.url, skipTLSVerify: true }],
      users: [{ name: 'test' }],
      contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
      currentContext: 'test',
    });
    informers = new InformerSet({ kc, namespaces: [], enqueue: () => undefined, log: pino(sink), metrics, clock });
  });
  afterEach(async () => {
    await informers.stop();
    await api.close();
  });

  const lists = (path: string) => api.seen.filter((r) => r.path === path && !r.watch).length;
  const watches = (path: string) => api.seen.filter((r) => r.path === path && r.watch).length;
  const timerSet = (ms: number, count = 1) =>
    until(
      clock.events,
      'set',
      `${count} timer(s) of ${ms} ms`,
      () => clock.set.filter((t) => t === ms).length >= count,
    );

  it('restarts an informer whose list failed after its backoff on the clock, doubling it, and syncs then', async () => {
    api.failLists.set(DEPLOYMENTS, 2);
    let synced = false;
    const started = informers.start().then(() => (synced = true));

    await timerSet(500);
    await clock.advance(499);
    expect(lists(DEPLOYMENTS)).toBe(1);
    await clock.advance(1);
    await timerSet(1000);
    expect(lists(DEPLOYMENTS)).toBe(2);
    await clock.advance(999);
    expect(lists(DEPLOYMENTS)).toBe(2);
    expect(synced).toBe(false);
    expect(informers.synced()).toBe(false);

    await clock.advance(1);
    await started;
    expect(lists(DEPLOYMENTS)).toBe(3);
    expect(informers.synced()).toBe(true);
    const restarts = logs.filter((l) => l.msg === 'informer stopped; restarting');
    expect(restarts.map((l) => [l.resource, l.retryInMs])).toEqual([
      ['deployments', 500],
      ['deployments', 1000],
    ]);
    expect((await metrics.informerRestarts.get()).values).toEqual([
      expect.objectContaining({ labels: { resource: 'deployments' }, value: 2 }),
    ]);
  });

  it('starts the backoff afresh after a successful list', async () => {
    api.failLists.set(DEPLOYMENTS, 1);
    const started = informers.start();
    await timerSet(500);
    await clock.advance(500);
    await started;

    // The watch ends, and re-opening it fails: the informer stops again.
    api.failWatches.set(DEPLOYMENTS, 1);
    api.endWatches(DEPLOYMENTS);
    await timerSet(500, 2);
    expect(clock.set).not.toContain(1000);
    await clock.advance(500);
    await until(api.events, 'request', 'the watch re-opened', () => watches(DEPLOYMENTS) === 3);
    expect(informers.synced()).toBe(true);
  });

  it("re-opens a watch the server ended after client-node's reconnect delay, timed on the clock", async () => {
    await informers.start();
    // client-node re-opens the first ended watch at once, and waits before re-opening it again.
    api.endWatches(DEPLOYMENTS);
    await until(api.events, 'request', 'the second watch', () => watches(DEPLOYMENTS) === 2);
    api.endWatches(DEPLOYMENTS);
    await timerSet(1000);
    await clock.advance(999);
    expect(watches(DEPLOYMENTS)).toBe(2);
    await clock.advance(1);
    await until(api.events, 'request', 'the third watch', () => watches(DEPLOYMENTS) === 3);
    expect(lists(DEPLOYMENTS)).toBe(1);
  });

  it('stops restarting once stopped, and ends a start() still waiting for a list', async () => {
    api.failLists.set(DEPLOYMENTS, Infinity);
    const started = informers.start();
    await timerSet(500);
    await informers.stop();
    await started;
    await clock.advance(60_000);
    expect(lists(DEPLOYMENTS)).toBe(1);
    expect(informers.synced()).toBe(false);
  });

  it('caches what the readers read, from the list and from the watch: no managedFields, a slim pod', async () => {
    const sm = model({ model: { uri: 's3://models/churn.onnx' }, replicas: 2 });
    const owning = liveDeployment(sm, { ownsReplicas: true });
    const pod = livePod(owning, 'churn-a', { ready: true });
    api.items.set(DEPLOYMENTS, [JSON.parse(JSON.stringify(owning))]);
    api.items.set(PODS, [JSON.parse(JSON.stringify(pod))]);
    await informers.start();

    const listed = informers.deployment('ml', 'churn')!;
    expect(appliedBy(listed, FIELD_MANAGER, ['spec', 'replicas'])).toBe(true);
    expect(listed.metadata?.managedFields).toHaveLength(1);
    expect(listed.spec?.template.spec?.containers[0]?.env).toEqual(owning.spec?.template.spec?.containers[0]?.env);
    const [cachedPod] = informers.pods('ml', 'churn');
    expect(cachedPod?.metadata?.managedFields).toBeUndefined();
    expect(cachedPod?.spec?.containers[0]?.env).toBeUndefined();
    expect(readyScorers([cachedPod!])).toEqual([{ pod: 'churn-a', base: 'http://10.244.0.7:8080' }]);

    // The HPA's scale writes took spec.replicas: the operator's applies own it no more.
    const handedOver = liveDeployment(sm, { ownsReplicas: false });
    handedOver.metadata!.resourceVersion = '42';
    api.send(DEPLOYMENTS, 'MODIFIED', handedOver);
    const notReady = livePod(owning, 'churn-a', { ready: false });
    notReady.metadata!.resourceVersion = '78';
    api.send(PODS, 'MODIFIED', notReady);
    await waitFor(
      'the watch events in the caches',
      () =>
        informers.deployment('ml', 'churn')?.metadata?.resourceVersion === '42' &&
        informers.pods('ml', 'churn')[0]?.metadata?.resourceVersion === '78',
      10_000,
      10,
    );
    const modified = informers.deployment('ml', 'churn')!;
    expect(modified.metadata?.managedFields).toBeUndefined();
    expect(appliedBy(modified, FIELD_MANAGER, ['spec', 'replicas'])).toBe(false);
    const [watchedPod] = informers.pods('ml', 'churn');
    expect(watchedPod?.metadata?.managedFields).toBeUndefined();
    expect(watchedPod?.status?.podIPs).toBeUndefined();
    expect(readyScorers([watchedPod!])).toEqual([]);
  });

  it('lists in pages, typed and custom objects alike, keeps every page, and watches from the list', async () => {
    const sm = model({ model: { uri: 's3://models/churn.onnx' } });
    const deployment = liveDeployment(sm, { ownsReplicas: true });
    const n = 2 * LIST_PAGE_SIZE + 1;
    const named = (object: object, i: number) => {
      const copy = JSON.parse(JSON.stringify(object)) as { metadata: { name: string } };
      copy.metadata.name = `m${i}`;
      return copy;
    };
    api.items.set(
      DEPLOYMENTS,
      Array.from({ length: n }, (_, i) => named(deployment, i)),
    );
    api.items.set(
      SCORINGMODELS,
      Array.from({ length: n }, (_, i) => named(sm, i)),
    );
    await informers.start();

    for (const path of [DEPLOYMENTS, SCORINGMODELS]) {
      expect(api.seen.filter((r) => r.path === path && !r.watch)).toEqual([
        { path, watch: false, limit: String(LIST_PAGE_SIZE), continue: undefined, resourceVersion: undefined },
        {
          path,
          watch: false,
          limit: String(LIST_PAGE_SIZE),
          continue: String(LIST_PAGE_SIZE),
          resourceVersion: undefined,
        },
        { path, watch: false, limit: String(LIST_PAGE_SIZE), continue: String(n - 1), resourceVersion: undefined },
      ]);
      expect(api.seen.find((r) => r.path === path && r.watch)?.resourceVersion).toBe('1');
    }
    expect(informers.keys()).toHaveLength(n);
    expect(informers.deployment('ml', 'm0')).toBeDefined();
    expect(informers.deployment('ml', `m${n - 1}`)?.metadata?.managedFields).toHaveLength(1);
    expect(informers.scoringModel('ml', `m${n - 1}`)).toBeDefined();
  });
});
