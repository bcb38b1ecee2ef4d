/** A baseline (contract/drift.ts's version 1) from training rows and, optionally, a model's outputs on them. */
import { BASELINE_VERSION, parseBaseline, type Baseline, type Histogram } from '../../contract/drift.js';
import { histogram } from './histogram.js';
import type { OutputColumn } from './outputs.js';
import { column, DataError, type Table } from './rows.js';

export function makeBaseline(table: Table, bins: number, outputs: readonly OutputColumn[] = []): Baseline {
  const baseline: Baseline = {
    version: BASELINE_VERSION,
    rows: table.rows,
    features: table.names.map((name, j) => histogram(name, column(table, j), bins)),
    outputs: outputs.map((o) => histogram(o.name, o.values, bins)),
  };
  return baseline;
}

/**
 * The baseline file's text, one histogram a line, checked by the parser the scorer reads it with (a feature named
 * like an output, say "score", is refused there, and so here).
 */
export function formatBaseline(baseline: Baseline): string {
  const line = (h: Histogram) => `    ${JSON.stringify({ name: h.name, edges: h.edges, shares: h.shares })}`;
  const list = (hs: readonly Histogram[]) => (hs.length === 0 ? '[]' : `[\n${hs.map(line).join(',\n')}\n  ]`);
  const text =
    `{\n  "version": ${baseline.version},\n  "rows": ${baseline.rows},\n` +
    `  "features": ${list(baseline.features)},\n  "outputs": ${list(baseline.outputs)}\n}\n`;
  try {
    parseBaseline(text);
  } catch (err) {
    throw new DataError((err as Error).message);
  }
  return text;
}
