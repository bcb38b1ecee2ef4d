/**
 * The scorer's HTTP API: the seed's `/score`, the Open Inference Protocol (V2) REST API, health and metrics.
 *
 * Express serves every route; the two that score (`POST /score` and `POST .../infer`) are also answered straight from
 * Node's request event when their URL is plain (no query string, no percent-escapes, no trailing slash, as spelled
 * here), because express's routing costs a request about as much as a fast model's whole 100-row prediction (the
 * README's benchmark of the scorer has the figures). Both paths run the same handlers, accounting and error answers.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { SCORER_ENV } from '../../contract/env.js';
import { FORWARDED_HEADER, PREDICT_SECONDS_HEADER, SERVED_BY_HEADER } from '../../contract/rollout.js';
import { RequestError } from '../errors.js';
import type { ScorerMetrics } from '../metrics.js';
import type { Monitoring } from '../monitor/index.js';
import { batchRows, type Model, type Tensor } from '../model.js';
import { servedByCandidate, type Rollout } from '../rollout/index.js';
import { HEADER_LENGTH } from './binary-layout.js';
import { rawInferRequest, readInferBody } from './binary-request.js';
import { collectBody, jsonBody } from './body.js';
import { requestLog } from './request-log.js';
import { scoreInputs, scoreResponse } from './score.js';
import { podMetricsText, sumMonitoringReports, sumRolloutReports } from '../workers/sum.js';
import type { MetricsPart, MonitoringPart, Parts, Peers } from '../workers/peers.js';
import {
  checkModelNamed,
  inferResponse,
  modelMetadata,
  parseInferRequest,
  servedModel,
  SERVER_EXTENSIONS,
  SERVER_NAME,
  SERVER_VERSION,
} from './v2.js';

/**
 * What the server serves; `model` is set once loaded and warmed up, `draining` once SIGTERM arrived, `monitoring`
 * (drift) before `model`; `rollout` with ROUTING_URL (the routing followed and the step's counts).
 */
export interface ScorerState {
  model: Model | undefined;
  draining: boolean;
  monitoring: Monitoring;
  rollout?: Rollout | undefined;
}

export interface AppOptions {
  state: ScorerState;
  metrics: ScorerMetrics;
  log: Logger;
  /** The pod's other workers: readiness and the answers summed over them. */
  peers: Peers;
  maxBodyBytes: number;
  maxRows: number;
  /** Told of each request's start and end on its connection (the server's drain needs each connection's state). */
  connections: ConnectionHooks;
}

export interface ConnectionHooks {
  started(socket: Socket): void;
  /** `now`: performance.now() when the request ended. */
  ended(socket: Socket, now: number): void;
}

/**
 * What a request is accounted as: its route (a metrics label), the rows it scored, and whether it counts as an API
 * request in the metrics at all (scrapes and probes do not).
 */
interface Exchange {
  route: string;
  rows: number;
  counted: boolean;
}

const SCORE_ROUTE = '/score';
const SCORE_TARGET = { route: SCORE_ROUTE } as const;
const INFER_ROUTES = ['/v2/models/:name/infer', '/v2/models/:name/versions/:version/infer'] as const;
/** A plain infer URL: names without escapes (they would need decoding) and nothing after `infer`. */
const PLAIN_INFER = /^\/v2\/models\/([\w.-]+)(?:\/versions\/([\w.-]+))?\/infer$/;

/** Sends an answer with its Content-Type and Content-Length. */
function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  // writeHead with the headers, as node:http's own fast path (headers set before, such as Connection, are kept).
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Sends a JSON answer, with the headers express's `res.json` sets (ETag and X-Powered-By are off). */
function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
}

/**
 * Routes that are not API requests in the metrics: the kubelet's probes (every 2 s per pod,
 * whose 503s while a pod loads or drains are no client's failed request) and the operator's reading of the drift
 * window and of the rollout's counts. They are still logged.
 */
const UNCOUNTED_ROUTES = new Set([
  '/v2/health/live',
  '/v2/health/ready',
  '/v2/models/:name/monitoring',
  '/v2/models/:name/versions/:version/monitoring',
  '/v2/models/:name/rollout',
  '/v2/models/:name/versions/:version/rollout',
]);

