import { Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../contract/process-metrics.js';
import type { DriftWindow } from './monitor/window.js';

/** The request latency histogram's upper bounds, in seconds. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One route, method and status's requests: their count, and their latencies' sum and (non-cumulative) buckets. */
interface Series {
  count: number;
  sum: number;
  /** One slot per bound, then one for +Inf. */
  buckets: Float64Array;
}

/** RequestMetrics' counts as plain data (what a worker sends for the pod's one /metrics). */
export interface RequestSnapshot {
  inFlight: number;
  rows: number;
  series: { route: string; method: string; status: number; count: number; sum: number; buckets: number[] }[];
}

/**
 * The metrics of the request path, kept as plain numbers and written out at each scrape. prom-client's labelled
 * counter and histogram build and hash a label set on every call, pre-bound children included, which costs a request
 * time and garbage (the README's section on the scorer's metrics has the figures). Here a request looks up its
 * series in three maps and adds to it, allocating nothing once its route, method and status have been seen.
 */
export class RequestMetrics {
  /** Requests being served, scrapes and probes not included. */
  inFlight = 0;
  /** Rows (batch entries) scored by the model. */
  rows = 0;
  private readonly series = new Map<string, Map<string, Map<number, Series>>>();
  // The last request's series: a server's requests are mostly one route's 200s, and this comparison costs a request
  // less than the three map lookups (about 0.1 µs in situ, perf on the 1-row path).
  private last: { route: string; method: string; status: number; series: Series } | undefined;

  /** Counts a request to `route` answered with `status` after `seconds`. */
  observe(route: string, method: string, status: number, seconds: number): void {
    const last = this.last;
    let s: Series;
    if (last !== undefined && last.status === status && last.route === route && last.method === method) s = last.series;
    else this.last = { route, method, status, series: (s = this.seriesOf(route, method, status)) };
    s.count++;
    s.sum += seconds;
    let b = 0;
    while (b < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[b]!) b++;
    s.buckets[b]!++;
  }

  /** The counts as plain data, for another process to add up (RequestMetrics.sum). */
  snapshot(): RequestSnapshot {
    const series: RequestSnapshot['series'] = [];
    for (const [route, methods] of this.series) {
      for (const [method, statuses] of methods) {
        for (const [status, s] of statuses) {
          series.push({ route, method, status, count: s.count, sum: s.sum, buckets: [...s.buckets] });
        }
      }
    }
    return { inFlight: this.inFlight, rows: this.rows, series };
  }

  /** Several processes' counts added up. */
  static sum(snapshots: readonly RequestSnapshot[]): RequestMetrics {
    const total = new RequestMetrics();
    for (const snapshot of snapshots) {
      total.inFlight += snapshot.inFlight;
      total.rows += snapshot.rows;
      for (const { route, method, status, count, sum, buckets } of snapshot.series) {
        const s = total.seriesOf(route, method, status);
        s.count += count;
        s.sum += sum;
        buckets.forEach((n, i) => (s.buckets[i]! += n));
      }
    }
    return total;
  }

  /** The request families in Prometheus' text format, each line ending in a newline. */
  text(): string {
    const requests: string[] = [];
    // The latency histogram is by route and status: the series of every method added together.
    const latency = new Map<string, { labels: string; count: number; sum: number; buckets: Float64Array }>();
    for (const [route, methods] of this.series) {
      for (const [method, statuses] of methods) {
        for (const [status, s] of statuses) {
          requests.push(
            `scorer_requests_total{route="${escapeLabel(route)}",method="${escapeLabel(method)}",status="${status}"} ${s.count}`,
          );
          const labels = `route="${escapeLabel(route)}",status="${status}"`;
          let l = latency.get(labels);
          if (!l) latency.set(labels, (l = { labels, count: 0, sum: 0, buckets: new Float64Array(s.buckets.length) }));
          l.count += s.count;
          l.sum += s.sum;
          for (let i = 0; i < s.buckets.length; i++) l.buckets[i]! += s.buckets[i]!;
        }
      }
    }
    const lines = [
      '# HELP scorer_requests_total Scoring API requests by route, method and status code (not /metrics or the ' +
        'health probes).',
      '# TYPE scorer_requests_total counter',
      ...requests,
      '# HELP scorer_request_duration_seconds Scoring API request latency by route and status code, from the first ' +
        'byte read to the last byte written.',
      '# TYPE scorer_request_duration_seconds histogram',
    ];
    for (const { labels, count, sum, buckets } of latency.values()) {
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((bound, i) => {
        cumulative += buckets[i]!;
        lines.push(`scorer_request_duration_seconds_bucket{${labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`scorer_request_duration_seconds_bucket{${labels},le="+Inf"} ${count}`);
      lines.push(`scorer_request_duration_seconds_sum{${labels}} ${sum}`);
      lines.push(`scorer_request_duration_seconds_count{${labels}} ${count}`);
    }
    lines.push(
      '# HELP scorer_rows_scored_total Rows (batch entries) scored by the model.',
      '# TYPE scorer_rows_scored_total counter',
      `scorer_rows_scored_total ${this.rows}`,
      '# HELP scorer_inflight_requests Scoring API requests being served right now.',
      '# TYPE scorer_inflight_requests gauge',
      `scorer_inflight_requests ${this.inFlight}`,
    );
    return `${lines.join('\n')}\n`;
  }

  private seriesOf(route: string, method: string, status: number): Series {
    let methods = this.series.get(route);
    if (!methods) this.series.set(route, (methods = new Map()));
    let statuses = methods.get(method);
    if (!statuses) methods.set(method, (statuses = new Map()));
    let s = statuses.get(status);
    if (!s) statuses.set(status, (s = { count: 0, sum: 0, buckets: new Float64Array(LATENCY_BUCKETS.length + 1) }));
    return s;
  }
}

/** A label value in the text format: backslash, double quote and newline escaped. */
export function escapeLabel(value: string): string {
  return value.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** The scorer's Prometheus metrics, in a registry of its own (so tests can run several scorers in one process). */
export class ScorerMetrics {
  readonly registry = new Registry();
  readonly requests = new RequestMetrics();
  readonly modelLoadSeconds = new Gauge({
    name: 'scorer_model_load_seconds',
    help: 'Seconds taken to fetch, verify, parse and warm up the model.',
    registers: [this.registry],
    // Workers load at once: the pod's figure is its slowest worker's.
    aggregator: 'max',
  });
  readonly modelBytes = new Gauge({
    name: 'scorer_model_bytes',
    help: 'Size of the loaded model file in bytes.',
    registers: [this.registry],
    aggregator: 'first',
  });
  readonly modelInfo = new Gauge({
    name: 'scorer_model_info',
    help:
      'The model served, always 1: its name in the V2 API, its format, the SHA-256 of its file (empty for the ' +
      'identity model, which has none) and its URI (redacted as in the logs).',
    labelNames: ['name', 'format', 'sha256', 'uri'] as const,
    registers: [this.registry],
    aggregator: 'first',
  });

  /** Drift monitoring's window, while monitoring is on. */
  drift: DriftWindow | undefined;

  constructor() {
    collectProcessMetrics(this.registry);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Every metric in Prometheus' text format: the registry's, then the request path's, then drift monitoring's. */
  async text(): Promise<string> {
    return `${await this.registry.metrics()}\n${this.requests.text()}${this.drift?.metricsText() ?? ''}`;
  }
}
