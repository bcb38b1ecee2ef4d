/**
 * The ScoringModel API (scoring.dev/v1alpha1): one zod schema from which the TypeScript types, the validation of
 * objects read from the cluster, and the CRD's OpenAPI schema (`npm run gen:crd`) are all derived.
 * Defaults live here so that the API server applies them; CEL rules carry the cross-field checks.
 */
import { z } from 'zod';
import { SCORER_ENV, SCORER_GRPC_PORT, SCORER_PORT } from '../../contract/env.js';
import { MODEL_FORMATS } from '../../contract/formats.js';
import { nanoUnits, quantityAbove, quantityNegative } from './quantity.js';

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

/** Kubernetes' reasons a CEL rule may give: kubectl prints them as "Invalid value", "Required value", "Forbidden". */
type Reason = 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';

/**
 * A rule stated twice, side by side: in CEL for the CRD, so that the API server refuses a spec at apply time that
 * Kubernetes would refuse later in a child; and in TypeScript for parseSpec, so that an object stored before the rule
 * existed gets InvalidSpec naming the same field instead of a child's ApplyFailed.
 */
interface Rule<T> {
  rule: string;
  message: string;
  /** CEL that builds the message from the object, where naming the values at fault helps. */
  messageExpression?: string;
  /** Where kubectl reports the problem, relative to the object the rule is on: ".valueFrom", ".requests['cpu']". */
  fieldPath?: string;
  reason?: Reason;
  holds: (value: T) => boolean;
  /** The TypeScript twin of messageExpression. */
  explain?: (value: T) => string;
}

/** The rules as the CRD's `x-kubernetes-validations`. */
function cel<T>(rules: Rule<T>[]) {
  return {
    'x-kubernetes-validations': rules.map(({ rule, message, messageExpression, fieldPath, reason }) => ({
      rule,
      message,
      ...(messageExpression ? { messageExpression } : {}),
      ...(fieldPath ? { fieldPath } : {}),
      ...(reason ? { reason } : {}),
    })),
  };
}

