/**
 * A rollout step judged from the stable scorers' reports (contract/rollout.ts): their counts of the step summed (a
 * sum of counts and histograms is exact where an average of rates or percentiles is not), then held against
 * spec.rollout.analysis. Pure: the same reports give the same verdict, and the figures status shows are rounded so
 * that traffic's noise does not rewrite status at every reading.
 */
import { addReportCounts, emptyLatency, quantile, type Latency, type RolloutReport } from '../../contract/rollout.js';
import type { RolloutAnalysis, RolloutAnalysisStatus } from '../api/v1alpha1.js';
import { roundRows } from '../drift/judge.js';

export interface SideFigures {
  requests: number;
  errors: number;
  /** Prediction times of the ones that succeeded. */
  latency: Latency;
}

/** One step's counts, summed over the stable scorers whose reports are for that step. */
export interface StepFigures {
  /** Stable scorers whose reports were summed, and the ready ones asked. */
  pods: { answered: number; asked: number };
  stable: SideFigures;
  candidate: SideFigures;
  forwarded: number;
  mirrored: number;
  mirrorsSkipped: number;
  agreement: { rows: number; agreeing: number; values: number; absDiffSum: number };
  /** Forwarded and mirrored requests not yet answered. */
  inFlight: number;
}

const side = (): SideFigures => ({ requests: 0, errors: 0, latency: emptyLatency() });

/**
 * Sums the reports of the current step: a report whose routing.step is another (a scorer that has not yet heard of
 * the step, or counts of the step before) is left out. `asked` is how many ready stable scorers were asked, those
 * that did not answer included.
 */
export function sumReports(reports: readonly RolloutReport[], step: string, asked = reports.length): StepFigures {
  const sum: StepFigures = {
    pods: { answered: 0, asked },
    stable: side(),
    candidate: side(),
    forwarded: 0,
    mirrored: 0,
    mirrorsSkipped: 0,
    agreement: { rows: 0, agreeing: 0, values: 0, absDiffSum: 0 },
    inFlight: 0,
  };
  for (const r of reports) {
    if (r.routing.step !== step) continue;
    sum.pods.answered++;
    addReportCounts(sum, r);
  }
  return sum;
}

/**
 * Whether the stable scorers follow a routing and have nothing in flight to the candidate: every one asked answered,
 * with that routing's version and no forwarded or mirrored request unanswered. Until then the candidate must stay.
 */
export function routingSettled(reports: readonly RolloutReport[], version: string, asked: number): boolean {
  return reports.length >= asked && reports.every((r) => r.routing.version === version && r.inFlight === 0);
}

/** A rate to 4 decimals. */
export const roundRate = (rate: number): number => Math.round(rate * 10_000) / 10_000;

/** To 2 significant figures (1234 -> 1200, 0.01234 -> 0.012). */
export const roundFigures = (value: number): number => (value === 0 ? 0 : Number(value.toPrecision(2)));

/** As a message shows a figure it judged: 4 decimals for a rate, 3 significant figures for a time. */
const rateText = (rate: number) => rate.toFixed(4);
const msText = (ms: number) => `${Number(ms.toPrecision(3))} ms`;

const errorRate = (s: SideFigures) => (s.requests === 0 ? 0 : s.errors / s.requests);
const p99Ms = (s: SideFigures) => {
  const seconds = quantile(s.latency, 0.99);
  return seconds === undefined ? undefined : seconds * 1000;
};

export type StepKind = 'shadow' | 'canary';
export type Verdict = 'pass' | 'fail' | 'wait';

export interface StepJudgment {
  verdict: Verdict;
  /** wait: what the step waits for; fail: every limit exceeded, with the figures; pass: the limits that hold. */
  message: string;
  /** status.rollout.analysis: the figures, rounded. */
  analysis: RolloutAnalysisStatus;
}

/**
 * Judges a step as soon as the candidate has minRequests predictions: it fails when any limit is exceeded (the
 * message names each, with both figures), passes when every one holds, and waits below minRequests. The p99 ratio is
 * judged only once the stable scorers have minRequests predictions too; the agreement of answers only on the shadow
 * step, once some have been compared.
 */
