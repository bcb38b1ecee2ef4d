/**
 * What the CRD refuses at apply time, against a real kube-apiserver: every spec Kubernetes would refuse later, in
 * the Deployment, Service or HPA the operator applies, is refused by `kubectl apply` with a message naming the
 * field; the samples and rich valid specs are admitted; `kubectl scale` of an autoscaled model is refused. No
 * operator runs: admission is the API server's alone.
 */
import { readdirSync } from 'node:fs';
import { API_VERSION, KIND, parseSpec, type ScoringModel, type ScoringModelSpec } from '../../operator/api/v1alpha1.js';
import { desiredDeployment } from '../../operator/desired/deployment.js';
import { desiredHPA } from '../../operator/desired/hpa.js';
import { desiredService } from '../../operator/desired/service.js';
import { ADMITTED, REFUSED } from '../helpers/specs.js';
import { getJson, installOperatorPrerequisites, k, kubectl, ROOT, scoringModel } from './kube.js';

const NS = 'validation';

beforeAll(async () => {
  await installOperatorPrerequisites();
  k(['create', 'namespace', NS]);
});
afterAll(() => {
  k(['delete', 'namespace', NS, '--wait=false']);
});

const apply = (name: string, spec: Record<string, unknown>, ...flags: string[]) =>
  kubectl(['apply', ...flags, '-f', '-'], scoringModel(name, spec, NS));
/** The ScoringModel the operator would see for a spec: defaults applied, no rule checked. */
function unchecked(name: string, spec: Record<string, unknown>): ScoringModel {
  const defaults = parseSpec({ model: { uri: 'm.onnx' } });
  if (!defaults.ok) throw new Error(defaults.message);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace: NS, uid: '00000000-0000-0000-0000-000000000000' },
    spec: { ...defaults.spec, ...spec } as ScoringModelSpec,
  };
}
/** The children the operator would apply, each through a server-side dry run. */
const applyChildren = (sm: ScoringModel) =>
  [desiredDeployment(sm, { scorerImage: 'scoring.dev/scorer:test' }), desiredService(sm), desiredHPA(sm)]
    .filter((child) => child !== undefined)
    .map((child) => kubectl(['apply', '--dry-run=server', '-f', '-'], JSON.stringify(child)));
const replicas = (name: string) => getJson(['sm', name, '-n', NS])!.spec.replicas as number;

describe('refused by kubectl apply, naming the field', () => {
  it.each(REFUSED)('$what', ({ spec, kubectl: message }) => {
    const run = apply('refused', spec);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(message);
  });

  it.each(['model.v1', '1model', 'm'.repeat(64)])('the name %s, which the Service could not take', (name) => {
    const run = apply(name, { model: { uri: 'm.onnx' } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'metadata.name: Invalid value: "string": metadata.name must be a DNS-1035 label, as it names the Service',
    );
  });
});

describe('the same refusals as Kubernetes', () => {
  it.each(REFUSED.filter((r) => r.deployment !== undefined))(
    'the Deployment for $what is refused by the API server',
    ({ spec, deployment }) => {
      const [run] = applyChildren(unchecked('refused', spec));
      expect(run!.status).not.toBe(0);
      expect(run!.stderr).toContain(deployment);
    },
  );

  it.each(ADMITTED)('the Deployment, Service and HPA for %s are admitted', (_what, spec) => {
    const parsed = parseSpec(spec);
    if (!parsed.ok) throw new Error(parsed.message);
    for (const run of applyChildren(unchecked('admitted', parsed.spec))) {
      expect(run.stderr).toBe('');
      expect(run.stdout).toMatch(/created \(server dry run\)/);
    }
  });
});

describe('admitted', () => {
  const samples = readdirSync(`${ROOT}config/samples`).filter((f) => f.startsWith('scoring_'));

  it.each(samples)('the sample %s', (file) => {
    const run = kubectl(['apply', '--dry-run=server', '-n', NS, '-f', `config/samples/${file}`]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/created \(server dry run\)/);
  });

  it.each(ADMITTED)('%s', (_what, spec) => {
    const run = apply('admitted', spec, '--dry-run=server');
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/created \(server dry run\)/);
  });
});

describe('kubectl explain', () => {
  it.each([
    ['env.valueFrom', 'not with a non-empty value'],
    ['tolerations', 'tolerationSeconds only with effect NoExecute'],
    ['nodeSelector', 'keys are label keys'],
    ['resources.requests', 'not negative, not above its limit; autoscaling needs cpu'],
    ['autoscaling', 'spec.replicas may not change meanwhile'],
    ['monitoring', 'writes status.drift and the Drifted condition'],
    ['rollout', 'By hand: the annotation scoring.dev/rollout=promote or scoring.dev/rollout=abort'],
    ['rollout.steps', 'weights strictly increasing: needed with strategy Canary, refused with Shadow'],
    ['rollout.shadow', 'Needed with strategy Shadow; with Canary, the step before the canary steps'],
    ['rollout.analysis.maxP99Ratio', 'judged once both sides have minRequests predictions'],
  ])('scoringmodel.spec.%s says what is refused', (field, words) => {
    expect(k(['explain', `scoringmodel.spec.${field}`]).replace(/\s+/g, ' ')).toContain(words);
  });
});

describe('spec.replicas while autoscaling is set', () => {
  const model = { uri: 'm.onnx' };
  const autoscaling = { maxReplicas: 5 };

  it('kubectl scale is refused with a message naming the field and what to do instead', () => {
    k(['apply', '-f', '-'], scoringModel('scaled', { model, replicas: 2, autoscaling }, NS));
    const run = kubectl(['scale', 'sm', 'scaled', '-n', NS, '--replicas=4']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain(
      'spec.replicas: Forbidden: may not change while spec.autoscaling is set: its HorizontalPodAutoscaler owns the ' +
        'replica count (change spec.autoscaling.minReplicas and maxReplicas, or remove spec.autoscaling)',
    );
    expect(replicas('scaled')).toBe(2);
  });

  it('a kubectl apply that changes replicas and keeps autoscaling is refused; other changes pass', () => {
    k(['apply', '-f', '-'], scoringModel('kept', { model, replicas: 2, autoscaling }, NS));
    const run = apply('kept', { model, replicas: 3, autoscaling });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('spec.replicas: Forbidden: may not change while spec.autoscaling is set');
    k(['apply', '-f', '-'], scoringModel('kept', { model: { uri: 'n.onnx' }, replicas: 2, autoscaling }, NS));
    expect(getJson(['sm', 'kept', '-n', NS])!.spec.model.uri).toBe('n.onnx');
  });

  it('adding autoscaling may change replicas in the same apply, and so may removing it', () => {
    k(['apply', '-f', '-'], scoringModel('handed', { model, replicas: 2 }, NS));
    k(['apply', '-f', '-'], scoringModel('handed', { model, replicas: 3, autoscaling }, NS));
    expect(replicas('handed')).toBe(3);
    k(['apply', '-f', '-'], scoringModel('handed', { model, replicas: 1 }, NS));
    expect(replicas('handed')).toBe(1);
    expect(getJson(['sm', 'handed', '-n', NS])!.spec.autoscaling).toBeUndefined();
  });

  it('kubectl scale works once autoscaling is removed', () => {
    k(['apply', '-f', '-'], scoringModel('freed', { model, replicas: 2, autoscaling }, NS));
    k(['patch', 'sm', 'freed', '-n', NS, '--type=json', '-p', '[{"op": "remove", "path": "/spec/autoscaling"}]']);
    k(['scale', 'sm', 'freed', '-n', NS, '--replicas=4']);
    expect(replicas('freed')).toBe(4);
  });
});
