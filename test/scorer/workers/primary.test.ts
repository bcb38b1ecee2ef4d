/**
 * The scorer as a process with several workers (`WORKERS=2 node dist/scorer/main.js`): one readiness for the pod,
 * the pod's answers summed over the workers (/metrics, the drift window, the rollout counts), a dead worker replaced,
 * a load failure's termination message, and the SIGTERM drain of every worker.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { monitoringPath, monitoringReportSchema } from '../../../contract/drift.js';
import { rolloutReportPath, rolloutReportSchema, type Routing } from '../../../contract/rollout.js';
import { baselineOf, writeBaseline } from '../../helpers/baseline.js';
import { checkMetrics, itWithPromtool } from '../../helpers/promtool.js';
import { startRoutingServer, type RoutingServer } from '../../helpers/routing.js';
import { startTestScorer, type TestScorer } from '../../helpers/scorer.js';
import { waitFor } from '../../helpers/wait.js';
import { freePort } from '../../../harness/net.js';
import { describeWithGrpcurl, grpcurl } from '../../helpers/grpcurl.js';
import { file, startModelServer, type ModelServer } from '../../servers/http.js';

const MAIN = fileURLToPath(new URL('../../../dist/scorer/main.js', import.meta.url));
const XGB = fileURLToPath(new URL('../../fixtures/shared/xgb_regressor.json', import.meta.url));

let dir: string;
beforeAll(() => {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm run test:unit does)`);
  dir = mkdtempSync(join(tmpdir(), 'scorer-workers-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Pod {
  child: ChildProcess;
  /** Log records so far, parsed. */
  logs: Record<string, unknown>[];
  exited: Promise<number | null>;
  /** The metrics' port, which every worker shares (SO_REUSEPORT) like the API's. */
  metricsPort: number;
}

/**
 * Starts the scorer with two workers on a free port, which each binds with SO_REUSEPORT (the default); gRPC on a
 * port the primary picks, shared by both.
 */
async function startPod(env: Record<string, string>): Promise<Pod> {
  const port = String(await freePort());
  const metricsPort = await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH,
      HOST: '127.0.0.1',
      PORT: port,
      GRPC_PORT: '0',
      METRICS_PORT: String(metricsPort),
      WORKERS: '2',
      TERMINATION_LOG: '',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const logs: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop()!;
    for (const line of lines) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return { child, logs, exited, metricsPort };
}

const logged = (pod: Pod, what: string, match: (r: Record<string, unknown>) => boolean, count = 1) =>
  waitFor(
    what,
    () => {
      const found = pod.logs.filter(match);
      return found.length >= count ? found : undefined;
    },
    20_000,
  );

/** The port every worker listens on. */
async function portOf(pod: Pod): Promise<number> {
  const [line] = await logged(pod, 'a worker listening', (r) => r.msg === 'listening');
  return Number(new URL(line!.url as string).port);
}

