/**
 * XGBoost's native model, JSON (`Booster.save_model('model.json')`) or UBJSON (`'model.ubj'`), evaluated in
 * TypeScript.
 *
 * Supports gbtree and dart boosters with numerical and categorical splits (`enable_categorical`), `default_left`
 * routing of missing values, `base_score`
 * (a scalar, or one per class as XGBoost >= 3.1 saves it), several parallel trees per round, and the objectives listed in OBJECTIVES. Predictions equal `Booster.predict`:
 * probabilities for logistic and softprob objectives, class indices for softmax, raw values for regression.
 */
import type { ModelFactory } from '../model.js';
import { evaluateXGBoost, ForestBuilder, forestModel, softmax, type Forest } from './forest.js';
import { decodeUBJSON } from './ubjson.js';

type Transform = 'identity' | 'sigmoid' | 'exp' | 'hinge' | 'softprob' | 'softmax';

interface Objective {
  /** From `base_score` (a prediction) to the starting margin. */
  margin: 'identity' | 'logit' | 'log';
  transform: Transform;
}

const OBJECTIVES: Record<string, Objective> = {
  'reg:squarederror': { margin: 'identity', transform: 'identity' },
  'reg:linear': { margin: 'identity', transform: 'identity' },
  'reg:squaredlogerror': { margin: 'identity', transform: 'identity' },
  'reg:pseudohubererror': { margin: 'identity', transform: 'identity' },
  'reg:absoluteerror': { margin: 'identity', transform: 'identity' },
  'reg:logistic': { margin: 'logit', transform: 'sigmoid' },
  'binary:logistic': { margin: 'logit', transform: 'sigmoid' },
  'binary:logitraw': { margin: 'identity', transform: 'identity' },
  'binary:hinge': { margin: 'identity', transform: 'hinge' },
  'count:poisson': { margin: 'log', transform: 'exp' },
  'reg:gamma': { margin: 'log', transform: 'exp' },
  'reg:tweedie': { margin: 'log', transform: 'exp' },
  'multi:softprob': { margin: 'identity', transform: 'softprob' },
  'multi:softmax': { margin: 'identity', transform: 'softmax' },
  'rank:pairwise': { margin: 'identity', transform: 'identity' },
  'rank:ndcg': { margin: 'identity', transform: 'identity' },
  'rank:map': { margin: 'identity', transform: 'identity' },
};

type Json = Record<string, unknown>;

function obj(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${where} is missing`);
  return value as Json;
}

function arr(value: unknown, where: string): unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where} is missing`);
  return value;
}

function nums(value: unknown, where: string): number[] {
  const a = arr(value, where);
  for (const v of a) if (typeof v !== 'number') throw new Error(`${where} holds a non-number`);
  return a as number[];
}

/** Like nums, where XGBoost may write NaN (the split_conditions of categorical splits): null after readJson. */
function numsOrNaN(value: unknown, where: string): number[] {
  const a = arr(value, where);
  for (const v of a) if (typeof v !== 'number' && v !== null) throw new Error(`${where} holds a non-number`);
  return a.map((v) => (v === null ? NaN : (v as number)));
}

/** XGBoost writes parameters as strings ("5E-1"). */
function param(value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) throw new Error(`${where} is ${JSON.stringify(value)}; expected a number`);
  return n;
}

/**
 * `base_score`, one value per output group. XGBoost < 2 writes a scalar ("5E-1"), 2.x a one-element vector
 * ("[5E-1]"), and >= 3.1 one value per class ("[-1.0986123E-1,...]", dmlc/xgboost#11651). A single value starts
 * every group.
 */
function baseScores(value: unknown, groups: number): number[] {
  const vector = typeof value === 'string' ? /^\s*\[(.*)\]\s*$/s.exec(value)?.[1] : undefined;
  const scores =
    vector === undefined
      ? [param(value, 'base_score')]
      : vector.split(',').map((v, i) => param(v, `base_score[${i}] in ${JSON.stringify(value)}`));
  if (scores.length === 1) return new Array<number>(groups).fill(scores[0]!);
  if (scores.length !== groups) {
    throw new Error(
      `base_score ${JSON.stringify(value)} has ${scores.length} values; expected 1 or one per output group (${groups})`,
    );
  }
  return scores;
}

/** XGBoost >= 1.6 writes `default_left` as 0/1 numbers, older versions as JSON booleans. */
function flags(value: unknown, where: string): (number | boolean)[] {
  const a = arr(value, where);
  for (const v of a) {
    if (typeof v !== 'number' && typeof v !== 'boolean')
      throw new Error(`${where} holds ${JSON.stringify(v)}; expected 0/1 or a boolean`);
  }
  return a as (number | boolean)[];
}

export interface XGBoostModelFile {
  forest: Forest;
  objective: string;
  transform: Transform;
  /** The starting margin of each output group. */
  baseMargins: number[];
  numClass: number;
}

/**
 * XGBoost's JSON is JSON but for the numbers NaN, Infinity and -Infinity, which its writer emits bare (a categorical
 * split's split_condition is NaN) and its reader accepts. Outside strings, NaN becomes null and the infinities
 * numbers that JSON.parse reads as infinities.
 */
function parseXGBoostJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
  }
  return JSON.parse(
    text.replace(/"(?:[^"\\]|\\.)*"|([-+]?)Infinity|NaN/g, (token, sign: string | undefined) => {
      if (token.startsWith('"')) return token;
      if (token === 'NaN') return 'null';
      return sign === '-' ? '-1e999' : '1e999';
    }),
  );
}

/** A UBJSON object starts with "{" and then a key's length marker (or "$"/"#" of an optimized object, or "}"). */
function isUBJSON(bytes: Uint8Array): boolean {
  return bytes[0] === 0x7b && bytes.length > 1 && 'iUIlL$#N}'.includes(String.fromCharCode(bytes[1]!));
}

/** Decodes an XGBoost model file, JSON or UBJSON (told apart by their bytes), into the JSON model's object. */
function readModel(bytes: Uint8Array): unknown {
  if (isUBJSON(bytes)) {
    try {
      return decodeUBJSON(bytes);
    } catch (err) {
      throw new Error(`not an XGBoost UBJSON model: ${(err as Error).message}`);
    }
  }
  const text = new TextDecoder().decode(bytes);
  try {
    return parseXGBoostJson(text);
  } catch (err) {
    const hint = /^\s*\{/.test(text) ? '' : ' (the legacy binary format is not supported: save as .json or .ubj)';
    throw new Error(`not an XGBoost JSON model: ${(err as Error).message}${hint}`);
  }
}

/**
 * The categories of each categorical split of a tree, by node (undefined for the others), from `split_type` (1 for
 * categorical) and the lists XGBoost's RegTree::SaveCategoricalSplit writes (src/tree/tree_model.cc): for the k-th
 * categorical node `categories_nodes[k]`, its categories are `categories[categories_segments[k] ...
 * + categories_sizes[k]]`, the ones that go right. RegTree::LoadCategoricalSplit reads them in node order, so this
 * wants them in that order too.
 */
function categoricalSplits(tree: Json, left: number[], where: string): (number[] | undefined)[] | undefined {
  if (tree.split_type === undefined) return undefined;
  const splitType = nums(tree.split_type, `${where}.split_type`);
  if (splitType.length !== left.length)
    throw new Error(`${where}: split_type has ${splitType.length} entries for ${left.length} nodes`);
  if (!splitType.some((t, i) => t !== 0 && left[i] !== -1)) return undefined;
  const nodes = nums(tree.categories_nodes, `${where}.categories_nodes`);
  const segments = nums(tree.categories_segments, `${where}.categories_segments`);
  const sizes = nums(tree.categories_sizes, `${where}.categories_sizes`);
  const categories = nums(tree.categories, `${where}.categories`);
  if (segments.length !== nodes.length || sizes.length !== nodes.length) {
    throw new Error(
      `${where}: categories_nodes, categories_segments and categories_sizes have ${nodes.length}, ` +
        `${segments.length} and ${sizes.length} entries; expected as many of each`,
    );
  }
  const out = new Array<number[] | undefined>(left.length).fill(undefined);
  nodes.forEach((node, k) => {
    if (!Number.isInteger(node) || node < 0 || node >= left.length || (k > 0 && node <= nodes[k - 1]!)) {
      throw new Error(`${where}: categories_nodes[${k}] is ${node}; expected node indices in increasing order`);
    }
    if (splitType[node] !== 1 || left[node] === -1) {
      throw new Error(`${where}: categories_nodes names node ${node}, which is no categorical split`);
    }
    const begin = segments[k]!;
    const end = begin + sizes[k]!;
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end <= begin || end > categories.length) {
      throw new Error(
        `${where}: node ${node}'s categories [${begin}, ${end}) are not a non-empty range of the ` +
          `${categories.length} categories`,
      );
    }
    out[node] = categories.slice(begin, end);
  });
  splitType.forEach((t, i) => {
    if (left[i] === -1) return;
    if (t !== 0 && t !== 1) throw new Error(`${where}: split_type[${i}] is ${t}; expected 0 or 1`);
    if (t === 1 && out[i] === undefined) throw new Error(`${where}: categorical split ${i} is not in categories_nodes`);
  });
  return out;
}

