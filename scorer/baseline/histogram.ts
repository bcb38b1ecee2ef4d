/**
 * A baseline histogram of one column: edges at quantiles of its non-missing values, and the share of the rows in
 * each bin (contract/drift.ts's binOf), the missing values' bin last.
 */
import { binOf, type Histogram } from '../../contract/drift.js';

/** Value bins when `--bins` is not given: deciles. */
export const DEFAULT_BINS = 10;

/**
 * The q-quantile of ascending values, as numpy.quantile's default 'linear' method computes it: the virtual index
 * (n - 1) * q, and numpy's lerp between its neighbours (from the upper one when the fraction is 0.5 or more, so that
 * the result is exact at both ends).
 */
export function quantile(sorted: Float64Array, q: number): number {
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  const t = position - below;
  const a = sorted[below]!;
  const b = sorted[above]!;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}

/**
 * `bins` value bins between the quantiles 1/bins ... (bins-1)/bins of the non-missing values; equal edges are kept
 * once (numpy.unique), so a feature with few distinct values gets fewer bins. Shares are count / rows.
 */
export function histogram(name: string, values: Float64Array, bins: number = DEFAULT_BINS): Histogram {
  const present = values.filter((v) => !Number.isNaN(v)).sort();
  const edges: number[] = [];
  if (present.length > 0) {
    const quantiles = new Float64Array(bins - 1);
    for (let i = 1; i < bins; i++) quantiles[i - 1] = quantile(present, i / bins);
    quantiles.sort();
    for (const q of quantiles) if (edges.length === 0 || q !== edges[edges.length - 1]) edges.push(q);
  }
  const counts = new Array<number>(edges.length + 2).fill(0);
  for (const v of values) counts[binOf(edges, v)]!++;
  return { name, edges, shares: counts.map((c) => c / values.length) };
}
