/**
 * The binary tensor data extension for infer requests (Triton's `binary_tensor_data`, which KServe also speaks):
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 * With `Inference-Header-Content-Length: N`, the body's first N bytes are the JSON request; each input carrying
 * `"parameters": {"binary_data_size": B}` has no "data" and takes the next B bytes, in the order the inputs are listed,
 * as raw little-endian values of its datatype. It spares fast models the JSON parse, which costs them as much as the
 * prediction. Outputs come back the same way when asked for (`"parameters": {"binary_data_output": true}` on the request,
 * or `{"binary_data": true}` on an output): the response's first N bytes are its JSON, each such output has
 * `"parameters": {"binary_data_size": B}` instead of "data", and its bytes follow in output order.
 */
import type { IncomingMessage } from 'node:http';
import { endianness } from 'node:os';
import { RequestError } from '../errors.js';
import { elementCount, type Datatype, type NumericArray, type Tensor } from '../model.js';
import { parseJson, readBody, readJson } from './body.js';
import { allocate, describe, isFloat, store } from './tensor.js';

export const HEADER_LENGTH = 'inference-header-content-length';

export interface InferBody {
  json: unknown;
  /** The bytes after the JSON request, when the request says where the JSON ends. */
  binary?: BinaryData;
}

/** Reads an infer request: all JSON, or a JSON request followed by binary tensor data. */
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
  const json = parseJson(body.subarray(0, n), ` in the first ${n} bytes (Inference-Header-Content-Length)`);
  return { json, binary: new BinaryData(body.subarray(n), n) };
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

const ELEMENT_SIZE: Record<Exclude<Datatype, 'BYTES'>, number> = {
  BOOL: 1,
  UINT8: 1,
  INT8: 1,
  UINT16: 2,
  INT16: 2,
  FP16: 2,
  UINT32: 4,
  INT32: 4,
  FP32: 4,
  UINT64: 8,
  INT64: 8,
  FP64: 8,
};

/**
 * The input's `binary_data_size`, or undefined when it has none. Checked before the datatype's compatibility with
 * the model, so that BYTES is refused for what it is here.
 */
export function binaryDataSize(input: Record<string, unknown>, name: string, datatype: Datatype): number | undefined {
  const { parameters, data } = input;
  if (parameters === undefined) return undefined;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new RequestError(400, `input "${name}": "parameters" is ${describe(parameters)}; expected an object`);
  }
  const size = (parameters as Record<string, unknown>).binary_data_size;
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
  if (data !== undefined) {
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
  declared: Exclude<Datatype, 'BYTES'>,
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

const LITTLE_ENDIAN = endianness() === 'LE';

type ArrayOf = new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericArray;

/** Datatypes carried as the typed array their bytes already are (FP16 is carried as float32, BOOL is checked). */
const VIEWS: Partial<Record<Datatype, ArrayOf>> = {
  UINT8: Uint8Array,
  INT8: Int8Array,
  UINT16: Uint16Array,
  INT16: Int16Array,
  UINT32: Uint32Array,
  INT32: Int32Array,
  FP32: Float32Array,
  UINT64: BigUint64Array,
  INT64: BigInt64Array,
  FP64: Float64Array,
};

const READ: Record<Exclude<Datatype, 'BYTES'>, (view: DataView, at: number) => number> = {
  BOOL: (v, at) => v.getUint8(at),
  UINT8: (v, at) => v.getUint8(at),
  INT8: (v, at) => v.getInt8(at),
  UINT16: (v, at) => v.getUint16(at, true),
  INT16: (v, at) => v.getInt16(at, true),
  FP16: (v, at) => halfToNumber(v.getUint16(at, true)),
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
  declared: Exclude<Datatype, 'BYTES'>,
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

/** IEEE 754 half precision. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * A request's or an output's boolean parameter (`binary_data_output`, `binary_data`): undefined when absent. `where`
 * names the object the parameters belong to, as the request's JSON spells it.
 */
export function booleanParameter(parameters: unknown, key: string, where: string): boolean | undefined {
  if (parameters === undefined) return undefined;
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new RequestError(400, `${where}"parameters" is ${describe(parameters)}; expected an object`);
  }
  const value = (parameters as Record<string, unknown>)[key];
  if (value === undefined || typeof value === 'boolean') return value;
  throw new RequestError(400, `${where}"parameters.${key}" is ${describe(value)}; expected true or false`);
}

/**
 * An output's values as the binary tensor data extension lays them out: raw little-endian values of its datatype
 * (BOOL one byte, FP16 two), BYTES as each string's UTF-8 length in 4 little-endian bytes followed by the string.
 */
export function tensorBytes(tensor: Tensor): Buffer {
  const { data, datatype } = tensor;
  if (Array.isArray(data)) {
    const strings = data.map((s) => Buffer.from(s, 'utf8'));
    const out = Buffer.allocUnsafe(strings.reduce((n, b) => n + 4 + b.length, 0));
    let at = 0;
    for (const b of strings) {
      out.writeUInt32LE(b.length, at);
      out.set(b, at + 4);
      at += 4 + b.length;
    }
    return out;
  }
  if (datatype === 'FP16') {
    const out = Buffer.allocUnsafe(data.length * 2);
    for (let i = 0; i < data.length; i++) out.writeUInt16LE(numberToHalf(data[i] as number), i * 2);
    return out;
  }
  const View = VIEWS[datatype];
  if (LITTLE_ENDIAN && (View ? data instanceof View : datatype === 'BOOL')) {
    return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  }
  // A big-endian host, or an array of another type than the datatype's own.
  const width = ELEMENT_SIZE[datatype as Exclude<Datatype, 'BYTES'>];
  const out = Buffer.allocUnsafe(data.length * width);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const write = WRITE[datatype as Exclude<Datatype, 'BYTES' | 'FP16'>];
  for (let i = 0; i < data.length; i++) write(view, i * width, data[i]!);
  return out;
}

const WRITE: Record<Exclude<Datatype, 'BYTES' | 'FP16'>, (view: DataView, at: number, v: number | bigint) => void> = {
  BOOL: (d, at, v) => d.setUint8(at, v ? 1 : 0),
  UINT8: (d, at, v) => d.setUint8(at, Number(v)),
  INT8: (d, at, v) => d.setInt8(at, Number(v)),
  UINT16: (d, at, v) => d.setUint16(at, Number(v), true),
  INT16: (d, at, v) => d.setInt16(at, Number(v), true),
  UINT32: (d, at, v) => d.setUint32(at, Number(v), true),
  INT32: (d, at, v) => d.setInt32(at, Number(v), true),
  FP32: (d, at, v) => d.setFloat32(at, Number(v), true),
  UINT64: (d, at, v) => d.setBigUint64(at, BigInt(v), true),
  INT64: (d, at, v) => d.setBigInt64(at, BigInt(v), true),
  FP64: (d, at, v) => d.setFloat64(at, Number(v), true),
};

const FLOAT_BITS = new Float32Array(1);
const FLOAT_WORD = new Uint32Array(FLOAT_BITS.buffer);

/** IEEE 754 half precision, rounded to nearest even (the inverse of halfToNumber). */
function numberToHalf(value: number): number {
  FLOAT_BITS[0] = value;
  const x = FLOAT_WORD[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  let e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | (e >= 0x1f ? 0x7c00 : half);
}