/** ".resources.requests['cpu']" -> ["resources", "requests", "cpu"], the path of a zod issue. */
function pathOf(fieldPath: string | undefined): string[] {
  return [...(fieldPath ?? '').matchAll(/\.([^.[]+)|\['([^']*)'\]/g)].map((m) => m[1] ?? m[2]!);
}

/** The rules as a zod refinement, for parseSpec. */
function refine<T>(rules: Rule<T>[]) {
  return (value: T, ctx: z.RefinementCtx<T>) => {
    for (const r of rules) {
      if (!r.holds(value)) {
        ctx.addIssue({ code: 'custom', message: r.explain?.(value) ?? r.message, path: pathOf(r.fieldPath) });
      }
    }
  };
}

/** A CEL string literal (CEL's double-quoted strings escape as JSON does). */
const celString = (text: string) => JSON.stringify(text);

/** A quantity field in CEL: the field is int-or-string, and quantity() takes a string. */
const celQuantity = (value: string) => `quantity(string(${value}))`;
const celIsQuantity = (value: string) => `isQuantity(string(${value}))`;

const quantityRules: Rule<string | number>[] = [
  {
    rule: `!${celIsQuantity('self')} || !${celQuantity('self')}.isLessThan(quantity('0'))`,
    message: 'must not be negative',
    holds: (q) => !quantityNegative(q),
  },
];
type ResourceList = Record<string, string | number>;
// maxLength bounds the API server's cost estimate of every rule that reads a quantity.
const quantity = z
  .union([z.number().int(), z.string().max(64).regex(QUANTITY_PATTERN)])
  .superRefine(refine(quantityRules))
  .meta(cel(quantityRules));

/**
 * The resources a scorer may ask for. Kubernetes also takes hugepages-* and extended resources (GPUs), with rules of
 * their own (requests equal to limits, cpu or memory beside hugepages): the scorer uses neither.
 */
export const RESOURCE_NAMES = ['cpu', 'memory', 'ephemeral-storage'] as const;
const celResourceNames = `[${RESOURCE_NAMES.map((n) => `'${n}'`).join(', ')}]`;
const isResourceName = (k: string) => (RESOURCE_NAMES as readonly string[]).includes(k);
/*
 * The messages that name a value at fault name the first one found (CEL's join() has no cost bound the API server
 * accepts); CEL walks a map in no set order, so with several at fault either side may name another.
 */
const resourceListRules: Rule<ResourceList>[] = [
  {
    rule: `self.all(k, k in ${celResourceNames})`,
    message: `may name only ${RESOURCE_NAMES.join(', ')}`,
    messageExpression: `${celString(`may name only ${RESOURCE_NAMES.join(', ')}, not "`)} + self.filter(k, !(k in ${celResourceNames}))[0] + '"'`,
    holds: (list) => Object.keys(list).every(isResourceName),
    explain: (list) =>
      `may name only ${RESOURCE_NAMES.join(', ')}, not "${Object.keys(list).find((k) => !isResourceName(k))}"`,
  },
];
const resourceList = (description: string) =>
  z
    .record(z.string(), quantity)
    .superRefine(refine(resourceListRules))
    .meta({ description, maxProperties: RESOURCE_NAMES.length, ...cel(resourceListRules) });

/** A resource whose request is above its limit. */
const overLimit = (requests: ResourceList = {}, limits: ResourceList = {}) =>
  Object.keys(requests).find((k) => k in limits && quantityAbove(requests[k]!, limits[k]!));
const celOverLimit = (k: string) =>
  `${k} in self.limits && ${celIsQuantity(`self.requests[${k}]`)} && ${celIsQuantity(`self.limits[${k}]`)} && ` +
  `${celQuantity(`self.requests[${k}]`)}.compareTo(${celQuantity(`self.limits[${k}]`)}) > 0`;
const resourcesRules: Rule<{ requests?: ResourceList; limits?: ResourceList }>[] = [
  {
    rule: `!has(self.requests) || !has(self.limits) || !self.requests.exists(k, ${celOverLimit('k')})`,
    message: 'a request may not be above its limit',
    messageExpression:
      `self.requests.filter(k, ${celOverLimit('k')})` +
      `.map(k, k + ' request ' + string(self.requests[k]) + ' is above its limit ' + string(self.limits[k]))[0]`,
    fieldPath: '.requests',
    holds: (r) => overLimit(r.requests, r.limits) === undefined,
    explain: (r) => {
      const k = overLimit(r.requests, r.limits)!;
      return `${k} request ${r.requests![k]} is above its limit ${r.limits![k]}`;
    },
  },
];

/** Lower-case DNS subdomain ("s3-credentials", "example.com"), the form of most object names. */
const dnsSubdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const envName = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
/** A key of a Secret or ConfigMap: [-._a-zA-Z0-9]+, but not ".", "..", or starting with "..". */
const configMapKey = /^([-_a-zA-Z0-9]|[.][-_a-zA-Z0-9])[-._a-zA-Z0-9]*$/;

/*
 * Label keys and values, as apimachinery validates them (IsQualifiedName, IsValidLabelValue). Written without
 * backslashes and quotes, so that they go into CEL string literals as they are.
 */
const QUALIFIED_NAME =
  '^([a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$';
/** The longest label key: a prefix of 253, '/', a name of 63. */
const QUALIFIED_NAME_MAX = 317;
const LABEL_KEY_FORM =
  "an optional DNS subdomain prefix (at most 253 characters) and '/', then a name of at most 63 characters: " +
  "letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
const LABEL_VALUE_MAX = 63;
const LABEL_VALUE_MESSAGE =
  "must be a label value: at most 63 characters, letters, digits, '-', '_' or '.', starting and ending with a letter " +
  'or digit';
const qualifiedNameRegex = new RegExp(QUALIFIED_NAME);
const labelValueRegex = new RegExp(LABEL_VALUE);
const isQualifiedName = (k: string) => qualifiedNameRegex.test(k) && (!k.includes('/') || k.indexOf('/') <= 253);
const celIsQualifiedName = (k: string) =>
  `(${k}.matches('${QUALIFIED_NAME}') && (!${k}.contains('/') || ${k}.indexOf('/') <= 253))`;

const labelValueRules: Rule<string>[] = [
  { rule: `self.matches('${LABEL_VALUE}')`, message: LABEL_VALUE_MESSAGE, holds: (v) => labelValueRegex.test(v) },
];
const labelValue = (description: string) =>
  z
    .string()
    .max(LABEL_VALUE_MAX)
    .superRefine(refine(labelValueRules))
    .meta({ description, ...cel(labelValueRules) });

const nodeSelectorRules: Rule<Record<string, string>>[] = [
  {
    rule: `self.all(k, ${celIsQualifiedName('k')})`,
    message: `keys must be label keys (${LABEL_KEY_FORM})`,
    messageExpression: `'"' + self.filter(k, !${celIsQualifiedName('k')})[0] + ${celString(`" is not a label key (${LABEL_KEY_FORM})`)}`,
    holds: (selector) => Object.keys(selector).every(isQualifiedName),
    explain: (selector) =>
      `"${Object.keys(selector).find((k) => !isQualifiedName(k))}" is not a label key (${LABEL_KEY_FORM})`,
  },
];

/**
 * The scorer's variables the operator sets from spec.model, spec.monitoring and its own settings: spec.env may not
 * override them.
 */
export const RESERVED_ENV: readonly string[] = (
  [
    'modelUri',
    'modelFormat',
    'modelName',
    'modelSha256',
    'host',
    'port',
    'grpcPort',
    'metricsPort',
    'shutdownTimeoutMs',
    'terminationLog',
    'monitorBaseline',
    'monitorBaselineSha256',
    'monitorMinRows',
    'routingUrl',
  ] as const
).map((k) => SCORER_ENV[k]);
const celReservedEnv = `[${RESERVED_ENV.map((n) => `'${n}'`).join(', ')}]`;
const RESERVED_ENV_WHY = 'they come from spec.model and the operator';
/**
 * Variables read before the scorer's code that load code of their own: Node's `--import`/`--require` in NODE_OPTIONS,
 * and the dynamic loader's LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH (a shared object from /tmp or a pvc:// volume).
 * Set by a spec's author, they would run code of the author's choosing in an allowed image.
 */
const CODE_LOADING_ENV = ['NODE_OPTIONS', 'LD_PRELOAD', 'LD_AUDIT', 'LD_LIBRARY_PATH'];
const celCodeLoadingEnv = `[${CODE_LOADING_ENV.map((n) => `'${n}'`).join(', ')}]`;
/**
 * Every name spec.env may not set. The Secret of spec.credentials becomes the scorer's env too (envFrom), where no
 * rule can look at its keys: desired/deployment.ts sets each of these names explicitly, empty when the operator has
 * no value for it, and an explicit env entry wins over envFrom (an empty one is no setting, to Node and glibc alike).
 */
export const OPERATOR_ONLY_ENV: readonly string[] = [...RESERVED_ENV, ...CODE_LOADING_ENV];
const CODE_LOADING_WHY = 'it would run code of your choosing in the scorer image, past the image allow-list';
const envRules: Rule<{ name: string }[]>[] = [
  {
    rule: `self.all(e, !(e.name in ${celReservedEnv}))`,
    message: `may not set ${RESERVED_ENV.join(', ')}: ${RESERVED_ENV_WHY}`,
    messageExpression: `'may not set ' + self.map(e, e.name).filter(n, n in ${celReservedEnv})[0] + ${celString(`: ${RESERVED_ENV_WHY}`)}`,
    holds: (env) => env.every((e) => !RESERVED_ENV.includes(e.name)),
    explain: (env) => `may not set ${env.find((e) => RESERVED_ENV.includes(e.name))!.name}: ${RESERVED_ENV_WHY}`,
  },
  {
    rule: `self.all(e, !(e.name in ${celCodeLoadingEnv}))`,
    message: `may not set ${CODE_LOADING_ENV.join(', ')}: ${CODE_LOADING_WHY}`,
    messageExpression: `'may not set ' + self.map(e, e.name).filter(n, n in ${celCodeLoadingEnv})[0] + ${celString(`: ${CODE_LOADING_WHY}`)}`,
    holds: (env) => env.every((e) => !CODE_LOADING_ENV.includes(e.name)),
    explain: (env) => `may not set ${env.find((e) => CODE_LOADING_ENV.includes(e.name))!.name}: ${CODE_LOADING_WHY}`,
  },
];

const keySelector = z.object({
  name: z.string().regex(dnsSubdomain).max(253).meta({ description: 'Name of the object in this namespace.' }),
  key: z
    .string()
    .min(1)
    .max(253)
    .regex(configMapKey)
    .meta({ description: "The key to select: letters, digits, '-', '_' or '.' (not '.' or '..')." }),
  optional: z
    .boolean()
    .meta({ description: 'Whether the Secret or ConfigMap, or its key, may be missing.' })
    .optional(),
});

const envVarRules: Rule<{ value?: string; valueFrom?: object }>[] = [
  {
    rule: '!has(self.valueFrom) || !has(self.value) || size(self.value) == 0',
    message: 'may not be given with a non-empty value: give one or the other',
    fieldPath: '.valueFrom',
    reason: 'FieldValueForbidden',
    holds: (e) => e.valueFrom === undefined || !e.value,
  },
];
const envVar = z
  .object({
    name: z.string().regex(envName).max(256).meta({ description: 'Environment variable name.' }),
    value: z
      .string()
      .meta({ description: 'The value, as given (no $(VAR) expansion); not with valueFrom.' })
      .optional(),
    valueFrom: z
      .object({
        secretKeyRef: keySelector.meta({ description: 'A key of a Secret in the namespace.' }).optional(),
        configMapKeyRef: keySelector.meta({ description: 'A key of a ConfigMap in the namespace.' }).optional(),
      })
      .meta({
        description: 'A value from a key of a Secret or ConfigMap in the namespace; not with a non-empty value.',
        'x-kubernetes-validations': [
          {
            rule: 'has(self.secretKeyRef) != has(self.configMapKeyRef)',
            message: 'valueFrom needs exactly one of secretKeyRef or configMapKeyRef',
          },
        ],
      })
      .optional(),
  })
  .superRefine(refine(envVarRules))
  .meta(cel(envVarRules));

interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}
/** Kubernetes' ValidateTolerations, rule by rule, reported on the field it reports. */
const tolerationRules: Rule<Toleration>[] = [
  {
    rule: `!has(self.key) || size(self.key) == 0 || ${celIsQualifiedName('self.key')}`,
    message: `must be a label key: ${LABEL_KEY_FORM}`,
    fieldPath: '.key',
    holds: (t) => !t.key || isQualifiedName(t.key),
  },
  {
    rule: "(has(self.key) && size(self.key) > 0) || (has(self.operator) && self.operator == 'Exists')",
    message: 'must be Exists when key is empty (a toleration of every taint)',
    fieldPath: '.operator',
    holds: (t) => !!t.key || t.operator === 'Exists',
  },
  {
    rule: "!has(self.operator) || self.operator != 'Exists' || !has(self.value) || size(self.value) == 0",
    message: 'must be empty when operator is Exists',
    fieldPath: '.value',
    holds: (t) => t.operator !== 'Exists' || !t.value,
  },
  {
    rule: "!has(self.tolerationSeconds) || (has(self.effect) && self.effect == 'NoExecute')",
    message: 'must be NoExecute when tolerationSeconds is set',
    fieldPath: '.effect',
    holds: (t) => t.tolerationSeconds === undefined || t.effect === 'NoExecute',
  },
];
const toleration = z
  .object({
    key: z
      .string()
      .max(QUALIFIED_NAME_MAX)
      .meta({
        description:
          'The taint key tolerated, a label key; empty (with operator Exists, which it then needs): every taint.',
      })
      .optional(),
    operator: z
      .enum(['Exists', 'Equal'])
      .meta({ description: 'Exists (any value: value stays empty) or Equal (the value below; the default).' })
      .optional(),
    value: labelValue('The taint value tolerated (a label value), with operator Equal.').optional(),
    effect: z
      .enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'])
      .meta({ description: 'The taint effect tolerated (NoExecute with tolerationSeconds); empty: every effect.' })
      .optional(),
    tolerationSeconds: z
      .number()
      .int()
      .meta({ description: 'With effect NoExecute: how long the pod stays bound to a tainted node; absent: for ever.' })
      .optional(),
  })
  .superRefine(refine(tolerationRules))
  .meta(cel(tolerationRules));

/** The Service has one port per protocol: HTTP's (this one) cannot be gRPC's too. */
const servicePortRules: Rule<number>[] = [
  {
    rule: `self != ${SCORER_GRPC_PORT}`,
    message: `must not be ${SCORER_GRPC_PORT}: the Service's gRPC port is ${SCORER_GRPC_PORT}`,
    holds: (port) => port !== SCORER_GRPC_PORT,
  },
];

export const DEFAULT_RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi' },
  limits: { memory: '1Gi' },
};

