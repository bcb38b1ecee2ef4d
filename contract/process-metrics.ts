/**
 * The process metric families the operator and the scorer both export (process_*, nodejs_*): one set, so that what
 * watches one process's memory, CPU and event loop watches the other's by the same names.
 */
import { collectDefaultMetrics, type Registry } from 'prom-client';

/** Adds the process metrics to `registry`. */
export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  // prom-client's three `_total` gauges fail promtool's lint (the suffix is for counters), and each is only the sum
  // of its family without the suffix, which stays: nodejs_active_handles, _requests and _resources, by type.
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
    registry.removeSingleMetric(name);
  }
}
