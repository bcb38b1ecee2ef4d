/**
 * Drift monitoring's shared definitions: the baseline file (written by `npm run baseline`, read by the scorer), the bin
 * a value falls in, the Population Stability Index, and the monitoring report each scorer serves and the operator sums.
 *
 * A histogram has `edges.length + 1` value bins and one missing-value bin, last. Bin i holds the values in
 * (edges[i-1], edges[i]]; the first and the last value bins are open, so a live value outside the training range
 * still lands somewhere.
 */
import { z } from 'zod';

export const BASELINE_VERSION = 1;

/** Bins a histogram may have, the missing-value bin included: enough for deciles and percentiles alike. */
export const MAX_BINS = 102;

/**
 * A share below this counts as this in the PSI: an empty bin on one side would otherwise make it infinite. 1e-4 is
 * one row in ten thousand, below any share a window of live traffic can measure.
 */
export const PSI_FLOOR = 1e-4;

/** How close to 1 a histogram's shares must sum (they were written as decimals). */
const SHARE_SUM_TOLERANCE = 1e-6;

const histogramSchema = z
  .object({
    name: z.string().min(1).max(253),
    edges: z.array(z.number()).max(MAX_BINS - 2),
    shares: z.array(z.number().min(0).max(1)),
  })
  .superRefine((h, ctx) => {
    for (let i = 1; i < h.edges.length; i++) {
      if (!(h.edges[i]! > h.edges[i - 1]!)) {
        ctx.addIssue({ code: 'custom', path: ['edges', i], message: 'edges must be strictly ascending' });
        return;
      }
    }
    if (h.shares.length !== h.edges.length + 2) {
      ctx.addIssue({
        code: 'custom',
        path: ['shares'],
        message: `has ${h.shares.length} shares; ${h.edges.length} edges make ${h.edges.length + 2} bins (the last for missing values)`,
      });
      return;
    }
    const sum = h.shares.reduce((a, b) => a + b, 0);
    if (Math.abs(sum - 1) > SHARE_SUM_TOLERANCE) {
      ctx.addIssue({ code: 'custom', path: ['shares'], message: `shares sum to ${sum}, not 1` });
    }
  });
export type Histogram = z.infer<typeof histogramSchema>;

export const baselineSchema = z.object({
  version: z.literal(BASELINE_VERSION),
  /** Training rows the baseline was made from. */
  rows: z.number().int().positive(),
  /** One per input column, in the order the model reads them. */
  features: z.array(histogramSchema).min(1),
  /** One per numeric model output value per row (`score`, or `probabilities[1]` for one column of a wider output). */
  outputs: z.array(histogramSchema).default([]),
});
export type Baseline = z.infer<typeof baselineSchema>;

/**
 * The histogram name of one value a row of a model output: the output's own name when it has one value a row
 * (`score`), else the name with the column (`probabilities[1]`).
 */
export function outputColumnName(output: string, column: number, width: number): string {
  return width === 1 ? output : `${output}[${column}]`;
}

/** Parses a baseline file's text; the error names the field at fault. */
export function parseBaseline(text: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`the baseline is not JSON: ${(err as Error).message}`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (version !== BASELINE_VERSION) {
    throw new Error(
      `the baseline's version is ${JSON.stringify(version)}; this scorer reads version ${BASELINE_VERSION}`,
    );
  }
  const parsed = baselineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`the baseline's ${issue.path.join('.') || 'document'} is invalid: ${issue.message}`);
  }
  const names = new Set<string>();
  for (const h of [...parsed.data.features, ...parsed.data.outputs]) {
    if (names.has(h.name)) throw new Error(`the baseline names "${h.name}" twice`);
    names.add(h.name);
  }
  return parsed.data;
}

/** The bin of `value` in a histogram with these edges; missing (null, NaN) values go to the last bin. */
export function binOf(edges: ArrayLike<number>, value: number | null | undefined): number {
  if (value === null || value === undefined || Number.isNaN(value)) return edges.length + 1;
  // The first edge at or above the value (numpy.searchsorted(edges, value, side='left')).
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (edges[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The Population Stability Index of live counts against a baseline's shares: sum over bins of (a - e) * ln(a / e),
 * both shares floored at PSI_FLOOR. Undefined for no rows.
 */
export function psi(shares: readonly number[], counts: ArrayLike<number>): number | undefined {
  if (counts.length !== shares.length) {
    throw new Error(`${counts.length} counts for a histogram of ${shares.length} bins`);
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i]!;
  if (total === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const a = Math.max(counts[i]! / total, PSI_FLOOR);
    const e = Math.max(shares[i]!, PSI_FLOOR);
    sum += (a - e) * Math.log(a / e);
  }
  return sum;
}

const countedSchema = z.object({
  name: z.string(),
  /** Rows per bin over the window, the missing-value bin last. */
  counts: z.array(z.number().int().min(0)),
  /** The baseline's shares for the same bins. */
  expected: z.array(z.number()),
  /** Against the baseline, once the window holds `minRows` rows; null before. */
  psi: z.number().nullable(),
});

/**
 * `GET /v2/models/{name}/monitoring`: one scorer's window. Raw counts, so that the windows of several replicas can be
 * summed (a sum of counts is exact; an average of PSIs is not).
 */
export const monitoringReportSchema = z.object({
  model: z.string(),
  baseline: z.object({ sha256: z.string(), uri: z.string(), rows: z.number().int() }),
  window: z.object({
    start: z.string(),
    end: z.string(),
    seconds: z.number(),
    rows: z.number().int().min(0),
  }),
  minRows: z.number().int().min(0),
  features: z.array(countedSchema),
  outputs: z.array(countedSchema),
});
export type MonitoringReport = z.infer<typeof monitoringReportSchema>;
export type CountedHistogram = z.infer<typeof countedSchema>;

/** The monitoring endpoint's path for a model. */
export function monitoringPath(model: string): string {
  return `/v2/models/${encodeURIComponent(model)}/monitoring`;
}
