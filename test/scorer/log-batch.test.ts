/**
 * The scorer's log lines in batches: whole lines, in order, at most PIPE_BUF bytes a write, written on a timer, on
 * flush and when the process exits.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LineBatch, PIPE_BUF, type LineSink } from '../../scorer/log-batch.js';
import { waitFor } from '../helpers/wait.js';

const LOG_BATCH = fileURLToPath(new URL('../../dist/scorer/log-batch.js', import.meta.url));
const PINO = fileURLToPath(new URL('../../node_modules/pino/pino.js', import.meta.url));

/** What a batch's destination was handed, write by write. */
function recorder(): LineSink & { writes: string[] } {
  const writes: string[] = [];
  return { writes, write: (chunk) => writes.push(chunk), flushSync: () => undefined };
}

const batches: LineBatch[] = [];
function batch(sink: LineSink, limit?: number, intervalMs = 60_000): LineBatch {
  const b = new LineBatch(sink, limit, intervalMs);
  batches.push(b);
  return b;
}
afterEach(() => batches.splice(0).forEach((b) => b.end()));

describe('LineBatch', () => {
  it('hands on whole lines, in order, in writes of at most PIPE_BUF bytes', () => {
    const sink = recorder();
    const b = batch(sink);
    // Lines of varied lengths, some with characters of two and three bytes in UTF-8.
    const lines = Array.from({ length: 500 }, (_, i) => `{"n":${i},"msg":"${'é€x'.repeat(i % 40)}"}\n`);
    for (const line of lines) b.write(line);
    b.flush();
    expect(sink.writes.join('')).toBe(lines.join(''));
    expect(sink.writes.length).toBeGreaterThan(10);
    for (const w of sink.writes) {
      expect(Buffer.byteLength(w)).toBeLessThanOrEqual(PIPE_BUF);
      expect(w.endsWith('\n')).toBe(true);
    }
    // Each write but the last is as full as the next line allows.
    sink.writes.slice(0, -1).forEach((w, i) => {
      const next = sink.writes[i + 1]!.slice(0, sink.writes[i + 1]!.indexOf('\n') + 1);
      expect(Buffer.byteLength(w) + Buffer.byteLength(next)).toBeGreaterThan(PIPE_BUF);
    });
  });

  it('writes nothing until a batch is full or flushed', () => {
    const sink = recorder();
    const b = batch(sink);
    b.write('{"a":1}\n');
    b.write('{"b":2}\n');
    expect(sink.writes).toEqual([]);
    b.flush();
    expect(sink.writes).toEqual(['{"a":1}\n{"b":2}\n']);
    b.flush();
    expect(sink.writes).toHaveLength(1);
  });

  it('hands on a line longer than the limit alone', () => {
    const sink = recorder();
    const b = batch(sink, 100);
    const long = `{"msg":"${'x'.repeat(200)}"}\n`;
    b.write('{"a":1}\n');
    b.write(long);
    b.write('{"b":2}\n');
    b.flush();
    expect(sink.writes).toEqual(['{"a":1}\n', long, '{"b":2}\n']);
  });

  it("writes a quiet logger's lines on its timer", async () => {
    const sink = recorder();
    const b = batch(sink, PIPE_BUF, 20);
    b.write('{"a":1}\n');
    await waitFor('the timer to write the line', () => sink.writes.length === 1, 5000, 5);
    expect(sink.writes).toEqual(['{"a":1}\n']);
  });

  it('calls back once flushed', async () => {
    const sink = recorder();
    const b = batch(sink);
    b.write('{"a":1}\n');
    await new Promise<void>((resolve) => b.flush(() => resolve()));
    expect(sink.writes).toEqual(['{"a":1}\n']);
  });

  it('has written every line of a process that exits at once, through pino to a pipe', async () => {
    // pino over a LineBatch over pino's synchronous destination on stdout, as the scorer logs; then process.exit
    // before the timer ever runs.
    const script = `
      const { LineBatch } = await import(${JSON.stringify(LOG_BATCH)});
      const { pino } = await import(${JSON.stringify(PINO)});
      const log = pino({ base: null, timestamp: false }, new LineBatch(pino.destination({ dest: 1, sync: true })));
      for (let i = 0; i < 5000; i++) log.info({ i }, 'line');
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.split('\n');
    expect(lines.pop()).toBe('');
    expect(lines.map((l) => (JSON.parse(l) as { i: number }).i)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  });
});

describe('LineBatch and the request line', () => {
  it('counts a request line by its length, and a line beyond ASCII by its UTF-8 bytes', async () => {
    const { pino } = await import('pino');
    const { requestLog } = await import('../../scorer/http/request-log.js');
    for (const component of ['scorer', 'scörer-€']) {
      const sink = recorder();
      const b = batch(sink, 1000);
      const write = requestLog(pino({ base: { component } }, b));
      // Enough lines to fill several batches: each must stay within the limit in bytes.
      for (let i = 0; i < 100; i++) write('POST', '/score', 200, 0.000042, 1);
      b.flush();
      expect(sink.writes.length).toBeGreaterThan(5);
      for (const w of sink.writes) expect(Buffer.byteLength(w)).toBeLessThanOrEqual(1000);
      expect(sink.writes.join('').split('\n').filter(Boolean)).toHaveLength(100);
    }
  });
});
