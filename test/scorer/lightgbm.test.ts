/**
 * LightGBM decisions at the edges the real models in test/fixtures/generated/lgbm_* reach (test/models/make_lightgbm.py):
 * thresholds written as "inf" and values inside LightGBM's zero band, |x| <= kZeroThreshold = 1e-35f.
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
});
