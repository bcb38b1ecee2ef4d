/**
 * The judgment across replicas, as pure functions: summing the scorers' counts, the PSI of the sum, the rounding that
 * keeps noise out of status, and what the Drifted condition says. The PSIs below were worked out by hand from
 * sum((a - e) * ln(a / e)) over the bins, both shares floored at 1e-4, against training shares [0.5, 0.5, 0].
 */
import type { Monitoring } from '../../../operator/api/v1alpha1.js';
import {
  commonBaseline,
  driftStatus,
  judge,
  roundPsi,
  roundRows,
  sumReports,
  type PodAnswer,
} from '../../../operator/drift/judge.js';
import { report, SHA_A, SHA_B, SHARES, type ReportOptions } from '../../helpers/drift.js';

const monitoring: Monitoring = {
  baseline: { uri: 's3://b/baseline.json' },
  threshold: 0.2,
  minRows: 100,
  intervalSeconds: 60,
};
const answer = (pod: string, o: ReportOptions): PodAnswer => ({ pod, report: report(o) });

describe('sumReports', () => {
  it("adds the windows' counts bin by bin, per histogram by name, in the first report's order", () => {
    const summed = sumReports([
      report({ features: { x0: [10, 40, 0], x1: [1, 2, 47] }, outputs: { score: [5, 45, 0] } }),
      report({ features: { x1: [3, 4, 3], x0: [0, 50, 0] }, outputs: { score: [1, 1, 0] }, rows: 50 }),
    ]);
    expect(summed).toEqual({
      rows: 100,
      features: [
        { name: 'x0', expected: SHARES, counts: [10, 90, 0] },
        { name: 'x1', expected: SHARES, counts: [4, 6, 50] },
      ],
      outputs: [{ name: 'score', expected: SHARES, counts: [6, 46, 0] }],
    });
  });

  it('leaves out a histogram whose bins are not those of the first report', () => {
    const summed = sumReports([report({ features: { x0: [1, 1, 0] } }), report({ features: { x0: [1, 1, 1, 1] } })]);
    expect(summed.features).toEqual([{ name: 'x0', expected: SHARES, counts: [1, 1, 0] }]);
  });
});

describe('commonBaseline', () => {
  const of = (sha256: string, rows = 10) => report({ features: { x0: [rows, 0, 0] }, sha256 });

  it("is spec.monitoring's digest when it names one", () => {
    expect(commonBaseline([of(SHA_A), of(SHA_A)], SHA_B.toUpperCase())).toBe(SHA_B);
  });

  it('is the one most scorers monitor against, then the one with more rows, then the lower digest', () => {
    expect(commonBaseline([of(SHA_B), of(SHA_A, 1), of(SHA_A, 1)])).toBe(SHA_A);
    expect(commonBaseline([of(SHA_A, 10), of(SHA_B, 20)])).toBe(SHA_B);
    expect(commonBaseline([of(SHA_B), of(SHA_A)])).toBe(SHA_A);
    expect(commonBaseline([])).toBeUndefined();
  });
});

describe('rounding', () => {
  it.each([
    [0, 0],
    [99, 99],
    [123, 120],
    [995, 1000],
    [12_345, 12_000],
    [987_654, 990_000],
  ])('rows %d are shown as %d', (rows, shown) => {
    expect(roundRows(rows)).toBe(shown);
  });

  it('a PSI to 2 decimals', () => {
    expect(roundPsi(0.8788898)).toBe(0.88);
    expect(roundPsi(0.0405465)).toBe(0.04);
    expect(roundPsi(4.6043185)).toBe(4.6);
  });
});

