/**
 * Rollouts between real scorers on 127.0.0.1: a stable scorer following a routing endpoint (ROUTING_URL, served by
 * test/helpers/routing.ts with the operator's long-poll semantics) forwards and mirrors to a candidate scorer, each
 * serving a real model file. What the clients get, which scorer computed it, and what the stable scorer reports.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitoringPath, monitoringReportSchema } from '../../../contract/drift.js';
import {
  FORWARDED_HEADER,
  PREDICT_SECONDS_HEADER,
  rolloutReportPath,
  rolloutReportSchema,
  SERVED_BY_HEADER,
  type RolloutReport,
  type Routing,
} from '../../../contract/rollout.js';
import { HEADER_LENGTH } from '../../../scorer/http/binary-layout.js';
import type { ScorerOptions } from '../../../scorer/server.js';
import { baselineOf, histogram, writeBaseline } from '../../helpers/baseline.js';
import { fixtures, maxRelativeError, type Fixture } from '../../helpers/fixtures.js';
import { describeWithGrpcurl, grpcurlText, SERVICE } from '../../helpers/grpcurl.js';
import { startRoutingServer, type RoutingServer } from '../../helpers/routing.js';
import { binaryInfer, request, startTestScorer, type Reply, type TestScorer } from '../../helpers/scorer.js';
import { waitFor } from '../../helpers/wait.js';

const NAME = 'churn';
const byName = (name: string): Fixture => fixtures().find((f) => f.name === name)!;
/** X [-1, 5] (FP32) -> score [-1]: the stable model. */
const XGB_BINARY = byName('xgb_binary');
/** The same input, other predictions: a candidate that disagrees. */
const XGB_BASE_SCORE = byName('xgb_base_score');
/** X [-1, 6]: a candidate that refuses the stable model's inputs (400). */
const XGB_SIX = byName('xgb_logistic_reg');
/** input [-1, 8] (FP32) -> label [-1] (INT64), probabilities [-1, 3]: two outputs, one of integers. */
const LOGREG = byName('logreg_multiclass');

const ROWS = XGB_BINARY.inputs;

function routingTo(candidate: string | string[], fields: Partial<Routing> = {}): Routing {
  const candidates = typeof candidate === 'string' ? [candidate] : candidate;
  return { version: 'v1', step: 'rollout-1/step-1', candidates, weight: 0, shadow: 0, tolerance: 1e-6, ...fields };
}

const startScorer = (fixture: Fixture, env: Record<string, string> = {}, options: ScorerOptions = {}) =>
  startTestScorer({ MODEL_URI: fixture.path, MODEL_NAME: NAME, ...env }, undefined, options);

/** The stable scorer, once it follows `version` of the routing. */
async function startStable(
  fixture: Fixture,
  routing: RoutingServer,
  version = 'v1',
  env: Record<string, string> = {},
  options: ScorerOptions = {},
): Promise<TestScorer> {
  const stable = await startScorer(fixture, { ROUTING_URL: routing.url, ...env }, options);
  await stable.ready;
  await following(stable, version);
  return stable;
}

/** Waits for the scorer's log line saying it follows routing `version`. */
const following = (scorer: TestScorer, version: string) =>
  scorer.logged(0, 1, (r) => r.msg === 'routing changed' && r.version === version);

async function report(scorer: TestScorer): Promise<RolloutReport> {
  const reply = await request(`${scorer.url}${rolloutReportPath(NAME)}`);
  expect(reply.status).toBe(200);
  return rolloutReportSchema.parse(reply.body);
}

const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);
const servedBy = (reply: { headers: Headers }) => reply.headers.get(SERVED_BY_HEADER);
const score = (scorer: TestScorer, X: unknown) => request(`${scorer.url}/score`, 'POST', { X });

