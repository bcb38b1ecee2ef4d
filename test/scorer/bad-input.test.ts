/**
 * Malformed and hostile requests against a real scorer serving a real XGBoost model (7 features, input "X"
 * of datatype FP32, shape [-1, 7]). Each gets a 4xx and a message that names what is wrong.
 */
import { fileURLToPath } from 'node:url';
import { binaryInfer, request, startTestScorer, type TestScorer } from '../helpers/scorer.js';

const MODEL = fileURLToPath(new URL('../fixtures/shared/xgb_regressor.json', import.meta.url));
const ROW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7];
const MAX_ROWS = 50;
const MAX_BODY = 64 * 1024;

interface Case {
  name: string;
  method?: string;
  path?: string;
  body: unknown;
  headers?: Record<string, string>;
  status: number;
  error: RegExp;
}

const v2 = (inputs: unknown, extra: Record<string, unknown> = {}) => ({ inputs, ...extra });
const x = (data: unknown, over: Record<string, unknown> = {}) => ({
  name: 'X',
  datatype: 'FP32',
  shape: [1, 7],
  data,
  ...over,
});

const INFER = '/v2/models/xgb_regressor/infer';
/** An input whose data is `size` bytes after the JSON request. */
const bx = (size: number, over: Record<string, unknown> = {}) =>
  x(undefined, { parameters: { binary_data_size: size }, ...over });
const F32 = Float32Array.from(ROW);
/** A binary infer request (the binary tensor data extension) as a table row's path, body and headers. */
const bin = (json: unknown, parts: ArrayBufferView[], headerLength?: string) => ({
  path: INFER,
  ...binaryInfer(json, parts, headerLength === undefined ? {} : { headerLength }),
});

