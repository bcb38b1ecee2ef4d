/**
 * The operator's routing endpoint (operator/rollout/routing-server.ts, the long-poll the scorers follow) over real
 * HTTP on 127.0.0.1, serving one model's routing that the caller sets, for the scorer's rollout tests and
 * bench:rollout: what the operator would derive from status.rollout, set by hand. In front of it, what a test needs
 * to see and to break: every poll recorded, and the next ones failed on demand, as a failing operator would.
 */
import { EventEmitter, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTING_AFTER_PARAM, ROUTING_LONG_POLL_SECONDS, routingPath, type Routing } from '../contract/rollout.js';
import { RoutingServer as RoutingEndpoint } from '../operator/rollout/routing-server.js';
import { systemClock } from '../operator/runtime/clock.js';

export interface RoutingServer {
  /** The ROUTING_URL a stable scorer is given. */
  readonly url: string;
  /** Every poll received: its `after` parameter (undefined when absent) and the status it was answered with. */
  readonly polls: { after: string | undefined; status?: number }[];
  /** Polls being held now. */
  readonly held: number;
  /** Serves `routing` from now on (undefined: 404), answering the polls held. */
  set(routing: Routing | undefined): void;
  /** Answers the next `count` polls with `status` and a plain-text body, as a failing operator would. */
  failNext(count: number, status?: number): void;
  /** Resolves once `count` polls have arrived in all. */
  polled(count: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startRoutingServer(
  initial?: Routing,
  { holdMs = ROUTING_LONG_POLL_SECONDS * 1000, uid = 'uid-1' }: { holdMs?: number; uid?: string } = {},
): Promise<RoutingServer> {
  const [namespace, name] = ['default', 'model'];
  let routing = initial;
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const polls: RoutingServer['polls'] = [];
  const events = new EventEmitter();
  const endpoint = new RoutingEndpoint({
    clock: systemClock,
    holdMs,
    source: (ns, n, u) => (ns === namespace && n === name && u === uid ? routing : undefined),
  });

  const server = createServer((req, res) => {
    const after = new URL(req.url ?? '/', 'http://localhost').searchParams.get(ROUTING_AFTER_PARAM) ?? undefined;
    const poll: RoutingServer['polls'][number] = { after };
    polls.push(poll);
    res.once('finish', () => (poll.status = res.statusCode));
    events.emit('poll');
    if (failures.count > 0) {
      failures.count--;
      res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('the operator is not well');
      return;
    }
    endpoint.handle(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${routingPath(namespace, name)}?uid=${uid}`,
    polls,
    get held() {
      return endpoint.held;
    },
    set(next) {
      routing = next;
      endpoint.changed(`${namespace}/${name}`);
    },
    failNext(count, status = 500) {
      failures = { count, status };
    },
    async polled(count, timeoutMs = 10_000) {
      const signal = AbortSignal.timeout(timeoutMs);
      while (polls.length < count) {
        await once(events, 'poll', { signal }).catch((err: unknown) => {
          throw new Error(`timed out: ${polls.length} of ${count} polls arrived`, { cause: err });
        });
      }
    },
    async close() {
      endpoint.releaseAll();
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
