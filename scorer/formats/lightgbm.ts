/**
 * LightGBM's native text model (`Booster.save_model('model.txt')`), evaluated in TypeScript.
 *
 * Numerical splits with `decision_type` (default-left bit, missing type None/Zero/NaN), categorical splits
 * (`categorical_feature`: decision_type bit 0, a bitset of the categories that go left in the tree's `cat_threshold`
 * words, from `cat_boundaries[k]` to `cat_boundaries[k + 1]` for the split whose threshold is k), gbdt and rf
 * (averaged) boosting, and the objectives' output transforms. Predictions equal `Booster.predict`.
 */
import type { ModelFactory } from '../model.js';
import { evaluateLightGBM, ForestBuilder, forestModel, softmax, type Forest } from './forest.js';

type Transform = 'identity' | 'sigmoid' | 'softmax' | 'exp' | 'softplus' | 'square';

const IDENTITY_OBJECTIVES = new Set([
  'regression',
  'regression_l2',
  'regression_l1',
  'huber',
  'fair',
  'quantile',
  'mape',
  'lambdarank',
  'rank_xendcg',
  'custom',
  'none',
]);

export interface LightGBMModelFile {
  forest: Forest;
  objective: string;
  transform: Transform;
  /** Multiplier inside the sigmoid (LightGBM's `sigmoid:` parameter). */
  sigmoid: number;
  /** 1, or 1/iterations for random-forest models (`average_output`). */
  scale: number;
}

/** "inf", "-inf", "infinity" in any case, as LightGBM's strtod reads them (JavaScript's Number() does not). */
const INFINITY = /^([+-]?)inf(inity)?$/i;

function toFloat(text: string): number {
  const inf = INFINITY.exec(text);
  if (inf === null) return Number(text);
  return inf[1] === '-' ? -Infinity : Infinity;
}

/**
 * `count` space-separated numbers. `floats`: also ±inf, which LightGBM writes as a threshold when a split sends
 * every non-missing value one way (NaN missing type: the last bin's upper bound), and reads back as ±Infinity.
 */
function numbers(text: string | undefined, where: string, count: number, floats = false): number[] {
  if (text === undefined) throw new Error(`${where} is missing`);
  const words = text.trim() === '' ? [] : text.trim().split(/\s+/);
  const values = words.map(floats ? toFloat : Number);
  if (values.length !== count || values.some((v) => Number.isNaN(v))) {
    throw new Error(`${where} must hold ${count} numbers`);
  }
  return values;
}

/** LightGBM stores a bitset in 32-bit words (uint32_t). */
const WORD = 2 ** 32;

/**
 * The bitsets of a tree's categorical splits, checked as LightGBM's Tree(const char*) reads them: `num_cat` of them,
 * split k's words from `cat_boundaries[k]` to `cat_boundaries[k + 1]` in `cat_threshold`. Each bitset is returned as
 * the categories it holds (bit c % 32 of word c / 32).
 */
function categorySets(block: Map<string, string>, where: string): number[][] {
  const numCat = Number(block.get('num_cat') ?? 0);
  if (!Number.isInteger(numCat) || numCat < 0) throw new Error(`${where}: num_cat must be a count`);
  if (numCat === 0) return [];
  const boundaries = numbers(block.get('cat_boundaries'), `${where}: cat_boundaries`, numCat + 1);
  if (boundaries[0] !== 0 || boundaries.some((b, k) => !Number.isInteger(b) || (k > 0 && b <= boundaries[k - 1]!))) {
    throw new Error(
      `${where}: cat_boundaries must be increasing integers from 0 (each split's bitset holds at least one word)`,
    );
  }
  const words = numbers(block.get('cat_threshold'), `${where}: cat_threshold`, boundaries[numCat]!);
  const bad = words.findIndex((w) => !Number.isInteger(w) || w < 0 || w >= WORD);
  if (bad >= 0) throw new Error(`${where}: cat_threshold word ${bad} (${words[bad]}) is not a 32-bit unsigned integer`);
  const sets: number[][] = [];
  for (let k = 0; k < numCat; k++) {
    const set: number[] = [];
    for (let w = boundaries[k]!; w < boundaries[k + 1]!; w++) {
      const word = words[w]!;
      if (word === 0) continue;
      for (let bit = 0; bit < 32; bit++) if ((word >>> bit) & 1) set.push((w - boundaries[k]!) * 32 + bit);
    }
    sets.push(set);
  }
  return sets;
}