const cases: Case[] = [
  { name: 'truncated JSON', body: '{"X": [1, 2', status: 400, error: /^malformed JSON/ },
  { name: 'not JSON at all', body: 'X=1,2,3', status: 400, error: /^malformed JSON/ },
  { name: 'invalid UTF-8 bytes', body: '{"X": [\udc00]}', status: 400, error: /malformed JSON/ },
  { name: 'an empty body', body: '', status: 400, error: /request body is empty/ },
  { name: 'a JSON array instead of an object', body: [1, 2], status: 400, error: /missing "X"/ },
  { name: 'a JSON string', body: '"hello"', status: 400, error: /missing "X"/ },
  { name: 'JSON null', body: 'null', status: 400, error: /missing "X"/ },
  { name: 'an object without "X"', body: { x: ROW }, status: 400, error: /missing "X"/ },
  { name: '"X" hidden behind __proto__', body: '{"__proto__": {"X": [1]}}', status: 400, error: /missing "X"/ },
  { name: '"X" as a string', body: { X: 'abc' }, status: 400, error: /"X" is a string/ },
  { name: '"X" as a number', body: { X: 5 }, status: 400, error: /"X" is number/ },
  { name: '"X" as an object', body: { X: { a: 1 } }, status: 400, error: /"X" is an object/ },
  { name: 'an empty "X"', body: { X: [] }, status: 400, error: /"X" is empty/ },
  {
    name: 'a row with too few features',
    body: { X: [1, 2, 3] },
    status: 422,
    error: /"X" has 3 features; the model expects 7/,
  },
  {
    name: 'rows with too many features',
    body: { X: [[...ROW, 8]] },
    status: 422,
    error: /"X\[0\]" has 8 features; the model expects 7/,
  },
  { name: 'an empty row', body: { X: [[]] }, status: 422, error: /"X\[0\]" has 0 features; the model expects 7/ },
  { name: 'ragged rows', body: { X: [ROW, ROW.slice(1)] }, status: 422, error: /"X\[1\]" has 6 features; expected 7/ },
  { name: 'a number among rows', body: { X: [ROW, 5] }, status: 400, error: /"X\[1\]" is number/ },
  {
    name: 'a string feature',
    body: { X: [1, 2, 'a', 4, 5, 6, 7] },
    status: 400,
    error: /"X\[2\]" is a string \("a"\)/,
  },
  {
    name: 'a boolean feature',
    body: { X: [[true, 2, 3, 4, 5, 6, 7]] },
    status: 400,
    error: /"X\[0\]\[0\]" is boolean/,
  },
  {
    name: 'an object feature',
    body: { X: [[1, 2, 3, 4, 5, 6, {}]] },
    status: 400,
    error: /"X\[0\]\[6\]" is an object/,
  },
  {
    name: 'a row nested one level too deep',
    body: { X: [[[1], 2, 3, 4, 5, 6, 7]] },
    status: 400,
    error: /"X\[0\]\[0\]" is an array/,
  },
  {
    name: 'a flat row mixing in an array',
    body: { X: [1, 2, [3], 4, 5, 6, 7] },
    status: 400,
    error: /mixes numbers and rows/,
  },
  {
    name: 'more rows than the limit',
    body: { X: Array.from({ length: MAX_ROWS + 1 }, () => ROW) },
    status: 413,
    error: new RegExp(`"X" has ${MAX_ROWS + 1} rows; the limit is ${MAX_ROWS}`),
  },
  {
    name: 'a body over the byte limit',
    body: JSON.stringify({ X: ROW, pad: 'x'.repeat(MAX_BODY) }),
    status: 413,
    error: /request body is \d+ bytes; the limit is 65536/,
  },
  { name: 'GET on /score', method: 'GET', body: undefined, status: 404, error: /no route for GET \/score/ },
  { name: 'an unknown path', path: '/predict', body: { X: ROW }, status: 404, error: /no route for POST \/predict/ },

  // Open Inference Protocol (V2)
  {
    name: 'infer on an unknown model',
    path: '/v2/models/other/infer',
    body: v2([x(ROW)]),
    status: 404,
    error: /model "other" not found/,
  },
  {
    name: 'metadata of an unknown model',
    method: 'GET',
    path: '/v2/models/other',
    body: undefined,
    status: 404,
    error: /model "other" not found/,
  },
  {
    name: 'an unknown model version',
    method: 'GET',
    path: '/v2/models/xgb_regressor/versions/9',
    body: undefined,
    status: 404,
    error: /has no version "9"/,
  },
  {
    name: 'readiness of an unknown model version',
    method: 'GET',
    path: '/v2/models/xgb_regressor/versions/9/ready',
    body: undefined,
    status: 404,
    error: /^model "xgb_regressor" has no version "9" \(versions: 1\)$/,
  },
  {
    name: 'infer on an unknown model version',
    path: '/v2/models/xgb_regressor/versions/2/infer',
    body: v2([x(ROW)]),
    status: 404,
    error: /^model "xgb_regressor" has no version "2" \(versions: 1\)$/,
  },
  {
    name: 'a malformed URL escape',
    path: '/v2/models/%E0%A4%A/infer',
    body: v2([x(ROW)]),
    status: 400,
    error: /^Failed to decode param '%E0%A4%A': expected a path percent-encoded as UTF-8$/,
  },
  {
    name: 'infer without "inputs"',
    path: '/v2/models/xgb_regressor/infer',
    body: {},
    status: 400,
    error: /"inputs" must be a non-empty array/,
  },
  {
    name: 'infer with "inputs" as an object',
    path: '/v2/models/xgb_regressor/infer',
    body: v2({ X: ROW }),
    status: 400,
    error: /"inputs" must be a non-empty array/,
  },
  {
    name: 'an input that is not an object',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([ROW]),
    status: 400,
    error: /"inputs\[0\]" must be an object/,
  },
  {
    name: 'an input without a name',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { name: undefined })]),
    status: 400,
    error: /"inputs\[0\].name" must be a string/,
  },
  {
    name: 'an input the model does not have',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { name: 'features' })]),
    status: 400,
    error: /input "features" is not an input of model "xgb_regressor" \(inputs: "X"\)/,
  },
  {
    name: 'the same input twice',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW), x(ROW)]),
    status: 400,
    error: /input "X" is given twice/,
  },
  {
    name: 'an unknown datatype',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { datatype: 'FP99' })]),
    status: 400,
    error: /datatype "FP99" is not one of BOOL/,
  },
  {
    name: 'BYTES for a numeric input',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW.map(String), { datatype: 'BYTES' })]),
    status: 400,
    error: /datatype BYTES cannot feed the model's FP32 input/,
  },
  {
    name: 'a shape that is not an array',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { shape: '1x7' })]),
    status: 400,
    error: /"shape" must be an array of non-negative integers/,
  },
  {
    name: 'a negative dimension',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { shape: [-1, 7] })]),
    status: 400,
    error: /"shape" must be an array of non-negative integers/,
  },
  {
    name: 'the wrong rank',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { shape: [7] })]),
    status: 400,
    error: /has shape \[7\]; the model expects \[-1, 7\]/,
  },
  {
    name: 'the wrong feature dimension',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW.slice(0, 3), { shape: [1, 3] })]),
    status: 400,
    error: /dimension 1 must be 7/,
  },
  {
    name: 'a shape that does not match the data',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { shape: [2, 7] })]),
    status: 400,
    error: /shape \[2, 7\] holds 14 values but "data" has 7/,
  },
  {
    name: 'nested data with more rows than the shape',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([ROW, ROW])]),
    status: 400,
    error: /^input "X": "data" has 2 elements; shape \[1, 7\] expects an array of 1 there \(nested data must follow/,
  },
  {
    name: 'ragged nested rows',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([ROW.slice(1), [...ROW, 8]], { shape: [2, 7] })]),
    status: 400,
    error: /^input "X": data\[0\] has 6 elements; shape \[2, 7\] expects an array of 7 there/,
  },
  {
    name: 'two rows run together into one nested row',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([[...ROW, ...ROW]], { shape: [2, 7] })]),
    status: 400,
    error: /^input "X": "data" has 1 element; shape \[2, 7\] expects an array of 2 there/,
  },
  {
    name: 'nested data mixing a row and loose values',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([ROW, 0.5], { shape: [2, 7] })]),
    status: 400,
    error: /^input "X": data\[1\] is number; shape \[2, 7\] expects an array of 7 there/,
  },
  {
    name: 'data nested deeper than the shape',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([[[0.1], ...ROW.slice(1)]])]),
    status: 400,
    error: /^input "X": data\[0\]\[0\] is an array; shape \[1, 7\] nests 2 deep$/,
  },
  {
    name: 'a shape of too many dimensions',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW, { shape: new Array(33).fill(1) })]),
    status: 400,
    error: /^input "X": "shape" has 33 dimensions; at most 32$/,
  },
  {
    name: 'BOOL for a float input',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([0.5, 1, 0, 1, 0, 1, 0], { datatype: 'BOOL' })]),
    status: 400,
    error:
      /^input "X": datatype BOOL cannot feed the model's FP32 input \(expected one of FP32, FP16, FP64, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, UINT64\)$/,
  },
  {
    name: 'INT8 data that is not an integer',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1000.5, 2, 3, 4, 5, 6, 7], { datatype: 'INT8' })]),
    status: 400,
    error: /^input "X": data\[0\] is 1000\.5; expected an integer in INT8's range \[-128, 127\]$/,
  },
  {
    name: "INT8 data outside INT8's range",
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1, 2, 3, 4, 5, 6, 1000], { datatype: 'INT8' })]),
    status: 400,
    error: /^input "X": data\[6\] is 1000; expected an integer in INT8's range \[-128, 127\]$/,
  },
  {
    name: 'a negative UINT16',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1, 2, -3, 4, 5, 6, 7], { datatype: 'UINT16' })]),
    status: 400,
    error: /^input "X": data\[2\] is -3; expected an integer in UINT16's range \[0, 65535\]$/,
  },
  {
    name: "FP16 data outside FP16's range",
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1, 2, 3, 70000, 5, 6, 7], { datatype: 'FP16' })]),
    status: 400,
    error: /^input "X": data\[3\] is 70000; expected a number within FP16's range \(±65504\) \(or null/,
  },
  {
    name: "FP64 data outside the model's FP32 range",
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1e39, 2, 3, 4, 5, 6, 7], { datatype: 'FP64' })]),
    status: 400,
    error: /^input "X": data\[0\] is 1e\+39; expected a number within FP32's range \(±3\.4028235e\+38\)/,
  },
  {
    name: 'a boolean in FP32 data',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([true, 2, 3, 4, 5, 6, 7])]),
    status: 400,
    error: /^input "X": data\[0\] is boolean; expected a number within FP32's range/,
  },
  {
    name: 'data that is not an array',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x('0.1 0.2')]),
    status: 400,
    error: /"data" must be an array/,
  },
  {
    name: 'a string in the data',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([1, 2, 3, 'four', 5, 6, 7])]),
    status: 400,
    error: /input "X": data\[3\] is a string/,
  },
  {
    name: 'an "id" that is not a string',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW)], { id: 42 }),
    status: 400,
    error: /"id" is number; expected a string/,
  },
  {
    name: 'an output the model does not have',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x(ROW)], { outputs: [{ name: 'proba' }] }),
    status: 400,
    error: /output "proba" is not an output of model "xgb_regressor" \(outputs: "score"\)/,
  },
  {
    name: 'more V2 rows than the limit',
    path: '/v2/models/xgb_regressor/infer',
    body: v2([x([], { shape: [MAX_ROWS + 1, 7] })]),
    status: 413,
    error: /has 51 rows; the limit is 50/,
  },

  // V2 binary tensor data
  {
    name: 'an Inference-Header-Content-Length that is not a number',
    ...bin(v2([bx(28)]), [F32], 'abc'),
    status: 400,
    error: /^Inference-Header-Content-Length is "abc"; expected a non-negative integer \(the byte length of the JSON/,
  },
  {
    name: 'a negative Inference-Header-Content-Length',
    ...bin(v2([bx(28)]), [F32], '-4'),
    status: 400,
    error: /^Inference-Header-Content-Length is "-4"; expected a non-negative integer/,
  },
  {
    name: 'an Inference-Header-Content-Length beyond the body',
    ...bin(v2([bx(28)]), [F32], '100000'),
    status: 400,
    error: /^Inference-Header-Content-Length is 100000 but the body has \d+ bytes; expected at most the body's length$/,
  },
  {
    name: 'an Inference-Header-Content-Length that cuts the JSON short',
    ...bin(v2([bx(28)]), [F32], '10'),
    status: 400,
    error: /^malformed JSON in the first 10 bytes \(Inference-Header-Content-Length\): /,
  },
  {
    name: 'a binary_data_size that does not fit the shape',
    ...bin(v2([bx(24)]), [F32.subarray(0, 6)]),
    status: 400,
    error: /^input "X": "binary_data_size" is 24; shape \[1, 7\] of FP32 takes 28 bytes \(7 values of 4 bytes\)$/,
  },
  {
    name: 'a binary_data_size that does not fit the declared datatype',
    ...bin(v2([bx(28, { datatype: 'FP64' })]), [F32]),
    status: 400,
    error: /^input "X": "binary_data_size" is 28; shape \[1, 7\] of FP64 takes 56 bytes \(7 values of 8 bytes\)$/,
  },
  {
    name: 'binary data shorter than binary_data_size',
    ...bin(v2([bx(28)]), [F32.subarray(0, 5)]),
    status: 400,
    error: /^input "X": "binary_data_size" is 28 but only 20 bytes of binary data are left after the JSON request/,
  },
  {
    name: 'more binary data than the inputs take',
    ...bin(v2([bx(28)]), [F32, F32.subarray(0, 1)]),
    status: 400,
    error:
      /^the inputs' "binary_data_size" add up to 28 bytes but 32 follow the JSON request \(Inference-Header-Content-Length: \d+\); expected them to be equal$/,
  },
  {
    name: 'binary data after a JSON-only request',
    ...bin(v2([x(ROW)]), [F32]),
    status: 400,
    error: /^the inputs' "binary_data_size" add up to 0 bytes but 28 follow the JSON request/,
  },
  {
    name: 'an input with both "data" and binary_data_size',
    ...bin(v2([bx(28, { data: ROW })]), [F32]),
    status: 400,
    error: /^input "X" has both "data" and "binary_data_size"; expected one of them/,
  },
  {
    name: 'binary_data_size without Inference-Header-Content-Length',
    path: INFER,
    body: v2([bx(28)]),
    status: 400,
    error: /^input "X" has "binary_data_size" but the request has no Inference-Header-Content-Length header; expected/,
  },
  {
    name: 'a binary_data_size that is not an integer',
    ...bin(v2([bx(-28)]), [F32]),
    status: 400,
    error: /^input "X": "binary_data_size" is -28; expected a non-negative integer/,
  },
  {
    name: '"parameters" that are not an object',
    ...bin(v2([x(undefined, { parameters: 'binary' })]), [F32]),
    status: 400,
    error: /^input "X": "parameters" is a string \("binary"\); expected an object$/,
  },
  {
    name: 'a "binary_data_output" that is not a boolean',
    path: INFER,
    body: v2([x(ROW)], { parameters: { binary_data_output: 'yes' } }),
    status: 400,
    error: /^"parameters.binary_data_output" is a string \("yes"\); expected true or false$/,
  },
  {
    name: 'request "parameters" that are not an object',
    path: INFER,
    body: v2([x(ROW)], { parameters: [true] }),
    status: 400,
    error: /^"parameters" is an array; expected an object$/,
  },
  {
    name: 'an output\'s "binary_data" that is not a boolean',
    path: INFER,
    body: v2([x(ROW)], { outputs: [{ name: 'score', parameters: { binary_data: 1 } }] }),
    status: 400,
    error: /^output "score": "parameters.binary_data" is number; expected true or false$/,
  },
  {
    name: 'BYTES as binary data',
    ...bin(v2([bx(7, { datatype: 'BYTES' })]), [new Uint8Array(7)]),
    status: 400,
    error: /^input "X": BYTES inputs cannot be sent as binary data here; expected their strings in "data"$/,
  },
  {
    name: 'binary BOOL for a float input',
    ...bin(v2([bx(7, { datatype: 'BOOL' })]), [new Uint8Array(7)]),
    status: 400,
    error: /^input "X": datatype BOOL cannot feed the model's FP32 input \(expected one of FP32, FP16/,
  },
  {
    name: 'binary data of the wrong shape',
    ...bin(v2([bx(12, { shape: [1, 3] })]), [F32.subarray(0, 3)]),
    status: 400,
    error: /dimension 1 must be 7/,
  },
  {
    name: "binary FP64 data outside the model's FP32 range",
    ...bin(v2([bx(56, { datatype: 'FP64' })]), [Float64Array.from([1e39, 2, 3, 4, 5, 6, 7])]),
    status: 400,
    error: /^input "X": binary value 0 is 1e\+39; expected a number within FP32's range/,
  },
  {
    name: 'more binary rows than the limit',
    ...bin(v2([bx(28 * (MAX_ROWS + 1), { shape: [MAX_ROWS + 1, 7] })]), [new Float32Array(7 * (MAX_ROWS + 1))]),
    status: 413,
    error: /has 51 rows; the limit is 50/,
  },
  {
    name: 'a binary body over the byte limit',
    ...bin(v2([bx(MAX_BODY, { shape: [MAX_ROWS, 7] })]), [new Uint8Array(MAX_BODY)]),
    status: 413,
    error: /request body is \d+ bytes; the limit is 65536/,
  },
];

