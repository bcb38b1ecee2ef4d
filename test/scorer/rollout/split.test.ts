/** The deterministic split of requests between the stable scorer and the candidate. */
import { chosen, Split } from '../../../scorer/rollout/split.js';

const PERCENTS = Array.from({ length: 101 }, (_, p) => p);

describe('chosen', () => {
  it('chooses exactly `percent` of any 100 consecutive requests, for every percent and every start', () => {
    for (const percent of PERCENTS) {
      for (let start = 0; start < 300; start += 7) {
        let count = 0;
        for (let n = start; n < start + 100; n++) if (chosen(n, percent)) count++;
        expect({ percent, start, count }).toEqual({ percent, start, count: percent });
      }
    }
  });

  it('spreads the chosen requests evenly: at 10%, the 10th, 20th, ... of each 100', () => {
    const picked = Array.from({ length: 100 }, (_, n) => n).filter((n) => chosen(n, 10));
    expect(picked).toEqual([9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
  });

  it('never chooses at 0% and always at 100%', () => {
    for (let n = 0; n < 1000; n++) {
      expect(chosen(n, 0)).toBe(false);
      expect(chosen(n, 100)).toBe(true);
    }
  });

  it('keeps within one request of the share over any prefix', () => {
    for (const percent of [1, 3, 10, 33, 50, 67, 99]) {
      let count = 0;
      for (let n = 0; n < 1000; n++) {
        if (chosen(n, percent)) count++;
        expect(Math.abs(count - ((n + 1) * percent) / 100)).toBeLessThan(1);
      }
    }
  });
});

describe('Split', () => {
  it('takes exactly `percent` of every 100 requests, as chosen() of its position', () => {
    const split = new Split();
    for (let round = 0; round < 5; round++) {
      const taken = Array.from({ length: 100 }, () => split.take(25)).filter(Boolean).length;
      expect(taken).toBe(25);
    }
  });

  it('takes exactly the new percent of each 100 after the percent changes mid-way', () => {
    const split = new Split();
    for (let n = 0; n < 37; n++) split.take(10);
    const taken = Array.from({ length: 100 }, () => split.take(50)).filter(Boolean).length;
    expect(taken).toBe(50);
  });

  it('starts its sequence over on reset: the first 10 requests at 10% take only the 10th', () => {
    const split = new Split();
    for (let n = 0; n < 55; n++) split.take(10);
    split.reset();
    expect(Array.from({ length: 10 }, () => split.take(10))).toEqual([...new Array<boolean>(9).fill(false), true]);
  });
});
