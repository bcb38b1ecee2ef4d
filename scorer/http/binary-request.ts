/**
 * Reading an infer request that carries binary tensor data (the layout: binary-layout.ts): the JSON request at the
 * body's start, then each binary input's bytes, checked against its shape and datatype and turned into a tensor; or
 * a raw binary request, the body one input's bytes and no JSON at all.
 */
import type { IncomingMessage } from 'node:http';
import { RequestError } from '../errors.js';
import { elementCount, type Datatype, type Model, type Tensor } from '../model.js';
import { ELEMENT_SIZE, HEADER_LENGTH, LITTLE_ENDIAN, VIEWS, type FixedDatatype } from './binary-layout.js';
import { parseJson, readBody, readJson } from './body.js';
import { parametersObject } from './parameters.js';
import { allocate, describe, isFloat, store } from './tensor.js';
import type { InferRequest } from './v2.js';

export type InferBody =
  | {
      json: unknown;
      /** The bytes after the JSON request, when the request says where the JSON ends. */
      binary?: BinaryData;
    }
  /** A raw binary request (Inference-Header-Content-Length: 0): the whole body is the one input's bytes. */
  | { raw: Buffer };

/**
 * Reads an infer request: all JSON, a JSON request followed by binary tensor data, or (with a JSON request of length
 * 0) a raw binary request.
 */
export async function readInferBody(req: IncomingMessage, limit: number): Promise<InferBody> {
  const header = req.headers[HEADER_LENGTH];
  if (header === undefined) return { json: await readJson(req, limit) };
  const body = await readBody(req, limit);
  const text = String(header);
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n)) {
    throw new RequestError(
      400,
      `Inference-Header-Content-Length is ${JSON.stringify(text)}; expected a non-negative integer ` +
        '(the byte length of the JSON request at the start of the body)',
    );
  }
  if (n > body.length) {
    throw new RequestError(
      400,
      `Inference-Header-Content-Length is ${n} but the body has ${body.length} bytes; expected at most the body's length`,
    );
  }
  if (n === 0) return { raw: body };
  const json = parseJson(body.subarray(0, n), ` in the first ${n} bytes (Inference-Header-Content-Length)`);
  return { json, binary: new BinaryData(body.subarray(n), n) };
}

const RAW = "a raw binary request (Inference-Header-Content-Length: 0, the body one input's bytes)";

/**
 * The infer request a raw binary body stands for, as Triton's binary tensor data extension defines it: the model
 * must have one input; its datatype is the input's; its shape is the input's, with the batch dimension (a leading
 * -1 of a shape of rank 2 or more) 1, "treated as batch-1 request because the inference header is omitted", and at
 * most one other dimension of any size, whose size the body's length gives. Every output is answered as binary data,
 * as the extension asks.
 */
