/** The operator's configuration, from the environment (set by config/manager) or flags, validated at start-up. */
import { z } from 'zod';
import { booleanString, loadSettings, logLevel } from '../contract/settings.js';
import { repositoryOf } from './image-policy.js';

export const OPERATOR_ENV = {
  scorerImage: 'SCORER_IMAGE',
  scorerImages: 'SCORER_IMAGES',
  watchNamespaces: 'WATCH_NAMESPACES',
  workers: 'WORKERS',
  leaderElect: 'LEADER_ELECT',
  leaseNamespace: 'LEASE_NAMESPACE',
  leaseName: 'LEASE_NAME',
  identity: 'POD_NAME',
  port: 'PORT',
  metricsPort: 'METRICS_PORT',
  metricsSecure: 'METRICS_SECURE',
  metricsCertDir: 'METRICS_CERT_DIR',
  routingPort: 'ROUTING_PORT',
  routingUrl: 'ROUTING_URL',
  resyncSeconds: 'RESYNC_SECONDS',
  logLevel: 'LOG_LEVEL',
} as const;

export const DEFAULT_SCORER_IMAGE = 'ghcr.io/scoring-dev/scorer:0.1.0';

const dns1123Label = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

const commaList = (s: string) =>
  s
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);

export const operatorConfigSchema = z.object({
  scorerImage: z.string().min(1).default(DEFAULT_SCORER_IMAGE),
  /**
   * The images spec.image may name: repositories (`ghcr.io/scoring-dev/scorer`), prefixes ending in `/`, or `*`.
   * Empty: the repository of scorerImage only.
   */
  scorerImages: z.string().default('').transform(commaList),
  /** Empty: every namespace. */
  watchNamespaces: z
    .string()
    .default('')
    .transform(commaList)
    .refine((ns) => ns.every((n) => dns1123Label.test(n)), 'must be a comma-separated list of namespace names'),
  workers: z.coerce.number().int().min(1).max(64).default(4),
  leaderElect: booleanString.default(true),
  leaseNamespace: z.string().regex(dns1123Label, 'must be a namespace name').default('scoring-system'),
  leaseName: z.string().min(1).default('scoring-operator-leader'),
  /** This replica's identity in the Lease: the pod name (downward API), else host name and PID. */
  identity: z.string().min(1).optional(),
  /** The health probes, plain HTTP. */
  port: z.coerce.number().int().min(0).max(65535).default(8080),
  /** /metrics, apart from the probes: HTTPS for an authorized token (operator/metrics-server.ts). */
  metricsPort: z.coerce.number().int().min(0).max(65535).default(8443),
  /** false: /metrics over plain HTTP to anyone (a local run, a benchmark). */
  metricsSecure: booleanString.default(true),
  /**
   * A directory with tls.crt and tls.key (a kubernetes.io/tls Secret mounted), followed as it is renewed; empty: a
   * self-signed certificate made at start-up.
   */
  metricsCertDir: z.string().default(''),
  /** The routing endpoint's port (operator/rollout/routing-server.ts), apart from the probes and /metrics. */
  routingPort: z.coerce.number().int().min(0).max(65535).default(8082),
  /** The routing endpoint's base URL as scorer pods reach it: the operator's routing Service. */
  routingUrl: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL')
    .default('http://scoring-operator-routing.scoring-system.svc:8082'),
  resyncSeconds: z.coerce.number().int().min(10).max(86400).default(600),
  logLevel,
});
export type OperatorConfig = z.infer<typeof operatorConfigSchema>;

export function loadOperatorConfig(env: NodeJS.ProcessEnv, argv: readonly string[] = []): OperatorConfig {
  const config = loadSettings(operatorConfigSchema, OPERATOR_ENV, env, argv);
  if (config.scorerImages.length === 0) config.scorerImages = [repositoryOf(config.scorerImage)];
  return config;
}
