/**
 * The routing client against a routing endpoint over real HTTP with the operator's long-poll semantics
 * (test/helpers/routing.ts): what it asks, what it holds, how it backs off, and that stopping it ends a held poll.
 */
import { EventEmitter, once } from 'node:events';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { NO_ROUTING, type Routing } from '../../../contract/rollout.js';
import { BACKOFF_MAX_MS, MIN_POLL_INTERVAL_MS, RoutingClient, type Sleep } from '../../../scorer/rollout/routing.js';
import { startRoutingServer, type RoutingServer } from '../../helpers/routing.js';
import { waitFor } from '../../helpers/wait.js';

const ROUTING: Routing = {
  version: 'v1',
  step: 'r1-1',
  candidates: ['http://127.0.0.1:1'],
  weight: 10,
  shadow: 0,
  tolerance: 1e-6,
};

/** A logger whose records the test reads, and a way to wait for one. */
function testLog() {
  const records: Record<string, unknown>[] = [];
  const written = new EventEmitter();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) records.push(JSON.parse(line));
      written.emit('line');
      done();
    },
  });
  const logged = async (match: (r: Record<string, unknown>) => boolean, count = 1) => {
    const signal = AbortSignal.timeout(10_000);
    while (records.filter(match).length < count) await once(written, 'line', { signal });
    return records.filter(match);
  };
  return { log: pino({ level: 'debug' }, sink), records, logged };
}

/** A sleep that returns at once and remembers what it was asked to wait. */
function recordingSleep(): { sleep: Sleep; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms) => (waits.push(ms), Promise.resolve()) };
}

const changed = (r: Record<string, unknown>) => r.msg === 'routing changed';

describe('the routing client', () => {
  let server: RoutingServer;
  let client: RoutingClient | undefined;
  afterEach(async () => {
    await client?.stop();
    client = undefined;
    await server.close();
  });

  it('asks with the version it holds, gets the routing at once, then waits in a held poll', async () => {
    server = await startRoutingServer(ROUTING);
    const { log } = testLog();
    client = new RoutingClient({ url: server.url, log });
    expect(client.routing).toEqual(NO_ROUTING);
    client.start();
    await waitFor('the routing', () => client!.routing.version === 'v1', 10_000, 10);
    expect(client.routing).toEqual(ROUTING);
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    expect(server.polls.map((p) => p.after)).toEqual(['none', 'v1']);
  });

  it('follows each change the moment it is made, logging it once with weight, shadow and step', async () => {
    server = await startRoutingServer(ROUTING);
    const { log, records, logged } = testLog();
    const seen: [string, string][] = [];
    client = new RoutingClient({
      url: server.url,
      log,
      onChange: (r, previous) => seen.push([previous.version, r.version]),
    });
    client.start();
    await logged(changed);
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    server.set({ ...ROUTING, version: 'v2', step: 'r1-2', weight: 50 });
    const [, second] = await logged(changed, 2);
    expect(second).toMatchObject({ level: 30, version: 'v2', step: 'r1-2', weight: 50, shadow: 0 });
    expect(client.routing.weight).toBe(50);
    expect(seen).toEqual([
      ['none', 'v1'],
      ['v1', 'v2'],
    ]);
    // The held poll answered with the change; the next one holds again, and nothing was logged twice.
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    expect(records.filter(changed)).toHaveLength(2);
  });

  it('drops its routing on 404: the operator knows no rollout for this model', async () => {
    server = await startRoutingServer(ROUTING);
    const { log, logged } = testLog();
    const { sleep, waits } = recordingSleep();
    client = new RoutingClient({ url: server.url, log, sleep });
    client.start();
    await logged(changed);
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    server.set(undefined);
    await logged(changed, 2);
    expect(client.routing).toEqual(NO_ROUTING);
    // No routing is no held poll: the client asks again after a backoff, not in a loop.
    await waitFor('a wait after the 404', () => waits.length > 0, 10_000, 10);
    expect(waits[0]).toBe(1000);
  });

  it('keeps the routing it holds through failures, backing off from 1 s doubling to 30 s, then resumes', async () => {
    server = await startRoutingServer(ROUTING);
    const { log, logged } = testLog();
    const { sleep, waits } = recordingSleep();
    client = new RoutingClient({ url: server.url, log, sleep });
    client.start();
    await logged(changed);
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    server.failNext(7, 503);
    // Answer the held poll with a change: the next 7 polls fail.
    server.set({ ...ROUTING, version: 'v2' });
    await logged((r) => r.msg === 'cannot read the routing; keeping the one held', 7);
    expect(waits.slice(0, 7)).toEqual([1000, 2000, 4000, 8000, 16000, BACKOFF_MAX_MS, BACKOFF_MAX_MS]);
    expect(client.routing.version).toBe('v2');
    await waitFor('a held poll after the failures', () => server.held === 1, 10_000, 10);
    expect(server.polls.at(-1)).toMatchObject({ after: 'v2' });
    expect(waits).toHaveLength(7);
  });

  it('keeps the routing it holds when the operator is unreachable, saying why', async () => {
    server = await startRoutingServer(ROUTING);
    const url = server.url;
    await server.close();
    const { log, logged } = testLog();
    const { sleep } = recordingSleep();
    client = new RoutingClient({ url, log, sleep });
    client.start();
    const [warning] = await logged((r) => r.msg === 'cannot read the routing; keeping the one held');
    expect(warning).toMatchObject({ level: 40, version: 'none', retryMs: 1000 });
    expect(warning!.error).toMatch(/ECONNREFUSED/);
    await client.stop();
    client = undefined;
    server = await startRoutingServer(ROUTING);
  });

  it('refuses a routing that is not valid, keeping the one held', async () => {
    server = await startRoutingServer(ROUTING);
    const { log, logged } = testLog();
    const { sleep } = recordingSleep();
    client = new RoutingClient({ url: server.url, log, sleep });
    client.start();
    await logged(changed);
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    server.set({ ...ROUTING, version: 'v2', weight: 150 });
    const [warning] = await logged((r) => r.msg === 'cannot read the routing; keeping the one held');
    expect(warning!.error).toMatch(/the routing is not valid: weight:/);
    expect(client.routing).toEqual(ROUTING);
  });

  it('asks at most once a second when the endpoint answers unchanged without holding', async () => {
    server = await startRoutingServer(ROUTING, { holdMs: 0 });
    const { log } = testLog();
    const { sleep, waits } = recordingSleep();
    client = new RoutingClient({ url: server.url, log, sleep });
    client.start();
    await waitFor('three unchanged answers', () => waits.length >= 3, 10_000, 10);
    for (const wait of waits) {
      expect(wait).toBeGreaterThan(0);
      expect(wait).toBeLessThanOrEqual(MIN_POLL_INTERVAL_MS);
    }
  });

  it('ends a held poll at once when stopped', async () => {
    server = await startRoutingServer(ROUTING);
    const { log } = testLog();
    const stopping = new RoutingClient({ url: server.url, log });
    stopping.start();
    await waitFor('a held poll', () => server.held === 1, 10_000, 10);
    const started = performance.now();
    await stopping.stop();
    // The operator would have held it for 25 s.
    expect(performance.now() - started).toBeLessThan(2000);
    await waitFor('the held poll to close', () => server.held === 0, 10_000, 10);
    expect(server.polls).toHaveLength(2);
  });
});
