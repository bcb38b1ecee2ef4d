/**
 * Decision forests compiled into flat typed arrays, shared by the XGBoost and LightGBM formats.
 *
 * Every node of every tree lives at one index of the same arrays; a tree is the index of its root. A split node
 * holds its feature, threshold and three children (left, right, and the one a missing value takes); a leaf has
 * feature -1 and its value. A categorical split holds a bitset of categories instead of a threshold: those that go
 * right in XGBoost, left in LightGBM. Evaluation walks these arrays with no allocation: the only memory a batch needs is the
 * output it returns. The Model both formats build around a forest, and the softmax of their multiclass objectives,
 * are here too.
 */
import type { Model } from '../model.js';

/** How a LightGBM split treats missing values (bits 2-3 of its `decision_type`). */
export const MISSING_NONE = 0;
export const MISSING_ZERO = 1;
export const MISSING_NAN = 2;

/**
 * LightGBM's kZeroThreshold: |x| <= this counts as zero for `missing_type=Zero`. It is the float 1e-35f
 * (1.0000000180025095e-35 as a double), not the double 1e-35: values in between are zero to LightGBM.
 */
const ZERO_THRESHOLD = Math.fround(1e-35);

/**
 * XGBoost's categories are below 2^24 (common::OutOfRangeCat, src/common/categorical.h): the floats past it are not
 * all integers, so an input there is no category, and a model's split may not name one. LightGBM has no such bound,
 * but a bitset holding a category that large takes 2 MiB; its splits are held to the same one.
 */
export const MAX_CATEGORY = 16777216;

export interface Forest {
  readonly numFeatures: number;
  /** Outputs per row before the objective's transform (classes, or 1). */
  readonly numGroups: number;
  /** Root node of each tree, its output group and its weight. */
  readonly roots: Int32Array;
  readonly groups: Int32Array;
  readonly weights: Float64Array;
  readonly feature: Int32Array;
  readonly threshold: Float64Array;
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly missing: Int32Array;
  /** LightGBM only: the missing type of each split. */
  readonly missingType: Uint8Array;
  readonly value: Float64Array;
  /**
   * Categorical splits: per node the number of 32-bit words of its category bitset in `catBits` (0 for a numerical
   * split) and where they start. Category c is bit c % 32 of word c / 32.
   */
  readonly catWords: Int32Array;
  readonly catOffset: Int32Array;
  readonly catBits: Uint32Array;
}

export interface TreeNodes {
  /** Per node: feature index, or -1 for a leaf. */
  feature: ArrayLike<number>;
  threshold: ArrayLike<number>;
  /** Children as node indices local to the tree. */
  left: ArrayLike<number>;
  right: ArrayLike<number>;
  /** Per node: whether a missing value goes left. */
  defaultLeft: ArrayLike<boolean | number>;
  missingType?: ArrayLike<number>;
  /** Per node: the leaf value (read for leaves only). */
  value: ArrayLike<number>;
  /**
   * Per node: for a categorical split, the categories of its bitset (its threshold is then not read): those that go
   * right for XGBoost, left for LightGBM.
   */
  categories?: ArrayLike<readonly number[] | undefined>;
}

/** Collects trees, then packs them into one Forest. */
export class ForestBuilder {
  private readonly trees: { nodes: TreeNodes; group: number; weight: number }[] = [];
  private nodeCount = 0;
  private catWordCount = 0;

  private readonly numFeatures: number;
  private readonly numGroups: number;

  constructor(numFeatures: number, numGroups: number) {
    this.numFeatures = numFeatures;
    this.numGroups = numGroups;
  }

