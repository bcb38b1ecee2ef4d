/**
 * A step judged from the stable scorers' reports (test/fixtures/rollout: three pods each, one of them counting
 * another step). The figures below were worked out by hand from the fixtures: bucket 9 of LATENCY_BOUNDS is
 * (1 ms, 1.5 ms], bucket 24 (300 ms, 500 ms], and a quantile is interpolated linearly inside its bucket.
 */
import { readFileSync } from 'node:fs';
import { rolloutReportSchema, type RolloutReport } from '../../../contract/rollout.js';
import { parseSpec, type RolloutAnalysis } from '../../../operator/api/v1alpha1.js';
import {
  judgeStep,
  roundFigures,
  roundRate,
  routingSettled,
  sumReports,
  type StepFigures,
} from '../../../operator/rollout/analysis.js';

const fixture = (name: string): RolloutReport[] =>
  (
    JSON.parse(readFileSync(new URL(`../../fixtures/rollout/${name}.json`, import.meta.url), 'utf8')) as {
      reports: unknown[];
    }
  ).reports.map((r) => rolloutReportSchema.parse(r));

const S1 = '7c1e9a0b2d/1/2026-11-25T10:00:00Z';
const S2 = '7c1e9a0b2d/2/2026-11-25T10:02:00Z';
const S3 = '7c1e9a0b2d/3/2026-11-25T10:07:00Z';

/** spec.rollout.analysis as the API server defaults it, with `over` on top. */
function limits(over: Record<string, unknown> = {}): RolloutAnalysis {
  const parsed = parseSpec({ model: { uri: 'm.onnx' }, rollout: { strategy: 'Shadow', shadow: {}, analysis: over } });
  if (!parsed.ok) throw new Error(parsed.message);
  return parsed.spec.rollout!.analysis;
}

const bucket = (counts: number[]) => Object.fromEntries(counts.flatMap((c, i) => (c > 0 ? [[i, c]] : [])));

describe('sumReports', () => {
  it("sums the counts of the reports for the current step only: a pod still on another step's counts is left out", () => {
    const figures = sumReports(fixture('canary-good'), S2);
    expect(figures.pods).toEqual({ answered: 2, asked: 3 });
    expect(figures.stable).toMatchObject({ requests: 990, errors: 1 });
    expect(bucket(figures.stable.latency.counts)).toEqual({ 9: 980, 10: 9 });
    expect(figures.candidate).toMatchObject({ requests: 110, errors: 0 });
    expect(bucket(figures.candidate.latency.counts)).toEqual({ 9: 109, 11: 1 });
    expect(figures).toMatchObject({ forwarded: 110, mirrored: 0, mirrorsSkipped: 0, inFlight: 0 });
    expect(figures.agreement).toEqual({ rows: 0, agreeing: 0, values: 0, absDiffSum: 0 });
  });

  it('sums agreement, mirrors and what is in flight; a pod that follows no routing yet counts nothing', () => {
    const figures = sumReports(fixture('shadow-disagree'), S1);
    expect(figures.pods).toEqual({ answered: 2, asked: 3 });
    expect(figures.agreement).toEqual({ rows: 1200, agreeing: 1080, values: 2400, absDiffSum: 72 });
    expect(figures).toMatchObject({ mirrored: 1200, mirrorsSkipped: 3, forwarded: 0 });
    expect(sumReports(fixture('canary-failing'), S2).inFlight).toBe(2);
  });

  it('counts as asked the ready pods that did not answer too', () => {
    expect(sumReports(fixture('canary-good'), S2, 5).pods).toEqual({ answered: 2, asked: 5 });
  });

  it('sums nothing when no report is for the step, without touching the reports', () => {
    const reports = fixture('canary-good');
    const before = structuredClone(reports);
    const figures = sumReports(reports, S3);
    expect(figures.pods).toEqual({ answered: 0, asked: 3 });
    expect(figures.candidate.requests).toBe(0);
    sumReports(reports, S2);
    expect(reports).toEqual(before);
  });
});

describe('routingSettled', () => {
  const reports = fixture('canary-good').slice(0, 2);

  it('holds when every pod asked follows the version and has nothing in flight', () => {
    expect(routingSettled(reports, 'a41f0c9e7b', 2)).toBe(true);
    expect(routingSettled([], 'a41f0c9e7b', 0)).toBe(true);
  });

  it('does not hold while a pod follows another version, has requests in flight, or did not answer', () => {
    expect(routingSettled(fixture('canary-good'), 'a41f0c9e7b', 3)).toBe(false);
    expect(routingSettled([reports[0]!, { ...reports[1]!, inFlight: 1 }], 'a41f0c9e7b', 2)).toBe(false);
    expect(routingSettled(reports, 'a41f0c9e7b', 3)).toBe(false);
  });
});