/** A ScoringModel's name is its Service's, and a Service name must be a DNS-1035 label. */
const NAME_PATTERN = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** On metadata.name itself, so that kubectl names that field. */
export const NAME_RULE = `size(self) <= 63 && self.matches('${NAME_PATTERN}')`;
export const NAME_MESSAGE =
  'metadata.name must be a DNS-1035 label, as it names the Service: at most 63 characters, lowercase letters, ' +
  "digits and '-', starting with a letter and ending with a letter or digit";

/** The CEL name rule for objects admitted before it existed (the API server checks it for new ones). */
const NAME_REGEX = new RegExp(NAME_PATTERN);

export function nameProblem(name: string): string | undefined {
  return name.length <= 63 && NAME_REGEX.test(name) ? undefined : NAME_MESSAGE;
}

const URI_PATTERNS = ['^(file|https?)://.+', '^s3://[^/]+/.+', '^pvc://[a-z0-9]([-a-z0-9]*[a-z0-9])?/.+'];
const URI_FORMS = 's3://bucket/key, http(s)://..., file:///path, a path';
const celUriForms = `!self.contains('://') || ${URI_PATTERNS.map((p) => `self.matches('${p}')`).join(' || ')}`;
const isUriForm = (uri: string) => !uri.includes('://') || URI_PATTERNS.some((p) => new RegExp(p).test(uri));
const uriRules: Rule<string>[] = [
  {
    rule: `self == 'identity' || ${celUriForms}`,
    message: `must be ${URI_FORMS}, pvc://CLAIM/path or "identity"`,
    holds: (uri) => uri === 'identity' || isUriForm(uri),
  },
];
/** A file the scorer reads as it reads the model's, where "identity" (a model, not a file) means nothing. */
const fileUriRules: Rule<string>[] = [
  {
    rule: `self != 'identity' && (${celUriForms})`,
    message: `must be ${URI_FORMS} or pvc://CLAIM/path`,
    holds: (uri) => uri !== 'identity' && isUriForm(uri),
  },
];
const sha256 = (description: string) =>
  z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/)
    .meta({ description });

