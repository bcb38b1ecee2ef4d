/**
 * XGBoost JSON layouts other than the one Debian's XGBoost 1.7 writes. Debian has no XGBoost 3.1 (nor one older than
 * 1.6), so these models are real 1.7 models whose JSON is rewritten into the other version's layout; the expected
 * predictions are still the library's own (test/models/make_models.py, manifest.json's notes).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelLoadError } from '../../scorer/errors.js';
import { fixtures, maxRelativeError, type Fixture } from '../helpers/fixtures.js';
import { request, startTestScorer } from '../helpers/scorer.js';

interface XGBoostJson {
  version: number[];
  learner: {
    learner_model_param: { base_score: string; num_class: string };
    gradient_booster: { model: { trees: { default_left: (number | boolean)[] }[] } };
  };
}

/** 3 classes, scalar base_score "5E-1", splits defaulting both ways, rows with nulls. */
const SOFTPROB = fixtures('xgboost').find((f) => f.name === 'xgb_softprob_nan')!;
/** The same model saved as XGBoost 3.1 would, with a distinct intercept per class. */
const VECTOR_BASE = fixtures('xgboost').find((f) => f.name === 'xgb_softprob_vector_base')!;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scorer-xgb-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const parse = (f: Fixture) => JSON.parse(readFileSync(f.path, 'utf8')) as XGBoostJson;

function write(name: string, model: XGBoostJson): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(model));
  return path;
}

/** Serves the model file with a real scorer and returns /score's answer to the fixture's rows. */
async function score(path: string, rows: Fixture['inputs']): Promise<unknown[]> {
  const scorer = await startTestScorer({ MODEL_URI: path });
  try {
    await scorer.ready;
    const reply = await request(`${scorer.url}/score`, 'POST', { X: rows });
    expect(reply.status).toBe(200);
    return (reply.body as { score: unknown[] }).score;
  } finally {
    await scorer.close();
  }
}

async function loadFailure(path: string): Promise<string> {
  const scorer = await startTestScorer({ MODEL_URI: path });
  try {
    const err = await scorer.ready.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ModelLoadError);
    return (err as Error).message;
  } finally {
    await scorer.close();
  }
}

describe('base_score as XGBoost >= 3.1 saves it, one value per class', () => {
  it('predicts as the library does when every class has the same value', async () => {
    const model = parse(SOFTPROB);
    expect(model.learner.learner_model_param.base_score).toBe('5E-1');
    model.version = [3, 1, 0];
    model.learner.learner_model_param.base_score = '[5E-1,5E-1,5E-1]';
    const actual = await score(write('equal-vector', model), SOFTPROB.inputs);
    expect(maxRelativeError(actual, SOFTPROB.expected.score)).toBeLessThanOrEqual(SOFTPROB.tolerance);
  });

  it('starts each class from its own value', async () => {
    expect(parse(VECTOR_BASE).learner.learner_model_param.base_score).toBe('[-1.0986123E-1,4.054651E-1,-2.956512E-1]');
    const actual = await score(VECTOR_BASE.path, VECTOR_BASE.inputs);
    expect(maxRelativeError(actual, VECTOR_BASE.expected.score)).toBeLessThanOrEqual(VECTOR_BASE.tolerance);
    // The intercepts matter: one value for every class would give the scalar model's predictions.
    expect(maxRelativeError(actual, SOFTPROB.expected.score)).toBeGreaterThan(0.1);
  });

  it('refuses a vector whose length is neither 1 nor the number of classes', async () => {
    const model = parse(SOFTPROB);
    model.learner.learner_model_param.base_score = '[5E-1,5E-1]';
    const path = write('two-of-three', model);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: base_score "[5E-1,5E-1]" has 2 values; ` +
        'expected 1 or one per output group (3)',
    );
  });

  it('refuses a vector holding something other than numbers', async () => {
    const model = parse(SOFTPROB);
    model.learner.learner_model_param.base_score = '[5E-1,,5E-1]';
    const path = write('hole', model);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: base_score[1] in "[5E-1,,5E-1]" is ""; expected a number`,
    );
  });
});