/** A V2 infer answer with its raw body, binary or JSON. */
async function inferRaw(scorer: TestScorer, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${scorer.url}/v2/models/${NAME}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

/** A candidate scorer and a stable one with the same model (XGB_BINARY), the stable forwarding `weight`%. */
async function startForwarding(weight: number) {
  const candidate = await startScorer(XGB_BINARY);
  await candidate.ready;
  const routing = await startRoutingServer(routingTo(candidate.url, { weight }));
  const stable = await startStable(XGB_BINARY, routing);
  return { candidate, routing, stable };
}

async function stopForwarding(candidate: TestScorer, routing: RoutingServer, stable: TestScorer): Promise<void> {
  await stable.close();
  await candidate.close();
  await routing.close();
}

describe('a stable scorer forwarding to a candidate with the same model', () => {
  let candidate: TestScorer;
  let routing: RoutingServer;
  let stable: TestScorer;
  beforeEach(async () => ({ candidate, routing, stable } = await startForwarding(10)));
  afterEach(() => stopForwarding(candidate, routing, stable));

  it('forwards exactly 10 of 100 requests at weight 10, answering them with the candidate’s predictions', async () => {
    const candidateLogs = candidate.logs.length;
    const replies: Reply[] = [];
    for (let i = 0; i < 100; i++) replies.push(await score(stable, ROWS[i % ROWS.length]));
    expect(replies.every((r) => r.status === 200)).toBe(true);
    const forwarded = replies.filter((r) => servedBy(r) === 'candidate');
    expect(forwarded).toHaveLength(10);
    // Every answer, forwarded or not, is the model's prediction for its row.
    replies.forEach((r, i) => {
      const expected = XGB_BINARY.expected.score![i % ROWS.length];
      expect(maxRelativeError((r.body as { score: number[] }).score, [expected])).toBeLessThanOrEqual(
        XGB_BINARY.tolerance,
      );
    });
    // The candidate saw 10 binary infer requests, each marked with the step.
    const seen = await candidate.logged(candidateLogs, 10, (r) => r.msg === 'request');
    expect(seen.every((r) => r.route === '/v2/models/:name/infer' && r.status === 200)).toBe(true);
    const counted = await report(stable);
    expect(counted).toMatchObject({
      routing: { version: 'v1', step: 'rollout-1/step-1' },
      inFlight: 0,
      forwarded: 10,
      mirrored: 0,
      stable: { requests: 90, errors: 0 },
      candidate: { requests: 10, errors: 0 },
    });
    expect(total(counted.stable.latency.counts)).toBe(90);
    expect(total(counted.candidate.latency.counts)).toBe(10);
  });

  it('forwards /score, V2 JSON, V2 binary input and binary output alike, with the local predictions', async () => {
    routing.set(routingTo(candidate.url, { version: 'v2', weight: 100 }));
    await following(stable, 'v2');
    const rows = ROWS.slice(0, 20);
    const shape = [rows.length, 5];
    const v2 = { inputs: [{ name: 'X', datatype: 'FP32', shape, data: rows.flat() }] };
    const data = Float32Array.from(rows.flat(), (v) => v ?? NaN);
    const inputs = [{ name: 'X', datatype: 'FP32', shape, parameters: { binary_data_size: data.byteLength } }];
    const binaryIn = binaryInfer({ inputs }, [data]);
    const binaryOut = binaryInfer({ inputs, parameters: { binary_data_output: true } }, [data]);
    const exchanges: [string, (s: TestScorer) => Promise<{ status: number; headers: Headers; body: unknown }>][] = [
      ['/score', (s) => score(s, rows)],
      ['V2 JSON', (s) => inferRaw(s, v2)],
      ['V2 binary input', (s) => inferRaw(s, binaryIn.body, binaryIn.headers)],
      ['V2 binary input and output', (s) => inferRaw(s, binaryOut.body, binaryOut.headers)],
    ];
    for (const [what, send] of exchanges) {
      const forwarded = await send(stable);
      // The candidate itself, asked directly: the same model's answer, computed there.
      const direct = await send(candidate);
      expect({ what, status: forwarded.status, servedBy: servedBy(forwarded) }).toEqual({
        what,
        status: 200,
        servedBy: 'candidate',
      });
      expect(servedBy(direct)).toBeNull();
      expect(forwarded.body).toEqual(direct.body);
      expect(forwarded.headers.get(HEADER_LENGTH)).toBe(direct.headers.get(HEADER_LENGTH));
    }
    expect(await report(stable)).toMatchObject({ forwarded: 4, stable: { requests: 0 }, candidate: { requests: 4 } });
  });

  it('marks forwarded answers on the routes express serves too (URLs with a query string)', async () => {
    routing.set(routingTo(candidate.url, { version: 'v2', weight: 100 }));
    await following(stable, 'v2');
    const seed = await request(`${stable.url}/score?from=test`, 'POST', { X: ROWS[0] });
    const v2 = await request(`${stable.url}/v2/models/${NAME}/versions/1/infer?from=test`, 'POST', {
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 5], data: ROWS[0] }],
    });
    for (const reply of [seed, v2]) expect([reply.status, servedBy(reply)]).toEqual([200, 'candidate']);
    expect(await report(stable)).toMatchObject({ forwarded: 2, candidate: { requests: 2, errors: 0 } });
  });

  it('starts fresh counts when the routing’s step changes', async () => {
    for (let i = 0; i < 20; i++) await score(stable, ROWS[i]);
    expect(await report(stable)).toMatchObject({ forwarded: 2, stable: { requests: 18 } });
    routing.set(routingTo(candidate.url, { version: 'v2', step: 'rollout-1/step-2', weight: 50 }));
    await following(stable, 'v2');
    const fresh = await report(stable);
    expect(fresh).toMatchObject({
      routing: { version: 'v2', step: 'rollout-1/step-2' },
      forwarded: 0,
      stable: { requests: 0, errors: 0 },
      candidate: { requests: 0, errors: 0 },
    });
    expect(total(fresh.stable.latency.counts)).toBe(0);
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await score(stable, ROWS[i]));
    expect(replies.filter((r) => servedBy(r) === 'candidate')).toHaveLength(5);
    expect(await report(stable)).toMatchObject({ forwarded: 5, stable: { requests: 5 }, candidate: { requests: 5 } });
  });

  it('forwards nothing more once the weight is back to 0', async () => {
    routing.set(routingTo(candidate.url, { version: 'v2', weight: 100 }));
    await following(stable, 'v2');
    expect(servedBy(await score(stable, ROWS[0]))).toBe('candidate');
    routing.set(routingTo(candidate.url, { version: 'v3', weight: 0 }));
    await following(stable, 'v3');
    const replies = [];
    for (let i = 0; i < 50; i++) replies.push(await score(stable, ROWS[i % ROWS.length]));
    expect(replies.every((r) => r.status === 200 && servedBy(r) === null)).toBe(true);
    // The same step: its counts stay, the one forwarded request; with nothing routed, predictions are not counted.
    expect(await report(stable)).toMatchObject({ forwarded: 1, stable: { requests: 0 }, candidate: { requests: 1 } });
  });

  it('answers every request itself when the candidate is gone, counting the candidate’s errors', async () => {
    routing.set(routingTo(candidate.url, { version: 'v2', weight: 100 }));
    await following(stable, 'v2');
    expect(servedBy(await score(stable, ROWS[0]))).toBe('candidate');
    await candidate.close();
    const replies = [];
    for (let i = 0; i < 10; i++) replies.push(await score(stable, ROWS[i]));
    expect(replies.map((r) => [r.status, servedBy(r)])).toEqual(new Array(10).fill([200, null]));
    expect(await report(stable)).toMatchObject({
      forwarded: 11,
      inFlight: 0,
      stable: { requests: 10, errors: 0 },
      candidate: { requests: 11, errors: 10 },
    });
    const [warning] = await stable.logged(0, 1, (r) => String(r.msg).startsWith('the candidate gave no answer'));
    expect(warning!.error).toMatch(/ECONNREFUSED|ECONNRESET|socket hang up/);
  });

  it('waits, when shut down, for a forwarded request in flight, and is not held by the routing poll', async () => {
    const proxy = await startHoldingProxy(candidate.url);
    try {
      routing.set(routingTo(proxy.url, { version: 'v2', weight: 100 }));
      await following(stable, 'v2');
      await waitFor('a held routing poll', () => routing.held === 1, 10_000, 10);
      const answer = score(stable, ROWS[0]);
      await proxy.holding(1);
      expect((await report(stable)).inFlight).toBe(1);
      const stopped = stable.shutdown(10_000);
      proxy.release();
      const reply = await answer;
      expect([reply.status, servedBy(reply)]).toEqual([200, 'candidate']);
      const started = performance.now();
      await stopped;
      expect(performance.now() - started).toBeLessThan(5000);
      await waitFor('the routing poll to end', () => routing.held === 0, 10_000, 10);
    } finally {
      await proxy.close();
    }
  });
});

