/**
 * Drift monitoring in a real scorer over real sockets (MONITOR_BASELINE): the rows of every protocol counted in the
 * window, the window moving on an injected clock, GET /v2/models/{name}/monitoring and the scorer_drift_* metrics, and
 * baselines that cannot be used, each with its reason, while the model is served all the same.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitoringPath, monitoringReportSchema, type MonitoringReport } from '../../../contract/drift.js';
import { baselineOf, histogram, TestClock, writeBaseline } from '../../helpers/baseline.js';
import { checkMetrics, itWithPromtool } from '../../helpers/promtool.js';
import { binaryInfer, request, startTestScorer, type TestScorer } from '../../helpers/scorer.js';
import { waitFor } from '../../helpers/wait.js';
import { file, startModelServer } from '../../servers/http.js';
import { startS3Server, type S3Server } from '../../servers/s3.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));
/** X [-1, 5] (FP32) -> score [-1]. */
const XGB = fixture('shared/xgb_binary.json');
/** input [-1, 8] (FP32) -> label [-1] (INT64), probabilities [-1, 3]. */
const LOGREG = fixture('shared/logreg_multiclass.onnx');
const EDGES = [0, 1, 2];

let dir: string;
let xgbBaseline: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scorer-monitor-'));
  xgbBaseline = writeBaseline(dir, 'xgb.json', baselineOf(5, EDGES, [histogram('score', [0.5])]));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The report, checked against the contract's schema. */
async function report(scorer: TestScorer, model: string): Promise<MonitoringReport> {
  const reply = await request(`${scorer.url}${monitoringPath(model)}`);
  expect(reply.status).toBe(200);
  return monitoringReportSchema.parse(reply.body);
}

const scrape = async (scorer: TestScorer) => (await request(`${scorer.metricsUrl}/metrics`)).body as string;

