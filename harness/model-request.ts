/**
 * A request of the right shape for a model, from its V2 metadata (`GET /v2/models/NAME`): one row of zeros for
 * each input, as a V2 infer request and, where the model has one input whose rows are flat, as the seed's `/score`
 * request too. What the quickstart prints for a user's own model, so that the first `curl` they copy is answered.
 */

/** A tensor of the V2 metadata: its shape has -1 for a dimension of any size (the batch, a row of any width). */
export interface TensorMetadata {
  name: string;
  datatype: string;
  shape: number[];
}

export interface ModelMetadata {
  name: string;
  platform?: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

export interface V2Input {
  name: string;
  datatype: string;
  shape: number[];
  data: (number | boolean | string)[];
}

export interface ExampleRequests {
  /** POST /v2/models/NAME/infer */
  infer: { inputs: V2Input[] };
  /** POST /score, when the model has a single numeric input of rank 2 (rows of values: one row is a flat list). */
  score?: { X: number[] };
}

/** Checks that a parsed `GET /v2/models/NAME` answer is metadata; throws naming what is missing. */
export function parseMetadata(body: unknown): ModelMetadata {
  const m = body as Partial<ModelMetadata> | null;
  const tensors = (what: 'inputs' | 'outputs'): TensorMetadata[] => {
    const list = m?.[what];
    if (!Array.isArray(list)) throw new Error(`model metadata has no ${what} list: ${JSON.stringify(body)}`);
    for (const t of list) {
      const ok =
        typeof t?.name === 'string' &&
        typeof t.datatype === 'string' &&
        Array.isArray(t.shape) &&
        t.shape.every((d) => Number.isInteger(d) && d >= -1);
      if (!ok) throw new Error(`model metadata has a malformed tensor in ${what}: ${JSON.stringify(t)}`);
    }
    return list;
  };
  if (typeof m?.name !== 'string') throw new Error(`model metadata has no name: ${JSON.stringify(body)}`);
  return { name: m.name, platform: m.platform, inputs: tensors('inputs'), outputs: tensors('outputs') };
}

/** The zero of a V2 datatype: false for BOOL, the empty string for BYTES, 0 for the numeric ones. */
function zero(datatype: string): number | boolean | string {
  if (datatype === 'BOOL') return false;
  if (datatype === 'BYTES') return '';
  return 0;
}

/**
 * One row of zeros per input: the batch dimension (the first, when it is -1) is 1, and any other dimension of any
 * size is 1 too (the narrowest row the model takes: the identity model's `[-1, -1]` gets `[1, 1]`).
 */
export function exampleRequests(meta: ModelMetadata): ExampleRequests {
  if (meta.inputs.length === 0) throw new Error(`model ${meta.name} declares no inputs`);
  const inputs = meta.inputs.map((t) => {
    const shape = t.shape.length === 0 ? [] : t.shape.map((d) => (d === -1 ? 1 : d));
    const size = shape.reduce((n, d) => n * d, 1);
    return {
      name: t.name,
      datatype: t.datatype,
      shape,
      data: new Array<number | boolean | string>(size).fill(zero(t.datatype)),
    };
  });
  const requests: ExampleRequests = { infer: { inputs } };
  const only = inputs.length === 1 ? inputs[0]! : undefined;
  const numeric = only !== undefined && only.datatype !== 'BOOL' && only.datatype !== 'BYTES';
  if (numeric && only.shape.length === 2) {
    requests.score = { X: only.data as number[] };
  }
  return requests;
}

/** `s` as one word for a POSIX shell: single-quoted, a single quote inside as `'\''`. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** `curl` posting `body` as JSON to `url`. */
export function curlCommand(url: string, body: unknown): string {
  return `curl -s -X POST ${url} -H 'content-type: application/json' -d ${shellQuote(JSON.stringify(body))}`;
}