describe('a stable scorer forwarding to two candidate pods', () => {
  it('takes them in turn', async () => {
    const candidates = [await startScorer(XGB_BINARY), await startScorer(XGB_BINARY)];
    await Promise.all(candidates.map((c) => c.ready));
    const routing = await startRoutingServer(
      routingTo(
        candidates.map((c) => c.url),
        { weight: 100 },
      ),
    );
    const stable = await startStable(XGB_BINARY, routing);
    try {
      const logs = candidates.map((c) => c.logs.length);
      for (let i = 0; i < 10; i++) expect(servedBy(await score(stable, ROWS[i]))).toBe('candidate');
      for (const [k, c] of candidates.entries()) {
        await c.logged(logs[k]!, 5, (r) => r.msg === 'request');
        expect(c.logs.slice(logs[k]).filter((r) => r.msg === 'request')).toHaveLength(5);
      }
    } finally {
      await stable.close();
      for (const c of candidates) await c.close();
      await routing.close();
    }
  });

  it('answers locally when the routing lists no candidate pod', async () => {
    const routing = await startRoutingServer(routingTo([], { weight: 100, shadow: 100 }));
    const stable = await startStable(XGB_BINARY, routing);
    try {
      const reply = await score(stable, ROWS[0]);
      expect([reply.status, servedBy(reply)]).toEqual([200, null]);
      expect(await report(stable)).toMatchObject({ forwarded: 0, mirrored: 0, stable: { requests: 1 } });
    } finally {
      await stable.close();
      await routing.close();
    }
  });
});

