import { delay, ManualClock } from '../../../operator/runtime/clock.js';
import { startWorkers, WorkQueue } from '../../../operator/runtime/queue.js';

/** Lets pending promise callbacks (workers picking up keys) run. */
const settle = () => new ManualClock().advance(0);

describe('WorkQueue', () => {
  it('queues a waiting key only once', () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(1);
  });

  it('hands out keys in the order they were added', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('b');
    q.add('a');
    q.add('b');
    expect(await q.get()).toBe('b');
    expect(await q.get()).toBe('a');
  });

  it('does not hand out a key again while it is being processed', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    await q.get();
    q.add('a');
    expect(q.len()).toBe(0);
  });

  it('queues a key added during its processing once more, when it is done', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('gives a waiting getter the next key added', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const next = q.get();
    q.add('a');
    await expect(next).resolves.toBe('a');
  });

  it('doubles the backoff with each failure of a key, up to the cap', () => {
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 35, clock: new ManualClock() });
    expect([1, 2, 3, 4].map(() => q.addRateLimited('a'))).toEqual([10, 20, 35, 35]);
    expect(q.failures('a')).toBe(4);
  });

  it('adds a rate-limited key only when its backoff has passed', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ baseDelayMs: 10, clock });
    q.addRateLimited('a');
    q.addRateLimited('a');
    await clock.advance(9);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('keeps backoff per key', () => {
    const q = new WorkQueue({ baseDelayMs: 10, clock: new ManualClock() });
    q.addRateLimited('a');
    q.addRateLimited('a');
    expect(q.addRateLimited('b')).toBe(10);
  });

  it('resets a key’s backoff when it is forgotten', () => {
    const q = new WorkQueue({ baseDelayMs: 10, clock: new ManualClock() });
    q.addRateLimited('a');
    q.addRateLimited('a');
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.addRateLimited('a')).toBe(10);
  });

  it('adds a delayed key when its time comes', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    await clock.advance(99);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });

  it('keeps the earliest of several pending delayed adds of a key, and adds it once', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    await clock.advance(49);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await q.get();
    q.done('a');
    await clock.advance(500);
    expect(q.len()).toBe(0);
  });

  it('wakes waiting getters with undefined on shutdown', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const waiting = [q.get(), q.get()];
    q.shutDown();
    await expect(Promise.all(waiting)).resolves.toEqual([undefined, undefined]);
    expect(q.isShutDown).toBe(true);
  });

  it('ignores keys added after shutdown', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.shutDown();
    q.add('a');
    q.addAfter('b', 10);
    await clock.advance(10);
    expect(q.len()).toBe(0);
    await expect(q.get()).resolves.toBeUndefined();
  });
});

describe('startWorkers', () => {
  it('never processes one key concurrently, even with four workers; a key re-added meanwhile runs once more after', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    let running = 0;
    let overlap = false;
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const workers = startWorkers(q, 4, async (key) => {
      running++;
      overlap ||= running > 1;
      seen.push(key);
      if (seen.length === 1) await gate;
      running--;
    });
    q.add('a');
    await settle();
    q.add('a');
    q.add('a');
    await settle();
    expect(seen).toEqual(['a']);
    release();
    await settle();
    q.shutDown();
    await workers;
    expect(seen).toEqual(['a', 'a']);
    expect(overlap).toBe(false);
  });

  it('processes different keys in parallel', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const workers = startWorkers(q, 2, async (key) => {
      started.push(key);
      await gate;
    });
    q.add('a');
    q.add('b');
    await settle();
    expect(started).toEqual(['a', 'b']);
    release();
    q.shutDown();
    await workers;
  });

  it('retries a key whose processing threw, after its backoff', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ baseDelayMs: 100, clock });
    let calls = 0;
    const retries: number[] = [];
    const workers = startWorkers(
      q,
      1,
      async () => {
        calls++;
        throw new Error('conflict');
      },
      { onError: (_key, _err, retryInMs) => retries.push(retryInMs) },
    );
    q.add('a');
    await clock.advance(0);
    await clock.advance(99);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    expect(retries).toEqual([100, 200]);
    q.shutDown();
    await workers;
  });

  it('reports how long a processing took on the queue clock, failed or not, and the requeueAfterMs it returned', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock, baseDelayMs: 1000 });
    const took: string[] = [];
    const workers = startWorkers(
      q,
      1,
      async (key) => {
        await delay(clock, 20);
        if (key === 'bad') throw new Error('conflict');
        return key === 'later' ? { requeueAfterMs: 1000 } : undefined;
      },
      {
        onSuccess: (key, ms, requeueAfterMs) => took.push(`${key} ${ms} ${requeueAfterMs}`),
        onError: (key, _err, _retryInMs, ms) => took.push(`${key} ${ms}`),
      },
    );
    q.add('good');
    q.add('bad');
    q.add('later');
    await clock.advance(60);
    q.shutDown();
    await workers;
    expect(took).toEqual(['good 20 undefined', 'bad 20', 'later 20 1000']);
  });

  it('forgets a key’s failures once it is processed successfully', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ baseDelayMs: 100, clock });
    let calls = 0;
    const workers = startWorkers(q, 1, async () => {
      if (++calls === 1) throw new Error('conflict');
    });
    q.add('a');
    await clock.advance(0);
    expect(q.failures('a')).toBe(1);
    await clock.advance(100);
    expect(calls).toBe(2);
    expect(q.failures('a')).toBe(0);
    q.shutDown();
    await workers;
  });

  it('requeues a key after the requeueAfterMs its processing returned', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    let calls = 0;
    const workers = startWorkers(q, 1, async () => (++calls === 1 ? { requeueAfterMs: 1000 } : undefined));
    q.add('a');
    await clock.advance(999);
    expect(calls).toBe(1);
    await clock.advance(1);
    expect(calls).toBe(2);
    await clock.advance(10_000);
    expect(calls).toBe(2);
    q.shutDown();
    await workers;
  });

  it('keeps working when a hook throws', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const seen: string[] = [];
    const workers = startWorkers(
      q,
      1,
      async (key) => {
        seen.push(key);
      },
      {
        onSuccess: () => {
          throw new Error('metrics broke');
        },
      },
    );
    q.add('a');
    await settle();
    q.add('b');
    await settle();
    q.shutDown();
    await expect(workers).resolves.toBeUndefined();
    expect(seen).toEqual(['a', 'b']);
  });

  it('resolves once every worker has exited after shutdown', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const workers = startWorkers(q, 3, async () => undefined);
    q.shutDown();
    await expect(workers).resolves.toBeUndefined();
  });
});
