/**
 * The server's connections over real sockets (scorer/server.ts, http/body.ts): a client gone mid-body, a body over
 * MAX_BODY_BYTES, and draining on shutdown (idle connections end, slow requests meet the timeout).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { startTestScorer, type TestScorer } from '../helpers/scorer.js';
import { waitFor } from '../helpers/wait.js';

const body = JSON.stringify({ X: [1, 2] });
const ask = `POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;

async function open(server: TestScorer): Promise<Socket> {
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

const closed = (socket: Socket) => once(socket, 'close', { signal: AbortSignal.timeout(10_000) });

const LIMIT = 65_536;

// Each test has a scorer of its own, on the identity model.
let scorer: TestScorer;
beforeEach(async () => {
  scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity', MAX_BODY_BYTES: String(LIMIT) });
  await scorer.ready;
});
afterEach(() => scorer.close());

describe('a client gone before the end of its body', () => {
  it.each([
    ['/score', '/score'],
    ['/v2/models/identity/infer', '/v2/models/:name/infer'],
  ])('on %s: logged as 499 and counted once, no error, the connection released', async (path, route) => {
    const socket = await open(scorer);
    socket.write(`POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 3)}`);
    await waitFor('the half-sent request in flight', () => scorer.metrics.requests.inFlight === 1, 10_000, 10);
    socket.destroy();

    await scorer.logged(0, 1, (l) => l.msg === 'request');
    // The server's drain finds no connection left (and whatever the request's end would still log has been).
    await scorer.shutdown(5_000);
    expect(scorer.logs.filter((l) => l.msg === 'request')).toEqual([
      expect.objectContaining({ method: 'POST', route, status: 499, rows: 0 }),
    ]);
    expect(scorer.logs.filter((l) => (l.level as number) >= 40)).toEqual([]);
    const requests = scorer.metrics.requests.snapshot();
    expect(requests.inFlight).toBe(0);
    expect(requests.series).toEqual([expect.objectContaining({ route, method: 'POST', status: 499, count: 1 })]);
  });
});

/** What `socket` receives from now on, as text; `until(pattern)` waits (10 s at most) for it to match. */
function received(socket: Socket) {
  let text = '';
  socket.on('data', (c: Buffer) => (text += c.toString()));
  return {
    get text() {
      return text;
    },
    until: (pattern: RegExp) => waitFor(`the answer to match ${pattern}`, () => pattern.test(text), 10_000, 10),
  };
}

const chunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;
const chunked = 'POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
const filler = ' '.repeat(8192);

describe('a body over MAX_BODY_BYTES', () => {
  it.each([
    {
      how: 'chunked',
      head: chunked,
      rest: `${chunk('{"X": [')}${chunk(filler).repeat((4 * LIMIT) / filler.length)}${chunk('1]}')}0\r\n\r\n`,
      error: `request body exceeds the limit of ${LIMIT} bytes`,
    },
    {
      how: 'with its length declared',
      head: `POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * LIMIT + 10}\r\n\r\n`,
      rest: `{"X": [${' '.repeat(4 * LIMIT)}1]}`,
      error: `request body is ${4 * LIMIT + 10} bytes; the limit is ${LIMIT}`,
    },
  ])('$how and sent whole: a 413 that says so, and the connection serves the next request', async (c) => {
    const socket = await open(scorer);
    const answer = received(socket);
    socket.write(c.head + c.rest);
    await answer.until(/\r\n\r\n\{"error":"[^"]*"\}/);
    expect(answer.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.text).toContain(JSON.stringify({ error: c.error }));

    socket.write(ask + body);
    await answer.until(/"score":\[1,2\]/);
    expect(answer.text.match(/HTTP\/1\.1 \d+/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 200']);
    socket.destroy();
    expect(scorer.logs.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });

  it('chunked, from a client that keeps sending: the 413 reaches it, then the connection is closed', async () => {
    // Before the body was read on, the request was destroyed at once: the client got a reset and no answer.
    const socket = await open(scorer);
    socket.on('error', () => {});
    const answer = received(socket);
    socket.write(chunked + chunk('{"X": ['));
    const sending = setInterval(() => socket.writable && socket.write(chunk(filler)), 5);
    try {
      await answer.until(/\{"error":"[^"]*"\}/);
      expect(answer.text).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer.text).toContain(`request body exceeds the limit of ${LIMIT} bytes`);
      // Still sending: the rest is read and thrown away for a while (DISCARD_MS), then the connection ends (an
      // 'error' first, EPIPE or a reset, fails events.once's wait for 'close').
      await waitFor('the connection closed', () => socket.closed, 10_000, 10);
    } finally {
      clearInterval(sending);
    }
    const lines = await scorer.logged(0, 1, (l) => l.msg === 'request');
    expect(lines).toEqual([expect.objectContaining({ route: '/score', status: 413, rows: 0 })]);
  });
});

describe('scorer shutdown', () => {
  it('ends a kept-alive connection once it has been idle for a second, and resolves when none is left', async () => {
    const socket = await open(scorer);
    const answer = received(socket);
    socket.write(ask + body);
    await answer.until(/"score"/);
    const answered = Date.now();

    const stopped = scorer.shutdown(10_000);
    await closed(socket);
    expect(Date.now() - answered).toBeGreaterThanOrEqual(990);
    await stopped;
    expect(scorer.logs.filter((l) => l.level === 40)).toEqual([]);
  });

  it('closes the connections of requests that outlast the timeout, and says so', async () => {
    const socket = await open(scorer);
    socket.on('data', () => undefined);
    socket.write(ask + body.slice(0, 3));
    await waitFor('the half-sent request in flight', () => scorer.metrics.requests.inFlight === 1, 10_000, 10);

    const gone = closed(socket);
    await scorer.shutdown(100);
    await gone;
    expect(scorer.logs.filter((l) => l.level === 40)).toEqual([
      expect.objectContaining({
        timeoutMs: 100,
        connections: 1,
        msg: 'requests did not finish in time; closing their connections',
      }),
    ]);
  });
});
