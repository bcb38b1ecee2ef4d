import { nanoUnits, quantityAbove, quantityNegative } from './quantity.js';

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
