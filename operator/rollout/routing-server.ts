/**
 * The operator's routing endpoint: `GET /routing/v1/NAMESPACE/NAME?uid=UID&after=VERSION`, long-polled by every
 * stable scorer. The answer is the model's routing, a pure function of what the caches hold (status.rollout and the
 * candidate's ready pods), so every replica answers alike and a restarted one resumes where the cluster says. With
 * `after` equal to the current version the request is held until the routing changes, or ROUTING_LONG_POLL_SECONDS.
 *
 * Served on a port of its own, apart from /metrics and the probes, so that the scorers' access can be granted alone.
 */
import { once } from 'node:events';
import { createServer, type RequestListener, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTING_AFTER_PARAM, ROUTING_LONG_POLL_SECONDS, ROUTING_PATH, type Routing } from '../../contract/rollout.js';
import type { Clock } from '../runtime/clock.js';

const ROUTE = new RegExp(`^${ROUTING_PATH}/([^/]+)/([^/]+)$`);

/** The routing of one ScoringModel, or undefined when the caches hold no model of that namespace, name and uid. */
export type RoutingSource = (namespace: string, name: string, uid: string) => Routing | undefined;

interface Waiter {
  namespace: string;
  name: string;
  uid: string;
  after: string;
  res: ServerResponse;
  timer: unknown;
}

export interface RoutingServerOptions {
  source: RoutingSource;
  clock: Clock;
  /** How long a long-poll is held; ROUTING_LONG_POLL_SECONDS unless a test says otherwise. */
  holdMs?: number;
}

export class RoutingServer {
  /** Held long-polls, by ScoringModel key. */
  private readonly waiting = new Map<string, Set<Waiter>>();
  private readonly holdMs: number;
  private readonly options: RoutingServerOptions;

  constructor(options: RoutingServerOptions) {
    this.options = options;
    this.holdMs = options.holdMs ?? ROUTING_LONG_POLL_SECONDS * 1000;
  }

  /** Something a model's routing is computed from changed (its status, its candidate's pods): answer who waits. */
  changed(key: string): void {
    const waiters = this.waiting.get(key);
    if (!waiters) return;
    for (const w of [...waiters]) {
      const routing = this.options.source(w.namespace, w.name, w.uid);
      if (!routing || routing.version !== w.after) this.answer(key, w, routing);
    }
  }

  /** Held long-polls, all models together. */
  get held(): number {
    let n = 0;
    for (const set of this.waiting.values()) n += set.size;
    return n;
  }

  /** The endpoint's request handler (listen() serves it; a test's server may put it behind its own). */
  readonly handle: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method !== 'GET') {
      send(res, 405, { error: `${req.method} is not allowed: GET ${ROUTING_PATH}/NAMESPACE/NAME?uid=UID` }, 'GET');
      return;
    }
    const match = ROUTE.exec(url.pathname);
    const uid = url.searchParams.get('uid');
    if (!match || !uid) {
      send(res, 404, { error: `no route for GET ${url.pathname}: GET ${ROUTING_PATH}/NAMESPACE/NAME?uid=UID` });
      return;
    }
    let namespace: string;
    let name: string;
    try {
      namespace = decodeURIComponent(match[1]!);
      name = decodeURIComponent(match[2]!);
    } catch {
      send(res, 400, { error: 'the namespace and name must be percent-encoded as UTF-8' });
      return;
    }
    const routing = this.options.source(namespace, name, uid);
    if (!routing) {
      send(res, 404, { error: `no ScoringModel ${namespace}/${name} with uid ${uid}` });
      return;
    }
    const after = url.searchParams.get(ROUTING_AFTER_PARAM);
    if (after !== routing.version) {
      send(res, 200, routing);
      return;
    }
    this.hold(`${namespace}/${name}`, { namespace, name, uid, after, res, timer: undefined });
  };

  async listen(port: number, host: string): Promise<{ server: Server; url: string }> {
    const server = createServer(this.handle);
    server.listen(port, host);
    await once(server, 'listening');
    const address = server.address() as AddressInfo;
    return { server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}` };
  }

  /** Ends every held long-poll with the routing as it is (a server that stops answers before it closes). */
  releaseAll(): void {
    for (const [key, waiters] of this.waiting) {
      for (const w of [...waiters]) this.answer(key, w, this.options.source(w.namespace, w.name, w.uid));
    }
  }

  private hold(key: string, waiter: Waiter): void {
    let waiters = this.waiting.get(key);
    if (!waiters) this.waiting.set(key, (waiters = new Set()));
    waiters.add(waiter);
    const { clock, source } = this.options;
    waiter.timer = clock.setTimeout(
      () => this.answer(key, waiter, source(waiter.namespace, waiter.name, waiter.uid)),
      this.holdMs,
    );
    waiter.res.once('close', () => this.drop(key, waiter));
  }

  private answer(key: string, waiter: Waiter, routing: Routing | undefined): void {
    this.drop(key, waiter);
    if (waiter.res.writableEnded) return;
    if (routing) send(waiter.res, 200, routing);
    else send(waiter.res, 404, { error: `no ScoringModel ${key} with uid ${waiter.uid}` });
  }

  private drop(key: string, waiter: Waiter): void {
    this.options.clock.clearTimeout(waiter.timer);
    const waiters = this.waiting.get(key);
    if (!waiters?.delete(waiter)) return;
    if (waiters.size === 0) this.waiting.delete(key);
  }
}

function send(res: ServerResponse, status: number, body: unknown, allow?: string): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...(allow ? { allow } : {}),
  });
  res.end(text);
}
