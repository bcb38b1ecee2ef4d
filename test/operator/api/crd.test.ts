import { Ajv } from 'ajv';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import {
  CHART_CRD_FILE,
  CRD_FILE,
  lintStructural,
  renderChartCRD,
  renderCRD,
  scoringModelCRD,
  toStructural,
  type Schema,
} from '../../../operator/api/crd.js';
import { ADMITTED, REFUSED } from '../../helpers/specs.js';
import { DEFAULT_RESOURCES, nameProblem, parseSpec } from '../../../operator/api/v1alpha1.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const crd = scoringModelCRD() as {
  spec: { versions: { schema: { openAPIV3Schema: Schema }; additionalPrinterColumns: { name: string }[] }[] };
};
const openAPI = crd.spec.versions[0]!.schema.openAPIV3Schema;
const isObject = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);

describe('the generated CRD', () => {
  it('is the file checked in (run `npm run gen:crd` after changing the schema)', () => {
    expect(readFileSync(`${root}${CRD_FILE}`, 'utf8')).toBe(renderCRD());
  });

  it("is the Helm chart's CRD template checked in (run `npm run gen:crd` after changing the schema)", () => {
    expect(readFileSync(`${root}${CHART_CRD_FILE}`, 'utf8')).toBe(renderChartCRD());
  });

  it('describes every property, so that kubectl explain has something to say', () => {
    const undescribed = (schema: Schema, path: string): string[] => [
      ...Object.entries((schema.properties as Record<string, Schema>) ?? {}).flatMap(([name, sub]) => [
        ...(typeof sub.description === 'string' && sub.description !== '' ? [] : [`${path}.${name}`]),
        ...undescribed(sub, `${path}.${name}`),
      ]),
      ...(isObject(schema.items) ? undescribed(schema.items, `${path}[*]`) : []),
      ...(isObject(schema.additionalProperties) ? undescribed(schema.additionalProperties, `${path}{*}`) : []),
    ];
    // The API server refuses a description on metadata (only name and generateName may be said there).
    expect(undescribed(openAPI, '')).toEqual(['.metadata']);
  });

  it('is a structural schema', () => {
    expect(lintStructural(openAPI)).toEqual([]);
  });

  it('has the status and scale subresources and the printer columns', () => {
    const version = crd.spec.versions[0]! as unknown as Record<string, unknown>;
    expect(version.subresources).toEqual({
      status: {},
      scale: {
        specReplicasPath: '.spec.replicas',
        statusReplicasPath: '.status.replicas',
        labelSelectorPath: '.status.selector',
      },
    });
    expect(crd.spec.versions[0]!.additionalPrinterColumns.map((c) => c.name)).toEqual([
      'Format',
      'Ready',
      'URL',
      'Reason',
      'Drift',
      'Rollout',
      'Weight',
      'Age',
    ]);
    expect(crd.spec.versions[0]!.additionalPrinterColumns).toContainEqual({
      name: 'Drift',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Drifted")].status',
    });
    expect(crd.spec.versions[0]!.additionalPrinterColumns).toContainEqual({
      name: 'Rollout',
      type: 'string',
      jsonPath: '.status.rollout.phase',
    });
    expect(crd.spec.versions[0]!.additionalPrinterColumns).toContainEqual({
      name: 'Weight',
      type: 'integer',
      jsonPath: '.status.rollout.weight',
    });
  });

  it('carries the cross-field rules as CEL with messages', () => {
    const text = renderCRD();
    expect(text).toContain('autoscaling.minReplicas must be less than or equal to autoscaling.maxReplicas');
    expect(text).toContain(
      'must be s3://bucket/key, http(s)://..., file:///path, a path, pvc://CLAIM/path or "identity"',
    );
    expect(text).toMatch(/may not set MODEL_URI, MODEL_FORMAT/);
  });

  it('refuses on metadata.name a name the Service could not take', () => {
    const metadata = (openAPI.properties as Record<string, Schema>).metadata!;
    expect((metadata.properties as Record<string, Schema>).name!['x-kubernetes-validations']).toEqual([
      {
        rule: "size(self) <= 63 && self.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
        message: expect.stringContaining('metadata.name must be a DNS-1035 label'),
      },
    ]);
  });

  it('writes resource quantities in the exact int-or-string form', () => {
    const spec = openAPI.properties as Record<string, Schema>;
    const resources = (spec.spec!.properties as Record<string, Schema>).resources!;
    const requests = (resources.properties as Record<string, Schema>).requests!;
    expect(requests.additionalProperties).toEqual({
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern: expect.any(String),
      maxLength: 64,
      'x-kubernetes-int-or-string': true,
      'x-kubernetes-validations': [expect.objectContaining({ message: 'must not be negative' })],
    });
  });
});

