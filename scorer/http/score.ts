/** The seed tutorial's protocol: `POST /score {"X": row | rows}` -> `{"score": [...]}`. */
import { RequestError } from '../errors.js';
import type { Model, Tensor } from '../model.js';
import { allocate, checkShape, describe, flatValues, nestedValues, storeAll } from './tensor.js';

const USAGE = 'expected a JSON object {"X": [x1, ..., xn]} (one row) or {"X": [[...], ...]} (rows)';

export interface ScoreRequest {
  /** The model's one input, [rows, features]. */
  inputs: Tensor[];
  /** "X" was one flat row, not a list of rows. */
  flatRow: boolean;
}

/** Turns a /score body into the model's one input tensor. */
export function scoreInputs(body: unknown, model: Model, maxRows: number): ScoreRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body) || !('X' in body)) {
    throw new RequestError(400, `missing "X": ${USAGE}`);
  }
  const X = (body as { X: unknown }).X;
  if (!Array.isArray(X)) throw new RequestError(400, `"X" is ${describe(X)}: ${USAGE}`);
  if (X.length === 0) throw new RequestError(400, `"X" is empty: ${USAGE}`);
  if (model.inputs.length !== 1) {
    const names = model.inputs.map((i) => `"${i.name}"`).join(', ');
    throw new RequestError(
      400,
      `model "${model.name}" has ${model.inputs.length} inputs (${names}); send them by name to POST /v2/models/${model.name}/infer`,
    );
  }
  const spec = model.inputs[0]!;
  if (spec.shape.length !== 2) {
    throw new RequestError(
      400,
      `model "${model.name}" takes a tensor of shape [${spec.shape.join(', ')}], not rows of features; use POST /v2/models/${model.name}/infer`,
    );
  }
  const oneRow = !Array.isArray(X[0]);
  const rows = oneRow ? 1 : X.length;
  if (rows > maxRows) throw new RequestError(413, `"X" has ${rows} rows; the limit is ${maxRows} per request`);
  const features = oneRow ? X.length : (X[0] as unknown[]).length;
  const expected = spec.shape[1]!;
  if (expected >= 0 && features !== expected) {
    const what = oneRow ? '"X"' : '"X[0]"';
    throw new RequestError(422, `${what} has ${features} features; the model expects ${expected}`);
  }

  const data = allocate(spec.datatype, rows * features);
  if (oneRow) {
    const row = X.findIndex(Array.isArray);
    if (row >= 0) throw new RequestError(400, `"X" mixes numbers and rows: "X[${row}]" is an array`);
    storeAll(data, 0, X, spec.datatype, (j) => `"X[${j}]"`);
  } else {
    for (let i = 0; i < rows; i++) {
      const row: unknown = X[i];
      if (!Array.isArray(row)) {
        throw new RequestError(400, `"X[${i}]" is ${describe(row)}; every row must be an array of ${features} numbers`);
      }
      if (row.length !== features) {
        throw new RequestError(
          422,
          `"X[${i}]" has ${row.length} features; expected ${features} (rows must all be the same length)`,
        );
      }
      storeAll(data, i * features, row, spec.datatype, (j) => `"X[${i}][${j}]"`);
    }
  }
  const tensor: Tensor = { name: spec.name, datatype: spec.datatype, shape: [rows, features], data };
  checkShape(tensor, spec);
  return { inputs: [tensor], flatRow: oneRow };
}

/**
 * The primary output, nested by its shape. The identity model answers a flat row flat, as it was sent (the seed's
 * demo contract: `{"X": [1, 2]}` -> `{"score": [1, 2]}`), though the model itself saw one row of its [-1, -1] input.
 */
export function scoreResponse(outputs: readonly Tensor[], model: Model, request: ScoreRequest): { score: unknown[] } {
  const primary = primaryOf(outputs, model.primaryOutput);
  if (!primary) throw new Error(`model "${model.name}" returned no output`);
  // The flat row's values are its one row's: no nesting to build and take apart.
  if (request.flatRow && model.format === 'identity') return { score: flatValues(primary) };
  return { score: nestedValues(primary) };
}

/** The output named `name`, else the first (a loop: `find` with a closure costs a request the closure). */
function primaryOf(outputs: readonly Tensor[], name: string): Tensor | undefined {
  for (const t of outputs) if (t.name === name) return t;
  return outputs[0];
}
