/**
 * gRPC vs REST on one scorer: requests per second of the Open Inference Protocol's infer, 1-row and 100-row, over
 * REST (JSON, autocannon) and over gRPC (typed contents and raw_input_contents, @grpc/grpc-js's client), with the
 * same number of requests in flight. The load generator runs on the same machine as the scorer, and in Node for
 * both protocols; the gRPC client is heavier per call than autocannon, which this figure includes.
 *   npm run build && node dist/bench/grpc.js      (BENCH_SECONDS, default 10 per run after a warm-up run)
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { freePort } from '../harness/net.js';
import { stopChild } from '../harness/process.js';
import { waitFor } from '../harness/wait.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
/** Requests in flight: autocannon's connections for REST, concurrent calls for gRPC. */
const IN_FLIGHT = 16;
/** gRPC channels (HTTP/2 connections) the calls are spread over. */
const CHANNELS = 4;
const MODEL = 'xgb_multiclass';

interface Figures {
  reqPerSec: number;
  failures: number;
}

type Unary = (request: object, callback: (err: grpc.ServiceError | null) => void) => void;

function rows(n: number): number[][] {
  const { X } = JSON.parse(readFileSync(`${ROOT}test/fixtures/shared/${MODEL}.inputs.json`, 'utf8')) as {
    X: (number | null)[][];
  };
  return Array.from({ length: n }, (_, i) => X[i % X.length]!.map((v) => v ?? 0));
}

async function rest(url: string, body: string, seconds: number): Promise<Figures> {
  const result = await autocannon({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    connections: IN_FLIGHT,
    duration: seconds,
  });
  return {
    reqPerSec: result.requests.total / (result.duration || seconds),
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/** IN_FLIGHT loops, each calling ModelInfer again as soon as the last call answers, for `seconds`. */
async function grpcLoad(infer: Unary[], request: object, seconds: number): Promise<Figures> {
  let done = 0;
  let failures = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const loop = async (k: number) => {
    const call = infer[k % infer.length]!;
    while (performance.now() < end) {
      await new Promise<void>((resolve) =>
        call(request, (err) => {
          if (err) failures++;
          else done++;
          resolve();
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, (_, k) => loop(k)));
  return { reqPerSec: done / ((performance.now() - started) / 1000), failures };
}

async function main(): Promise<void> {
  const port = await freePort();
  const grpcPort = await freePort();
  const child = spawn(process.execPath, [`${ROOT}dist/scorer/main.js`], {
    env: {
      PATH: process.env.PATH,
      MODEL_URI: `${ROOT}test/fixtures/shared/${MODEL}.json`,
      HOST: '127.0.0.1',
      PORT: String(port),
      GRPC_PORT: String(grpcPort),
      METRICS_PORT: '0',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const clients: grpc.Client[] = [];
  try {
    await waitFor(
      'the scorer to be ready',
      async () => (await fetch(`http://127.0.0.1:${port}/v2/health/ready`).catch(() => undefined))?.ok,
      60_000,
      100,
    );
    const definition = await protoLoader.load(`${ROOT}scorer/grpc/inference.proto`, {
      keepCase: true,
      longs: Number,
      defaults: true,
      oneofs: true,
    });
    const Service = (grpc.loadPackageDefinition(definition).inference as grpc.GrpcObject)
      .GRPCInferenceService as grpc.ServiceClientConstructor;
    const infer: Unary[] = [];
    for (let i = 0; i < CHANNELS; i++) {
      // A channel option of its own: grpc-js would otherwise share one connection among the clients.
      const client = new Service(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), { 'bench.channel': i });
      clients.push(client);
      const method = (client as unknown as Record<string, Unary>).ModelInfer!.bind(client);
      infer.push(method);
    }

    console.log(
      `gRPC vs REST: the Open Inference Protocol's infer on ${MODEL} (XGBoost, 30 trees, 3 classes), ` +
        `${IN_FLIGHT} requests in flight, ${SECONDS} s per run after a warm-up run, the load generator on the ` +
        `same machine (${navigator.hardwareConcurrency} CPUs)\n`,
    );
    console.log(`${'protocol'.padEnd(34)} ${'rows'.padStart(4)} ${'req/s'.padStart(9)} ${'vs REST'.padStart(8)}`);
    for (const n of [1, 100]) {
      const data = rows(n);
      const shape = [n, data[0]!.length];
      const restBody = JSON.stringify({ inputs: [{ name: 'X', datatype: 'FP32', shape, data: data.flat() }] });
      const url = `http://127.0.0.1:${port}/v2/models/${MODEL}/infer`;
      const typed = {
        model_name: MODEL,
        inputs: [{ name: 'X', datatype: 'FP32', shape, contents: { fp32_contents: data.flat() } }],
      };
      const raw = {
        model_name: MODEL,
        inputs: [{ name: 'X', datatype: 'FP32', shape }],
        raw_input_contents: [Buffer.from(new Float32Array(data.flat()).buffer)],
      };
      await rest(url, restBody, Math.min(3, SECONDS));
      const restFigures = await rest(url, restBody, SECONDS);
      const runs: [string, Figures][] = [['REST, JSON', restFigures]];
      for (const [label, request] of [
        ['gRPC, typed contents', typed],
        ['gRPC, raw_input_contents', raw],
      ] as const) {
        await grpcLoad(infer, request, Math.min(3, SECONDS));
        runs.push([label, await grpcLoad(infer, request, SECONDS)]);
      }
      for (const [label, f] of runs) {
        const ratio = f.reqPerSec / restFigures.reqPerSec;
        const failed = f.failures > 0 ? `  (${f.failures} failed)` : '';
        const text =
          `${label.padEnd(34)} ${String(n).padStart(4)} ${Math.round(f.reqPerSec).toLocaleString('en-US').padStart(9)} ` +
          `${ratio.toFixed(2).padStart(7)}x${failed}`;
        console.log(text);
      }
    }
  } finally {
    for (const c of clients) c.close();
    await stopChild(child);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
