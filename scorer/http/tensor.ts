/**
 * Conversions between JSON values and tensors, with the validation both protocols share.
 * Every failure is a RequestError naming the offending element and what was expected.
 */
import { RequestError } from '../errors.js';
import { elementCount, type Datatype, type NumericArray, type Tensor, type TensorSpec } from '../model.js';

/** Largest finite magnitude of each float datatype. */
const FLOAT_MAX: Partial<Record<Datatype, number>> = {
  FP16: 65504,
  FP32: 3.4028234663852886e38,
  FP64: Number.MAX_VALUE,
};

export function isFloat(datatype: Datatype): boolean {
  return FLOAT_MAX[datatype] !== undefined;
}

const INT_RANGE: Partial<Record<Datatype, [number, number]>> = {
  INT8: [-128, 127],
  INT16: [-32768, 32767],
  INT32: [-2147483648, 2147483647],
  INT64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  UINT8: [0, 255],
  UINT16: [0, 65535],
  UINT32: [0, 4294967295],
  UINT64: [0, Number.MAX_SAFE_INTEGER],
  BOOL: [0, 1],
};

export const FLOAT_DATATYPES = Object.keys(FLOAT_MAX) as Datatype[];
/** The integer datatypes (BOOL, carried as 0/1, is not one). */
export const INTEGER_DATATYPES: Datatype[] = (Object.keys(INT_RANGE) as Datatype[]).filter((d) => d !== 'BOOL');

/** Allocates a typed array for `datatype` (FP16 is carried as float32 values). */
export function allocate(datatype: Datatype, length: number): NumericArray {
  switch (datatype) {
    case 'FP16':
    case 'FP32':
      return new Float32Array(length);
    case 'FP64':
      return new Float64Array(length);
    case 'INT8':
      return new Int8Array(length);
    case 'INT16':
      return new Int16Array(length);
    case 'INT32':
      return new Int32Array(length);
    case 'INT64':
      return new BigInt64Array(length);
    case 'UINT8':
    case 'BOOL':
      return new Uint8Array(length);
    case 'UINT16':
      return new Uint16Array(length);
    case 'UINT32':
      return new Uint32Array(length);
    case 'UINT64':
      return new BigUint64Array(length);
    case 'BYTES':
      throw new RequestError(400, 'BYTES tensors are not numeric');
  }
}

/**
 * Writes one JSON value into `out[index]` as `datatype`, once checkValue has accepted it. `where` names the element
 * for messages (e.g. `X[3][1]`); it is only called when the value is bad, so building it costs nothing on the hot path.
 */
export function store(out: NumericArray, index: number, value: unknown, datatype: Datatype, where: () => string): void {
  checkValue(value, datatype, where);
  if (value === null) out[index] = NaN;
  else if (typeof value === 'boolean') out[index] = value ? 1 : 0;
  else if (out instanceof BigInt64Array || out instanceof BigUint64Array) out[index] = BigInt(value as number);
  else out[index] = value as number;
}

/**
 * Writes JSON values into `out` from index `at`, as store does: numbers a float datatype holds go straight in,
 * anything else through store, whose message names the element by `where(k)` (k: its index in `values`).
 */
export function storeAll(
  out: NumericArray,
  at: number,
  values: readonly unknown[],
  datatype: Datatype,
  where: (k: number) => string,
): void {
  const max = FLOAT_MAX[datatype];
  const floats = max !== undefined && (out instanceof Float32Array || out instanceof Float64Array);
  for (let k = 0; k < values.length; k++) {
    const value = values[k];
    if (floats && typeof value === 'number' && Math.abs(value) <= max) out[at + k] = value;
    else store(out, at + k, value, datatype, () => where(k));
  }
}

/**
 * Checks that a JSON value is one of `datatype`'s values: a number within a float's range (beyond it, a typed array
 * would hold Infinity, not the value sent) or null for a missing one; an integer within an integer's range; a boolean
 * or 0/1 for BOOL.
 */
