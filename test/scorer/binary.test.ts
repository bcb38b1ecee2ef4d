/**
 * The binary tensor data extension for V2 infer requests, over HTTP against real models: the same outputs as the
 * equivalent JSON request, whatever the binary data's alignment in the body and whatever datatype feeds the input.
 */
import { fileURLToPath } from 'node:url';
import { binaryInfer, request, startTestScorer, type TestScorer } from '../helpers/scorer.js';
import { readFileSync } from 'node:fs';

const fixture = (path: string) => fileURLToPath(new URL(`../fixtures/${path}`, import.meta.url));

function rowsOf(path: string): (number | null)[][] {
  return (JSON.parse(readFileSync(fixture(`${path}.inputs.json`), 'utf8')) as { X: (number | null)[][] }).X;
}

/** The rows as a typed array of `datatype`, null as NaN. */
function pack(rows: (number | null)[][], datatype: string): ArrayBufferView {
  const flat = rows.flat().map((v) => v ?? NaN);
  switch (datatype) {
    case 'FP32':
      return Float32Array.from(flat);
    case 'FP64':
      return Float64Array.from(flat);
    case 'INT64':
      return BigInt64Array.from(flat, (v) => BigInt(v));
    case 'INT32':
      return Int32Array.from(flat);
    default:
      throw new Error(`no packing for ${datatype}`);
  }
}

const MODELS = [
  { file: 'shared/mlp_classifier', ext: 'onnx', datatype: 'FP32' },
  { file: 'shared/xgb_multiclass', ext: 'json', datatype: 'FP32' },
  { file: 'generated/xgb_softprob_nan', ext: 'json', datatype: 'FP32' },
  { file: 'generated/onnx_linreg_f64', ext: 'onnx', datatype: 'FP64' },
  { file: 'generated/onnx_int64_input', ext: 'onnx', datatype: 'INT64' },
];

describe.each(MODELS)('binary input for $file ($datatype)', ({ file, ext, datatype }) => {
  const name = file.split('/')[1]!;
  const rows = rowsOf(file);
  const shape = [rows.length, rows[0]!.length];
  let scorer: TestScorer;
  let inputName: string;
  let expected: unknown;
  const infer = (body: unknown, headers?: Record<string, string>) =>
    request(`${scorer.url}/v2/models/${name}/infer`, 'POST', body, headers);

  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture(`${file}.${ext}`) });
    await scorer.ready;
    const meta = (await request(`${scorer.url}/v2/models/${name}`)).body as { inputs: { name: string }[] };
    inputName = meta.inputs[0]!.name;
    const json = await infer({ id: 'r', inputs: [{ name: inputName, datatype, shape, data: rows }] });
    expect(json.status).toBe(200);
    expected = json.body;
  });
  afterAll(() => scorer.close());

  const binary = (declared: string, pad = 0) => {
    const data = pack(rows, declared);
    const input = { name: inputName, datatype: declared, shape, parameters: { binary_data_size: data.byteLength } };
    return binaryInfer({ id: 'r', inputs: [input] }, [data], { pad });
  };

  it.each([0, 1, 2, 3, 5, 7])('returns the JSON request’s outputs with the binary data at offset +%i', async (pad) => {
    const { body, headers } = binary(datatype, pad);
    expect(await infer(body, headers)).toMatchObject({ status: 200, body: expected as object });
  });

  it('converts another declared datatype as the JSON path does', async () => {
    const declared = datatype === 'INT64' ? 'INT32' : 'FP64';
    const { body, headers } = binary(declared, 1);
    const json = await infer({ id: 'r', inputs: [{ name: inputName, datatype: declared, shape, data: rows }] });
    expect(json.status).toBe(200);
    expect(await infer(body, headers)).toMatchObject({ status: 200, body: json.body as object });
  });
});

describe('binary input for two inputs', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture('generated/two_inputs.onnx') });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('takes each input’s bytes in the order the inputs are listed, beside a JSON input', async () => {
    // a and b are FP32 [-1, 3]; b is sent as FP64, so bytes taken in the wrong order would not fit.
    const url = `${scorer.url}/v2/models/two_inputs/infer`;
    const a = [1, 2, 3, 4, 5, 6];
    const b = [0.5, 0.25, 8, 16, 32, 64];
    const json = await request(url, 'POST', {
      inputs: [
        { name: 'b', datatype: 'FP64', shape: [2, 3], data: b },
        { name: 'a', datatype: 'FP32', shape: [2, 3], data: a },
      ],
    });
    expect(json).toMatchObject({
      status: 200,
      body: { outputs: [{ name: 'sum', data: [1.5, 2.25, 11, 20, 37, 70] }] },
    });
    const binB = { name: 'b', datatype: 'FP64', shape: [2, 3], parameters: { binary_data_size: 48 } };
    const binA = { name: 'a', datatype: 'FP32', shape: [2, 3], parameters: { binary_data_size: 24 } };
    const both = binaryInfer({ inputs: [binB, binA] }, [Float64Array.from(b), Float32Array.from(a)]);
    expect(await request(url, 'POST', both.body, both.headers)).toMatchObject({
      status: 200,
      body: json.body as object,
    });
    const mixed = binaryInfer({ inputs: [binB, { name: 'a', datatype: 'FP32', shape: [2, 3], data: a }] }, [
      Float64Array.from(b),
    ]);
    expect(await request(url, 'POST', mixed.body, mixed.headers)).toMatchObject({
      status: 200,
      body: json.body as object,
    });
  });
});
