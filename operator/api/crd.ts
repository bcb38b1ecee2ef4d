/**
 * The ScoringModel CustomResourceDefinition, derived from the zod schema: z.toJSONSchema, then a post-processor that
 * turns JSON Schema into a Kubernetes structural schema, and a lint that refuses what the API server would.
 */
import { dump } from 'js-yaml';
import { z } from 'zod';
import {
  CATEGORIES,
  GROUP,
  KIND,
  NAME_MESSAGE,
  NAME_RULE,
  PLURAL,
  SHORT_NAMES,
  SINGULAR,
  VERSION,
  scoringModelSpecSchema,
  scoringModelStatusSchema,
} from './v1alpha1.js';

export type Schema = { [key: string]: unknown };

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keywords whose values are schemas, or maps/lists of schemas. */
const SCHEMA_MAPS = ['properties'];
const SCHEMA_VALUES = ['items', 'additionalProperties', 'not'];
const SCHEMA_LISTS = ['anyOf', 'oneOf', 'allOf'];

/**
 * JSON Schema (as zod writes it) to a structural schema:
 * - `{anyOf: [{type: integer}, {type: string, pattern, maxLength}]}` becomes the exact int-or-string form (the string's
 *   pattern and maxLength beside it: they apply to strings only);
 * - zod's safe-integer bounds and `propertyNames` go (they mean nothing to the API server);
 * - `additionalProperties: false` beside `properties` goes (structural schemas prune unknown fields anyway).
 */
export function toStructural(schema: Schema): Schema {
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$schema' || key === 'propertyNames') continue;
    if (SCHEMA_MAPS.includes(key) && isSchema(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toStructural(v as Schema)]));
    } else if (SCHEMA_VALUES.includes(key) && isSchema(value)) {
      out[key] = toStructural(value);
    } else if (SCHEMA_LISTS.includes(key) && Array.isArray(value)) {
      out[key] = value.map((v) => toStructural(v as Schema));
    } else {
      out[key] = value;
    }
  }
  if (out.additionalProperties === false && out.properties) delete out.additionalProperties;
  if (out.type === 'integer') {
    if (out.minimum === -Number.MAX_SAFE_INTEGER) delete out.minimum;
    if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
    out.format ??= 'int64';
  }
  const anyOf = out.anyOf as Schema[] | undefined;
  if (anyOf?.length === 2 && anyOf.some((s) => s.type === 'integer') && anyOf.some((s) => s.type === 'string')) {
    const { pattern, maxLength } = anyOf.find((s) => s.type === 'string')!;
    delete out.anyOf;
    Object.assign(out, {
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      ...(pattern ? { pattern } : {}),
      ...(maxLength !== undefined ? { maxLength } : {}),
      'x-kubernetes-int-or-string': true,
    });
  }
  return out;
}

