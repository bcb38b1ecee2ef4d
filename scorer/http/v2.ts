/**
 * The Open Inference Protocol (KServe V2) REST request and response bodies:
 * https://github.com/kserve/open-inference-protocol/blob/main/specification/protocol/inference_rest.md
 */
import { RequestError } from '../errors.js';
import { DATATYPES, elementCount, type Datatype, type Model, type Tensor } from '../model.js';
import { allocate, checkShape, describe, flatValues, store } from './tensor.js';

export const MODEL_VERSION = '1';

export interface InferRequest {
  id?: string;
  inputs: Tensor[];
  outputNames?: string[];
}

const DATATYPE_SET = new Set<string>(DATATYPES);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates an infer request against the model and converts its inputs to tensors of the model's datatypes. */
export function parseInferRequest(body: unknown, model: Model, maxRows: number): InferRequest {
  if (!isObject(body)) throw new RequestError(400, 'the request body must be a JSON object with "inputs"');
  const { id, inputs, outputs } = body;
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
    if (!compatible(datatype as Datatype, spec.datatype)) {
      throw new RequestError(
        400,
        `input "${name}": datatype ${datatype} cannot feed the model's ${spec.datatype} input`,
      );
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new RequestError(400, `input "${name}": "shape" must be an array of non-negative integers`);
    }
    const dims = shape as number[];
    if (model.format !== 'identity') checkShape({ name, shape: dims }, spec);
    if (dims.length > 0 && dims[0]! > maxRows) {
      throw new RequestError(413, `input "${name}" has ${dims[0]} rows; the limit is ${maxRows} per request`);
    }
    if (!Array.isArray(data)) throw new RequestError(400, `input "${name}": "data" must be an array`);
    const count = elementCount(dims);
    const flat = flatten(data, name, count);
    if (flat.length !== count) {
      throw new RequestError(
        400,
        `input "${name}": shape [${dims.join(', ')}] holds ${count} values but "data" has ${flat.length}`,
      );
    }
    tensors.push(toTensor(name, spec.datatype, dims, flat));
  }
  for (const spec of model.inputs) {
    if (!seen.has(spec.name)) throw new RequestError(400, `input "${spec.name}" is missing`);
  }

  let outputNames: string[] | undefined;
  if (outputs !== undefined) {
    if (!Array.isArray(outputs)) throw new RequestError(400, '"outputs" must be an array of {name}');
    outputNames = outputs.map((o: unknown, k) => {
      if (!isObject(o) || typeof o.name !== 'string')
        throw new RequestError(400, `"outputs[${k}].name" must be a string`);
      if (!model.outputs.some((s) => s.name === o.name)) {
        const names = model.outputs.map((s) => `"${s.name}"`).join(', ');
        throw new RequestError(400, `output "${o.name}" is not an output of model "${model.name}" (outputs: ${names})`);
      }
      return o.name;
    });
  }
  return { ...(id !== undefined && { id }), inputs: tensors, ...(outputNames && { outputNames }) };
}

/** Numbers convert between numeric datatypes (values are range-checked); BYTES only feeds BYTES. */
function compatible(given: Datatype, wanted: Datatype): boolean {
  return (given === 'BYTES') === (wanted === 'BYTES');
}

/** Flattens row-major nested data, refusing more values than the shape holds before doing the work. */
function flatten(data: unknown[], name: string, limit: number): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown[], depth: number): void => {
    if (depth > 32) throw new RequestError(400, `input "${name}": "data" is nested too deeply`);
    for (const x of v) {
      if (Array.isArray(x)) walk(x, depth + 1);
      else if (out.push(x) > limit)
        throw new RequestError(400, `input "${name}": "data" has more values than its shape holds (${limit})`);
    }
  };
  walk(data, 0);
  return out;
}

function toTensor(name: string, datatype: Datatype, shape: number[], flat: unknown[]): Tensor {
  if (datatype === 'BYTES') {
    const strings = flat.map((v, i) => {
      if (typeof v !== 'string')
        throw new RequestError(400, `input "${name}": data[${i}] is ${describe(v)}; expected a string`);
      return v;
    });
    return { name, datatype, shape, data: strings };
  }
  const data = allocate(datatype, flat.length);
  for (let i = 0; i < flat.length; i++) store(data, i, flat[i], datatype, () => `input "${name}": data[${i}]`);
  return { name, datatype, shape, data };
}

export function inferResponse(model: Model, request: InferRequest, outputs: readonly Tensor[]) {
  return {
    model_name: model.name,
    model_version: MODEL_VERSION,
    ...(request.id !== undefined && { id: request.id }),
    outputs: outputs.map((t) => ({ name: t.name, datatype: t.datatype, shape: t.shape, data: flatValues(t) })),
  };
}

export function modelMetadata(model: Model) {
  return {
    name: model.name,
    versions: [MODEL_VERSION],
    platform: model.format,
    inputs: model.inputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
    outputs: model.outputs.map(({ name, datatype, shape }) => ({ name, datatype, shape })),
  };
}
