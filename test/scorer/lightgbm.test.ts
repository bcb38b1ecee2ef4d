/**
 * LightGBM decisions at the edges the real models in test/fixtures/generated/lgbm_* reach (test/models/make_lightgbm.py):
 * thresholds written as "inf", values inside LightGBM's zero band, |x| <= kZeroThreshold = 1e-35f, and categorical
 * splits (Tree::CategoricalDecision); and tree lines with broken categorical bitsets, refused.
 */
import { readFileSync } from 'node:fs';
import { createLightGBMModel } from '../../scorer/formats/lightgbm.js';
import { fixtures } from '../helpers/fixtures.js';

/** 1e-35f as a double: LightGBM's kZeroThreshold. */
const K_ZERO = Math.fround(1e-35);

/** A one-split regression model on feature 0 (of 2): leaf 0 = 1 on the left, leaf 1 = 2 on the right. */
function oneSplit(threshold: string, decisionType: number): string {
  return [
    'tree',
    'version=v4',
    'num_class=1',
    'num_tree_per_iteration=1',
    'label_index=0',
    'max_feature_idx=1',
    'objective=regression',
    '',
    'Tree=0',
    'num_leaves=2',
    'num_cat=0',
    'split_feature=0',
    `threshold=${threshold}`,
    `decision_type=${decisionType}`,
    'left_child=-1',
    'right_child=-2',
    'leaf_value=1 2',
    '',
    'end of trees',
    '',
  ].join('\n');
}

/**
 * A model of one tree with one categorical split on feature 0 (of 2), bitset 0 holding categories 0, 5 and 31 (word
 * 0), 33 (word 1) and 66 (word 2): left (leaf 0 = 1) for them, right (leaf 1 = 2) for any other. `lines` replaces the
 * tree's lines by key, and removes those it maps to undefined.
 */
function oneCategorical(lines: Record<string, string | undefined> = {}): string {
  const tree: Record<string, string | undefined> = {
    num_leaves: '2',
    num_cat: '1',
    split_feature: '0',
    threshold: '0',
    decision_type: '1',
    left_child: '-1',
    right_child: '-2',
    leaf_value: '1 2',
    cat_boundaries: '0 3',
    cat_threshold: `${2 ** 0 + 2 ** 5 + 2 ** 31} ${2 ** 1} ${2 ** 2}`,
    ...lines,
  };
  const body = Object.entries(tree).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  const header = ['tree', 'version=v4', 'num_class=1', 'num_tree_per_iteration=1', 'max_feature_idx=1'];
  return [...header, 'objective=regression', '', 'Tree=0', ...body, '', 'end of trees', ''].join('\n');
}

/** Which leaf value (1 = left, 2 = right) each feature-0 value reaches. */
async function route(model: string, values: number[]): Promise<number[]> {
  const m = await createLightGBMModel(new TextEncoder().encode(model), { name: 'm' });
  const data = new Float64Array(values.flatMap((v) => [v, 0]));
  const [out] = await m.predict([{ name: 'X', datatype: 'FP64', shape: [values.length, 2], data }]);
  return Array.from(out!.data as Float64Array);
}

// decision_type: bit 1 default-left, bits 2-3 missing type (0 None, 1 Zero, 2 NaN)
const NONE = 0;
const ZERO_LEFT = (1 << 2) | 2;
const NAN_RIGHT = 2 << 2;