/** Regular-expression features RE2 (the API server's engine for CRD patterns and CEL) lacks. */
const NOT_RE2 = [/\(\?[=!]/, /\(\?<[=!]/, /\\[1-9]/, /\(\?<[A-Za-z]/, /\\[pP]\{/];

/**
 * What the API server would refuse in a CRD schema, with the path of each problem: a node without a type,
 * `additionalProperties` beside `properties`, a type inside a junctor (but the int-or-string form), a pattern RE2
 * cannot run, a default that is not valid for its own type.
 */
export function lintStructural(schema: Schema, path = ''): string[] {
  const problems: string[] = [];
  const where = path || '<root>';
  const intOrString = schema['x-kubernetes-int-or-string'] === true;
  if (schema.type === undefined && !intOrString && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    problems.push(`${where}: no type`);
  }
  if (schema.properties !== undefined && schema.additionalProperties !== undefined) {
    problems.push(`${where}: additionalProperties beside properties`);
  }
  for (const key of SCHEMA_LISTS) {
    const list = schema[key] as Schema[] | undefined;
    if (!list) continue;
    list.forEach((s, i) => {
      const allowed = intOrString && key === 'anyOf' && Object.keys(s).length === 1;
      if (!allowed && (s.type !== undefined || s.default !== undefined || s.description !== undefined)) {
        problems.push(`${where}.${key}[${i}]: type, default or description inside a junctor`);
      }
    });
  }
  if (typeof schema.pattern === 'string' && NOT_RE2.some((re) => re.test(schema.pattern as string))) {
    problems.push(`${where}: pattern ${schema.pattern} is not RE2`);
  }
  if (schema.type === 'object' && schema.default !== undefined && !isSchema(schema.default)) {
    problems.push(`${where}: default is not an object`);
  }
  for (const [name, sub] of Object.entries((schema.properties as Record<string, Schema>) ?? {})) {
    problems.push(...lintStructural(sub, `${path}.${name}`));
  }
  if (isSchema(schema.items)) problems.push(...lintStructural(schema.items, `${path}[]`));
  if (isSchema(schema.additionalProperties)) problems.push(...lintStructural(schema.additionalProperties, `${path}{}`));
  return problems;
}

function jsonSchema(type: z.ZodType): Schema {
  return toStructural(z.toJSONSchema(type, { io: 'input', target: 'openapi-3.0' }) as Schema);
}

export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The CRD as an object, ready for YAML. */
export function scoringModelCRD(): Schema {
  const openAPIV3Schema: Schema = {
    description:
      'A trained model served over HTTP (POST /score and the Open Inference Protocol) by a Deployment of the ' +
      'shared scorer image, behind a Service, optionally autoscaled.',
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: 'scoring.dev/v1alpha1' },
      kind: { type: 'string', description: 'ScoringModel' },
      // The API server lets a CRD say this much about metadata: name and generateName, nothing on metadata itself.
      metadata: {
        type: 'object',
        properties: {
          name: {
            type: 'string',
            description: 'A DNS-1035 label (it names the Service): at most 63 characters, a-z, 0-9 and -.',
            'x-kubernetes-validations': [{ rule: NAME_RULE, message: NAME_MESSAGE }],
          },
        },
      },
      spec: jsonSchema(scoringModelSpecSchema),
      status: jsonSchema(scoringModelStatusSchema),
    },
    required: ['spec'],
  };
  const problems = lintStructural(openAPIV3Schema);
  if (problems.length > 0) throw new Error(`the ScoringModel schema is not structural:\n${problems.join('\n')}`);
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: {
      group: GROUP,
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: SINGULAR,
        shortNames: SHORT_NAMES,
        categories: CATEGORIES,
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Format', type: 'string', jsonPath: '.status.format' },
            { name: 'Ready', type: 'string', jsonPath: '.status.ready' },
            { name: 'URL', type: 'string', jsonPath: '.status.url' },
            { name: 'Reason', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason' },
            // With spec.monitoring: True, False or Unknown (too few rows, no baseline); empty without.
            { name: 'Drift', type: 'string', jsonPath: '.status.conditions[?(@.type=="Drifted")].status' },
            // With spec.rollout: the last rollout's phase and the percent of requests the candidate answers now.
            { name: 'Rollout', type: 'string', jsonPath: '.status.rollout.phase' },
            { name: 'Weight', type: 'integer', jsonPath: '.status.rollout.weight' },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema },
        },
      ],
    },
  };
}

export const CRD_FILE = 'crds/scoring.dev_scoringmodels.yaml';

/** The checked-in file's text: a header, then the CRD as YAML. */
export function renderCRD(): string {
  // js-yaml directly: client-node's dumpYaml passes objects through its typed model, which drops `default` and
  // `x-kubernetes-*` keys written under their wire names.
  const yaml = dump(scoringModelCRD(), { noRefs: true, lineWidth: 120 });
  return `# Generated by \`npm run gen:crd\` from operator/api/v1alpha1.ts. Do not edit by hand.\n${yaml}`;
}

export const CHART_CRD_FILE = 'charts/scoring-operator/templates/crds.yaml';

/**
 * The same CRD as a template of the Helm chart, installed and upgraded with the release (Helm's crds/ directory
 * installs a CRD once and never upgrades it): rendered with `crds.enabled`, and kept by `helm uninstall` (with every
 * ScoringModel) while `crds.keep`, as cert-manager's chart does.
 */
export function renderChartCRD(): string {
  const yaml = dump(scoringModelCRD(), { noRefs: true, lineWidth: 120 });
  const metadata = `metadata:\n  name: ${CRD_NAME}\n`;
  if (!yaml.includes(metadata)) throw new Error(`the CRD's YAML no longer has ${JSON.stringify(metadata)}`);
  // Template actions are not escaped below: a `{{` in the schema's text would be read as one.
  if (yaml.includes('{{')) throw new Error('the CRD\'s YAML holds "{{", which Helm would read as a template action');
  const templated = [
    'metadata:',
    `  name: ${CRD_NAME}`,
    '  labels:',
    '    {{- include "scoring-operator.labels" . | nindent 4 }}',
    '  {{- if .Values.crds.keep }}',
    '  annotations:',
    '    helm.sh/resource-policy: keep',
    '  {{- end }}',
    '',
  ].join('\n');
  return (
    '# Generated by `npm run gen:crd` from operator/api/v1alpha1.ts (the same CRD as crds/). Do not edit by hand.\n' +
    '{{- if .Values.crds.enabled }}\n' +
    yaml.replace(metadata, templated) +
    '{{- end }}\n'
  );
}
