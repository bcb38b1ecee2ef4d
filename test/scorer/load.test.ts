/**
 * Loading a model from every kind of URI, and every way that can fail, each with the message a user reads.
 * Real files, a real HTTP server and a real S3-compatible server (MinIO) on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { loadScorerConfig } from '../../scorer/config.js';
import { ModelLoadError } from '../../scorer/errors.js';
import { loadModel } from '../../scorer/load/index.js';
import { writeTerminationMessage } from '../../scorer/load/termination.js';
import { fixtures } from '../helpers/fixtures.js';
import { file, startModelServer, type ModelServer } from '../servers/http.js';
import { startS3Server, type S3Server } from '../servers/s3.js';

const XGB = fixtures('xgboost').find((f) => f.name === 'xgb_regressor')!;
const ONNX = fixtures('onnx').find((f) => f.name === 'logreg_multiclass')!;
const xgbBytes = readFileSync(XGB.path);
const onnxBytes = readFileSync(ONNX.path);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Loads with a real config from `env`; returns the model's name and format and the log lines written. */
async function load(env: Record<string, string>) {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const config = loadScorerConfig({ DOWNLOAD_RETRIES: '0', ...env });
  const { model, bytes } = await loadModel(config, pino({ level: 'debug' }, sink));
  await model.dispose();
  return { name: model.name, format: model.format, bytes, logs: lines.join('') };
}

