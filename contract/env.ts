/**
 * The scorer's environment: the variables the operator sets on every scorer Deployment and the scorer reads, the
 * port both sides use, and where the scorer writes the termination message the kubelet reads.
 */

/** Environment variable names, by setting. */
export const SCORER_ENV = {
  modelUri: 'MODEL_URI',
  modelFormat: 'MODEL_FORMAT',
  modelName: 'MODEL_NAME',
  modelSha256: 'MODEL_SHA256',
  modelOutput: 'MODEL_OUTPUT',
  host: 'HOST',
  port: 'PORT',
  grpcPort: 'GRPC_PORT',
  metricsPort: 'METRICS_PORT',
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
  monitorBaseline: 'MONITOR_BASELINE',
  monitorBaselineSha256: 'MONITOR_BASELINE_SHA256',
  monitorWindowSeconds: 'MONITOR_WINDOW_SECONDS',
  monitorMinRows: 'MONITOR_MIN_ROWS',
  monitorMaxHistograms: 'MONITOR_MAX_HISTOGRAMS',
  routingUrl: 'ROUTING_URL',
  workers: 'WORKERS',
  reusePort: 'REUSE_PORT',
} as const;
export type ScorerSetting = keyof typeof SCORER_ENV;

/** Default port of the scorer's HTTP server; the operator's probes and Service target it. */
export const SCORER_PORT = 8080;

/** Default port of the scorer's gRPC server (the Open Inference Protocol's GRPCInferenceService). */
export const SCORER_GRPC_PORT = 8081;

/**
 * Default port of the scorer's Prometheus metrics (`GET /metrics` alone): apart from the API's port, so that the
 * model's Service, which exposes only the API, never exposes them.
 */
export const SCORER_METRICS_PORT = 9090;

/**
 * Kubernetes' default terminationMessagePath, which the operator sets on the scorer's container and the scorer
 * writes a load failure's one line to unless TERMINATION_LOG names another file.
 */
export const TERMINATION_LOG = '/dev/termination-log';