/** Parses and compiles an XGBoost JSON or UBJSON model; throws an Error saying what is wrong with the file. */
export function parseXGBoostModel(bytes: Uint8Array): XGBoostModelFile {
  const root = readModel(bytes);
  const learner = obj(obj(root, 'the model').learner, '"learner"');
  const params = obj(learner.learner_model_param, '"learner.learner_model_param"');
  const objectiveName = String(obj(learner.objective, '"learner.objective"').name);
  const objective = OBJECTIVES[objectiveName];
  if (!objective) {
    throw new Error(`objective "${objectiveName}" is not supported (supported: ${Object.keys(OBJECTIVES).join(', ')})`);
  }
  const numFeatures = param(params.num_feature, 'num_feature');
  const numClass = param(params.num_class ?? '0', 'num_class');
  const numTarget = param(params.num_target ?? '1', 'num_target');
  if (numTarget > 1) throw new Error(`multi-target models (num_target=${numTarget}) are not supported`);
  const numGroups = Math.max(1, numClass);
  const scores = baseScores(params.base_score, numGroups);
  if ((objective.transform === 'softprob' || objective.transform === 'softmax') !== numClass > 1) {
    throw new Error(`objective "${objectiveName}" does not match num_class=${numClass}`);
  }

  let booster = obj(learner.gradient_booster, '"learner.gradient_booster"');
  let treeWeights: number[] | undefined;
  if (booster.name === 'dart') {
    treeWeights = nums(booster.weight_drop, '"weight_drop"');
    booster = obj(booster.gbtree, 'the dart booster\'s "gbtree"');
  }
  if (booster.name !== 'gbtree') {
    throw new Error(`booster "${String(booster.name)}" is not supported (only gbtree and dart)`);
  }
  const model = obj(booster.model, '"gradient_booster.model"');
  const trees = arr(model.trees, '"trees"');
  const treeInfo = nums(model.tree_info, '"tree_info"');
  if (treeInfo.length !== trees.length)
    throw new Error(`tree_info has ${treeInfo.length} entries for ${trees.length} trees`);
  if (treeWeights && treeWeights.length !== trees.length) {
    throw new Error(`weight_drop has ${treeWeights.length} entries for ${trees.length} trees`);
  }

  const builder = new ForestBuilder(numFeatures, numGroups);
  trees.forEach((value, t) => {
    const where = `tree ${t}`;
    const tree = obj(value, where);
    const leafVector = param(obj(tree.tree_param, `${where}.tree_param`).size_leaf_vector ?? '0', 'size_leaf_vector');
    if (leafVector > 1) throw new Error(`${where} has vector leaves (multi-target trees are not supported)`);
    const left = nums(tree.left_children, `${where}.left_children`);
    const right = nums(tree.right_children, `${where}.right_children`);
    const conditions = numsOrNaN(tree.split_conditions, `${where}.split_conditions`);
    const indices = nums(tree.split_indices, `${where}.split_indices`);
    const defaultLeft = flags(tree.default_left, `${where}.default_left`);
    const categories = categoricalSplits(tree, left, where);
    const feature = left.map((l, i) => (l === -1 ? -1 : (indices[i] ?? NaN)));
    builder.add(
      {
        feature,
        // float32, as XGBoost stores and compares them
        threshold: Float32Array.from(conditions),
        left,
        right,
        defaultLeft,
        value: Float32Array.from(conditions),
        categories,
      },
      treeInfo[t]!,
      treeWeights?.[t] ?? 1,
      where,
    );
  });

  const baseMargins = scores.map((score) => {
    const margin =
      objective.margin === 'logit' ? -Math.log(1 / score - 1) : objective.margin === 'log' ? Math.log(score) : score;
    if (!Number.isFinite(margin)) throw new Error(`base_score ${score} is out of range for "${objectiveName}"`);
    return margin;
  });
  return { forest: builder.build(), objective: objectiveName, transform: objective.transform, baseMargins, numClass };
}

export const createXGBoostModel: ModelFactory = async (bytes, { name, output }) => {
  const parsed = parseXGBoostModel(bytes);
  const { forest, transform } = parsed;
  const groups = forest.numGroups;
  // float32, as XGBoost stores and adds the intercept
  const base = Float64Array.from(parsed.baseMargins, Math.fround);
  const perRow = transform === 'softprob' ? groups : 1;
  let margins = new Float32Array(0);
  return forestModel(name, output, {
    format: 'xgboost',
    described: 'an XGBoost model',
    datatype: 'FP32',
    numFeatures: forest.numFeatures,
    perRow,
    score(x: Float32Array, rows: number): Float32Array {
      // Margins go to a buffer reused across requests when the output differs from them.
      const out = new Float32Array(rows * perRow);
      let m = out;
      if (transform === 'softmax') {
        if (margins.length < rows * groups) margins = new Float32Array(rows * groups);
        m = margins;
      }
      evaluateXGBoost(forest, x, rows, base, m);
      applyTransform(transform, m, out, rows, groups);
      return out;
    },
  });
};

function applyTransform(transform: Transform, m: Float32Array, out: Float32Array, rows: number, groups: number): void {
  switch (transform) {
    case 'identity':
      return;
    case 'sigmoid':
      for (let i = 0; i < rows; i++) out[i] = 1 / (1 + Math.exp(-m[i]!));
      return;
    case 'exp':
      for (let i = 0; i < rows; i++) out[i] = Math.exp(m[i]!);
      return;
    case 'hinge':
      for (let i = 0; i < rows; i++) out[i] = m[i]! > 0 ? 1 : 0;
      return;
    case 'softprob':
      // m is out here: the margins become probabilities in place.
      softmax(out, rows, groups);
      return;
    case 'softmax':
      for (let r = 0; r < rows; r++) {
        const o = r * groups;
        let best = 0;
        for (let g = 1; g < groups; g++) if (m[o + g]! > m[o + best]!) best = g;
        out[r] = best;
      }
      return;
  }
}