function objectiveOf(line: string): { objective: string; transform: Transform; sigmoid: number } {
  const [objective = '', ...options] = line.trim().split(/\s+/);
  const option = (key: string) => options.find((o) => o.startsWith(`${key}:`))?.slice(key.length + 1);
  const sigmoid = Number(option('sigmoid') ?? 1);
  if (!Number.isFinite(sigmoid)) throw new Error(`objective "${line}" has a bad sigmoid parameter`);
  switch (objective) {
    case 'binary':
    case 'multiclassova':
      return { objective, transform: 'sigmoid', sigmoid };
    case 'cross_entropy':
      return { objective, transform: 'sigmoid', sigmoid: 1 };
    case 'cross_entropy_lambda':
      return { objective, transform: 'softplus', sigmoid: 1 };
    case 'multiclass':
      return { objective, transform: 'softmax', sigmoid: 1 };
    case 'poisson':
    case 'gamma':
    case 'tweedie':
      return { objective, transform: 'exp', sigmoid: 1 };
    default:
      if (!IDENTITY_OBJECTIVES.has(objective)) throw new Error(`objective "${objective}" is not supported`);
      return { objective, transform: options.includes('sqrt') ? 'square' : 'identity', sigmoid: 1 };
  }
}

/** Parses and compiles a LightGBM text model; throws an Error saying what is wrong with the file. */
export function parseLightGBMModel(text: string): LightGBMModelFile {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== 'tree') throw new Error('not a LightGBM text model (the first line is not "tree")');
  const header = new Map<string, string>();
  const blocks: Map<string, string>[] = [];
  let current = header;
  for (const line of lines) {
    if (line.startsWith('end of trees')) break;
    if (line.startsWith('Tree=')) {
      current = new Map([['Tree', line.slice(5)]]);
      blocks.push(current);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq > 0) current.set(line.slice(0, eq), line.slice(eq + 1));
    else if (line.trim() !== '') current.set(line.trim(), '');
  }

  const maxFeature = Number(header.get('max_feature_idx'));
  if (!Number.isInteger(maxFeature) || maxFeature < 0) throw new Error('max_feature_idx is missing or invalid');
  const perIteration = Number(header.get('num_tree_per_iteration') ?? header.get('num_class') ?? 1);
  if (!Number.isInteger(perIteration) || perIteration < 1) throw new Error('num_tree_per_iteration is invalid');
  const objectiveLine = header.get('objective');
  if (objectiveLine === undefined) throw new Error('the model names no objective');
  const { objective, transform, sigmoid } = objectiveOf(objectiveLine);
  if (blocks.length === 0) throw new Error('the model has no trees');
  if (blocks.length % perIteration !== 0) {
    throw new Error(`${blocks.length} trees is not a multiple of num_tree_per_iteration=${perIteration}`);
  }

  const builder = new ForestBuilder(maxFeature + 1, perIteration);
  blocks.forEach((block, t) => {
    const where = `tree ${block.get('Tree')}`;
    const leaves = Number(block.get('num_leaves'));
    if (!Number.isInteger(leaves) || leaves < 1) throw new Error(`${where}: num_leaves is invalid`);
    if (block.get('is_linear') === '1')
      throw new Error(`${where} is a linear tree (linear_tree models are not supported)`);
    const leafValue = numbers(block.get('leaf_value'), `${where}: leaf_value`, leaves, true);
    const splits = leaves - 1;
    const features = numbers(block.get('split_feature') ?? '', `${where}: split_feature`, splits);
    const thresholds = numbers(block.get('threshold') ?? '', `${where}: threshold`, splits, true);
    const decisions = numbers(block.get('decision_type') ?? '', `${where}: decision_type`, splits);
    const leftChild = numbers(block.get('left_child') ?? '', `${where}: left_child`, splits);
    const rightChild = numbers(block.get('right_child') ?? '', `${where}: right_child`, splits);
    const sets = categorySets(block, where);
    // Internal nodes keep their indices; leaf k (a child written as ~k) becomes node splits + k.
    const node = (child: number) => (child < 0 ? splits + ~child : child);
    const size = splits + leaves;
    const nodes = {
      feature: new Int32Array(size).fill(-1),
      threshold: new Float64Array(size),
      left: new Int32Array(size),
      right: new Int32Array(size),
      defaultLeft: new Uint8Array(size),
      missingType: new Uint8Array(size),
      value: new Float64Array(size),
      categories: new Array<number[] | undefined>(size),
    };
    for (let i = 0; i < splits; i++) {
      const decision = decisions[i]!;
      if (decision & 1) {
        // A categorical split's threshold is the index of its bitset; its default-left and missing type bits are
        // not read (Tree::CategoricalDecision sends NaN right whatever they say).
        const set = Number.isInteger(thresholds[i]) ? sets[thresholds[i]!] : undefined;
        if (set === undefined) {
          throw new Error(
            `${where}: categorical split ${i} names bitset ${thresholds[i]}; the tree has ${sets.length} (num_cat)`,
          );
        }
        nodes.categories[i] = set;
      }
      nodes.feature[i] = features[i]!;
      nodes.threshold[i] = thresholds[i]!;
      nodes.left[i] = node(leftChild[i]!);
      nodes.right[i] = node(rightChild[i]!);
      nodes.defaultLeft[i] = (decision >> 1) & 1;
      nodes.missingType[i] = (decision >> 2) & 3;
    }
    for (let k = 0; k < leaves; k++) nodes.value[splits + k] = leafValue[k]!;
    builder.add(nodes, t % perIteration, 1, where);
  });

  const iterations = blocks.length / perIteration;
  const scale = header.has('average_output') ? 1 / iterations : 1;
  return { forest: builder.build(), objective, transform, sigmoid, scale };
}