describe('the scorer answers bad input with a 4xx and a message naming the problem', () => {
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: MODEL, MAX_ROWS: String(MAX_ROWS), MAX_BODY_BYTES: String(MAX_BODY) });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it('covers at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cases)('$name -> $status', async ({ method = 'POST', path = '/score', body, headers, status, error }) => {
    const reply = await request(`${scorer.url}${path}`, method, body, headers);
    expect(reply.status).toBe(status);
    const message = (reply.body as { error?: unknown }).error;
    expect(typeof message).toBe('string');
    expect(message).toMatch(error);
    expect(message).not.toMatch(/\n\s+at /);
  });

  it('takes integer datatypes for a float input, and nested data that follows the shape', async () => {
    const ints = [1, -2, 3, 0, 5, 6, -7];
    const as = async (datatype: string, data: unknown, shape = [1, 7]) => {
      const reply = await request(
        `${scorer.url}/v2/models/xgb_regressor/infer`,
        'POST',
        v2([x(data, { datatype, shape })]),
      );
      expect(reply.status).toBe(200);
      return (reply.body as { outputs: { data: number[] }[] }).outputs[0]!.data;
    };
    const expected = await as('FP32', ints);
    expect(await as('INT8', ints)).toEqual(expected);
    expect(await as('FP64', [ints])).toEqual(expected);
    expect(await as('INT32', [ints, ints], [2, 7])).toEqual([...expected, ...expected]);
  });

  it('keeps serving after all of them', async () => {
    const reply = await request(`${scorer.url}/score`, 'POST', { X: ROW });
    expect(reply.status).toBe(200);
    expect((reply.body as { score: number[] }).score).toHaveLength(1);
    expect(scorer.logs.filter((l) => l.level === 50)).toEqual([]);
  });
});