describe('LightGBM text models', () => {
  it('reads the thresholds "inf" and "-inf" as LightGBM does (strtod: +-Infinity)', async () => {
    // a NaN split that sends every number left and only NaN right, as LightGBM writes it
    expect(await route(oneSplit('inf', NAN_RIGHT), [-1e300, 0, 1e300, NaN])).toEqual([1, 1, 1, 2]);
    expect(await route(oneSplit('-inf', NONE), [-1e300, 0, NaN])).toEqual([2, 2, 2]);
    expect(await route(oneSplit('Infinity', NONE), [1e300])).toEqual([1]);
  });

  it('the real model with "inf" thresholds loads', async () => {
    const deep = fixtures('lightgbm').find((f) => f.name === 'lgbm_multiclass_deep')!;
    expect(readFileSync(deep.path, 'utf8')).toMatch(/^threshold=.* inf( |$)/m);
    await expect(createLightGBMModel(readFileSync(deep.path), { name: deep.name })).resolves.toBeDefined();
  });

  it('zero_as_missing: |x| <= 1e-35f is missing (the float, not the double 1e-35)', async () => {
    const model = oneSplit('-0.5', ZERO_LEFT);
    // 0.7 would go right; as missing it goes left (default left)
    expect(await route(model, [0, -0, 1e-36, 1.00000001e-35, -1.00000001e-35, K_ZERO, -K_ZERO, NaN])).toEqual([
      1, 1, 1, 1, 1, 1, 1, 1,
    ]);
    expect(await route(model, [2e-35, -2e-35, 0.7, -0.7])).toEqual([2, 2, 2, 1]);
  });

  it('any |x| <= 1e-35f counts as 0, as Booster.predict drops it from the row', async () => {
    // A split at -1e-35f (LightGBM's bound between negatives and zero): 0 goes right, so does x = -1e-35f
    const model = oneSplit(String(-K_ZERO), NONE);
    expect(await route(model, [0, -K_ZERO, K_ZERO, -1e-36, NaN, -2e-35])).toEqual([2, 2, 2, 2, 2, 1]);
  });

  describe('categorical splits', () => {
    it('send a category of the bitset left and any other category right, past the first word too', async () => {
      expect(await route(oneCategorical(), [0, 5, 31, 33, 66])).toEqual([1, 1, 1, 1, 1]);
      expect(await route(oneCategorical(), [1, 4, 30, 32, 34, 64, 65, 67, 95, 96, 1000])).toEqual(
        new Array(11).fill(2),
      );
    });

    it('convert the value as static_cast<int> does: truncated toward zero, so -0.5 is category 0', async () => {
      expect(await route(oneCategorical(), [5.9, 33.5, 66.999, 0.5, -0.5, -0.999, -0, 1e-36])).toEqual(
        new Array(8).fill(1),
      );
      expect(await route(oneCategorical(), [4.9, 1.5, 32.999])).toEqual([2, 2, 2]);
    });

    it('send NaN, negative values and values past INT_MAX right', async () => {
      const values = [
        NaN,
        -1,
        -1.5,
        -5,
        -1e300,
        -Infinity,
        2 ** 31,
        2 ** 31 + 5,
        2 ** 32,
        2 ** 32 + 5,
        1e300,
        Infinity,
      ];
      expect(await route(oneCategorical(), values)).toEqual(new Array(values.length).fill(2));
      // 2^31 - 1 is a category, past the bitset
      expect(
        await route(oneCategorical({ cat_threshold: `${2 ** 32 - 1} ${2 ** 32 - 1} ${2 ** 32 - 1}` }), [
          2 ** 31 - 1,
          95,
        ]),
      ).toEqual([2, 1]);
    });

    it('ignore the missing type and default-left bits: NaN goes right even when they say left', async () => {
      for (const decisionType of [1, 1 | 2, 1 | 2 | (2 << 2), 1 | 2 | (1 << 2)]) {
        const model = oneCategorical({ decision_type: String(decisionType) });
        expect(await route(model, [NaN, 0, -1])).toEqual([2, 1, 2]);
      }
    });

    it('read the bitset the split names by its threshold, in a tree with numerical splits too', async () => {
      // node 0: feature 0 <= 10 (numerical); node 1: feature 0 categorical with bitset 1 ({4}); node 2 with bitset 0 ({12})
      const model = oneCategorical({
        num_leaves: '4',
        num_cat: '2',
        split_feature: '0 0 0',
        threshold: '10 1 0',
        decision_type: `${2 << 2} 1 9`,
        left_child: '1 -1 -3',
        right_child: '2 -2 -4',
        leaf_value: '1 2 3 4',
        cat_boundaries: '0 1 2',
        cat_threshold: `${2 ** 12} ${2 ** 4}`,
      });
      expect(await route(model, [4, 3, NaN, 12, 13, 12.5, 11.5, 1e9])).toEqual([1, 2, 4, 3, 4, 3, 4, 4]);
    });

    it.each([
      ['no cat_boundaries', { cat_boundaries: undefined }, /tree 0: cat_boundaries is missing$/],
      ['cat_boundaries of the wrong length', { cat_boundaries: '0' }, /tree 0: cat_boundaries must hold 2 numbers$/],
      ['cat_boundaries with a word', { cat_boundaries: '0 x' }, /tree 0: cat_boundaries must hold 2 numbers$/],
      [
        'cat_boundaries not from 0',
        { cat_boundaries: '1 3' },
        /tree 0: cat_boundaries must be increasing integers from 0/,
      ],
      [
        'an empty bitset in cat_boundaries',
        { cat_boundaries: '0 0', cat_threshold: '' },
        /must be increasing integers/,
      ],
      ['fractional cat_boundaries', { cat_boundaries: '0 2.5' }, /must be increasing integers from 0/],
      ['no cat_threshold', { cat_threshold: undefined }, /tree 0: cat_threshold is missing$/],
      [
        'fewer cat_threshold words than cat_boundaries say',
        { cat_threshold: '1 2' },
        /tree 0: cat_threshold must hold 3 numbers$/,
      ],
      ['more cat_threshold words', { cat_threshold: '1 2 3 4' }, /tree 0: cat_threshold must hold 3 numbers$/],
      [
        'a negative word',
        { cat_threshold: '1 -2 3' },
        /tree 0: cat_threshold word 1 \(-2\) is not a 32-bit unsigned integer$/,
      ],
      [
        'a word past 32 bits',
        { cat_threshold: `1 2 ${2 ** 32}` },
        /word 2 \(4294967296\) is not a 32-bit unsigned integer$/,
      ],
      ['a fractional word', { cat_threshold: '1.5 2 3' }, /word 0 \(1.5\) is not a 32-bit unsigned integer$/],
      [
        'a split naming a bitset past num_cat',
        { threshold: '1' },
        /tree 0: categorical split 0 names bitset 1; the tree has 1 \(num_cat\)$/,
      ],
      [
        'a split naming a fractional bitset',
        { threshold: '0.5' },
        /categorical split 0 names bitset 0.5; the tree has 1/,
      ],
      [
        'a categorical split in a tree with num_cat=0',
        { num_cat: '0' },
        /categorical split 0 names bitset 0; the tree has 0 \(num_cat\)$/,
      ],
      ['a negative num_cat', { num_cat: '-1' }, /tree 0: num_cat must be a count$/],
      ['an empty bitset', { cat_threshold: '0 0 0' }, /tree 0: categorical split 0 has no categories$/],
    ])('refuse %s, saying so', async (_what, lines, message) => {
      await expect(createLightGBMModel(new TextEncoder().encode(oneCategorical(lines)), { name: 'm' })).rejects.toThrow(
        message,
      );
    });

    it('refuse a category past 2^24 - 1, which would take a 2 MiB bitset', async () => {
      const words = `${'0 '.repeat(2 ** 19)}1`;
      const model = oneCategorical({ cat_boundaries: `0 ${2 ** 19 + 1}`, cat_threshold: words });
      await expect(createLightGBMModel(new TextEncoder().encode(model), { name: 'm' })).rejects.toThrow(
        /tree 0: categorical split 0 holds category 16777216; categories are integers from 0 to 16777215$/,
      );
    });
  });
});
