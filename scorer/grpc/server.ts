/**
 * The Open Inference Protocol's gRPC form (inference.proto's GRPCInferenceService) on a port of its own, beside the
 * HTTP server: the same model, state, validation, metrics and logs as the REST API. Server reflection is served too,
 * so that grpcurl and similar tools need no copy of the .proto.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { SERVED_BY_HEADER } from '../../contract/rollout.js';
import { RequestError } from '../errors.js';
import type { ScorerState } from '../http/app.js';
import {
  checkModelNamed,
  modelMetadata,
  parseInferRequest,
  servedModel,
  SERVER_EXTENSIONS,
  SERVER_NAME,
  SERVER_VERSION,
} from '../http/v2.js';
import type { ScorerMetrics } from '../metrics.js';
import { batchRows } from '../model.js';
import { servedByCandidate } from '../rollout/index.js';
import { addReflection } from './reflection.js';
import { inferBody, inferResponse, type GrpcInferRequest } from './messages.js';

/** The .proto's path in the source tree, which the scorer's image keeps at the same place. */
export const PROTO_PATH = 'scorer/grpc/inference.proto';
const SERVICE = 'inference.GRPCInferenceService';
/** The `method` label of gRPC requests in the request metrics and logs (REST's are HTTP methods). */
export const GRPC_METHOD = 'GRPC';

/**
 * How proto-loader decodes: the .proto's field names, int64 as JS numbers (the scorer takes integers up to 2^53 in
 * REST too), every field present with its default (so an absent repeated field is an empty array), and the name of
 * the field a oneof holds.
 */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, defaults: true, oneofs: true };

/** The repository's (or the image's) root: the nearest directory up from here with a package.json. */
function rootDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

/** The RPC's status code for a RequestError's HTTP status, as REST answers the same failure. */
function statusCode(status: number): grpc.status {
  if (status === 404) return grpc.status.NOT_FOUND;
  if (status === 413) return grpc.status.RESOURCE_EXHAUSTED;
  if (status === 503) return grpc.status.UNAVAILABLE;
  // REST's 422: the model could not score a request that passed validation.
  if (status === 422 || status >= 500) return grpc.status.INTERNAL;
  return grpc.status.INVALID_ARGUMENT;
}

export interface GrpcOptions {
  state: ScorerState;
  metrics: ScorerMetrics;
  log: Logger;
  host: string;
  port: number;
  maxBodyBytes: number;
  maxRows: number;
}

export interface GrpcServer {
  /** The port it listens on (the one asked for, or the one given for 0). */
  readonly port: number;
  /** Stops accepting calls and lets those under way finish, for at most `timeoutMs`, then ends the rest. */
  shutdown(timeoutMs: number): Promise<void>;
}

/** What a call is logged with beyond its status: the rows it scored. */
interface Exchange {
  rows: number;
}

type Handler<Req, Res> = (request: Req, exchange: Exchange, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>;

/** Starts the gRPC server; resolves once it listens. Each of the scorer's processes calls it. */
export async function startGrpcServer(options: GrpcOptions): Promise<GrpcServer> {
  const { state, metrics, log, host, port, maxBodyBytes, maxRows } = options;
  const { requests } = metrics;
  const definition = await protoLoader.load(join(rootDir(), PROTO_PATH), LOADER_OPTIONS);
  const service = (grpc.loadPackageDefinition(definition).inference as grpc.GrpcObject)
    .GRPCInferenceService as grpc.ServiceClientConstructor;

  const ready = () => state.model !== undefined && !state.draining;

  /**
   * One RPC: its answer or its status, counted and logged as a REST request is (`counted: false` for the probes'
   * RPCs, as REST does not count its health routes). The metrics' `status` is the HTTP status REST answers the same
   * outcome with, so that one query covers both protocols; the log line has the gRPC code too.
   */
  const unary =
    <Req, Res>(rpc: string, counted: boolean, handle: Handler<Req, Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>): void => {
      const route = `/${SERVICE}/${rpc}`;
      const start = process.hrtime.bigint();
      if (counted) requests.inFlight++;
      const exchange: Exchange = { rows: 0 };
      const finish = (status: number, code: grpc.status) => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        const shown = call.cancelled ? 499 : status;
        if (counted) {
          requests.inFlight--;
          requests.observe(route, GRPC_METHOD, shown, seconds);
        }
        log.info(
          { method: GRPC_METHOD, route, status: shown, code, ms: Math.round(seconds * 1e6) / 1e3, rows: exchange.rows },
          'request',
        );
      };
      Promise.resolve()
        .then(() => handle(call.request, exchange, call))
        .then(
          (answer) => {
            callback(null, answer);
            finish(200, grpc.status.OK);
          },
          (err: unknown) => {
            let status = 500;
            let details = 'internal error';
            if (err instanceof RequestError) {
              status = err.status;
              details = err.message;
            } else {
              log.error({ err }, 'unexpected error');
            }
            const code = statusCode(status);
            callback({ code, details });
            finish(status, code);
          },
        );
    };

  /** An empty name or version is the protocol's "not given". */
  const given = (s: string) => (s === '' ? undefined : s);

  const server = new grpc.Server({ 'grpc.max_receive_message_length': maxBodyBytes });
  server.addService(service.service, {
    ServerLive: unary('ServerLive', false, () => ({ live: true })),
    ServerReady: unary('ServerReady', false, () => ({ ready: ready() })),
    ModelReady: unary<{ name: string; version: string }, { ready: boolean }>('ModelReady', false, (req) => {
      checkModelNamed(state.model, req.name, given(req.version));
      return { ready: ready() };
    }),
    ServerMetadata: unary('ServerMetadata', true, () => ({
      name: SERVER_NAME,
      version: SERVER_VERSION,
      extensions: SERVER_EXTENSIONS,
    })),
    ModelMetadata: unary<{ name: string; version: string }, object>('ModelMetadata', true, (req) =>
      modelMetadata(servedModel(state.model, req.name, given(req.version))),
    ),
    ModelInfer: unary<GrpcInferRequest, object>('ModelInfer', true, async (req, exchange, call) => {
      const model = servedModel(state.model, req.model_name, given(req.model_version));
      const body = inferBody(req);
      const request = parseInferRequest(body.json, model, maxRows, body.raw);
      exchange.rows = batchRows(model.inputs, request.inputs);
      let outputs;
      try {
        outputs = await model.predict(request.inputs, request.outputNames);
      } catch (err) {
        const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.trim();
        throw new RequestError(422, `the model could not score this input: ${message}`);
      }
      requests.rows += exchange.rows;
      // An answer the candidate computed says so in the response's headers, as REST's does (a rollout's forwarding).
      if (state.rollout !== undefined && servedByCandidate(outputs)) {
        const headers = new grpc.Metadata();
        headers.set(SERVED_BY_HEADER, 'candidate');
        call.sendMetadata(headers);
      }
      return inferResponse(model.name, request, body.raw !== undefined, outputs);
    }),
  });
  addReflection(server, definition);

  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  const bound = await new Promise<number>((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  log.info({ address: `${host.includes(':') ? `[${host}]` : host}:${bound}` }, 'gRPC listening');

  let stopping: Promise<void> | undefined;
  return {
    port: bound,
    shutdown(timeoutMs) {
      stopping ??= new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          log.warn({ timeoutMs }, 'gRPC calls did not finish in time; ending them');
          server.forceShutdown();
          resolve();
        }, timeoutMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      return stopping;
    },
  };
}