describe('a stable scorer forwarding a model with two outputs, one of integers', () => {
  it('returns the candidate’s outputs as the client asked for them', async () => {
    const candidate = await startScorer(LOGREG);
    const routing = await startRoutingServer(routingTo(candidate.url, { weight: 100 }));
    const stable = await startStable(LOGREG, routing);
    try {
      await candidate.ready;
      const rows = LOGREG.inputs.slice(0, 10);
      const json = { inputs: [{ name: 'input', datatype: 'FP32', shape: [10, 8], data: rows }] };
      const named = { ...json, outputs: [{ name: 'label' }] };
      for (const body of [json, named, { ...json, parameters: { binary_data_output: true } }]) {
        const forwarded = await inferRaw(stable, body);
        const direct = await inferRaw(candidate, body);
        expect([forwarded.status, servedBy(forwarded)]).toEqual([200, 'candidate']);
        expect(forwarded.body).toEqual(direct.body);
      }
      const seed = await score(stable, rows);
      expect((seed.body as { score: number[] }).score).toEqual(LOGREG.expected.label!.slice(0, 10));
    } finally {
      await stable.close();
      await candidate.close();
      await routing.close();
    }
  });
});

describe('a stable scorer mirroring to a candidate', () => {
  let routing: RoutingServer;
  const scorers: TestScorer[] = [];
  afterEach(async () => {
    for (const s of scorers.splice(0)) await s.close();
    await routing.close();
  });

  /** The stable and candidate scorers, the stable one mirroring `shadow`% to the candidate. */
  async function pair(candidateModel: Fixture, fields: Partial<Routing>, options: ScorerOptions = {}) {
    const candidate = await startScorer(candidateModel);
    scorers.push(candidate);
    await candidate.ready;
    routing = await startRoutingServer(routingTo(candidate.url, fields));
    const stable = await startStable(XGB_BINARY, routing, 'v1', {}, options);
    scorers.unshift(stable);
    return { stable, candidate };
  }

  /** The report once every mirror sent has been answered. */
  const settled = (stable: TestScorer, mirrored: number): Promise<RolloutReport> =>
    waitFor(
      `${mirrored} mirrors answered`,
      async () => {
        const r = await report(stable);
        return r.mirrored === mirrored && r.inFlight === 0 && r.candidate.requests === mirrored ? r : undefined;
      },
      10_000,
      20,
    );

  it('never returns the candidate’s answer, and counts where a different model disagrees', async () => {
    const { stable, candidate } = await pair(XGB_BASE_SCORE, { shadow: 100 });
    const logs = candidate.logs.length;
    const batches = [ROWS.slice(0, 10), ROWS.slice(10, 30), ROWS.slice(30)];
    for (const rows of batches) {
      const reply = await score(stable, rows);
      expect(servedBy(reply)).toBeNull();
      const expected = XGB_BINARY.expected.score!.slice(ROWS.indexOf(rows[0]!), ROWS.indexOf(rows[0]!) + rows.length);
      expect(maxRelativeError((reply.body as { score: number[] }).score, expected)).toBeLessThanOrEqual(
        XGB_BINARY.tolerance,
      );
    }
    const counted = await settled(stable, 3);
    await candidate.logged(logs, 3, (r) => r.msg === 'request' && r.status === 200);
    expect(counted).toMatchObject({
      forwarded: 0,
      mirrorsSkipped: 0,
      stable: { requests: 3, errors: 0 },
      candidate: { requests: 3, errors: 0 },
    });
    expect(counted.agreement.rows).toBe(ROWS.length);
    expect(counted.agreement.values).toBe(ROWS.length);
    expect(counted.agreement.agreeing).toBeLessThan(ROWS.length);
    expect(counted.agreement.absDiffSum).toBeGreaterThan(0);
  });

  it('counts every row as agreeing when the candidate has the same model', async () => {
    const { stable } = await pair(XGB_BINARY, { shadow: 100 });
    for (const rows of [ROWS.slice(0, 25), ROWS.slice(25)]) expect(servedBy(await score(stable, rows))).toBeNull();
    const counted = await settled(stable, 2);
    expect(counted.agreement).toEqual({ rows: ROWS.length, agreeing: ROWS.length, values: ROWS.length, absDiffSum: 0 });
  });

  it('mirrors exactly the shadow’s share of the requests', async () => {
    const { stable } = await pair(XGB_BINARY, { shadow: 25 });
    for (let i = 0; i < 40; i++) await score(stable, ROWS[i]);
    const counted = await settled(stable, 10);
    expect(counted).toMatchObject({ stable: { requests: 40 }, agreement: { rows: 10, agreeing: 10 } });
  });

  it('answers without waiting for the mirrors, and skips those beyond the most in flight', async () => {
    const candidate = await startScorer(XGB_BINARY);
    scorers.push(candidate);
    await candidate.ready;
    const proxy = await startHoldingProxy(candidate.url);
    try {
      routing = await startRoutingServer(routingTo(proxy.url, { shadow: 100 }));
      const stable = await startStable(XGB_BINARY, routing, 'v1', {}, { rollout: { maxMirrors: 2 } });
      scorers.unshift(stable);
      for (let i = 0; i < 5; i++) expect((await score(stable, ROWS[i])).status).toBe(200);
      await proxy.holding(2);
      expect(await report(stable)).toMatchObject({ mirrored: 2, mirrorsSkipped: 3, inFlight: 2 });
      proxy.release();
      const counted = await settled(stable, 2);
      expect(counted).toMatchObject({ mirrorsSkipped: 3, agreement: { rows: 2, agreeing: 2 } });
    } finally {
      await proxy.close();
    }
  });

  it('counts a candidate that refuses the inputs as failing, and the client never sees it', async () => {
    const { stable } = await pair(XGB_SIX, { shadow: 100 });
    for (let i = 0; i < 4; i++) expect((await score(stable, ROWS[i])).status).toBe(200);
    const counted = await waitFor('4 mirrors failed', async () => {
      const r = await report(stable);
      return r.candidate.errors === 4 && r.inFlight === 0 && r;
    });
    expect(counted).toMatchObject({ mirrored: 4, candidate: { requests: 4 }, agreement: { rows: 0 } });
  });
});