describe('V2 datatypes and values for an integer input', () => {
  // onnx_int64_input: input "x" of datatype INT64, shape [-1, 4]
  const MODEL_INT64 = fileURLToPath(new URL('../fixtures/generated/onnx_int64_input.onnx', import.meta.url));
  const infer = '/v2/models/onnx_int64_input/infer';
  const int = (datatype: string, data: unknown) => v2([{ name: 'x', datatype, shape: [1, 4], data }]);
  const INTEGERS = 'INT8, INT16, INT32, UINT8, UINT16, UINT32, UINT64';
  let scorer: TestScorer;
  beforeAll(async () => {
    scorer = await startTestScorer({ MODEL_URI: MODEL_INT64 });
    await scorer.ready;
  });
  afterAll(() => scorer.close());

  it.each([
    {
      name: 'FP32 for an INT64 input',
      body: int('FP32', [1, 2, 3, 4]),
      error: `input "x": datatype FP32 cannot feed the model's INT64 input (expected one of INT64, ${INTEGERS})`,
    },
    {
      name: 'BOOL for an INT64 input',
      body: int('BOOL', [true, false, true, false]),
      error: `input "x": datatype BOOL cannot feed the model's INT64 input (expected one of INT64, ${INTEGERS})`,
    },
    {
      name: 'a fraction in INT64 data',
      body: int('INT64', [1, 2.5, 3, 4]),
      error: `input "x": data[1] is 2.5; expected an integer in INT64's range [-9007199254740991, 9007199254740991]`,
    },
    {
      name: 'a null in INT64 data',
      body: int('INT64', [1, 2, null, 4]),
      error: `input "x": data[2] is null; expected an integer in INT64's range [-9007199254740991, 9007199254740991]`,
    },
    {
      name: "UINT8 data outside UINT8's range",
      body: int('UINT8', [1, 2, 3, 300]),
      error: `input "x": data[3] is 300; expected an integer in UINT8's range [0, 255]`,
    },
  ])('$name -> 400', async ({ body, error }) => {
    const reply = await request(`${scorer.url}${infer}`, 'POST', body);
    expect(reply).toMatchObject({ status: 400, body: { error } });
  });

  it('takes a narrower integer datatype', async () => {
    const wide = await request(`${scorer.url}${infer}`, 'POST', int('INT64', [1, 2, 3, 4]));
    const narrow = await request(`${scorer.url}${infer}`, 'POST', int('UINT8', [1, 2, 3, 4]));
    expect(wide.status).toBe(200);
    expect(narrow).toMatchObject({ status: 200, body: { outputs: (wide.body as { outputs: unknown }).outputs } });
  });
});
