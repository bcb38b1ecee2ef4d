/** The scorer's /metrics: what counts as a request, the latency by status, the model's identity, promtool's verdict. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RequestMetrics } from '../../scorer/metrics.js';
import { checkMetrics, itWithPromtool } from '../helpers/promtool.js';
import { request, startTestScorer, type TestScorer } from '../helpers/scorer.js';
import { waitFor } from '../helpers/wait.js';

const MODEL = fileURLToPath(new URL('../fixtures/shared/xgb_binary.json', import.meta.url));

const scrape = async (scorer: TestScorer) => (await request(`${scorer.metricsUrl}/metrics`)).body as string;

/** The value of one series in a scrape; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * The scrape once `done` holds of it: a request is accounted when its answer has been written, which the client may
 * see a moment before.
 */
function scrapeUntil(scorer: TestScorer, done: (text: string) => boolean): Promise<string> {
  return waitFor(
    'the metrics to come to the expected values',
    async () => {
      const text = await scrape(scorer);
      return done(text) ? text : undefined;
    },
    5000,
    10,
  );
}

describe('the scorer metrics', () => {
  let scorer: TestScorer;
  let features: number;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: MODEL });
    const model = await scorer.ready;
    features = model.inputs[0]!.shape[1]!;
  });
  afterAll(() => scorer.close());

  const row = () => new Array(features).fill(0.5);

  it('count scoring requests by route, method and status, and time them by route and status', async () => {
    await request(`${scorer.url}/score`, 'POST', { X: [row()] });
    await request(`${scorer.url}/score`, 'POST', { X: [row(), row()] });
    await request(`${scorer.url}/score`, 'POST', { X: 'not rows' });
    await request(`${scorer.url}/v2/models/xgb_binary/infer`, 'POST', {
      inputs: [{ name: 'X', datatype: 'FP32', shape: [1, features], data: row() }],
    });
    const text = await scrapeUntil(
      scorer,
      (t) => sample(t, 'scorer_request_duration_seconds_count{route="/v2/models/:name/infer",status="200"}') === 1,
    );
    expect(sample(text, 'scorer_requests_total{route="/score",method="POST",status="200"}')).toBe(2);
    expect(sample(text, 'scorer_requests_total{route="/score",method="POST",status="400"}')).toBe(1);
    expect(sample(text, 'scorer_request_duration_seconds_count{route="/score",status="200"}')).toBe(2);
    expect(sample(text, 'scorer_request_duration_seconds_count{route="/score",status="400"}')).toBe(1);
    expect(sample(text, 'scorer_request_duration_seconds_bucket{route="/score",status="200",le="+Inf"}')).toBe(2);
    expect(sample(text, 'scorer_request_duration_seconds_sum{route="/score",status="200"}')).toBeGreaterThan(0);
    expect(sample(text, 'scorer_rows_scored_total')).toBe(4);
  });

  it('count neither scrapes nor health probes as requests, in flight or done', async () => {
    expect((await request(`${scorer.metricsUrl}/metrics`)).status).toBe(200);
    for (const path of ['/v2/health/live', '/v2/health/ready']) {
      expect((await request(`${scorer.url}${path}`)).status).toBe(200);
    }
    expect((await request(`${scorer.metricsUrl}/metrics`)).status).toBe(200);
    // Answered after the probes and counted: every request before it has been accounted too.
    await request(`${scorer.url}/v2/models/xgb_binary/ready`);
    const text = await scrapeUntil(
      scorer,
      (t) => sample(t, 'scorer_requests_total{route="/v2/models/:name/ready",method="GET",status="200"}') === 1,
    );
    expect(text).not.toMatch(/route="\/metrics"/);
    expect(text).not.toMatch(/route="\/v2\/health\//);
    expect(sample(text, 'scorer_inflight_requests')).toBe(0);
  });

  it("name the model, its format and its file's SHA-256 in scorer_model_info", async () => {
    const sha256 = createHash('sha256').update(readFileSync(MODEL)).digest('hex');
    const text = await scrape(scorer);
    expect(
      sample(text, `scorer_model_info{name="xgb_binary",format="xgboost",sha256="${sha256}",uri="${MODEL}"}`),
    ).toBe(1);
  });

  it("are served on the metrics port alone: the API's port answers /metrics with a 404", async () => {
    expect(scorer.metricsUrl).not.toBe(scorer.url);
    const api = await request(`${scorer.url}/metrics`);
    expect(api.status).toBe(404);
    expect(api.body).toEqual({ error: 'no route for GET /metrics' });
    const metrics = await request(`${scorer.metricsUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    for (const family of ['scorer_requests_total', 'scorer_request_duration_seconds', 'scorer_model_info']) {
      expect(metrics.body).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    }
    // Nothing else on the metrics port: not the API, not the probes.
    for (const path of ['/', '/v2/health/ready', '/score', '/metrics/x']) {
      const reply = await request(`${scorer.metricsUrl}${path}`);
      expect(reply.status).toBe(404);
      expect(reply.body).toEqual({ error: `no route for GET ${path}` });
    }
    expect((await request(`${scorer.metricsUrl}/metrics`, 'POST', {})).status).toBe(405);
  });

  itWithPromtool('pass promtool check metrics after scoring requests', async (promtool) => {
    await request(`${scorer.url}/score`, 'POST', { X: [row()] });
    await request(`${scorer.url}/score`, 'POST', { X: [[1]] });
    await request(`${scorer.url}/no/such/route`);
    const text = await scrapeUntil(scorer, (t) => /route="unmatched",method="GET",status="404"/.test(t));
    expect(checkMetrics(promtool, text)).toEqual({ status: 0, output: '' });
  });
});

describe('RequestMetrics', () => {
  it('counts each request in its own route, method and status, whichever came before it', () => {
    const metrics = new RequestMetrics();
    const requests: [string, string, number][] = [
      ['/score', 'POST', 200],
      ['/score', 'POST', 200],
      ['/other', 'POST', 200],
      ['/other', 'GET', 200],
      ['/other', 'GET', 404],
      ['/score', 'POST', 200],
    ];
    for (const [route, method, status] of requests) metrics.observe(route, method, status, 0.001);
    const counts = metrics.snapshot().series.map(({ route, method, status, count }) => [route, method, status, count]);
    expect(counts).toEqual([
      ['/score', 'POST', 200, 3],
      ['/other', 'POST', 200, 1],
      ['/other', 'GET', 200, 1],
      ['/other', 'GET', 404, 1],
    ]);
  });
});

describe('the identity model in scorer_model_info', () => {
  it('has no file, so no digest', async () => {
    const scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity' });
    try {
      await scorer.ready;
      expect(
        sample(await scrape(scorer), 'scorer_model_info{name="identity",format="identity",sha256="",uri="identity"}'),
      ).toBe(1);
    } finally {
      await scorer.close();
    }
  });
});
