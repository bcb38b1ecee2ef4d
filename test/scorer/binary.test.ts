/**
 * The binary tensor data extension for V2 infer requests, over HTTP against real models: the same outputs as the
 * equivalent JSON request, whatever the binary data's alignment in the body and whatever datatype feeds the input.
 */
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { HEADER_LENGTH } from '../../scorer/http/binary-layout.js';
import { tensorBytes } from '../../scorer/http/binary-response.js';
import { binaryInfer, request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

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
    case 'FP16':
      return Float16Array.from(flat);
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
  { file: 'shared/logreg_multiclass', ext: 'onnx', datatype: 'FP32' },
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

  it('answers every output as binary data with "binary_data_output"', async () => {
    const { body, headers } = binary(datatype);
    const json = JSON.parse(body.subarray(0, Number(headers[HEADER_LENGTH])).toString()) as object;
    const asked = binaryInfer({ ...json, parameters: { binary_data_output: true } }, [pack(rows, datatype)]);
    const reply = await binaryReply(`${scorer.url}/v2/models/${name}/infer`, asked.body, asked.headers);
    expect(reply.contentType).toBe('application/octet-stream');
    const outputs = (expected as { outputs: { name: string }[] }).outputs;
    expect(reply.head.outputs.map((o) => o.name)).toEqual(outputs.map((o) => o.name));
    for (const o of reply.head.outputs) {
      expect(o).not.toHaveProperty('data');
      expect(o.parameters?.binary_data_size).toBeGreaterThan(0);
    }
    expect(reply.decoded).toEqual(expected);
  });

  it('converts another declared datatype as the JSON path does', async () => {
    const declared = datatype === 'INT64' ? 'INT32' : 'FP64';
    const { body, headers } = binary(declared, 1);
    const json = await infer({ id: 'r', inputs: [{ name: inputName, datatype: declared, shape, data: rows }] });
    expect(json.status).toBe(200);
    expect(await infer(body, headers)).toMatchObject({ status: 200, body: json.body as object });
  });

  // FP16 feeds only float inputs. The JSON request sends the same values, rounded to half precision, declared FP16.
  if (datatype.startsWith('FP')) {
    it('reads binary FP16 input as the JSON path reads the same values declared FP16', async () => {
      const halves = rows.map((row) => row.map((v) => (v === null ? null : Math.f16round(v))));
      const json = await infer({ id: 'r', inputs: [{ name: inputName, datatype: 'FP16', shape, data: halves }] });
      expect(json.status).toBe(200);
      const { body, headers } = binary('FP16', 1);
      expect(await infer(body, headers)).toMatchObject({ status: 200, body: json.body as object });
    });
  }
});

interface OutputHead {
  name: string;
  datatype: string;
  shape: number[];
  data?: unknown[];
  parameters?: { binary_data_size?: number };
}

/**
 * Posts an infer request and reads a binary tensor data answer the way a client of the extension does: the JSON head
 * (Inference-Header-Content-Length bytes), then each binary output's bytes in order. `decoded` is the answer with those
 * bytes read back into "data" as the JSON answer gives them (NaN as null, INT64 as numbers).
 */
async function binaryReply(url: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const bytes = Buffer.from(await res.arrayBuffer());
  expect(res.status).toBe(200);
  const length = Number(res.headers.get(HEADER_LENGTH));
  expect(length).toBeGreaterThan(0);
  const head = JSON.parse(bytes.subarray(0, length).toString('utf8')) as { outputs: OutputHead[] };
  let at = length;
  const outputs = head.outputs.map((o) => {
    const { parameters, ...rest } = o;
    const size = parameters?.binary_data_size;
    if (size === undefined) return o;
    const part = bytes.subarray(at, at + size);
    at += size;
    const copy = new Uint8Array(part).buffer;
    const values = {
      FP32: () => Array.from(new Float32Array(copy)),
      FP64: () => Array.from(new Float64Array(copy)),
      INT64: () => Array.from(new BigInt64Array(copy), Number),
      INT32: () => Array.from(new Int32Array(copy)),
    }[o.datatype]!();
    return { ...rest, data: values.map((v) => (Number.isNaN(v) ? null : v)) };
  });
  expect(at).toBe(bytes.length);
  return { contentType: res.headers.get('content-type'), head, decoded: { ...head, outputs } };
}

