/**
 * The stable scorer's client of the candidate: a request's input tensors sent as a V2 infer request in the binary
 * tensor data extension (binary-layout.ts: no JSON of the values to write or to parse), every output asked for as
 * binary data too, over kept-alive connections. The candidate answers with its own prediction time
 * (PREDICT_SECONDS_HEADER), which is what the step's latency is judged on: the hop is not the candidate's doing.
 */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { FORWARDED_HEADER, PREDICT_SECONDS_HEADER } from '../../contract/rollout.js';
import { ELEMENT_SIZE, HEADER_LENGTH } from '../http/binary-layout.js';
import { binaryTensor } from '../http/binary-request.js';
import { tensorBytes } from '../http/binary-response.js';
import { allocate, storeAll } from '../http/tensor.js';
import { DATATYPES, elementCount, type Datatype, type Tensor } from '../model.js';

/** How long a forwarded or mirrored request may take before it counts as unanswered. */
export const FORWARD_TIMEOUT_MS = 10_000;

/**
 * The candidate gave no answer: the connection was refused or reset, or nothing came back in time. A forwarded
 * request is then answered by the scorer itself: the client is not failed for the candidate's absence.
 */
export class CandidateUnreachable extends Error {
  override readonly name = 'CandidateUnreachable';
}

/** The candidate answered, but not with outputs: a 4xx or 5xx (its error), or a body that cannot be read. */
export class CandidateFailed extends Error {
  override readonly name = 'CandidateFailed';
}

export interface CandidateAnswer {
  outputs: Tensor[];
  /** The candidate's own prediction time; the round trip's when it did not say. */
  predictSeconds: number;
}

/** Where a candidate pod's infer endpoint is. */
export interface CandidateTarget {
  host: string;
  port: number;
  path: string;
}

/** The infer endpoint of model `name` on the candidate pod at `base` (http://host:port); throws when unusable. */
export function candidateTarget(base: string, name: string): CandidateTarget {
  const url = new URL(base);
  if (url.protocol !== 'http:') throw new Error(`the candidate's URL ${base} is not http://host:port`);
  return {
    // URL keeps an IPv6 host in brackets; the socket wants the address alone.
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? 80 : Number(url.port),
    path: `/v2/models/${encodeURIComponent(name)}/infer`,
  };
}

/**
 * The body of an infer request for `inputs`: the JSON request, then each input's values as raw little-endian bytes
 * (BYTES inputs, which the extension does not carry in requests here, go in the JSON). Asks for every output as
 * binary data.
 */
export function encodeInfer(
  inputs: readonly Tensor[],
  outputNames?: readonly string[],
): { head: Buffer; parts: Buffer[] } {
  const parts: Buffer[] = [];
  const json = {
    inputs: inputs.map((t) => {
      const head = { name: t.name, datatype: t.datatype, shape: t.shape };
      if (t.datatype === 'BYTES') return { ...head, data: t.data };
      const bytes = tensorBytes(t);
      parts.push(bytes);
      return { ...head, parameters: { binary_data_size: bytes.length } };
    }),
    ...(outputNames && { outputs: outputNames.map((name) => ({ name })) }),
    parameters: { binary_data_output: true },
  };
  return { head: Buffer.from(JSON.stringify(json)), parts };
}

const DATATYPE_SET = new Set<string>(DATATYPES);

/**
 * The output tensors of an infer answer: a JSON head of `headerLength` bytes (the whole body without one), each
 * output's values either after it (binary_data_size) or in its "data". Throws an Error saying what does not fit.
 */