export function checkValue(value: unknown, datatype: Datatype, where: () => string): void {
  const max = FLOAT_MAX[datatype];
  if (typeof value === 'number') {
    if (max !== undefined) {
      if (Math.abs(value) <= max) return;
    } else {
      const [low, high] = INT_RANGE[datatype]!;
      if (Number.isInteger(value) && value >= low && value <= high) return;
    }
  } else if (value === null ? max !== undefined : typeof value === 'boolean' && datatype === 'BOOL') {
    return;
  }
  const shown = typeof value === 'number' ? String(value) : describe(value);
  throw new RequestError(400, `${where()} is ${shown}; expected ${expectedValue(datatype)}`);
}

function expectedValue(datatype: Datatype): string {
  if (datatype === 'BOOL') return 'a boolean (true, false, 1 or 0)';
  const max = FLOAT_MAX[datatype];
  if (max !== undefined) {
    const range = datatype === 'FP64' ? '' : ` within ${datatype}'s range (±${Number(max.toPrecision(8))})`;
    return `a number${range} (or null for a missing value)`;
  }
  const [low, high] = INT_RANGE[datatype]!;
  return `an integer in ${datatype}'s range [${low}, ${high}]`;
}

export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `a string (${JSON.stringify(value.length > 20 ? value.slice(0, 20) + '…' : value)})`;
  return `${typeof value === 'object' ? 'an object' : typeof value}`;
}

/** Checks a tensor's shape against the model's spec: same rank, fixed dimensions equal. */
export function checkShape(tensor: Pick<Tensor, 'name' | 'shape'>, spec: TensorSpec): void {
  if (tensor.shape.length !== spec.shape.length) throw shapeRefused(tensor, spec, '-1: any size');
  for (let i = 0; i < spec.shape.length; i++) {
    const want = spec.shape[i]!;
    if (want >= 0 && tensor.shape[i] !== want) throw shapeRefused(tensor, spec, `dimension ${i} must be ${want}`);
  }
}

/** checkShape's refusal, built apart: this runs on every request, and a closure for it would too. */
function shapeRefused(tensor: Pick<Tensor, 'shape'>, spec: TensorSpec, why: string): RequestError {
  const expected = `[${spec.shape.map((d) => (d < 0 ? '-1' : String(d))).join(', ')}]`;
  return new RequestError(
    400,
    `input "${spec.name}" has shape [${tensor.shape.join(', ')}]; the model expects ${expected} (${why})`,
  );
}

/** Tensor data as JSON-ready values, flat (row-major). */
export function flatValues(tensor: Tensor): (number | string | boolean | null)[] {
  const data = tensor.data;
  const out = new Array<number | string | boolean | null>(data.length);
  if (tensor.datatype === 'BOOL') {
    for (let i = 0; i < data.length; i++) out[i] = data[i] !== 0;
  } else if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let i = 0; i < data.length; i++) out[i] = Number(data[i]);
  } else {
    for (let i = 0; i < data.length; i++) out[i] = toJsonNumber(data[i] as number | string);
  }
  return out;
}

function toJsonNumber(v: number | string): number | string | null {
  return typeof v === 'number' && !Number.isFinite(v) ? null : v;
}

/** Tensor data nested by its shape: [N] -> list, [N, K] -> list of rows, and so on. */
export function nestedValues(tensor: Tensor): unknown[] {
  const flat = flatValues(tensor);
  const shape = tensor.shape.length === 0 ? [flat.length] : tensor.shape;
  if (shape.length === 1) return flat;
  let offset = 0;
  const build = (dim: number): unknown[] => {
    const size = shape[dim]!;
    const out = new Array<unknown>(size);
    if (dim === shape.length - 1) {
      for (let i = 0; i < size; i++) out[i] = flat[offset++];
    } else {
      for (let i = 0; i < size; i++) out[i] = build(dim + 1);
    }
    return out;
  };
  if (elementCount(shape) !== flat.length) return flat;
  return build(0);
}
