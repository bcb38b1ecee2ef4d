/**
 * A routing endpoint over real HTTP on 127.0.0.1, with the operator's long-poll semantics (contract/rollout.ts), for
 * the scorer's rollout tests and bench:rollout: a poll whose `after` differs from the routing's version is answered at
 * once; one that holds the current version waits until the routing changes, or `holdMs`, and then gets the routing as
 * it is. No routing is 404.
 */
import { EventEmitter, once } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ROUTING_AFTER_PARAM, ROUTING_LONG_POLL_SECONDS, routingPath, type Routing } from '../contract/rollout.js';

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
  let routing = initial;
  let failures: { count: number; status: number } = { count: 0, status: 500 };
  const polls: RoutingServer['polls'] = [];
  const waiting = new Set<{ res: ServerResponse; index: number; timer: NodeJS.Timeout }>();
  const path = routingPath('default', 'model');
  const events = new EventEmitter();

  const answer = (res: ServerResponse, index: number) => {
    const status = routing === undefined ? 404 : 200;
    polls[index]!.status = status;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(routing ?? { error: 'no such model' }));
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path || url.searchParams.get('uid') !== uid) {
      res.writeHead(404).end();
      return;
    }
    const after = url.searchParams.get(ROUTING_AFTER_PARAM) ?? undefined;
    const index = polls.push({ after }) - 1;
    events.emit('poll');
    if (failures.count > 0) {
      failures.count--;
      polls[index]!.status = failures.status;
      res.writeHead(failures.status, { 'content-type': 'text/plain' }).end('the operator is not well');
      return;
    }
    if (routing === undefined || after !== routing.version) {
      answer(res, index);
      return;
    }
    const entry = { res, index, timer: setTimeout(() => release(entry), holdMs) };
    waiting.add(entry);
    res.once('close', () => {
      clearTimeout(entry.timer);
      waiting.delete(entry);
    });
  });
  const release = (entry: { res: ServerResponse; index: number; timer: NodeJS.Timeout }) => {
    clearTimeout(entry.timer);
    waiting.delete(entry);
    if (!entry.res.writableEnded) answer(entry.res, entry.index);
  };
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}?uid=${uid}`,
    polls,
    get held() {
      return waiting.size;
    },
    set(next) {
      routing = next;
      for (const entry of [...waiting]) release(entry);
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
      for (const entry of [...waiting]) release(entry);
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}