describe('default_left as XGBoost < 1.6 saves it, JSON booleans', () => {
  it('routes missing values as the library does', async () => {
    const model = parse(SOFTPROB);
    model.version = [1, 5, 2];
    const trees = model.learner.gradient_booster.model.trees;
    for (const tree of trees) tree.default_left = tree.default_left.map((d) => d === 1);
    const flat = trees.flatMap((t) => t.default_left);
    expect(flat).toContain(true);
    expect(flat).toContain(false);
    const actual = await score(write('boolean-default-left', model), SOFTPROB.inputs);
    expect(maxRelativeError(actual, SOFTPROB.expected.score)).toBeLessThanOrEqual(SOFTPROB.tolerance);
  });

  it('refuses anything else, naming the tree', async () => {
    const model = parse(SOFTPROB);
    (model.learner.gradient_booster.model.trees[1]!.default_left as unknown[])[0] = 'yes';
    const path = write('string-default-left', model);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: tree 1.default_left holds "yes"; expected 0/1 or a boolean`,
    );
  });
});

/** Categorical features 0, 1 and 4 (40, 3 and 6 categories), trained with enable_categorical, saved as JSON. */
const CAT = fixtures('xgboost').find((f) => f.name === 'xgb_cat_binary')!;
/** The same model saved as UBJSON. */
const CAT_UBJ = fixtures('xgboost').find((f) => f.name === 'xgb_cat_binary_ubj')!;
const CAT_SOFTPROB = fixtures('xgboost').find((f) => f.name === 'xgb_cat_softprob')!;
const CAT_SOFTPROB_UBJ = fixtures('xgboost').find((f) => f.name === 'xgb_cat_softprob_ubj')!;

interface CategoricalTree {
  split_type: number[];
  categories: number[];
  categories_nodes: number[];
  categories_segments: number[];
  categories_sizes: number[];
}

/** XGBoost 1.7's JSON with its bare NaN split_conditions (categorical splits) read as null. */
const parseCategorical = (f: Fixture) =>
  JSON.parse(readFileSync(f.path, 'utf8').replaceAll('NaN', 'null')) as {
    learner: { gradient_booster: { model: { trees: CategoricalTree[] } } };
  };

describe('categorical splits, as XGBoost 1.7 trains them with enable_categorical', () => {
  it('predicts as the library does on every row: seen, unseen, negative, non-integer and out-of-range categories, nulls', async () => {
    const column = CAT.inputs.map((r) => r[0]);
    for (const odd of [40, 1000, -1, -0.5, 2.5, 16777216, 1e30, null]) expect(column).toContain(odd);
    for (const f of [CAT, CAT_SOFTPROB]) {
      const actual = await score(f.path, f.inputs);
      expect(maxRelativeError(actual, f.expected.score)).toBeLessThanOrEqual(f.tolerance);
    }
  });

  it('gives the same predictions from the JSON and the UBJSON file of one model', async () => {
    for (const [json, ubj] of [
      [CAT, CAT_UBJ],
      [CAT_SOFTPROB, CAT_SOFTPROB_UBJ],
    ] as const) {
      expect(ubj.inputs).toEqual(json.inputs);
      expect(await score(ubj.path, ubj.inputs)).toEqual(await score(json.path, json.inputs));
    }
  });

  it('sends the categories of a split right and every other value left', async () => {
    // Without its categories, a split sends all (but null) left: the predictions must change.
    const model = parseCategorical(CAT);
    for (const tree of model.learner.gradient_booster.model.trees) {
      tree.categories = tree.categories.map(() => 16777215);
    }
    const actual = await score(write('categories-moved', model as unknown as XGBoostJson), CAT.inputs);
    expect(maxRelativeError(actual, CAT.expected.score)).toBeGreaterThan(0.1);
  });

  it('refuses a category outside XGBoost’s range, naming the tree and the node', async () => {
    const model = parseCategorical(CAT);
    const tree = model.learner.gradient_booster.model.trees[3]!;
    tree.categories[tree.categories_segments[0]!] = -2;
    const path = write('negative-category', model as unknown as XGBoostJson);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: tree 3: categorical split ${tree.categories_nodes[0]} ` +
        'holds category -2; categories are integers from 0 to 16777215',
    );
  });

  it('refuses categories_nodes out of node order, which XGBoost would read wrong', async () => {
    const model = parseCategorical(CAT);
    const tree = model.learner.gradient_booster.model.trees.find((t) => t.categories_nodes.length >= 2)!;
    const index = model.learner.gradient_booster.model.trees.indexOf(tree);
    const [a, b] = tree.categories_nodes;
    tree.categories_nodes[0] = b!;
    tree.categories_nodes[1] = a!;
    const path = write('nodes-swapped', model as unknown as XGBoostJson);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: tree ${index}: categories_nodes[1] is ${a}; ` +
        'expected node indices in increasing order',
    );
  });
});

describe('UBJSON models (.ubj)', () => {
  it('loads under any file name with MODEL_FORMAT=xgboost', async () => {
    const path = join(dir, 'model.bin');
    writeFileSync(path, readFileSync(CAT_UBJ.path));
    const scorer = await startTestScorer({ MODEL_URI: path, MODEL_FORMAT: 'xgboost' });
    try {
      await scorer.ready;
      const reply = await request(`${scorer.url}/score`, 'POST', { X: CAT_UBJ.inputs });
      expect(reply.status).toBe(200);
      const actual = (reply.body as { score: unknown[] }).score;
      expect(maxRelativeError(actual, CAT_UBJ.expected.score)).toBeLessThanOrEqual(CAT_UBJ.tolerance);
    } finally {
      await scorer.close();
    }
  });

  it('refuses a truncated file, saying where it ends', async () => {
    const bytes = readFileSync(CAT_UBJ.path);
    const path = join(dir, 'cut.ubj');
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    expect(await loadFailure(path)).toMatch(
      new RegExp(
        `^cannot load model ${path}: not a valid xgboost model: not an XGBoost UBJSON model: UBJSON is truncated: ` +
          `.+ at byte \\d+ needs \\d+ bytes, the file ends at ${bytes.length - 100}$`,
      ),
    );
  });

  it('refuses a corrupt file, naming the byte and the marker', async () => {
    const bytes = Buffer.from(readFileSync(CAT_UBJ.path));
    // The first value after the key "learner": an object's "{" becomes a marker UBJSON does not have.
    const at = bytes.indexOf('learner') + 'learner'.length;
    expect(String.fromCharCode(bytes[at]!)).toBe('{');
    bytes[at] = 0x3f;
    const path = join(dir, 'corrupt.ubj');
    writeFileSync(path, bytes);
    expect(await loadFailure(path)).toBe(
      `cannot load model ${path}: not a valid xgboost model: not an XGBoost UBJSON model: ` +
        `UBJSON: unknown marker "?" (0x3f) at byte ${at}`,
    );
  });
});
