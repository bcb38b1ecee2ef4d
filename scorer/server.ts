/** Starts the scorer: listen first (live, not ready), load and warm up the model, then report ready. */
import { once } from 'node:events';
import { createServer, maxHeaderSize, STATUS_CODES, type Server, type ServerResponse } from 'node:http';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Logger } from 'pino';
import type { ScorerConfig } from './config.js';
import { ModelLoadError } from './errors.js';
import { startGrpcServer, type GrpcServer } from './grpc/server.js';
import { createHandler, createMetricsHandler, type ConnectionHooks, type ScorerState } from './http/app.js';
import { ScorerMetrics } from './metrics.js';
import type { Model } from './model.js';
import { fetchBaseline, startMonitoring, type FetchedBaseline } from './monitor/index.js';
import { Rollout, routed, type RolloutOptions } from './rollout/index.js';
import { warmUp } from './warmup.js';
import { soloPeers, type Peers } from './workers/peers.js';

export interface LoadedModel {
  model: Model;
  bytes: number;
  /** The file's SHA-256 (hex); undefined for the identity model, which has no file. */
  sha256: string | undefined;
  /** Where it came from, redacted as in the logs. */
  uri: string;
}

export interface Scorer {
  /** Where it listens; with `listenLate`, known once `ready` resolved. */
  readonly url: string;
  /** The gRPC server's `host:port` (grpc/server.ts); with `listenLate`, known once `ready` resolved. */
  readonly grpcAddress: string;
  /** Where the Prometheus metrics are served (`${metricsUrl}/metrics`); with `listenLate`, known once `ready` resolved. */
  readonly metricsUrl: string;
  readonly server: Server;
  readonly state: ScorerState;
  readonly metrics: ScorerMetrics;
  /**
   * Resolves once the model is loaded and warmed up (and drift monitoring set up, or its failure logged), with the
   * model served; rejects with a ModelLoadError.
   */
  readonly ready: Promise<Model>;
  /** Stops accepting, finishes in-flight requests (at most `timeoutMs`), releases the model. */
  shutdown(timeoutMs?: number): Promise<void>;
}

export interface ScorerOptions {
  /** The drift window's clock, in milliseconds since the epoch; Date.now unless a test drives it. */
  now?: () => number;
  /** With ROUTING_URL: the candidate's timeout and the routing client's backoff, unless a test sets them. */
  rollout?: Omit<RolloutOptions, 'url' | 'log'>;
  /** The pod's other workers (workers/); none unless the scorer runs as a node:cluster worker. */
  peers?: Peers;
  /**
   * Listen only once the model is ready: a worker replacing a dead one, so that no request or probe lands on it
   * while it loads (the others serve meanwhile).
   */
  listenLate?: boolean;
}

