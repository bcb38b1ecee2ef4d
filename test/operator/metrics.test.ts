import type { ScoringModelObject } from '../../operator/api/v1alpha1.js';
import { CONTROLLER_NAME, OperatorMetrics } from '../../operator/metrics.js';
import { ManualClock } from '../../operator/runtime/clock.js';
import { WorkQueue } from '../../operator/runtime/queue.js';

/** The value of one series in a scrape, e.g. `workqueue_depth{...}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const Q = `name="${CONTROLLER_NAME}",controller="${CONTROLLER_NAME}"`;
const C = `controller="${CONTROLLER_NAME}"`;

describe('OperatorMetrics', () => {
  it("declares controller-runtime's families with their names, types and label names, and no other of theirs", async () => {
    const families = await new OperatorMetrics(4).registry.getMetricsAsJSON();
    const shapes = Object.fromEntries(
      families
        .filter((f) => /^(controller_runtime|workqueue)_/.test(f.name))
        .map((f) => {
          const labels = new Set(f.values.flatMap((v) => Object.keys(v.labels)).filter((l) => l !== 'le'));
          return [f.name, `${String(f.type)} ${[...labels].sort().join(',')}`];
        }),
    );
    const queue = 'controller,name';
    expect(shapes).toEqual({
      controller_runtime_reconcile_total: 'counter controller,result',
      controller_runtime_reconcile_errors_total: 'counter controller',
      controller_runtime_reconcile_time_seconds: 'histogram controller',
      controller_runtime_max_concurrent_reconciles: 'gauge controller',
      controller_runtime_active_workers: 'gauge controller',
      workqueue_depth: `gauge ${queue},priority`,
      workqueue_adds_total: `counter ${queue}`,
      workqueue_retries_total: `counter ${queue}`,
      workqueue_queue_duration_seconds: `histogram ${queue}`,
      workqueue_work_duration_seconds: `histogram ${queue}`,
      workqueue_unfinished_work_seconds: `gauge ${queue}`,
      workqueue_longest_running_processor_seconds: `gauge ${queue}`,
    });
  });

  it('exports every reconcile result of controller "scoringmodel" from the start, at 0, as controller-runtime does', async () => {
    const text = await new OperatorMetrics(4).registry.metrics();
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) {
      expect(sample(text, `controller_runtime_reconcile_total{${C},result="${result}"}`)).toBe(0);
    }
    expect(sample(text, `controller_runtime_reconcile_errors_total{${C}}`)).toBe(0);
    expect(sample(text, `controller_runtime_reconcile_time_seconds_count{${C}}`)).toBe(0);
    expect(sample(text, `controller_runtime_max_concurrent_reconciles{${C}}`)).toBe(4);
    expect(sample(text, `controller_runtime_active_workers{${C}}`)).toBe(0);
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(0);
  });

  it('counts a reconcile by its result, an error also in reconcile_errors_total, and times each', async () => {
    const metrics = new OperatorMetrics(4);
    metrics.reconciled('success', 20);
    metrics.reconciled('requeue_after', 30);
    metrics.reconciled('error', 3000);
    const text = await metrics.registry.metrics();
    expect(sample(text, `controller_runtime_reconcile_total{${C},result="success"}`)).toBe(1);
    expect(sample(text, `controller_runtime_reconcile_total{${C},result="requeue_after"}`)).toBe(1);
    expect(sample(text, `controller_runtime_reconcile_total{${C},result="error"}`)).toBe(1);
    expect(sample(text, `controller_runtime_reconcile_errors_total{${C}}`)).toBe(1);
    expect(sample(text, `controller_runtime_reconcile_time_seconds_count{${C}}`)).toBe(3);
    expect(sample(text, `controller_runtime_reconcile_time_seconds_sum{${C}}`)).toBeCloseTo(3.05);
    expect(sample(text, `controller_runtime_reconcile_time_seconds_bucket{le="0.025",${C}}`)).toBe(1);
    expect(sample(text, `controller_runtime_reconcile_time_seconds_bucket{le="3",${C}}`)).toBe(3);
  });
});

describe('the work queue metrics, on the queue clock', () => {
  const setUp = () => {
    const clock = new ManualClock();
    const metrics = new OperatorMetrics(2);
    const queue = new WorkQueue({ clock, metrics: metrics.queue, baseDelayMs: 100 });
    metrics.readQueue(queue);
    return { clock, queue, scrape: () => metrics.registry.metrics() };
  };

  it('time how long a key waited and how long it was worked on', async () => {
    const { clock, queue, scrape } = setUp();
    queue.add('a');
    await clock.advance(2000);
    await queue.get();
    await clock.advance(30);
    queue.done('a');
    const text = await scrape();
    expect(sample(text, `workqueue_queue_duration_seconds_sum{${Q}}`)).toBe(2);
    expect(sample(text, `workqueue_queue_duration_seconds_bucket{le="1",${Q}}`)).toBe(0);
    expect(sample(text, `workqueue_queue_duration_seconds_bucket{le="10",${Q}}`)).toBe(1);
    expect(sample(text, `workqueue_work_duration_seconds_sum{${Q}}`)).toBeCloseTo(0.03);
    expect(sample(text, `workqueue_work_duration_seconds_count{${Q}}`)).toBe(1);
  });

  it('show the work in progress at each scrape: unfinished seconds, the longest, the busy workers', async () => {
    const { clock, queue, scrape } = setUp();
    queue.add('a');
    await queue.get();
    await clock.advance(3000);
    queue.add('b');
    await queue.get();
    await clock.advance(1000);
    let text = await scrape();
    expect(sample(text, `workqueue_unfinished_work_seconds{${Q}}`)).toBe(5);
    expect(sample(text, `workqueue_longest_running_processor_seconds{${Q}}`)).toBe(4);
    expect(sample(text, `controller_runtime_active_workers{${C}}`)).toBe(2);
    queue.done('a');
    queue.done('b');
    text = await scrape();
    expect(sample(text, `workqueue_unfinished_work_seconds{${Q}}`)).toBe(0);
    expect(sample(text, `controller_runtime_active_workers{${C}}`)).toBe(0);
  });

  it('count a key once per time it becomes due, in depth and adds, a key re-added while processed included', async () => {
    const { queue, scrape } = setUp();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    let text = await scrape();
    expect(sample(text, `workqueue_depth{${Q},priority=""}`)).toBe(2);
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(2);
    await queue.get();
    queue.add('a');
    text = await scrape();
    expect(sample(text, `workqueue_depth{${Q},priority=""}`)).toBe(2);
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(3);
    queue.done('a');
    text = await scrape();
    expect(sample(text, `workqueue_depth{${Q},priority=""}`)).toBe(2);
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(3);
  });

  it('count every delayed add as a retry, and its key as added when its delay has passed', async () => {
    const { clock, queue, scrape } = setUp();
    queue.addRateLimited('a');
    queue.addAfter('b', 500);
    queue.addAfter('c', 0);
    let text = await scrape();
    expect(sample(text, `workqueue_retries_total{${Q}}`)).toBe(2);
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(1);
    await clock.advance(500);
    text = await scrape();
    expect(sample(text, `workqueue_adds_total{${Q}}`)).toBe(3);
    expect(sample(text, `workqueue_depth{${Q},priority=""}`)).toBe(3);
  });
});

describe('scoring_operator_model_condition', () => {
  it("shows each cached ScoringModel's conditions at each scrape, one series of 1 per condition", async () => {
    const metrics = new OperatorMetrics(1);
    const condition = (type: string, status: 'True' | 'False' | 'Unknown', reason: string) => ({
      type,
      status,
      reason,
      message: '',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
    let models: ScoringModelObject[] = [
      {
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        metadata: { namespace: 'shop', name: 'churn', uid: 'u1' },
        status: {
          conditions: [
            condition('Ready', 'False', 'ModelLoadFailed'),
            condition('ModelLoaded', 'False', 'ModelLoadFailed'),
          ],
        },
      },
      {
        apiVersion: 'scoring.dev/v1alpha1',
        kind: 'ScoringModel',
        metadata: { namespace: 'shop', name: 'new', uid: 'u2' },
      },
    ];
    metrics.readModels(() => models);
    const text = await metrics.registry.metrics();
    expect(text.split('\n').filter((l) => l.startsWith('scoring_operator_model_condition{'))).toEqual([
      'scoring_operator_model_condition{namespace="shop",model="churn",type="Ready",status="False",reason="ModelLoadFailed"} 1',
      'scoring_operator_model_condition{namespace="shop",model="churn",type="ModelLoaded",status="False",reason="ModelLoadFailed"} 1',
    ]);
    // A condition that changed leaves no series behind, nor does a model deleted.
    models = [{ ...models[0]!, status: { conditions: [condition('Ready', 'True', 'Available')] } }];
    expect(
      (await metrics.registry.metrics()).split('\n').filter((l) => l.startsWith('scoring_operator_model_condition{')),
    ).toEqual([
      'scoring_operator_model_condition{namespace="shop",model="churn",type="Ready",status="True",reason="Available"} 1',
    ]);
    models = [];
    expect(await metrics.registry.metrics()).not.toMatch(/^scoring_operator_model_condition\{/m);
  });
});
