/**
 * The scorer's configuration: the settings named in contract/env.ts (the variables the operator sets on every
 * scorer Deployment), validated, with their defaults.
 */
import { z } from 'zod';
import {
  SCORER_ENV,
  SCORER_GRPC_PORT,
  SCORER_METRICS_PORT,
  SCORER_PORT,
  TERMINATION_LOG,
  type ScorerSetting,
} from '../contract/env.js';
import { MODEL_FORMATS } from '../contract/formats.js';
import { booleanString, loadSettings, logLevel } from '../contract/settings.js';

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

/** Where a file comes from: a path, file://, http(s):// or s3://bucket/key (MODEL_URI adds "identity"). */
const fileUri = z
  .string()
  .min(1)
  .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(u) || /^(file|https?|s3):\/\//i.test(u), {
    message: 'must be a path, file://, http://, https:// or s3://bucket/key',
  });

const sha256 = z
  .string()
  .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
  .transform((s) => s.toLowerCase());

export const scorerConfigSchema = z.object({
  modelUri: fileUri,
  modelFormat: z.enum(MODEL_FORMATS).optional(),
  modelName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, "_", "." or "-"')
    .optional(),
  modelSha256: sha256.optional(),
  modelOutput: z.string().min(1).optional(),
  host: z.string().min(1).default('0.0.0.0'),
  port: z.coerce.number().int().min(0).max(65535).default(SCORER_PORT),
  /** The gRPC server's port (grpc/); 0 for any free one. */
  grpcPort: z.coerce.number().int().min(0).max(65535).default(SCORER_GRPC_PORT),
  /** The Prometheus metrics' port (`GET /metrics` alone); 0 for any free one. */
  metricsPort: z.coerce.number().int().min(0).max(65535).default(SCORER_METRICS_PORT),
  maxBodyBytes: positiveInt(1 << 30).default(16 * 1024 * 1024),
  maxRows: positiveInt(10_000_000).default(10_000),
  downloadTimeoutMs: positiveInt(3_600_000).default(60_000),
  downloadRetries: z.coerce.number().int().min(0).max(20).default(3),
  downloadMaxBytes: positiveInt(Number.MAX_SAFE_INTEGER).default(2 * 1024 * 1024 * 1024),
  s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
  s3ForcePathStyle: booleanString.optional(),
  shutdownTimeoutMs: positiveInt(3_600_000).default(25_000),
  terminationLog: z.string().default(TERMINATION_LOG),
  logLevel,
  /** Predict on a worker thread (formats/thread.ts): for models slower than the HTTP exchange. */
  predictThread: booleanString.default(false),
  /** Drift monitoring (monitor/): the baseline file `npm run baseline` wrote; monitoring is off without one. */
  monitorBaseline: fileUri.refine((u) => u !== 'identity', 'must name a baseline file').optional(),
  monitorBaselineSha256: sha256.optional(),
  /** The sliding window the counts cover, in 10 slices. */
  monitorWindowSeconds: positiveInt(7 * 24 * 3600).default(600),
  /** Rows a histogram needs in the window before its PSI is given. */
  monitorMinRows: positiveInt(1_000_000_000).default(500),
  /**
   * Histograms (features and outputs) a baseline may have: each is a Prometheus series, so this bounds the
   * cardinality a baseline can bring.
   */
  monitorMaxHistograms: positiveInt(10_000).default(200),
  /**
   * Rollouts (rollout/): the operator's routing endpoint for this model, long-polled for the share of requests to
   * forward to the candidate and to mirror to it. Without it the scorer answers every request itself.
   */
  routingUrl: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Processes serving the port, each with the model loaded (workers/): the pod's cores at work. Unset, the
   * container's CPU quota rounded up (workers/count.ts).
   */
  workers: positiveInt(1024).optional(),
  /**
   * With several workers: each binds its own HTTP socket with SO_REUSEPORT and the kernel spreads connections (the
   * faster of the two, measured by bench:scorer); false, node:cluster's primary hands them out in turn.
   */
  reusePort: booleanString.default(true),
});
export type ScorerConfig = z.infer<typeof scorerConfigSchema>;

/** CLI aliases for local use: `npm run scorer -- --model ./model.onnx`. */
const FLAG_ALIASES: Record<string, ScorerSetting> = {
  model: 'modelUri',
  format: 'modelFormat',
  name: 'modelName',
  sha256: 'modelSha256',
  output: 'modelOutput',
};

/** Reads the configuration from the environment and CLI flags; throws ConfigError naming the bad variable. */
export function loadScorerConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): ScorerConfig {
  return loadSettings(scorerConfigSchema, SCORER_ENV, env, argv, FLAG_ALIASES);
}
