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
 */
import { pino, type Logger } from 'pino';
import { LineBatch } from '../log-batch.js';

export type RequestLog = (method: string, route: string, status: number, seconds: number, rows: number) => void;

/** The request line writer for `log`. */
export function requestLog(log: Logger): RequestLog {
  const stream = (log as unknown as Record<symbol, { write(line: string, bytes?: number): unknown }>)[
    pino.symbols.streamSym
  ]!;
  // The logger's bindings, serialised by pino once: `,"component":"scorer",...`.
  const bindings = (log as unknown as Record<symbol, string>)[pino.symbols.chindingsSym] ?? '';
  const level = log.levels.values.info!;
  // The line is ASCII when the bindings are (see above for the rest): its UTF-8 length is then its length, which a
  // LineBatch takes rather than measuring it. Only a LineBatch: a Node stream's second argument is an encoding.
  // eslint-disable-next-line no-control-regex
  const known = stream instanceof LineBatch && /^[\x00-\x7f]*$/.test(bindings);
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
  return (method, route, status, seconds, rows) => {
    if (!log.isLevelEnabled('info')) return;
    const line =
      `{"level":${level},"time":${Date.now()}${bindings},"method":${quote(method)},"route":${quote(route)},` +
      `"status":${status},"ms":${Math.round(seconds * 1e6) / 1e3},"rows":${rows},"msg":"request"}\n`;
    if (known) stream.write(line, line.length);
    else stream.write(line);
  };
}
