import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The scorer's Prometheus metrics, in a registry of its own (so tests can run several scorers in one process). */
export class ScorerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'scorer_requests_total',
    help: 'HTTP requests by route, method and status code.',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'scorer_request_duration_seconds',
    help: 'HTTP request latency by route, from the first byte read to the last byte written.',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly rows = new Counter({
    name: 'scorer_rows_scored_total',
    help: 'Rows (batch entries) scored by the model.',
    registers: [this.registry],
  });
  readonly inFlight = new Gauge({
    name: 'scorer_inflight_requests',
    help: 'Requests being served right now.',
    registers: [this.registry],
  });
  readonly modelLoadSeconds = new Gauge({
    name: 'scorer_model_load_seconds',
    help: 'Seconds taken to fetch, verify, parse and warm up the model.',
    registers: [this.registry],
  });
  readonly modelBytes = new Gauge({
    name: 'scorer_model_bytes',
    help: 'Size of the loaded model file in bytes.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