describe('a stable scorer forwarding to a candidate whose model refuses the inputs', () => {
  it('answers 422 with the candidate’s reason on one line, and counts the candidate’s error', async () => {
    const candidate = await startScorer(XGB_SIX);
    await candidate.ready;
    const routing = await startRoutingServer(routingTo(candidate.url, { weight: 100 }));
    const stable = await startStable(XGB_BINARY, routing);
    try {
      const reply = await score(stable, ROWS[0]);
      expect(reply.status).toBe(422);
      expect(servedBy(reply)).toBeNull();
      const { error } = reply.body as { error: string };
      expect(error).toMatch(
        /^the model could not score this input: the candidate answered 400: input "X" has shape \[1, 5\]; the model expects \[-1, 6\]/,
      );
      expect(error).not.toContain('\n');
      expect(await report(stable)).toMatchObject({
        forwarded: 1,
        stable: { requests: 0 },
        candidate: { requests: 1, errors: 1 },
      });
    } finally {
      await stable.close();
      await candidate.close();
      await routing.close();
    }
  });
});

describe('drift monitoring of a stable scorer that forwards', () => {
  it('counts the rows the candidate answered, as every row this scorer answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scorer-rollout-'));
    const baseline = writeBaseline(dir, 'xgb.json', baselineOf(5, [0, 1, 2], [histogram('score', [0.5])]));
    const candidate = await startScorer(XGB_BINARY);
    await candidate.ready;
    const routing = await startRoutingServer(routingTo(candidate.url, { weight: 100 }));
    const stable = await startStable(XGB_BINARY, routing, 'v1', { MONITOR_BASELINE: baseline });
    try {
      const reply = await score(stable, ROWS.slice(0, 12));
      expect(servedBy(reply)).toBe('candidate');
      const drift = monitoringReportSchema.parse((await request(`${stable.url}${monitoringPath(NAME)}`)).body);
      expect(drift.window.rows).toBe(12);
      expect(total(drift.outputs[0]!.counts)).toBe(12);
    } finally {
      await stable.close();
      await candidate.close();
      await routing.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the rollout endpoints without a rollout', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startScorer(XGB_BINARY);
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('answers GET .../rollout with 404: rollouts are off without ROUTING_URL', async () => {
    for (const path of [rolloutReportPath(NAME), `/v2/models/${NAME}/versions/1/rollout`]) {
      const reply = await request(`${scorer.url}${path}`);
      expect(reply).toMatchObject({ status: 404, body: { error: 'rollouts are off: ROUTING_URL is not set' } });
    }
  });

  it('answers a forwarded request with its own prediction time, and no other request', async () => {
    const forwarded = await request(`${scorer.url}/score`, 'POST', { X: ROWS[0] }, { [FORWARDED_HEADER]: 'r-1/s-1' });
    const seconds = Number(forwarded.headers.get(PREDICT_SECONDS_HEADER));
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(1);
    const plain = await request(`${scorer.url}/score`, 'POST', { X: ROWS[0] });
    expect(plain.headers.get(PREDICT_SECONDS_HEADER)).toBeNull();
    expect(servedBy(plain)).toBeNull();
  });

  it('does not count GET .../rollout as an API request in the metrics', async () => {
    await request(`${scorer.url}${rolloutReportPath(NAME)}`);
    const metrics = (await request(`${scorer.metricsUrl}/metrics`)).body as string;
    expect(metrics).not.toMatch(/route="\/v2\/models\/:name\/rollout"/);
  });
});

