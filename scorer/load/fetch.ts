/**
 * Fetching a file's bytes (the model's, the drift baseline's) from a path, http(s) or S3. Every failure is an Error
 * whose message is the reason a user reads after "cannot load model URI: " (or "... baseline URI: ").
 */
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ScorerConfig } from '../config.js';
import type { ModelLocation } from '../../contract/uri.js';

export type FetchLimits = Pick<
  ScorerConfig,
  'downloadTimeoutMs' | 'downloadRetries' | 'downloadMaxBytes' | 's3Endpoint' | 's3ForcePathStyle'
>;

/** `what` names the file in messages: "model", "baseline". */
export async function fetchFile(
  location: ModelLocation,
  limits: FetchLimits,
  log: Logger,
  what = 'model',
): Promise<Uint8Array> {
  switch (location.scheme) {
    case 'file':
      return readLocal(location.path!, limits.downloadMaxBytes, what);
    case 'http':
      return download(location, limits, log, what);
    case 's3':
      return readS3(location, limits, what);
    case 'identity':
      return new Uint8Array(0);
  }
}

/** Reasons by error code; `what` names the file, as for fetchFile. */
const FS_REASONS: Record<string, (what: string) => string> = {
  ENOENT: () => 'file not found',
  EACCES: () => 'permission denied',
  EPERM: () => 'permission denied',
  EISDIR: (what) => `is a directory, not a ${what} file`,
  ENOTDIR: () => 'a part of the path is not a directory',
};

async function readLocal(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    if (info.size > maxBytes) throw new Error(`the file is ${info.size} bytes; the limit is ${maxBytes}`);
    return new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code ? FS_REASONS[code]?.(what) : undefined;
    throw new Error(reason ?? (err as Error).message, { cause: err });
  }
}

/** An error worth another attempt (network trouble, a timeout, 408/429/5xx). */
class Retryable extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** 0.5 s, 1 s, 2 s, ... capped at 10 s, with jitter so that many pods restarting together do not march in step. */
export function backoffMs(attempt: number, random = Math.random): number {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return Math.round(base * (0.75 + random() * 0.5));
}

async function download(location: ModelLocation, limits: FetchLimits, log: Logger, what: string): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await downloadOnce(location.url!, limits, what);
    } catch (err) {
      if (!(err instanceof Retryable) || attempt >= limits.downloadRetries) {
        const tries = attempt + 1;
        const suffix = err instanceof Retryable && tries > 1 ? ` (after ${tries} attempts)` : '';
        // Whatever a lower layer said, the URI's secrets stay out of the message.
        const reason = (err as Error).message.replaceAll(location.url!.href, location.display);
        throw new Error(`${reason}${suffix}`, { cause: err });
      }
      const wait = backoffMs(attempt);
      log.warn(
        { uri: location.display, attempt: attempt + 1, retryInMs: wait, reason: (err as Error).message },
        'download failed; retrying',
      );
      await sleep(wait);
    }
  }
}

async function downloadOnce(target: URL, limits: FetchLimits, what: string): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(limits.downloadTimeoutMs);
  // fetch() refuses userinfo in a URL; it becomes a Basic Authorization header instead.
  const url = new URL(target.href);
  const headers: Record<string, string> = {};
  if (url.username || url.password) {
    const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    url.username = '';
    url.password = '';
  }
  let res: Response;
  try {
    res = await fetch(url, { signal, redirect: 'follow', headers });
  } catch (err) {
    const tls = tlsReason(err);
    if (tls) throw new Error(tls, { cause: err });
    throw new Retryable(networkReason(err, limits.downloadTimeoutMs), { cause: err });
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => undefined);
    const reason = `HTTP ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`;
    if (res.status === 408 || res.status === 429 || res.status >= 500) throw new Retryable(reason);
    throw new Error(reason);
  }
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > limits.downloadMaxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`the ${what} is ${declared} bytes; the limit (DOWNLOAD_MAX_BYTES) is ${limits.downloadMaxBytes}`);
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body ?? []) {
      total += chunk.length;
      if (total > limits.downloadMaxBytes) {
        throw new Error(`the ${what} is over the limit (DOWNLOAD_MAX_BYTES) of ${limits.downloadMaxBytes} bytes`);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if ((err as Error).message.includes('DOWNLOAD_MAX_BYTES')) throw err;
    const of = Number.isNaN(declared) ? '' : ` of ${declared}`;
    throw new Retryable(
      `the download ended after ${total}${of} bytes: ${networkReason(err, limits.downloadTimeoutMs)}`,
      { cause: err },
    );
  }
  if (!Number.isNaN(declared) && total !== declared) {
    throw new Retryable(`the download ended after ${total} of ${declared} bytes`);
  }
  return concat(chunks, total);
}

