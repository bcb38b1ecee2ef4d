/** Row-by-row agreement of a mirrored request's outputs with the stable scorer's own. */
import type { Tensor } from '../../../scorer/model.js';
import { compareRows } from '../../../scorer/rollout/compare.js';

const f64 = (name: string, shape: number[], values: number[]): Tensor => ({
  name,
  datatype: 'FP64',
  shape,
  data: Float64Array.from(values),
});

describe('compareRows', () => {
  it('agrees on equal outputs, with every value compared and no difference', () => {
    const outputs = [f64('score', [3], [0.1, 0.5, 0.9])];
    expect(compareRows(outputs, outputs, 3, 1e-6)).toEqual({ rows: 3, agreeing: 3, values: 3, absDiffSum: 0 });
  });

  it('judges each row by |c - s| <= tolerance * max(1, |s|), and sums the absolute differences', () => {
    const stable = [f64('score', [4], [0.5, 0.5, 100, 100])];
    // 0.5: within 0.01 (absolute below 1), then just beyond; 100: within 1 (relative), then beyond.
    const candidate = [f64('score', [4], [0.509, 0.52, 100.9, 101.5])];
    const result = compareRows(stable, candidate, 4, 0.01);
    expect(result).toMatchObject({ rows: 4, agreeing: 2, values: 4 });
    expect(result.absDiffSum).toBeCloseTo(0.009 + 0.02 + 0.9 + 1.5, 9);
  });

  it('needs every value of a row to agree, across outputs and within a row of several values', () => {
    const stable = [f64('label', [2], [1, 2]), f64('probabilities', [2, 3], [0.2, 0.3, 0.5, 0.1, 0.1, 0.8])];
    const candidate = [f64('label', [2], [1, 2]), f64('probabilities', [2, 3], [0.2, 0.3, 0.5, 0.1, 0.2, 0.7])];
    expect(compareRows(stable, candidate, 2, 1e-6)).toMatchObject({ rows: 2, agreeing: 1, values: 8 });
  });

  it('compares only the outputs both have, by name', () => {
    const stable = [f64('score', [2], [1, 2]), f64('extra', [2], [5, 5])];
    const candidate = [f64('score', [2], [1, 2]), f64('other', [2], [9, 9])];
    expect(compareRows(stable, candidate, 2, 0)).toEqual({ rows: 2, agreeing: 2, values: 2, absDiffSum: 0 });
  });

  it('counts every row as disagreeing when no output is in common', () => {
    const result = compareRows([f64('a', [2], [1, 2])], [f64('b', [2], [1, 2])], 2, 1);
    expect(result).toEqual({ rows: 2, agreeing: 0, values: 0, absDiffSum: 0 });
  });

  it('counts every row as disagreeing when an output has another number of values per row', () => {
    const stable = [f64('p', [2, 3], [0.2, 0.3, 0.5, 0.1, 0.1, 0.8])];
    const candidate = [f64('p', [2, 2], [0.5, 0.5, 0.2, 0.8])];
    expect(compareRows(stable, candidate, 2, 1)).toMatchObject({ rows: 2, agreeing: 0, values: 0 });
  });

  it('lets two missing values agree, and a missing value against a present one disagree uncompared', () => {
    const stable = [f64('score', [3], [NaN, NaN, 1])];
    const candidate = [f64('score', [3], [NaN, 0.5, 1])];
    expect(compareRows(stable, candidate, 3, 0)).toEqual({ rows: 3, agreeing: 2, values: 1, absDiffSum: 0 });
  });

  it('agrees on equal infinities, and keeps the sum finite when one side overflows', () => {
    const stable = [f64('score', [2], [Infinity, 1])];
    const candidate = [f64('score', [2], [Infinity, Infinity])];
    const result = compareRows(stable, candidate, 2, 0);
    expect(result).toMatchObject({ rows: 2, agreeing: 1, values: 2 });
    expect(Number.isFinite(result.absDiffSum)).toBe(true);
  });

  it('compares integers (INT64 labels) as numbers and strings (BYTES) for equality', () => {
    const label = (values: bigint[]): Tensor => ({
      name: 'label',
      datatype: 'INT64',
      shape: [values.length],
      data: BigInt64Array.from(values),
    });
    const names = (values: string[]): Tensor => ({
      name: 'name',
      datatype: 'BYTES',
      shape: [values.length],
      data: values,
    });
    const result = compareRows(
      [label([1n, 2n, 3n]), names(['a', 'b', 'c'])],
      [label([1n, 2n, 4n]), names(['a', 'x', 'c'])],
      3,
      0,
    );
    expect(result).toEqual({ rows: 3, agreeing: 1, values: 3, absDiffSum: 1 });
  });
});