describe('a stable scorer whose routing endpoint is unreachable', () => {
  it('serves every request itself, uncounted, and reports no routing', async () => {
    const routing = await startRoutingServer(undefined);
    const url = routing.url;
    await routing.close();
    const stable = await startScorer(XGB_BINARY, { ROUTING_URL: url });
    try {
      await stable.ready;
      await stable.logged(0, 1, (r) => r.msg === 'cannot read the routing; keeping the one held');
      const reply = await score(stable, ROWS[0]);
      expect([reply.status, servedBy(reply)]).toEqual([200, null]);
      expect(await report(stable)).toMatchObject({
        routing: { version: 'none', step: '' },
        stable: { requests: 0 },
        candidate: { requests: 0 },
      });
    } finally {
      await stable.close();
    }
  });
});

interface HoldingProxy {
  url: string;
  /** Resolves once `count` requests are held. */
  holding(count: number): Promise<void>;
  /** Passes the requests held, and every later one, to the target. */
  release(): void;
  close(): Promise<void>;
}

/** An HTTP proxy to `target` that holds every request until released: a candidate that is slow to answer. */
async function startHoldingProxy(target: string): Promise<HoldingProxy> {
  const { hostname, port } = new URL(target);
  const held: (() => void)[] = [];
  let released = false;
  const pass = (req: IncomingMessage, body: Buffer, res: ServerResponse) => {
    const out = httpRequest(
      { host: hostname, port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    out.end(body);
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const go = () => pass(req, Buffer.concat(chunks), res);
    if (released) go();
    else held.push(go);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holding: (count) => waitFor(`${count} requests held`, () => held.length >= count, 10_000, 10).then(() => undefined),
    release() {
      released = true;
      for (const go of held.splice(0)) go();
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

describeWithGrpcurl('gRPC calls to a stable scorer forwarding to a candidate (grpcurl)', () => {
  let candidate: TestScorer;
  let routing: RoutingServer;
  let stable: TestScorer;
  beforeEach(async () => ({ candidate, routing, stable } = await startForwarding(100)));
  afterEach(() => stopForwarding(candidate, routing, stable));

  const rows = ROWS.slice(0, 10);
  /** ModelInfer through grpcurl -v: the response's headers and its outputs' values. */
  async function infer(): Promise<{ headers: string[]; values: number[] }> {
    const call = {
      model_name: NAME,
      inputs: [
        {
          name: 'X',
          datatype: 'FP32',
          shape: [rows.length, 5],
          // protobuf's JSON mapping spells a float's missing value "NaN".
          contents: { fp32_contents: rows.flat().map((v) => (v === null ? 'NaN' : v)) },
        },
      ],
    };
    const text = await grpcurlText([
      '-plaintext',
      '-v',
      '-d',
      JSON.stringify(call),
      stable.grpcAddress,
      `${SERVICE}/ModelInfer`,
    ]);
    const section = (title: string) => text.split(`${title}:\n`)[1]!.split('\n\n')[0]!;
    const answer = JSON.parse(section('Response contents')) as {
      outputs: { contents: { fp32Contents: number[] } }[];
    };
    return {
      headers: section('Response headers received').split('\n'),
      values: answer.outputs[0]!.contents.fp32Contents,
    };
  }

  it('says an answer the candidate computed came from it, in the response headers, as REST does', async () => {
    const { headers, values } = await infer();
    expect(headers).toContain(`${SERVED_BY_HEADER}: candidate`);
    expect(maxRelativeError(values, XGB_BINARY.expected.score!.slice(0, rows.length))).toBeLessThanOrEqual(
      XGB_BINARY.tolerance,
    );
    const counted = await report(stable);
    expect(counted).toMatchObject({ forwarded: 1, candidate: { requests: 1, errors: 0 } });
  });

  it('says nothing of the kind on an answer the stable scorer computed (weight 0)', async () => {
    routing.set(routingTo(candidate.url, { version: 'v2', weight: 0 }));
    await following(stable, 'v2');
    const { headers, values } = await infer();
    expect(headers.some((h) => h.startsWith(`${SERVED_BY_HEADER}:`))).toBe(false);
    expect(maxRelativeError(values, XGB_BINARY.expected.score!.slice(0, rows.length))).toBeLessThanOrEqual(
      XGB_BINARY.tolerance,
    );
    expect(await report(stable)).toMatchObject({ forwarded: 0, candidate: { requests: 0 } });
  });
});
