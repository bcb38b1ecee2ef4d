import { delay, every, ManualClock } from '../../../operator/runtime/clock.js';

describe('ManualClock', () => {
  it('fires timers in the order they fall due, only when time is advanced past them', async () => {
    const clock = new ManualClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => fired.push('a'), 10);
    const cancelled = clock.setTimeout(() => fired.push('never'), 5);
    clock.clearTimeout(cancelled);
    await clock.advance(15);
    expect(fired).toEqual(['a']);
    expect(clock.now()).toBe(1015);
    await clock.advance(5);
    expect(fired).toEqual(['a', 'b']);
  });
});

describe('delay', () => {
  it('resolves once the clock has moved on by its time', async () => {
    const clock = new ManualClock();
    let done = false;
    void delay(clock, 100).then(() => (done = true));
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });
});

describe('every', () => {
  it('runs a function each period on the clock until stopped', async () => {
    const clock = new ManualClock();
    const at: number[] = [];
    const stop = every(clock, 100, () => at.push(clock.now()));
    await clock.advance(99);
    expect(at).toEqual([]);
    await clock.advance(251);
    expect(at).toEqual([100, 200, 300]);
    stop();
    await clock.advance(1000);
    expect(at).toEqual([100, 200, 300]);
  });
});
