import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import { requestLog } from '../../../scorer/http/request-log.js';

/** A logger that writes to an array, as the scorer's writes to stdout. */
function capture(options: pino.LoggerOptions) {
  const lines: string[] = [];
  const log = pino(options, { write: (line: string) => lines.push(line) });
  return { log, lines };
}

/** A line with its time replaced, to compare lines written a millisecond apart. */
const timeless = (line: string) => line.replace(/"time":\d+/, '"time":0');

describe('requestLog', () => {
  it.each([
    ['the scorer', { base: { component: 'scorer' } }],
    ['a worker', { base: { component: 'scorer', worker: 2, pid: 4711 } }],
    ['pino defaults (pid, hostname)', {}],
    ['bindings beyond ASCII', { base: { component: 'scörer', host: 'nœud-1' } }],
  ])('writes the line pino writes for the same fields, byte for byte (%s)', (_what, options) => {
    const { log, lines } = capture(options);
    const write = requestLog(log);
    const cases = [
      ['POST', '/score', 200, 0.000042371, 1],
      ['GET', '/v2/models/:name/versions/:version/ready', 503, 1.5, 0],
      ['POST', 'unmatched', 499, 0, 0],
      ['PATCH', '/v2/models/:name/infer', 422, 12.3456789, 100],
    ] as const;
    for (const [method, route, status, seconds, rows] of cases) {
      log.info({ method, route, status, ms: Math.round(seconds * 1e6) / 1e3, rows }, 'request');
      write(method, route, status, seconds, rows);
    }
    expect(lines).toHaveLength(2 * cases.length);
    for (let i = 0; i < lines.length; i += 2) {
      expect(lines[i + 1]!.endsWith('\n')).toBe(true);
      expect(timeless(lines[i + 1]!)).toBe(timeless(lines[i]!));
    }
  });

  it('writes to a Node stream as pino would (where a second argument to write is an encoding)', () => {
    const out = new PassThrough();
    const write = requestLog(pino({ base: { component: 'scorer' } }, out));
    write('POST', '/score', 200, 0.000042, 1);
    const line = JSON.parse(String(out.read())) as Record<string, unknown>;
    expect(line).toMatchObject({ component: 'scorer', method: 'POST', route: '/score', status: 200, rows: 1 });
  });

  it('stamps the time it writes, in pino epoch milliseconds', () => {
    const { log, lines } = capture({ base: { component: 'scorer' } });
    const before = Date.now();
    requestLog(log)('POST', '/score', 200, 0.001, 1);
    const line = JSON.parse(lines[0]!) as { time: number; level: number; msg: string; ms: number };
    expect(line.time).toBeGreaterThanOrEqual(before);
    expect(line.time).toBeLessThanOrEqual(Date.now());
    expect(line).toMatchObject({ level: 30, msg: 'request', ms: 1 });
  });

  it('writes nothing when the level is above info, and follows a level changed later', () => {
    const { log, lines } = capture({ level: 'warn' });
    const write = requestLog(log);
    write('POST', '/score', 200, 0.001, 1);
    expect(lines).toEqual([]);
    log.level = 'debug';
    write('POST', '/score', 200, 0.001, 1);
    expect(lines).toHaveLength(1);
  });

  it('quotes what it is given as JSON: the line stays one valid object whatever the method or route', () => {
    const { log, lines } = capture({});
    const write = requestLog(log);
    write('M"\\\n', 'a "route"\u2028', 200, 0, 0);
    expect(lines[0]!.split('\n')).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ method: 'M"\\\n', route: 'a "route"\u2028' });
  });
});