describe('toStructural and lintStructural', () => {
  it('drops additionalProperties:false beside properties, and zod-only keywords', () => {
    expect(
      toStructural({
        $schema: 'x',
        type: 'object',
        properties: { n: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } },
        additionalProperties: false,
        propertyNames: { type: 'string' },
      }),
    ).toEqual({ type: 'object', properties: { n: { type: 'integer', format: 'int64' } } });
  });

  it('finds what the API server refuses, with paths', () => {
    expect(
      lintStructural({
        type: 'object',
        properties: {
          a: { properties: {}, additionalProperties: { type: 'string' }, type: 'object' },
          b: { anyOf: [{ type: 'string' }, { type: 'number' }] },
          c: { type: 'string', pattern: '^(?!x)' },
        },
      }),
    ).toEqual([
      '.a: additionalProperties beside properties',
      '.b: no type',
      '.b.anyOf[0]: type, default or description inside a junctor',
      '.b.anyOf[1]: type, default or description inside a junctor',
      '.c: pattern ^(?!x) is not RE2',
    ]);
  });
});

/** The emitted schema, as the API server would apply it: validation plus defaulting. */
function validateWithCRD(object: unknown): { valid: boolean; errors: string; value: unknown } {
  const ajv = new Ajv({ strict: false, useDefaults: true, allErrors: true });
  ajv.addFormat('date-time', true);
  ajv.addFormat('int64', true);
  const validate = ajv.compile(openAPI);
  const value = structuredClone(object);
  const valid = validate(value);
  return { valid, errors: ajv.errorsText(validate.errors), value };
}

describe('samples in config/samples', () => {
  const dir = `${root}config/samples/`;
  const files = readdirSync(dir).filter((f) => f.startsWith('scoring_') && f.endsWith('.yaml'));

  it('exist: the seed identity model, an ONNX model and an autoscaled XGBoost model', () => {
    const formats = files.map(
      (f) => (loadAll(readFileSync(dir + f, 'utf8'))[0] as { spec: { model: { uri: string } } }).spec.model.uri,
    );
    expect(formats).toEqual(
      expect.arrayContaining(['identity', expect.stringMatching(/\.onnx$/), expect.stringMatching(/\.json$/)]),
    );
  });

  it("the monitored sample's digests are those of the drift fixture's model and of the baseline beside it", () => {
    const sample = loadAll(readFileSync(`${dir}scoring_v1alpha1_scoringmodel_drift.yaml`, 'utf8'))[0] as {
      spec: { model: { sha256: string }; monitoring: { baseline: { sha256: string } } };
    };
    const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    expect(sample.spec.model.sha256).toBe(digest(`${root}test/fixtures/generated/drift_churn.json`));
    expect(sample.spec.monitoring.baseline.sha256).toBe(digest(`${dir}churn.baseline.json`));
  });

  it.each(files)('%s validates against the zod schema and the emitted CRD schema, with the same defaults', (file) => {
    const sample = loadAll(readFileSync(dir + file, 'utf8'))[0] as { spec: unknown };
    const parsed = parseSpec(sample.spec);
    expect(parsed).toMatchObject({ ok: true });
    const checked = validateWithCRD(sample);
    expect(checked.errors).toBe('No errors');
    expect((checked.value as { spec: unknown }).spec).toEqual(parsed.ok && parsed.spec);
  });
});

describe('nameProblem', () => {
  it.each(['churn', 'a', 'm-1', 'x'.repeat(63)])('admits %s', (name) => {
    expect(nameProblem(name)).toBeUndefined();
  });
  it.each(['model.v1', '1model', 'x'.repeat(64), 'Churn', 'churn-', ''])('refuses %j', (name) => {
    expect(nameProblem(name)).toContain('metadata.name must be a DNS-1035 label');
  });
});

