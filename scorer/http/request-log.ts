/**
 * The one log line each HTTP request writes: `{"level":30,"time":...,<the logger's bindings>,"method":"POST",
 * "route":"/score","status":200,"ms":0.042,"rows":1,"msg":"request"}`, the line pino writes for
 * `log.info({ method, route, status, ms, rows }, 'request')`, byte for byte.
 *
 * It is written here rather than through pino's `info` because it is the hot path's only log line: pino's generic
 * serialisation (a loop over the fields, a JSON escape check of each string, an object per call) cost the 1-row path
 * about 2 µs a request, a tenth of a bare echo's. Its fields are known here: numbers, a route from the server's own
 * table and the method, which Node's HTTP parser admits only as a token (no quote, backslash or control character);
 * both are JSON-quoted once and kept. The line goes to the logger's own destination, in its order with every other
 * line, and only when the logger's level admits `info`.
 *
 * Into the scorer's LineBatch the line is written as bytes: its start (the level, the time, the bindings, the method
 * and route) made once a millisecond for a route and copied, the numbers after it written digit by digit. Built as a
 * string, then flattened and encoded into the batch, the same line cost about three times as much in a loop, and
 * the server 1.8-7.3 µs of CPU a request against 0.4 now, most of it in number-to-string conversions and string
 * copies (perf on the server under load; bench:scorer's echo section).
 */
import { pino, type Logger } from 'pino';
import { LineBatch } from '../log-batch.js';

/**
 * Writes the line of a request that took `seconds` and ended at `now` (performance.now(), which the caller has read
 * to measure it; read here if not given).
 */
export type RequestLog = (
  method: string,
  route: string,
  status: number,
  seconds: number,
  rows: number,
  now?: number,
) => void;

/** The request line writer for `log`. */
export function requestLog(log: Logger): RequestLog {
  const stream = (log as unknown as Record<symbol, { write(line: string): unknown }>)[pino.symbols.streamSym]!;
  // The logger's bindings, serialised by pino once: `,"component":"scorer",...`.
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  const level = log.levels.values.info!;
  const quoted = new Map<string, string>();
  const quote = (s: string): string => {
    let q = quoted.get(s);
    if (q === undefined) {
      q = JSON.stringify(s);
      // A bounded cache: the routes are a handful; methods are whatever clients send.
      if (quoted.size < 256) quoted.set(s, q);
    }
    return q;
  };
  /** The line up to its status: `{"level":30,"time":...<bindings>,"method":"POST","route":"/score","status":`. */
  const head = (method: string, route: string, time: number) =>
    `{"level":${level},"time":${time}${bindings},"method":${quote(method)},"route":${quote(route)},"status":`;
  const line = (method: string, route: string, status: number, seconds: number, rows: number) =>
    `${head(method, route, Date.now())}${status},"ms":${Math.round(seconds * 1e6) / 1e3},"rows":${rows},` +
    `"msg":"request"}\n`;

  if (!(stream instanceof LineBatch)) {
    return (method, route, status, seconds, rows) => {
      if (log.isLevelEnabled('info')) stream.write(line(method, route, status, seconds, rows));
    };
  }

  const batch = stream;
  // The line up to its status (`head`) is the same for the requests of a route that end within a millisecond: made
  // once for them. Date.now() is read again once the monotonic clock has moved a millisecond past the last reading
  // (a reading of either clock costs about 50 ns on this VM).
  let prefix = Buffer.alloc(0);
  let prefixMethod = '';
  let prefixRoute = '';
  let prefixAt = -Infinity;
  // After the status, and after the milliseconds: the keys that follow them.
  const afterStatus = Buffer.from(',"ms":');
  const afterMillis = Buffer.from(',"rows":');
  const tail = Buffer.from(',"msg":"request"}\n');
  // The most bytes of the three numbers: a safe integer has at most 16 digits, the milliseconds a point too.
  const rest = afterStatus.length + afterMillis.length + tail.length + 3 * 17;
  // The level, followed as it changes: pino's isLevelEnabled costs a fifth of the line.
  let enabled = log.isLevelEnabled('info');
  log.on('level-change', () => (enabled = log.isLevelEnabled('info')));
  return (method, route, status, seconds, rows, now = performance.now()) => {
    if (!enabled) return;
    // (abs: a caller's clock reading may be older than the last one's.)
    if (Math.abs(now - prefixAt) >= 1 || method !== prefixMethod || route !== prefixRoute) {
      prefix = Buffer.from(head(method, route, Date.now()));
      prefixMethod = method;
      prefixRoute = route;
      prefixAt = now;
    }
    const micros = Math.round(seconds * 1e6);
    const max = prefix.length + rest;
    if (max > batch.limit || !plain(status) || !plain(rows) || !plain(micros) || micros >= 2 ** 31) {
      // A line longer than a batch, numbers beyond plain digits, or a request of more than half an hour (never from
      // the server): as a string.
      batch.write(line(method, route, status, seconds, rows));
      return;
    }
    const start = batch.reserve(max);
    // After reserve: it may have begun a new buffer.
    const b = batch.bytes;
    b.set(prefix, start);
    let at = digits(b, start + prefix.length, status);
    at = copy(b, at, afterStatus);
    at = millis(b, at, micros);
    at = copy(b, at, afterMillis);
    at = digits(b, at, rows);
    batch.commit(copy(b, at, tail));
  };
}

/** A number written as plain decimal digits: a safe integer, not negative. */
function plain(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Copies `src` into `b` at `at`; the offset past it. A loop: for a few bytes, cheaper than a call to `set`. */
function copy(b: Buffer, at: number, src: Buffer): number {
  for (let i = 0; i < src.length; i++) b[at + i] = src[i]!;
  return at + src.length;
}

/** Writes `n` (plain) in decimal at `at`; the offset past it. */
function digits(b: Buffer, at: number, n: number): number {
  if (n < 2 ** 31) return smallDigits(b, at, n);
  // Beyond 31 bits (a count of rows, in principle): the billions, then nine digits, each part a small integer.
  const high = Math.floor(n / 1e9);
  return padded(b, digits(b, at, high), n - high * 1e9, 9);
}

/** `n` below 2 ** 31: in 32-bit integer arithmetic (`| 0`), cheaper than dividing floats. */
function smallDigits(b: Buffer, at: number, n: number): number {
  let end = at + 1;
  for (let rest = n; rest >= 10; rest = (rest / 10) | 0) end++;
  return padded(b, at, n, end - at);
}

/** `n` below 2 ** 31 in exactly `width` digits, zeros first. */
function padded(b: Buffer, at: number, n: number, width: number): number {
  const end = at + width;
  for (let i = end - 1; i >= at; i--) {
    const q = (n / 10) | 0;
    b[i] = 48 + n - q * 10;
    n = q;
  }
  return end;
}

/**
 * Writes `micros` microseconds (below 2 ** 31) as milliseconds, as JavaScript prints `micros / 1e3`: the whole
 * milliseconds, then a point and up to three decimals when they are not all zero, without trailing zeros.
 */
function millis(b: Buffer, at: number, micros: number): number {
  const whole = (micros / 1000) | 0;
  let frac = micros - whole * 1000;
  at = smallDigits(b, at, whole);
  if (frac === 0) return at;
  b[at++] = 46; // '.'
  for (let unit = 100; frac > 0; unit = (unit / 10) | 0) {
    const d = (frac / unit) | 0;
    b[at++] = 48 + d;
    frac -= d * unit;
  }
  return at;
}