export const modelSchema = z
  .object({
    uri: z
      .string()
      .min(1)
      .max(2048)
      .superRefine(refine(uriRules))
      .meta({
        description:
          'Where the model is: s3://bucket/key, http(s)://..., file:///path or a path in the image, ' +
          'pvc://CLAIM/path (a PersistentVolumeClaim in the namespace, mounted read-only), or "identity".',
        ...cel(uriRules),
      }),
    format: z
      .enum(MODEL_FORMATS)
      .meta({ description: 'The model format; inferred from the file name (.onnx, .json, .txt) when absent.' })
      .optional(),
    sha256: sha256("The model file's SHA-256 (64 hex digits); a model whose digest differs is refused.").optional(),
  })
  .meta({ description: 'The model to serve.' });

// A rule rather than an exclusive minimum, which OpenAPI 3.0 and JSON Schema spell differently.
const thresholdRules: Rule<number>[] = [{ rule: 'self > 0.0', message: 'must be above 0', holds: (t) => t > 0 }];

/** The least time between two judgments: each asks every ready scorer for its counts. */
export const MIN_MONITORING_INTERVAL_SECONDS = 10;

export const monitoringSchema = z
  .object({
    baseline: z
      .object({
        uri: z
          .string()
          .min(1)
          .max(2048)
          .superRefine(refine(fileUriRules))
          .meta({
            description:
              'Where the baseline (`npm run baseline`) is, as for model.uri: s3://bucket/key, http(s)://..., ' +
              'file:///path or a path in the image, pvc://CLAIM/path (mounted read-only); the scorer reads it at start.',
            ...cel(fileUriRules),
          }),
        sha256: sha256(
          "The baseline file's SHA-256 (64 hex digits): the scorer refuses another file, and the operator sums only " +
            'the counts of scorers that monitor against it.',
        ).optional(),
      })
      .meta({ description: 'The training data the live inputs and outputs are compared with.' }),
    threshold: z
      .number()
      .superRefine(refine(thresholdRules))
      .default(0.2)
      .meta({
        description:
          'The Population Stability Index above which a feature or output has drifted, above 0 (default 0.2; ' +
          '0.1-0.2 is commonly read as a moderate shift, above 0.2 as a significant one).',
        ...cel(thresholdRules),
      }),
    minRows: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .default(500)
      .meta({
        description:
          "Rows the scorers' windows must hold together before drift is judged (default 500): Drifted stays " +
          'Unknown (TooFewRows) below it.',
      }),
    intervalSeconds: z
      .number()
      .int()
      .min(MIN_MONITORING_INTERVAL_SECONDS)
      .max(86_400)
      .default(60)
      .meta({
        description: `How often the operator asks the scorers for their counts and judges drift (default 60, at least ${MIN_MONITORING_INTERVAL_SECONDS}).`,
      }),
  })
  .meta({
    description:
      "Drift detection: each scorer counts its live inputs and outputs into the baseline's bins; the operator " +
      `sums the ready scorers' counts (it connects to each pod's port ${SCORER_PORT}), computes each one's PSI ` +
      'against the baseline, and writes status.drift and the Drifted condition.',
  });