/** A certificate the scorer does not trust: no retry helps, the fix is a CA bundle. */
function tlsReason(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code ?? '';
  if (!/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code)) return undefined;
  const what = (cause?.message ?? code).split(';')[0];
  return `TLS: ${what} (trust a private CA with NODE_EXTRA_CA_CERTS=/path/to/ca.pem)`;
}

function networkReason(err: unknown, timeoutMs: number): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.cause?.code === 'UND_ERR_CONNECT_TIMEOUT') {
    return `timed out after ${timeoutMs} ms (DOWNLOAD_TIMEOUT_MS)`;
  }
  const code = e.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'connection reset';
  return e.cause?.message ?? e.message;
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

async function readS3(location: ModelLocation, limits: FetchLimits, what: string): Promise<Uint8Array> {
  const client = new S3Client({
    region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(limits.s3Endpoint ? { endpoint: limits.s3Endpoint } : {}),
    // S3-compatible stores (MinIO, Ceph) usually want path-style addressing.
    forcePathStyle: limits.s3ForcePathStyle ?? limits.s3Endpoint !== undefined,
    maxAttempts: limits.downloadRetries + 1,
  });
  const { bucket, key } = location;
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
      abortSignal: AbortSignal.timeout(limits.downloadTimeoutMs),
    });
    if ((res.ContentLength ?? 0) > limits.downloadMaxBytes) {
      throw new Error(
        `the ${what} is ${res.ContentLength} bytes; the limit (DOWNLOAD_MAX_BYTES) is ${limits.downloadMaxBytes}`,
      );
    }
    return await res.Body!.transformToByteArray();
  } catch (err) {
    throw new Error(s3Reason(err, bucket!, key!, limits.downloadTimeoutMs), { cause: err });
  } finally {
    client.destroy();
  }
}

function s3Reason(err: unknown, bucket: string, key: string, timeoutMs: number): string {
  const e = err as Error & { Code?: string; code?: string };
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    switch (err.name) {
      case 'NoSuchKey':
        return `no object "${key}" in bucket "${bucket}"`;
      case 'NoSuchBucket':
        return `no bucket "${bucket}"`;
      case 'AccessDenied':
      case 'Forbidden':
        return `access denied to s3://${bucket}/${key} (check the credentials)`;
      case 'InvalidAccessKeyId':
        return 'the access key id is not known to the store (AWS_ACCESS_KEY_ID)';
      case 'SignatureDoesNotMatch':
        return 'the request signature does not match (check AWS_SECRET_ACCESS_KEY)';
      case 'NotFound':
        return `no object "${key}" in bucket "${bucket}"`;
      default:
        return `S3 error ${err.name}${status ? ` (HTTP ${status})` : ''}: ${err.message}`;
    }
  }
  if (e.name === 'TimeoutError' || e.name === 'AbortError')
    return `timed out after ${timeoutMs} ms (DOWNLOAD_TIMEOUT_MS)`;
  if (e.name === 'CredentialsProviderError')
    return 'no AWS credentials found (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)';
  if (e.code === 'ECONNREFUSED') return 'connection refused by the S3 endpoint';
  if (e.code === 'ENOTFOUND') return 'the S3 endpoint host was not found';
  return e.message;
}
