/** The scorer Deployment a ScoringModel asks for: a pure function of the ScoringModel and the operator's config. */
import type { V1Deployment, V1EnvVar, V1PodSpec, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import { SCORER_ENV, SCORER_GRPC_PORT, SCORER_METRICS_PORT, SCORER_PORT, TERMINATION_LOG } from '../../contract/env.js';
import { routingPath } from '../../contract/rollout.js';
import { nanoUnits } from '../api/quantity.js';
import { OPERATOR_ONLY_ENV, type ScoringModel } from '../api/v1alpha1.js';
import { digest, LABELS, labels, objectMeta, selectorLabels } from './labels.js';

/** The scorer's container, and the name of its port, which probes, the Service and the drift judge refer to. */
export const SCORER_CONTAINER = 'scorer';
export const HTTP_PORT_NAME = 'http';
/** The name of the scorer's gRPC port (the Open Inference Protocol's GRPCInferenceService), which the Service exposes. */
export const GRPC_PORT_NAME = 'grpc';
/**
 * The name of the scorer's Prometheus metrics port, which a PodMonitor scrapes and the Service does not expose: a
 * LoadBalancer model does not publish its metrics.
 */
export const METRICS_PORT_NAME = 'metrics';

export interface DesiredConfig {
  scorerImage: string;
  /**
   * The base URL of the operator's routing endpoint (its routing Service), which the scorers long-poll for what a
   * rollout asks of them; absent, scorers are told nothing and a rollout cannot route.
   */
  routingUrl?: string;
}

/** How long the scorer drains in-flight requests after SIGTERM; the grace period leaves room for it. */
export const SHUTDOWN_TIMEOUT_SECONDS = 20;
/** preStop pause, so that endpoints stop sending traffic before the scorer stops accepting it. */
export const PRESTOP_SECONDS = 5;
export const TERMINATION_GRACE_SECONDS = PRESTOP_SECONDS + SHUTDOWN_TIMEOUT_SECONDS + 5;
const MODEL_MOUNT = '/models';
/** Where a baseline on a claim other than the model's is mounted. */
const BASELINE_MOUNT = '/baseline';
/** Scorer pods spread across nodes, then zones, so that losing one takes as few replicas as it can. */
const SPREAD_TOPOLOGIES = ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'];

/**
 * The scorer's workers (WORKERS) for a container's resources: its CPU limit, else its request, rounded up, at least 1;
 * undefined without either (the scorer then reads its cgroup's quota).
 */
export function workersFor(resources: ScoringModel['spec']['resources']): number | undefined {
  const cpu = resources.limits?.cpu ?? resources.requests?.cpu;
  const nano = cpu === undefined ? undefined : nanoUnits(cpu);
  if (nano === undefined) return undefined;
  const cores = (nano + NANO - 1n) / NANO;
  return Math.max(1, Number(cores));
}
const NANO = 1_000_000_000n;

/** `pvc://CLAIM/path` -> the claim and the path inside it. */
export function pvcLocation(uri: string): { claim: string; path: string } | undefined {
  const m = /^pvc:\/\/([^/]+)\/(.+)$/.exec(uri);
  return m ? { claim: m[1]!, path: m[2]! } : undefined;
}

function quantities(list: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(list).map(([k, v]) => [k, String(v)]));
}

/**
 * The claims the scorer reads from, each mounted read-only once: the model's at /models, the baseline's there too
 * when it is on the same claim, else at /baseline. Returns each URI as the scorer sees it.
 */
function claimMounts(sm: ScoringModel) {
  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  const mountPaths = new Map<string, string>();
  const inPod = (uri: string, volume: string, mountPath: string) => {
    const pvc = pvcLocation(uri);
    if (!pvc) return uri;
    let mounted = mountPaths.get(pvc.claim);
    if (mounted === undefined) {
      mounted = mountPath;
      mountPaths.set(pvc.claim, mounted);
      volumes.push({ name: volume, persistentVolumeClaim: { claimName: pvc.claim, readOnly: true } });
      mounts.push({ name: volume, mountPath, readOnly: true });
    }
    return `${mounted}/${pvc.path}`;
  };
  const modelUri = inPod(sm.spec.model.uri, 'model', MODEL_MOUNT);
  const baseline = sm.spec.monitoring?.baseline;
  const baselineUri = baseline && inPod(baseline.uri, 'baseline', BASELINE_MOUNT);
  return { modelUri, baselineUri, volumes, mounts };
}

/** Where a model's scorers ask for their routing: by namespace and name, and the uid, so a namesake's is not theirs. */
export function routingUrl(sm: ScoringModel, base: string): string {
  const { namespace, name, uid } = sm.metadata;
  return `${base.replace(/\/+$/, '')}${routingPath(namespace, name)}?uid=${encodeURIComponent(uid)}`;
}

/** The revision of a Deployment's pod template: the digest its template carries (undefined for none). */
export function revisionOf(deployment: V1Deployment | undefined): string | undefined {
  return deployment?.spec?.template?.metadata?.labels?.[LABELS.templateHash];
}

/**
 * The Secret of spec.credentials becomes the scorer's env whole (envFrom), and an explicit env entry wins over it: each
 * name only the operator may set (OPERATOR_ONLY_ENV) that `env` does not set yet is set here, empty, so that no key of
 * the Secret sets it (NODE_OPTIONS would run code of the Secret's choosing past the image allow-list, ROUTING_URL
 * would point the scorer at another routing endpoint). Empty is unset to the scorer (contract/settings.ts) and to
 * Node. Written without `value`: the API server drops an empty one, and what it stores must match what is applied.
 */
function shadows(env: readonly V1EnvVar[]): V1EnvVar[] {
  const set = new Set(env.map((e) => e.name));
  return OPERATOR_ONLY_ENV.filter((name) => !set.has(name)).map((name) => ({ name }));
}

