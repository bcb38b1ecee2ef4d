/**
 * The scorer as a process (`node dist/scorer/main.js`, built by `npm run build`): configuration errors,
 * model load failures with their termination message, and draining on SIGTERM.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:https';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/wait.js';
import { file, startModelServer, type ModelServer } from '../servers/http.js';

const MAIN = fileURLToPath(new URL('../../dist/scorer/main.js', import.meta.url));
const XGB = fileURLToPath(new URL('../fixtures/shared/xgb_regressor.json', import.meta.url));
/** Loads, then fails every prediction (test/models/make_models.py). */
const RUN_FAILS = fileURLToPath(new URL('../fixtures/generated/run_fails.onnx', import.meta.url));

let dir: string;
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run test:unit does)`);
  dir = mkdtempSync(join(tmpdir(), 'scorer-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(env: Record<string, string>, args: string[] = []): ChildProcess & { output: Promise<Run> } {
  const child = spawn(process.execPath, [MAIN, ...args], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: '0',
      GRPC_PORT: '0',
      METRICS_PORT: '0',
      TERMINATION_LOG: join(dir, 'unused'),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const output = once(child, 'exit').then(([code]) => ({ code: code as number | null, stdout, stderr }));
  return Object.assign(child, { output });
}

/** Resolves with the port once the scorer logs that its model is ready (stdout keeps flowing afterwards). */
async function readyPort(child: ReturnType<typeof start>): Promise<number> {
  return (await readyPorts(child)).port;
}

/** Resolves with the API's and the metrics' ports once the scorer logs that its model is ready. */
function readyPorts(child: ReturnType<typeof start>): Promise<{ port: number; metricsPort: number }> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      const port = Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(seen)?.[1]);
      const metricsPort = Number(/"metricsUrl":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(seen)?.[1]);
      if (port && metricsPort && seen.includes('"msg":"model ready"')) {
        child.stdout!.off('data', onData);
        child.off('exit', onExit);
        resolve({ port, metricsPort });
      }
    };
    const onExit = () => reject(new Error(`scorer exited before it was ready: ${seen}`));
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/** Resolves once the scorer writes a log line with message `msg` from now on; fails if it exits first, or after 10 s. */
function logged(child: ReturnType<typeof start>, msg: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const finish = (err?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (seen.includes(`"msg":${JSON.stringify(msg)}`)) finish();
    };
    const onExit = () => finish(new Error(`scorer exited before it logged "${msg}": ${seen}`));
    const timer = setTimeout(() => finish(new Error(`timed out waiting for the log line "${msg}": ${seen}`)), 10_000);
    child.stdout!.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * The scorer's scorer_inflight_requests, scraped on a connection of its own that the scorer closes after answering
 * (fetch's pool would keep it open, and a test that needs the port refused after SIGTERM would find it still there).
 */
function inFlight(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(Number(/^scorer_inflight_requests (\d+)$/m.exec(text)?.[1])));
      res.on('error', reject);
    }).on('error', reject);
  });
}

describe('scorer start-up', () => {
  it('exits 2 naming the variable when MODEL_URI is missing', async () => {
    const run = await start({}).output;
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('scorer: invalid MODEL_URI (--model-uri): is required');
  });

  it('exits 2 naming the variable when PORT is not a number', async () => {
    const run = await start({ MODEL_URI: XGB, PORT: 'eighty' }).output;
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^scorer: invalid PORT \(--port\): /);
  });

  it('exits 2 naming the flag when a flag is unknown', async () => {
    const run = await start({}, ['--modle', XGB]).output;
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('scorer: unknown flag --modle');
  });

  it('exits 1 with one line naming the URI and the reason, also written as the termination message', async () => {
    const termination = join(dir, 'termination-log');
    writeFileSync(termination, '');
    const missing = join(dir, 'missing.onnx');
    const run = await start({ MODEL_URI: missing, TERMINATION_LOG: termination }).output;
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(new RegExp(`^cannot load model ${missing}: .*not found`));
    expect(readFileSync(termination, 'utf8').trim()).toBe(lines[0]);
  });

  it.each(['false', 'true'])(
    "keeps onnxruntime's own log lines off stderr: a failing ONNX model gives exactly one line (PREDICT_THREAD=%s)",
    async (thread) => {
      // onnxruntime warns while loading this model and logs an error when its warm-up prediction fails.
      const run = await start({ MODEL_URI: RUN_FAILS, PREDICT_THREAD: thread }).output;
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        new RegExp(
          `^cannot load model ${RUN_FAILS}: warm-up prediction failed: Non-zero status code returned while running ` +
            "Gather node\\. Name:'Gather' Status Message: indices element out of data bounds, idx=7 [^\\n]*\\n$",
        ),
      );
    },
  );

  it('refuses a model whose sha256 differs, naming both digests', async () => {
    const run = await start({ MODEL_URI: XGB, MODEL_SHA256: '0'.repeat(64) }).output;
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^cannot load model .*xgb_regressor\.json: sha256 mismatch: expected 0{64}, got [0-9a-f]{64}$/,
    );
  });

  describe('over https', () => {
    let server: Server;
    let url: string;
    let ca: string;
    beforeAll(async () => {
      // A throwaway CA-less self-signed certificate for 127.0.0.1, made by openssl for this test.
      const key = join(dir, 'tls.key');
      ca = join(dir, 'tls.crt');
      const made = spawnSync('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        ca,
      ]);
      if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr.toString()}`);
      const model = readFileSync(XGB);
      server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(ca) }, (_req, res) => {
        res.writeHead(200, { 'content-length': model.length }).end(model);
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/models/churn.json`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('loads a model from a server whose CA is trusted (NODE_EXTRA_CA_CERTS)', async () => {
      const child = start({ MODEL_URI: url, NODE_EXTRA_CA_CERTS: ca });
      const port = await readyPort(child);
      const reply = await fetch(`http://127.0.0.1:${port}/v2/models/churn`);
      expect(reply.status).toBe(200);
      child.kill('SIGTERM');
      expect((await child.output).code).toBe(0);
    });

    it('refuses a server whose certificate is not trusted, saying so', async () => {
      const run = await start({ MODEL_URI: url, DOWNLOAD_RETRIES: '0' }).output;
      expect(run.code).toBe(1);
      expect(run.stderr.trim()).toBe(
        `cannot load model ${url}: TLS: self-signed certificate (trust a private CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)`,
      );
    });
  });

  it('serves as if they were unset with the empty NODE_OPTIONS and ROUTING_URL the operator sets beside a Secret', async () => {
    const child = start({ MODEL_URI: XGB, MODEL_NAME: 'm', NODE_OPTIONS: '', ROUTING_URL: '', MODEL_SHA256: '' });
    const port = await readyPort(child);
    const reply = await fetch(`http://127.0.0.1:${port}/score`, { method: 'POST', body: '{"X": [0,0,0,0,0,0,0]}' });
    expect(reply.status).toBe(200);
    // No ROUTING_URL: this scorer forwards nothing, and has no rollout to report.
    expect((await fetch(`http://127.0.0.1:${port}/v2/models/m/rollout`)).status).toBe(404);
    child.kill('SIGTERM');
    expect((await child.output).code).toBe(0);
  });

  it('takes the model from CLI flags, as `npm run scorer -- --model` does', async () => {
    const child = start({}, ['--model', XGB, '--port', '0', '--log-level', 'info']);
    const port = await readyPort(child);
    const reply = await fetch(`http://127.0.0.1:${port}/score`, { method: 'POST', body: '{"X": [0,0,0,0,0,0,0]}' });
    expect(reply.status).toBe(200);
    child.kill('SIGTERM');
    expect((await child.output).code).toBe(0);
  });
});

