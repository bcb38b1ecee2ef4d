/**
 * The ScoringModel API (scoring.dev/v1alpha1): one zod schema from which the TypeScript types, the validation of
 * objects read from the cluster, and the CRD's OpenAPI schema (`npm run gen:crd`) are all derived.
 * Defaults live here so that the API server applies them; CEL rules carry the cross-field checks.
 */
import { z } from 'zod';
import { SCORER_ENV } from '../../scorer/config.js';
import { MODEL_FORMATS } from '../../scorer/model.js';

export const GROUP = 'scoring.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'ScoringModel';
export const PLURAL = 'scoringmodels';
export const SINGULAR = 'scoringmodel';
export const SHORT_NAMES = ['sm'];
export const CATEGORIES = ['scoring', 'all'];

/** Kubernetes resource quantities ("100m", "1Gi", 2), the same pattern apimachinery's Quantity schema uses. */
export const QUANTITY_PATTERN =
  /^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
const quantity = z.union([z.number().int(), z.string().regex(QUANTITY_PATTERN)]);
const resourceList = z.record(z.string(), quantity);

const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** The scorer's variables the operator sets from spec.model and its own settings: spec.env may not override them. */
export const RESERVED_ENV: readonly string[] = (
  [
    'modelUri',
    'modelFormat',
    'modelName',
    'modelSha256',
    'host',
    'port',
    'shutdownTimeoutMs',
    'terminationLog',
  ] as const
).map((k) => SCORER_ENV[k]);

const keySelector = z.object({
  name: z.string().regex(dnsSubdomain).max(253).meta({ description: 'Name of the object in this namespace.' }),
  key: z.string().min(1).max(253).meta({ description: 'The key to select.' }),
  optional: z
    .boolean()
    .meta({ description: 'Whether the Secret or ConfigMap, or its key, may be missing.' })
    .optional(),
});

const envVar = z.object({
  name: z.string().regex(envName).max(256).meta({ description: 'Environment variable name.' }),
  value: z.string().meta({ description: 'The value, as given (no $(VAR) expansion).' }).optional(),
  valueFrom: z
    .object({
      secretKeyRef: keySelector.meta({ description: 'A key of a Secret in the namespace.' }).optional(),
      configMapKeyRef: keySelector.meta({ description: 'A key of a ConfigMap in the namespace.' }).optional(),
    })
    .meta({
      description: 'A value from a key of a Secret or ConfigMap in the namespace.',
      'x-kubernetes-validations': [
        {
          rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
          message: 'valueFrom needs exactly one of secretKeyRef or configMapKeyRef',
        },
      ],
    })
    .optional(),
});

const toleration = z.object({
  key: z.string().meta({ description: 'The taint key tolerated; empty with operator Exists: every taint.' }).optional(),
  operator: z
    .enum(['Exists', 'Equal'])
    .meta({ description: 'Exists (any value) or Equal (the value below; the default).' })
    .optional(),
  value: z.string().meta({ description: 'The taint value tolerated, with operator Equal.' }).optional(),
  effect: z
    .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
    .meta({ description: 'The taint effect tolerated; empty: every effect.' })
    .optional(),
  tolerationSeconds: z
    .number()
    .int()
    .meta({ description: 'With NoExecute: how long the pod stays bound to a tainted node; absent: for ever.' })
    .optional(),
});

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '1Gi' },
};

/** A ScoringModel's name is its Service's, and a Service name must be a DNS-1035 label. */
const NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
export const NAME_RULE = `size(self.metadata.name) <= 63 && self.metadata.name.matches('${NAME_PATTERN}')`;
export const NAME_MESSAGE =
  'metadata.name must be a DNS-1035 label, as it names the Service: at most 63 characters, lowercase letters, ' +
  "digits and '-', starting with a letter and ending with a letter or digit";

/** The CEL name rule for objects admitted before it existed (the API server checks it for new ones). */
const NAME_REGEX = new RegExp(NAME_PATTERN);

export function nameProblem(name: string): string | undefined {
  return name.length <= 63 && NAME_REGEX.test(name) ? undefined : NAME_MESSAGE;
}

const URI_PATTERNS = ['^(file|https?)://.+', '^s3://[^/]+/.+', '^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/.+'];
const URI_RULE = `self == 'identity' || !self.contains('://') || ${URI_PATTERNS.map((p) => `self.matches('${p}')`).join(' || ')}`;
const URI_MESSAGE = 'must be s3://bucket/key, http(s)://..., file:///path, a path, pvc://CLAIM/path or "identity"';
const MIN_MAX_MESSAGE = 'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas';

