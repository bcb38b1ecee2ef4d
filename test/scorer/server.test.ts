/** Draining on shutdown (scorer/server.ts), over real sockets: idle connections end, slow requests meet the timeout. */
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

// Each test has a scorer of its own, on the identity model.
let scorer: TestScorer;
beforeEach(async () => {
  scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity' });
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

describe('scorer shutdown', () => {
  it('ends a kept-alive connection once it has been idle for a second, and resolves when none is left', async () => {
    const socket = await open(scorer);
    let answer = '';
    socket.on('data', (c: Buffer) => (answer += c.toString()));
    socket.write(ask + body);
    while (!answer.includes('"score"')) await once(socket, 'data');
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