describe('binary output, chosen per output', () => {
  let scorer: TestScorer;
  const rows = rowsOf('shared/logreg_multiclass');
  const url = () => `${scorer.url}/v2/models/logreg_multiclass/infer`;
  const input = { name: 'X', datatype: 'FP32', shape: [rows.length, rows[0]!.length], data: rows };
  let all: { outputs: OutputHead[] };
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: fixture('shared/logreg_multiclass.onnx') });
    await scorer.ready;
    const meta = (await request(`${scorer.url}/v2/models/logreg_multiclass`)).body as { inputs: { name: string }[] };
    input.name = meta.inputs[0]!.name;
    all = (await request(url(), 'POST', { inputs: [input] })).body as typeof all;
    expect(all.outputs.length).toBe(2);
  });
  afterAll(() => scorer.close());

  it('"binary_data" on an output overrides the request’s "binary_data_output"', async () => {
    const [first, second] = all.outputs.map((o) => o.name) as [string, string];
    for (const [parameters, outputs, binaryOnes] of [
      [undefined, [{ name: first, parameters: { binary_data: true } }, { name: second }], [first]],
      [{ binary_data_output: true }, [{ name: first }, { name: second, parameters: { binary_data: false } }], [first]],
      [{ binary_data_output: true }, [{ name: second }], [second]],
      [{ binary_data_output: false }, [], []],
    ] as const) {
      const body = JSON.stringify({ inputs: [input], outputs, ...(parameters && { parameters }) });
      if (binaryOnes.length === 0) {
        const reply = await request(url(), 'POST', body);
        expect(reply.headers.get(HEADER_LENGTH)).toBeNull();
        expect(reply.body).toMatchObject({ outputs: all.outputs });
        continue;
      }
      const reply = await binaryReply(url(), body, {});
      const named = outputs.length === 0 ? all.outputs.map((o) => o.name) : outputs.map((o) => o.name);
      expect(reply.head.outputs.map((o) => [o.name, 'data' in o])).toEqual(
        named.map((n) => [n, !(binaryOnes as readonly string[]).includes(n)]),
      );
      expect(reply.decoded.outputs).toEqual(named.map((n) => all.outputs.find((o) => o.name === n)));
    }
  });
});

