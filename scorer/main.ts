/**
 * The scorer's entry point: `node dist/scorer/main.js` with the MODEL_* environment (the operator's contract),
 * or `npm run scorer -- --model ./model.onnx` locally.
 */
import cluster from 'node:cluster';
import { pino } from 'pino';
import { SCORER_ENV, TERMINATION_LOG } from '../contract/env.js';
import { ConfigError } from '../contract/settings.js';
import { loadScorerConfig } from './config.js';
import { ModelLoadError } from './errors.js';
import { loadModel } from './load/index.js';
import { batchedDestination, type LineBatch } from './log-batch.js';
import { writeTerminationMessage } from './load/termination.js';
import { startScorer } from './server.js';
import { defaultWorkers } from './workers/count.js';
import { clusterPeers, soloPeers } from './workers/peers.js';
import { REPLACEMENT_ENV, runPrimary, WORKERS_ENV } from './workers/primary.js';

/**
 * Where the log lines go: standard output, through a LineBatch (log-batch.ts says why and how), then pino's own
 * destination, synchronous, which writes each batch at once.
 */
function logDestination(): LineBatch {
  return batchedDestination(1);
}

async function main(): Promise<number | undefined> {
  let config;
  try {
    config = loadScorerConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const line = `scorer: ${err.message}`;
    process.stderr.write(`${line}\n`);
    await writeTerminationMessage(process.env[SCORER_ENV.terminationLog] || TERMINATION_LOG, line);
    return 2;
  }

  const workers = cluster.isWorker ? Number(process.env[WORKERS_ENV]) : (config.workers ?? defaultWorkers());
  const log = pino(
    {
      level: config.logLevel,
      base: { component: 'scorer', ...(cluster.isWorker && { worker: cluster.worker!.id, pid: process.pid }) },
    },
    logDestination(),
  );
  if (cluster.isPrimary && workers > 1) {
    return runPrimary({ workers, log, terminationLog: config.terminationLog });
  }
  const replacement = cluster.isWorker && process.env[REPLACEMENT_ENV] === '1';
  const scorer = await startScorer(config, log, (c) => loadModel(c, log), {
    peers: cluster.isWorker ? clusterPeers(workers, replacement) : soloPeers(),
    listenLate: replacement,
  });

  const stop = (signal: string) => {
    log.info({ signal }, 'shutting down: draining in-flight requests');
    scorer.shutdown().then(
      () => {
        log.info('stopped');
        log.flush(() => process.exit(0));
      },
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));

  try {
    await scorer.ready;
  } catch (err) {
    // One plain line, the same one Kubernetes shows as the container's termination message.
    const line = (err instanceof ModelLoadError ? err : new ModelLoadError(config.modelUri, String(err))).message;
    await new Promise<void>((resolve) => log.flush(() => resolve()));
    process.stderr.write(`${line}\n`);
    await writeTerminationMessage(config.terminationLog, line);
    return 1;
  }
  return undefined;
}

main().then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(`scorer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