export type Monitoring = z.output<typeof monitoringSchema>;

/** The annotation by which a user acts on a rollout by hand; the operator acts on it once and removes it. */
export const ROLLOUT_ANNOTATION = 'scoring.dev/rollout';
/** Its values: `promote` skips the remaining steps and promotes the candidate; `abort` rolls back now. */
export const ROLLOUT_ACTIONS = ['promote', 'abort'] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export const ROLLOUT_STRATEGIES = ['Canary', 'Shadow'] as const;
export const MAX_ROLLOUT_STEPS = 10;

const pauseSeconds = (what: string) =>
  z
    .number()
    .int()
    .min(0)
    .max(86_400)
    .default(60)
    .meta({
      description:
        `The least time ${what} lasts, in seconds from when the candidate's pods are available (0-86400, default ` +
        '60): it passes once this has elapsed and the analysis holds over minRequests predictions.',
    });

const rolloutStepsRules: Rule<{ weight: number }[]>[] = [
  {
    // isSorted() is Kubernetes' CEL list library; exists_one rules out two steps of the same weight.
    rule: 'self.map(s, s.weight).isSorted() && self.all(s, self.exists_one(t, t.weight == s.weight))',
    message: 'weights must increase strictly from one step to the next',
    holds: (steps) => steps.every((s, i) => i === 0 || s.weight > steps[i - 1]!.weight),
  },
];

/** Rules for strategy and the fields it needs or refuses, reported on the field at fault. */
const rolloutRules: Rule<{ strategy: string; shadow?: object; steps?: object[] }>[] = [
  {
    rule: "!has(self.strategy) || self.strategy != 'Shadow' || has(self.shadow)",
    message: 'strategy Shadow needs shadow: the percent of requests mirrored to the candidate',
    fieldPath: '.shadow',
    reason: 'FieldValueRequired',
    holds: (r) => r.strategy !== 'Shadow' || r.shadow !== undefined,
  },
  {
    rule: "!has(self.strategy) || self.strategy != 'Shadow' || !has(self.steps)",
    message:
      'may not be given with strategy Shadow, which forwards no request to the candidate: use strategy Canary, ' +
      'whose steps a shadow step may precede',
    fieldPath: '.steps',
    reason: 'FieldValueForbidden',
    holds: (r) => r.strategy !== 'Shadow' || r.steps === undefined,
  },
  {
    rule: "!has(self.strategy) || self.strategy != 'Canary' || has(self.steps)",
    message: 'strategy Canary needs steps: the percent of requests forwarded to the candidate at each step',
    fieldPath: '.steps',
    reason: 'FieldValueRequired',
    holds: (r) => r.strategy !== 'Canary' || r.steps !== undefined,
  },
];

export const DEFAULT_AGREEMENT = { tolerance: 1e-6, minShare: 0.99 };
export const DEFAULT_ANALYSIS = { minRequests: 100, maxErrorRateIncrease: 0.01, agreement: DEFAULT_AGREEMENT };

const agreementSchema = z
  .object({
    tolerance: z
      .number()
      .min(0)
      .default(DEFAULT_AGREEMENT.tolerance)
      .meta({
        description:
          'Two output values agree when |candidate - stable| <= tolerance * max(1, |stable|) (at least 0, ' +
          'default 1e-6: float arithmetic apart, the same model gives the same answers).',
      }),
    minShare: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_AGREEMENT.minShare)
      .meta({
        description:
          'The least share (0-1, default 0.99) of compared rows whose every output agrees: below it the shadow ' +
          'step fails.',
      }),
    maxMeanAbsDiff: z
      .number()
      .min(0)
      .meta({
        description:
          'The most the mean absolute difference of compared output values may be (at least 0): above it the ' +
          'shadow step fails. Not judged when absent.',
      })
      .optional(),
  })
  .default(DEFAULT_AGREEMENT)
  .meta({
    description:
      "How closely the candidate's answers must match the stable ones on the mirrored requests: judged on the " +
      'shadow step only.',
  });

const rolloutAnalysisSchema = z
  .object({
    minRequests: z
      .number()
      .int()
      .min(1)
      .max(1_000_000_000)
      .default(DEFAULT_ANALYSIS.minRequests)
      .meta({
        description:
          'Predictions asked of the candidate (forwarded or mirrored) a step needs before it can pass (default ' +
          '100); a step is judged as soon as it has them, and fails at once when a limit is exceeded.',
      }),
    maxErrorRateIncrease: z
      .number()
      .min(0)
      .max(1)
      .default(DEFAULT_ANALYSIS.maxErrorRateIncrease)
      .meta({
        description:
          "The most the candidate's error rate (model failures, 5xx, no answer) may exceed the stable scorers' " +
          'own over the step (0-1, default 0.01).',
      }),
    maxP99Ms: z
      .number()
      .superRefine(refine(thresholdRules))
      .meta({
        description:
          "The most the candidate's 99th percentile prediction time may be, in milliseconds, above 0 (as the " +
          'candidate measures it: the hop from the stable scorer is not held against it). Not judged when absent.',
        ...cel(thresholdRules),
      })
      .optional(),
    maxP99Ratio: z
      .number()
      .superRefine(refine(thresholdRules))
      .meta({
        description:
          "The most the candidate's 99th percentile prediction time may be as a multiple of the stable " +
          "scorers', above 0; judged once both sides have minRequests predictions. Not judged when absent.",
        ...cel(thresholdRules),
      })
      .optional(),
    agreement: agreementSchema,
  })
  .default(DEFAULT_ANALYSIS)
  .meta({
    description:
      "The limits each step is judged against, from the stable scorers' own counts of the step (no Prometheus): " +
      "the candidate's error rate and prediction time against the stable ones', and on the shadow step the " +
      'agreement of their answers.',
  });