export function judgeStep(figures: StepFigures, limits: RolloutAnalysis, kind: StepKind): StepJudgment {
  const { candidate, stable, agreement } = figures;
  const candidateRate = errorRate(candidate);
  const stableRate = errorRate(stable);
  const candidateP99 = p99Ms(candidate);
  const stableP99 = p99Ms(stable);
  const share = agreement.rows === 0 ? undefined : agreement.agreeing / agreement.rows;
  const meanAbsDiff = agreement.values === 0 ? undefined : agreement.absDiffSum / agreement.values;
  const sideStatus = (s: SideFigures, rate: number, p99: number | undefined) => ({
    requests: roundRows(s.requests),
    errorRate: roundRate(rate),
    ...(p99 === undefined ? {} : { p99Ms: roundFigures(p99) }),
  });
  const analysis: RolloutAnalysisStatus = {
    pods: figures.pods,
    candidate: sideStatus(candidate, candidateRate, candidateP99),
    stable: sideStatus(stable, stableRate, stableP99),
    ...(kind === 'shadow'
      ? {
          agreement: {
            rows: roundRows(agreement.rows),
            share: roundRate(share ?? 0),
            ...(meanAbsDiff === undefined ? {} : { meanAbsDiff: roundFigures(meanAbsDiff) }),
          },
        }
      : {}),
  };
  const { minRequests, maxErrorRateIncrease, maxP99Ms, maxP99Ratio } = limits;
  const { minShare, maxMeanAbsDiff, tolerance } = limits.agreement;

  if (candidate.requests < minRequests) {
    return {
      verdict: 'wait',
      message:
        `${roundRows(candidate.requests)} of the ${minRequests} candidate predictions a step needs ` +
        '(analysis.minRequests)',
      analysis,
    };
  }
  const failures: string[] = [];
  if (candidateRate - stableRate > maxErrorRateIncrease) {
    failures.push(
      `candidate error rate ${rateText(candidateRate)} exceeds stable ${rateText(stableRate)} by more than ` +
        `${maxErrorRateIncrease} (analysis.maxErrorRateIncrease), over ${candidate.requests} candidate and ` +
        `${stable.requests} stable predictions`,
    );
  }
  if (maxP99Ms !== undefined && candidateP99 !== undefined && candidateP99 > maxP99Ms) {
    failures.push(`candidate p99 prediction time ${msText(candidateP99)} exceeds ${maxP99Ms} ms (analysis.maxP99Ms)`);
  }
  const ratioJudged =
    maxP99Ratio !== undefined && stable.requests >= minRequests && candidateP99 !== undefined && !!stableP99;
  if (ratioJudged && candidateP99 / stableP99 > maxP99Ratio) {
    failures.push(
      `candidate p99 prediction time ${msText(candidateP99)} is more than ${maxP99Ratio} times the stable ` +
        `${msText(stableP99)} (analysis.maxP99Ratio)`,
    );
  }
  if (kind === 'shadow' && share !== undefined) {
    if (share < minShare) {
      failures.push(
        `${rateText(share)} of ${agreement.rows} compared rows agree within tolerance ${tolerance}, below ` +
          `${minShare} (analysis.agreement.minShare)`,
      );
    }
    if (maxMeanAbsDiff !== undefined && meanAbsDiff !== undefined && meanAbsDiff > maxMeanAbsDiff) {
      failures.push(
        `mean absolute difference ${Number(meanAbsDiff.toPrecision(3))} of the compared output values exceeds ` +
          `${maxMeanAbsDiff} (analysis.agreement.maxMeanAbsDiff)`,
      );
    }
  }
  if (failures.length > 0) return { verdict: 'fail', message: failures.join('; '), analysis };
  if (kind === 'shadow' && share === undefined) {
    return {
      verdict: 'wait',
      message: "none of the candidate's answers has been compared with the stable ones yet",
      analysis,
    };
  }

  const held = [
    `candidate error rate within ${maxErrorRateIncrease} of the stable one`,
    ...(maxP99Ms !== undefined ? [`p99 within ${maxP99Ms} ms`] : []),
    ...(ratioJudged ? [`p99 within ${maxP99Ratio} times the stable one`] : []),
    ...(kind === 'shadow' ? [`at least ${minShare} of rows agree`] : []),
    ...(kind === 'shadow' && maxMeanAbsDiff !== undefined ? [`mean absolute difference within ${maxMeanAbsDiff}`] : []),
  ];
  return { verdict: 'pass', message: held.join(', '), analysis };
}
