/**
 * A drift baseline checked against real models (scorer/monitor/layout.ts): the features their inputs take a row,
 * the outputs they have and how wide, the number of histograms allowed; each refusal says what does not fit.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { loadScorerConfig } from '../../../scorer/config.js';
import { createIdentityModel } from '../../../scorer/formats/identity.js';
import { loadModel } from '../../../scorer/load/index.js';
import type { Model } from '../../../scorer/model.js';
import { layoutOf } from '../../../scorer/monitor/layout.js';
import { baselineOf, histogram } from '../../helpers/baseline.js';

const fixture = (path: string) => fileURLToPath(new URL(`../../fixtures/${path}`, import.meta.url));
const EDGES = [0, 1];

const models: Record<string, Model> = {};
beforeAll(async () => {
  for (const [name, path] of [
    ['xgb', 'shared/xgb_binary.json'], // X [-1, 5] -> score [-1]
    ['logreg', 'shared/logreg_multiclass.onnx'], // input [-1, 8] -> label [-1] (INT64), probabilities [-1, 3]
    ['gbr', 'shared/gbr_regressor.onnx'], // input [-1, 10] -> variable [-1, 1]
    ['twoInputs', 'generated/two_inputs.onnx'], // a [-1, 3], b [-1, 3] -> sum [-1, 3]
  ]) {
    models[name!] = (await loadModel(loadScorerConfig({ MODEL_URI: fixture(path!) }), pino({ level: 'silent' }))).model;
  }
  models.identity = await createIdentityModel(new Uint8Array(), { name: 'identity' });
});
afterAll(async () => {
  for (const model of Object.values(models)) await model.dispose();
});

describe('a baseline against the model', () => {
  it("takes the features of every input, in the model's order", () => {
    expect(layoutOf(baselineOf(6, EDGES), models.twoInputs!, 200).inputs).toEqual([
      { name: 'a', width: 3 },
      { name: 'b', width: 3 },
    ]);
  });

  it.each([
    ['xgb', 4, 'the baseline has 4 features; the model\'s inputs take 5 values a row ("X" [-1, 5])'],
    ['twoInputs', 3, 'the baseline has 3 features; the model\'s inputs take 6 values a row ("a" [-1, 3], "b" [-1, 3])'],
  ])('refuses another number of features than %s takes a row', (model, features, message) => {
    expect(() => layoutOf(baselineOf(features, EDGES), models[model]!, 200)).toThrow(message);
  });

  it('leaves the identity model, whose rows have any width, to each batch', () => {
    expect(layoutOf(baselineOf(7, EDGES), models.identity!, 200).inputs).toEqual([{ name: 'X', width: undefined }]);
  });

  it('finds outputs by name, and columns of wider ones as name[j]', () => {
    const outputs = [histogram('label', [0.5, 1.5]), histogram('probabilities[2]', [0.5]), histogram('variable', [1])];
    expect(layoutOf(baselineOf(8, EDGES, outputs.slice(0, 2)), models.logreg!, 200).outputs).toEqual(
      new Map([
        ['label', [{ histogram: 8, column: 0, whole: true }]],
        ['probabilities', [{ histogram: 9, column: 2, whole: false }]],
      ]),
    );
    // [-1, 1]: one value a row, named by the output alone.
    expect(layoutOf(baselineOf(10, EDGES, outputs.slice(2)), models.gbr!, 200).outputs.get('variable')).toEqual([
      { histogram: 10, column: 0, whole: true },
    ]);
  });

  it.each([
    ['proba', 'the baseline\'s output "proba" is not an output of the model (outputs: "label", "probabilities")'],
    [
      'probabilities',
      'the baseline\'s output "probabilities" is one value a row; the model\'s "probabilities" has 3 (name its columns "probabilities[0]" to "probabilities[2]")',
    ],
    ['probabilities[3]', 'the baseline\'s output "probabilities[3]": the model\'s "probabilities" has 3 values a row'],
  ])('refuses the output %s', (name, message) => {
    expect(() => layoutOf(baselineOf(8, EDGES, [histogram(name, [0.5])]), models.logreg!, 200)).toThrow(message);
  });

  it('refuses more histograms than MONITOR_MAX_HISTOGRAMS', () => {
    expect(() => layoutOf(baselineOf(8, EDGES, [histogram('label', [0.5])]), models.logreg!, 8)).toThrow(
      'the baseline has 9 histograms (8 features, 1 output); MONITOR_MAX_HISTOGRAMS allows 8',
    );
  });

  it("rounds the edges of FP32 inputs as their values are, and leaves the outputs' as the baseline has them", () => {
    const layout = layoutOf(baselineOf(5, [0.2, 0.3]), models.xgb!, 200);
    expect(Array.from(layout.edges[0]!)).toEqual([Math.fround(0.2), Math.fround(0.3)]);
    const identity = layoutOf(baselineOf(1, [0.2], [histogram('X', [0.1])]), models.identity!, 200);
    expect(Array.from(identity.edges[0]!)).toEqual([0.2]);
    expect(Array.from(layoutOf(baselineOf(5, EDGES, [histogram('score', [0.1])]), models.xgb!, 200).edges[5]!)).toEqual(
      [0.1],
    );
  });
});
