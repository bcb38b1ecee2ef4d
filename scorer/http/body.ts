import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';

/** Reads a body of at most `limit` bytes (`collectBody`). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => collectBody(req, limit, (err, body) => (err ? reject(err) : resolve(body!))));
}

/**
 * Reads a body of at most `limit` bytes, then calls `done` within the request's 'end' event: 413 as soon as it is
 * known to be larger, from its Content-Length or, for a chunked body, from what has arrived (the rest is then read
 * and thrown away for a while: `discardRest`). Read with 'data' and 'end' events: the stream's async iterator costs a
 * 1-row request a promise per chunk and more (the README's performance section has the figures).
 *
 * A client gone before the end of its body gets no answer: `done` is not called (nor `readBody`'s promise settled),
 * and the response's close accounts for the exchange (499, app.ts). No 'error' or 'close' listener: a server's
 * request emits 'error' only to its listeners, and those two cost the 1-row path about 2% of its instructions.
 */
export function collectBody(
  req: IncomingMessage,
  limit: number,
  done: (err: Error | undefined, body?: Buffer) => void,
): void {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) {
    discardRest(req, limit);
    done(new RequestError(413, `request body is ${declared} bytes; the limit is ${limit}`));
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  // The end or the limit calls `done`, whichever comes first. The listeners stay: the request is done with once it
  // closes, and removing them costs a 1-row request more than they do.
  let settled = false;
  req.on('data', (chunk: Buffer) => {
    if (settled) return;
    size += chunk.length;
    if (size > limit) {
      settled = true;
      discardRest(req, limit);
      done(new RequestError(413, `request body exceeds the limit of ${limit} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  req.on('end', () => {
    if (settled) return;
    settled = true;
    done(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
  });
}

/** How long, and how many more bytes, the rest of a refused body is read for (`discardRest`). */
const DISCARD_MS = 2000;
const DISCARD_BYTES = 16 * 1024 * 1024;

/**
 * Reads the rest of a body refused as too large and throws it away, so that the 413 reaches a client still sending
 * it: a connection closed with unread bytes in its receive queue is reset, and a reset can reach the client before
 * it has read the answer (a chunked body over the limit got "ECONNRESET" and no 413 when the request was destroyed
 * at once). At most DISCARD_MS or DISCARD_BYTES more, or `limit` if larger, then the connection is closed; a body
 * that ends within them leaves it open for the client's next request, as HTTP/1.1 allows.
 */
function discardRest(req: IncomingMessage, limit: number): void {
  let left = Math.max(limit, DISCARD_BYTES);
  const close = () => req.socket.destroy();
  const timer = setTimeout(close, DISCARD_MS).unref();
  req.on('data', (chunk: Buffer) => {
    left -= chunk.length;
    if (left < 0) {
      clearTimeout(timer);
      close();
    }
  });
  // No 'close' listener on the socket: it would stay there when the body ends in time, one more for each refused
  // body a kept-alive connection sends; the timer is unref'd, and destroying a closed socket does nothing.
  req.on('end', () => clearTimeout(timer));
  req.resume();
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
  return jsonBody(await readBody(req, limit));
}

/** A whole body's JSON: 400 when it is empty or malformed. */
export function jsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new RequestError(400, 'request body is empty; expected JSON');
  return parseJson(body);
}
