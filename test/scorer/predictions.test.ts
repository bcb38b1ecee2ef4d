/**
 * Every fixture model served by a real scorer over HTTP answers with the training library's own predictions,
 * through the seed's /score and through the Open Inference Protocol; and again with PREDICT_THREAD, where the
 * model runs on a worker thread and tensors cross between the threads.
 */
import { fixtures, maxRelativeError, type Fixture } from '../helpers/fixtures.js';
import { request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

const all = fixtures();

const cases = all.flatMap((f) => [[f.name, f, 'false'] as const, [`${f.name} on a thread`, f, 'true'] as const]);

describe.each(cases)('%s', (_name, fixture: Fixture, thread) => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture.path, PREDICT_THREAD: thread });
    await scorer.ready;
    expect(scorer.logs.find((l) => l.msg === 'model loaded')).toMatchObject({ thread: thread === 'true' });
  });
  afterAll(() => scorer.close());

  const primary = fixture.outputs?.[0] ?? 'score';

  it('POST /score answers all rows with the library predictions', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', { X: fixture.inputs });
    expect(reply.status).toBe(200);
    const { score } = reply.body as { score: unknown[] };
    expect(maxRelativeError(score, fixture.expected[primary])).toBeLessThanOrEqual(fixture.tolerance);
  });

  it('POST /score with one flat row answers that row', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', { X: fixture.inputs[0] });
    expect(reply.status).toBe(200);
    const { score } = reply.body as { score: unknown[] };
    expect(maxRelativeError(score, fixture.expected[primary]!.slice(0, 1))).toBeLessThanOrEqual(fixture.tolerance);
  });

  it('V2 infer answers every output with the library predictions, nested data accepted', async () => {
    const meta = (await request(`${scorer.url}/v2/models/${fixture.name}`)).body as {
      inputs: { name: string; datatype: string; shape: number[] }[];
      outputs: { name: string }[];
    };
    const input = meta.inputs[0]!;
    const rows = fixture.inputs;
    const reply = await request(`${scorer.url}/v2/models/${fixture.name}/infer`, 'POST', {
      id: `req-${fixture.name}`,
      inputs: [{ name: input.name, datatype: input.datatype, shape: [rows.length, rows[0]!.length], data: rows }],
    });
    expect(reply.status).toBe(200);
    const body = reply.body as {
      model_name: string;
      id: string;
      outputs: { name: string; shape: number[]; data: number[] }[];
    };
    expect(body.model_name).toBe(fixture.name);
    expect(body.id).toBe(`req-${fixture.name}`);
    for (const [name, expected] of Object.entries(fixture.expected)) {
      const output = body.outputs.find((o) => o.name === name);
      expect(output).toBeDefined();
      expect(output!.shape[0]).toBe(rows.length);
      expect(maxRelativeError(output!.data, expected.flat())).toBeLessThanOrEqual(fixture.tolerance);
    }
  });
});
