/**
 * A controller work queue of keys with client-go's semantics: a waiting key is queued once; a key being processed
 * is not handed out again until `done`, and one added meanwhile is processed again after; per-key exponential
 * backoff on failure; delayed adds for `requeueAfter`.
 */
import { systemClock, type Clock } from './clock.js';

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly failureCounts = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly clock: Clock;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.clock = options.clock ?? systemClock;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    const getter = this.getters.shift();
    if (getter) {
      this.processing.add(key);
      getter(key);
      return;
    }
    this.waiting.add(key);
    this.queue.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending delayed add wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.clock.clearTimeout(pending.handle);
    const handle = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    this.delayed.set(key, { at, handle });
  }

  /** Adds `key` after its backoff: base * 2^failures, capped; counts a failure. */
  addRateLimited(key: string): number {
    const failures = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, failures + 1);
    const delay = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** failures);
    this.addAfter(key, delay);
    return delay;
  }

  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue is shut down and drained. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.waiting.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.delete(key)) this.add(key);
  }

  len(): number {
    return this.queue.length;
  }

  /**
   * Unlike client-go, waiting keys are dropped rather than drained: reconciliation is level-triggered and the next
   * leader lists everything afresh, so finishing the backlog would only delay a shutdown (or act after losing the
   * Lease). Keys being processed still run to `done`.
   */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { handle } of this.delayed.values()) this.clock.clearTimeout(handle);
    this.delayed.clear();
    this.queue.length = 0;
    this.waiting.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/** What a worker reports of each key it processed; `ms` is how long the processing took, either way. */
export interface WorkerHooks {
  onError?(key: string, err: unknown, retryInMs: number, ms: number): void;
  onSuccess?(key: string, ms: number): void;
}

/** Runs `count` workers until the queue shuts down; resolves when all have finished their current key. */
export function startWorkers(
  queue: WorkQueue,
  count: number,
  process: (key: string) => Promise<ReconcileResult | void>,
  hooks: WorkerHooks = {},
): Promise<void> {
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const started = performance.now();
      try {
        const result = await process(key);
        queue.forget(key);
        if (result?.requeueAfterMs) queue.addAfter(key, result.requeueAfterMs);
        safely(() => hooks.onSuccess?.(key, performance.now() - started));
      } catch (err) {
        const retryInMs = queue.addRateLimited(key);
        safely(() => hooks.onError?.(key, err, retryInMs, performance.now() - started));
      } finally {
        queue.done(key);
      }
    }
  };
  return Promise.all(Array.from({ length: count }, worker)).then(() => undefined);
}

function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A hook's failure (logging, metrics) must not stop a worker.
  }
}