describe('tensorBytes, the layout of binary outputs', () => {
  const bytes = (t: Parameters<typeof tensorBytes>[0]) => [...tensorBytes(t)];
  it('writes BOOL as one byte, INT64 as eight little-endian bytes', () => {
    expect(bytes({ name: 'b', datatype: 'BOOL', shape: [3], data: Uint8Array.from([1, 0, 1]) })).toEqual([1, 0, 1]);
    expect(bytes({ name: 'i', datatype: 'INT64', shape: [1], data: BigInt64Array.from([-2n]) })).toEqual([
      0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    ]);
  });
  it('writes BYTES as a 4-byte little-endian length before each UTF-8 string', () => {
    expect(bytes({ name: 's', datatype: 'BYTES', shape: [2], data: ['ab', 'é'] })).toEqual([
      2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9,
    ]);
  });
  it('writes FP16 (carried as float32) as IEEE half precision, rounded to nearest even', () => {
    const values = [1, -2, 0.5, 65504, 2 ** -24, 2 ** -14, 0.1, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 1e6, -Infinity, NaN, 0];
    const data = Float32Array.from(values);
    const halves = tensorBytes({ name: 'h', datatype: 'FP16', shape: [values.length], data });
    const read = Array.from({ length: values.length }, (_, i) => halves.readUInt16LE(i * 2));
    // The runtime's own conversion (IEEE 754 binary16, round to nearest even) gives the expected bit patterns.
    expect(read).toEqual([...new Uint16Array(Float16Array.from(data).buffer)]);
  });
  it('writes a typed array of another type than its datatype value by value', () => {
    const t = { name: 'f', datatype: 'FP64' as const, shape: [2], data: Float32Array.from([0.5, -1]) };
    expect([...new Float64Array(new Uint8Array(tensorBytes(t)).buffer)]).toEqual([0.5, -1]);
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

describe('a raw binary request (Inference-Header-Content-Length: 0, the body one input’s bytes)', () => {
  const raw = { [HEADER_LENGTH]: '0', 'content-type': 'application/octet-stream' };
  const bytes = (view: ArrayBufferView) => new Uint8Array(view.buffer, view.byteOffset, view.byteLength);

  describe('for a model of one input of fixed width', () => {
    let scorer: TestScorer;
    const url = () => `${scorer.url}/v2/models/xgb_multiclass/infer`;
    const rows = rowsOf('shared/xgb_multiclass');
    beforeAll(async () => {
      scorer = await startTestScorer({ MODEL_URI: fixture('shared/xgb_multiclass.json') });
      await scorer.ready;
    });
    afterAll(() => scorer.close());

    it('is one row (batch 1), answered with every output as binary data, as the JSON request of that row', async () => {
      const row = rows[0]!;
      const json = await request(url(), 'POST', {
        inputs: [{ name: 'X', datatype: 'FP32', shape: [1, row.length], data: row }],
      });
      expect(json.status).toBe(200);
      const reply = await binaryReply(url(), bytes(pack([row], 'FP32')), raw);
      expect(reply.contentType).toBe('application/octet-stream');
      for (const o of reply.head.outputs) expect(o).not.toHaveProperty('data');
      expect(reply.decoded).toEqual(json.body);
    });

    it('of another length than one row is refused, naming the shape and bytes it takes', async () => {
      const features = rows[0]!.length;
      const reply = await request(url(), 'POST', bytes(pack(rows.slice(0, 2), 'FP32')), raw);
      expect(reply).toMatchObject({
        status: 400,
        body: {
          error:
            "a raw binary request (Inference-Header-Content-Length: 0, the body one input's bytes) for " +
            `input "X" (shape [-1, ${features}], FP32) holds one [1, ${features}] (batch 1) tensor: ` +
            `${features * 4} bytes; the body has ${features * 8}`,
        },
      });
    });
  });

  describe('for the identity model, whose rows are of any width', () => {
    let scorer: TestScorer;
    beforeAll(async () => {
      scorer = await startTestScorer({ MODEL_URI: 'identity' });
      await scorer.ready;
    });
    afterAll(() => scorer.close());

    it('takes the width from the body’s length', async () => {
      const url = `${scorer.url}/v2/models/identity/infer`;
      const reply = await binaryReply(url, bytes(Float64Array.from([1.5, -2, 3])), raw);
      expect(reply.decoded.outputs).toEqual([{ name: 'X', datatype: 'FP64', shape: [1, 3], data: [1.5, -2, 3] }]);
    });

    it('not a whole number of values is refused', async () => {
      const url = `${scorer.url}/v2/models/identity/infer`;
      const reply = await request(url, 'POST', new Uint8Array(12), raw);
      expect(reply).toMatchObject({
        status: 400,
        body: {
          error:
            "a raw binary request (Inference-Header-Content-Length: 0, the body one input's bytes) for " +
            'input "X" (shape [-1, -1], FP64) holds one [1, -1] (batch 1) tensor: a non-zero multiple of 8 bytes, ' +
            "dimension 1 being the body's length over 8; the body has 12",
        },
      });
    });
  });

  it('for a model of two inputs is refused, naming them', async () => {
    const scorer = await startTestScorer({ MODEL_URI: fixture('generated/two_inputs.onnx') });
    try {
      await scorer.ready;
      const reply = await request(`${scorer.url}/v2/models/two_inputs/infer`, 'POST', new Uint8Array(24), raw);
      expect(reply).toMatchObject({
        status: 400,
        body: {
          error:
            'model "two_inputs" has 2 inputs ("a", "b"); a raw binary request (Inference-Header-Content-Length: 0, ' +
            "the body one input's bytes) is for a model of one input: send a JSON request naming each input",
        },
      });
    } finally {
      await scorer.close();
    }
  });
});
