/**
 * The Open Inference Protocol (KServe V2) REST request and response bodies:
 * https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md
 */
import type { ModelFormat } from '../../contract/formats.js';
import { RequestError } from '../errors.js';
import { DATATYPES, elementCount, type Datatype, type Model, type Tensor } from '../model.js';
import { BinaryData, binaryTensor, bodyInputBytes, type InputBytes } from './binary-request.js';
import { tensorBytes } from './binary-response.js';
import { booleanParameter } from './parameters.js';
import {
  allocate,
  checkShape,
  checkValue,
  describe,
  FLOAT_DATATYPES,
  flatValues,
  INTEGER_DATATYPES,
  isFloat,
  storeAll,
} from './tensor.js';

export const MODEL_VERSION = '1';

/** The server's name and version in server metadata. */
export const SERVER_NAME = 'scoring-operator-scorer';
export const SERVER_VERSION = '0.1.0';

/**
 * The extensions `GET /v2` lists: the binary tensor data extension (binary-request.ts, binary-response.ts), by the
 * name Triton's document of it gives ("Triton reports “binary_tensor_data” in the extensions field of its Server
 * Metadata"); the protocol itself defines none.
 */
export const SERVER_EXTENSIONS = ['binary_tensor_data'];

/**
 * Each format's platform in model metadata. The protocol's names are "<project>_<format>" and it lists ONNX's,
 * `onnx_onnxv1` ("A ONNX model encoded for ONNX Runtime"), which is ours. It names no tree format, so theirs are the
 * project and the file format read: XGBoost's JSON model (as Triton's FIL backend names it, `xgboost_json`), LightGBM's
 * text model. The identity model is this scorer's own and reads no file.
 */
export const PLATFORMS: Record<ModelFormat, string> = {
  onnx: 'onnx_onnxv1',
  xgboost: 'xgboost_json',
  lightgbm: 'lightgbm_text',
  identity: 'scorer_identity',
};

/** 404 for a name other than the loaded model's, or a version other than MODEL_VERSION (the only one). */
export function checkModelNamed(model: Model | undefined, name: string, version: string | undefined): void {
  if (model && name !== model.name) throw new RequestError(404, `model "${name}" not found`);
  if (version !== undefined && version !== MODEL_VERSION) {
    throw new RequestError(404, `model "${name}" has no version "${version}" (versions: ${MODEL_VERSION})`);
  }
}

/** The served model, or an error: 404 for another name or version, 503 while loading. */
export function servedModel(model: Model | undefined, name: string | undefined, version?: string): Model {
  if (!model) throw new RequestError(503, 'the model is not loaded yet');
  if (name !== undefined) checkModelNamed(model, name, version);
  return model;
}

export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  outputNames?: string[];
  /** Outputs to answer as binary data (the binary tensor data extension), when any. */
  binaryOutputs?: Set<string>;
}

