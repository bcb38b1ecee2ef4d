/**
 * Drift, judged across replicas: the scorers' counts summed bin by bin (a sum of counts is exact where an average of
 * PSIs is not), each feature's and output's PSI against the baseline, and what status says of them. Pure: the same
 * answers give the same figures, rounded so that a window's noise does not rewrite status at every judgment.
 */
import { psi, type CountedHistogram, type MonitoringReport } from '../../contract/drift.js';
import type { DriftStatus, Monitoring } from '../api/v1alpha1.js';
import { canonicalJson } from '../canonical-json.js';
import type { ScorerAnswer } from '../scorer-pods.js';
import { CONDITION, type ConditionDraft } from '../status.js';

/** Features status.drift lists: the ones with the highest PSI. */
export const TOP_FEATURES = 3;
/** Features, and outputs, a Drifted=True message names before it says how many more. */
const NAMED = 3;

/** What one ready scorer pod said when asked for its counts. */
export type PodAnswer = ScorerAnswer<MonitoringReport>;

export interface SummedHistogram {
  name: string;
  /** The baseline's shares, the missing-value bin last. */
  expected: readonly number[];
  counts: number[];
}

export interface Summed {
  /** Rows in the windows summed. */
  rows: number;
  features: SummedHistogram[];
  outputs: SummedHistogram[];
}

/**
 * The baseline the judgment is made against: the one spec.monitoring names by digest, else the one most scorers
 * monitor against (then the one with more rows, then the lower digest, so that the choice is the same every time).
 * Scorers of another baseline (a rollout under way) are left out: their bins need not be the same.
 */
export function commonBaseline(reports: readonly MonitoringReport[], wanted?: string): string | undefined {
  if (wanted) return wanted.toLowerCase();
  const tally = new Map<string, { pods: number; rows: number }>();
  for (const r of reports) {
    const sha = r.baseline.sha256.toLowerCase();
    const t = tally.get(sha) ?? { pods: 0, rows: 0 };
    tally.set(sha, { pods: t.pods + 1, rows: t.rows + r.window.rows });
  }
  return [...tally.entries()].sort(
    ([a, x], [b, y]) => y.pods - x.pods || y.rows - x.rows || (a < b ? -1 : a > b ? 1 : 0),
  )[0]?.[0];
}

/**
 * The windows' counts, summed per histogram by name, in the order the first report lists them. A histogram whose
 * bins differ from the first report's (it cannot be the same baseline) is left out of the sum.
 */
export function sumReports(reports: readonly MonitoringReport[]): Summed {
  const add = (into: Map<string, SummedHistogram>, histograms: readonly CountedHistogram[]) => {
    for (const h of histograms) {
      const sum = into.get(h.name);
      if (!sum) into.set(h.name, { name: h.name, expected: h.expected, counts: [...h.counts] });
      else if (sum.counts.length === h.counts.length) h.counts.forEach((c, i) => (sum.counts[i]! += c));
    }
  };
  const features = new Map<string, SummedHistogram>();
  const outputs = new Map<string, SummedHistogram>();
  let rows = 0;
  for (const r of reports) {
    rows += r.window.rows;
    add(features, r.features);
    add(outputs, r.outputs);
  }
  return { rows, features: [...features.values()], outputs: [...outputs.values()] };
}

/** A PSI to 2 decimals: what status shows and the threshold is held against. */
export const roundPsi = (value: number): number => Math.round(value * 100) / 100;

/** A row count to 2 significant figures (12345 -> 12000): traffic's noise stays out of status. */
export function roundRows(rows: number): number {
  if (rows < 100) return rows;
  const unit = 10 ** (Math.floor(Math.log10(rows)) - 1);
  return Math.round(rows / unit) * unit;
}

/** Each histogram's PSI, rounded; one without rows (an output no request asked for) has none. */
function psis(histograms: readonly SummedHistogram[]): { name: string; psi: number }[] {
  return histograms.flatMap((h) => {
    if (h.expected.length !== h.counts.length) return [];
    const value = psi(h.expected, h.counts);
    return value === undefined || !Number.isFinite(value) ? [] : [{ name: h.name, psi: roundPsi(value) }];
  });
}

