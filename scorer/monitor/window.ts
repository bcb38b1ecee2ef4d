/**
 * The drift window: per histogram of the baseline, how many of the rows scored in the last MONITOR_WINDOW_SECONDS
 * fell in each bin, kept in 10 slices so that rows leave the window a slice at a time. Time comes from `now`, so that
 * tests move it by hand.
 *
 * Counting runs on every scored request, so it allocates nothing: each slice holds one array of every histogram's
 * bins, and a value's bin is a binary search among its histogram's edges. Sums, shares and PSIs are worked out when
 * asked for (a scrape, GET .../monitoring).
 */
import type { Logger } from 'pino';
import { binOf, psi, type Baseline, type Histogram, type MonitoringReport } from '../../contract/drift.js';
import { escapeLabel } from '../metrics.js';
import { batchRows, type NumericArray, type Tensor, type TensorSpec } from '../model.js';
import type { Layout } from './layout.js';

/** Slices a window is kept in: rows leave it a tenth of the window at a time. */
export const SLICES = 10;

export interface WindowOptions {
  windowSeconds: number;
  /** Rows a histogram needs in the window before its PSI is given. */
  minRows: number;
  /** Milliseconds since the epoch. */
  now: () => number;
  log: Logger;
}

/** Where the baseline came from, as the report shows it. */
export interface BaselineSource {
  sha256: string;
  /** Redacted. */
  uri: string;
}

interface Slice {
  /** floor(time / slice length) of the time it counts; -Infinity while unused. */
  index: number;
  rows: number;
  /** Every histogram's bins, one after the other (at `offsets[h]`). */
  counts: Float64Array;
}

/** The window summed at one moment. */
interface Sums {
  start: number;
  end: number;
  rows: number;
  counts: Float64Array;
}

export class DriftWindow {
  readonly source: BaselineSource;
  /** Rows not counted since start-up: their values a row differ from the baseline's features. */
  skippedRows = 0;
  private readonly baseline: Baseline;
  private readonly specs: readonly TensorSpec[];
  private readonly layout: Layout;
  private readonly options: WindowOptions;
  private readonly sliceMs: number;
  private readonly slices: Slice[];
  /** Where each histogram's bins start in a slice's counts. */
  private readonly offsets: number[];
  private readonly features: number;
  /** The batch's tensor of each of layout.inputs, found anew for each batch (kept to allocate nothing). */
  private readonly found: (Tensor | undefined)[];
  private readonly started: number;
  private warned = false;

  /** `specs` are the model's inputs; `layout` is layoutOf(baseline, the model). */
  constructor(
    baseline: Baseline,
    source: BaselineSource,
    specs: readonly TensorSpec[],
    layout: Layout,
    options: WindowOptions,
  ) {
    this.baseline = baseline;
    this.source = source;
    this.specs = specs;
    this.layout = layout;
    this.options = options;
    this.sliceMs = (options.windowSeconds * 1000) / SLICES;
    this.features = baseline.features.length;
    this.offsets = [];
    let bins = 0;
    for (const edges of layout.edges) {
      this.offsets.push(bins);
      bins += edges.length + 2;
    }
    this.slices = Array.from({ length: SLICES }, () => ({ index: -Infinity, rows: 0, counts: new Float64Array(bins) }));
    this.found = new Array<Tensor | undefined>(layout.inputs.length);
    this.started = options.now();
  }

  /**
   * Counts a scored batch: each row's features (the inputs' values) and the values of the outputs `outputs` holds
   * (a V2 request may have asked for some only). A batch whose rows have another number of values than the baseline
   * has features is not counted but added to skippedRows.
   */
  count(inputs: readonly Tensor[], outputs: readonly Tensor[]): void {
    const rows = batchRows(this.specs, inputs);
    if (rows === 0) return;
    const { layout, found } = this;
    let width = 0;
    for (let k = 0; k < layout.inputs.length; k++) {
      const name = layout.inputs[k]!.name;
      let tensor: Tensor | undefined;
      for (let i = 0; i < inputs.length; i++) if (inputs[i]!.name === name) tensor = inputs[i];
      const values = tensor?.data.length ?? NaN;
      // NaN, never equal to the features, for a missing input or one whose values do not split into rows.
      width += values % rows === 0 ? values / rows : NaN;
      found[k] = tensor;
    }
    if (width !== this.features) {
      this.skip(rows, width);
      return;
    }

    const slice = this.current();
    const { counts } = slice;
    const { edges } = layout;
    let h = 0;
    for (let k = 0; k < found.length; k++) {
      const data = found[k]!.data as NumericArray;
      const w = data.length / rows;
      for (let j = 0; j < w; j++, h++) countColumn(counts, this.offsets[h]!, edges[h]!, data, rows, w, j);
    }
    for (let o = 0; o < outputs.length; o++) {
      const tensor = outputs[o]!;
      const columns = layout.outputs.get(tensor.name);
      if (columns === undefined || Array.isArray(tensor.data)) continue;
      const data = tensor.data as NumericArray;
      const w = data.length / rows;
      for (let c = 0; c < columns.length; c++) {
        const { histogram, column, whole } = columns[c]!;
        // An output whose width is not fixed (the identity model's) may not have this column in this batch.
        if (whole ? w !== 1 : !(column < w) || !Number.isInteger(w)) continue;
        countColumn(counts, this.offsets[histogram]!, edges[histogram]!, data, rows, w, column);
      }
    }
    slice.rows += rows;
  }

