/** The per-step counts a stable scorer serves as its RolloutReport. */
import { LATENCY_BOUNDS, NO_ROUTING, quantile, rolloutReportSchema, type Routing } from '../../../contract/rollout.js';
import { RolloutCounts } from '../../../scorer/rollout/counts.js';

const routing = (version: string, step: string): Routing => ({
  version,
  step,
  candidates: [],
  weight: 10,
  shadow: 0,
  tolerance: 0,
});

describe('RolloutCounts', () => {
  it('reports empty counts for the routing it starts with, valid against the contract', () => {
    const report = new RolloutCounts(NO_ROUTING).report();
    expect(rolloutReportSchema.parse(report)).toEqual(report);
    expect(report).toMatchObject({
      routing: { version: 'none', step: '' },
      inFlight: 0,
      stable: { requests: 0, errors: 0 },
      candidate: { requests: 0, errors: 0 },
      forwarded: 0,
      mirrored: 0,
      mirrorsSkipped: 0,
      agreement: { rows: 0, agreeing: 0, values: 0, absDiffSum: 0 },
    });
    expect(report.stable.latency.counts).toHaveLength(LATENCY_BOUNDS.length + 1);
  });

  it('counts requests, errors and the latency of successes into the histogram', () => {
    const counts = new RolloutCounts(routing('v1', 's1'));
    const step = counts.current;
    for (let i = 0; i < 99; i++) step.stable.succeeded(0.001);
    step.stable.succeeded(0.2);
    step.stable.failed();
    step.candidate.succeeded(0.004);
    step.forwarded = 1;
    const report = counts.report();
    expect(report.stable).toMatchObject({ requests: 101, errors: 1 });
    expect(report.candidate).toMatchObject({ requests: 1, errors: 0 });
    expect(report.stable.latency.counts.reduce((a, b) => a + b, 0)).toBe(100);
    expect(quantile(report.stable.latency, 0.5)).toBeLessThanOrEqual(0.001);
    expect(quantile(report.stable.latency, 0.999)).toBeGreaterThan(0.15);
    expect(rolloutReportSchema.safeParse(report).success).toBe(true);
  });

  it('starts afresh when the step changes, and keeps counting when only the version does', () => {
    const counts = new RolloutCounts(routing('v1', 's1'));
    counts.current.stable.succeeded(0.001);
    counts.follow(routing('v2', 's1'));
    expect(counts.report()).toMatchObject({ routing: { version: 'v2', step: 's1' }, stable: { requests: 1 } });
    counts.follow(routing('v3', 's2'));
    expect(counts.report()).toMatchObject({ routing: { version: 'v3', step: 's2' }, stable: { requests: 0 } });
  });

  it('keeps a prediction that finishes after a step change out of the new step', () => {
    const counts = new RolloutCounts(routing('v1', 's1'));
    const started = counts.current;
    counts.follow(routing('v2', 's2'));
    started.candidate.failed();
    expect(counts.report().candidate.requests).toBe(0);
  });

  it('reports the requests in flight whatever their step', () => {
    const counts = new RolloutCounts(routing('v1', 's1'));
    counts.inFlight = 2;
    counts.follow(routing('v2', 's2'));
    expect(counts.report().inFlight).toBe(2);
  });

  it('reports copies: later counting does not change a report already given', () => {
    const counts = new RolloutCounts(routing('v1', 's1'));
    const report = counts.report();
    counts.current.stable.succeeded(0.001);
    counts.current.agreed({ rows: 1, agreeing: 1, values: 1, absDiffSum: 0 });
    expect(report.stable.requests).toBe(0);
    expect(report.stable.latency.counts.every((c) => c === 0)).toBe(true);
    expect(report.agreement.rows).toBe(0);
  });
});
