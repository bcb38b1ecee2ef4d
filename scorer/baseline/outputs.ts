/**
 * A model's outputs on the training rows, column by column, for the baseline's output histograms. The rows' columns
 * are the model's inputs' per-row elements in input order; every numeric output is one column per per-row element,
 * named `name` when it has one value per row, else `name[j]` (as the scorer's monitor names them).
 */
import { RequestError } from '../errors.js';
import { allocate, storeAll } from '../http/tensor.js';
import { elementCount, type Model, type Tensor, type TensorSpec } from '../model.js';
import { DataError, type Table } from './rows.js';

/** Rows per predict call: large enough to amortise a call, small enough to keep each batch's tensors small. */
const BATCH_ROWS = 1024;

export interface OutputColumn {
  name: string;
  values: Float64Array;
}

interface InputPlan {
  spec: TensorSpec;
  /** The input's first column among the table's. */
  offset: number;
  /** Values per row. */
  width: number;
}

/** Which of the table's columns go to which input; throws DataError when they cannot match the model's inputs. */
function planInputs(model: Model, table: Table): { plans: InputPlan[]; batchRows: number } {
  const columns = table.names.length;
  let offset = 0;
  let batchRows = BATCH_ROWS;
  const plans = model.inputs.map((spec) => {
    if (spec.datatype === 'BYTES') throw new DataError(`the model's input "${spec.name}" takes strings, not numbers`);
    const [batch, ...rest] = spec.shape;
    if (batch === undefined || (batch >= 0 && batch !== 1)) {
      throw new DataError(`the model's input "${spec.name}" has shape [${spec.shape.join(', ')}]: no row dimension`);
    }
    if (batch === 1) batchRows = 1;
    // One input of any width ([-1, -1]) takes every column.
    const free = rest.some((d) => d < 0);
    if (free && !(model.inputs.length === 1 && rest.length === 1)) {
      throw new DataError(
        `the model's input "${spec.name}" has shape [${spec.shape.join(', ')}]: cannot tell its values per row`,
      );
    }
    const plan = { spec, offset, width: free ? columns : elementCount(rest) };
    offset += plan.width;
    return plan;
  });
  if (offset !== columns) {
    const shapes = model.inputs.map((s) => `"${s.name}" [${s.shape.join(', ')}]`).join(', ');
    throw new DataError(
      `the model reads ${offset} values per row (${shapes}); the training data has ${columns} columns`,
    );
  }
  return { plans, batchRows };
}

function inputTensor(plan: InputPlan, table: Table, first: number, rows: number): Tensor {
  const { spec, offset, width } = plan;
  const columns = table.names.length;
  const data = allocate(spec.datatype, rows * width);
  const cells = new Array<number | null>(width);
  for (let i = 0; i < rows; i++) {
    const row = first + i;
    for (let k = 0; k < width; k++) {
      const v = table.values[row * columns + offset + k]!;
      cells[k] = Number.isNaN(v) ? null : v;
    }
    storeAll(data, i * width, cells, spec.datatype, (k) => `row ${row + 1}, column "${table.names[offset + k]}"`);
  }
  const rest = spec.shape.slice(1).map((d) => (d < 0 ? width : d));
  return { name: spec.name, datatype: spec.datatype, shape: [rows, ...rest], data };
}

/** Predicts every row in batches and returns each numeric output's columns. */
export async function predictOutputs(model: Model, table: Table): Promise<OutputColumn[]> {
  const { plans, batchRows } = planInputs(model, table);
  let columns: OutputColumn[] | undefined;
  for (let first = 0; first < table.rows; first += batchRows) {
    const rows = Math.min(batchRows, table.rows - first);
    let outputs: Tensor[];
    try {
      outputs = await model.predict(plans.map((p) => inputTensor(p, table, first, rows)));
    } catch (err) {
      if (err instanceof RequestError) throw new DataError(err.message);
      throw new DataError(`the model failed on rows ${first + 1}-${first + rows}: ${(err as Error).message}`);
    }
    const perRow = outputs.filter((t) => t.datatype !== 'BYTES' && t.shape[0] === rows);
    const names = perRow.flatMap((t) => {
      const width = elementCount(t.shape) / rows;
      return width === 1 ? [t.name] : Array.from({ length: width }, (_, j) => `${t.name}[${j}]`);
    });
    columns ??= names.map((name) => ({ name, values: new Float64Array(table.rows) }));
    if (names.join('\n') !== columns.map((c) => c.name).join('\n')) {
      throw new DataError(`the model's outputs changed between batches: ${names.join(', ')}`);
    }
    let c = 0;
    for (const t of perRow) {
      const width = elementCount(t.shape) / rows;
      for (let j = 0; j < width; j++, c++) {
        const values = columns[c]!.values;
        for (let i = 0; i < rows; i++) values[first + i] = Number(t.data[i * width + j]);
      }
    }
  }
  if (!columns || columns.length === 0) throw new DataError('the model has no numeric output with a value per row');
  return columns;
}