export const rolloutSchema = z
  .object({
    strategy: z.enum(ROLLOUT_STRATEGIES).meta({
      description:
        'Canary: steps forward a growing share of requests to the candidate, whose answers the clients get (a ' +
        'shadow step may come first). Shadow: a share of requests is mirrored to the candidate, whose answers are ' +
        'compared with the stable ones and never returned, then the candidate is promoted.',
    }),
    shadow: z
      .object({
        percent: z.number().int().min(1).max(100).default(100).meta({
          description:
            'Percent of requests (1-100, default 100) whose inputs the stable scorers also send to the candidate.',
        }),
        pauseSeconds: pauseSeconds('the shadow step'),
      })
      .meta({
        description:
          "The shadow step: no client sees the candidate's answers. Needed with strategy Shadow; with Canary, the " +
          'step before the canary steps.',
      })
      .optional(),
    steps: z
      .array(
        z
          .object({
            weight: z
              .number()
              .int()
              .min(1)
              .max(99)
              .meta({
                description:
                  'Percent of requests (1-99) the stable scorers forward to the candidate, exactly, whatever the ' +
                  'replica counts; strictly increasing from step to step.',
              }),
            pauseSeconds: pauseSeconds('the step'),
          })
          .meta({ description: 'A canary step.' }),
      )
      .min(1)
      .max(MAX_ROLLOUT_STEPS)
      .superRefine(refine(rolloutStepsRules))
      .meta({
        description: `The canary steps (1-${MAX_ROLLOUT_STEPS}), weights strictly increasing: needed with strategy Canary, refused with Shadow.`,
        ...cel(rolloutStepsRules),
      })
      .optional(),
    analysis: rolloutAnalysisSchema,
    autoPromote: z
      .boolean()
      .default(true)
      .meta({
        description:
          'Whether the candidate is promoted once the last step passes (default true); false: the rollout waits ' +
          `(phase Paused) for the annotation ${ROLLOUT_ANNOTATION}=promote.`,
      }),
  })
  .superRefine(refine(rolloutRules))
  .meta({
    description:
      "How a change of the scorers' template (model, image, env, resources...) reaches the clients; without it, " +
      'a rolling update. The stable Deployment keeps serving while a candidate Deployment of the new template ' +
      'is shadowed and/or canaried step by step, each step judged by analysis; then the candidate is promoted ' +
      '(the stable Deployment rolls out the new template) or rolled back (no request reaches it any more). ' +
      `By hand: the annotation ${ROLLOUT_ANNOTATION}=promote or ${ROLLOUT_ANNOTATION}=abort.`,
    ...cel(rolloutRules),
  });
export type Rollout = z.output<typeof rolloutSchema>;
export type RolloutAnalysis = Rollout['analysis'];

const autoscalingRules: Rule<{ minReplicas: number; maxReplicas: number }>[] = [
  {
    rule: '!has(self.minReplicas) || self.minReplicas <= self.maxReplicas',
    message: 'autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas',
    fieldPath: '.minReplicas',
    holds: (a) => a.minReplicas <= a.maxReplicas,
  },
];
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
  .superRefine(refine(autoscalingRules))
  .meta({
    description:
      'When present, a HorizontalPodAutoscaler owns the replica count: spec.replicas may not change meanwhile ' +
      '(kubectl scale is refused), and a CPU request (spec.resources.requests.cpu, or limits.cpu) is needed.',
    ...cel(autoscalingRules),
  });

/**
 * The CPU request the HPA computes utilisation from: requests.cpu, else limits.cpu (which Kubernetes copies into
 * an absent request).
 */
const CPU_REQUEST = `(has(self.resources.requests) && 'cpu' in self.resources.requests ? self.resources.requests['cpu'] : has(self.resources.limits) && 'cpu' in self.resources.limits ? self.resources.limits['cpu'] : 0)`;
const cpuRequest = (resources: { requests?: ResourceList; limits?: ResourceList }) =>
  resources.requests?.cpu ?? resources.limits?.cpu ?? 0;

const specRules: Rule<{ autoscaling?: object; resources: { requests?: ResourceList; limits?: ResourceList } }>[] = [
  {
    rule: `!has(self.autoscaling) || (${celIsQuantity(CPU_REQUEST)} && ${celQuantity(CPU_REQUEST)}.isGreaterThan(quantity('0')))`,
    message:
      'autoscaling needs a CPU request above 0, as it keeps CPU utilisation at a percentage of it: set ' +
      'spec.resources.requests.cpu (or limits.cpu, which the request defaults to)',
    fieldPath: ".resources.requests['cpu']",
    reason: 'FieldValueRequired',
    holds: (s) => s.autoscaling === undefined || (nanoUnits(cpuRequest(s.resources)) ?? 0n) > 0n,
  },
];
/**
 * The scale subresource writes spec.replicas, which is ignored while an HPA owns the count: refusing the write
 * tells the user so. Adding autoscaling, or removing it, may change replicas in the same write. A transition rule
 * (it reads oldSelf) has no TypeScript twin: parseSpec sees one object, not a change.
 */
