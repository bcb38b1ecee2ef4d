/**
 * The operator's Prometheus metrics (prom-client), on its own registry. The controller's and its work queue's are
 * the families controller-runtime exports (pkg/internal/controller/metrics, pkg/internal/metrics/workqueue.go), with
 * their names, labels, types and buckets, so that the dashboards and alerts written for controller-runtime operators
 * work on this one; the rest are the operator's own, prefixed `scoring_operator_`.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { collectProcessMetrics } from '../contract/process-metrics.js';
import type { ScoringModelObject } from './api/v1alpha1.js';
import type { QueueGauges, QueueMetrics } from './runtime/queue.js';

/** The controller's name in the `controller` label, and its work queue's in `name` (controller-runtime's rule). */
export const CONTROLLER_NAME = 'scoringmodel';

/**
 * How a reconcile ended: controller-runtime's `result` label. `requeue` (its deprecated `Result.Requeue`) has no
 * counterpart here and stays 0, present as in controller-runtime.
 */
export type ReconcileResultLabel = 'success' | 'error' | 'requeue' | 'requeue_after';
const RESULTS: readonly ReconcileResultLabel[] = ['success', 'error', 'requeue', 'requeue_after'];

/** controller-runtime's reconcile_time_seconds buckets. */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75,
  2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** client-go's workqueue buckets: ExponentialBuckets(10e-9, 10, 12), 10 ns to 1000 s. */
const WORKQUEUE_BUCKETS = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];

export class OperatorMetrics {
  readonly registry = new Registry();

  readonly informerRestarts = new Counter({
    name: 'scoring_operator_informer_restarts_total',
    help: 'Informers restarted after a watch or list error, by resource.',
    labelNames: ['resource'] as const,
    registers: [this.registry],
  });
  readonly writes = new Counter({
    name: 'scoring_operator_api_writes_total',
    help:
      'Write requests the operator sent to the API server, counted once answered, by verb, kind and result ' +
      '("success", the HTTP status code of a refusal, or "error" when no answer came).',
    labelNames: ['verb', 'kind', 'result'] as const,
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'scoring_operator_leader',
    help: '1 while this replica holds the leader Lease.',
    registers: [this.registry],
  });

  private readonly reconcileTotal = new Counter({
    name: 'controller_runtime_reconcile_total',
    help: 'Total number of reconciliations per controller',
    labelNames: ['controller', 'result'] as const,
    registers: [this.registry],
  });
  private readonly reconcileErrors = new Counter({
    name: 'controller_runtime_reconcile_errors_total',
    help: 'Total number of reconciliation errors per controller',
    labelNames: ['controller'] as const,
    registers: [this.registry],
  });
  private readonly reconcileTime = new Histogram({
    name: 'controller_runtime_reconcile_time_seconds',
    help: 'Length of time per reconciliation per controller',
    labelNames: ['controller'] as const,
    buckets: RECONCILE_BUCKETS,
    registers: [this.registry],
  });
  private readonly controller = { controller: CONTROLLER_NAME };
  /** controller-runtime labels its queue's series with the queue's name and its controller's, both the same. */
  private readonly queueLabels = { name: CONTROLLER_NAME, controller: CONTROLLER_NAME };
  private gauges: QueueGauges | undefined;
  private models: (() => Iterable<ScoringModelObject>) | undefined;

  /** What the work queue reports, into the `workqueue_*` families. */
  readonly queue: QueueMetrics;

  constructor(maxConcurrentReconciles: number) {
    for (const result of RESULTS) this.reconcileTotal.inc({ ...this.controller, result }, 0);
    this.reconcileErrors.inc(this.controller, 0);
    this.reconcileTime.zero(this.controller);
    new Gauge({
      name: 'controller_runtime_max_concurrent_reconciles',
      help: 'Maximum number of concurrent reconciles per controller',
      labelNames: ['controller'] as const,
      registers: [this.registry],
    }).set(this.controller, maxConcurrentReconciles);
    this.gauge(
      'controller_runtime_active_workers',
      'Number of currently used workers per controller',
      this.controller,
      (q) => q.active(),
    );
    this.queue = this.queueFamilies();
    this.modelConditions();
    collectProcessMetrics(this.registry);
  }