  /** The report GET /v2/models/{name}/monitoring answers. */
  report(model: string): MonitoringReport {
    const sums = this.sums();
    const { minRows } = this.options;
    const counted = (h: Histogram, i: number) => {
      const counts = Array.from(sums.counts.subarray(this.offsets[i], this.offsets[i]! + h.shares.length));
      return { name: h.name, counts, expected: h.shares, psi: this.psiOf(h, counts) ?? null };
    };
    const { features } = this.baseline;
    return {
      model,
      baseline: { ...this.source, rows: this.baseline.rows },
      window: {
        start: new Date(sums.start).toISOString(),
        end: new Date(sums.end).toISOString(),
        seconds: (sums.end - sums.start) / 1000,
        rows: sums.rows,
      },
      minRows,
      features: features.map(counted),
      outputs: this.baseline.outputs.map((h, i) => counted(h, features.length + i)),
    };
  }

  /**
   * The drift families in Prometheus' text format, each line ending in a newline. Features and outputs are two
   * gauges rather than one with a kind label: the issue asks for a `feature` label, an alert on input drift should
   * not fire on the predictions (whose shift can be the business itself changing), and a feature and an output of
   * the same name stay apart.
   */
  metricsText(): string {
    return driftMetricsText(this.report(''), this.skippedRows);
  }

  /**
   * A histogram's PSI once it holds minRows rows. Each histogram's own total counts, not the window's rows: an
   * output only some requests asked for (V2 `outputs`) holds fewer rows than the features.
   */
  private psiOf(h: Histogram, counts: ArrayLike<number>): number | undefined {
    let total = 0;
    for (let i = 0; i < counts.length; i++) total += counts[i]!;
    return total >= this.options.minRows ? psi(h.shares, counts) : undefined;
  }

  /** The slice counting now: the one `now` falls in, emptied first if it last counted an earlier time. */
  private current(): Slice {
    const index = Math.floor(this.options.now() / this.sliceMs);
    const slice = this.slices[((index % SLICES) + SLICES) % SLICES]!;
    // A slice holding a later time than now (the wall clock stepped back) keeps counting rather than lose its rows.
    if (slice.index < index) {
      slice.index = index;
      slice.rows = 0;
      slice.counts.fill(0);
    }
    return slice;
  }

  /**
   * The slices of the last SLICES slice lengths, now's included, summed. The window starts at the first of them, or
   * at start-up when later.
   */
  private sums(): Sums {
    const end = this.options.now();
    const index = Math.floor(end / this.sliceMs);
    const counts = new Float64Array(this.slices[0]!.counts.length);
    let rows = 0;
    for (const slice of this.slices) {
      if (slice.index <= index - SLICES) continue;
      rows += slice.rows;
      for (let i = 0; i < counts.length; i++) counts[i]! += slice.counts[i]!;
    }
    const start = Math.min(end, Math.max(this.started, (index - SLICES + 1) * this.sliceMs));
    return { start, end, rows, counts };
  }

  private skip(rows: number, width: number): void {
    this.skippedRows += rows;
    if (this.warned) return;
    this.warned = true;
    this.options.log.warn(
      { values: width, features: this.features },
      'rows whose number of values differs from the drift baseline are not counted (scorer_drift_rows_skipped_total)',
    );
  }
}

/** Counts column `column` of `rows` rows of `width` values into one histogram's bins at `at` of `counts`. */
function countColumn(
  counts: Float64Array,
  at: number,
  edges: Float64Array,
  data: NumericArray,
  rows: number,
  width: number,
  column: number,
): void {
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) {
    for (let r = 0, i = column; r < rows; r++, i += width) counts[at + binOf(edges, Number(data[i]))]!++;
    return;
  }
  const values = data as Exclude<NumericArray, BigInt64Array | BigUint64Array>;
  for (let r = 0, i = column; r < rows; r++, i += width) counts[at + binOf(edges, values[i])]!++;
}

/**
 * The drift families in Prometheus' text format, each line ending in a newline, from a window's report (one
 * worker's, or the pod's workers summed) and the rows skipped. Features and outputs are two gauges rather than one
 * with a kind label: the issue asks for a `feature` label, an alert on input drift should not fire on the predictions
 * (whose shift can be the business itself changing), and a feature and an output of the same name stay apart.
 */
export function driftMetricsText(report: MonitoringReport, skippedRows: number): string {
  const gauge = (metric: string, label: string, histograms: MonitoringReport['features']) =>
    histograms.flatMap((h) => (h.psi === null ? [] : [`${metric}{${label}="${escapeLabel(h.name)}"} ${h.psi}`]));
  const lines = [
    '# HELP scorer_drift_window_rows Rows counted in the drift window (the last MONITOR_WINDOW_SECONDS).',
    '# TYPE scorer_drift_window_rows gauge',
    `scorer_drift_window_rows ${report.window.rows}`,
    '# HELP scorer_drift_rows_skipped_total Scored rows not counted for drift: their number of values differs ' +
      "from the baseline's features.",
    '# TYPE scorer_drift_rows_skipped_total counter',
    `scorer_drift_rows_skipped_total ${skippedRows}`,
    '# HELP scorer_drift_psi Population Stability Index of each feature over the drift window against the ' +
      'baseline, once the window holds MONITOR_MIN_ROWS rows.',
    '# TYPE scorer_drift_psi gauge',
    ...gauge('scorer_drift_psi', 'feature', report.features),
    '# HELP scorer_drift_output_psi Population Stability Index of each model output over the drift window ' +
      'against the baseline, once MONITOR_MIN_ROWS rows of it are in the window.',
    '# TYPE scorer_drift_output_psi gauge',
    ...gauge('scorer_drift_output_psi', 'output', report.outputs),
  ];
  return `${lines.join('\n')}\n`;
}