const REPLICAS_WHILE_AUTOSCALED = {
  rule: '!has(self.autoscaling) || !has(oldSelf.autoscaling) || self.replicas == oldSelf.replicas',
  message:
    'may not change while spec.autoscaling is set: its HorizontalPodAutoscaler owns the replica count (change ' +
    'spec.autoscaling.minReplicas and maxReplicas, or remove spec.autoscaling)',
  fieldPath: '.replicas',
  reason: 'FieldValueForbidden',
};

export const scoringModelSpecSchema = z
  .object({
    model: modelSchema,
    replicas: z
      .number()
      .int()
      .min(0)
      .max(1000)
      .default(1)
      .meta({
        description:
          'Number of scorer replicas (default 1); while autoscaling is set the HPA owns the count and this may ' +
          'not change. Two or more (or an autoscaling maxReplicas of two or more) get a PodDisruptionBudget: a ' +
          'node drain evicts one scorer at a time. The scorers spread across nodes and zones as a preference, so ' +
          'one node still runs them all.',
      }),
    autoscaling: autoscalingSchema.optional(),
    resources: z
      .object({
        requests: resourceList(
          'The CPU and memory each scorer is scheduled with (e.g. cpu: 500m, memory: 1Gi): cpu, memory or ' +
            'ephemeral-storage, not negative, not above its limit; autoscaling needs cpu.',
        ).optional(),
        limits: resourceList(
          'The most CPU and memory each scorer may use; above the memory limit it is killed. cpu, memory or ' +
            'ephemeral-storage, not negative; an absent request defaults to its limit.',
        ).optional(),
      })
      .superRefine(refine(resourcesRules))
      .default(DEFAULT_RESOURCES)
      .meta({
        description:
          'Compute resources of each scorer container (default: 100m CPU, 256Mi-1Gi memory; giving resources ' +
          'replaces the whole default).',
        ...cel(resourcesRules),
      }),
    image: z
      .string()
      .min(1)
      .max(512)
      .regex(/^\S+$/)
      .meta({
        description:
          "The scorer image (no whitespace); the operator's default when absent. Only images the operator's " +
          'SCORER_IMAGES allow-list names are run: any other gets Ready=False, ImageNotAllowed, and no Deployment.',
      })
      .optional(),
    env: z
      .array(envVar)
      .max(64)
      .superRefine(refine(envRules))
      .meta({
        description:
          'Extra environment variables for the scorer (e.g. S3_ENDPOINT, LOG_LEVEL); each has a value or a ' +
          `valueFrom, not both; not ${RESERVED_ENV.join(', ')}.`,
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
        ...cel(envRules),
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
          .superRefine(refine(servicePortRules))
          .default(80)
          .meta({
            description:
              "The port the Service listens on for HTTP (default 80); the scorers listen on 8080. The Service's " +
              `gRPC port is ${SCORER_GRPC_PORT}, which this one must not be.`,
            ...cel(servicePortRules),
          }),
      })
      .default({ type: 'ClusterIP', port: 80 })
      .meta({ description: 'The Service in front of the scorers (default ClusterIP on port 80).' }),
    nodeSelector: z
      .record(z.string(), labelValue('A node label value.'))
      .superRefine(refine(nodeSelectorRules))
      .meta({
        description:
          'Node labels a scorer pod needs to be scheduled on a node: keys are label keys (an optional DNS prefix ' +
          "and '/', then a name), values label values.",
        maxProperties: 64,
        ...cel(nodeSelectorRules),
      })
      .optional(),
    tolerations: z
      .array(toleration)
      .max(64)
      .meta({
        description:
          'Taints the scorer pods tolerate, checked as Kubernetes checks them: a key that is a label key (or empty ' +
          'with operator Exists), no value with Exists, tolerationSeconds only with effect NoExecute.',
      })
      .optional(),
    serviceAccountName: z
      .string()
      .regex(dnsSubdomain)
      .max(253)
      .meta({
        description:
          "The scorer pods' ServiceAccount (e.g. for cloud credentials); the namespace's default when absent.",
      })
      .optional(),
    monitoring: monitoringSchema.optional(),
    rollout: rolloutSchema.optional(),
  })
  .superRefine(refine(specRules))
  .meta({
    description: 'What to serve and how.',
    'x-kubernetes-validations': [...cel(specRules)['x-kubernetes-validations'], REPLICAS_WHILE_AUTOSCALED],
  });

export const CONDITION_STATUSES = ['True', 'False', 'Unknown'] as const;

