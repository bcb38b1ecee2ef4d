/**
 * The scorer's log lines in batches: whole lines, in order, at most PIPE_BUF bytes a write, written on a timer, once
 * PENDING_BATCHES batches wait, on flush and when the process exits.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { LineBatch, PENDING_BATCHES, PIPE_BUF, type LineSink } from '../../scorer/log-batch.js';
import { waitFor } from '../helpers/wait.js';

const LOG_BATCH = fileURLToPath(new URL('../../dist/scorer/log-batch.js', import.meta.url));
const PINO = fileURLToPath(new URL('../../node_modules/pino/pino.js', import.meta.url));

/**
 * What a batch's destination was handed, write by write, read when asked: a destination may keep a batch until the
 * pipe takes it, so what it was handed must not change after.
 */
function recorder(): LineSink & { readonly writes: string[] } {
  const kept: Buffer[] = [];
  return {
    get writes() {
      return kept.map((b) => b.toString());
    },
    write: (chunk) => kept.push(chunk),
    flushSync: () => undefined,
  };
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
    // More batches than a slab holds (log-batch.ts), to see that none is overwritten once handed on.
    const lines = Array.from({ length: 1000 }, (_, i) => `{"n":${i},"msg":"${'é€x'.repeat(i % 40)}"}\n`);
    for (const line of lines) b.write(line);
    b.flush();
    expect(sink.writes.join('')).toBe(lines.join(''));
    expect(sink.writes.length).toBeGreaterThan(16);
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

  it('hands full batches on only once PENDING_BATCHES of them wait, or on flush', () => {
    const sink = recorder();
    const b = batch(sink, 100);
    const line = `{"msg":"${'x'.repeat(80)}"}\n`;
    // One line fills a batch of 100 bytes: each line cuts the batch before it.
    for (let i = 0; i < PENDING_BATCHES; i++) b.write(line);
    expect(sink.writes).toEqual([]);
    b.write(line);
    expect(sink.writes).toEqual(Array.from({ length: PENDING_BATCHES }, () => line));
    b.write(line);
    b.flush();
    expect(sink.writes).toHaveLength(PENDING_BATCHES + 2);
  });

  it("writes a busy logger's full batches on its timer", async () => {
    const sink = recorder();
    const b = batch(sink, 100, 20);
    const line = `{"msg":"${'x'.repeat(80)}"}\n`;
    for (let i = 0; i < 3; i++) b.write(line);
    expect(sink.writes).toEqual([]);
    await waitFor('the timer to write the lines', () => sink.writes.length === 3, 5000, 5);
    expect(sink.writes).toEqual([line, line, line]);
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
      const { batchedDestination } = await import(${JSON.stringify(LOG_BATCH)});
      const { pino } = await import(${JSON.stringify(PINO)});
      const log = pino({ base: null, timestamp: false }, batchedDestination(1));
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
  /** A line with its time replaced, to compare lines written a millisecond apart. */
  const timeless = (line: string) => line.replace(/"time":\d+/, '"time":0');

  it.each([
    ['the scorer', { component: 'scorer' }],
    ['a worker', { component: 'scorer', worker: 2, pid: 4711 }],
    ['bindings beyond ASCII', { component: 'scörer', host: 'nœud-€' }],
  ])('writes the bytes pino writes for the same fields (%s)', async (_what, base) => {
    const { pino } = await import('pino');
    const { requestLog } = await import('../../scorer/http/request-log.js');
    const sink = recorder();
    const b = batch(sink);
    const log = pino({ base }, b);
    const write = requestLog(log);
    const cases: [string, string, number, number, number][] = [
      ['POST', '/score', 200, 0.000042371, 1],
      ['POST', '/score', 200, 0.00004, 1],
      ['POST', '/score', 200, 0.0004, 10],
      ['GET', '/v2/models/:name/versions/:version/ready', 503, 1.5, 0],
      ['POST', 'unmatched', 499, 0, 0],
      ['PATCH', '/v2/models/:name/infer', 422, 12.3456789, 100],
      ['POST', '/v2/models/:name/infer', 200, 3600.0000004, 9_007_199_254_740_991],
      ['POST', '/score', 200, 0.9999996, 1_000_000],
    ];
    for (const [method, route, status, seconds, rows] of cases) {
      log.info({ method, route, status, ms: Math.round(seconds * 1e6) / 1e3, rows }, 'request');
      write(method, route, status, seconds, rows);
    }
    b.flush();
    const lines = sink.writes.join('').split('\n');
    expect(lines.pop()).toBe('');
    expect(lines).toHaveLength(2 * cases.length);
    for (let i = 0; i < lines.length; i += 2) expect(timeless(lines[i + 1]!)).toBe(timeless(lines[i]!));
    // The time is the time of writing, in epoch milliseconds.
    const time = (JSON.parse(lines[1]!) as { time: number }).time;
    expect(Math.abs(time - Date.now())).toBeLessThan(60_000);
  });

  it("follows the logger's level as it changes", async () => {
    const { pino } = await import('pino');
    const { requestLog } = await import('../../scorer/http/request-log.js');
    const sink = recorder();
    const b = batch(sink);
    const log = pino({ level: 'warn' }, b);
    const write = requestLog(log);
    write('POST', '/score', 200, 0.001, 1);
    b.flush();
    expect(sink.writes).toEqual([]);
    log.level = 'info';
    write('POST', '/score', 200, 0.002, 1);
    log.level = 'error';
    write('POST', '/score', 200, 0.003, 1);
    b.flush();
    expect(
      sink.writes
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { ms: number }).ms),
    ).toEqual([2]);
  });

  it('writes each line with its own method and route, within one millisecond too', async () => {
    const { pino } = await import('pino');
    const { requestLog } = await import('../../scorer/http/request-log.js');
    const sink = recorder();
    const b = batch(sink);
    const write = requestLog(pino({ base: null }, b));
    // The same end time: the line's start is made once a millisecond, and must change with the method and route.
    const sent = [
      ['POST', '/score'],
      ['POST', '/score'],
      ['GET', '/v2/health/ready'],
      ['POST', '/score'],
      ['POST', '/v2/models/:name/infer'],
    ] as const;
    for (const [method, route] of sent) write(method, route, 200, 0.001, 1, 1000);
    b.flush();
    const lines = sink.writes.join('').split('\n').filter(Boolean);
    expect(
      lines.map((l) => JSON.parse(l) as { method: string; route: string }).map((l) => [l.method, l.route]),
    ).toEqual(sent.map((m) => [...m]));
  });

  it('keeps whole request lines within the limit, in bytes, beyond ASCII too', async () => {
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
      const lines = sink.writes.join('').split('\n');
      expect(lines.pop()).toBe('');
      expect(lines.map((l) => (JSON.parse(l) as { component: string }).component)).toEqual(Array(100).fill(component));
    }
  });

  it('hands on a request line longer than a batch alone, whole', async () => {
    const { pino } = await import('pino');
    const { requestLog } = await import('../../scorer/http/request-log.js');
    const sink = recorder();
    const b = batch(sink, 200);
    const log = pino({ base: { component: 'scorer', note: 'x'.repeat(300) } }, b);
    requestLog(log)('POST', '/score', 200, 0.001, 1);
    requestLog(log)('POST', '/score', 200, 0.002, 1);
    b.flush();
    expect(sink.writes).toHaveLength(2);
    expect(sink.writes.map((w) => (JSON.parse(w) as { ms: number }).ms)).toEqual([1, 2]);
  });
});
