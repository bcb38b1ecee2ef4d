/**
 * The one interface every model format implements. The HTTP layer speaks only in these terms:
 * it turns a request into input tensors, calls `predict`, and turns output tensors back into JSON.
 */
import type { ModelFormat } from '../contract/formats.js';

/** Open Inference Protocol (KServe V2) tensor datatypes. */
export const DATATYPES = [
  'BOOL',
  'UINT8',
  'UINT16',
  'UINT32',
  'UINT64',
  'INT8',
  'INT16',
  'INT32',
  'INT64',
  'FP16',
  'FP32',
  'FP64',
  'BYTES',
] as const;
export type Datatype = (typeof DATATYPES)[number];

export interface TensorSpec {
  name: string;
  datatype: Datatype;
  /** -1 marks a dimension of any size (the batch dimension, usually). */
  shape: number[];
}

export type NumericArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** A row-major tensor. BOOL is carried as a Uint8Array of 0/1, BYTES as strings. */
export interface Tensor {
  name: string;
  datatype: Datatype;
  shape: number[];
  data: NumericArray | string[];
}

export interface Model {
  readonly name: string;
  readonly format: ModelFormat;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** The output `POST /score` returns as `score`. */
  readonly primaryOutput: string;
  /**
   * Inputs have already been checked against `inputs` (names, datatypes, ranks, fixed dimensions)
   * by the protocol layer. `outputNames` selects outputs; all outputs when absent. A model that computes on the
   * request's own thread (identity, the tree formats) answers at once, and throws what it cannot score; one that
   * waits (onnxruntime, a model thread, a forwarded request) answers with a promise. The HTTP layer answers a 1-row
   * request of the first kind without a promise.
   */
  predict(inputs: readonly Tensor[], outputNames?: readonly string[]): Tensor[] | Promise<Tensor[]>;
  dispose(): Promise<void>;
}

/** `model` with another predict (a wrapper that counts or routes what it predicts); the rest is the model's. */
export function withPredict(model: Model, predict: Model['predict']): Model {
  return {
    name: model.name,
    format: model.format,
    inputs: model.inputs,
    outputs: model.outputs,
    primaryOutput: model.primaryOutput,
    predict,
    dispose: () => model.dispose(),
  };
}

export interface ModelOptions {
  name: string;
  /** Output named by MODEL_OUTPUT; a format refuses a name its model does not have. */
  output?: string | undefined;
}

/** Builds a model from the bytes of its file. Throws an Error whose message says what is wrong with the file. */
export type ModelFactory = (bytes: Uint8Array, options: ModelOptions) => Promise<Model>;

/** Number of elements a shape holds. */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * The rows a batch of inputs holds: the first input's batch dimension. A tensor of lower rank than the model's input
 * (the identity model's flat row `{"X": [1, 2]}`, shape [2]) is one row, not one row per value.
 */
export function batchRows(specs: readonly TensorSpec[], inputs: readonly Tensor[]): number {
  const tensor = inputs[0];
  if (!tensor) return 0;
  // A loop, not `find`: no closure on every request.
  for (const spec of specs) {
    if (spec.name !== tensor.name) continue;
    return tensor.shape.length > 0 && tensor.shape.length === spec.shape.length ? tensor.shape[0]! : 1;
  }
  return 1;
}