export function desiredDeployment(sm: ScoringModel, config: DesiredConfig): V1Deployment {
  const { spec } = sm;
  const claims = claimMounts(sm);
  const monitoring = spec.monitoring;
  // One worker per core the container may use; a WORKERS in spec.env is the user's choice and wins.
  const workers = spec.env?.some((e) => e.name === SCORER_ENV.workers) ? undefined : workersFor(spec.resources);
  const operatorEnv: V1EnvVar[] = [
    { name: SCORER_ENV.modelUri, value: claims.modelUri },
    ...(spec.model.format ? [{ name: SCORER_ENV.modelFormat, value: spec.model.format }] : []),
    { name: SCORER_ENV.modelName, value: sm.metadata.name },
    ...(spec.model.sha256 ? [{ name: SCORER_ENV.modelSha256, value: spec.model.sha256.toLowerCase() }] : []),
    { name: SCORER_ENV.port, value: String(SCORER_PORT) },
    { name: SCORER_ENV.grpcPort, value: String(SCORER_GRPC_PORT) },
    { name: SCORER_ENV.metricsPort, value: String(SCORER_METRICS_PORT) },
    { name: SCORER_ENV.shutdownTimeoutMs, value: String(SHUTDOWN_TIMEOUT_SECONDS * 1000) },
    ...(workers !== undefined ? [{ name: SCORER_ENV.workers, value: String(workers) }] : []),
    // Set only with spec.monitoring: a model without it runs a scorer that counts nothing.
    ...(monitoring
      ? [
          { name: SCORER_ENV.monitorBaseline, value: claims.baselineUri! },
          ...(monitoring.baseline.sha256
            ? [{ name: SCORER_ENV.monitorBaselineSha256, value: monitoring.baseline.sha256.toLowerCase() }]
            : []),
          // The scorer's own PSI (its gauges and report) waits for as many rows as the operator's judgment.
          { name: SCORER_ENV.monitorMinRows, value: String(monitoring.minRows) },
        ]
      : []),
    ...(config.routingUrl ? [{ name: SCORER_ENV.routingUrl, value: routingUrl(sm, config.routingUrl) }] : []),
  ];
  const userEnv = (spec.env ?? []).map((e) => ({ ...e }));
  const env = [...operatorEnv, ...(spec.credentials ? shadows([...operatorEnv, ...userEnv]) : []), ...userEnv];
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: '64Mi' } }, ...claims.volumes];
  const mounts: V1VolumeMount[] = [{ name: 'tmp', mountPath: '/tmp' }, ...claims.mounts];
  const probe = (path: string, periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path, port: HTTP_PORT_NAME },
    periodSeconds,
    failureThreshold,
    timeoutSeconds: 2,
  });

  const podSpec: V1PodSpec = {
    // The scorer never talks to the API server.
    automountServiceAccountToken: false,
    ...(spec.serviceAccountName ? { serviceAccountName: spec.serviceAccountName } : {}),
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
    containers: [
      {
        name: SCORER_CONTAINER,
        image: spec.image ?? config.scorerImage,
        imagePullPolicy: 'IfNotPresent',
        env,
        ...(spec.credentials ? { envFrom: [{ secretRef: { name: spec.credentials.secretRef.name } }] } : {}),
        ports: [
          { name: HTTP_PORT_NAME, containerPort: SCORER_PORT, protocol: 'TCP' },
          { name: GRPC_PORT_NAME, containerPort: SCORER_GRPC_PORT, protocol: 'TCP' },
          { name: METRICS_PORT_NAME, containerPort: SCORER_METRICS_PORT, protocol: 'TCP' },
        ],
        // Ready only once the model is loaded and warmed up; live as soon as the server listens.
        startupProbe: probe('/v2/health/live', 2, 30),
        readinessProbe: probe('/v2/health/ready', 2, 2),
        livenessProbe: probe('/v2/health/live', 10, 3),
        lifecycle: { preStop: { sleep: { seconds: PRESTOP_SECONDS } } },
        resources: {
          ...(spec.resources.requests ? { requests: quantities(spec.resources.requests) } : {}),
          ...(spec.resources.limits ? { limits: quantities(spec.resources.limits) } : {}),
        },
        securityContext: {
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
        },
        // The scorer writes why a model failed to load here; the operator shows it in the ScoringModel's status.
        terminationMessagePath: TERMINATION_LOG,
        terminationMessagePolicy: 'FallbackToLogsOnError',
        volumeMounts: mounts,
      },
    ],
    volumes,
    ...(spec.nodeSelector ? { nodeSelector: { ...spec.nodeSelector } } : {}),
    ...(spec.tolerations ? { tolerations: spec.tolerations.map((t) => ({ ...t })) } : {}),
    topologySpreadConstraints: SPREAD_TOPOLOGIES.map((topologyKey) => ({
      topologyKey,
      maxSkew: 1,
      // A preference, not a rule: one node (or a cluster without zones) still runs every replica.
      whenUnsatisfiable: 'ScheduleAnyway',
      labelSelector: { matchLabels: selectorLabels(sm) },
      // Counted per revision: during a rollout the new pods spread among themselves, not around the old ones.
      matchLabelKeys: ['pod-template-hash'],
    })),
  };

  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: objectMeta(sm),
    spec: {
      // While an HPA owns the replica count, the operator does not claim the field (so SSA leaves it to the HPA).
      ...(spec.autoscaling ? {} : { replicas: spec.replicas }),
      revisionHistoryLimit: 3,
      selector: { matchLabels: selectorLabels(sm) },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: { ...labels(sm), [LABELS.templateHash]: digest(podSpec) } },
        spec: podSpec,
      },
    },
  };
}
