/** The operator's Prometheus metrics (prom-client), on its own registry. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'scoring_operator_reconciles_total',
    help: 'Reconciles by result (success, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'scoring_operator_reconcile_duration_seconds',
    help: 'Time to reconcile one ScoringModel.',
    buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly retries = new Counter({
    name: 'scoring_operator_retries_total',
    help: 'Keys requeued with backoff after an error.',
    registers: [this.registry],
  });
  readonly informerRestarts = new Counter({
    name: 'scoring_operator_informer_restarts_total',
    help: 'Informers restarted after a watch or list error, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: 'scoring_operator_api_writes_total',
    help: 'Write requests the operator sent to the API server, by verb and kind.',
    labelNames: ['verb', 'kind'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'scoring_operator_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [this.registry],
  });

  /** `queueDepth` is read at each scrape, so that every way a key enters or leaves the queue shows. */
  constructor(queueDepth: () => number) {
    // Registered, and read only through the registry.
    new Gauge({
      name: 'scoring_operator_queue_depth',
      help: 'Keys waiting in the work queue.',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
    collectDefaultMetrics({ register: this.registry });
  }
}
