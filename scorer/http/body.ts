import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';

/** Reads a body of at most `limit` bytes: 413 as soon as it is known to be larger. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new RequestError(413, `request body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new RequestError(413, `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Parses UTF-8 JSON; `what` names the bytes in the message when they are not the whole body. */
export function parseJson(bytes: Buffer, what = ''): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new RequestError(400, `malformed JSON${what}: ${(err as Error).message}`);
  }
}

/**
 * Reads and parses a JSON body of at most `limit` bytes. Any Content-Type is accepted: the seed's
 * clients post with `curl -d`, which says form-urlencoded.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const body = await readBody(req, limit);
  if (body.length === 0) throw new RequestError(400, 'request body is empty; expected JSON');
  return parseJson(body);
}
