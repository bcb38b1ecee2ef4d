/**
 * The routing endpoint over real HTTP on loopback: an answer at once when the scorer's version is not current, a
 * long-poll held until the routing changes (or the hold time, on a clock the test drives), 404 for a model it does
 * not know by namespace, name and uid.
 */
import type { Server } from 'node:http';
import { ROUTING_AFTER_PARAM, routingPath, routingSchema, type Routing } from '../../../contract/rollout.js';
import { RoutingServer } from '../../../operator/rollout/routing-server.js';
import { ManualClock } from '../../../operator/runtime/clock.js';

const routing = (version: string, weight: number): Routing => ({
  version,
  step: weight ? `r1/2/${version}` : '',
  candidates: weight ? ['http://10.0.0.9:8080'] : [],
  weight,
  shadow: 0,
  tolerance: 1e-6,
});

let current: Routing;
let clock: ManualClock;
let routes: RoutingServer;
let server: Server;
let base: string;

beforeEach(async () => {
  current = routing('v1', 0);
  clock = new ManualClock();
  routes = new RoutingServer({
    clock,
    holdMs: 25_000,
    source: (ns, name, uid) => (ns === 'ml' && name === 'churn' && uid === 'u1' ? current : undefined),
  });
  ({ server, url: base } = await routes.listen(0, '127.0.0.1'));
});

afterEach(async () => {
  routes.releaseAll();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const url = (after?: string, uid = 'u1') =>
  `${base}${routingPath('ml', 'churn')}?uid=${uid}${after ? `&${ROUTING_AFTER_PARAM}=${after}` : ''}`;

async function get(u: string) {
  const res = await fetch(u);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Resolves once the server holds `n` long-polls. */
async function held(n: number) {
  const deadline = Date.now() + 5000;
  while (routes.held !== n) {
    if (Date.now() > deadline) throw new Error(`the server holds ${routes.held} long-polls, not ${n}`);
    await new Promise((r) => setImmediate(r));
  }
}

it('answers the current routing at once to a scorer that holds none, or another version', async () => {
  expect(await get(url())).toEqual({ status: 200, body: current });
  expect(routingSchema.parse((await get(url('v0'))).body)).toEqual(current);
});

it('holds a scorer that is current until the routing changes, then answers the new one', async () => {
  const answer = get(url('v1'));
  await held(1);
  // A change that leaves the routing as it was (another field of the status) answers nobody.
  routes.changed('ml/churn');
  expect(routes.held).toBe(1);
  current = routing('v2', 10);
  routes.changed('ml/other');
  expect(routes.held).toBe(1);
  routes.changed('ml/churn');
  expect(await answer).toEqual({ status: 200, body: current });
  expect(routes.held).toBe(0);
});

it('answers a held long-poll unchanged after the hold time', async () => {
  const answer = get(url('v1'));
  await held(1);
  await clock.advance(24_999);
  expect(routes.held).toBe(1);
  await clock.advance(1);
  expect(await answer).toEqual({ status: 200, body: current });
});

it('forgets a long-poll whose scorer went away', async () => {
  const controller = new AbortController();
  const answer = fetch(url('v1'), { signal: controller.signal }).catch((err: Error) => err.name);
  await held(1);
  controller.abort();
  expect(await answer).toBe('AbortError');
  await held(0);
});

it('answers 404, naming the model, for a uid or a model it does not know, and when a held model goes', async () => {
  expect(await get(url(undefined, 'u2'))).toEqual({
    status: 404,
    body: { error: 'no ScoringModel ml/churn with uid u2' },
  });
  const other = await get(`${base}${routingPath('ml', 'fraud')}?uid=u1`);
  expect(other.status).toBe(404);
  const answer = get(url('v1'));
  await held(1);
  current = undefined as unknown as Routing;
  routes.changed('ml/churn');
  expect(await answer).toEqual({ status: 404, body: { error: 'no ScoringModel ml/churn with uid u1' } });
});

it('refuses what is not a GET of a routing path with a uid', async () => {
  const post = await fetch(url(), { method: 'POST' });
  expect(post.status).toBe(405);
  expect(post.headers.get('allow')).toBe('GET');
  expect((await get(`${base}${routingPath('ml', 'churn')}`)).status).toBe(404);
  expect((await get(`${base}/metrics`)).status).toBe(404);
});