export const modelSchema = z
  .object({
    uri: z
      .string()
      .min(1)
      .max(2048)
      .meta({
        description:
          'Where the model is: s3://bucket/key, http(s)://..., file:///path or a path in the image, ' +
          'pvc://CLAIM/path (a PersistentVolumeClaim in the namespace, mounted read-only), or "identity".',
        'x-kubernetes-validations': [
          {
            rule: URI_RULE,
            message: URI_MESSAGE,
          },
        ],
      }),
    format: z
      .enum(MODEL_FORMATS)
      .meta({ description: 'The model format; inferred from the file name (.onnx, .json, .txt) when absent.' })
      .optional(),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/)
      .meta({ description: "The model file's SHA-256 (64 hex digits); a model whose digest differs is refused." })
      .optional(),
  })
  .meta({ description: 'The model to serve.' });

export const autoscalingSchema = z
  .object({
    minReplicas: z.number().int().min(1).default(1).meta({ description: 'Fewest replicas (default 1).' }),
    maxReplicas: z.number().int().min(1).max(1000).meta({ description: 'Most replicas.' }),
    targetCPUUtilizationPercentage: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(80)
      .meta({ description: 'Average CPU utilisation, in percent of the CPU request, to keep (default 80).' }),
  })
  .meta({
    description: 'When present, a HorizontalPodAutoscaler owns the replica count and spec.replicas is ignored.',
    'x-kubernetes-validations': [
      {
        rule: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas',
        message: MIN_MAX_MESSAGE,
      },
    ],
  });

export const scoringModelSpecSchema = z
  .object({
    model: modelSchema,
    replicas: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(1)
      .meta({ description: 'Number of scorer replicas (default 1); ignored while autoscaling is set.' }),
    autoscaling: autoscalingSchema.optional(),
    resources: z
      .object({
        requests: resourceList
          .meta({ description: 'The CPU and memory each scorer is scheduled with (e.g. cpu: 500m, memory: 1Gi).' })
          .optional(),
        limits: resourceList
          .meta({ description: 'The most CPU and memory each scorer may use; above the memory limit it is killed.' })
          .optional(),
      })
      .default(DEFAULT_RESOURCES)
      .meta({ description: 'Compute resources of each scorer container (default: 100m CPU, 256Mi-1Gi memory).' }),
    image: z
      .string()
      .min(1)
      .max(512)
      .meta({ description: "The scorer image; the operator's default when absent." })
      .optional(),
    env: z
      .array(envVar)
      .max(64)
      .meta({
        description: 'Extra environment variables for the scorer (e.g. S3_ENDPOINT, LOG_LEVEL).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        'x-kubernetes-validations': [
          {
            rule: `self.all(e, !(e.name in [${RESERVED_ENV.map((n) => `'${n}'`).join(', ')}]))`,
            message: `env may not set ${RESERVED_ENV.join(', ')}: they come from spec.model and the operator`,
          },
        ],
      })
      .optional(),
    credentials: z
      .object({
        secretRef: z
          .object({
            name: z
              .string()
              .regex(dnsSubdomain)
              .max(253)
              .meta({ description: 'Name of the Secret in this namespace.' }),
          })
          .meta({
            description: 'A Secret in the namespace whose keys become environment variables (AWS_ACCESS_KEY_ID, ...).',
          }),
      })
      .meta({ description: 'Credentials for the model store; the Secret is referenced, never copied.' })
      .optional(),
    service: z
      .object({
        type: z
          .enum(['ClusterIP', 'NodePort', 'LoadBalancer'])
          .default('ClusterIP')
          .meta({ description: 'The Service type: ClusterIP (default), NodePort or LoadBalancer.' }),
        port: z
          .number()
          .int()
          .min(1)
          .max(65535)
          .default(80)
          .meta({ description: 'The port the Service listens on (default 80); the scorers listen on 8080.' }),
      })
      .default({ type: 'ClusterIP', port: 80 })
      .meta({ description: 'The Service in front of the scorers (default ClusterIP on port 80).' }),
    nodeSelector: z
      .record(z.string(), z.string())
      .meta({ description: 'Node labels a scorer pod needs to be scheduled on a node.' })
      .optional(),
    tolerations: z.array(toleration).max(64).meta({ description: 'Taints the scorer pods tolerate.' }).optional(),
    serviceAccountName: z
      .string()
      .regex(dnsSubdomain)
      .max(253)
      .meta({
        description:
          "The scorer pods' ServiceAccount (e.g. for cloud credentials); the namespace's default when absent.",
      })
      .optional(),
  })
  .meta({ description: 'What to serve and how.' });

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const conditionSchema = z.object({
  type: z.string().min(1).max(316).meta({ description: 'What the condition is about: Ready or ModelLoaded.' }),
  status: z.enum(CONDITION_STATUSES).meta({ description: 'True, False or Unknown.' }),
  observedGeneration: z
    .number()
    .int()
    .min(0)
    .meta({ description: 'The metadata.generation the condition was set from.' })
    .optional(),
  lastTransitionTime: z
    .string()
    .meta({ format: 'date-time', description: 'When the status last changed from one value to another.' }),
  reason: z
    .string()
    .min(1)
    .max(1024)
    .regex(/^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/)
    .meta({ description: 'Why, in one CamelCase word (e.g. Available, Progressing, ModelLoadFailed, ApplyFailed).' }),
  message: z.string().max(32768).meta({ description: 'Why, for a human: what happened and what to do.' }),
});