export async function startScorer(
  config: ScorerConfig,
  log: Logger,
  load: (config: ScorerConfig) => Promise<LoadedModel>,
  { now = Date.now, rollout: rolloutOptions, peers = soloPeers(), listenLate = false }: ScorerOptions = {},
): Promise<Scorer> {
  const metrics = new ScorerMetrics();
  // Polling from the start, so that the routing is known by the time the model is ready.
  const rollout =
    config.routingUrl === undefined ? undefined : new Rollout({ url: config.routingUrl, log, ...rolloutOptions });
  rollout?.start();
  const state: ScorerState = { model: undefined, draining: false, monitoring: { state: 'off' }, rollout };
  const connections = trackConnections();
  const handler = createHandler({
    state,
    metrics,
    log,
    peers,
    maxBodyBytes: config.maxBodyBytes,
    maxRows: config.maxRows,
    connections,
  });
  const server = createServer(handler);
  // Keep-alive longer than common load balancers' idle timeouts, so they close first and never reuse a dead socket.
  server.keepAliveTimeout = 65_000;
  answerClientErrors(server);
  connections.watch(server);
  const metricsServer = createServer(createMetricsHandler({ metrics, peers }));
  let url = '';
  let metricsUrl = '';
  let grpcAddress = '';
  let grpc: GrpcServer | undefined;
  const listen = async () => {
    if (state.draining) return;
    // Several workers share the port through node:cluster's primary, or each binds it with SO_REUSEPORT.
    server.listen({ port: config.port, host: config.host, reusePort: config.reusePort && peers.workers > 1 });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
    const hostPart = host.includes(':') ? `[${host}]` : host;
    url = `http://${hostPart}:${port}`;
    // The metrics' port is shared like the API's.
    metricsServer.listen({
      port: config.metricsPort,
      host: config.host,
      reusePort: config.reusePort && peers.workers > 1,
    });
    await once(metricsServer, 'listening');
    metricsUrl = `http://${hostPart}:${(metricsServer.address() as AddressInfo).port}`;
    log.info({ url, metricsUrl }, 'listening');
    // gRPC's port is shared by node:cluster's primary alone (grpc-js has no SO_REUSEPORT).
    grpc = await startGrpcServer({
      state,
      metrics,
      log,
      host: config.host,
      port: config.grpcPort,
      maxBodyBytes: config.maxBodyBytes,
      maxRows: config.maxRows,
    });
    grpcAddress = `${hostPart}:${grpc.port}`;
  };
  if (!listenLate) await listen();

  // Fetched while the model loads; a baseline that cannot be had is logged and the model served all the same.
  const baseline: Promise<FetchedBaseline> | undefined =
    config.monitorBaseline === undefined ? undefined : fetchBaseline(config.monitorBaseline, config, log);

  const ready = (async () => {
    const started = process.hrtime.bigint();
    const { model: loaded, bytes, sha256, uri } = await load(config);
    let model = loaded;
    try {
      await warmUp(model);
    } catch (err) {
      await model.dispose().catch(() => undefined);
      throw new ModelLoadError(config.modelUri, `warm-up prediction failed: ${(err as Error).message}`, { cause: err });
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    metrics.modelLoadSeconds.set(seconds);
    metrics.modelBytes.set(bytes);
    metrics.modelInfo.set({ name: model.name, format: model.format, sha256: sha256 ?? '', uri }, 1);
    // Inside drift monitoring, which counts every row this scorer answers, the candidate's answers included.
    if (rollout) model = routed(model, rollout);
    // After the warm-up, which is no scored row; before ready, so that the first request is counted.
    if (baseline) {
      const monitoring = startMonitoring(await baseline, model, { config, log, now });
      state.monitoring = monitoring.monitoring;
      if (monitoring.monitoring.state === 'on') metrics.drift = monitoring.monitoring.window;
      model = monitoring.model;
    }
    state.model = model;
    if (listenLate) await listen();
    peers.ready();
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
      // From now on every answer carries `Connection: close`: each client leaves after its next answer.
      state.draining = true;
      // The routing held stays for the requests still to answer; the poll in flight is aborted at once.
      const polling = rollout?.stop();
      // Stop accepting, without touching kept-alive connections: http.Server#close would also end the idle ones at
      // once, racing clients that are sending on them at that moment (a failed request per race, seen during
      // rolling updates under load). An idle connection is ended only after IDLE_CLOSE_MS without a request.
      NetServer.prototype.close.call(server);
      // gRPC drains beside HTTP: no new calls, those under way finish within the same time.
      const grpcDrained = grpc?.shutdown(timeoutMs);
      const left = await connections.drain(timeoutMs);
      if (left > 0) {
        log.warn({ timeoutMs, connections: left }, 'requests did not finish in time; closing their connections');
        server.closeAllConnections();
      }
      await grpcDrained;
      // Prometheus may scrape during the drain; the metrics' port closes after it.
      metricsServer.close();
      metricsServer.closeAllConnections();
      // Forwarded requests were part of the requests drained; mirrors still under way are dropped.
      rollout?.close();
      await polling;
      await state.model?.dispose();
    })();
    return stopping;
  };

  return {
    get url() {
      return url;
    },
    get grpcAddress() {
      return grpcAddress;
    },
    get metricsUrl() {
      return metricsUrl;
    },
    server,
    state,
    metrics,
    ready,
    shutdown,
  };
}