const byPsi = <T extends { psi: number }>(list: readonly T[]): T[] => [...list].sort((a, b) => b.psi - a.psi);

/** `x3 0.85, x1 0.31 and 2 more features` */
function named(list: readonly { name: string; psi: number }[], kind: string): string {
  const shown = list.slice(0, NAMED).map((h) => `${h.name} ${h.psi}`);
  const more = list.length - shown.length;
  return `${kind} ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`;
}

export interface Judgment {
  /** status.drift without judgedAt. */
  figures: Omit<DriftStatus, 'judgedAt'>;
  condition: ConditionDraft;
}

/** The figures and the Drifted condition from the answers of the ready scorers, one each. */
export function judge(answers: readonly PodAnswer[], monitoring: Monitoring): Judgment {
  const asked = answers.length;
  const reports = answers.flatMap((a) => ('report' in a ? [a] : []));
  const sha256 = commonBaseline(
    reports.map((a) => a.report),
    monitoring.baseline.sha256,
  );
  const counted = reports.filter((a) => a.report.baseline.sha256.toLowerCase() === sha256);
  const summed = sumReports(counted.map((a) => a.report));
  const pods = { answered: counted.length, asked };
  const windowRows = roundRows(summed.rows);
  const unknown = (reason: string, message: string): Judgment => ({
    figures: { windowRows, pods },
    condition: { type: CONDITION.drifted, status: 'Unknown', reason, message },
  });

  if (asked === 0) return unknown('NoReadyScorers', 'no scorer pod is ready to be asked for its counts');
  if (counted.length === 0) {
    const unavailable = answers.find((a) => 'unavailable' in a);
    if (unavailable && 'unavailable' in unavailable) return unknown('BaselineUnavailable', unavailable.unavailable);
    const first = answers[0]!;
    const why =
      'report' in first
        ? `${first.pod} monitors against baseline sha256 ${first.report.baseline.sha256}, not ${sha256}`
        : `${first.pod}: ${'failed' in first ? first.failed : first.unavailable}`;
    return unknown('NoReports', `no scorer answered with its counts (0/${asked}): ${why}`);
  }
  if (summed.rows < monitoring.minRows) {
    return unknown(
      'TooFewRows',
      `the scorers' windows hold fewer rows than spec.monitoring.minRows (${monitoring.minRows}): too few to judge`,
    );
  }

  const features = byPsi(psis(summed.features));
  const outputs = psis(summed.outputs);
  const figures = { windowRows, pods, features: features.slice(0, TOP_FEATURES), outputs };
  const { threshold } = monitoring;
  const driftedFeatures = features.filter((f) => f.psi > threshold);
  const driftedOutputs = byPsi(outputs.filter((o) => o.psi > threshold));
  if (driftedFeatures.length > 0 || driftedOutputs.length > 0) {
    const parts = [
      ...(driftedFeatures.length > 0 ? [named(driftedFeatures, 'features')] : []),
      ...(driftedOutputs.length > 0 ? [named(driftedOutputs, 'outputs')] : []),
    ];
    return {
      figures,
      condition: {
        type: CONDITION.drifted,
        status: 'True',
        reason: 'PSIAboveThreshold',
        message: `PSI above the threshold ${threshold}: ${parts.join('; ')}`,
      },
    };
  }
  const highest = byPsi([...features, ...outputs])[0];
  return {
    figures,
    condition: {
      type: CONDITION.drifted,
      status: 'False',
      reason: 'PSIWithinThreshold',
      message:
        `every feature's and output's PSI is at or below the threshold ${threshold}` +
        (highest ? ` (the highest: ${highest.name} ${highest.psi})` : ''),
    },
  };
}

/**
 * status.drift for a judgment made `now`: the previous one, judgedAt included, when the figures are the same, so
 * that a judgment that finds nothing new writes nothing.
 */
export function driftStatus(figures: Judgment['figures'], previous: DriftStatus | undefined, now: Date): DriftStatus {
  if (previous) {
    const { judgedAt, ...before } = previous;
    if (canonicalJson(before) === canonicalJson(figures)) return { judgedAt, ...figures };
  }
  return { judgedAt: now.toISOString().replace(/\.\d+Z$/, 'Z'), ...figures };
}