export const scoringModelStatusSchema = z
  .object({
    observedGeneration: z
      .number()
      .int()
      .optional()
      .meta({ description: 'The metadata.generation this status was computed from.' }),
    replicas: z.number().int().optional().meta({ description: 'Scorer pods that exist.' }),
    readyReplicas: z.number().int().optional().meta({ description: 'Scorer pods that are ready (model loaded).' }),
    ready: z.string().optional().meta({ description: 'ready/desired, for kubectl get.' }),
    selector: z.string().optional().meta({ description: 'Label selector of the scorer pods (scale subresource).' }),
    format: z.string().optional().meta({ description: 'The model format being served.' }),
    url: z.string().optional().meta({ description: 'The in-cluster URL of the model service.' }),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({
        description: 'Ready (the model answers requests) and ModelLoaded (the scorers loaded the model).',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['type'],
      }),
  })
  .meta({ description: 'What the operator observed.' });

export type ScoringModelSpecInput = z.input<typeof scoringModelSpecSchema>;
export type ScoringModelSpec = z.output<typeof scoringModelSpecSchema>;
export type ScoringModelStatus = z.output<typeof scoringModelStatusSchema>;
export type Condition = z.output<typeof conditionSchema>;

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string | Date;
  deletionTimestamp?: string | Date;
}

/** A ScoringModel as read from the API server (spec not yet validated). */
export interface ScoringModelObject {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: ScoringModelStatus;
}

/** A ScoringModel whose spec passed validation (defaults applied). */
export interface ScoringModel extends Omit<ScoringModelObject, 'spec'> {
  spec: ScoringModelSpec;
}

/**
 * Validates a spec read from the cluster: the schema, then the rules the CRD states in CEL (so that an object
 * admitted under an older CRD is still judged by today's rules). Each problem is named by its field path.
 */
export function parseSpec(spec: unknown): { ok: true; spec: ScoringModelSpec } | { ok: false; message: string } {
  const result = scoringModelSpecSchema.safeParse(spec ?? {});
  if (!result.success) {
    const message = result.error.issues
      .map(
        (i) => `spec${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`,
      )
      .join('; ');
    return { ok: false, message };
  }
  const s = result.data;
  const problems: string[] = [];
  const uri = s.model.uri;
  if (uri !== 'identity' && uri.includes('://') && !URI_PATTERNS.some((p) => new RegExp(p).test(uri))) {
    problems.push(`spec.model.uri: ${URI_MESSAGE}`);
  }
  if (s.autoscaling && s.autoscaling.minReplicas > s.autoscaling.maxReplicas) problems.push(`spec: ${MIN_MAX_MESSAGE}`);
  const reserved = (s.env ?? []).filter((e) => RESERVED_ENV.includes(e.name)).map((e) => e.name);
  if (reserved.length > 0) problems.push(`spec.env: may not set ${reserved.join(', ')}`);
  return problems.length > 0 ? { ok: false, message: problems.join('; ') } : { ok: true, spec: s };
}
