/** Starts the scorer: listen first (live, not ready), load and warm up the model, then report ready. */
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ScorerConfig } from './config.js';
import { ModelLoadError } from './errors.js';
import { createApp, type ScorerState } from './http/app.js';
import { ScorerMetrics } from './metrics.js';
import type { Model } from './model.js';
import { warmUp } from './warmup.js';

export interface LoadedModel {
  model: Model;
  bytes: number;
}

export interface Scorer {
  readonly url: string;
  readonly server: Server;
  readonly state: ScorerState;
  readonly metrics: ScorerMetrics;
  /** Resolves once the model is loaded and warmed up; rejects with a ModelLoadError. */
  readonly ready: Promise<Model>;
  /** Stops accepting, finishes in-flight requests (at most `timeoutMs`), releases the model. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export async function startScorer(
  config: ScorerConfig,
  log: Logger,
  load: (config: ScorerConfig) => Promise<LoadedModel>,
): Promise<Scorer> {
  const metrics = new ScorerMetrics();
  const state: ScorerState = { model: undefined, draining: false };
  const app = createApp({ state, metrics, log, maxBodyBytes: config.maxBodyBytes, maxRows: config.maxRows });
  const server = app.listen(config.port, config.host);
  // Keep-alive longer than common load balancers' idle timeouts, so they close first and never reuse a dead socket.
  server.keepAliveTimeout = 65_000;
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ url }, 'listening');

  const ready = (async () => {
    const started = process.hrtime.bigint();
    const { model, bytes } = await load(config);
    try {
      await warmUp(model);
    } catch (err) {
      await model.dispose().catch(() => undefined);
      throw new ModelLoadError(config.modelUri, `warm-up prediction failed: ${(err as Error).message}`, { cause: err });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.modelLoadSeconds.set(seconds);
    metrics.modelBytes.set(bytes);
    state.model = model;
    log.info(
      { model: model.name, format: model.format, bytes, seconds, inputs: model.inputs, outputs: model.outputs },
      'model ready',
    );
    return model;
  })();
  ready.catch(() => undefined);

  let stopping: Promise<void> | undefined;
  const shutdown = (timeoutMs = config.shutdownTimeoutMs): Promise<void> => {
    stopping ??= (async () => {
      state.draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // close() ends idle keep-alive connections once; those that finish a request later are ended as they go idle.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      });
      const late = await Promise.race([closed.then(() => false), timedOut]);
      clearTimeout(timer);
      clearInterval(sweep);
      if (late) {
        log.warn({ timeoutMs }, 'in-flight requests did not finish in time; closing their connections');
        server.closeAllConnections();
      }
      await state.model?.dispose();
    })();
    return stopping;
  };

  return { url, server, state, metrics, ready, shutdown };
}
