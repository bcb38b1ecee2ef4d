/**
 * The scorer's log lines, written to standard output in batches.
 *
 * A request writes a line, and the 1-row path serves tens of thousands a second: a write per line is a system call
 * per request, and an asynchronous write is a thread-pool task whose thread, woken from another core, takes CPU from
 * the server. Lines are gathered here, encoded as UTF-8 into a buffer as they come, and handed on as one buffer of
 * whole lines, at most `PIPE_BUF` bytes (the workers of a pod share the container's stdout pipe, and a write of at
 * most that size is never interleaved with another process's), each cut once the next line would not fit. The batches
 * cut are handed on together every `intervalMs`, once PENDING_BATCHES of them wait, and when the process exits; the
 * destination then writes each at once, from the event loop: one system call per twenty lines or more, no thread, and
 * a reader that falls behind slows the writers rather than filling their memory.
 *
 * Handed on apart from the requests whose lines fill them: a batch written from within the request that filled it
 * (the earlier design) put the destination's code and its system call on the 1-row path every twentieth request;
 * scorers that handed their batches on this way served 92.3% and 94.4% of the bare echo where scorers of the earlier
 * design served 90.6% and 90.3%, side by side (10 and 12 groups of fresh processes, the echo section's method).
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

/**
 * The most batches cut and not yet handed on: at most 256 KiB of lines held between two ticks of the timer (a scorer
 * at 10,000 requests a second cuts about 35 batches in 100 ms).
 */
export const PENDING_BATCHES = 64;

export class LineBatch {
  private slab: Buffer;
  private start = 0;
  private used = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly atExit = () => this.flushSync();
  /** Batches cut and not yet handed on, in order. */
  private readonly pending: Buffer[] = [];

  private readonly sink: LineSink;
  /** The most bytes of a batch. */
  readonly limit: number;

  constructor(sink: LineSink, limit = PIPE_BUF, intervalMs = 100) {
    this.sink = sink;
    this.limit = limit;
    this.slab = Buffer.allocUnsafe(limit * SLAB_BATCHES);
    // A scorer's lines are written within `intervalMs`, a quiet one's too; the timer keeps no process alive.
    this.timer = setInterval(() => {
      this.send();
      this.handOn();
    }, intervalMs).unref();
    process.once('exit', this.atExit);
  }

  /** Adds one line (pino's), ending in a newline. A line longer than a batch is handed on alone. */
  write(line: string): boolean {
    // A UTF-16 unit takes at most 3 bytes in UTF-8: a line that fits so needs no measuring.
    if (line.length * 3 > this.limit - this.used) {
      const bytes = Buffer.byteLength(line);
      if (bytes > this.limit - this.used) this.send();
      if (bytes > this.limit) {
        // After the batches before it.
        this.handOn();
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
    this.handOn();
    if (!cb) return;
    if (this.sink.flush) this.sink.flush(cb);
    else process.nextTick(cb);
  }

  flushSync(): void {
    this.send();
    this.handOn();
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
    this.pending.push(batch);
    if (this.pending.length >= PENDING_BATCHES) this.handOn();
  }

  /** Hands the batches cut on to the destination, in order. */
  private handOn(): void {
    for (let i = 0; i < this.pending.length; i++) this.sink.write(this.pending[i]!);
    this.pending.length = 0;
  }
}

/** The scorer's destination: a LineBatch over pino's synchronous destination in buffer mode on `dest` (fd or path). */
export function batchedDestination(dest: number | string): LineBatch {
  const boom = pino.destination({ dest, sync: true, contentMode: 'buffer' });
  // sonic-boom's types know its string mode only; in buffer mode, its write takes a buffer.
  return new LineBatch(boom as unknown as LineSink);
}