export const createLightGBMModel: ModelFactory = async (bytes, { name, output }) => {
  const { forest, transform, sigmoid, scale } = parseLightGBMModel(new TextDecoder().decode(bytes));
  const groups = forest.numGroups;
  return forestModel(name, output, {
    format: 'lightgbm',
    described: 'a LightGBM model',
    datatype: 'FP64',
    numFeatures: forest.numFeatures,
    perRow: groups,
    score(x: Float64Array, rows: number): Float64Array {
      const out = new Float64Array(rows * groups);
      evaluateLightGBM(forest, x, rows, out);
      applyTransform(transform, out, rows, groups, sigmoid, scale);
      return out;
    },
  });
};

function applyTransform(
  transform: Transform,
  out: Float64Array,
  rows: number,
  groups: number,
  sigmoid: number,
  scale: number,
): void {
  const n = rows * groups;
  if (scale !== 1) for (let i = 0; i < n; i++) out[i] = out[i]! * scale;
  switch (transform) {
    case 'identity':
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) out[i] = 1 / (1 + Math.exp(-sigmoid * out[i]!));
      return;
    case 'exp':
      for (let i = 0; i < n; i++) out[i] = Math.exp(out[i]!);
      return;
    case 'softplus':
      for (let i = 0; i < n; i++) out[i] = Math.log1p(Math.exp(out[i]!));
      return;
    case 'square':
      for (let i = 0; i < n; i++) out[i] = Math.sign(out[i]!) * out[i]! * out[i]!;
      return;
    case 'softmax':
      softmax(out, rows, groups);
      return;
  }
}