/** The ModelLoadError message a failing load throws. */
async function failure(env: Record<string, string>): Promise<string> {
  const err = await load(env).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelLoadError);
  return (err as Error).message;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scorer-load-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('local files', () => {
  it('loads from a path, inferring format and name from the file name', async () => {
    await expect(load({ MODEL_URI: XGB.path })).resolves.toMatchObject({
      name: 'xgb_regressor',
      format: 'xgboost',
      bytes: xgbBytes.length,
    });
  });

  it('loads from a file:// URI', async () => {
    await expect(load({ MODEL_URI: pathToFileURL(ONNX.path).href })).resolves.toMatchObject({
      name: 'logreg_multiclass',
      format: 'onnx',
    });
  });

  it('takes MODEL_FORMAT and MODEL_NAME over the file name', async () => {
    const path = join(dir, 'model.bin');
    writeFileSync(path, xgbBytes);
    await expect(load({ MODEL_URI: path, MODEL_FORMAT: 'xgboost', MODEL_NAME: 'churn' })).resolves.toMatchObject({
      name: 'churn',
      format: 'xgboost',
    });
  });

  it('accepts a matching sha256', async () => {
    await expect(load({ MODEL_URI: XGB.path, MODEL_SHA256: sha256(xgbBytes).toUpperCase() })).resolves.toBeDefined();
  });

  it('loads the identity model without reading any file', async () => {
    await expect(load({ MODEL_URI: 'identity' })).resolves.toMatchObject({ name: 'identity', format: 'identity' });
  });

  it('refuses a missing file', async () => {
    expect(await failure({ MODEL_URI: join(dir, 'nope.onnx') })).toBe(
      `cannot load model ${join(dir, 'nope.onnx')}: file not found`,
    );
  });

  it('refuses a directory', async () => {
    expect(await failure({ MODEL_URI: dir, MODEL_FORMAT: 'onnx' })).toBe(
      `cannot load model ${dir}: is a directory, not a model file`,
    );
  });

  it('refuses a digest mismatch, naming both digests', async () => {
    const wrong = 'ab'.repeat(32);
    expect(await failure({ MODEL_URI: XGB.path, MODEL_SHA256: wrong })).toBe(
      `cannot load model ${XGB.path}: sha256 mismatch: expected ${wrong}, got ${sha256(xgbBytes)}`,
    );
  });

  it('refuses a file name that implies no format', async () => {
    const path = join(dir, 'model.bin');
    writeFileSync(path, xgbBytes);
    expect(await failure({ MODEL_URI: path })).toBe(
      `cannot load model ${path}: cannot tell the format from the file name "model.bin": ` +
        'set MODEL_FORMAT (onnx, xgboost, lightgbm, identity)',
    );
  });

  it.each([
    ['a corrupt ONNX file', 'corrupt.onnx', Buffer.from('this is not protobuf at all'), /not a valid onnx model: .+/],
    [
      'a truncated XGBoost file',
      'cut.json',
      xgbBytes.subarray(0, 500),
      /not a valid xgboost model: not an XGBoost JSON model: /,
    ],
    [
      'JSON that is not an XGBoost model',
      'other.json',
      Buffer.from('{"hello": 1}'),
      /not a valid xgboost model: "learner" is missing/,
    ],
    [
      'a truncated XGBoost UBJSON file',
      'cut.ubj',
      Buffer.from([0x7b, 0x4c, 0x00]),
      /not a valid xgboost model: not an XGBoost UBJSON model: UBJSON is truncated: an int64 at byte 2 needs 8 bytes, the file ends at 3$/,
    ],
    [
      'a LightGBM file that is not one',
      'model.txt',
      Buffer.from('hello\nworld\n'),
      /not a valid lightgbm model: not a LightGBM text model/,
    ],
    [
      'a LightGBM file with a broken tree',
      'broken.txt',
      Buffer.from(readFileSync(fixtures('lightgbm')[0]!.path, 'utf8').replace(/^left_child=.*$/m, 'left_child=1 2')),
      /not a valid lightgbm model: tree 0: left_child must hold \d+ numbers/,
    ],
    [
      'a LightGBM categorical tree with a word short of its cat_boundaries',
      'short-bitset.txt',
      Buffer.from(
        readFileSync(fixtures('lightgbm').find((f) => f.name === 'lgbm_cat_binary')!.path, 'utf8').replace(
          /^(cat_threshold=.*) \d+$/m,
          '$1',
        ),
      ),
      /not a valid lightgbm model: tree 0: cat_threshold must hold \d+ numbers$/,
    ],
  ])('refuses %s, also when the model is built on its own thread', async (_what, name, bytes, message) => {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    expect(await failure({ MODEL_URI: path })).toMatch(message);
    expect(await failure({ MODEL_URI: path, PREDICT_THREAD: 'true' })).toMatch(message);
  });

  it('refuses an XGBoost tree whose child points outside it', async () => {
    const model = JSON.parse(xgbBytes.toString()) as {
      learner: { gradient_booster: { model: { trees: { left_children: number[] }[] } } };
    };
    model.learner.gradient_booster.model.trees[2]!.left_children[0] = 999;
    const path = join(dir, 'bad-child.json');
    writeFileSync(path, JSON.stringify(model));
    expect(await failure({ MODEL_URI: path })).toMatch(/tree 2: node 0 has child 999, outside the tree$/);
  });

  it('refuses an XGBoost categorical split that lists no categories', async () => {
    const model = JSON.parse(xgbBytes.toString()) as {
      learner: { gradient_booster: { model: { trees: { split_type: number[] }[] } } };
    };
    model.learner.gradient_booster.model.trees[0]!.split_type[0] = 1;
    const path = join(dir, 'categorical.json');
    writeFileSync(path, JSON.stringify(model));
    expect(await failure({ MODEL_URI: path })).toMatch(/tree 0: categorical split 0 is not in categories_nodes$/);
  });

  it('refuses an unsupported XGBoost objective, listing the supported ones', async () => {
    const text = xgbBytes.toString().replace('"reg:squarederror"', '"survival:aft"');
    const path = join(dir, 'aft.json');
    writeFileSync(path, text);
    expect(await failure({ MODEL_URI: path })).toMatch(/objective "survival:aft" is not supported \(supported: reg:/);
  });

  it('refuses a MODEL_OUTPUT the model does not have', async () => {
    expect(await failure({ MODEL_URI: ONNX.path, MODEL_OUTPUT: 'nope' })).toMatch(
      /MODEL_OUTPUT names "nope"; the model's outputs are label, probabilities$/,
    );
  });
});

describe('http(s)', () => {
  let server: ModelServer;
  beforeAll(async () => {
    server = await startModelServer();
    server.route('/models/xgb.json', file(xgbBytes));
    server.route('/models/flaky.json', (_req, res, attempt) => {
      if (attempt < 3) res.writeHead(503).end('busy');
      else file(xgbBytes)(_req, res, attempt);
    });
    server.route('/models/down.json', (_req, res) => res.writeHead(500).end('down'));
    server.route('/models/forbidden.onnx', (_req, res) => res.writeHead(403).end());
    server.route('/models/slow.json', () => undefined); // never answers
    server.route('/models/short.json', (_req, res) => {
      res.writeHead(200, { 'content-length': xgbBytes.length });
      // Closed once the first bytes are on their way, as when a server dies mid-download.
      res.write(xgbBytes.subarray(0, 100), () => res.destroy());
    });
    server.route('/models/big.onnx', file(onnxBytes));
    server.route('/models/chunked.onnx', (_req, res) => {
      res.writeHead(200); // no content-length: the limit is enforced while reading
      res.end(onnxBytes);
    });
  });
  afterAll(() => server.close());

  it('downloads a model', async () => {
    await expect(load({ MODEL_URI: `${server.url}/models/xgb.json` })).resolves.toMatchObject({
      name: 'xgb',
      format: 'xgboost',
      bytes: xgbBytes.length,
    });
  });

  it('retries with backoff on 5xx and then succeeds', async () => {
    const result = await load({ MODEL_URI: `${server.url}/models/flaky.json`, DOWNLOAD_RETRIES: '3' });
    expect(result.format).toBe('xgboost');
    expect(server.hits.get('/models/flaky.json')).toBe(3);
    expect(result.logs).toMatch(/"attempt":1,.*"reason":"HTTP 503 Service Unavailable".*download failed; retrying/);
  });

  it('gives up after the retries, saying how many attempts it made', async () => {
    expect(await failure({ MODEL_URI: `${server.url}/models/down.json`, DOWNLOAD_RETRIES: '1' })).toBe(
      `cannot load model ${server.url}/models/down.json: HTTP 500 Internal Server Error (after 2 attempts)`,
    );
  });

  it('does not retry a 4xx', async () => {
    expect(await failure({ MODEL_URI: `${server.url}/models/forbidden.onnx`, DOWNLOAD_RETRIES: '3' })).toBe(
      `cannot load model ${server.url}/models/forbidden.onnx: HTTP 403 Forbidden`,
    );
    expect(server.hits.get('/models/forbidden.onnx')).toBe(1);
  });

  it('refuses a missing object', async () => {
    expect(await failure({ MODEL_URI: `${server.url}/models/missing.onnx` })).toBe(
      `cannot load model ${server.url}/models/missing.onnx: HTTP 404 Not Found`,
    );
  });

  it('refuses an unreachable server', async () => {
    const closed = await startModelServer();
    await closed.close();
    expect(await failure({ MODEL_URI: `${closed.url}/m.onnx` })).toBe(
      `cannot load model ${closed.url}/m.onnx: connection refused`,
    );
  });

  it('times out a server that never answers', async () => {
    expect(await failure({ MODEL_URI: `${server.url}/models/slow.json`, DOWNLOAD_TIMEOUT_MS: '300' })).toBe(
      `cannot load model ${server.url}/models/slow.json: timed out after 300 ms (DOWNLOAD_TIMEOUT_MS)`,
    );
  });

  it('notices a download cut short', async () => {
    expect(await failure({ MODEL_URI: `${server.url}/models/short.json` })).toBe(
      `cannot load model ${server.url}/models/short.json: the download ended after 100 of ${xgbBytes.length} bytes: ` +
        'connection reset',
    );
  });

  it('refuses a model over the size limit, declared or not', async () => {
    const limit = String(onnxBytes.length - 1);
    expect(await failure({ MODEL_URI: `${server.url}/models/big.onnx`, DOWNLOAD_MAX_BYTES: limit })).toBe(
      `cannot load model ${server.url}/models/big.onnx: the model is ${onnxBytes.length} bytes; ` +
        `the limit (DOWNLOAD_MAX_BYTES) is ${limit}`,
    );
    expect(await failure({ MODEL_URI: `${server.url}/models/chunked.onnx`, DOWNLOAD_MAX_BYTES: limit })).toBe(
      `cannot load model ${server.url}/models/chunked.onnx: the model is over the limit (DOWNLOAD_MAX_BYTES) of ${limit} bytes`,
    );
  });

  it('keeps credentials and signatures out of messages and logs', async () => {
    const uri = `http://user:hunter2@127.0.0.1:${new URL(server.url).port}/models/forbidden.onnx?X-Amz-Signature=s3cr3t&v=1`;
    const message = await failure({ MODEL_URI: uri });
    expect(message).toBe(
      `cannot load model http://***@127.0.0.1:${new URL(server.url).port}/models/forbidden.onnx?***: HTTP 403 Forbidden`,
    );
    expect(message).not.toMatch(/user|hunter2|s3cr3t/);
    const ok = await load({ MODEL_URI: `${server.url}/models/xgb.json?token=s3cr3t` });
    expect(ok.logs).toContain(`"uri":"${server.url}/models/xgb.json?***"`);
    expect(ok.logs).not.toContain('s3cr3t');
  });
});

describe('s3://', () => {
  let s3: S3Server;
  let env: Record<string, string>;
  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.bucket('models');
    await s3.put('models', 'prod/churn/model.json', xgbBytes);
    await s3.put('models', 'prod/churn/classifier.onnx', onnxBytes);
    env = {
      S3_ENDPOINT: s3.endpoint,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
      AWS_REGION: 'us-east-1',
    };
  }, 600_000); // the first run builds MinIO from its Go module
  afterAll(() => s3?.stop());

  /** The S3 client reads credentials from the process environment, as it would in a pod. */
  async function withEnv<T>(extra: Record<string, string>, fn: () => Promise<T>): Promise<T> {
    const saved = Object.fromEntries(Object.keys(extra).map((k) => [k, process.env[k]]));
    Object.assign(process.env, extra);
    try {
      return await fn();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  }

  it('loads XGBoost and ONNX models from a bucket', async () => {
    await withEnv(env, async () => {
      await expect(load({ ...env, MODEL_URI: 's3://models/prod/churn/model.json' })).resolves.toMatchObject({
        name: 'model',
        format: 'xgboost',
        bytes: xgbBytes.length,
      });
      await expect(load({ ...env, MODEL_URI: 's3://models/prod/churn/classifier.onnx' })).resolves.toMatchObject({
        format: 'onnx',
      });
    });
  });

  it('refuses a missing object, naming bucket and key', async () => {
    const message = await withEnv(env, () => failure({ ...env, MODEL_URI: 's3://models/prod/nope.onnx' }));
    expect(message).toBe('cannot load model s3://models/prod/nope.onnx: no object "prod/nope.onnx" in bucket "models"');
  });

  it('refuses a missing bucket', async () => {
    const message = await withEnv(env, () => failure({ ...env, MODEL_URI: 's3://nobucket/m.onnx' }));
    expect(message).toBe('cannot load model s3://nobucket/m.onnx: no bucket "nobucket"');
  });

  it('refuses wrong credentials without printing them', async () => {
    const bad = { ...env, AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' };
    const message = await withEnv(bad, () => failure({ ...bad, MODEL_URI: 's3://models/prod/churn/model.json' }));
    expect(message).toBe(
      'cannot load model s3://models/prod/churn/model.json: the request signature does not match (check AWS_SECRET_ACCESS_KEY)',
    );
    expect(message).not.toContain('wrong-secret-value');
  });

  it('checks the digest of an S3 object', async () => {
    const message = await withEnv(env, () =>
      failure({ ...env, MODEL_URI: 's3://models/prod/churn/model.json', MODEL_SHA256: '0'.repeat(64) }),
    );
    expect(message).toMatch(/: sha256 mismatch: expected 0{64}, got [0-9a-f]{64}$/);
  });
});

describe('termination message', () => {
  it('is written into an existing file, truncating what was there, at most 4096 bytes', async () => {
    const path = join(dir, 'termination-log');
    writeFileSync(path, 'x'.repeat(10_000));
    await writeTerminationMessage(path, 'cannot load model m.onnx: file not found');
    expect(readFileSync(path, 'utf8')).toBe('cannot load model m.onnx: file not found\n');
    await writeTerminationMessage(path, 'y'.repeat(9000));
    expect(readFileSync(path).length).toBe(4096);
  });

  it('creates nothing where no file exists, and never throws', async () => {
    const path = join(dir, 'absent', 'termination-log');
    await expect(writeTerminationMessage(path, 'line')).resolves.toBeUndefined();
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });
});
