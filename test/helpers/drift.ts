/** Monitoring reports as a scorer serves them (contract/drift.ts), for tests of the operator's judgment. */
import type { MonitoringReport } from '../../contract/drift.js';

/** A baseline digest. */
export const SHA_A = 'a'.repeat(64);
export const SHA_B = 'b'.repeat(64);

/**
 * Training shares of every histogram these reports carry: one edge (0), so a value bin at or below it, one above
 * it, and the missing-value bin, which training never filled.
 */
export const SHARES = [0.5, 0.5, 0];

export interface ReportOptions {
  /** Counts per bin, by feature name. */
  features: Record<string, number[]>;
  outputs?: Record<string, number[]>;
  sha256?: string;
  /** Rows in the window; the first feature's total when absent. */
  rows?: number;
  model?: string;
}

export function report(o: ReportOptions): MonitoringReport {
  const histograms = (counted: Record<string, number[]>) =>
    Object.entries(counted).map(([name, counts]) => ({ name, counts, expected: SHARES, psi: null }));
  const rows = o.rows ?? Object.values(o.features)[0]!.reduce((a, b) => a + b, 0);
  return {
    model: o.model ?? 'churn',
    baseline: { sha256: o.sha256 ?? SHA_A, uri: '/baselines/churn.json', rows: 10_000 },
    window: { start: '2026-11-25T00:00:00.000Z', end: '2026-11-25T00:10:00.000Z', seconds: 600, rows },
    minRows: 500,
    features: histograms(o.features),
    outputs: histograms(o.outputs ?? {}),
  };
}
