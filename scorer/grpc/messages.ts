/**
 * Between the gRPC messages of inference.proto and the scorer's tensors: a ModelInferRequest becomes the request
 * object the REST API parses (its values taken from the contents field of their datatype, or from
 * raw_input_contents), so that both protocols share one validation and its error texts; outputs go back as typed
 * contents or raw_output_contents.
 */
import { RequestError } from '../errors.js';
import { elementCount, type Datatype, type Tensor } from '../model.js';
import { ELEMENT_SIZE, type FixedDatatype } from '../http/binary-layout.js';
import type { InputBytes } from '../http/binary-request.js';
import { tensorBytes } from '../http/binary-response.js';
import { MODEL_VERSION, type InferRequest } from '../http/v2.js';

/** An InferParameter as proto-loader decodes it (`oneofs: true`: `parameter_choice` names the field set). */
export interface GrpcParameter {
  parameter_choice?: string;
  [field: string]: unknown;
}
type Parameters = Record<string, GrpcParameter>;

export interface GrpcContents {
  bool_contents: boolean[];
  int_contents: number[];
  int64_contents: number[];
  uint_contents: number[];
  uint64_contents: number[];
  fp32_contents: number[];
  fp64_contents: number[];
  bytes_contents: Buffer[];
}
type ContentsField = keyof GrpcContents;

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Parameters;
  inputs: {
    name: string;
    datatype: string;
    shape: number[];
    parameters: Parameters;
    contents: GrpcContents | null;
  }[];
  outputs: { name: string; parameters: Parameters }[];
  raw_input_contents: Buffer[];
}

/** The contents field each datatype's values travel in; FP16 has none (raw_input_contents only). */
const CONTENTS_FIELD: Record<Datatype, ContentsField | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};
const CONTENTS_FIELDS = [...new Set(Object.values(CONTENTS_FIELD))].filter((f) => f !== undefined);

/** Parameters as the REST API's JSON has them: each name with its value. */
function plainParameters(parameters: Parameters | undefined): Record<string, unknown> | undefined {
  const entries = Object.entries(parameters ?? {});
  if (entries.length === 0) return undefined;
  return Object.fromEntries(entries.map(([key, p]) => [key, p.parameter_choice ? p[p.parameter_choice] : undefined]));
}

export interface InferBody {
  /** The request as the REST API's JSON would say it. */
  json: Record<string, unknown>;
  /** Set when the request gives its inputs in raw_input_contents. */
  raw: InputBytes | undefined;
}

/**
 * The REST request object a ModelInferRequest stands for. What only gRPC can get wrong (contents in the wrong field,
 * raw and typed contents mixed, a raw entry per input) is refused here, in gRPC's words.
 */
export function inferBody(request: GrpcInferRequest): InferBody {
  const raw = request.raw_input_contents.length > 0 ? request.raw_input_contents : undefined;
  if (raw && raw.length !== request.inputs.length) {
    throw new RequestError(
      400,
      `raw_input_contents has ${raw.length} entries for ${request.inputs.length} inputs; ` +
        'expected one per input, in the order of "inputs"',
    );
  }
  const inputs = request.inputs.map((input) => {
    const { name, datatype, shape } = input;
    const given = CONTENTS_FIELDS.filter((f) => (input.contents?.[f].length ?? 0) > 0);
    const json: Record<string, unknown> = { name, datatype, shape, parameters: plainParameters(input.parameters) };
    if (raw) {
      if (given.length > 0) {
        throw new RequestError(
          400,
          `input "${name}" has contents.${given[0]} but the request gives raw_input_contents; ` +
            'expected every input in raw_input_contents or none',
        );
      }
      return json;
    }
    // An unknown datatype is left to the shared validation, which lists the datatypes.
    if (!Object.hasOwn(CONTENTS_FIELD, datatype)) return { ...json, data: [] };
    const field = CONTENTS_FIELD[datatype as Datatype];
    if (field === undefined) {
      throw new RequestError(400, `input "${name}": ${datatype} values can only be sent in raw_input_contents`);
    }
    const other = given.find((f) => f !== field);
    if (other !== undefined) {
      throw new RequestError(
        400,
        `input "${name}": datatype ${datatype} takes its values in contents.${field}; contents.${other} is set`,
      );
    }
    const values: unknown[] = input.contents?.[field] ?? [];
    const count = elementCount(shape);
    if (shape.every((d) => Number.isInteger(d) && d >= 0) && values.length !== count) {
      throw new RequestError(
        400,
        `input "${name}": shape [${shape.join(', ')}] holds ${count} values but contents.${field} has ${values.length}`,
      );
    }
    return { ...json, data: jsonValues(field, values) };
  });
  const json: Record<string, unknown> = {
    inputs,
    outputs: request.outputs.map((o) => ({ name: o.name, parameters: plainParameters(o.parameters) })),
    parameters: plainParameters(request.parameters),
  };
  if (request.id !== '') json.id = request.id;
  return { json, raw: raw && rawInputBytes(raw) };
}

