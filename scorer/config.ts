/**
 * The scorer's configuration: the environment variables the operator sets on every scorer Deployment.
 * This module is the contract between the two sides; the operator imports `SCORER_ENV` from here.
 */
import { z } from 'zod';
import { MODEL_FORMATS } from './model.js';
import { loadSettings } from './settings.js';

export { ConfigError } from './settings.js';

/** Environment variable names, by setting. */
export const SCORER_ENV = {
  modelUri: 'MODEL_URI',
  modelFormat: 'MODEL_FORMAT',
  modelName: 'MODEL_NAME',
  modelSha256: 'MODEL_SHA256',
  modelOutput: 'MODEL_OUTPUT',
  host: 'HOST',
  port: 'PORT',
  maxBodyBytes: 'MAX_BODY_BYTES',
  maxRows: 'MAX_ROWS',
  downloadTimeoutMs: 'DOWNLOAD_TIMEOUT_MS',
  downloadRetries: 'DOWNLOAD_RETRIES',
  downloadMaxBytes: 'DOWNLOAD_MAX_BYTES',
  s3Endpoint: 'S3_ENDPOINT',
  s3ForcePathStyle: 'S3_FORCE_PATH_STYLE',
  shutdownTimeoutMs: 'SHUTDOWN_TIMEOUT_MS',
  terminationLog: 'TERMINATION_LOG',
  logLevel: 'LOG_LEVEL',
  predictThread: 'PREDICT_THREAD',
} as const;
export type ScorerSetting = keyof typeof SCORER_ENV;

/** Default port of the scorer's HTTP server; the operator's probes and Service target it. */
export const SCORER_PORT = 8080;

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
const booleanString = z.enum(['true', 'false', '1', '0']).transform((v) => v === 'true' || v === '1');

export const scorerConfigSchema = z.object({
  modelUri: z
    .string()
    .min(1)
    .refine((u) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(u) || /^(file|https?|s3):\/\//i.test(u), {
      message: 'must be a path, file://, http://, https:// or s3://bucket/key',
    }),
  modelFormat: z.enum(MODEL_FORMATS).optional(),
  modelName: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, 'must be 1-128 letters, digits, "_", "." or "-"')
    .optional(),
  modelSha256: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits')
    .transform((s) => s.toLowerCase())
    .optional(),
  modelOutput: z.string().min(1).optional(),
  host: z.string().min(1).default('0.0.0.0'),
  port: z.coerce.number().int().min(0).max(65535).default(SCORER_PORT),
  maxBodyBytes: positiveInt(1 << 30).default(16 * 1024 * 1024),
  maxRows: positiveInt(10_000_000).default(10_000),
  downloadTimeoutMs: positiveInt(3_600_000).default(60_000),
  downloadRetries: z.coerce.number().int().min(0).max(20).default(3),
  downloadMaxBytes: positiveInt(Number.MAX_SAFE_INTEGER).default(2 * 1024 * 1024 * 1024),
  s3Endpoint: z.url({ protocol: /^https?$/ }).optional(),
  s3ForcePathStyle: booleanString.optional(),
  shutdownTimeoutMs: positiveInt(3_600_000).default(25_000),
  terminationLog: z.string().default('/dev/termination-log'),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Predict on a worker thread (formats/thread.ts): for models slower than the HTTP exchange. */
  predictThread: booleanString.default(false),
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