describe('the spec schema', () => {
  it('applies the defaults', () => {
    expect(parseSpec({ model: { uri: 's3://b/m.onnx' } })).toEqual({
      ok: true,
      spec: {
        model: { uri: 's3://b/m.onnx' },
        replicas: 1,
        resources: DEFAULT_RESOURCES,
        service: { type: 'ClusterIP', port: 80 },
      },
    });
  });

  it.each([
    [{}, 'spec.model: '],
    [{ model: { uri: '' } }, 'spec.model.uri: '],
    [{ model: { uri: 'ftp://x/m.onnx' } }, 'spec.model.uri: must be s3://bucket/key'],
    [{ model: { uri: 's3://bucket-only' } }, 'spec.model.uri: must be s3://bucket/key'],
    [{ model: { uri: 'm.onnx', format: 'pickle' } }, 'spec.model.format: '],
    [{ model: { uri: 'm.onnx', sha256: 'abc' } }, 'spec.model.sha256: '],
    [{ model: { uri: 'm.onnx' }, replicas: -1 }, 'spec.replicas: '],
    [{ model: { uri: 'm.onnx' }, autoscaling: { minReplicas: 5, maxReplicas: 2 } }, 'autoscaling.minReplicas must be'],
    [{ model: { uri: 'm.onnx' }, resources: { limits: { memory: 'lots' } } }, 'spec.resources.limits.memory: '],
    [{ model: { uri: 'm.onnx' }, env: [{ name: 'MODEL_URI', value: 'x' }] }, 'spec.env: may not set MODEL_URI'],
    [{ model: { uri: 'm.onnx' }, service: { type: 'Ingress' } }, 'spec.service.type: '],
  ])('refuses %j, naming the field', (spec, message) => {
    const parsed = parseSpec(spec);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
    // The emitted schema (or its CEL rules, which parseSpec mirrors) refuses the same specs.
  });

  it.each(REFUSED)('refuses $what, naming the field as the CRD does', ({ spec, parseSpec: message }) => {
    const parsed = parseSpec(spec);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.message).toContain(message);
  });

  it.each(ADMITTED)('admits %s', (_what, spec) => {
    expect(parseSpec(spec)).toMatchObject({ ok: true });
  });

  const analysisDefaults = {
    minRequests: 100,
    maxErrorRateIncrease: 0.01,
    agreement: { tolerance: 1e-6, minShare: 0.99 },
  };
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    [
      'Canary',
      { strategy: 'Canary', steps: [{ weight: 10 }, { weight: 50 }] },
      {
        strategy: 'Canary',
        steps: [
          { weight: 10, pauseSeconds: 60 },
          { weight: 50, pauseSeconds: 60 },
        ],
        analysis: analysisDefaults,
        autoPromote: true,
      },
    ],
    [
      'Shadow',
      { strategy: 'Shadow', shadow: {} },
      { strategy: 'Shadow', shadow: { percent: 100, pauseSeconds: 60 }, analysis: analysisDefaults, autoPromote: true },
    ],
    [
      'Shadow with part of the analysis',
      { strategy: 'Shadow', shadow: { percent: 20 }, analysis: { maxP99Ms: 100, agreement: { minShare: 0.9 } } },
      {
        strategy: 'Shadow',
        shadow: { percent: 20, pauseSeconds: 60 },
        analysis: { ...analysisDefaults, maxP99Ms: 100, agreement: { tolerance: 1e-6, minShare: 0.9 } },
        autoPromote: true,
      },
    ],
  ])('applies the defaults of a %s rollout, the same in the emitted schema', (_what, rollout, expected) => {
    const parsed = parseSpec({ model: { uri: 'm.onnx' }, rollout });
    if (!parsed.ok) throw new Error(parsed.message);
    expect(parsed.spec.rollout).toEqual(expected);
    const checked = validateWithCRD({ spec: { model: { uri: 'm.onnx' }, rollout } });
    expect(checked.errors).toBe('No errors');
    expect((checked.value as { spec: { rollout: unknown } }).spec.rollout).toEqual(expected);
  });

  it('the emitted status schema admits status.rollout as the step machine writes it, and no other phase', () => {
    const rollout = {
      phase: 'RolledBack',
      revision: '7c1e9a0b2d',
      stableRevision: '5d2b8e61c0',
      step: 2,
      steps: 3,
      weight: 0,
      shadowPercent: 0,
      startedAt: '2026-11-25T10:00:00Z',
      stepStartedAt: '2026-11-25T10:02:00Z',
      finishedAt: '2026-11-25T10:03:10Z',
      analysis: {
        pods: { answered: 2, asked: 3 },
        candidate: { requests: 100, errorRate: 0.45, p99Ms: 1.5 },
        stable: { requests: 900, errorRate: 0, p99Ms: 1.5 },
        agreement: { rows: 1200, share: 0.9, meanAbsDiff: 0.03 },
      },
      message: 'step 2/3 failed: candidate error rate 0.4500 exceeds stable 0.0000 by more than 0.01',
    };
    const spec = { model: { uri: 'm.onnx' } };
    expect(validateWithCRD({ spec, status: { rollout } }).errors).toBe('No errors');
    expect(validateWithCRD({ spec, status: { rollout: { ...rollout, phase: 'Retrying' } } }).valid).toBe(false);
  });

  it('the emitted schema refuses what the schema refuses (without CEL)', () => {
    for (const spec of [
      {},
      { model: { uri: 'm.onnx' }, replicas: -1 },
      { model: { uri: 'm.onnx', format: 'pickle' } },
    ]) {
      expect(validateWithCRD({ spec }).valid).toBe(false);
    }
  });
});