  /** Adds a tree after checking its structure; `where` names it in error messages. */
  add(nodes: TreeNodes, group: number, weight: number, where: string): void {
    const n = nodes.feature.length;
    if (n === 0) throw new Error(`${where} has no nodes`);
    for (const [name, arr] of [
      ['threshold', nodes.threshold],
      ['left', nodes.left],
      ['right', nodes.right],
      ['defaultLeft', nodes.defaultLeft],
      ['value', nodes.value],
    ] as const) {
      if (arr.length !== n) throw new Error(`${where}: ${name} has ${arr.length} entries for ${n} nodes`);
    }
    if (!Number.isInteger(group) || group < 0 || group >= this.numGroups) {
      throw new Error(`${where} belongs to output ${group}; the model has ${this.numGroups}`);
    }
    for (let i = 0; i < n; i++) {
      const f = nodes.feature[i]!;
      if (f < 0) {
        if (!Number.isFinite(nodes.value[i]!)) throw new Error(`${where}: leaf ${i} has a non-finite value`);
        continue;
      }
      if (!Number.isInteger(f) || f >= this.numFeatures) {
        throw new Error(`${where}: node ${i} splits on feature ${f}; the model has ${this.numFeatures} features`);
      }
      // Children must point forward (this also rules out cycles, so evaluation always ends at a leaf).
      for (const child of [nodes.left[i]!, nodes.right[i]!]) {
        if (!Number.isInteger(child) || child <= i || child >= n) {
          throw new Error(`${where}: node ${i} has child ${child}, outside the tree`);
        }
      }
      const categories = nodes.categories?.[i];
      if (categories === undefined) {
        if (Number.isNaN(nodes.threshold[i]!)) throw new Error(`${where}: node ${i} has a NaN threshold`);
        continue;
      }
      if (categories.length === 0) throw new Error(`${where}: categorical split ${i} has no categories`);
      for (const c of categories) {
        if (!Number.isInteger(c) || c < 0 || c >= MAX_CATEGORY) {
          throw new Error(
            `${where}: categorical split ${i} holds category ${c}; categories are integers from 0 to ${MAX_CATEGORY - 1}`,
          );
        }
      }
      this.catWordCount += bitsetWords(categories);
    }
    this.trees.push({ nodes, group, weight });
    this.nodeCount += n;
  }

  build(): Forest {
    const size = this.nodeCount;
    const forest: Forest = {
      numFeatures: this.numFeatures,
      numGroups: this.numGroups,
      roots: new Int32Array(this.trees.length),
      groups: new Int32Array(this.trees.length),
      weights: new Float64Array(this.trees.length),
      feature: new Int32Array(size),
      threshold: new Float64Array(size),
      left: new Int32Array(size),
      right: new Int32Array(size),
      missing: new Int32Array(size),
      missingType: new Uint8Array(size),
      value: new Float64Array(size),
      catWords: new Int32Array(size),
      catOffset: new Int32Array(size),
      catBits: new Uint32Array(this.catWordCount),
    };
    let base = 0;
    let word = 0;
    this.trees.forEach(({ nodes, group, weight }, t) => {
      forest.roots[t] = base;
      forest.groups[t] = group;
      forest.weights[t] = weight;
      for (let i = 0; i < nodes.feature.length; i++) {
        const at = base + i;
        const f = nodes.feature[i]!;
        forest.feature[at] = f < 0 ? -1 : f;
        forest.value[at] = nodes.value[i]!;
        if (f < 0) continue;
        forest.threshold[at] = nodes.threshold[i]!;
        forest.left[at] = base + nodes.left[i]!;
        forest.right[at] = base + nodes.right[i]!;
        forest.missing[at] = nodes.defaultLeft[i] ? forest.left[at]! : forest.right[at]!;
        forest.missingType[at] = nodes.missingType?.[i] ?? MISSING_NONE;
        const categories = nodes.categories?.[i];
        if (categories === undefined) continue;
        forest.threshold[at] = 0;
        forest.catWords[at] = bitsetWords(categories);
        forest.catOffset[at] = word;
        for (const c of categories) {
          const w = word + (c >>> 5);
          forest.catBits[w] = forest.catBits[w]! | (1 << (c & 31));
        }
        word += forest.catWords[at]!;
      }
      base += nodes.feature.length;
    });
    return forest;
  }
}

function bitsetWords(categories: readonly number[]): number {
  let largest = 0;
  for (const c of categories) largest = Math.max(largest, c);
  return (largest >>> 5) + 1;
}

/**
 * XGBoost's rule: NaN takes the default child, otherwise `x < threshold` goes left. Inputs and thresholds are
 * float32 values and margins are summed in float32, as XGBoost's CPU predictor does.
 * Writes `rows * numGroups` margins into `out`, starting from `base[group]`.
 */
export function evaluateXGBoost(
  forest: Forest,
  x: Float32Array,
  rows: number,
  base: Float64Array,
  out: Float32Array,
): void {
  if (forest.catBits.length > 0) {
    evaluateXGBoostCategorical(forest, x, rows, base, out);
    return;
  }
  const { roots, groups, weights, feature, threshold, left, right, missing, value, numFeatures, numGroups } = forest;
  const trees = roots.length;
  for (let r = 0; r < rows; r++) {
    const offset = r * numFeatures;
    const o = r * numGroups;
    for (let g = 0; g < numGroups; g++) out[o + g] = base[g]!;
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        const v = x[offset + f]!;
        n = v !== v ? missing[n]! : v < threshold[n]! ? left[n]! : right[n]!;
        f = feature[n]!;
      }
      const g = o + groups[t]!;
      out[g] = out[g]! + value[n]! * weights[t]!;
    }
  }
}