  /** From now on the queue gauges (depth, unfinished work, active workers) show `queue`'s state at each scrape. */
  readQueue(queue: QueueGauges): void {
    this.gauges = queue;
  }

  /** From now on the model condition gauge shows the statuses of `models` (the informers' cache) at each scrape. */
  readModels(models: () => Iterable<ScoringModelObject>): void {
    this.models = models;
  }

  /** Counts a reconcile that ended as `result` after `ms`, as controller-runtime's reconcileHandler does. */
  reconciled(result: ReconcileResultLabel, ms: number): void {
    this.reconcileTotal.inc({ ...this.controller, result });
    if (result === 'error') this.reconcileErrors.inc(this.controller);
    this.reconcileTime.observe(this.controller, ms / 1000);
  }

  /**
   * Each ScoringModel's status conditions as the cache holds them, one series of value 1 per condition, as
   * kube-state-metrics shows a pod's: so that alerts on readiness and load failures need nothing but the operator.
   * Every replica holds the same cache, hence the same series: rules aggregate over the replicas.
   */
  private modelConditions(): void {
    const models = () => this.models?.() ?? [];
    new Gauge({
      name: 'scoring_operator_model_condition',
      help:
        "A ScoringModel's status condition (kubectl get sm: READY, and the other conditions), always 1: its " +
        'namespace, model name, type, status (True, False, Unknown) and reason.',
      labelNames: ['namespace', 'model', 'type', 'status', 'reason'] as const,
      registers: [this.registry],
      collect() {
        this.reset();
        for (const sm of models()) {
          for (const c of sm.status?.conditions ?? []) {
            this.set(
              {
                namespace: sm.metadata.namespace ?? '',
                model: sm.metadata.name,
                type: c.type,
                status: c.status,
                reason: c.reason ?? '',
              },
              1,
            );
          }
        }
      },
    });
  }

  private queueFamilies(): QueueMetrics {
    const labels = this.queueLabels;
    // controller-runtime's depth also carries the priority of its priority queue; this queue has none, so the label
    // is empty, which Prometheus stores as no label at all.
    this.gauge(
      'workqueue_depth',
      'Current depth of workqueue by workqueue and priority',
      { ...labels, priority: '' },
      (q) => q.depth(),
    );
    this.gauge(
      'workqueue_unfinished_work_seconds',
      "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
        'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at ' +
        'which this increases.',
      labels,
      (q) => q.unfinishedWork().seconds,
    );
    this.gauge(
      'workqueue_longest_running_processor_seconds',
      'How many seconds has the longest running processor for workqueue been running.',
      labels,
      (q) => q.unfinishedWork().longestSeconds,
    );
    const counter = (name: string, help: string) => {
      const c = new Counter({ name, help, labelNames: ['name', 'controller'] as const, registers: [this.registry] });
      c.inc(labels, 0);
      return c;
    };
    const histogram = (name: string, help: string) => {
      const h = new Histogram({
        name,
        help,
        labelNames: ['name', 'controller'] as const,
        buckets: WORKQUEUE_BUCKETS,
        registers: [this.registry],
      });
      h.zero(labels);
      return h;
    };
    const adds = counter('workqueue_adds_total', 'Total number of adds handled by workqueue');
    const retries = counter(
      'workqueue_retries_total',
      'Total number of items added to the workqueue with a non-zero delay (rate-limited requeues, explicit ' +
        'RequeueAfter or AddAfter calls)',
    );
    const waited = histogram(
      'workqueue_queue_duration_seconds',
      'How long in seconds an item stays in workqueue before being requested',
    );
    const worked = histogram(
      'workqueue_work_duration_seconds',
      'How long in seconds processing an item from workqueue takes.',
    );
    return {
      added: () => adds.inc(labels),
      retried: () => retries.inc(labels),
      waited: (seconds) => waited.observe(labels, seconds),
      worked: (seconds) => worked.observe(labels, seconds),
    };
  }

  /** A gauge of the queue's state, read at each scrape (0 until `readQueue`); registered, read only by the registry. */
  private gauge(name: string, help: string, labels: Record<string, string>, value: (q: QueueGauges) => number): void {
    const queue = () => this.gauges;
    new Gauge({
      name,
      help,
      labelNames: Object.keys(labels),
      registers: [this.registry],
      collect() {
        const q = queue();
        this.set(labels, q ? value(q) : 0);
      },
    });
  }
}