/** One request on a connection of its own, so that the workers take turns (a kept-alive one stays with one worker). */
function call(port: number, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, method, path, agent: false, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function stop(pod: Pod): Promise<number | null> {
  if (pod.child.exitCode === null) pod.child.kill('SIGTERM');
  return pod.exited;
}

describe('a scorer with two workers', () => {
  it('is ready only once every worker has loaded the model', async () => {
    const models: ModelServer = await startModelServer();
    const body = readFileSync(XGB);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    // The first worker's download is served at once, the second's only when the test says.
    models.route('/m.json', (req, res, attempt) => {
      if (attempt === 1) file(body)(req, res, attempt);
      else void held.then(() => file(body)(req, res, attempt));
    });
    const pod = await startPod({ MODEL_URI: `${models.url}/m.json`, MODEL_NAME: 'm' });
    try {
      const port = await portOf(pod);
      await logged(pod, 'one worker ready', (r) => r.msg === 'model ready');
      await logged(pod, 'both workers listening', (r) => r.msg === 'listening', 2);
      for (let i = 0; i < 6; i++) {
        expect((await call(port, 'GET', '/v2/health/ready')).status).toBe(503);
        expect((await call(port, 'GET', '/v2/models/m/ready')).status).toBe(503);
        expect((await call(port, 'GET', '/v2/health/live')).status).toBe(200);
      }
      release();
      await logged(pod, 'every worker ready', (r) => r.msg === 'every worker ready');
      for (let i = 0; i < 6; i++) expect((await call(port, 'GET', '/v2/health/ready')).status).toBe(200);
      expect(await stop(pod)).toBe(0);
    } finally {
      pod.child.kill('SIGKILL');
      await models.close();
    }
  }, 60_000);

  describe('answers for the pod as one', () => {
    const N = 16;
    let pod: Pod;
    let port: number;
    let candidate: TestScorer;
    let routing: RoutingServer;
    beforeAll(async () => {
      candidate = await startTestScorer({ MODEL_URI: 'identity' });
      await candidate.ready;
      const forwardAll: Routing = {
        version: 'v1',
        step: 'rollout-1/step-1',
        candidates: [candidate.url],
        weight: 100,
        shadow: 0,
        tolerance: 1e-6,
      };
      routing = await startRoutingServer(forwardAll);
      pod = await startPod({
        MODEL_URI: 'identity',
        MONITOR_BASELINE: writeBaseline(dir, 'baseline.json', baselineOf(2, [0, 1, 2])),
        MONITOR_MIN_ROWS: '4',
        ROUTING_URL: routing.url,
      });
      port = await portOf(pod);
      await logged(pod, 'every worker ready', (r) => r.msg === 'every worker ready');
      await logged(pod, 'both workers on the routing', (r) => r.msg === 'routing changed' && r.version === 'v1', 2);
      for (let i = 0; i < N; i++) {
        expect(await call(port, 'POST', '/score', { X: [[i % 3, 1]] })).toEqual({
          status: 200,
          text: JSON.stringify({ score: [[i % 3, 1]] }),
        });
      }
      // Both workers answered some (each connection went to the next worker in turn).
      await logged(pod, 'the requests', (r) => r.route === '/score', N);
      const workers = new Set(pod.logs.filter((r) => r.route === '/score').map((r) => r.worker));
      expect(workers.size).toBe(2);
    }, 60_000);
    afterAll(async () => {
      if (pod) expect(await stop(pod)).toBe(0);
      await routing?.close();
      await candidate?.close();
    });

    it("sums the workers' drift windows, whichever worker is asked", async () => {
      for (let i = 0; i < 4; i++) {
        const reply = await call(port, 'GET', monitoringPath('identity'));
        expect(reply.status).toBe(200);
        const report = monitoringReportSchema.parse(JSON.parse(reply.text));
        expect(report.model).toBe('identity');
        expect(report.window.rows).toBe(N);
        expect(report.features[0]!.counts.reduce((a, b) => a + b, 0)).toBe(N);
        expect(report.features[0]!.psi).not.toBeNull();
      }
    });

    it("sums the workers' rollout counts, whichever worker is asked", async () => {
      for (let i = 0; i < 4; i++) {
        const reply = await call(port, 'GET', rolloutReportPath('identity'));
        expect(reply.status).toBe(200);
        const report = rolloutReportSchema.parse(JSON.parse(reply.text));
        expect(report.routing).toEqual({ version: 'v1', step: 'rollout-1/step-1' });
        expect(report.forwarded).toBe(N);
        expect(report.candidate.requests).toBe(N);
      }
    });

    itWithPromtool("serves one /metrics with the workers' counts summed, which promtool accepts", async (promtool) => {
      expect((await call(port, 'GET', '/metrics')).status).toBe(404);
      for (let i = 0; i < 4; i++) {
        const { text } = await call(pod.metricsPort, 'GET', '/metrics');
        expect(text).toContain(`scorer_requests_total{route="/score",method="POST",status="200"} ${N}\n`);
        expect(text).toContain(`scorer_rows_scored_total ${N}\n`);
        expect(text).toContain(`scorer_drift_window_rows ${N}\n`);
        expect(text).toMatch(/^scorer_model_info\{name="identity",format="identity",sha256="",uri="identity"\} 1$/m);
        expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
        expect(checkMetrics(promtool, text)).toEqual({ status: 0, output: '' });
      }
    });
  });

  describeWithGrpcurl('gRPC on two workers', () => {
    it('serves gRPC on one port shared through the primary, each worker answering calls', async () => {
      const grpcPort = String(await freePort());
      const pod = await startPod({ MODEL_URI: 'identity', GRPC_PORT: grpcPort });
      try {
        await logged(pod, 'every worker ready', (r) => r.msg === 'every worker ready');
        const address = `127.0.0.1:${grpcPort}`;
        // Each grpcurl is a connection of its own, which the primary hands to the workers in turn.
        for (let i = 0; i < 6; i++) {
          const reply = await grpcurl(address, 'ModelInfer', {
            model_name: 'identity',
            inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 2], contents: { fp64_contents: [i, 2] } }],
          });
          expect(reply.code).toBe(0);
          expect(JSON.stringify(reply.body)).toContain(`"fp64Contents":[${i},2]`);
        }
        const calls = await logged(pod, 'six gRPC calls', (r) => r.msg === 'request' && r.method === 'GRPC', 6);
        expect(new Set(calls.map((r) => r.pid)).size).toBe(2);
        expect(await stop(pod)).toBe(0);
      } finally {
        pod.child.kill('SIGKILL');
      }
    }, 60_000);
  });

  it('replaces a worker that dies, which listens only once its model is loaded', async () => {
    const pod = await startPod({ MODEL_URI: 'identity' });
    try {
      const port = await portOf(pod);
      await logged(pod, 'every worker ready', (r) => r.msg === 'every worker ready');
      const [first] = pod.logs.filter((r) => r.msg === 'model ready');
      process.kill(first!.pid as number, 'SIGKILL');
      await logged(pod, 'a worker started again', (r) => r.msg === 'a worker was killed by SIGKILL: starting another');
      const ready = await logged(pod, 'the new worker ready', (r) => r.msg === 'model ready', 3);
      const replacement = ready[2]!;
      const listening = pod.logs.findIndex((r) => r.msg === 'listening' && r.pid === replacement.pid);
      expect(listening).toBeGreaterThan(
        pod.logs.indexOf(pod.logs.find((r) => r.msg === 'model loaded' && r.pid === replacement.pid)!),
      );
      for (let i = 0; i < 8; i++) expect((await call(port, 'POST', '/score', { X: [1] })).status).toBe(200);
      expect((await call(port, 'GET', '/v2/health/ready')).status).toBe(200);
      expect(await stop(pod)).toBe(0);
    } finally {
      pod.child.kill('SIGKILL');
    }
  }, 60_000);

  it('stops with the termination message when the model cannot be loaded', async () => {
    const termination = join(dir, 'termination-log');
    writeFileSync(termination, '');
    const missing = join(dir, 'missing.json');
    const pod = await startPod({ MODEL_URI: missing, TERMINATION_LOG: termination });
    expect(await pod.exited).toBe(1);
    expect(readFileSync(termination, 'utf8').trim()).toMatch(new RegExp(`^cannot load model ${missing}: .*not found`));
  }, 30_000);
});