export function rawInferRequest(bytes: Buffer, model: Model, maxRows: number): InferRequest {
  if (model.inputs.length !== 1) {
    const names = model.inputs.map((s) => `"${s.name}"`).join(', ');
    throw new RequestError(
      400,
      `model "${model.name}" has ${model.inputs.length} inputs (${names}); ${RAW} is for a model of one input: ` +
        'send a JSON request naming each input',
    );
  }
  const spec = model.inputs[0]!;
  const { name } = spec;
  if (spec.datatype === 'BYTES') {
    throw new RequestError(
      400,
      `input "${name}" is BYTES, which cannot be sent as binary data here; expected its strings in a JSON request`,
    );
  }
  const datatype = spec.datatype;
  const batched = spec.shape.length > 1 && spec.shape[0]! < 0;
  const shape = spec.shape.map((d, i) => (i === 0 && batched ? 1 : d));
  const open = shape.flatMap((d, i) => (d < 0 ? [i] : []));
  const input = `input "${name}" (shape [${spec.shape.join(', ')}], ${datatype})`;
  if (open.length > 1) {
    throw new RequestError(
      400,
      `${RAW} cannot fill ${input}: ${batched ? 'besides the batch dimension, ' : ''}${open.length} of its ` +
        "dimensions are of any size and the body's length gives one; expected a JSON request with the shape",
    );
  }
  const width = ELEMENT_SIZE[datatype];
  const fixed = shape.reduce((n, d) => (d < 0 ? n : n * d), 1) * width;
  if (bytes.length === 0 || bytes.length % fixed !== 0 || (open.length === 0 && bytes.length !== fixed)) {
    const tensor = `[${shape.join(', ')}]${batched ? ' (batch 1)' : ''}`;
    const takes =
      open.length === 0
        ? `${fixed} bytes`
        : `a non-zero multiple of ${fixed} bytes, dimension ${open[0]} being the body's length over ${fixed}`;
    throw new RequestError(
      400,
      `${RAW} for ${input} holds one ${tensor} tensor: ${takes}; the body has ${bytes.length}`,
    );
  }
  if (open.length === 1) shape[open[0]!] = bytes.length / fixed;
  // Without a batch dimension to be 1 (an input of shape [-1]), the body's length sets the rows: bounded as ever.
  if (shape.length > 0 && shape[0]! > maxRows) {
    throw new RequestError(413, `input "${name}" has ${shape[0]} rows; the limit is ${maxRows} per request`);
  }
  return {
    inputs: [binaryTensor(name, datatype, datatype, shape, bytes)],
    binaryOutputs: new Set(model.outputs.map((o) => o.name)),
  };
}

/**
 * Where the inputs a request gives as bytes, rather than as values, come from: the binary part of a REST body, or
 * gRPC's raw_input_contents. parseInferRequest asks it for each input in order.
 */
export interface InputBytes {
  /**
   * The byte length of the `k`th input's bytes, or undefined when its values are in the request. Asked before the
   * datatype is checked against the model's, so that a datatype that cannot come as bytes is refused for that.
   */
  size(input: Record<string, unknown>, k: number, name: string, datatype: Datatype): number | undefined;
  /** The `k`th input's bytes, once `size` is checked against its shape and declared datatype. */
  take(k: number, name: string, declared: FixedDatatype, shape: number[], size: number): Buffer;
  /** Called after the last input: refuses bytes no input took. */
  finish(): void;
}

/** The inputs' bytes in a REST body: each input's `binary_data_size` bytes after the JSON request, in input order. */
export function bodyInputBytes(binary: BinaryData | undefined): InputBytes {
  return {
    size: (input, _k, name, datatype) => binaryDataSize(input, name, datatype),
    take: (_k, name, declared, shape, size) => takeBinary(binary, name, declared, shape, size),
    finish: () => binary?.finish(),
  };
}

/** The binary part of a request, handed out input by input. */
export class BinaryData {
  private readonly bytes: Buffer;
  private readonly headerLength: number;
  private offset = 0;

  constructor(bytes: Buffer, headerLength: number) {
    this.bytes = bytes;
    this.headerLength = headerLength;
  }

  take(name: string, size: number): Buffer {
    const left = this.bytes.length - this.offset;
    if (size > left) {
      throw new RequestError(
        400,
        `input "${name}": "binary_data_size" is ${size} but only ${left} bytes of binary data are left after ` +
          `the JSON request and the inputs before it; expected the body to hold every input's bytes`,
      );
    }
    const taken = this.bytes.subarray(this.offset, this.offset + size);
    this.offset += size;
    return taken;
  }

  /** Every byte after the JSON request must belong to an input. */
  finish(): void {
    if (this.offset === this.bytes.length) return;
    throw new RequestError(
      400,
      `the inputs' "binary_data_size" add up to ${this.offset} bytes but ${this.bytes.length} follow the JSON request ` +
        `(Inference-Header-Content-Length: ${this.headerLength}); expected them to be equal`,
    );
  }
}

/**
 * The input's `binary_data_size`, or undefined when it has none. Checked before the datatype's compatibility with
 * the model, so that BYTES is refused for what it is here.
 */