/**
 * evaluateXGBoost for a forest with categorical splits, kept apart so that numerical forests pay nothing for them.
 * XGBoost 1.7's rule (predictor::GetNextNode in src/predictor/predict_fn.h, common::Decision in
 * src/common/categorical.h): NaN takes the default child; a value that is no category (negative, or >= 2^24) goes
 * left; otherwise its integer part (a C++ cast) goes right when the split's set holds it, and left when it does not,
 * a category past the set's largest included (one never seen in training).
 */
function evaluateXGBoostCategorical(
  forest: Forest,
  x: Float32Array,
  rows: number,
  base: Float64Array,
  out: Float32Array,
): void {
  const { roots, groups, weights, feature, threshold, left, right, missing, value, numFeatures, numGroups } = forest;
  const { catWords, catOffset, catBits } = forest;
  const trees = roots.length;
  for (let r = 0; r < rows; r++) {
    const offset = r * numFeatures;
    const o = r * numGroups;
    for (let g = 0; g < numGroups; g++) out[o + g] = base[g]!;
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        const v = x[offset + f]!;
        const words = catWords[n]!;
        if (v !== v) n = missing[n]!;
        else if (words === 0) n = v < threshold[n]! ? left[n]! : right[n]!;
        else if (!(v >= 0 && v < MAX_CATEGORY)) n = left[n]!;
        else {
          const c = Math.trunc(v);
          const w = c >>> 5;
          n = w < words && (catBits[catOffset[n]! + w]! >>> (c & 31)) & 1 ? right[n]! : left[n]!;
        }
        f = feature[n]!;
      }
      const g = o + groups[t]!;
      out[g] = out[g]! + value[n]! * weights[t]!;
    }
  }
}

/**
 * LightGBM's rule (Tree::NumericalDecision): NaN counts as 0 unless the split's missing type is NaN; a missing
 * value (zero for type Zero, NaN for type NaN) takes the default child; otherwise `x <= threshold` goes left.
 * Like Booster.predict, which keeps only the features with |x| > kZeroThreshold (or NaN) of each row, any
 * |x| <= ZERO_THRESHOLD is 0: x = -1e-35f itself goes right of a split at -1e-35f, as 0 does.
 * Sums in float64, as LightGBM does.
 */
export function evaluateLightGBM(forest: Forest, x: Float64Array, rows: number, out: Float64Array): void {
  if (forest.catBits.length > 0) {
    evaluateLightGBMCategorical(forest, x, rows, out);
    return;
  }
  const {
    roots,
    groups,
    weights,
    feature,
    threshold,
    left,
    right,
    missing,
    missingType,
    value,
    numFeatures,
    numGroups,
  } = forest;
  const trees = roots.length;
  for (let r = 0; r < rows; r++) {
    const offset = r * numFeatures;
    const o = r * numGroups;
    for (let g = 0; g < numGroups; g++) out[o + g] = 0;
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        let v = x[offset + f]!;
        const type = missingType[n]!;
        if (v !== v) {
          if (type === MISSING_NAN) {
            n = missing[n]!;
            f = feature[n]!;
            continue;
          }
          v = 0;
        } else if (v >= -ZERO_THRESHOLD && v <= ZERO_THRESHOLD) v = 0;
        if (type === MISSING_ZERO && v === 0) n = missing[n]!;
        else n = v <= threshold[n]! ? left[n]! : right[n]!;
        f = feature[n]!;
      }
      const g = o + groups[t]!;
      out[g] = out[g]! + value[n]! * weights[t]!;
    }
  }
}

/** The int range of C++: LightGBM converts a categorical value with static_cast<int>. */
const INT_MAX_PLUS_ONE = 2147483648;

/**
 * evaluateLightGBM for a forest with categorical splits, kept apart so that numerical forests pay nothing for them.
 * LightGBM 4.6's rule (Tree::CategoricalDecision in include/LightGBM/tree.h): NaN goes right; otherwise the value's
 * static_cast<int> (truncation toward zero: -0.5 and 1e-36 are category 0) goes right when negative, left when the
 * split's bitset holds it, and right when it does not: a category never seen in training, past the bitset or not.
 * Past INT_MAX the cast is undefined in C++; x86-64 gives INT_MIN (negative: right) and ARM INT_MAX (past any bitset:
 * right), so such values go right. The split's missing type and default-left bits are not read.
 * Numerical splits as in evaluateLightGBM.
 */
