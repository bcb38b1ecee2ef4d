/** The scorer's HTTP API: the seed's `/score`, the Open Inference Protocol (V2) REST API, health and metrics. */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import { RequestError } from '../errors.js';
import type { ScorerMetrics } from '../metrics.js';
import type { Model, Tensor } from '../model.js';
import { HEADER_LENGTH, readInferBody } from './binary.js';
import { readJson } from './body.js';
import { scoreInputs, scoreResponse } from './score.js';
import { inferResponse, modelMetadata, MODEL_VERSION, parseInferRequest } from './v2.js';

/** What the server serves; `model` is set once loaded and warmed up, `draining` once SIGTERM arrived. */
export interface ScorerState {
  model: Model | undefined;
  draining: boolean;
}

export interface AppOptions {
  state: ScorerState;
  metrics: ScorerMetrics;
  log: Logger;
  maxBodyBytes: number;
  maxRows: number;
}

interface Locals {
  route: string;
  rows: number;
}

const SERVER_NAME = 'scoring-operator-scorer';
const SERVER_VERSION = '0.1.0';

export function createApp({ state, metrics, log, maxBodyBytes, maxRows }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use((req: Request, res: Response<unknown, Locals>, next: NextFunction) => {
    const start = process.hrtime.bigint();
    res.locals.route = 'unmatched';
    res.locals.rows = 0;
    metrics.inFlight.inc();
    res.once('close', () => {
      metrics.inFlight.dec();
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      const { route, rows } = res.locals;
      const status = res.headersSent ? res.statusCode : 499;
      metrics.requests.inc({ route, method: req.method, status });
      metrics.latency.observe({ route }, seconds);
      log.info({ method: req.method, route, status, ms: Math.round(seconds * 1e6) / 1e3, rows }, 'request');
    });
    if (state.draining) res.setHeader('Connection', 'close');
    next();
  });

  const route =
    (name: string) =>
    (_req: Request, res: Response<unknown, Locals>, next: NextFunction): void => {
      res.locals.route = name;
      next();
    };

  /** 404 for a name other than the loaded model's, or a version other than MODEL_VERSION (the only one). */
  const checkNamed = (name: string, version: string | undefined): void => {
    const model = state.model;
    if (model && name !== model.name) throw new RequestError(404, `model "${name}" not found`);
    if (version !== undefined && version !== MODEL_VERSION) {
      throw new RequestError(404, `model "${name}" has no version "${version}" (versions: ${MODEL_VERSION})`);
    }
  };

  /** The served model, or an error: 404 for another name or version, 503 while loading. */
  const modelFor = (name: string | undefined, version?: string): Model => {
    const model = state.model;
    if (!model) throw new RequestError(503, 'the model is not loaded yet');
    if (name !== undefined) checkNamed(name, version);
    return model;
  };

  const predict = async (model: Model, inputs: Tensor[], res: Response<unknown, Locals>, outputs?: string[]) => {
    res.locals.rows = rowCount(model, inputs);
    let result: Tensor[];
    try {
      result = await model.predict(inputs, outputs);
    } catch (err) {
      throw new RequestError(422, `the model could not score this input: ${oneLine(err)}`);
    }
    metrics.rows.inc(res.locals.rows);
    return result;
  };

  const ready = () => state.model !== undefined && !state.draining;

  app.post('/score', route('/score'), async (req, res: Response<unknown, Locals>) => {
    const model = modelFor(undefined);
    const inputs = scoreInputs(await readJson(req, maxBodyBytes), model, maxRows);
    res.json(scoreResponse(await predict(model, inputs, res), model));
  });

  app.get('/v2/health/live', route('/v2/health/live'), (_req, res) => {
    res.json({ live: true });
  });
  app.get('/v2/health/ready', route('/v2/health/ready'), (_req, res) => {
    res.status(ready() ? 200 : 503).json({ ready: ready() });
  });
  app.get('/v2', route('/v2'), (_req, res) => {
    res.json({ name: SERVER_NAME, version: SERVER_VERSION, extensions: [] });
  });

  for (const prefix of ['/v2/models/:name', '/v2/models/:name/versions/:version']) {
    app.get(prefix, route(prefix), (req: Request<{ name: string; version?: string }>, res) => {
      res.json(modelMetadata(modelFor(req.params.name, req.params.version)));
    });
    app.get(`${prefix}/ready`, route(`${prefix}/ready`), (req: Request<{ name: string; version?: string }>, res) => {
      checkNamed(req.params.name, req.params.version);
      res.status(ready() ? 200 : 503).json({ name: req.params.name, ready: ready() });
    });
    app.post(
      `${prefix}/infer`,
      route(`${prefix}/infer`),
      async (req: Request<{ name: string; version?: string }>, res: Response<unknown, Locals>) => {
        const model = modelFor(req.params.name, req.params.version);
        const { json, binary } = await readInferBody(req, maxBodyBytes);
        const request = parseInferRequest(json, model, maxRows, binary);
        const outputs = await predict(model, request.inputs, res, request.outputNames);
        const answer = inferResponse(model, request, outputs);
        if (answer.binary.length === 0) {
          res.json(answer.json);
          return;
        }
        const head = Buffer.from(JSON.stringify(answer.json));
        res.setHeader(HEADER_LENGTH, head.length);
        res.type('application/octet-stream').send(Buffer.concat([head, ...answer.binary]));
      },
    );
  }

  app.get('/metrics', route('/metrics'), async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}` });
  });

  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof RequestError) {
      // The rest of an oversized body is not worth reading: close the connection after answering.
      if (err.status === 413) res.setHeader('Connection', 'close');
      res.status(err.status).json({ error: err.message });
      return;
    }
    // Errors from express itself (a malformed URL escape, say) carry their own 4xx status.
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      // The router's "Failed to decode param '%E0%A4%A'" says what is wrong, not what was expected.
      const expected = err instanceof URIError ? ': expected a path percent-encoded as UTF-8' : '';
      res.status(status).json({ error: `${oneLine(err)}${expected}` });
      return;
    }
    log.error({ err }, 'unexpected error');
    res.status(500).json({ error: 'internal error' });
  });

  return app;
}

/**
 * The rows a request scores: the first input's batch dimension. A tensor of lower rank than the model's input (the
 * identity model's flat row `{"X": [1, 2]}`, shape [2]) is one row, not one row per value.
 */
function rowCount(model: Model, inputs: readonly Tensor[]): number {
  const tensor = inputs[0];
  if (!tensor) return 0;
  const rank = model.inputs.find((s) => s.name === tensor.name)?.shape.length;
  return tensor.shape.length > 0 && tensor.shape.length === rank ? tensor.shape[0]! : 1;
}

function oneLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0]!.trim();
}