/**
 * The request handler for the scorer's metrics port: `GET /metrics` alone, apart from the API's port so that a model
 * whose Service is a LoadBalancer does not expose it. Scrapes are not API requests: neither counted nor logged.
 */
export function createMetricsHandler({ metrics, peers }: Pick<AppOptions, 'metrics' | 'peers'>): RequestListener {
  return (req, res) => {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== '/metrics') {
      sendJson(res, 404, { error: `no route for ${req.method ?? ''} ${path}` });
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      sendJson(res, 405, { error: `${req.method ?? ''} is not allowed on /metrics` });
      return;
    }
    // One /metrics for the pod: every worker's families summed (and the primary's process metrics).
    const text = peers.workers === 1 ? metrics.text() : peers.gather('metrics').then(podMetricsText);
    text.then(
      // Node sends no body to a HEAD, with the same headers as the GET.
      (body) => send(res, 200, metrics.contentType, body),
      (err: unknown) => sendJson(res, 500, { error: (err as Error).message }),
    );
  };
}

/** The request handler for the scorer's server. */
export function createHandler(options: AppOptions): RequestListener {
  const { state, metrics, log, peers, maxBodyBytes, maxRows, connections } = options;
  const { requests } = metrics;
  const logRequest = requestLog(log);

  // This worker's parts of the answers the pod gives as one.
  peers.serve(async (kind) => {
    if (kind === 'metrics') {
      const drift = metrics.drift;
      const part: MetricsPart = {
        registry: await metrics.registry.getMetricsAsJSON(),
        requests: requests.snapshot(),
        ...(drift && { drift: { report: drift.report(state.model?.name ?? ''), skippedRows: drift.skippedRows } }),
      };
      return part as Parts[typeof kind];
    }
    if (kind === 'monitoring') {
      const { monitoring } = state;
      const part: MonitoringPart =
        monitoring.state === 'on'
          ? { state: 'on', report: monitoring.window.report(state.model?.name ?? '') }
          : monitoring;
      return part as Parts[typeof kind];
    }
    return (state.rollout?.report() ?? null) as Parts[typeof kind];
  });

  /** Counts the request in flight; once it closes, its metrics and its one log line, as `exchange` says then. */
  const begin = (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    // performance.now(), not hrtime.bigint(): no BigInt to allocate twice a request.
    const start = performance.now();
    requests.inFlight++;
    const { socket } = req;
    connections.started(socket);
    // A response closes once: `on`, as `once` would wrap the listener in a bound function for each request.
    res.on('close', () => {
      const end = performance.now();
      connections.ended(socket, end);
      const seconds = (end - start) / 1000;
      const { route, rows } = exchange;
      const status = res.headersSent ? res.statusCode : 499;
      if (exchange.counted) {
        requests.inFlight--;
        requests.observe(route, req.method ?? '', status, seconds);
      }
      logRequest(req.method ?? '', route, status, seconds, rows, end);
    });
    if (state.draining) res.setHeader('Connection', 'close');
  };

  /** The answer to a failed request: its own 4xx for a RequestError or an HTTP error, else a logged 500. */
  const sendError = (res: ServerResponse, err: unknown): void => {
    if (res.headersSent) return;
    if (err instanceof RequestError) {
      // A body over the limit too: its reader throws the rest away for a while (body.ts), so that a client still
      // sending it reads this answer.
      sendJson(res, err.status, { error: err.message });
      return;
    }
    // Errors from express itself (a malformed URL escape, say) carry their own 4xx status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // The router's "Failed to decode param '%E0%A4%A'" says what is wrong, not what was expected.
      const expected = err instanceof URIError ? ': expected a path percent-encoded as UTF-8' : '';
      sendJson(res, status, { error: `${oneLine(err)}${expected}` });
      return;
    }
    log.error({ err }, 'unexpected error');
    sendJson(res, 500, { error: 'internal error' });
  };

  const route =
    (name: string) =>
    (_req: Request, res: Response<unknown, Exchange>, next: NextFunction): void => {
      res.locals.route = name;
      if (UNCOUNTED_ROUTES.has(name)) {
        res.locals.counted = false;
        requests.inFlight--;
      }
      next();
    };

  const checkNamed = (name: string, version: string | undefined): void => checkModelNamed(state.model, name, version);
  const modelFor = (name: string | undefined, version?: string): Model => servedModel(state.model, name, version);

  /**
   * The model's outputs for `inputs`, at once or with a promise as the model answers. A request a stable scorer
   * forwarded (FORWARDED_HEADER) is answered with the prediction's own time, which its rollout is judged on; an answer
   * the candidate computed says so (SERVED_BY_HEADER).
   */
  const predict = (
    req: IncomingMessage,
    res: ServerResponse,
    model: Model,
    inputs: Tensor[],
    exchange: Exchange,
    outputs?: string[],
  ): Tensor[] | Promise<Tensor[]> => {
    exchange.rows = batchRows(model.inputs, inputs);
    const started = req.headers[FORWARDED_HEADER] !== undefined ? performance.now() : undefined;
    let result: Tensor[] | Promise<Tensor[]>;
    try {
      result = model.predict(inputs, outputs);
    } catch (err) {
      throw unscorable(err);
    }
    // An answer at once is accounted without a closure; a promise's with one.
    if (!(result instanceof Promise)) return predicted(res, exchange, started, result);
    return result.then(
      (r) => predicted(res, exchange, started, r),
      (err: unknown) => {
        throw unscorable(err);
      },
    );
  };

  /** A prediction's accounting and headers; `started`: when it started, for a forwarded request (see predict). */
  const predicted = (res: ServerResponse, exchange: Exchange, started: number | undefined, result: Tensor[]) => {
    if (started !== undefined) res.setHeader(PREDICT_SECONDS_HEADER, String((performance.now() - started) / 1000));
    if (state.rollout !== undefined && servedByCandidate(result)) res.setHeader(SERVED_BY_HEADER, 'candidate');
    requests.rows += exchange.rows;
    return result;
  };

  /**
   * POST /score. With a model that answers at once, the answer is written within the body's 'end' event, as a bare
   * echo server's is: no promise between the request and its answer.
   */
  const score = (req: IncomingMessage, res: ServerResponse, exchange: Exchange): void => {
    let model: Model;
    try {
      model = modelFor(undefined);
    } catch (err) {
      sendError(res, err);
      return;
    }
    collectBody(req, maxBodyBytes, (failed, body) => {
      try {
        if (failed) throw failed;
        const request = scoreInputs(jsonBody(body!), model, maxRows);
        const outputs = predict(req, res, model, request.inputs, exchange);
        if (!(outputs instanceof Promise)) {
          sendJson(res, 200, scoreResponse(outputs, model, request));
          return;
        }
        outputs.then(
          (o) => sendJson(res, 200, scoreResponse(o, model, request)),
          (err: unknown) => sendError(res, err),
        );
      } catch (err) {
        sendError(res, err);
      }
    });
  };

  const infer = async (
    req: IncomingMessage,
    res: ServerResponse,
    exchange: Exchange,
    name: string,
    version: string | undefined,
  ): Promise<void> => {
    const model = modelFor(name, version);
    const body = await readInferBody(req, maxBodyBytes);
    const request =
      'raw' in body
        ? rawInferRequest(body.raw, model, maxRows)
        : parseInferRequest(body.json, model, maxRows, body.binary);
    const outputs = await predict(req, res, model, request.inputs, exchange, request.outputNames);
    const answer = inferResponse(model, request, outputs);
    if (answer.binary.length === 0) {
      sendJson(res, 200, answer.json);
      return;
    }
    const head = Buffer.from(JSON.stringify(answer.json));
    res.setHeader(HEADER_LENGTH, head.length);
    send(res, 200, 'application/octet-stream', Buffer.concat([head, ...answer.binary]));
  };

  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use((req: Request, res: Response<unknown, Exchange>, next: NextFunction) => {
    begin(req, res, Object.assign(res.locals, { route: 'unmatched', rows: 0, counted: true }));
    next();
  });

  // One readiness for the pod: this worker's model, and every other worker's.
  const ready = () => state.model !== undefined && !state.draining && peers.podReady;

  app.post(SCORE_ROUTE, route(SCORE_ROUTE), (req, res: Response<unknown, Exchange>) => score(req, res, res.locals));

  app.get('/v2/health/live', route('/v2/health/live'), (_req, res) => {
    res.json({ live: true });
  });
  app.get('/v2/health/ready', route('/v2/health/ready'), (_req, res) => {
    res.status(ready() ? 200 : 503).json({ ready: ready() });
  });
  app.get('/v2', route('/v2'), (_req, res) => {
    res.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: SERVER_EXTENSIONS });
  });

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, route(prefix), (req: Request<{ name: string; version?: string }>, res) => {
      res.json(modelMetadata(modelFor(req.params.name, req.params.version)));
    });
    app.get(`${prefix}/ready`, route(`${prefix}/ready`), (req: Request<{ name: string; version?: string }>, res) => {
      checkNamed(req.params.name, req.params.version);
      res.status(ready() ? 200 : 503).json({ name: req.params.name, ready: ready() });
    });
    // The drift window's counts. Not monitoring is 404, as a resource this model does not have (a pod started
    // before its ScoringModel asked for monitoring, in a rollout); a baseline that failed is 503, with the reason.
    app.get(
      `${prefix}/monitoring`,
      route(`${prefix}/monitoring`),
      async (req: Request<{ name: string; version?: string }>, res) => {
        const model = modelFor(req.params.name, req.params.version);
        const { monitoring } = state;
        if (monitoring.state === 'off') {
          throw new RequestError(404, `monitoring is off: ${SCORER_ENV.monitorBaseline} is not set`);
        }
        if (monitoring.state === 'failed') throw new RequestError(503, monitoring.reason);
        if (peers.workers === 1) {
          res.json(monitoring.window.report(model.name));
          return;
        }
        // The pod's window: every worker's summed, or the reason one of them has none.
        const parts = await peers.gather('monitoring');
        const failed = parts.find((p) => p.state === 'failed');
        if (failed) throw new RequestError(503, failed.reason);
        const reports = parts.flatMap((p) => (p.state === 'on' ? [p.report] : []));
        res.json({ ...sumMonitoringReports(reports), model: model.name });
      },
    );
    // The rollout's counts for the current step. Without ROUTING_URL, 404: this scorer forwards nothing.
    app.get(
      `${prefix}/rollout`,
      route(`${prefix}/rollout`),
      async (req: Request<{ name: string; version?: string }>, res) => {
        modelFor(req.params.name, req.params.version);
        const { rollout } = state;
        if (rollout === undefined) {
          throw new RequestError(404, `rollouts are off: ${SCORER_ENV.routingUrl} is not set`);
        }
        if (peers.workers === 1) {
          res.json(rollout.report());
          return;
        }
        // The pod's counts: every worker's summed.
        const reports = (await peers.gather('rollout')).filter((r) => r !== null);
        res.json(sumRolloutReports(reports));
      },
    );
  }
  for (const path of INFER_ROUTES) {
    app.post(path, route(path), (req: Request<{ name: string; version?: string }>, res: Response<unknown, Exchange>) =>
      infer(req, res, res.locals, req.params.name, req.params.version),
    );
  }

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => sendError(res, err));

  /** A plain scoring URL is answered here (see the top of the file), anything else by express. */
  return (req, res) => {
    const target = directTarget(req);
    if (!target) {
      void app(req, res);
      return;
    }
    const exchange: Exchange = { route: target.route, rows: 0, counted: true };
    begin(req, res, exchange);
    if (target.name === undefined) score(req, res, exchange);
    else infer(req, res, exchange, target.name, target.version).catch((err: unknown) => sendError(res, err));
  };
}

/** The route of a plain POST /score or .../infer URL, with the model's name and version for infer. */
function directTarget(req: IncomingMessage): { route: string; name?: string; version?: string } | undefined {
  if (req.method !== 'POST') return undefined;
  if (req.url === SCORE_ROUTE) return SCORE_TARGET;
  const plain = PLAIN_INFER.exec(req.url ?? '');
  if (!plain) return undefined;
  const [, name, version] = plain;
  return { route: INFER_ROUTES[version === undefined ? 0 : 1], name: name!, ...(version !== undefined && { version }) };
}

/** A model's failure to score an input: 422, with the first line of what it said. */
function unscorable(err: unknown): RequestError {
  return new RequestError(422, `the model could not score this input: ${oneLine(err)}`);
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}
