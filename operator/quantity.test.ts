import { quantityNanos, sameQuantity } from './quantity.js';

describe('quantityNanos', () => {
  it.each([
    ['1', 1_000_000_000n],
    ['500m', 500_000_000n],
    ['0.5', 500_000_000n],
    ['.5', 500_000_000n],
    ['1Ki', 1024n * 1_000_000_000n],
    ['1.5Gi', 1536n * 1024n * 1024n * 1_000_000_000n],
    ['1e3', 1000n * 1_000_000_000n],
    ['1E-3', 1_000_000n],
    ['2k', 2000n * 1_000_000_000n],
    ['100u', 100_000n],
    ['7n', 7n],
    ['-1', -1_000_000_000n],
  ])('%s is %d nano-units', (q, nanos) => {
    expect(quantityNanos(q)).toBe(nanos);
  });

  it('rounds what is finer than 1n up, as the API server does', () => {
    expect(quantityNanos('0.1n')).toBe(1n);
    expect(quantityNanos('1.0000000001')).toBe(1_000_000_001n);
  });

  it('takes integers as written in a spec', () => {
    expect(quantityNanos(2)).toBe(2_000_000_000n);
  });

  it('refuses what is not a quantity', () => {
    for (const q of ['', 'lots', '1Kb', '1.2.3', 'Mi', '1 Gi']) expect(quantityNanos(q)).toBeUndefined();
  });
});

describe('sameQuantity', () => {
  it('matches what the API server stores against what the user wrote', () => {
    expect(sameQuantity('0.5', '500m')).toBe(true);
    expect(sameQuantity('1024Mi', '1Gi')).toBe(true);
    expect(sameQuantity('1000m', '1')).toBe(true);
    expect(sameQuantity(2, '2')).toBe(true);
    expect(sameQuantity('1G', '1Gi')).toBe(false);
    expect(sameQuantity('0.5', '501m')).toBe(false);
  });

  it('compares what is not a quantity as it is', () => {
    expect(sameQuantity('lots', 'lots')).toBe(true);
    expect(sameQuantity('lots', '1')).toBe(false);
    expect(sameQuantity(undefined, '1')).toBe(false);
  });
});
