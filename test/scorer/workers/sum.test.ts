/** The pod's answers summed over its workers: the drift window, the rollout counts and the request metrics. */
import { psi } from '../../../contract/drift.js';
import { emptyLatency, latencyBucket, type RolloutReport } from '../../../contract/rollout.js';
import { routingSettled, sumReports } from '../../../operator/rollout/analysis.js';
import { RequestMetrics } from '../../../scorer/metrics.js';
import { sumMonitoringReports, sumRolloutReports } from '../../../scorer/workers/sum.js';
import { report, SHARES } from '../../helpers/drift.js';

describe("the workers' drift windows summed", () => {
  it('adds the bins and rows, spans the windows, and works each PSI out again from the summed bins', () => {
    const a = report({ features: { x0: [100, 200, 0] }, outputs: { score: [150, 150, 0] } });
    const b = report({ features: { x0: [250, 100, 10] }, outputs: { score: [200, 160, 0] } });
    b.window = { start: '2026-11-25T00:00:05.000Z', end: '2026-11-25T00:10:01.000Z', seconds: 596, rows: 360 };
    const sum = sumMonitoringReports([a, b]);
    expect(sum.window).toEqual({
      start: '2026-11-25T00:00:00.000Z',
      end: '2026-11-25T00:10:01.000Z',
      seconds: 601,
      rows: 660,
    });
    expect(sum.features).toEqual([
      { name: 'x0', expected: SHARES, counts: [350, 300, 10], psi: psi(SHARES, [350, 300, 10]) },
    ]);
    expect(sum.outputs[0]!.counts).toEqual([350, 310, 0]);
    expect(sum.baseline).toEqual(a.baseline);
  });

  it('gives a PSI once the summed bins hold minRows rows, though no worker alone does', () => {
    const a = report({ features: { x0: [150, 150, 0] } });
    const b = report({ features: { x0: [100, 99, 0] } });
    expect(sumMonitoringReports([a, b]).features[0]!.psi).toBeNull();
    const c = report({ features: { x0: [100, 100, 0] } });
    expect(sumMonitoringReports([a, c]).features[0]!.psi).toBe(psi(SHARES, [250, 250, 0]));
  });
});

const rollout = (version: string, step: string, requests: number): RolloutReport => {
  const latency = emptyLatency();
  latency.counts[latencyBucket(0.001)] = requests;
  return {
    routing: { version, step },
    inFlight: 1,
    stable: { requests, errors: 1, latency },
    candidate: { requests: 2, errors: 0, latency: emptyLatency() },
    forwarded: 2,
    mirrored: 3,
    mirrorsSkipped: 1,
    agreement: { rows: 3, agreeing: 2, values: 6, absDiffSum: 0.5 },
  };
};

describe("the workers' rollout counts summed", () => {
  it('adds every count and histogram of workers that follow the same routing', () => {
    const sum = sumRolloutReports([rollout('v2', 's1', 10), rollout('v2', 's1', 30)]);
    expect(sum).toEqual({
      routing: { version: 'v2', step: 's1' },
      inFlight: 2,
      stable: { requests: 40, errors: 2, latency: rollout('v2', 's1', 40).stable.latency },
      candidate: { requests: 4, errors: 0, latency: emptyLatency() },
      forwarded: 4,
      mirrored: 6,
      mirrorsSkipped: 2,
      agreement: { rows: 6, agreeing: 4, values: 12, absDiffSum: 1 },
    });
    expect(sumReports([sum], 's1').stable.requests).toBe(40);
  });

  it('while the workers follow different routings, is a pod the operator leaves out and does not call settled', () => {
    const sum = sumRolloutReports([rollout('v2', 's1', 10), rollout('v3', 's2', 30)]);
    expect(sum.routing).toEqual({ version: 'v2|v3', step: 's1|s2' });
    expect(sumReports([sum], 's2').pods.answered).toBe(0);
    expect(routingSettled([sum], 'v3', 1)).toBe(false);
    // The same step under two versions (a weight changed): the counts are the step's, the routing not yet settled.
    const moving = sumRolloutReports([rollout('v2', 's1', 10), rollout('v3', 's1', 30)]);
    expect(sumReports([moving], 's1').stable.requests).toBe(40);
    expect(routingSettled([{ ...moving, inFlight: 0 }], 'v3', 1)).toBe(false);
  });
});

describe("the workers' request metrics summed", () => {
  it('writes what one process that saw every request would write', () => {
    const a = new RequestMetrics();
    const b = new RequestMetrics();
    const all = new RequestMetrics();
    const observe = (m: RequestMetrics, route: string, status: number, seconds: number) => {
      m.observe(route, 'POST', status, seconds);
      all.observe(route, 'POST', status, seconds);
      m.rows += 3;
      all.rows += 3;
    };
    observe(a, '/score', 200, 0.0004);
    observe(a, '/score', 200, 0.02);
    observe(b, '/score', 200, 0.003);
    observe(b, '/score', 400, 0.0001);
    observe(b, '/v2/models/:name/infer', 200, 7);
    a.inFlight = 2;
    b.inFlight = 1;
    all.inFlight = 3;
    expect(RequestMetrics.sum([a.snapshot(), JSON.parse(JSON.stringify(b.snapshot()))]).text()).toBe(all.text());
  });
});