/**
 * Contents as the JSON values REST would have: BYTES as strings; a float NaN as null, a missing value, as it is in
 * raw contents and REST's binary data (JSON has no NaN, protobuf no null).
 */
function jsonValues(field: ContentsField, values: unknown[]): unknown[] {
  if (field === 'bytes_contents') return (values as Buffer[]).map((b) => b.toString('utf8'));
  if ((field === 'fp32_contents' || field === 'fp64_contents') && (values as number[]).some(Number.isNaN)) {
    return (values as number[]).map((v) => (Number.isNaN(v) ? null : v));
  }
  return values;
}

/** raw_input_contents, one entry per input, each the bytes its shape and datatype take. */
function rawInputBytes(raw: Buffer[]): InputBytes {
  return {
    size(_input, k, name, datatype) {
      if (datatype === 'BYTES') {
        throw new RequestError(
          400,
          `input "${name}": BYTES inputs cannot be sent in raw_input_contents here; ` +
            'expected their strings in contents.bytes_contents',
        );
      }
      return raw[k]!.length;
    },
    take(k, name, declared: FixedDatatype, shape, size) {
      const count = elementCount(shape);
      const width = ELEMENT_SIZE[declared];
      if (size !== count * width) {
        throw new RequestError(
          400,
          `input "${name}": raw_input_contents[${k}] has ${size} bytes; shape [${shape.join(', ')}] of ${declared} ` +
            `takes ${count * width} bytes (${count} values of ${width} byte${width === 1 ? '' : 's'})`,
        );
      }
      return raw[k]!;
    },
    finish() {},
  };
}

export interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: number[]; contents?: Partial<GrpcContents> }[];
  raw_output_contents: Buffer[];
}

/**
 * The ModelInferResponse for a model's outputs. The protocol has the raw form for all outputs or for none: raw when
 * the request sent raw inputs (as KServe's and Triton's servers answer) or asked for binary data (`binary_data_output`
 * on the request, `binary_data` on an output, as in REST), and always for FP16, which has no contents field.
 */
export function inferResponse(
  modelName: string,
  request: InferRequest,
  rawInputs: boolean,
  outputs: readonly Tensor[],
): GrpcInferResponse {
  const raw =
    rawInputs || request.binaryOutputs !== undefined || outputs.some((t) => CONTENTS_FIELD[t.datatype] === undefined);
  return {
    model_name: modelName,
    model_version: MODEL_VERSION,
    id: request.id ?? '',
    outputs: outputs.map((t) => ({
      name: t.name,
      datatype: t.datatype,
      shape: t.shape,
      ...(!raw && { contents: { [CONTENTS_FIELD[t.datatype]!]: contentsValues(t) } }),
    })),
    raw_output_contents: raw ? outputs.map(tensorBytes) : [],
  };
}

function contentsValues(tensor: Tensor): unknown[] {
  const { data, datatype } = tensor;
  if (Array.isArray(data)) return data.map((s) => Buffer.from(s, 'utf8'));
  if (datatype === 'BOOL') return Array.from(data as Uint8Array, (v) => v !== 0);
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Array.from(data, Number);
  return Array.from(data as ArrayLike<number>);
}
