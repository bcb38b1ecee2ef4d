/**
 * The primary of a scorer with several workers (WORKERS > 1): it loads no model and serves no request. It forks the
 * workers (node:cluster, so that every listening socket a worker opens, HTTP's and any other, is shared among them),
 * tells them when the pod is ready, relays the gathering of the pod's summed answers, restarts a worker that dies,
 * and on SIGTERM has every worker drain.
 *
 * One readiness: the first workers listen at once (live) but answer ready only once all of them have loaded the model.
 * A worker that replaces a dead one listens only once its model is loaded, so that no request or probe lands on it
 * before; meanwhile the others serve.
 *
 * A worker that fails before it was ever ready (the model cannot be loaded: every worker would fail the same way)
 * stops the pod with its exit code, its termination message written. A worker that dies after it was ready (a crash,
 * the kernel's OOM killer picking one process) is replaced, up to MAX_RESTARTS within RESTART_WINDOW_MS; beyond
 * that the pod exits 1 and Kubernetes restarts the container, visibly.
 */
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { collectProcessMetrics } from '../../contract/process-metrics.js';
import { writeTerminationMessage } from '../load/termination.js';
import { isScorerMessage, type MetricsPart, type PartKind, type ToPrimary, type ToWorker } from './peers.js';

/** Set on a worker's environment: the workers in the pod, and whether it replaces one (it then listens late). */
export const WORKERS_ENV = 'SCORER_WORKERS';
export const REPLACEMENT_ENV = 'SCORER_REPLACEMENT';

export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 60_000;
/** How long the primary waits for a worker's part of a gathered answer; a worker that has not answered is left out. */
export const GATHER_TIMEOUT_MS = 2000;

export interface PrimaryOptions {
  workers: number;
  log: Logger;
  terminationLog: string;
}

/** Runs the primary; resolves with the exit code once every worker has exited. */
export function runPrimary({ workers, log, terminationLog }: PrimaryOptions): Promise<number> {
  const registry = new Registry();
  collectProcessMetrics(registry);
  const ready = new Set<Worker>();
  const everReady = new Set<Worker>();
  let podReady = false;
  let stopping = false;
  let code = 0;
  const restarts: number[] = [];
  /** Termination messages being written: the primary exits after them. */
  let written: Promise<void> = Promise.resolve();
  let nextGather = 0;
  const gathers = new Map<number, { parts: unknown[]; left: Set<Worker>; done: () => void }>();

  const fork = (replacement: boolean) => {
    const worker = cluster.fork({ [WORKERS_ENV]: String(workers), [REPLACEMENT_ENV]: replacement ? '1' : '' });
    worker.on('message', (m: unknown) => {
      if (isScorerMessage(m)) onMessage(worker, m as ToPrimary);
    });
    return worker;
  };

  const send = (worker: Worker, message: ToWorker) => {
    if (worker.isConnected()) worker.send(message);
  };

  const onMessage = (worker: Worker, message: ToPrimary) => {
    if (message.scorer === 'ready') {
      ready.add(worker);
      everReady.add(worker);
      if (podReady) return;
      if (ready.size === workers) {
        podReady = true;
        log.info({ workers }, 'every worker ready');
        for (const w of ready) send(w, { scorer: 'pod-ready' });
      }
    } else if (message.scorer === 'gather') {
      void gather(message.kind).then((parts) => send(worker, { scorer: 'gathered', id: message.id, parts }));
    } else if (message.scorer === 'part') {
      const g = gathers.get(message.id);
      if (!g || !g.left.delete(worker)) return;
      if (message.part !== null) g.parts.push(message.part);
      if (g.left.size === 0) g.done();
    }
  };

  /** Every ready worker's part (and for /metrics, the primary's own process metrics). */
  const gather = async (kind: PartKind): Promise<unknown[]> => {
    const id = nextGather++;
    const parts: unknown[] = [];
    const left = new Set([...ready].filter((w) => w.isConnected()));
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      gathers.set(id, { parts, left, done: resolve });
      timer = setTimeout(resolve, GATHER_TIMEOUT_MS);
      for (const w of left) send(w, { scorer: 'part?', id, kind });
      if (left.size === 0) resolve();
    });
    clearTimeout(timer);
    gathers.delete(id);
    if (kind === 'metrics') parts.push({ registry: await registry.getMetricsAsJSON() } satisfies MetricsPart);
    return parts;
  };

  const stop = (exitCode: number) => {
    if (stopping) return;
    stopping = true;
    code = exitCode;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
  };

  return new Promise((resolve) => {
    cluster.on('exit', (worker, exitCode, signal) => {
      const wasReady = everReady.has(worker);
      ready.delete(worker);
      for (const g of gathers.values()) if (g.left.delete(worker) && g.left.size === 0) g.done();
      const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
      const finish = () => {
        if (Object.keys(cluster.workers ?? {}).length > 0) return;
        log.info({ code }, 'every worker stopped');
        void written.then(() => log.flush(() => resolve(code)));
      };
      if (stopping) {
        // A worker that could not drain cleanly makes the pod's exit code non-zero.
        if (exitCode !== 0 && exitCode !== null && code === 0) code = exitCode;
        finish();
        return;
      }
      if (!wasReady) {
        // The worker wrote its own termination message for a load failure (a non-zero code); a signal left none.
        log.error({ worker: worker.id, code: exitCode, signal }, `a worker ${how} before its model was ready`);
        if (signal)
          written = writeTerminationMessage(terminationLog, `scorer: a worker ${how} while loading the model`);
        stop(exitCode || 1);
        finish();
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts[0]! < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        const line = `scorer: workers keep dying (${restarts.length} in ${RESTART_WINDOW_MS / 1000} s); the last ${how}`;
        log.error({ worker: worker.id, code: exitCode, signal }, line);
        written = writeTerminationMessage(terminationLog, line);
        stop(1);
        finish();
        return;
      }
      log.warn({ worker: worker.id, code: exitCode, signal }, `a worker ${how}: starting another`);
      fork(true);
    });

    const onSignal = (signal: string) => {
      log.info({ signal, workers }, 'shutting down: every worker drains its in-flight requests');
      stop(0);
    };
    process.once('SIGTERM', () => onSignal('SIGTERM'));
    process.once('SIGINT', () => onSignal('SIGINT'));

    log.info({ workers }, 'starting workers');
    for (let i = 0; i < workers; i++) fork(false);
  });
}