describe('secrets in the model URI', () => {
  // Written to stderr and the termination log (which Kubernetes shows to anyone who can read the pod) on failure.
  const SECRETS = /alice-user|S3CRET-pw|TOK-3f9a/;
  let server: ModelServer;
  let host: string;
  beforeAll(async () => {
    server = await startModelServer();
    server.route('/m.onnx', file(readFileSync(RUN_FAILS)));
    server.route('/busy.onnx', (_req, res) => res.writeHead(503).end());
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  it.each([
    {
      what: 'a model that fails its warm-up',
      uri: () => `http://alice-user:S3CRET-pw@${host}/m.onnx?token=TOK-3f9a`,
      line: () =>
        new RegExp(`^cannot load model http://\\*\\*\\*@${host}/m\\.onnx\\?\\*\\*\\*: warm-up prediction failed: `),
    },
    {
      what: 'an unparsable URI',
      uri: () => 'https://alice-user:S3CRET-pw@bad host/m.onnx?TOK-3f9a',
      line: () =>
        'cannot load model https://***@bad host/m.onnx?***: not a valid URL (spaces and other special characters ' +
        'must be percent-encoded)',
    },
    {
      what: 'a failed download, retried',
      uri: () => `http://alice-user:S3CRET-pw@${host}/busy.onnx?X-Amz-Signature=TOK-3f9a&TOK-3f9a`,
      line: () => `cannot load model http://***@${host}/busy.onnx?***: HTTP 503 Service Unavailable (after 2 attempts)`,
    },
  ])('stay out of stderr, stdout and the termination log: $what', async ({ uri, line }) => {
    const termination = join(dir, 'termination-log');
    writeFileSync(termination, '');
    const run = await start({ MODEL_URI: uri(), TERMINATION_LOG: termination, DOWNLOAD_RETRIES: '1' }).output;
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof line() === 'string') expect(lines[0]).toBe(line());
    else expect(lines[0]).toMatch(line());
    expect(readFileSync(termination, 'utf8')).toBe(`${lines[0]}\n`);
    expect(run.stderr).not.toMatch(SECRETS);
    expect(run.stdout).not.toMatch(SECRETS);
  });

  it('stays out of the message for a URI passed without its flag', async () => {
    const run = await start({}, ['https://alice-user:S3CRET-pw@example.com/m.onnx?sig=TOK-3f9a']).output;
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe(
      'scorer: unexpected argument "https://***@example.com/m.onnx?***" (flags look like --name value)',
    );
  });
});

describe('scorer shutdown', () => {
  it.each(['false', 'true'])(
    'finishes an in-flight request after SIGTERM, refuses new connections, and exits 0 (PREDICT_THREAD=%s)',
    async (thread) => {
      const child = start({ MODEL_URI: XGB, PREDICT_THREAD: thread });
      const { port, metricsPort } = await readyPorts(child);

      // A request whose body is only half sent when SIGTERM arrives.
      const body = JSON.stringify({ X: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] });
      const socket = connect(port, '127.0.0.1');
      await once(socket, 'connect');
      socket.write(`POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
      await waitFor('the half-sent request in flight', async () => (await inFlight(metricsPort)) === 1, 10_000, 20);
      // The log line comes just before the scorer stops accepting connections, in the same turn of its event loop.
      const draining = logged(child, 'shutting down: draining in-flight requests');
      child.kill('SIGTERM');
      await draining;

      await expect(fetch(`http://127.0.0.1:${port}/v2/health/live`)).rejects.toThrow();
      // Prometheus may still scrape while the API drains: the metrics' port closes only after the drain.
      expect(await inFlight(metricsPort)).toBe(1);

      let answer = '';
      socket.on('data', (c: Buffer) => (answer += c.toString()));
      socket.write(body.slice(10));
      await once(socket, 'close');
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(answer).toMatch(/"score":\[-?\d/);
      expect((await child.output).code).toBe(0);
    },
  );
  it('answers a request sent on a kept-alive connection right after SIGTERM, with Connection: close', async () => {
    // The rolling-update race: a client reuses its idle connection just as the scorer begins to drain.
    const child = start({ MODEL_URI: XGB });
    const port = await readyPort(child);
    const body = JSON.stringify({ X: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7] });
    const ask = `POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write(ask);
    while (!answer.includes('"score"')) await once(socket, 'data');
    expect(answer).not.toMatch(/connection: close/i);

    const draining = logged(child, 'shutting down: draining in-flight requests');
    child.kill('SIGTERM');
    await draining;
    answer = '';
    socket.write(ask);
    await once(socket, 'close', { signal: AbortSignal.timeout(10_000) });
    expect(answer).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(answer).toMatch(/connection: close/i);
    expect((await child.output).code).toBe(0);
  });
});