/**
 * Requests Node's HTTP parser refuses never reach express; Node's own answer is a bare 400 without a body. Give them
 * the same `{"error": ...}` every other bad request gets: 431 for headers over the limit, 408 for a request that
 * did not arrive in time, 400 for anything else the parser cannot read.
 */
function answerClientErrors(server: Server): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: Socket) => {
    // A reset or closed connection has no one left to read an answer; one whose pipelined response is already under
    // way cannot take another in its middle (Node's own handler makes the same check, on the same private field).
    const inProgress = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage?.headersSent === true;
    if (err.code === 'ECONNRESET' || !socket.writable || inProgress) {
      socket.destroy();
      return;
    }
    let status = 400;
    let error = `malformed HTTP request: ${err.reason ?? err.message}`;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      error = `the request's headers are over the limit of ${maxHeaderSize} bytes`;
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      error = 'the request did not arrive in time';
    }
    const body = JSON.stringify({ error });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  });
}

/** While draining, a kept-alive connection without a request for this long is ended (clients reuse theirs at once). */
const IDLE_CLOSE_MS = 1000;

interface ConnectionState {
  inFlight: number;
  /** performance.now() when it last went idle. */
  idleSince: number;
  /** While draining and idle: ends the connection once it has been idle for IDLE_CLOSE_MS. */
  idleTimer?: NodeJS.Timeout;
}

/**
 * A connection's state, kept on its socket too: a request's start and end read it from there, a property load,
 * where a lookup in the map costs the 1-row path two hash lookups a request (perf on it under load).
 */
const STATE = Symbol('connection state');
type TrackedSocket = Socket & { [STATE]?: ConnectionState };

interface Connections extends ConnectionHooks {
  /** Follows `server`'s connections. */
  watch(server: Server): void;
  /**
   * Ends each connection once it has been idle for IDLE_CLOSE_MS; resolves when none is left, or after `timeoutMs`,
   * with the number left.
   */
  drain(timeoutMs: number): Promise<number>;
}

/**
 * The server's open connections, each with its requests in flight and the time it last went idle. The handler reports
 * each request's start and end, from the listeners it has anyway: a listener of our own on each request and response
 * would cost the 1-row path more than its log line.
 */
function trackConnections(): Connections {
  const connections = new Map<Socket, ConnectionState>();
  let draining = false;
  let drained: (() => void) | undefined;
  const closeWhenIdle = (socket: Socket, c: ConnectionState) => {
    clearTimeout(c.idleTimer);
    if (!draining || c.inFlight > 0) return;
    const wait = Math.max(0, c.idleSince + IDLE_CLOSE_MS - performance.now());
    c.idleTimer = setTimeout(() => socket.destroy(), wait);
  };
  return {
    watch(server) {
      server.on('connection', (socket: Socket) => {
        const c: ConnectionState = { inFlight: 0, idleSince: performance.now() };
        connections.set(socket, c);
        (socket as TrackedSocket)[STATE] = c;
        closeWhenIdle(socket, c);
        socket.once('close', () => {
          clearTimeout(c.idleTimer);
          connections.delete(socket);
          if (connections.size === 0) drained?.();
        });
      });
    },
    started(socket) {
      const c = (socket as TrackedSocket)[STATE];
      if (!c) return;
      c.inFlight++;
      if (c.idleTimer) clearTimeout(c.idleTimer);
    },
    ended(socket, now) {
      const c = (socket as TrackedSocket)[STATE];
      if (!c) return;
      c.inFlight--;
      c.idleSince = now;
      if (draining) closeWhenIdle(socket, c);
    },
    async drain(timeoutMs) {
      draining = true;
      for (const [socket, c] of connections) closeWhenIdle(socket, c);
      if (connections.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, timeoutMs);
        });
        clearTimeout(timer);
      }
      for (const c of connections.values()) clearTimeout(c.idleTimer);
      return connections.size;
    },
  };
}
