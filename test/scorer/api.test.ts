/** The scorer's HTTP surface beyond predictions: the seed contract, health, metadata, metrics and request logs. */
import { once } from 'node:events';
import { maxHeaderSize } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { ModelLoadError } from '../../scorer/errors.js';
import { loadModel } from '../../scorer/load/index.js';
import type { ScorerConfig } from '../../scorer/config.js';
import { request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/shared/${name}`, import.meta.url));

describe('the identity model (the seed tutorial contract)', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity' });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('answers {"X": [1, 2]} with {"score": [1, 2]}', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', { X: [1, 2] });
    expect(reply).toMatchObject({ status: 200, body: { score: [1, 2] } });
  });

  it('answers rows with the same rows', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', {
      X: [
        [1, 2.5],
        [3, -4],
      ],
    });
    expect(reply).toMatchObject({
      status: 200,
      body: {
        score: [
          [1, 2.5],
          [3, -4],
        ],
      },
    });
  });

  it('accepts a body posted as form data, as curl -d sends it', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', '{"X": [7]}', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(reply).toMatchObject({ status: 200, body: { score: [7] } });
  });

  it('writes one log line per request with method, route, status, latency and rows', async () => {
    const before = scorer.logs.length;
    await request(`${scorer.url}/score`, 'POST', { X: [[1], [2], [3]] });
    const lines = await scorer.logged(before, 1, (l) => l.msg === 'request');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ method: 'POST', route: '/score', status: 200, rows: 3 });
    expect(typeof lines[0]!.ms).toBe('number');
  });

  it('counts a flat row as one row, in the request log and in scorer_rows_scored_total', async () => {
    const rowsScored = async () => {
      const text = (await request(`${scorer.metricsUrl}/metrics`)).body as string;
      return Number(/^scorer_rows_scored_total (\d+)$/m.exec(text)![1]);
    };
    const before = await rowsScored();
    const logged = scorer.logs.length;
    await request(`${scorer.url}/score`, 'POST', { X: [1, 2, 3, 4, 5] });
    await request(`${scorer.url}/v2/models/identity/infer`, 'POST', {
      inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 4], data: [1, 2, 3, 4] }],
    });
    expect(await rowsScored()).toBe(before + 2);
    await request(`${scorer.url}/score`, 'POST', { X: [[1, 2, 3, 4, 5]] });
    await request(`${scorer.url}/score`, 'POST', { X: [[1], [2], [3]] });
    expect(await rowsScored()).toBe(before + 6);
    const rows = await scorer.logged(logged, 4, (l) => l.msg === 'request' && l.route !== '/metrics');
    expect(rows.map((l) => l.rows)).toEqual([1, 1, 1, 3]);
  });

  it('describes its input and output as [-1, -1] (rows of any width) and answers such a V2 input', async () => {
    const meta = await request(`${scorer.url}/v2/models/identity`);
    expect(meta.body).toMatchObject({
      inputs: [{ name: 'X', datatype: 'FP64', shape: [-1, -1] }],
      outputs: [{ name: 'X', datatype: 'FP64', shape: [-1, -1] }],
    });
    const reply = await request(`${scorer.url}/v2/models/identity/infer`, 'POST', {
      inputs: [{ name: 'X', datatype: 'FP64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }],
    });
    expect(reply).toMatchObject({
      status: 200,
      body: { outputs: [{ name: 'X', datatype: 'FP64', shape: [2, 3], data: [1, 2, 3, 4, 5, 6] }] },
    });
  });

  it.each([
    [[4], [1, 2, 3, 4]],
    [
      [1, 2, 2],
      [1, 2, 3, 4],
    ],
    [[], [1]],
  ])(
    'refuses a V2 input of shape %j, a rank its metadata rules out, naming the shape it takes',
    async (shape, data) => {
      const reply = await request(`${scorer.url}/v2/models/identity/infer`, 'POST', {
        inputs: [{ name: 'X', datatype: 'FP64', shape, data }],
      });
      expect(reply).toEqual({
        status: 400,
        headers: expect.anything(),
        body: {
          error: `input "X" has shape [${shape.join(', ')}]; the model expects [-1, -1] (-1: any size)`,
        },
      });
    },
  );
});

describe('the Open Inference Protocol endpoints', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture('xgb_multiclass.json') });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('reports live and ready once the model is loaded', async () => {
    expect((await request(`${scorer.url}/v2/health/live`)).status).toBe(200);
    expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(200);
    expect((await request(`${scorer.url}/v2/models/xgb_multiclass/ready`)).status).toBe(200);
  });

  it('describes the server', async () => {
    const reply = await request(`${scorer.url}/v2`);
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({
      name: expect.any(String),
      version: expect.any(String),
      extensions: ['binary_tensor_data'],
    });
  });

  it('describes the model with its input and output tensors', async () => {
    const reply = await request(`${scorer.url}/v2/models/xgb_multiclass`);
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      name: 'xgb_multiclass',
      platform: 'xgboost_json',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, expect.any(Number)] }],
      outputs: [{ name: 'score', datatype: expect.stringMatching(/^FP/), shape: [-1, 3] }],
    });
  });

  it('accepts the versioned path for version 1', async () => {
    expect((await request(`${scorer.url}/v2/models/xgb_multiclass/versions/1`)).status).toBe(200);
    expect((await request(`${scorer.url}/v2/models/xgb_multiclass/versions/1/ready`)).status).toBe(200);
  });

  it('answers every output for an empty "outputs" list, as without one', async () => {
    const meta = (await request(`${scorer.url}/v2/models/xgb_multiclass`)).body as { inputs: { shape: number[] }[] };
    const features = meta.inputs[0]!.shape[1]!;
    const infer = (extra: object) =>
      request(`${scorer.url}/v2/models/xgb_multiclass/infer`, 'POST', {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, features], data: new Array(features).fill(0.5) }],
        ...extra,
      });
    const all = await infer({});
    expect(all.status).toBe(200);
    expect(await infer({ outputs: [] })).toMatchObject({ status: 200, body: all.body as object });
  });

  it('exports request, latency, row, in-flight and model-load metrics', async () => {
    const row = Array.from({ length: 5 }, () => 0);
    const meta = (await request(`${scorer.url}/v2/models/xgb_multiclass`)).body as { inputs: { shape: number[] }[] };
    row.length = meta.inputs[0]!.shape[1]!;
    row.fill(0.5);
    await request(`${scorer.url}/score`, 'POST', { X: [row, row] });
    await request(`${scorer.url}/score`, 'POST', { X: 'bad' });
    const text = (await request(`${scorer.metricsUrl}/metrics`)).body as string;
    expect(text).toMatch(/scorer_requests_total\{route="\/score",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/scorer_requests_total\{route="\/score",method="POST",status="400"\} [1-9]/);
    expect(text).toMatch(/scorer_request_duration_seconds_bucket\{route="\/score",status="200",le="0.005"\} [1-9]/);
    expect(text).toMatch(/scorer_rows_scored_total [2-9]/);
    expect(text).toMatch(/scorer_inflight_requests \d/);
    expect(text).toMatch(/scorer_model_load_seconds 0\.\d+/);
  });
});

describe('the platform in model metadata', () => {
  // The protocol's names are "<project>_<format>" and it gives ONNX's; the others follow the same pattern.
  it.each([
    ['mlp_classifier.onnx', 'mlp_classifier', 'onnx_onnxv1'],
    ['xgb_binary.json', 'xgb_binary', 'xgboost_json'],
    ['lgbm_binary.txt', 'lgbm_binary', 'lightgbm_text'],
    ['identity', 'identity', 'scorer_identity'],
  ])('for %s (model %s) is %s', async (file, name, platform) => {
    const scorer = await startTestScorer({ MODEL_URI: file === 'identity' ? file : fixture(file) });
    try {
      await scorer.ready;
      const reply = await request(`${scorer.url}/v2/models/${name}`);
      expect(reply).toMatchObject({ status: 200, body: { name, platform } });
    } finally {
      await scorer.close();
    }
  });
});

describe('the direct path of the scoring routes and express answer alike', () => {
  // Plain URLs of POST /score and .../infer are answered without express (scorer/http/app.ts); the same routes spelt
  // otherwise (a trailing slash, capitals, a percent-escape) go through express. Both must give the same answer.
  let scorer: TestScorer;
  let row: number[];
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture('xgb_multiclass.json'), MAX_ROWS: '5' });
    await scorer.ready;
    const meta = (await request(`${scorer.url}/v2/models/xgb_multiclass`)).body as { inputs: { shape: number[] }[] };
    row = new Array<number>(meta.inputs[0]!.shape[1]!).fill(0.25);
  });
  afterAll(() => scorer.close());

  const v2 = (data: unknown, shape: number[]) => ({ inputs: [{ name: 'X', datatype: 'FP32', shape, data }] });
  const bodies = () => ({
    score: [{ X: [row, row] }, { X: [row.slice(1)] }, '{"X": [1,', { X: [row, row, row, row, row, row] }, 'null'],
    infer: [v2([...row, ...row], [2, row.length]), v2(row, [1, row.length + 1]), '{"inputs"', { inputs: 'x' }],
  });
  const plain = { score: '/score', infer: '/v2/models/xgb_multiclass/infer' };
  const routed = {
    score: ['/score/', '/SCORE'],
    infer: [
      '/v2/models/xgb_multiclass/infer/',
      '/v2/models/xgb%5Fmulticlass/infer',
      '/v2/models/xgb_multiclass/versions/1/infer',
    ],
  };

  it.each(['score', 'infer'] as const)('POST %s: same status, body and headers', async (kind) => {
    const answer = async (path: string, body: unknown) => {
      const reply = await request(`${scorer.url}${path}`, 'POST', body);
      const headers = ['content-type', 'content-length', 'connection'].map((h) => reply.headers.get(h));
      return { status: reply.status, body: reply.body, headers };
    };
    const statuses = new Set<number>();
    for (const body of bodies()[kind]) {
      const direct = await answer(plain[kind], body);
      statuses.add(direct.status);
      for (const path of routed[kind]) expect(await answer(path, body)).toEqual(direct);
    }
    expect([...statuses].sort()).toEqual(kind === 'score' ? [200, 400, 413, 422] : [200, 400]);
  });

  it('accounts both the same way: route label, status and rows in the log', async () => {
    const logged = scorer.logs.length;
    await request(`${scorer.url}/score`, 'POST', { X: [row, row] });
    await request(`${scorer.url}/score/`, 'POST', { X: [row, row] });
    await request(`${scorer.url}/v2/models/xgb_multiclass/versions/1/infer`, 'POST', v2(row, [1, row.length]));
    await request(`${scorer.url}/v2/models/xgb_multiclass/versions/1/infer/`, 'POST', v2(row, [1, row.length]));
    const lines = await scorer.logged(logged, 4, (l) => l.msg === 'request');
    expect(lines.map(({ route, status, rows }) => ({ route, status, rows }))).toEqual([
      { route: '/score', status: 200, rows: 2 },
      { route: '/score', status: 200, rows: 2 },
      { route: '/v2/models/:name/versions/:version/infer', status: 200, rows: 1 },
      { route: '/v2/models/:name/versions/:version/infer', status: 200, rows: 1 },
    ]);
  });
});

describe('readiness follows the model', () => {
  it('is live but not ready, and refuses to score, until the model has loaded', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const gated = async (c: ScorerConfig, log: Logger) => {
      await gate;
      return loadModel(c, log);
    };
    const scorer = await startTestScorer({ MODEL_URI: fixture('xgb_binary.json') }, gated);
    try {
      expect((await request(`${scorer.url}/v2/health/live`)).status).toBe(200);
      expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(503);
      const early = await request(`${scorer.url}/score`, 'POST', { X: [1, 2] });
      expect(early).toMatchObject({ status: 503, body: { error: 'the model is not loaded yet' } });
      release();
      await scorer.ready;
      expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(200);
    } finally {
      release();
      await scorer.close();
    }
  });

  it('never becomes ready when the model cannot be loaded', async () => {
    const scorer = await startTestScorer({ MODEL_URI: fixture('does-not-exist.onnx') });
    try {
      await expect(scorer.ready).rejects.toBeInstanceOf(ModelLoadError);
      expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(503);
    } finally {
      await scorer.close();
    }
  });
});

describe("requests Node's HTTP parser refuses", () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: 'identity' });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  /** Writes `raw` on a fresh socket and returns the status and JSON body of the answer, read until the server closes. */
  async function send(raw: string): Promise<{ status: number; body: unknown }> {
    const { hostname, port } = new URL(scorer.url);
    const socket = connect(Number(port), hostname);
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write(raw);
    await once(socket, 'close');
    const [head, body] = answer.split('\r\n\r\n');
    expect(head).toMatch(/\r\ncontent-type: application\/json/i);
    return { status: Number(/^HTTP\/1\.1 (\d{3}) /.exec(head!)?.[1]), body: JSON.parse(body!) };
  }

  it('answers a Content-Length that is not a number with 400 and a JSON error', async () => {
    expect(await send('POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n{"X": [1]}')).toEqual({
      status: 400,
      body: { error: 'malformed HTTP request: Invalid character in Content-Length' },
    });
  });

  it('answers a request line that is not HTTP with 400 and a JSON error', async () => {
    expect(await send('HELLO THERE\r\n\r\n')).toEqual({
      status: 400,
      body: { error: expect.stringMatching(/^malformed HTTP request: \w/) },
    });
  });

  it('answers headers over the limit with 431 and a JSON error', async () => {
    const big = `GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(maxHeaderSize + 1)}\r\n\r\n`;
    expect(await send(big)).toEqual({
      status: 431,
      body: { error: `the request's headers are over the limit of ${maxHeaderSize} bytes` },
    });
  });

  it('keeps serving afterwards', async () => {
    expect((await request(`${scorer.url}/score`, 'POST', { X: [1] })).status).toBe(200);
  });
});