function evaluateLightGBMCategorical(forest: Forest, x: Float64Array, rows: number, out: Float64Array): void {
  const {
    roots,
    groups,
    weights,
    feature,
    threshold,
    left,
    right,
    missing,
    missingType,
    value,
    numFeatures,
    numGroups,
  } = forest;
  const { catWords, catOffset, catBits } = forest;
  const trees = roots.length;
  for (let r = 0; r < rows; r++) {
    const offset = r * numFeatures;
    const o = r * numGroups;
    for (let g = 0; g < numGroups; g++) out[o + g] = 0;
    for (let t = 0; t < trees; t++) {
      let n = roots[t]!;
      let f = feature[n]!;
      while (f >= 0) {
        let v = x[offset + f]!;
        const words = catWords[n]!;
        if (words !== 0) {
          let next = right[n]!;
          // NaN fails the comparison; any v <= -1 has a negative int
          if (v > -1 && v < INT_MAX_PLUS_ONE) {
            const c = Math.trunc(v);
            const w = c >>> 5;
            if (w < words && (catBits[catOffset[n]! + w]! >>> (c & 31)) & 1) next = left[n]!;
          }
          n = next;
          f = feature[n]!;
          continue;
        }
        const type = missingType[n]!;
        if (v !== v) {
          if (type === MISSING_NAN) {
            n = missing[n]!;
            f = feature[n]!;
            continue;
          }
          v = 0;
        } else if (v >= -ZERO_THRESHOLD && v <= ZERO_THRESHOLD) v = 0;
        if (type === MISSING_ZERO && v === 0) n = missing[n]!;
        else n = v <= threshold[n]! ? left[n]! : right[n]!;
        f = feature[n]!;
      }
      const g = o + groups[t]!;
      out[g] = out[g]! + value[n]! * weights[t]!;
    }
  }
}

/**
 * Softmax over each row's `groups` values, in place. The exponentials and their sum are float64 whatever the array's
 * type: a float32 array (XGBoost's margins) is rounded once, when each probability is written.
 */
export function softmax(values: Float32Array | Float64Array, rows: number, groups: number): void {
  const exps = new Float64Array(groups);
  for (let r = 0; r < rows; r++) {
    const o = r * groups;
    let max = -Infinity;
    for (let g = 0; g < groups; g++) max = Math.max(max, values[o + g]!);
    let sum = 0;
    for (let g = 0; g < groups; g++) {
      exps[g] = Math.exp(values[o + g]! - max);
      sum += exps[g]!;
    }
    for (let g = 0; g < groups; g++) values[o + g] = exps[g]! / sum;
  }
}

/** What a forest format's model computes, for forestModel. */
export interface ForestScoring<A extends Float32Array | Float64Array> {
  format: 'xgboost' | 'lightgbm';
  /** The format in a sentence, for the message about MODEL_OUTPUT: "an XGBoost model". */
  described: string;
  /** The input's and the output's datatype, that of `A`. */
  datatype: 'FP32' | 'FP64';
  numFeatures: number;
  /** Output values per row: 1, or one per class. */
  perRow: number;
  /** Scores `rows` rows of `x` (row-major, numFeatures values a row) into a new array of `rows * perRow` values. */
  score(x: A, rows: number): A;
}

/**
 * The Model of a forest format: one input "X" (a batch of rows of numFeatures values) and one output "score" (a
 * value a row, or perRow of them), both of one datatype. `output` is MODEL_OUTPUT, which may only name "score".
 */
export function forestModel<A extends Float32Array | Float64Array>(
  name: string,
  output: string | undefined,
  scoring: ForestScoring<A>,
): Model {
  const { format, described, datatype, numFeatures, perRow, score } = scoring;
  if (output !== undefined && output !== 'score') {
    throw new Error(`${described} has one output, "score"; MODEL_OUTPUT names "${output}"`);
  }
  return {
    name,
    format,
    inputs: [{ name: 'X', datatype, shape: [-1, numFeatures] }],
    outputs: [{ name: 'score', datatype, shape: perRow > 1 ? [-1, perRow] : [-1] }],
    primaryOutput: 'score',
    predict(tensors) {
      const rows = tensors[0]!.shape[0]!;
      const data = score(tensors[0]!.data as A, rows);
      return [{ name: 'score', datatype, shape: perRow > 1 ? [rows, perRow] : [rows], data }];
    },
    async dispose() {},
  };
}
