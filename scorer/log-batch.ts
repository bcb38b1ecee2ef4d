/**
 * The scorer's log lines, written to standard output in batches.
 *
 * A request writes a line, and the 1-row path serves tens of thousands a second: a write per line is a system call
 * per request, and an asynchronous write is a thread-pool task whose thread, woken from another core, takes CPU from
 * the server. Lines are gathered here, encoded as UTF-8 into a buffer as they come, and handed on as one buffer of
 * whole lines, at most `PIPE_BUF` bytes (the workers of a pod share the container's stdout pipe, and a write of at
 * most that size is never interleaved with another process's), once the next line would not fit, every `intervalMs`,
 * and when the process exits. The destination then writes each batch at once, from the event loop: one system call
 * per twenty lines or more, no thread, and a reader that falls behind slows the writers rather than filling their
 * memory.
 *
 * The request line, the hot path's one line, is written into the buffer byte by byte by its writer (`reserve`,
 * `bytes`, `commit`; http/request-log.ts): no string to build, flatten and encode per request.
 *
 * pino's own destination (sonic-boom) can gather lines too (`minLength`), but it measures the UTF-8 length of its
 * whole pending string on each write, which costs a line as much as the rest of the 1-row request's accounting.
 */

import { pino } from 'pino';

/** The most bytes the kernel writes to a pipe in one piece (POSIX's minimum for it, and Linux's value). */
export const PIPE_BUF = 4096;

/**
 * Where a batch goes: pino's destination (sonic-boom), synchronous and in buffer mode, which retries a full pipe. It
 * may keep a batch it was handed until the pipe takes it: each batch is a buffer of its own.
 */
export interface LineSink {
  write(chunk: Buffer): unknown;
  flush?(cb: (err?: Error | null) => void): void;
  flushSync(): void;
}

/** Batches are cut from slabs of this many batches: one allocation per sixteen batches. */
const SLAB_BATCHES = 16;

export class LineBatch {
  private slab: Buffer;
  private start = 0;
  private used = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly atExit = () => this.flushSync();

  private readonly sink: LineSink;
  /** The most bytes of a batch. */
  readonly limit: number;

  constructor(sink: LineSink, limit = PIPE_BUF, intervalMs = 100) {
    this.sink = sink;
    this.limit = limit;
    this.slab = Buffer.allocUnsafe(limit * SLAB_BATCHES);
    // A quiet scorer's last lines are written within `intervalMs`; the timer keeps no process alive.
    this.timer = setInterval(() => this.send(), intervalMs).unref();
    process.once('exit', this.atExit);
  }

  /** Adds one line (pino's), ending in a newline. A line longer than a batch is handed on alone. */
  write(line: string): boolean {
    // A UTF-16 unit takes at most 3 bytes in UTF-8: a line that fits so needs no measuring.
    if (line.length * 3 > this.limit - this.used) {
      const bytes = Buffer.byteLength(line);
      if (bytes > this.limit - this.used) this.send();
      if (bytes > this.limit) {
        this.sink.write(Buffer.from(line));
        return true;
      }
    }
    this.used += this.slab.write(line, this.start + this.used);
    return true;
  }

  /**
   * Room for a line of at most `max` bytes (at most `limit`): the offset in `bytes` where the caller writes it, then
   * calls `commit` with the offset past its last byte.
   */
  reserve(max: number): number {
    if (max > this.limit - this.used) this.send();
    return this.start + this.used;
  }

  /** The buffer `reserve`'s offset is in. */
  get bytes(): Buffer {
    return this.slab;
  }

  /** The line written since `reserve` ends before `end`. */
  commit(end: number): void {
    this.used = end - this.start;
  }

  /** Writes what is gathered; `cb` once the destination has it (pino's `logger.flush(cb)`). */
  flush(cb?: (err?: Error | null) => void): void {
    this.send();
    if (!cb) return;
    if (this.sink.flush) this.sink.flush(cb);
    else process.nextTick(cb);
  }

  flushSync(): void {
    this.send();
    this.sink.flushSync();
  }

  /** Stops the timer; what is gathered is written. */
  end(): void {
    clearInterval(this.timer);
    process.off('exit', this.atExit);
    this.flushSync();
  }

  private send(): void {
    if (this.used === 0) return;
    const batch = this.slab.subarray(this.start, this.start + this.used);
    // The sink may keep the batch: the next one starts past it, in a new slab once this one is used up.
    this.start += this.limit;
    if (this.start + this.limit > this.slab.length) {
      this.slab = Buffer.allocUnsafe(this.limit * SLAB_BATCHES);
      this.start = 0;
    }
    this.used = 0;
    this.sink.write(batch);
  }
}

/** The scorer's destination: a LineBatch over pino's synchronous destination in buffer mode on `dest` (fd or path). */
export function batchedDestination(dest: number | string): LineBatch {
  const boom = pino.destination({ dest, sync: true, contentMode: 'buffer' });
  // sonic-boom's types know its string mode only; in buffer mode, its write takes a buffer.
  return new LineBatch(boom as unknown as LineSink);
}
