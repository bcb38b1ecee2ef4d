/**
 * Where each value a model reads and returns is counted: a drift baseline checked against the model's inputs and
 * outputs once, at start-up, and turned into the arrays the counting walks.
 *
 * Features are the model's numeric inputs' values of one row, input after input in the model's order (for the usual
 * one [-1, d] input: column i is feature i); BYTES inputs are not counted. Outputs are named as contract/drift.ts's
 * outputColumnName says: `score` for an output of one value a row, `probabilities[1]` for one column of a wider one.
 */
import type { Baseline } from '../../contract/drift.js';
import type { Model, TensorSpec } from '../model.js';

/** A numeric input of the model, with its values a row when its shape fixes them. */
export interface InputLayout {
  name: string;
  width: number | undefined;
}

/** A histogram fed by one column of a model output. */
export interface OutputColumn {
  /** Index among all histograms (features first, then outputs). */
  histogram: number;
  column: number;
  /** Named by the output alone: counted only while the output has one value a row. */
  whole: boolean;
}

export interface Layout {
  inputs: InputLayout[];
  /** Per histogram (features, then outputs), the edges live values are compared with. */
  edges: Float64Array[];
  /** The histograms each output feeds, by output name. */
  outputs: Map<string, OutputColumn[]>;
}

/**
 * The layout of `baseline` for `model`; throws an Error naming the mismatch: more histograms than `maxHistograms`
 * (MONITOR_MAX_HISTOGRAMS), another number of features than the model's inputs take a row, an output the model does
 * not have or not of that width.
 */
export function layoutOf(baseline: Baseline, model: Model, maxHistograms: number): Layout {
  const features = baseline.features.length;
  const total = features + baseline.outputs.length;
  if (total > maxHistograms) {
    const outputs = baseline.outputs.length;
    throw new Error(
      `the baseline has ${total} histograms (${features} features, ${outputs} output${outputs === 1 ? '' : 's'}); ` +
        `MONITOR_MAX_HISTOGRAMS allows ${maxHistograms}`,
    );
  }

  const specs = model.inputs.filter((s) => s.datatype !== 'BYTES');
  if (specs.length === 0) throw new Error('the model has no numeric input to count');
  const inputs = specs.map((s) => ({ name: s.name, width: rowWidth(s) }));
  const fixed = inputs.every((i) => i.width !== undefined);
  // An input whose width is not fixed takes one value a row at least.
  const least = inputs.reduce((sum, i) => sum + (i.width ?? 1), 0);
  if (fixed ? least !== features : least > features) {
    const shapes = specs.map((s) => `"${s.name}" [${s.shape.join(', ')}]`).join(', ');
    throw new Error(
      `the baseline has ${features} features; the model's inputs take ${fixed ? '' : 'at least '}${least} values a ` +
        `row (${shapes})`,
    );
  }

  // A value sent for an FP32 input reaches the model, and the counting, rounded to float32: 0.2 arrives as
  // 0.2000000030. Its bin is found among the edges rounded the same way, so that a value equal to an edge (quantile
  // edges are often training values) stays in the bin the baseline put it in.
  const datatypes = featureDatatypes(specs, inputs, features);
  const edges = baseline.features.map((h, i) =>
    datatypes[i] === 'FP32' || datatypes[i] === 'FP16'
      ? Float64Array.from(h.edges, Math.fround)
      : Float64Array.from(h.edges),
  );

  const outputs = new Map<string, OutputColumn[]>();
  baseline.outputs.forEach((h, i) => {
    const { spec, column, whole } = outputOf(h.name, model);
    if (spec.datatype === 'BYTES')
      throw new Error(`the baseline's output "${h.name}": model output "${spec.name}" is BYTES, not numbers`);
    const width = rowWidth(spec);
    if (whole && width !== undefined && width !== 1) {
      throw new Error(
        `the baseline's output "${h.name}" is one value a row; the model's "${spec.name}" has ${width} ` +
          `(name its columns "${spec.name}[0]" to "${spec.name}[${width - 1}]")`,
      );
    }
    if (!whole && width !== undefined && column >= width) {
      throw new Error(`the baseline's output "${h.name}": the model's "${spec.name}" has ${width} values a row`);
    }
    const columns = outputs.get(spec.name) ?? [];
    columns.push({ histogram: features + i, column, whole });
    outputs.set(spec.name, columns);
    // Outputs are compared as the model returned them, as the baseline's own predictions were.
    edges.push(Float64Array.from(h.edges));
  });
  return { inputs, edges, outputs };
}

/** Values a row of a tensor of this spec (its dimensions after the batch's), undefined when one is not fixed. */
function rowWidth(spec: TensorSpec): number | undefined {
  let width = 1;
  for (let d = 1; d < spec.shape.length; d++) {
    if (spec.shape[d]! < 0) return undefined;
    width *= spec.shape[d]!;
  }
  return width;
}

/** The datatype of each feature's values, FP64 (no rounding) where it depends on widths not known before a request. */
function featureDatatypes(specs: TensorSpec[], inputs: InputLayout[], features: number): string[] {
  if (specs.length === 1) return new Array<string>(features).fill(specs[0]!.datatype);
  if (inputs.some((i) => i.width === undefined)) return new Array<string>(features).fill('FP64');
  return specs.flatMap((s, k) => new Array<string>(inputs[k]!.width!).fill(s.datatype));
}

/** The model output a baseline's output histogram names: `name` itself, or `name[column]`. */
function outputOf(name: string, model: Model): { spec: TensorSpec; column: number; whole: boolean } {
  const exact = model.outputs.find((s) => s.name === name);
  if (exact) return { spec: exact, column: 0, whole: true };
  const m = /^(.+)\[(\d+)\]$/.exec(name);
  const spec = m ? model.outputs.find((s) => s.name === m[1]) : undefined;
  if (!m || !spec) {
    const names = model.outputs.map((s) => `"${s.name}"`).join(', ');
    throw new Error(`the baseline's output "${name}" is not an output of the model (outputs: ${names})`);
  }
  return { spec, column: Number(m[2]), whole: false };
}
