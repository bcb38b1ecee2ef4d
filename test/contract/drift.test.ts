/**
 * The drift contract's math against numbers numpy computed (test/models/make_drift.py wrote them into
 * drift_churn.numpy.json; no code under test made them), and the baseline parser's refusals.
 */
import { readFileSync } from 'node:fs';
import { binOf, MAX_BINS, parseBaseline, psi, PSI_FLOOR } from '../../contract/drift.js';

interface NumpyFixture {
  bin_of: { name: string; edges: number[]; values: (number | null)[]; bins: number[] }[];
  psi: { name: string; shares: number[]; counts: number[]; psi: number }[];
}
const numpy = JSON.parse(
  readFileSync(new URL('../fixtures/generated/drift_churn.numpy.json', import.meta.url), 'utf8'),
) as NumpyFixture;

describe('binOf', () => {
  it.each(numpy.bin_of.map((c) => [c.name, c] as const))(
    'puts %s values (edges, one ulp either side, far outside, missing) where numpy.searchsorted(side=left) does',
    (_name, c) => {
      expect(c.values.map((v) => binOf(c.edges, v))).toEqual(c.bins);
    },
  );

  it('puts -Infinity in the first bin, Infinity in the last value bin, NaN, null and undefined in the missing bin', () => {
    const edges = [1, 2, 3];
    expect([-Infinity, Infinity, NaN, null, undefined].map((v) => binOf(edges, v))).toEqual([0, 3, 4, 4, 4]);
  });

  it('has one value bin and the missing bin without edges', () => {
    expect([-1e300, 0, 1e300, NaN].map((v) => binOf([], v))).toEqual([0, 0, 0, 1]);
  });
});

describe('psi', () => {
  it.each(numpy.psi.map((c) => [c.name, c] as const))('%s: equals numpy within 1e-12', (_name, c) => {
    const value = psi(c.shares, c.counts)!;
    expect(Math.abs(value - c.psi)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(c.psi)));
  });

  it('takes counts as a typed array', () => {
    const c = numpy.psi[0]!;
    expect(psi(c.shares, Float64Array.from(c.counts))).toBe(psi(c.shares, c.counts));
  });

  it('is 0 for live shares equal to the baseline', () => {
    expect(psi([0.25, 0.5, 0.25, 0], [10, 20, 10, 0])).toBe(0);
  });

  it('floors both shares at PSI_FLOOR, so an empty bin on either side gives a finite value', () => {
    const expected = (1 - PSI_FLOOR) * Math.log(1 / PSI_FLOOR) + (PSI_FLOOR - 1) * Math.log(PSI_FLOOR / 1);
    expect(psi([1, 0], [0, 7])).toBeCloseTo(expected, 12);
  });

  it('is undefined without rows', () => {
    expect(psi([0.5, 0.5], [0, 0])).toBeUndefined();
  });

  it('refuses counts for another number of bins', () => {
    expect(() => psi([0.5, 0.5], [1, 2, 3])).toThrow('3 counts for a histogram of 2 bins');
  });
});

describe('parseBaseline', () => {
  const valid = {
    version: 1,
    rows: 10,
    features: [{ name: 'age', edges: [30, 40], shares: [0.3, 0.3, 0.3, 0.1] }],
    outputs: [{ name: 'score', edges: [0.5], shares: [0.5, 0.5, 0] }],
  };
  const text = (change: (b: typeof valid) => unknown) => JSON.stringify(change(structuredClone(valid)));

  it('reads a valid baseline', () => {
    expect(parseBaseline(JSON.stringify(valid))).toEqual(valid);
  });

  it('reads a baseline without outputs as one with none', () => {
    expect(parseBaseline(text(({ outputs: _, ...rest }) => rest)).outputs).toEqual([]);
  });

  it('refuses text that is not JSON', () => {
    expect(() => parseBaseline('{"version": 1,')).toThrow(/^the baseline is not JSON: /);
  });

  it.each([
    ['2', 2],
    ['missing', undefined],
    ['"1"', '1'],
  ])('refuses version %s, naming the version it reads', (_name, version) => {
    expect(() => parseBaseline(text((b) => ({ ...b, version })))).toThrow(
      `the baseline's version is ${JSON.stringify(version)}; this scorer reads version 1`,
    );
  });

  it.each([
    [
      'unsorted edges',
      (b: typeof valid) => (b.features[0]!.edges = [40, 30]),
      "the baseline's features.0.edges.1 is invalid: edges must be strictly ascending",
    ],
    [
      'equal edges',
      (b: typeof valid) => (b.outputs[0]!.edges = [0.5, 0.5]),
      "the baseline's outputs.0.edges.1 is invalid: edges must be strictly ascending",
    ],
    [
      'a share count that does not match the edges',
      (b: typeof valid) => (b.features[0]!.shares = [0.5, 0.5]),
      "the baseline's features.0.shares is invalid: has 2 shares; 2 edges make 4 bins (the last for missing values)",
    ],
    [
      'shares that do not sum to 1',
      (b: typeof valid) => (b.outputs[0]!.shares = [0.5, 0.4, 0]),
      "the baseline's outputs.0.shares is invalid: shares sum to 0.9, not 1",
    ],
    [
      'a negative share',
      (b: typeof valid) => (b.features[0]!.shares = [-0.1, 0.5, 0.5, 0.1]),
      "the baseline's features.0.shares.0 is invalid",
    ],
    [
      'too many edges',
      (b: typeof valid) => {
        b.features[0]!.edges = Array.from({ length: MAX_BINS - 1 }, (_, i) => i);
        b.features[0]!.shares = [1, ...new Array<number>(MAX_BINS).fill(0)];
      },
      "the baseline's features.0.edges is invalid",
    ],
    ['no features', (b: typeof valid) => (b.features = []), "the baseline's features is invalid"],
    [
      'an unnamed feature',
      (b: typeof valid) => (b.features[0]!.name = ''),
      "the baseline's features.0.name is invalid",
    ],
    ['no rows', (b: typeof valid) => (b.rows = 0), "the baseline's rows is invalid"],
  ])('refuses %s, naming the field', (_name, change, message) => {
    expect(() => parseBaseline(text((b) => (change(b), b)))).toThrow(message);
  });

  it('refuses a name given twice, also across features and outputs', () => {
    expect(() =>
      parseBaseline(text((b) => ({ ...b, features: [...b.features, { ...b.features[0]!, name: 'age' }] }))),
    ).toThrow('the baseline names "age" twice');
    expect(() => parseBaseline(text((b) => ((b.outputs[0]!.name = 'age'), b)))).toThrow(
      'the baseline names "age" twice',
    );
  });
});
