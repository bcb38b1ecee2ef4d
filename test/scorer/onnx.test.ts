/**
 * ONNX specifics, with models built by test/models/make_models.py: several inputs (V2 only), a ZipMap output
 * (refused at load time with the fix named), MODEL_OUTPUT choosing what /score returns; and the rollout candidates
 * of test/models/make_rollout.py.
 */
import { fileURLToPath } from 'node:url';
import { ModelLoadError } from '../../scorer/errors.js';
import { fixtures, maxRelativeError } from '../helpers/fixtures.js';
import { request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

const generated = (file: string) => fileURLToPath(new URL(`../fixtures/generated/${file}`, import.meta.url));

describe('a model with two inputs', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: generated('two_inputs.onnx') });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('describes both inputs in its metadata', async () => {
    const meta = await request(`${scorer.url}/v2/models/two_inputs`);
    expect(meta.body).toMatchObject({
      inputs: [
        { name: 'a', datatype: 'FP32', shape: [-1, 3] },
        { name: 'b', datatype: 'FP32', shape: [-1, 3] },
      ],
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [-1, 3] }],
    });
  });

  it('takes both by name through V2 infer', async () => {
    const reply = await request(`${scorer.url}/v2/models/two_inputs/infer`, 'POST', {
      inputs: [
        { name: 'b', datatype: 'FP32', shape: [2, 3], data: [10, 20, 30, 40, 50, 60] },
        {
          name: 'a',
          datatype: 'FP64',
          shape: [2, 3],
          data: [
            [1, 2, 3],
            [4, 5, 6],
          ],
        },
      ],
    });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      model_name: 'two_inputs',
      outputs: [{ name: 'sum', datatype: 'FP32', shape: [2, 3], data: [11, 22, 33, 44, 55, 66] }],
    });
  });

  it('answers /score with a 400 that points to V2', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', { X: [1, 2, 3] });
    expect(reply).toMatchObject({
      status: 400,
      body: {
        error: 'model "two_inputs" has 2 inputs ("a", "b"); send them by name to POST /v2/models/two_inputs/infer',
      },
    });
  });

  it('names a missing input', async () => {
    const reply = await request(`${scorer.url}/v2/models/two_inputs/infer`, 'POST', {
      inputs: [{ name: 'a', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }],
    });
    expect(reply.status).toBe(400);
    expect((reply.body as { error: string }).error).toMatch(/"b"/);
  });
});

describe('a ZipMap output', () => {
  it('is refused at load time, naming the output and the fix', async () => {
    const scorer = await startTestScorer({ MODEL_URI: generated('zipmap.onnx') });
    try {
      const err = await scorer.ready.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ModelLoadError);
      expect((err as Error).message).toMatch(
        /^cannot load model .*zipmap\.onnx: not a valid onnx model: output "\w+" is not a tensor \(a ZipMap .*'zipmap': False/,
      );
      expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(503);
    } finally {
      await scorer.close();
    }
  });
});

