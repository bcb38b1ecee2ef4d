import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';

/**
 * Reads and parses a JSON body of at most `limit` bytes. Any Content-Type is accepted: the seed's
 * clients post with `curl -d`, which says form-urlencoded.
 */
export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new RequestError(413, `request body is ${declared} bytes; the limit is ${limit}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new RequestError(413, `request body exceeds the limit of ${limit} bytes`);
    chunks.push(chunk);
  }
  if (size === 0) throw new RequestError(400, 'request body is empty; expected JSON');
  const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks, size).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new RequestError(400, `malformed JSON: ${(err as Error).message}`);
  }
}