export function decodeInferAnswer(body: Buffer, headerLength: string | undefined): Tensor[] {
  const n = headerLength === undefined ? body.length : Number(headerLength);
  if (!Number.isSafeInteger(n) || n < 0 || n > body.length) {
    throw new Error(`${HEADER_LENGTH} is ${headerLength} for a body of ${body.length} bytes`);
  }
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, n).toString('utf8'));
  } catch (err) {
    throw new Error(`its JSON is malformed: ${(err as Error).message}`);
  }
  const outputs = (json as { outputs?: unknown } | null)?.outputs;
  if (!Array.isArray(outputs)) throw new Error('it has no "outputs" array');
  let at = n;
  const tensors = outputs.map((output: unknown, k): Tensor => {
    const { name, datatype, shape, data, parameters } = (output ?? {}) as Record<string, unknown>;
    const what = `output ${k}`;
    if (typeof name !== 'string') throw new Error(`${what} has no name`);
    if (typeof datatype !== 'string' || !DATATYPE_SET.has(datatype)) {
      throw new Error(`output "${name}" has datatype ${JSON.stringify(datatype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new Error(`output "${name}" has no valid shape`);
    }
    const dims = shape as number[];
    const type = datatype as Datatype;
    const count = elementCount(dims);
    const size = (parameters as { binary_data_size?: unknown } | undefined)?.binary_data_size;
    if (size !== undefined) {
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0 || at + size > body.length) {
        throw new Error(`output "${name}" has binary_data_size ${String(size)} with ${body.length - at} bytes left`);
      }
      const bytes = body.subarray(at, at + size);
      at += size;
      if (type === 'BYTES') return { name, datatype: type, shape: dims, data: decodeStrings(bytes, count, name) };
      if (size !== count * ELEMENT_SIZE[type]) {
        throw new Error(`output "${name}" has ${size} bytes for ${count} values of ${type}`);
      }
      return binaryTensor(name, type, type, dims, bytes);
    }
    if (!Array.isArray(data) || data.length !== count) {
      throw new Error(`output "${name}" has neither binary data nor ${count} values in "data"`);
    }
    if (type === 'BYTES') {
      if (!data.every((s) => typeof s === 'string')) throw new Error(`output "${name}" has a non-string BYTES value`);
      return { name, datatype: type, shape: dims, data: data as string[] };
    }
    const values = allocate(type, count);
    storeAll(values, 0, data, type, (i) => `output "${name}": data[${i}]`);
    return { name, datatype: type, shape: dims, data: values };
  });
  if (at !== body.length) throw new Error(`${body.length - at} bytes follow its outputs' binary data`);
  return tensors;
}

/** BYTES values as the extension lays them out: each string's UTF-8 length in 4 little-endian bytes, then its bytes. */
function decodeStrings(bytes: Buffer, count: number, name: string): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new Error(`output "${name}" ends inside a string's length`);
    const length = bytes.readUInt32LE(at);
    if (at + 4 + length > bytes.length) throw new Error(`output "${name}" ends inside a string`);
    out.push(bytes.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  if (out.length !== count) throw new Error(`output "${name}" has ${out.length} strings for ${count} values`);
  return out;
}

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Errors of a connection the peer closed before answering: on a kept-alive one, worth one more try. */
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export class CandidateClient {
  private readonly agent = new Agent({ keepAlive: true });
  private readonly timeoutMs: number;

  constructor(timeoutMs = FORWARD_TIMEOUT_MS) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * The candidate's outputs for `inputs`, sent with the step they count in. Rejects with CandidateUnreachable
   * (no answer) or CandidateFailed (an answer that is not outputs).
   */
  async infer(
    target: CandidateTarget,
    inputs: readonly Tensor[],
    outputNames: readonly string[] | undefined,
    step: string,
  ): Promise<CandidateAnswer> {
    const { head, parts } = encodeInfer(inputs, outputNames);
    // One buffer, sent with the headers in one write: a write per part is a system call per part.
    const body = parts.length === 0 ? head : Buffer.concat([head, ...parts]);
    const started = performance.now();
    const answer = await this.exchange(target, body, head.length, step, true);
    if (answer.status !== 200) {
      throw new CandidateFailed(`the candidate answered ${answer.status}: ${errorOf(answer.body)}`);
    }
    let outputs: Tensor[];
    try {
      outputs = decodeInferAnswer(answer.body, answer.headers[HEADER_LENGTH] as string | undefined);
    } catch (err) {
      throw new CandidateFailed(`the candidate's answer cannot be read: ${(err as Error).message}`);
    }
    const said = Number(answer.headers[PREDICT_SECONDS_HEADER]);
    const predictSeconds = Number.isFinite(said) && said >= 0 ? said : (performance.now() - started) / 1000;
    return { outputs, predictSeconds };
  }

  /** Closes the kept-alive connections, and fails the requests still under way. */
  close(): void {
    this.agent.destroy();
  }

  /**
   * One request and its whole answer. A kept-alive connection the candidate closed just as it was reused fails
   * before any answer with a reset: that request is sent once more, on a fresh connection.
   */
  private exchange(target: CandidateTarget, body: Buffer, headLength: number, step: string, retry: boolean) {
    return new Promise<Exchange>((resolve, reject) => {
      const address = `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
      const req = request({
        agent: this.agent,
        host: target.host,
        port: target.port,
        path: target.path,
        method: 'POST',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': body.length,
          [HEADER_LENGTH]: headLength,
          [FORWARDED_HEADER]: step,
        },
      });
      let settled = false;
      let answered = false;
      const timer = setTimeout(
        () =>
          req.destroy(new CandidateUnreachable(`the candidate ${address} gave no answer within ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
      const fail = (err: NodeJS.ErrnoException) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (retry && !answered && req.reusedSocket && RESET_CODES.has(err.code ?? '')) {
          resolve(this.exchange(target, body, headLength, step, false));
          return;
        }
        reject(
          err instanceof CandidateUnreachable
            ? err
            : new CandidateUnreachable(`the candidate ${address}: ${err.message}`),
        );
      };
      req.once('error', fail);
      req.once('response', (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', fail);
        // A connection that ends inside the answer, should no error say so.
        res.once('close', () => {
          if (!res.complete)
            fail(new CandidateUnreachable(`the candidate ${address} closed the connection mid-answer`));
        });
        res.once('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      req.end(body);
    });
  }
}

/** The one line a scorer's error answer carries, without the "could not score" its client's answer will add. */
function errorOf(body: Buffer): string {
  const text = body.toString('utf8');
  let message = text;
  try {
    const error = (JSON.parse(text) as { error?: unknown }).error;
    if (typeof error === 'string') message = error;
  } catch {
    // not a scorer's JSON error: the text itself
  }
  const line = message
    .split('\n')[0]!
    .trim()
    .replace(/^the model could not score this input: /, '');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line || '(no message)';
}
