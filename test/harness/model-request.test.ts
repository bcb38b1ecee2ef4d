/**
 * harness/model-request.ts: the request the quickstart prints for a user's model, built from its V2 metadata. Checked
 * by value, and against real scorers serving real models: the request built from each one's own metadata is answered
 * with 200, through /score and V2 infer alike.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { curlCommand, exampleRequests, parseMetadata, shellQuote } from '../../harness/model-request.js';
import { request, startTestScorer } from '../helpers/scorer.js';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

describe('exampleRequests', () => {
  it('gives one row of zeros of the input width, as V2 infer and as /score', () => {
    const meta = parseMetadata({
      name: 'churn',
      platform: 'xgboost_json',
      inputs: [{ name: 'X', datatype: 'FP32', shape: [-1, 5] }],
      outputs: [{ name: 'score', datatype: 'FP32', shape: [-1] }],
    });
    expect(exampleRequests(meta)).toEqual({
      infer: { inputs: [{ name: 'X', datatype: 'FP32', shape: [1, 5], data: [0, 0, 0, 0, 0] }] },
      score: { X: [0, 0, 0, 0, 0] },
    });
  });

  it('gives each input of a model of several its own tensor, and no /score request', () => {
    const meta = parseMetadata({
      name: 'two',
      inputs: [
        { name: 'a', datatype: 'INT64', shape: [-1, 2] },
        { name: 'b', datatype: 'BOOL', shape: [-1, 3] },
      ],
      outputs: [],
    });
    expect(exampleRequests(meta)).toEqual({
      infer: {
        inputs: [
          { name: 'a', datatype: 'INT64', shape: [1, 2], data: [0, 0] },
          { name: 'b', datatype: 'BOOL', shape: [1, 3], data: [false, false, false] },
        ],
      },
    });
  });

  it('makes a dimension of any size 1: the identity model takes [1, 1]', () => {
    const meta = parseMetadata({
      name: 'identity',
      inputs: [{ name: 'X', datatype: 'FP64', shape: [-1, -1] }],
      outputs: [{ name: 'X', datatype: 'FP64', shape: [-1, -1] }],
    });
    expect(exampleRequests(meta)).toEqual({
      infer: { inputs: [{ name: 'X', datatype: 'FP64', shape: [1, 1], data: [0] }] },
      score: { X: [0] },
    });
  });

  it('gives no /score request for an input of rank 3 or of strings', () => {
    const rank3 = parseMetadata({
      name: 'img',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 2, 2] }],
      outputs: [],
    });
    expect(exampleRequests(rank3)).toEqual({
      infer: { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2, 2], data: [0, 0, 0, 0] }] },
    });
    const text = parseMetadata({ name: 't', inputs: [{ name: 's', datatype: 'BYTES', shape: [-1, 1] }], outputs: [] });
    expect(exampleRequests(text).score).toBeUndefined();
    expect(exampleRequests(text).infer.inputs[0]!.data).toEqual(['']);
  });

  it('refuses metadata without inputs, or with a malformed tensor, naming what is wrong', () => {
    expect(() => parseMetadata({ error: 'model not found' })).toThrow('model metadata has no name');
    expect(() => parseMetadata({ name: 'm', outputs: [] })).toThrow('model metadata has no inputs list');
    expect(() =>
      parseMetadata({ name: 'm', inputs: [{ name: 'x', datatype: 'FP32', shape: [-2] }], outputs: [] }),
    ).toThrow('malformed tensor in inputs');
    expect(() => exampleRequests({ name: 'm', inputs: [], outputs: [] })).toThrow('model m declares no inputs');
  });
});

describe('curlCommand', () => {
  it('quotes the body for the shell, a single quote in a name included', () => {
    expect(shellQuote(`it's`)).toBe(`'it'\\''s'`);
    const body = { inputs: [{ name: "it's", datatype: 'FP32', shape: [1, 1], data: [0] }] };
    const command = curlCommand('http://10.96.0.5/v2/models/m/infer', body);
    expect(command).toBe(
      `curl -s -X POST http://10.96.0.5/v2/models/m/infer -H 'content-type: application/json' -d ${shellQuote(JSON.stringify(body))}`,
    );
    // What the shell passes curl is the JSON itself.
    const echoed = spawnSync('bash', ['-c', command.replace(/^curl .* -d /, 'printf %s ')], { encoding: 'utf8' });
    expect(JSON.parse(echoed.stdout)).toEqual(body);
  });
});

describe("the request built from a real scorer's metadata", () => {
  it.each([
    'shared/mlp_classifier.onnx',
    'shared/xgb_binary.json',
    'shared/lgbm_multiclass.txt',
    'generated/xgb_cat_binary_ubj.ubj',
    'generated/onnx_int64_input.onnx',
    'generated/two_inputs.onnx',
    'identity',
  ])('%s answers it with 200', async (file) => {
    const scorer = await startTestScorer(
      file === 'identity'
        ? { MODEL_URI: 'identity', MODEL_FORMAT: 'identity' }
        : { MODEL_URI: fixture(file), MODEL_NAME: 'm' },
    );
    try {
      await scorer.ready;
      const name = file === 'identity' ? 'identity' : 'm';
      const meta = await request(`${scorer.url}/v2/models/${name}`);
      expect(meta.status).toBe(200);
      const requests = exampleRequests(parseMetadata(meta.body));
      const infer = await request(`${scorer.url}/v2/models/${name}/infer`, 'POST', requests.infer);
      expect(infer).toMatchObject({ status: 200, body: { model_name: name } });
      if (requests.score) {
        const score = await request(`${scorer.url}/score`, 'POST', requests.score);
        expect(score.status).toBe(200);
        expect((score.body as { score: unknown[] }).score).toHaveLength(1);
      }
      // A single-input model of flat rows gets a /score request too.
      expect(requests.score !== undefined).toBe(file !== 'generated/two_inputs.onnx');
    } finally {
      await scorer.close();
    }
  });
});