/** The value of one series in a scrape; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const total = (counts: number[]) => counts.reduce((a, b) => a + b, 0);

describe('a scorer with a drift baseline', () => {
  let scorer: TestScorer;
  let clock: TestClock;
  beforeEach(async () => {
    clock = new TestClock();
    scorer = await startTestScorer(
      { MODEL_URI: XGB, MONITOR_BASELINE: xgbBaseline, MONITOR_WINDOW_SECONDS: '100', MONITOR_MIN_ROWS: '4' },
      undefined,
      { now: clock.now },
    );
    await scorer.ready;
  });
  afterEach(() => scorer.close());

  it('counts the rows of every protocol: /score, V2 JSON, V2 binary in, V2 binary in and out', async () => {
    const scores: number[] = [];
    const score = async (...args: Parameters<typeof request>) => {
      const reply = await request(...args);
      expect(reply.status).toBe(200);
      return reply;
    };
    const seed = await score(`${scorer.url}/score`, 'POST', { X: [-1, 0.5, 1, 1.5, 3] });
    scores.push(...(seed.body as { score: number[] }).score);
    const rows = await score(`${scorer.url}/score`, 'POST', {
      X: [
        [null, 0, 0, 0, 0],
        [5, 5, 5, 5, 5],
      ],
    });
    scores.push(...(rows.body as { score: number[] }).score);
    const infer = `${scorer.url}/v2/models/xgb_binary/infer`;
    const v2 = await score(infer, 'POST', {
      inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 5], data: [[0.5, 0.5, 0.5, 0.5, 0.5]] }],
    });
    scores.push(...(v2.body as { outputs: { data: number[] }[] }).outputs[0]!.data);
    const input = { name: 'X', datatype: 'FP32', shape: [2, 5], parameters: { binary_data_size: 40 } };
    const data = Float32Array.from([1.5, 1.5, 1.5, 1.5, 1.5, -2, -2, -2, -2, -2]);
    const binary = binaryInfer({ inputs: [input] }, [data]);
    const bin = await score(infer, 'POST', binary.body, binary.headers);
    scores.push(...(bin.body as { outputs: { data: number[] }[] }).outputs[0]!.data);
    const binaryOut = binaryInfer({ inputs: [input], parameters: { binary_data_output: true } }, [data]);
    const out = await fetch(infer, { method: 'POST', body: binaryOut.body, headers: binaryOut.headers });
    expect(out.status).toBe(200);
    scores.push(...scores.slice(-2)); // the same rows as the binary request before

    const r = await report(scorer, 'xgb_binary');
    expect(r.window.rows).toBe(8);
    // x0: -1, null, 5, 0.5, 1.5, -2, 1.5, -2.
    expect(r.features[0]!.counts).toEqual([3, 1, 2, 1, 1]);
    // x1: 0.5, 0, 5, 0.5, 1.5, -2, 1.5, -2.
    expect(r.features[1]!.counts).toEqual([3, 2, 2, 1, 0]);
    expect(r.outputs[0]!.counts).toEqual([
      scores.filter((s) => s <= 0.5).length,
      scores.filter((s) => s > 0.5).length,
      0,
    ]);
  });

  it('answers the report: the window, the baseline it was fetched as, counts, shares and PSI', async () => {
    await request(`${scorer.url}/score`, 'POST', { X: [[0.5, 0.5, 0.5, 0.5, 0.5]] });
    clock.advance(2_500);
    const r = await report(scorer, 'xgb_binary');
    const sha256 = createHash('sha256').update(readFileSync(xgbBaseline)).digest('hex');
    expect(r).toEqual({
      model: 'xgb_binary',
      baseline: { sha256, uri: xgbBaseline, rows: 1000 },
      window: {
        start: new Date(clock.time - 2_500).toISOString(),
        end: new Date(clock.time).toISOString(),
        seconds: 2.5,
        rows: 1,
      },
      minRows: 4,
      features: ['x0', 'x1', 'x2', 'x3', 'x4'].map((name) => ({
        name,
        counts: [0, 1, 0, 0, 0],
        expected: [0.2, 0.2, 0.2, 0.2, 0.2],
        psi: null,
      })),
      outputs: [{ name: 'score', counts: expect.any(Array), expected: [1 / 3, 1 / 3, 1 / 3], psi: null }],
    });
    expect(await request(`${scorer.url}/v2/models/xgb_binary/versions/1/monitoring`)).toMatchObject({
      status: 200,
      body: { model: 'xgb_binary' },
    });
  });

  it('lets rows leave the window once it has moved past them, a slice at a time', async () => {
    await request(`${scorer.url}/score`, 'POST', { X: [[3, 3, 3, 3, 3]] });
    clock.advance(50_000);
    await request(`${scorer.url}/score`, 'POST', {
      X: [
        [-3, -3, -3, -3, -3],
        [-3, -3, -3, -3, -3],
      ],
    });
    expect((await report(scorer, 'xgb_binary')).features[0]!.counts).toEqual([2, 0, 0, 1, 0]);

    clock.advance(50_000); // 100 s since the first request: its slice has left the window
    let r = await report(scorer, 'xgb_binary');
    expect(r.window.rows).toBe(2);
    expect(r.features[0]!.counts).toEqual([2, 0, 0, 0, 0]);

    clock.advance(50_000);
    r = await report(scorer, 'xgb_binary');
    expect(r.window).toMatchObject({ rows: 0, seconds: 90 });
    expect(r.features[0]!.counts).toEqual([0, 0, 0, 0, 0]);
    expect(sample(await scrape(scorer), 'scorer_drift_window_rows')).toBe(0);
  });

  itWithPromtool(
    'exposes the window rows, and each PSI once the window has MONITOR_MIN_ROWS rows',
    async (promtool) => {
      const row = [0.5, 0.5, 0.5, 0.5, 3];
      await request(`${scorer.url}/score`, 'POST', { X: [row, row, row] });
      let text = await scrape(scorer);
      expect(sample(text, 'scorer_drift_window_rows')).toBe(3);
      expect(text).not.toMatch(/^scorer_drift_psi\{/m);
      expect(text).toMatch(/^# TYPE scorer_drift_psi gauge$/m);

      await request(`${scorer.url}/score`, 'POST', { X: [row] });
      text = await scrape(scorer);
      const r = await report(scorer, 'xgb_binary');
      expect(sample(text, 'scorer_drift_window_rows')).toBe(4);
      for (const h of r.features) {
        expect(h.psi).toEqual(expect.any(Number));
        expect(sample(text, `scorer_drift_psi{feature="${h.name}"}`)).toBe(h.psi);
      }
      expect(sample(text, 'scorer_drift_output_psi{output="score"}')).toBe(r.outputs[0]!.psi);
      // Four rows all in one bin of five even shares: (1 - 0.2) ln(1 / 0.2) + 4 (1e-4 - 0.2) ln(1e-4 / 0.2).
      expect(r.features[0]!.psi).toBeCloseTo(0.8 * Math.log(5) + 4 * (1e-4 - 0.2) * Math.log(1e-4 / 0.2), 12);
      expect(sample(text, 'scorer_drift_rows_skipped_total')).toBe(0);
      expect(checkMetrics(promtool, text)).toEqual({ status: 0, output: '' });
    },
  );

  it('answers 404 for another model, and counts no read of the window as a scoring request', async () => {
    expect(await request(`${scorer.url}${monitoringPath('other')}`)).toMatchObject({
      status: 404,
      body: { error: 'model "other" not found' },
    });
    await report(scorer, 'xgb_binary');
    // Answered after the reads and counted: every request before it has been accounted too.
    await request(`${scorer.url}/v2/models/xgb_binary/ready`);
    const text = await waitFor(
      'the ready request in the metrics',
      async () => {
        const t = await scrape(scorer);
        return /route="\/v2\/models\/:name\/ready"/.test(t) ? t : undefined;
      },
      5000,
      10,
    );
    expect(text).not.toMatch(/route="[^"]*monitoring"/);
  });
});

describe('outputs and threads', () => {
  let scorer: TestScorer | undefined;
  afterEach(() => scorer?.close());

  it('counts only the outputs a V2 request asks for', async () => {
    const outputs = [histogram('label', [0.5, 1.5]), ...[0, 1, 2].map((j) => histogram(`probabilities[${j}]`, [0.5]))];
    const path = writeBaseline(dir, 'logreg.json', baselineOf(8, EDGES, outputs));
    scorer = await startTestScorer({ MODEL_URI: LOGREG, MONITOR_BASELINE: path });
    await scorer.ready;
    const infer = `${scorer.url}/v2/models/logreg_multiclass/infer`;
    const input = { name: 'input', datatype: 'FP32', shape: [2, 8], data: new Array(16).fill(0.5) };
    await request(infer, 'POST', { inputs: [input], outputs: [{ name: 'probabilities' }] });
    let r = await report(scorer, 'logreg_multiclass');
    expect(r.window.rows).toBe(2);
    expect(r.outputs.map((h) => total(h.counts))).toEqual([0, 2, 2, 2]);

    const all = await request(infer, 'POST', { inputs: [input] });
    const labels = (all.body as { outputs: { name: string; data: number[] }[] }).outputs[0]!.data;
    r = await report(scorer, 'logreg_multiclass');
    expect(r.outputs.map((h) => total(h.counts))).toEqual([2, 4, 4, 4]);
    // The labels (INT64) in their bins: 0 | 1 | 2.
    expect(r.outputs[0]!.counts).toEqual([0, 1, 2].map((c) => labels.filter((l) => l === c).length).concat(0));
  });

  it('counts the rows of a model predicting on its own thread (PREDICT_THREAD)', async () => {
    scorer = await startTestScorer({ MODEL_URI: XGB, MONITOR_BASELINE: xgbBaseline, PREDICT_THREAD: 'true' });
    await scorer.ready;
    await request(`${scorer.url}/score`, 'POST', { X: [[0.5, 0.5, 0.5, 0.5, 0.5]] });
    const r = await report(scorer, 'xgb_binary');
    expect(r.features[0]!.counts).toEqual([0, 1, 0, 0, 0]);
    expect(total(r.outputs[0]!.counts)).toBe(1);
  });

  it('skips rows of another width than the baseline, and counts them in scorer_drift_rows_skipped_total', async () => {
    const path = writeBaseline(dir, 'identity.json', baselineOf(2, EDGES));
    scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity', MONITOR_BASELINE: path });
    await scorer.ready;
    expect((await request(`${scorer.url}/score`, 'POST', { X: [[1, 2, 3]] })).status).toBe(200);
    expect((await request(`${scorer.url}/score`, 'POST', { X: [1, 2] })).status).toBe(200);
    expect((await report(scorer, 'identity')).window.rows).toBe(1);
    expect(sample(await scrape(scorer), 'scorer_drift_rows_skipped_total')).toBe(1);
  });
});

describe('a baseline fetched as a model is', () => {
  const sha256 = () => createHash('sha256').update(readFileSync(xgbBaseline)).digest('hex');

  it('from http(s), with its digest checked and its URI redacted in the report', async () => {
    const server = await startModelServer();
    server.route('/drift/baseline.json', file(readFileSync(xgbBaseline)));
    const scorer = await startTestScorer({
      MODEL_URI: XGB,
      MONITOR_BASELINE: `http://user:secret@${server.url.slice('http://'.length)}/drift/baseline.json?token=abc`,
      MONITOR_BASELINE_SHA256: sha256(),
    });
    try {
      await scorer.ready;
      expect((await report(scorer, 'xgb_binary')).baseline).toEqual({
        sha256: sha256(),
        uri: `http://***@${server.url.slice('http://'.length)}/drift/baseline.json?***`,
        rows: 1000,
      });
    } finally {
      await scorer.close();
      await server.close();
    }
  });

  describe('from s3', () => {
    let s3: S3Server;
    beforeAll(async () => {
      s3 = await startS3Server();
      await s3.bucket('drift');
      await s3.put('drift', 'churn/baseline.json', readFileSync(xgbBaseline));
    }, 600_000); // the first run builds MinIO from its Go module
    afterAll(() => s3?.stop());

    it('with the credentials and endpoint the model would use', async () => {
      const credentials = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };
      // The S3 client reads credentials from the process environment, as it would in a pod.
      const saved = { ...process.env };
      Object.assign(process.env, credentials, { AWS_REGION: 'us-east-1' });
      const scorer = await startTestScorer({
        MODEL_URI: XGB,
        MONITOR_BASELINE: 's3://drift/churn/baseline.json',
        S3_ENDPOINT: s3.endpoint,
      });
      try {
        await scorer.ready;
        expect((await report(scorer, 'xgb_binary')).baseline).toEqual({
          sha256: sha256(),
          uri: 's3://drift/churn/baseline.json',
          rows: 1000,
        });
      } finally {
        await scorer.close();
        for (const key of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
          if (saved[key] === undefined) delete process.env[key];
          else process.env[key] = saved[key];
        }
      }
    });
  });
});

describe('a baseline that cannot be used', () => {
  /** A URL nothing listens on, with credentials and a token the logs and answers must not show. */
  async function refusedUrl(): Promise<string> {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((r) => server.close(r));
    return `http://user:secret@127.0.0.1:${port}/baseline.json?token=abc`;
  }

  it.each([
    [
      'an unreachable URL',
      async () => ({ MONITOR_BASELINE: await refusedUrl() }),
      /^cannot load baseline http:\/\/\*\*\*@127\.0\.0\.1:\d+\/baseline\.json\?\*\*\*: connection refused$/,
    ],
    [
      'a wrong digest',
      async () => ({ MONITOR_BASELINE: xgbBaseline, MONITOR_BASELINE_SHA256: '0'.repeat(64) }),
      /^cannot load baseline .*xgb\.json: sha256 mismatch: expected 0{64}, got [0-9a-f]{64}$/,
    ],
    [
      'a file that is not JSON',
      async () => ({ MONITOR_BASELINE: writeBaseline(dir, 'bad.json', '{"version": 1,') }),
      /^cannot load baseline .*bad\.json: the baseline is not JSON: /,
    ],
    [
      'a baseline of another version',
      async () => ({ MONITOR_BASELINE: writeBaseline(dir, 'v2.json', '{"version": 2}') }),
      /: the baseline's version is 2; this scorer reads version 1$/,
    ],
    [
      'a baseline of 3 features for a model of 5',
      async () => ({ MONITOR_BASELINE: writeBaseline(dir, 'three.json', baselineOf(3, EDGES)) }),
      /^baseline .*three\.json does not fit model "xgb_binary": the baseline has 3 features; the model's inputs take 5 values a row \("X" \[-1, 5\]\)$/,
    ],
    [
      'more histograms than MONITOR_MAX_HISTOGRAMS',
      async () => ({ MONITOR_BASELINE: xgbBaseline, MONITOR_MAX_HISTOGRAMS: '5' }),
      /: the baseline has 6 histograms \(5 features, 1 output\); MONITOR_MAX_HISTOGRAMS allows 5$/,
    ],
  ])(
    '%s: serves the model, logs why, and the monitoring endpoint answers 503 with the reason',
    async (_what, env, reason) => {
      const scorer = await startTestScorer({ MODEL_URI: XGB, DOWNLOAD_RETRIES: '0', ...(await env()) });
      try {
        await scorer.ready;
        expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(200);
        expect((await request(`${scorer.url}/score`, 'POST', { X: [0.5, 0.5, 0.5, 0.5, 0.5] })).status).toBe(200);
        const reply = await request(`${scorer.url}${monitoringPath('xgb_binary')}`);
        expect(reply.status).toBe(503);
        const { error } = reply.body as { error: string };
        expect(error).toMatch(reason);
        expect(scorer.logs).toContainEqual(
          expect.objectContaining({
            level: 50,
            reason: error,
            msg: 'drift monitoring is off: the model is served without it',
          }),
        );
        expect(JSON.stringify(scorer.logs)).not.toMatch(/secret|token=/);
        expect(await scrape(scorer)).not.toMatch(/scorer_drift_/);
      } finally {
        await scorer.close();
      }
    },
  );
});

describe('a scorer without a baseline', () => {
  it('answers 404: monitoring is off', async () => {
    const scorer = await startTestScorer({ MODEL_URI: XGB });
    try {
      await scorer.ready;
      expect(await request(`${scorer.url}${monitoringPath('xgb_binary')}`)).toMatchObject({
        status: 404,
        body: { error: 'monitoring is off: MONITOR_BASELINE is not set' },
      });
      expect(await scrape(scorer)).not.toMatch(/scorer_drift_/);
    } finally {
      await scorer.close();
    }
  });
});
