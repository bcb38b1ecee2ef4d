import { ManualClock } from './clock.js';
import { startWorkers, WorkQueue } from './queue.js';

describe('WorkQueue', () => {
  it('queues a waiting key once, in FIFO order', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    q.add('b');
    q.add('a');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
  });

  it('does not hand out a key being processed; one added meanwhile comes back once after done', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    q.add('a');
    expect(await q.get()).toBe('a');
    q.add('a');
    q.add('a');
    expect(q.len()).toBe(0);
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('backs off per key, doubling up to the cap, until forgotten', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 35, clock });
    expect([1, 2, 3, 4].map(() => q.addRateLimited('a'))).toEqual([10, 20, 35, 35]);
    expect(q.failures('a')).toBe(4);
    q.forget('a');
    expect(q.failures('a')).toBe(0);
    expect(q.addRateLimited('b')).toBe(10);
  });

  it('adds a delayed key when its time comes, the earliest delay winning', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ clock });
    q.addAfter('a', 100);
    q.addAfter('a', 50);
    q.addAfter('a', 200);
    await clock.advance(49);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    await clock.advance(500);
    expect(q.len()).toBe(1);
  });

  it('wakes waiting getters with undefined on shutdown', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    const waiting = q.get();
    q.shutDown();
    await expect(waiting).resolves.toBeUndefined();
    q.add('a');
    expect(q.len()).toBe(0);
  });
});

describe('startWorkers', () => {
  it('never processes one key concurrently, even with four workers, and processes a re-added key again', async () => {
    const q = new WorkQueue({ clock: new ManualClock() });
    let running = 0;
    let overlap = false;
    const seen: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const done = startWorkers(q, 4, async (key) => {
      running++;
      overlap ||= running > 1;
      seen.push(key);
      if (seen.length === 1) await gate;
      running--;
    });
    q.add('a');
    await new Promise((r) => setImmediate(r));
    q.add('a');
    q.add('a');
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual(['a']);
    release();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    q.shutDown();
    await done;
    expect(seen).toEqual(['a', 'a']);
    expect(overlap).toBe(false);
  });

  it('requeues a failed key with backoff, and honours requeueAfter', async () => {
    const clock = new ManualClock();
    const q = new WorkQueue({ baseDelayMs: 100, clock });
    const calls: string[] = [];
    const errors: number[] = [];
    const done = startWorkers(
      q,
      1,
      async (key) => {
        calls.push(key);
        if (calls.length === 1) throw new Error('conflict');
        if (calls.length === 2) return { requeueAfterMs: 1000 };
        return undefined;
      },
      { onError: (_k, _e, retry) => errors.push(retry) },
    );
    q.add('a');
    await clock.advance(0);
    expect(errors).toEqual([100]);
    await clock.advance(99);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    expect(q.failures('a')).toBe(0);
    await clock.advance(999);
    expect(calls).toHaveLength(2);
    await clock.advance(1);
    expect(calls).toHaveLength(3);
    q.shutDown();
    await done;
  });
});
