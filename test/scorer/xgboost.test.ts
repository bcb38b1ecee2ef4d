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