describe('MODEL_OUTPUT', () => {
  const classifier = fixtures('onnx').find((f) => f.name === 'onnx_two_outputs')!;

  it('chooses the output /score returns', async () => {
    const scorer = await startTestScorer({ MODEL_URI: classifier.path, MODEL_OUTPUT: 'probabilities' });
    try {
      await scorer.ready;
      const reply = await request(`${scorer.url}/score`, 'POST', { X: classifier.inputs });
      expect(reply.status).toBe(200);
      const { score } = reply.body as { score: number[][] };
      expect(score[0]).toHaveLength(2);
      expect(maxRelativeError(score, classifier.expected.probabilities)).toBeLessThanOrEqual(classifier.tolerance);
    } finally {
      await scorer.close();
    }
  });

  it('answers every output for an empty V2 "outputs" list, as without one', async () => {
    const scorer = await startTestScorer({ MODEL_URI: classifier.path });
    try {
      await scorer.ready;
      const infer = (extra: object) =>
        request(`${scorer.url}/v2/models/onnx_two_outputs/infer`, 'POST', {
          inputs: [{ name: 'float_input', datatype: 'FP32', shape: [2, 6], data: classifier.inputs.slice(0, 2) }],
          ...extra,
        });
      const all = await infer({});
      expect(all.status).toBe(200);
      expect((all.body as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual([
        'label',
        'probabilities',
      ]);
      expect(await infer({ outputs: [] })).toMatchObject({ status: 200, body: all.body as object });
    } finally {
      await scorer.close();
    }
  });

  it('defaults to the first output (the label)', async () => {
    const scorer = await startTestScorer({ MODEL_URI: classifier.path });
    try {
      await scorer.ready;
      const reply = await request(`${scorer.url}/score`, 'POST', { X: classifier.inputs });
      expect((reply.body as { score: unknown }).score).toEqual(classifier.expected.label);
    } finally {
      await scorer.close();
    }
  });
});

/**
 * The e2e suite's rollout candidates for mlp_classifier (test/models/make_rollout.py): the same input and output, so
 * that a stable scorer serving mlp_classifier can forward its requests to them.
 */
describe('the rollout candidates of mlp_classifier', () => {
  const stable = fixtures('onnx').find((f) => f.name === 'mlp_classifier')!;
  /** The stable's rows drawn from data (then come zeros, +-1000 and the mean). */
  const drawn = stable.inputs.slice(0, 46);

  describe('rollout_fails.onnx', () => {
    let scorer: TestScorer;
    beforeAll(async () => {
      scorer = await startTestScorer({ MODEL_URI: generated('rollout_fails.onnx') });
    });
    afterAll(() => scorer.close());

    it('passes the warm-up (a row of zeros) and reports ready', async () => {
      await scorer.ready;
      expect((await request(`${scorer.url}/v2/health/ready`)).status).toBe(200);
    });

    it("has the stable model's input and output", async () => {
      await scorer.ready;
      const own = (await request(`${scorer.url}/v2/models/rollout_fails`)).body as Record<string, unknown>;
      const probe = await startTestScorer({ MODEL_URI: stable.path });
      try {
        await probe.ready;
        const theirs = (await request(`${probe.url}/v2/models/mlp_classifier`)).body as Record<string, unknown>;
        expect({ inputs: own.inputs, outputs: own.outputs }).toEqual({
          inputs: theirs.inputs,
          outputs: theirs.outputs,
        });
      } finally {
        await probe.close();
      }
    });

    it("answers a row of zeros with the stable model's prediction", async () => {
      await scorer.ready;
      const zeros = stable.inputs.findIndex((row) => row.every((v) => v === 0));
      const reply = await request(`${scorer.url}/score`, 'POST', { X: [stable.inputs[zeros]] });
      expect(reply.status).toBe(200);
      expect(
        maxRelativeError((reply.body as { score: unknown }).score, [stable.expected.probabilities![zeros]]),
      ).toBeLessThanOrEqual(stable.tolerance);
    });

    it.each([
      ['/score', (row: unknown[]) => ({ path: '/score', body: { X: [row] } })],
      [
        'V2 infer',
        (row: unknown[]) => ({
          path: '/v2/models/rollout_fails/infer',
          body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 8], data: row }] },
        }),
      ],
    ])('answers every real row through %s with 422, the model could not score this input', async (_, make) => {
      await scorer.ready;
      for (const row of drawn) {
        const { path, body } = make(row);
        const reply = await request(`${scorer.url}${path}`, 'POST', body);
        expect(reply.status).toBe(422);
        expect((reply.body as { error: string }).error).toMatch(/^the model could not score this input: .*Gather/);
      }
    });
  });

  it("rollout_disagrees differs from the stable model's predictions on every row drawn from data", () => {
    const disagrees = fixtures('onnx').find((f) => f.name === 'rollout_disagrees')!;
    expect(disagrees.inputs).toEqual(stable.inputs);
    drawn.forEach((_, i) => {
      const diff = maxRelativeError(disagrees.expected.probabilities![i], stable.expected.probabilities![i]);
      expect(diff).toBeGreaterThan(100 * stable.tolerance);
    });
  });
});
