/**
 * A controller work queue of keys with client-go's semantics: a waiting key is queued once; a key being processed
 * is not handed out again until `done`, and one added meanwhile is processed again after; per-key exponential
 * backoff on failure; delayed adds for `requeueAfter`. It reports what client-go's workqueue metrics report, timed
 * on its clock.
 */
import { systemClock, type Clock } from './clock.js';

/** What the queue reports as it works (client-go's workqueue MetricsProvider); durations in seconds. */
export interface QueueMetrics {
  /** A key became due: added, or come out of its delay (`workqueue_adds_total`). */
  added(): void;
  /** A key was added with a delay, a backoff or a requeueAfter (`workqueue_retries_total`). */
  retried(): void;
  /** A key was handed to a worker `seconds` after it became due (`workqueue_queue_duration_seconds`). */
  waited(seconds: number): void;
  /** A key was done `seconds` after it was handed out (`workqueue_work_duration_seconds`). */
  worked(seconds: number): void;
}

/** The queue's state that metrics read at each scrape. */
export interface QueueGauges {
  /** Keys due and not yet handed out, counting one re-added while it is being processed (client-go's depth). */
  depth(): number;
  /** Keys being processed: one per busy worker. */
  active(): number;
  /** Seconds spent so far on the keys being processed: their sum, and the longest. */
  unfinishedWork(): { seconds: number; longestSeconds: number };
}

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  clock?: Clock;
  metrics?: QueueMetrics;
}

const noMetrics: QueueMetrics = { added() {}, retried() {}, waited() {}, worked() {} };

export class WorkQueue implements QueueGauges {
  private readonly queue: string[] = [];
  private readonly waiting = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly delayed = new Map<string, { at: number; handle: unknown }>();
  private readonly failureCounts = new Map<string, number>();
  private readonly getters: ((key: string | undefined) => void)[] = [];
  /** When each due key became due, and when each key being processed was handed out (clock ms). */
  private readonly dueSince = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly metrics: QueueMetrics;
  readonly clock: Clock;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 1_000_000;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics ?? noMetrics;
  }

  get isShutDown(): boolean {
    return this.shuttingDown;
  }

  add(key: string): void {
    if (this.shuttingDown) return;
    if (this.processing.has(key)) {
      if (!this.dirty.has(key)) {
        this.dirty.add(key);
        this.due(key);
      }
      return;
    }
    if (this.waiting.has(key)) return;
    this.due(key);
    this.enqueue(key);
  }

  /** Adds `key` after `ms`; an earlier pending delayed add wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    this.metrics.retried();
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
      this.start(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: string): void {
    const started = this.startedAt.get(key);
    if (started !== undefined) {
      this.startedAt.delete(key);
      this.metrics.worked(this.secondsSince(started));
    }
    this.processing.delete(key);
    // Counted as added, and timed as due, when it was re-added.
    if (this.dirty.delete(key) && !this.shuttingDown) this.enqueue(key);
  }

  len(): number {
    return this.queue.length;
  }

  depth(): number {
    return this.queue.length + this.dirty.size;
  }

  active(): number {
    return this.processing.size;
  }

  unfinishedWork(): { seconds: number; longestSeconds: number } {
    let seconds = 0;
    let longestSeconds = 0;
    for (const started of this.startedAt.values()) {
      const s = this.secondsSince(started);
      seconds += s;
      longestSeconds = Math.max(longestSeconds, s);
    }
    return { seconds, longestSeconds };
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
    this.dirty.clear();
    this.dueSince.clear();
    for (const getter of this.getters.splice(0)) getter(undefined);
  }

  private due(key: string): void {
    this.metrics.added();
    if (!this.dueSince.has(key)) this.dueSince.set(key, this.clock.now());
  }

  /** Hands a due key to a waiting worker, else queues it. */
  private enqueue(key: string): void {
    const getter = this.getters.shift();
    if (getter) {
      this.start(key);
      getter(key);
      return;
    }
    this.waiting.add(key);
    this.queue.push(key);
  }

  private start(key: string): void {
    this.processing.add(key);
    const now = this.clock.now();
    const since = this.dueSince.get(key);
    if (since !== undefined) {
      this.dueSince.delete(key);
      this.metrics.waited((now - since) / 1000);
    }
    this.startedAt.set(key, now);
  }

  private secondsSince(ms: number): number {
    return (this.clock.now() - ms) / 1000;
  }
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * What a worker reports of each key it processed; `ms` is how long the processing took, either way, on the queue's
 * clock; `requeueAfterMs` is the processing's own.
 */
export interface WorkerHooks {
  onError?(key: string, err: unknown, retryInMs: number, ms: number): void;
  onSuccess?(key: string, ms: number, requeueAfterMs: number | undefined): void;
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
      const started = queue.clock.now();
      try {
        const requeueAfterMs = (await process(key))?.requeueAfterMs || undefined;
        queue.forget(key);
        if (requeueAfterMs) queue.addAfter(key, requeueAfterMs);
        safely(() => hooks.onSuccess?.(key, queue.clock.now() - started, requeueAfterMs));
      } catch (err) {
        const retryInMs = queue.addRateLimited(key);
        safely(() => hooks.onError?.(key, err, retryInMs, queue.clock.now() - started));
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
