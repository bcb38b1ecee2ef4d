/**
 * A pod's workers summed into the one answer the operator and Prometheus read from the pod: the drift windows, the
 * rollout step's counts and the request metrics. Sums of counts, as the operator itself sums replicas: exact where an
 * average of rates or PSIs is not.
 */
import { AggregatorRegistry } from 'prom-client';
import { psi, type CountedHistogram, type MonitoringReport } from '../../contract/drift.js';
import { addReportCounts, emptyLatency, type RolloutReport } from '../../contract/rollout.js';
import { RequestMetrics } from '../metrics.js';
import { driftMetricsText } from '../monitor/window.js';
import type { MetricsPart } from './peers.js';

/**
 * The pod's /metrics from its processes' parts: the registries' families by prom-client's cluster aggregation (summed
 * unless a metric says otherwise: the model's gauges are one pod's), the request counts and histograms added, the
 * drift window's PSIs worked out from the summed bins.
 */
export async function podMetricsText(parts: readonly MetricsPart[]): Promise<string> {
  const registry = AggregatorRegistry.aggregate(parts.map((p) => p.registry));
  const requests = RequestMetrics.sum(parts.flatMap((p) => (p.requests ? [p.requests] : [])));
  const drifts = parts.flatMap((p) => (p.drift ? [p.drift] : []));
  const drift =
    drifts.length === 0
      ? ''
      : driftMetricsText(
          sumMonitoringReports(drifts.map((d) => d.report)),
          drifts.reduce((n, d) => n + d.skippedRows, 0),
        );
  return `${await registry.metrics()}\n${requests.text()}${drift}`;
}

/**
 * The workers' drift windows (same baseline, same model) as one: bins added, the window from the earliest start to
 * the latest end, each PSI worked out again from the summed bins once they hold the report's minRows rows.
 */
export function sumMonitoringReports(reports: readonly MonitoringReport[]): MonitoringReport {
  const first = reports[0];
  if (!first) throw new Error('no monitoring report to sum');
  const sumHistograms = (pick: (r: MonitoringReport) => CountedHistogram[]): CountedHistogram[] =>
    pick(first).map((h, i) => {
      const counts = [...h.counts];
      for (const r of reports.slice(1)) pick(r)[i]?.counts.forEach((c, b) => (counts[b]! += c));
      const total = counts.reduce((a, b) => a + b, 0);
      const value = total >= first.minRows ? psi(h.expected, counts) : undefined;
      return { ...h, counts, psi: value ?? null };
    });
  const start = Math.min(...reports.map((r) => Date.parse(r.window.start)));
  const end = Math.max(...reports.map((r) => Date.parse(r.window.end)));
  return {
    ...first,
    window: {
      start: new Date(start).toISOString(),
      end: new Date(end).toISOString(),
      seconds: (end - start) / 1000,
      rows: reports.reduce((n, r) => n + r.window.rows, 0),
    },
    features: sumHistograms((r) => r.features),
    outputs: sumHistograms((r) => r.outputs),
  };
}

/**
 * The workers' rollout reports as one. Workers poll the routing each on its own, so for a moment after a change they
 * may follow different ones: the sum then carries every version and step joined by "|", which matches none, so the
 * operator treats the pod as one that has not yet settled on the new routing (it leaves its counts out of the step
 * and keeps the candidate), as it would a pod a moment behind. Requests in flight to the candidate are always summed.
 */
export function sumRolloutReports(reports: readonly RolloutReport[]): RolloutReport {
  const first = reports[0];
  if (!first) throw new Error('no rollout report to sum');
  const distinct = (values: string[]) => [...new Set(values)].sort().join('|');
  const sum: RolloutReport = {
    routing: {
      version: distinct(reports.map((r) => r.routing.version)),
      step: distinct(reports.map((r) => r.routing.step)),
    },
    inFlight: 0,
    stable: { requests: 0, errors: 0, latency: emptyLatency() },
    candidate: { requests: 0, errors: 0, latency: emptyLatency() },
    forwarded: 0,
    mirrored: 0,
    mirrorsSkipped: 0,
    agreement: { rows: 0, agreeing: 0, values: 0, absDiffSum: 0 },
  };
  for (const r of reports) addReportCounts(sum, r);
  return sum;
}
