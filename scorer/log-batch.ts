/**
 * The scorer's log lines, written to standard output in batches.
 *
 * A request writes a line, and the 1-row path serves tens of thousands a second: a write per line is a system call
 * per request, and an asynchronous write is a thread-pool task whose thread, woken from another core, takes CPU from
 * the server. Lines are gathered here and handed on as one string of whole lines, at most `PIPE_BUF` bytes (the
 * workers of a pod share the container's stdout pipe, and a write of at most that size is never interleaved with
 * another process's), once the next line would not fit, every `intervalMs`, and when the process exits. The
 * destination then writes each batch at once, from the event loop: one system call per twenty lines or more, no
 * thread, and a reader that falls behind slows the writers rather than filling their memory.
 *
 * pino's own destination (sonic-boom) can gather lines too (`minLength`), but it measures the UTF-8 length of its
 * whole pending string on each write, which costs a line as much as the rest of the 1-row request's accounting.
 */

/** The most bytes the kernel writes to a pipe in one piece (POSIX's minimum for it, and Linux's value). */
export const PIPE_BUF = 4096;

/** Where a batch goes: pino's destination (sonic-boom), synchronous, which retries a full pipe. */
export interface LineSink {
  write(chunk: string): unknown;
  flush?(cb: (err?: Error | null) => void): void;
  flushSync(): void;
}

export class LineBatch {
  private pending = '';
  private bytes = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly atExit = () => this.flushSync();

  private readonly sink: LineSink;
  private readonly limit: number;

  constructor(sink: LineSink, limit = PIPE_BUF, intervalMs = 100) {
    this.sink = sink;
    this.limit = limit;
    // A quiet scorer's last lines are written within `intervalMs`; the timer keeps no process alive.
    this.timer = setInterval(() => this.send(), intervalMs).unref();
    process.once('exit', this.atExit);
  }

  /**
   * Adds one line (pino's, or a request line), ending in a newline. `bytes`, its length in UTF-8, when the caller
   * knows it (a request line is ASCII: its length), spares measuring it.
   */
  write(line: string, bytes = Buffer.byteLength(line)): boolean {
    if (this.bytes + bytes > this.limit) this.send();
    this.pending += line;
    this.bytes += bytes;
    return true;
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
    if (this.bytes === 0) return;
    const batch = this.pending;
    this.pending = '';
    this.bytes = 0;
    this.sink.write(batch);
  }
}
