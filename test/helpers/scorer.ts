/** Starts a real scorer (real model file, real loader, real HTTP server on 127.0.0.1) inside the test process. */
import { EventEmitter, once } from 'node:events';
import { pino, type Logger } from 'pino';
import { Writable } from 'node:stream';
import { loadScorerConfig } from '../../scorer/config.js';
import { HEADER_LENGTH } from '../../scorer/http/binary-layout.js';
import { loadModel } from '../../scorer/load/index.js';
import { startScorer, type LoadedModel, type Scorer, type ScorerOptions } from '../../scorer/server.js';
import type { ScorerConfig } from '../../scorer/config.js';

export interface TestScorer extends Scorer {
  /** Log records the scorer wrote, parsed. */
  readonly logs: Record<string, unknown>[];
  /**
   * Resolves with the records from index `from` on that `match` picks, once there are at least `count` of them (a
   * request's log line is written when its response closes, which can be after the client has read the answer);
   * fails after `timeoutMs`.
   */
  logged(
    from: number,
    count: number,
    match: (record: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startTestScorer(
  env: Record<string, string>,
  load: (config: ScorerConfig, log: Logger) => Promise<LoadedModel> = loadModel,
  options: ScorerOptions = {},
): Promise<TestScorer> {
  // Not waiting for `ready`: a caller awaits it (or tests the scorer before it).
  const config = loadScorerConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    GRPC_PORT: '0',
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...env,
  });
  const logs: Record<string, unknown>[] = [];
  const written = new EventEmitter();
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) logs.push(JSON.parse(line));
      written.emit('line');
      done();
    },
  });
  const logged = async (
    from: number,
    count: number,
    match: (record: Record<string, unknown>) => boolean,
    timeoutMs = 10_000,
  ) => {
    const signal = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const found = logs.slice(from).filter(match);
      if (found.length >= count) return found;
      await once(written, 'line', { signal }).catch((err: unknown) => {
        throw new Error(`timed out waiting for ${count} log records; found: ${JSON.stringify(found)}`, { cause: err });
      });
    }
  };
  const log = pino({ level: config.logLevel }, sink);
  const scorer = await startScorer(config, log, (c) => load(c, log), options);
  return Object.assign(scorer, { logs, logged, close: () => scorer.shutdown(1000) });
}

export interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

/** Sends a request with a raw (string or bytes) or JSON body and parses the JSON answer. */
export async function request(
  url: string,
  method = 'GET',
  body?: unknown,
  headers?: Record<string, string>,
): Promise<Reply> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (e.g. /metrics)
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/**
 * A V2 infer request in the binary tensor data extension: the JSON request padded with `pad` spaces (to move the
 * binary data's alignment), then each part's bytes; `headers` says where the JSON ends (`headerLength` overrides it).
 */
export function binaryInfer(
  json: unknown,
  parts: readonly ArrayBufferView[],
  { pad = 0, headerLength }: { pad?: number; headerLength?: string } = {},
): { body: Buffer; headers: Record<string, string> } {
  const head = Buffer.from(JSON.stringify(json) + ' '.repeat(pad));
  const tail = parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength));
  return {
    body: Buffer.concat([head, ...tail]),
    headers: { [HEADER_LENGTH]: headerLength ?? String(head.length) },
  };
}
