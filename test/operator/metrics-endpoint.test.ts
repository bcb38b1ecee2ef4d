/** The operator's /metrics as its metrics server serves it over a socket, after real work went through its queue. */
import { startMetricsServer } from '../../operator/metrics-server.js';
import { OperatorMetrics } from '../../operator/metrics.js';
import { startWorkers, WorkQueue } from '../../operator/runtime/queue.js';
import { checkMetrics, itWithPromtool } from '../helpers/promtool.js';
import { waitFor } from '../helpers/wait.js';

describe("the operator's /metrics", () => {
  let scrape: () => Promise<string>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const metrics = new OperatorMetrics(2);
    const queue = new WorkQueue({ metrics: metrics.queue, baseDelayMs: 1 });
    metrics.readQueue(queue);
    const runs = new Map<string, number>();
    // As main.ts wires them. Each key runs twice: after an error, after a requeueAfter, after being added again.
    const workers = startWorkers(
      queue,
      2,
      async (key) => {
        const run = (runs.get(key) ?? 0) + 1;
        runs.set(key, run);
        if (key === 'ns/failing' && run === 1) throw new Error('conflict');
        if (key === 'ns/waiting' && run === 1) return { requeueAfterMs: 1 };
        if (key === 'ns/fine' && run === 1) queue.add(key);
      },
      {
        onSuccess: (_key, ms, requeueAfterMs) => metrics.reconciled(requeueAfterMs ? 'requeue_after' : 'success', ms),
        onError: (_key, _err, _retryInMs, ms) => metrics.reconciled('error', ms),
      },
    );
    // Plain HTTP (METRICS_SECURE=false); the access checks are test/operator/metrics-server.test.ts's.
    const server = await startMetricsServer({ port: 0, host: '127.0.0.1', metrics });
    scrape = async () => (await fetch(server.url)).text();
    for (const key of ['ns/fine', 'ns/failing', 'ns/waiting']) queue.add(key);
    await waitFor(
      'the queue to process its keys',
      async () => /^controller_runtime_reconcile_total\{[^}]*result="success"\} 4$/m.test(await scrape()),
      5000,
      10,
    );
    close = async () => {
      queue.shutDown();
      await workers;
      server.close();
    };
  });
  afterAll(() => close());

  it('counts each reconcile by result, and each key through the queue', async () => {
    const text = await scrape();
    const c = 'controller="scoringmodel"';
    const q = `name="scoringmodel",${c}`;
    expect(text).toContain(`\ncontroller_runtime_reconcile_total{${c},result="success"} 4\n`);
    expect(text).toContain(`\ncontroller_runtime_reconcile_total{${c},result="requeue_after"} 1\n`);
    expect(text).toContain(`\ncontroller_runtime_reconcile_total{${c},result="error"} 1\n`);
    expect(text).toContain(`\ncontroller_runtime_reconcile_errors_total{${c}} 1\n`);
    expect(text).toContain(`\ncontroller_runtime_reconcile_time_seconds_count{${c}} 6\n`);
    expect(text).toContain(`\nworkqueue_adds_total{${q}} 6\n`);
    expect(text).toContain(`\nworkqueue_retries_total{${q}} 2\n`);
    expect(text).toContain(`\nworkqueue_queue_duration_seconds_count{${q}} 6\n`);
    expect(text).toContain(`\nworkqueue_work_duration_seconds_count{${q}} 6\n`);
    expect(text).toContain(`\nworkqueue_depth{${q},priority=""} 0\n`);
  });

  itWithPromtool('passes promtool check metrics', async (promtool) => {
    expect(checkMetrics(promtool, await scrape())).toEqual({ status: 0, output: '' });
  });
});