export const conditionSchema = z.object({
  type: z.string().min(1).max(316).meta({
    description: 'What the condition is about: Ready, ModelLoaded, Autoscaling, Drifted, Reconciling or Stalled.',
  }),
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

const psiSchema = z.object({
  name: z.string().meta({ description: "The feature's or output's name, as the baseline names it." }),
  psi: z.number().meta({ description: 'Its Population Stability Index against the baseline, to 2 decimals.' }),
});

export const driftSchema = z
  .object({
    judgedAt: z.string().meta({
      format: 'date-time',
      description:
        'When the figures below were judged. A judgment that finds the same figures changes nothing, this ' +
        'included: it is when they last changed.',
    }),
    windowRows: z
      .number()
      .int()
      .meta({ description: "Rows in the scorers' windows, summed, to 2 significant figures." }),
    pods: z
      .object({
        answered: z.number().int().meta({ description: 'Scorers whose counts were summed.' }),
        asked: z.number().int().meta({ description: 'Ready scorers asked for their counts.' }),
      })
      .meta({ description: 'The scorer pods behind the figures.' }),
    features: z
      .array(psiSchema)
      .optional()
      .meta({ description: 'The features with the highest PSI (at most 3), highest first; absent below minRows.' }),
    outputs: z
      .array(psiSchema)
      .optional()
      .meta({ description: "The model outputs' PSI, in the baseline's order; absent below minRows." }),
  })
  .meta({
    description:
      "With spec.monitoring: the last judgment of drift, from the sum of the ready scorers' counts over their windows.",
  });
export type DriftStatus = z.output<typeof driftSchema>;

export const ROLLOUT_PHASES = ['Shadow', 'Canary', 'Paused', 'Promoting', 'Promoted', 'RolledBack', 'Aborted'] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

const sideFiguresSchema = (side: string) =>
  z
    .object({
      requests: z
        .number()
        .int()
        .meta({ description: `Predictions asked of the ${side} in this step, to 2 significant figures.` }),
      errorRate: z
        .number()
        .meta({ description: 'The share of them that failed (model failures, 5xx, no answer), to 4 decimals.' }),
      p99Ms: z
        .number()
        .meta({
          description:
            'The 99th percentile prediction time of the ones that succeeded, in milliseconds, to 2 significant ' +
            'figures; absent when none did.',
        })
        .optional(),
    })
    .meta({ description: `The ${side}'s figures.` });

export const rolloutAnalysisStatusSchema = z
  .object({
    pods: z
      .object({
        answered: z.number().int().meta({ description: 'Stable scorers whose counts of this step were summed.' }),
        asked: z.number().int().meta({ description: 'Ready stable scorers asked for their counts.' }),
      })
      .meta({ description: 'The stable scorer pods behind the figures.' }),
    candidate: sideFiguresSchema('candidate (forwarded and mirrored requests)'),
    stable: sideFiguresSchema('stable scorers (their own predictions)'),
    agreement: z
      .object({
        rows: z.number().int().meta({ description: 'Rows compared, to 2 significant figures.' }),
        share: z.number().meta({ description: 'The share of them whose every output agreed, to 4 decimals.' }),
        meanAbsDiff: z
          .number()
          .meta({
            description: 'The mean absolute difference of the output values compared, to 2 significant figures.',
          })
          .optional(),
      })
      .meta({ description: "On the shadow step: the candidate's answers compared with the stable ones." })
      .optional(),
  })
  .meta({ description: "The current step's figures, summed over the stable scorers that answered." });
export type RolloutAnalysisStatus = z.output<typeof rolloutAnalysisStatusSchema>;

export const rolloutStatusSchema = z
  .object({
    phase: z.enum(ROLLOUT_PHASES).meta({
      description:
        'Shadow or Canary (a step under way), Paused (every step passed; autoPromote is false), Promoting (the ' +
        'stable Deployment rolls out the new template), Promoted, RolledBack (a step failed, or the candidate ' +
        'pods did), Aborted (by hand, or the spec went back to the stable template).',
    }),
    revision: z.string().meta({ description: "The candidate's template digest: what the spec asks for." }),
    stableRevision: z.string().meta({ description: "The stable Deployment's template digest when the rollout began." }),
    step: z.number().int().meta({ description: 'The current step, from 1 (the shadow step, if any, is step 1).' }),
    steps: z.number().int().meta({ description: 'Steps in the plan.' }),
    weight: z.number().int().meta({ description: 'Percent of requests forwarded to the candidate now.' }),
    shadowPercent: z.number().int().meta({ description: 'Percent of requests mirrored to the candidate now.' }),
    startedAt: z.string().meta({ format: 'date-time', description: 'When the rollout began.' }),
    stepStartedAt: z
      .string()
      .meta({
        format: 'date-time',
        description: "When the current step began (the candidate's pods available); absent while it waits for them.",
      })
      .optional(),
    finishedAt: z
      .string()
      .meta({
        format: 'date-time',
        description:
          'When the rollout ended: no stable scorer sends requests to the candidate any more, and it is removed.',
      })
      .optional(),
    analysis: rolloutAnalysisStatusSchema.optional(),
    message: z.string().max(32768).meta({
      description: 'Why: what the rollout waits for, why it promoted, why it rolled back (the limit and the figures).',
    }),
  })
  .meta({ description: 'With spec.rollout: the last rollout (absent until one first happens).' });
export type RolloutStatus = z.output<typeof rolloutStatusSchema>;

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
    drift: driftSchema.optional(),
    rollout: rolloutStatusSchema.optional(),
    conditions: z
      .array(conditionSchema)
      .optional()
      .meta({
        description:
          'Ready (the model answers requests; reason ChildConflict when an object not controlled by this ' +
          'ScoringModel holds a child name, ImageNotAllowed for an image outside the allow-list), ModelLoaded ' +
          "(the scorers loaded the model), Autoscaling (the HPA's own verdict), Drifted (with spec.monitoring: " +
          "True when a PSI is above the threshold; it never changes Ready), and kstatus' Stalled (someone must act: " +
          'the reason and message say why; RolledBack or Aborted when the rollout of the revision the spec asks ' +
          'for was stopped) and Reconciling (a rolling update, reason Progressing, or a rollout under way, reason ' +
          'its phase), present only while true.',
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
 * Validates a spec read from the cluster: the schema and the TypeScript twins of the CRD's CEL rules (so that an
 * object admitted under an older CRD is still judged by today's rules). Each problem is named by its field path.
 */
export function parseSpec(spec: unknown): { ok: true; spec: ScoringModelSpec } | { ok: false; message: string } {
  const result = scoringModelSpecSchema.safeParse(spec ?? {});
  if (result.success) return { ok: true, spec: result.data };
  const message = result.error.issues
    .map((i) => `spec${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`)
    .join('; ');
  return { ok: false, message };
}
