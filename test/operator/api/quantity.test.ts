import { nanoUnits, quantityAbove, quantityNegative, sameQuantity } from '../../../operator/api/quantity.js';

describe('nanoUnits', () => {
  it.each<[string | number, bigint]>([
    ['0', 0n],
    [2, 2_000_000_000n],
    ['100m', 100_000_000n],
    ['0.3', 300_000_000n],
    ['.5', 500_000_000n],
    ['5.', 5_000_000_000n],
    ['1k', 1_000_000_000_000n],
    ['1Ki', 1024n * 1_000_000_000n],
    ['1.5Mi', 1_572_864n * 1_000_000_000n],
    ['1Gi', 1_073_741_824n * 1_000_000_000n],
    ['1E', 10n ** 27n],
    ['1e3', 1000n * 1_000_000_000n],
    ['1E-3', 1_000_000n],
    ['12n', 12n],
    ['+1', 1_000_000_000n],
    ['-2', -2_000_000_000n],
    [-1, -1_000_000_000n],
  ])('reads %j as apimachinery does', (q, nano) => {
    expect(nanoUnits(q)).toBe(nano);
  });

  it('rounds a positive value below one nano-unit up to it, and a negative one away from zero, as apimachinery does', () => {
    expect(nanoUnits('0.1n')).toBe(1n);
    expect(nanoUnits('1e-20')).toBe(1n);
    expect(nanoUnits('-0.1n')).toBe(-1n);
  });

  it.each(['', '.', 'lots', '1e', '1Z', '1 Gi', '--1', '1.2.3'])('is undefined for %j, which is no quantity', (q) => {
    expect(nanoUnits(q)).toBeUndefined();
  });

  it('bounds a huge exponent instead of building a number of its size', () => {
    expect(nanoUnits('1e999999999')).toBe(10n ** 1009n);
  });
});

describe('quantityAbove and quantityNegative', () => {
  it('compare exactly across spellings', () => {
    expect(quantityAbove('0.3', '300m')).toBe(false);
    expect(quantityAbove('300m', '0.3')).toBe(false);
    expect(quantityAbove('301m', '0.3')).toBe(true);
    expect(quantityAbove('1Gi', '1000Mi')).toBe(true);
    expect(quantityAbove('1G', '1Gi')).toBe(false);
    expect(quantityAbove(2, '1500m')).toBe(true);
  });

  it('leave what is no quantity to the schema', () => {
    expect(quantityAbove('lots', '1')).toBe(false);
    expect(quantityNegative('-lots')).toBe(false);
  });

  it('find negative quantities, strings or integers', () => {
    expect(quantityNegative('-100m')).toBe(true);
    expect(quantityNegative(-1)).toBe(true);
    expect(quantityNegative('0')).toBe(false);
    expect(quantityNegative('1e-3')).toBe(false);
  });
});

describe('nanoUnits, as the controller reads stored quantities', () => {
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
    expect(nanoUnits(q)).toBe(nanos);
  });

  it('rounds what is finer than 1n up, as the API server does', () => {
    expect(nanoUnits('0.1n')).toBe(1n);
    expect(nanoUnits('1.0000000001')).toBe(1_000_000_001n);
  });

  it('takes integers as written in a spec', () => {
    expect(nanoUnits(2)).toBe(2_000_000_000n);
  });

  it('refuses what is not a quantity', () => {
    for (const q of ['', 'lots', '1Kb', '1.2.3', 'Mi', '1 Gi']) expect(nanoUnits(q)).toBeUndefined();
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
