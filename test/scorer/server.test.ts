/** Draining on shutdown (scorer/server.ts), over real sockets: idle connections end, slow requests meet the timeout. */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { startTestScorer, type TestScorer } from '../helpers/scorer.js';
import { waitFor } from '../helpers/wait.js';

const body = JSON.stringify({ X: [1, 2] });
const ask = `POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;

async function open(scorer: TestScorer): Promise<Socket> {
  const socket = connect(Number(new URL(scorer.url).port), '127.0.0.1');
  await once(socket, 'connect');
  return socket;
}

const closed = (socket: Socket) => once(socket, 'close', { signal: AbortSignal.timeout(10_000) });

describe('scorer shutdown', () => {
  let scorer: TestScorer;
  beforeEach(async () => {
    scorer = await startTestScorer({ MODEL_URI: 'identity', MODEL_FORMAT: 'identity' });
    await scorer.ready;
  });
  afterEach(() => scorer.close());

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
