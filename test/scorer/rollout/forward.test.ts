/**
 * The forwarded request's encoding and the candidate's answer's decoding, checked against the scorer's own reader of
 * binary infer requests and writer of binary outputs: what a stable scorer sends, a candidate reads as the same
 * tensors; what a candidate answers, the stable scorer reads as the same outputs.
 */
import { BinaryData } from '../../../scorer/http/binary-request.js';
import { inferResponse, parseInferRequest } from '../../../scorer/http/v2.js';
import type { Model, Tensor, TensorSpec } from '../../../scorer/model.js';
import { candidateTarget, decodeInferAnswer, encodeInfer } from '../../../scorer/rollout/forward.js';

const TENSORS: Tensor[] = [
  { name: 'f32', datatype: 'FP32', shape: [2, 2], data: Float32Array.from([0.5, -1.25, NaN, 3e38]) },
  { name: 'f64', datatype: 'FP64', shape: [2], data: Float64Array.from([Math.PI, -0]) },
  { name: 'f16', datatype: 'FP16', shape: [2], data: Float32Array.from([0.5, -2]) },
  { name: 'i64', datatype: 'INT64', shape: [2, 1], data: BigInt64Array.from([-(2n ** 40n), 7n]) },
  { name: 'u8', datatype: 'UINT8', shape: [3], data: Uint8Array.from([0, 1, 255]) },
  { name: 'flag', datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
  { name: 'text', datatype: 'BYTES', shape: [2], data: ['héllo', ''] },
];

/** A model with these tensors as its inputs and its outputs (the codec needs only their specs). */
function modelOf(tensors: readonly Tensor[]): Model {
  const specs: TensorSpec[] = tensors.map(({ name, datatype, shape }) => ({
    name,
    datatype,
    shape: shape.map(() => -1),
  }));
  return {
    name: 'm',
    format: 'onnx',
    inputs: specs,
    outputs: specs,
    primaryOutput: specs[0]!.name,
    predict: () => Promise.reject(new Error('not a real model')),
    dispose: () => Promise.resolve(),
  };
}

/** Plain values to compare typed arrays of any kind (NaN and -0 kept distinct by toEqual on arrays of numbers). */
const plain = (tensors: readonly Tensor[]) =>
  tensors.map((t) => ({ ...t, data: Array.isArray(t.data) ? t.data : Array.from(t.data as ArrayLike<unknown>) }));

describe('encodeInfer', () => {
  it("is read by the scorer's binary request reader as the same tensors, asking every output as binary data", () => {
    const model = modelOf(TENSORS);
    const { head, parts } = encodeInfer(TENSORS);
    const json = JSON.parse(head.toString('utf8')) as { parameters: unknown; outputs?: unknown };
    expect(json.parameters).toEqual({ binary_data_output: true });
    expect(json.outputs).toBeUndefined();
    const binary = new BinaryData(Buffer.concat(parts), head.length);
    const request = parseInferRequest(json, model, 100, binary);
    expect(plain(request.inputs)).toEqual(plain(TENSORS));
    expect([...request.binaryOutputs!]).toEqual(TENSORS.map((t) => t.name));
  });

  it('names the outputs asked for, each then answered as binary data', () => {
    const model = modelOf(TENSORS);
    const { head, parts } = encodeInfer(TENSORS, ['f64', 'text']);
    const request = parseInferRequest(
      JSON.parse(head.toString('utf8')),
      model,
      100,
      new BinaryData(Buffer.concat(parts), head.length),
    );
    expect(request.outputNames).toEqual(['f64', 'text']);
    expect([...request.binaryOutputs!]).toEqual(['f64', 'text']);
  });

  it('carries BYTES inputs in the JSON (the request reader takes no binary BYTES) and the rest after it', () => {
    const { head, parts } = encodeInfer(TENSORS);
    const json = JSON.parse(head.toString('utf8')) as { inputs: { name: string; data?: unknown }[] };
    expect(json.inputs.find((i) => i.name === 'text')!.data).toEqual(['héllo', '']);
    expect(parts).toHaveLength(TENSORS.length - 1);
  });
});

describe('decodeInferAnswer', () => {
  it("reads a scorer's binary answer as the outputs it wrote", () => {
    const model = modelOf(TENSORS);
    const answer = inferResponse(model, { inputs: [], binaryOutputs: new Set(TENSORS.map((t) => t.name)) }, TENSORS);
    const head = Buffer.from(JSON.stringify(answer.json));
    const body = Buffer.concat([head, ...answer.binary]);
    expect(plain(decodeInferAnswer(body, String(head.length)))).toEqual(plain(TENSORS));
  });

  it('reads outputs answered in JSON "data" too, a missing float as NaN', () => {
    const model = modelOf(TENSORS);
    const answer = inferResponse(model, { inputs: [] }, TENSORS);
    const decoded = decodeInferAnswer(Buffer.from(JSON.stringify(answer.json)), undefined);
    // JSON has no NaN (the scorer writes null, read back as NaN) and no negative zero.
    const expected = plain(TENSORS).map((t) => ({ ...t, data: t.data.map((v) => (Object.is(v, -0) ? 0 : v)) }));
    expect(plain(decoded)).toEqual(expected);
  });

  it('reads binary data whatever its alignment in the body', () => {
    const tensors = [TENSORS[1]!];
    const answer = inferResponse(modelOf(tensors), { inputs: [], binaryOutputs: new Set(['f64']) }, tensors);
    const head = Buffer.from(`${JSON.stringify(answer.json)}   `);
    const decoded = decodeInferAnswer(Buffer.concat([head, ...answer.binary]), String(head.length));
    expect(plain(decoded)).toEqual(plain(tensors));
  });

  it.each([
    ['a head length beyond the body', '{"outputs":[]}', '99', /for a body of 14 bytes/],
    ['malformed JSON', '{"outputs":', undefined, /JSON is malformed/],
    ['no outputs', '{"error":"x"}', undefined, /no "outputs" array/],
    [
      'an unknown datatype',
      '{"outputs":[{"name":"y","datatype":"FP8","shape":[1],"data":[1]}]}',
      undefined,
      /datatype "FP8"/,
    ],
    ['too few values', '{"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1]}]}', undefined, /2 values/],
  ])('refuses an answer with %s', (_what, text, headerLength, message) => {
    expect(() => decodeInferAnswer(Buffer.from(text), headerLength)).toThrow(message);
  });

  it('refuses binary data that does not fit the shape, or bytes left over', () => {
    const head = (size: number) =>
      Buffer.from(
        JSON.stringify({
          outputs: [{ name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: size } }],
        }),
      );
    const h8 = head(8);
    expect(() => decodeInferAnswer(Buffer.concat([h8, Buffer.alloc(12)]), String(h8.length))).toThrow(/4 bytes follow/);
    const h4 = head(4);
    expect(() => decodeInferAnswer(Buffer.concat([h4, Buffer.alloc(4)]), String(h4.length))).toThrow(
      /4 bytes for 2 values of FP32/,
    );
    expect(() => decodeInferAnswer(h8, String(h8.length))).toThrow(/binary_data_size 8 with 0 bytes left/);
  });
});

describe('candidateTarget', () => {
  it("is the model's infer path on the candidate Service's host and port", () => {
    expect(candidateTarget('http://m-candidate.ns.svc:8080', 'my model')).toEqual({
      host: 'm-candidate.ns.svc',
      port: 8080,
      path: '/v2/models/my%20model/infer',
    });
    expect(candidateTarget('http://[::1]', 'm')).toEqual({ host: '::1', port: 80, path: '/v2/models/m/infer' });
  });

  it('refuses what is not an http:// URL', () => {
    expect(() => candidateTarget('https://m-candidate:8080', 'm')).toThrow(/not http:\/\/host:port/);
    expect(() => candidateTarget('m-candidate:8080x', 'm')).toThrow();
  });
});