const DATATYPE_SET = new Set<string>(DATATYPES);
const MAX_RANK = 32;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates an infer request against the model and converts its inputs to tensors of the model's datatypes. `binary`
 * holds the bytes after the JSON request (the binary tensor data extension, see binary-layout.ts), or is where the
 * inputs given as bytes come from in another protocol (gRPC's raw_input_contents).
 */
export function parseInferRequest(
  body: unknown,
  model: Model,
  maxRows: number,
  binary?: BinaryData | InputBytes,
): InferRequest {
  const bytes = binary === undefined || binary instanceof BinaryData ? bodyInputBytes(binary) : binary;
  if (!isObject(body)) throw new RequestError(400, 'the request body must be a JSON object with "inputs"');
  const { id, inputs, outputs, parameters } = body;
  if (id !== undefined && typeof id !== 'string')
    throw new RequestError(400, `"id" is ${describe(id)}; expected a string`);
  if (!Array.isArray(inputs) || inputs.length === 0) {
    throw new RequestError(400, '"inputs" must be a non-empty array of {name, shape, datatype, data}');
  }

  const seen = new Set<string>();
  const tensors: Tensor[] = [];
  for (let k = 0; k < inputs.length; k++) {
    const input: unknown = inputs[k];
    if (!isObject(input)) throw new RequestError(400, `"inputs[${k}]" must be an object {name, shape, datatype, data}`);
    const { name, shape, datatype, data } = input;
    if (typeof name !== 'string') throw new RequestError(400, `"inputs[${k}].name" must be a string`);
    const spec = model.inputs.find((s) => s.name === name);
    if (!spec) {
      const names = model.inputs.map((s) => `"${s.name}"`).join(', ');
      throw new RequestError(400, `input "${name}" is not an input of model "${model.name}" (inputs: ${names})`);
    }
    if (seen.has(name)) throw new RequestError(400, `input "${name}" is given twice`);
    seen.add(name);
    if (typeof datatype !== 'string' || !DATATYPE_SET.has(datatype)) {
      throw new RequestError(
        400,
        `input "${name}": datatype ${JSON.stringify(datatype)} is not one of ${DATATYPES.join(', ')}`,
      );
    }
    const binarySize = bytes.size(input, k, name, datatype as Datatype);
    const accepted = ACCEPTED.get(spec.datatype)!;
    if (!accepted.includes(datatype as Datatype)) {
      throw new RequestError(
        400,
        `input "${name}": datatype ${datatype} cannot feed the model's ${spec.datatype} input ` +
          `(expected ${accepted.length > 1 ? `one of ${accepted.join(', ')}` : spec.datatype})`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RequestError(400, `input "${name}": "shape" must be an array of non-negative integers`);
    }
    const dims = shape as number[];
    // A rank no model takes is refused as such, before it is compared with the model's.
    if (dims.length > MAX_RANK) {
      throw new RequestError(400, `input "${name}": "shape" has ${dims.length} dimensions; at most ${MAX_RANK}`);
    }
    checkShape({ name, shape: dims }, spec);
    if (dims.length > 0 && dims[0]! > maxRows) {
      throw new RequestError(413, `input "${name}" has ${dims[0]} rows; the limit is ${maxRows} per request`);
    }
    if (binarySize !== undefined) {
      const declared = datatype as Exclude<Datatype, 'BYTES'>;
      const taken = bytes.take(k, name, declared, dims, binarySize);
      tensors.push(binaryTensor(name, declared, spec.datatype, dims, taken));
      continue;
    }
    if (!Array.isArray(data)) throw new RequestError(400, `input "${name}": "data" must be an array`);
    const flat = data.some(Array.isArray) ? flattenNested(data, name, dims) : data;
    const count = elementCount(dims);
    if (flat.length !== count) {
      throw new RequestError(
        400,
        `input "${name}": shape [${dims.join(', ')}] holds ${count} values but "data" has ${flat.length}`,
      );
    }
    tensors.push(toTensor(name, datatype as Datatype, spec.datatype, dims, flat));
  }
  bytes.finish();
  for (const spec of model.inputs) {
    if (!seen.has(spec.name)) throw new RequestError(400, `input "${spec.name}" is missing`);
  }

  let outputNames: string[] | undefined;
  if (outputs !== undefined && !Array.isArray(outputs)) {
    throw new RequestError(400, '"outputs" must be an array of {name}');
  }
  const binaryDefault = booleanParameter(parameters, 'binary_data_output', '') ?? false;
  const binaryOutputs = new Set<string>();
  // An empty list names no output in particular: every output, as when "outputs" is absent.
  if (outputs !== undefined && outputs.length > 0) {
    outputNames = outputs.map((o: unknown, k) => {
      if (!isObject(o) || typeof o.name !== 'string')
        throw new RequestError(400, `"outputs[${k}].name" must be a string`);
      if (!model.outputs.some((s) => s.name === o.name)) {
        const names = model.outputs.map((s) => `"${s.name}"`).join(', ');
        throw new RequestError(400, `output "${o.name}" is not an output of model "${model.name}" (outputs: ${names})`);
      }
      if (booleanParameter(o.parameters, 'binary_data', `output "${o.name}": `) ?? binaryDefault) {
        binaryOutputs.add(o.name);
      }
      return o.name;
    });
  } else if (binaryDefault) {
    for (const o of model.outputs) binaryOutputs.add(o.name);
  }
  return {
    ...(id !== undefined && { id }),
    inputs: tensors,
    ...(outputNames && { outputNames }),
    ...(binaryOutputs.size > 0 && { binaryOutputs }),
  };
}

/**
 * The datatypes a request may declare for a model input of `wanted`: the same one, any integer or float for a float
 * input, any integer for an integer one (values are checked against both datatypes' ranges). BOOL and BYTES feed only
 * their own kind: a number is not a boolean, a string not a number.
 */
function acceptedDatatypes(wanted: Datatype): Datatype[] {
  if (isFloat(wanted)) return [wanted, ...FLOAT_DATATYPES.filter((d) => d !== wanted), ...INTEGER_DATATYPES];
  if (INTEGER_DATATYPES.includes(wanted)) return [wanted, ...INTEGER_DATATYPES.filter((d) => d !== wanted)];
  return [wanted];
}

/** Worked out once per datatype, not per input of every request. */
const ACCEPTED = new Map(DATATYPES.map((d) => [d, acceptedDatatypes(d)]));

/**
 * Flattens row-major nested data that must follow `shape` exactly: at each depth an array of that dimension's size,
 * values only at the last. A ragged row, or rows run together, is an error rather than a silent reshape.
 */
function flattenNested(data: unknown[], name: string, shape: number[]): unknown[] {
  const out: unknown[] = [];
  const path: number[] = [];
  const fail = (problem: string) => {
    const where = path.length === 0 ? '"data"' : `data${path.map((i) => `[${i}]`).join('')}`;
    return new RequestError(400, `input "${name}": ${where} ${problem}`);
  };
  const walk = (v: unknown, depth: number): void => {
    if (depth === shape.length) {
      if (Array.isArray(v)) throw fail(`is an array; shape [${shape.join(', ')}] nests ${shape.length} deep`);
      out.push(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      const what = !Array.isArray(v) ? `is ${describe(v)}` : `has ${v.length} element${v.length === 1 ? '' : 's'}`;
      throw fail(
        `${what}; shape [${shape.join(', ')}] expects an array of ${shape[depth]} there ` +
          '(nested data must follow the shape; flat data must hold all its values)',
      );
    }
    path.push(0);
    for (let i = 0; i < v.length; i++) {
      path[depth] = i;
      walk(v[i], depth + 1);
    }
    path.pop();
  };
  walk(data, 0);
  return out;
}

function toTensor(name: string, declared: Datatype, datatype: Datatype, shape: number[], flat: unknown[]): Tensor {
  if (datatype === 'BYTES') {
    const strings = flat.map((v, i) => {
      if (typeof v !== 'string')
        throw new RequestError(400, `input "${name}": data[${i}] is ${describe(v)}; expected a string`);
      return v;
    });
    return { name, datatype, shape, data: strings };
  }
  const data = allocate(datatype, flat.length);
  const where = (i: number) => `input "${name}": data[${i}]`;
  // Values must be the declared datatype's (INT8 data holds integers in INT8's range) and fit the model's.
  if (declared !== datatype) for (let i = 0; i < flat.length; i++) checkValue(flat[i], declared, () => where(i));
  storeAll(data, 0, flat, datatype, where);
  return { name, datatype, shape, data };
}

export interface InferResponse {
  /** The JSON response. */
  json: object;
  /** The bytes of the outputs answered as binary data, in output order, to follow the JSON. */
  binary: Buffer[];
}

export function inferResponse(model: Model, request: InferRequest, outputs: readonly Tensor[]): InferResponse {
  const binary: Buffer[] = [];
  const json = {
    model_name: model.name,
    model_version: MODEL_VERSION,
    ...(request.id !== undefined && { id: request.id }),
    outputs: outputs.map((t) => {
      const head = { name: t.name, datatype: t.datatype, shape: t.shape };
      if (!request.binaryOutputs?.has(t.name)) return { ...head, data: flatValues(t) };
      const bytes = tensorBytes(t);
      binary.push(bytes);
      return { ...head, parameters: { binary_data_size: bytes.length } };
    }),
  };
  return { json, binary };
}

export function modelMetadata(model: Model) {
  return {
    name: model.name,
    versions: [MODEL_VERSION],
    platform: PLATFORMS[model.format],
    inputs: model.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    outputs: model.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
  };
}