describe('judge', () => {
  it("computes the PSI of the summed counts, not an average of the scorers' own", () => {
    // Alone, the first window's PSI is 0.42 and the second's 4.60; their sum [10, 90, 0] has 0.88.
    const { figures } = judge(
      [answer('a', { features: { x0: [10, 40, 0] } }), answer('b', { features: { x0: [0, 50, 0] } })],
      monitoring,
    );
    expect(figures.features).toEqual([{ name: 'x0', psi: 0.88 }]);
  });

  it('is False when every PSI is at or below the threshold, naming the highest', () => {
    const judgment = judge(
      [
        answer('a', { features: { x0: [25, 25, 0], x1: [20, 30, 0] }, outputs: { score: [24, 26, 0] } }),
        answer('b', { features: { x0: [25, 25, 0], x1: [20, 30, 0] }, outputs: { score: [21, 29, 0] } }),
      ],
      monitoring,
    );
    expect(judgment).toEqual({
      figures: {
        windowRows: 100,
        pods: { answered: 2, asked: 2 },
        features: [
          { name: 'x1', psi: 0.04 },
          { name: 'x0', psi: 0 },
        ],
        outputs: [{ name: 'score', psi: 0.01 }],
      },
      condition: {
        type: 'Drifted',
        status: 'False',
        reason: 'PSIWithinThreshold',
        message: "every feature's and output's PSI is at or below the threshold 0.2 (the highest: x1 0.04)",
      },
    });
  });

  it('is True when a feature is above the threshold, naming the worst ones; status lists the top 3', () => {
    const features = { a: [50, 50, 0], b: [10, 90, 0], c: [30, 70, 0], d: [0, 100, 0], e: [20, 80, 0] };
    const judgment = judge([answer('a', { features, outputs: { score: [45, 55, 0] } })], monitoring);
    expect(judgment.figures.features).toEqual([
      { name: 'd', psi: 4.6 },
      { name: 'b', psi: 0.88 },
      { name: 'e', psi: 0.42 },
    ]);
    expect(judgment.condition).toEqual({
      type: 'Drifted',
      status: 'True',
      reason: 'PSIAboveThreshold',
      message: 'PSI above the threshold 0.2: features d 4.6, b 0.88, e 0.42',
    });
    // Equal PSIs in the baseline's order.
    const more = judge([answer('a', { features: { ...features, f: [20, 80, 0], c: [10, 90, 0] } })], monitoring);
    expect(more.condition.message).toBe('PSI above the threshold 0.2: features d 4.6, b 0.88, c 0.88 and 2 more');
  });

  it('is True when only an output is above the threshold', () => {
    const judgment = judge(
      [answer('a', { features: { x0: [50, 50, 0] }, outputs: { score: [10, 90, 0], 'p[1]': [50, 50, 0] } })],
      monitoring,
    );
    expect(judgment.figures.outputs).toEqual([
      { name: 'score', psi: 0.88 },
      { name: 'p[1]', psi: 0 },
    ]);
    expect(judgment.condition).toMatchObject({
      status: 'True',
      message: 'PSI above the threshold 0.2: outputs score 0.88',
    });
  });

  it('holds the threshold against the PSI as shown: 0.0405 is 0.04, not above 0.04', () => {
    const judgment = judge([answer('a', { features: { x0: [40, 60, 0] } })], { ...monitoring, threshold: 0.04 });
    expect(judgment.condition.status).toBe('False');
  });

  it('leaves out an output no request asked for (it has no rows)', () => {
    const judgment = judge(
      [answer('a', { features: { x0: [50, 50, 0] }, outputs: { score: [50, 50, 0], label: [0, 0, 0] } })],
      monitoring,
    );
    expect(judgment.figures.outputs).toEqual([{ name: 'score', psi: 0 }]);
  });

  it('is Unknown, TooFewRows, while the summed windows hold fewer than minRows rows, with no PSI', () => {
    const judgment = judge(
      [answer('a', { features: { x0: [0, 60, 0] } }), answer('b', { features: { x0: [0, 39, 0] } })],
      monitoring,
    );
    expect(judgment).toEqual({
      figures: { windowRows: 99, pods: { answered: 2, asked: 2 } },
      condition: {
        type: 'Drifted',
        status: 'Unknown',
        reason: 'TooFewRows',
        message: "the scorers' windows hold fewer rows than spec.monitoring.minRows (100): too few to judge",
      },
    });
  });

  it('counts the scorers that did not answer, and judges from the ones that did', () => {
    const judgment = judge(
      [
        { pod: 'a', failed: 'connect ECONNREFUSED 10.0.0.1:8080' },
        answer('b', { features: { x0: [50, 50, 0] } }),
        { pod: 'c', failed: 'no answer within 2000 ms' },
      ],
      monitoring,
    );
    expect(judgment.figures.pods).toEqual({ answered: 1, asked: 3 });
    expect(judgment.condition.status).toBe('False');
  });

  it('is Unknown, NoReadyScorers, with no scorer to ask', () => {
    expect(judge([], monitoring)).toEqual({
      figures: { windowRows: 0, pods: { answered: 0, asked: 0 } },
      condition: {
        type: 'Drifted',
        status: 'Unknown',
        reason: 'NoReadyScorers',
        message: 'no scorer pod is ready to be asked for its counts',
      },
    });
  });

  it("is Unknown, BaselineUnavailable, with the scorer's own words, when scorers cannot monitor", () => {
    const error = 'cannot fetch baseline s3://b/baseline.json: HTTP 404 Not Found';
    const judgment = judge(
      [
        { pod: 'a', failed: 'no answer within 2000 ms' },
        { pod: 'b', unavailable: error },
      ],
      monitoring,
    );
    expect(judgment.condition).toEqual({
      type: 'Drifted',
      status: 'Unknown',
      reason: 'BaselineUnavailable',
      message: error,
    });
    expect(judgment.figures.pods).toEqual({ answered: 0, asked: 2 });
  });

  it('is Unknown, NoReports, when no scorer answered, saying why of the first', () => {
    const judgment = judge(
      [
        { pod: 'a', failed: 'connect ECONNREFUSED 10.0.0.1:8080' },
        { pod: 'b', failed: 'HTTP 404' },
      ],
      monitoring,
    );
    expect(judgment.condition).toEqual({
      type: 'Drifted',
      status: 'Unknown',
      reason: 'NoReports',
      message: 'no scorer answered with its counts (0/2): a: connect ECONNREFUSED 10.0.0.1:8080',
    });
  });

  it('sums only the scorers of the common baseline (a rollout under way), or of the one the spec names', () => {
    const answers = [
      answer('a', { features: { x0: [50, 50, 0] }, sha256: SHA_A }),
      answer('b', { features: { x0: [50, 50, 0] }, sha256: SHA_A }),
      answer('c', { features: { x0: [0, 100, 0] }, sha256: SHA_B }),
    ];
    expect(judge(answers, monitoring).figures).toMatchObject({
      windowRows: 200,
      pods: { answered: 2, asked: 3 },
      features: [{ name: 'x0', psi: 0 }],
    });
    const named = judge(answers, { ...monitoring, baseline: { uri: 'b.json', sha256: SHA_B } });
    expect(named.figures).toMatchObject({
      windowRows: 100,
      pods: { answered: 1, asked: 3 },
      features: [{ name: 'x0', psi: 4.6 }],
    });
    const none = judge(answers.slice(0, 1), { ...monitoring, baseline: { uri: 'b.json', sha256: SHA_B } });
    expect(none.condition).toMatchObject({
      reason: 'NoReports',
      message: `no scorer answered with its counts (0/1): a monitors against baseline sha256 ${SHA_A}, not ${SHA_B}`,
    });
  });
});

describe('driftStatus', () => {
  const figures = { windowRows: 1200, pods: { answered: 2, asked: 2 }, features: [{ name: 'x0', psi: 0.1 }] };
  const then = new Date('2026-11-25T00:00:00.123Z');
  const later = new Date('2026-11-25T00:01:00Z');

  it('is stamped with the time of the judgment, to the second', () => {
    expect(driftStatus(figures, undefined, then)).toEqual({ judgedAt: '2026-11-25T00:00:00Z', ...figures });
  });

  it('keeps the previous judgedAt when the figures are the same, so that nothing is written', () => {
    const previous = driftStatus(figures, undefined, then);
    expect(driftStatus(structuredClone(figures), previous, later)).toEqual(previous);
  });

  it('moves judgedAt with the figures', () => {
    const previous = driftStatus(figures, undefined, then);
    expect(driftStatus({ ...figures, windowRows: 1300 }, previous, later).judgedAt).toBe('2026-11-25T00:01:00Z');
  });
});