export function binaryDataSize(input: Record<string, unknown>, name: string, datatype: Datatype): number | undefined {
  const size = parametersObject(input.parameters, `input "${name}": `)?.binary_data_size;
  if (size === undefined) return undefined;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new RequestError(
      400,
      `input "${name}": "binary_data_size" is ${typeof size === 'number' ? size : describe(size)}; ` +
        'expected a non-negative integer (the byte length of its data after the JSON request)',
    );
  }
  if (datatype === 'BYTES') {
    throw new RequestError(
      400,
      `input "${name}": BYTES inputs cannot be sent as binary data here; expected their strings in "data"`,
    );
  }
  if (input.data !== undefined) {
    throw new RequestError(
      400,
      `input "${name}" has both "data" and "binary_data_size"; expected one of them ` +
        '("data" in the JSON, or binary_data_size bytes after it)',
    );
  }
  return size;
}

/** Takes the input's bytes from the binary data, once its size matches its shape and declared datatype. */
export function takeBinary(
  binary: BinaryData | undefined,
  name: string,
  declared: FixedDatatype,
  shape: number[],
  size: number,
): Buffer {
  const count = elementCount(shape);
  const width = ELEMENT_SIZE[declared];
  if (size !== count * width) {
    throw new RequestError(
      400,
      `input "${name}": "binary_data_size" is ${size}; shape [${shape.join(', ')}] of ${declared} takes ` +
        `${count * width} bytes (${count} values of ${width} byte${width === 1 ? '' : 's'})`,
    );
  }
  if (!binary) {
    throw new RequestError(
      400,
      `input "${name}" has "binary_data_size" but the request has no Inference-Header-Content-Length header; ` +
        'expected it to give the byte length of the JSON request, with the binary data after it',
    );
  }
  return binary.take(name, size);
}

const READ: Record<FixedDatatype, (view: DataView, at: number) => number> = {
  BOOL: (v, at) => v.getUint8(at),
  UINT8: (v, at) => v.getUint8(at),
  INT8: (v, at) => v.getInt8(at),
  UINT16: (v, at) => v.getUint16(at, true),
  INT16: (v, at) => v.getInt16(at, true),
  FP16: (v, at) => v.getFloat16(at, true),
  UINT32: (v, at) => v.getUint32(at, true),
  INT32: (v, at) => v.getInt32(at, true),
  FP32: (v, at) => v.getFloat32(at, true),
  UINT64: (v, at) => Number(v.getBigUint64(at, true)),
  INT64: (v, at) => Number(v.getBigInt64(at, true)),
  FP64: (v, at) => v.getFloat64(at, true),
};

/**
 * A tensor of the model's `datatype` from raw values of the `declared` one. Of the same datatype, it is a view of the
 * request's bytes (copied first when they are not aligned to the element size, as typed arrays require); otherwise
 * each value is read and checked against the model's datatype as JSON values are (NaN is a missing float).
 */
export function binaryTensor(
  name: string,
  declared: FixedDatatype,
  datatype: Datatype,
  shape: number[],
  bytes: Buffer,
): Tensor {
  const width = ELEMENT_SIZE[declared];
  const count = bytes.length / width;
  const View = VIEWS[datatype];
  if (declared === datatype && View && LITTLE_ENDIAN) {
    if (bytes.byteOffset % width === 0)
      return { name, datatype, shape, data: new View(bytes.buffer, bytes.byteOffset, count) };
    const copy = new Uint8Array(bytes.length);
    copy.set(bytes);
    return { name, datatype, shape, data: new View(copy.buffer, 0, count) };
  }
  const data = allocate(datatype, count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const read = READ[declared];
  const float = isFloat(datatype);
  for (let i = 0; i < count; i++) {
    const value = read(view, i * width);
    store(data, i, float && Number.isNaN(value) ? null : value, datatype, () => `input "${name}": binary value ${i}`);
  }
  return { name, datatype, shape, data };
}