describe('judgeStep', () => {
  it('passes a good canary step, with the figures status shows', () => {
    const judged = judgeStep(sumReports(fixture('canary-good'), S2), limits(), 'canary');
    expect(judged.verdict).toBe('pass');
    expect(judged.message).toBe('candidate error rate within 0.01 of the stable one');
    // Candidate p99: rank 108.9 of 110 in bucket 9's 109, 1 + 0.5 * 108.9/109 = 1.4995 ms; stable: 1 error in 990,
    // rank 979.11 of 989 timed, in bucket 9's 980: 1.4995 ms.
    expect(judged.analysis).toEqual({
      pods: { answered: 2, asked: 3 },
      candidate: { requests: 110, errorRate: 0, p99Ms: 1.5 },
      stable: { requests: 990, errorRate: 0.001, p99Ms: 1.5 },
    });
  });

  it("fails a candidate that errs on 45% of real inputs, naming the limit and both sides' figures", () => {
    const judged = judgeStep(sumReports(fixture('canary-failing'), S2), limits(), 'canary');
    expect(judged.verdict).toBe('fail');
    expect(judged.message).toBe(
      'candidate error rate 0.4500 exceeds stable 0.0000 by more than 0.01 (analysis.maxErrorRateIncrease), over ' +
        '100 candidate and 900 stable predictions',
    );
    expect(judged.analysis.candidate).toEqual({ requests: 100, errorRate: 0.45, p99Ms: 1.5 });
  });

  it('judges as soon as the candidate has minRequests predictions, and waits below, saying how many of how many', () => {
    const figures = sumReports(fixture('canary-failing'), S2);
    expect(judgeStep(figures, limits({ minRequests: 100 }), 'canary').verdict).toBe('fail');
    const waiting = judgeStep(figures, limits({ minRequests: 101 }), 'canary');
    expect(waiting.verdict).toBe('wait');
    expect(waiting.message).toBe('100 of the 101 candidate predictions a step needs (analysis.minRequests)');
    expect(waiting.analysis.candidate.errorRate).toBe(0.45);
  });

  it("fails a slow candidate on its p99, absolute and as a ratio to the stable scorers'", () => {
    const figures = sumReports(fixture('canary-slow'), S3);
    // Candidate: 200 in bucket 24, rank 198: 300 + 200 * 198/200 = 498 ms. Stable: 1791 in bucket 9 of 1800,
    // rank 1782: 1 + 0.5 * 1782/1791 = 1.4975 ms.
    const judged = judgeStep(figures, limits({ maxP99Ms: 250, maxP99Ratio: 3, minRequests: 200 }), 'canary');
    expect(judged.verdict).toBe('fail');
    expect(judged.message).toBe(
      'candidate p99 prediction time 498 ms exceeds 250 ms (analysis.maxP99Ms); candidate p99 prediction time ' +
        '498 ms is more than 3 times the stable 1.5 ms (analysis.maxP99Ratio)',
    );
    expect(judged.analysis.candidate).toEqual({ requests: 200, errorRate: 0, p99Ms: 500 });
    expect(judgeStep(figures, limits({ maxP99Ms: 500, maxP99Ratio: 400, minRequests: 200 }), 'canary')).toMatchObject({
      verdict: 'pass',
      message:
        'candidate error rate within 0.01 of the stable one, p99 within 500 ms, p99 within 400 times the stable one',
    });
  });

  it('judges the p99 ratio only once the stable scorers have minRequests predictions too', () => {
    const figures: StepFigures = sumReports(fixture('canary-slow'), S3);
    const fewStable = { ...figures, stable: { ...figures.stable, requests: 150 } };
    expect(judgeStep(fewStable, limits({ maxP99Ratio: 3, minRequests: 200 }), 'canary')).toMatchObject({
      verdict: 'pass',
      message: 'candidate error rate within 0.01 of the stable one',
    });
  });

  it('fails a shadow step whose answers disagree, with the share, the rows and the tolerance', () => {
    const figures = sumReports(fixture('shadow-disagree'), S1);
    const judged = judgeStep(figures, limits(), 'shadow');
    expect(judged.verdict).toBe('fail');
    expect(judged.message).toBe(
      '0.9000 of 1200 compared rows agree within tolerance 0.000001, below 0.99 (analysis.agreement.minShare)',
    );
    expect(judged.analysis).toEqual({
      pods: { answered: 2, asked: 3 },
      candidate: { requests: 1200, errorRate: 0, p99Ms: 2 },
      stable: { requests: 1200, errorRate: 0, p99Ms: 1.5 },
      agreement: { rows: 1200, share: 0.9, meanAbsDiff: 0.03 },
    });
  });

  it('fails a shadow step on the mean absolute difference when a limit is set, and passes it otherwise', () => {
    const figures = sumReports(fixture('shadow-disagree'), S1);
    expect(judgeStep(figures, limits({ agreement: { minShare: 0.9, maxMeanAbsDiff: 0.01 } }), 'shadow')).toMatchObject({
      verdict: 'fail',
      message:
        'mean absolute difference 0.03 of the compared output values exceeds 0.01 (analysis.agreement.maxMeanAbsDiff)',
    });
    expect(judgeStep(figures, limits({ agreement: { minShare: 0.9 } }), 'shadow')).toMatchObject({
      verdict: 'pass',
      message: 'candidate error rate within 0.01 of the stable one, at least 0.9 of rows agree',
    });
    expect(judgeStep(figures, limits({ agreement: { minShare: 0.9, maxMeanAbsDiff: 0.05 } }), 'shadow')).toMatchObject({
      verdict: 'pass',
      message:
        'candidate error rate within 0.01 of the stable one, at least 0.9 of rows agree, ' +
        'mean absolute difference within 0.05',
    });
  });

  it('names every limit exceeded at once', () => {
    const figures = sumReports(fixture('shadow-disagree'), S1);
    figures.candidate.errors = 120;
    const judged = judgeStep(figures, limits({ agreement: { maxMeanAbsDiff: 0.01 } }), 'shadow');
    expect(judged.message.split('; ').map((m) => m.replace(/ .*\(/, ' ('))).toEqual([
      'candidate (analysis.maxErrorRateIncrease), over 1200 candidate and 1200 stable predictions',
      '0.9000 (analysis.agreement.minShare)',
      'mean (analysis.agreement.maxMeanAbsDiff)',
    ]);
  });

  it('waits on the shadow step until some answers have been compared', () => {
    const figures = sumReports(fixture('shadow-disagree'), S1);
    figures.agreement = { rows: 0, agreeing: 0, values: 0, absDiffSum: 0 };
    expect(judgeStep(figures, limits(), 'shadow')).toMatchObject({
      verdict: 'wait',
      message: "none of the candidate's answers has been compared with the stable ones yet",
    });
  });

  it('does not judge or show agreement on a canary step', () => {
    const judged = judgeStep(sumReports(fixture('shadow-disagree'), S1), limits(), 'canary');
    expect(judged.verdict).toBe('pass');
    expect(judged.analysis.agreement).toBeUndefined();
  });

  it('leaves p99 out when no candidate prediction succeeded, and judges the error rate alone', () => {
    const figures = sumReports(fixture('canary-good'), S2);
    figures.candidate = {
      ...figures.candidate,
      errors: 110,
      latency: { counts: figures.candidate.latency.counts.map(() => 0) },
    };
    const judged = judgeStep(figures, limits({ maxP99Ms: 1 }), 'canary');
    expect(judged.analysis.candidate).toEqual({ requests: 110, errorRate: 1 });
    expect(judged.message).toMatch(/^candidate error rate 1\.0000 exceeds stable 0\.0010 by more than 0\.01 /);
  });

  it('judges a step that forwards every request (no stable predictions) against a stable error rate of 0', () => {
    const figures = sumReports(fixture('canary-good'), S2);
    figures.stable = { requests: 0, errors: 0, latency: { counts: figures.stable.latency.counts.map(() => 0) } };
    const judged = judgeStep(figures, limits({ maxP99Ratio: 2 }), 'canary');
    expect(judged.analysis.stable).toEqual({ requests: 0, errorRate: 0 });
    expect(judged).toMatchObject({ verdict: 'pass', message: 'candidate error rate within 0.01 of the stable one' });
    figures.candidate.errors = 2;
    expect(judgeStep(figures, limits(), 'canary').verdict).toBe('fail');
  });

  it('rounds what status shows, so that a few more requests do not rewrite it', () => {
    const a = sumReports(fixture('canary-good'), S2);
    const b = structuredClone(a);
    b.stable.requests += 4;
    b.candidate.requests += 3;
    b.stable.latency.counts[9]! += 4;
    b.candidate.latency.counts[9]! += 3;
    a.stable.requests = 12_340;
    b.stable.requests = 12_349;
    expect(judgeStep(a, limits(), 'canary').analysis).toEqual(judgeStep(b, limits(), 'canary').analysis);
    expect(judgeStep(a, limits(), 'canary').analysis.stable.requests).toBe(12_000);
  });
});

describe('rounding', () => {
  it('keeps rates to 4 decimals and other figures to 2 significant ones', () => {
    expect(roundRate(0.012345)).toBe(0.0123);
    expect(roundRate(1 / 990)).toBe(0.001);
    expect([1.4995, 498, 0.012345, 0, 12_345].map(roundFigures)).toEqual([1.5, 500, 0.012, 0, 12_000]);
  });
});
