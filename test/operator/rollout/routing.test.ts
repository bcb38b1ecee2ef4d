/**
 * What the stable scorers are told, from status.rollout and the candidate's pods (pure), and the candidate
 * Deployment the reconciler applies beside the stable one.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { NO_ROUTING } from '../../../contract/rollout.js';
import type { RolloutStatus } from '../../../operator/api/v1alpha1.js';
import { candidateName, desiredCandidate } from '../../../operator/desired/candidate.js';
import { desiredDeployment, revisionOf, routingUrl } from '../../../operator/desired/deployment.js';
import { LABELS } from '../../../operator/desired/labels.js';
import { candidateBases, routingOf, stepId } from '../../../operator/rollout/routing.js';
import { model } from '../../helpers/scoringmodel.js';

const CONFIG = { scorerImage: 'registry.local/scorer:1', routingUrl: 'http://routing.scoring-system.svc:8082/' };
const rollout = { strategy: 'Canary' as const, steps: [{ weight: 10 }], analysis: { agreement: { tolerance: 1e-4 } } };
const sm = model({ model: { uri: 's3://models/churn/v2.json' }, replicas: 3, rollout });

const pod = (name: string, ip: string | undefined, revision: string, ready = true): V1Pod => ({
  metadata: { name, labels: { [LABELS.templateHash]: revision } },
  status: { ...(ip ? { podIP: ip } : {}), conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

const step = (over: Partial<RolloutStatus>): RolloutStatus => ({
  phase: 'Canary',
  revision: 'r2',
  stableRevision: 'r1',
  step: 1,
  steps: 1,
  weight: 10,
  shadowPercent: 0,
  startedAt: '2026-12-01T10:00:00Z',
  stepStartedAt: '2026-12-01T10:00:05Z',
  message: '',
  ...over,
});

describe('routingOf', () => {
  const pods = [
    pod('churn-candidate-b', '10.0.0.2', 'r2'),
    pod('churn-candidate-a', '10.0.0.1', 'r2'),
    pod('churn-candidate-old', '10.0.0.3', 'r1'),
    pod('churn-candidate-unready', '10.0.0.4', 'r2', false),
    pod('churn-candidate-pending', undefined, 'r2'),
  ];

  it('tells nothing without a rollout', () => {
    expect(routingOf(sm, pods)).toBe(NO_ROUTING);
  });

  it("sends the step's weight to the ready candidate pods of the rollout's revision, by name", () => {
    const routing = routingOf({ ...sm, status: { rollout: step({}) } }, pods);
    expect(routing).toEqual({
      version: expect.stringMatching(/^[0-9a-f]{10}$/),
      step: 'r2/1/2026-12-01T10:00:05Z',
      candidates: ['http://10.0.0.1:8080', 'http://10.0.0.2:8080'],
      weight: 10,
      shadow: 0,
      tolerance: 1e-4,
    });
  });

  it('changes version with anything it says, and only then', () => {
    const at = (rolloutStatus: RolloutStatus, candidatePods = pods) =>
      routingOf({ ...sm, status: { rollout: rolloutStatus } }, candidatePods).version;
    const base = at(step({}));
    expect(at(step({ message: 'another message', analysis: undefined }))).toBe(base);
    expect(at(step({ weight: 50 }))).not.toBe(base);
    expect(at(step({ stepStartedAt: '2026-12-01T10:01:00Z' }))).not.toBe(base);
    expect(at(step({}), pods.slice(1))).not.toBe(base);
  });

  it('lists no candidate once nothing is routed (rolled back), and no step before the step starts', () => {
    const stopped = routingOf({ ...sm, status: { rollout: step({ phase: 'RolledBack', weight: 0 }) } }, pods);
    expect(stopped).toMatchObject({ candidates: [], weight: 0, shadow: 0 });
    expect(stepId(step({ stepStartedAt: undefined }))).toBe('');
  });

  it('takes the pods of the revision asked for only', () => {
    expect(candidateBases(pods, 'r1')).toEqual(['http://10.0.0.3:8080']);
  });
});

describe('desiredCandidate', () => {
  const stable = desiredDeployment(sm, CONFIG);
  const candidate = desiredCandidate(sm, CONFIG);

  it('runs the revision the stable Deployment gets on promotion, beside it, owned by the ScoringModel', () => {
    expect(candidate.metadata!.name).toBe(candidateName(sm));
    expect(candidate.metadata!.name).toBe('churn-candidate');
    expect(revisionOf(candidate)).toBe(revisionOf(stable));
    expect(candidate.metadata!.ownerReferences).toEqual(stable.metadata!.ownerReferences);
    expect(candidate.spec!.replicas).toBe(3);
  });

  it("is not selected by the model's Service (its pods' instance differs) and says whose candidate it is", () => {
    const labels = candidate.spec!.template.metadata!.labels!;
    expect(labels[LABELS.instance]).toBe('churn-candidate');
    expect(labels[LABELS.candidateOf]).toBe('churn');
    expect(candidate.spec!.selector.matchLabels).toEqual({
      [LABELS.name]: 'scorer',
      [LABELS.instance]: 'churn-candidate',
    });
  });

  it('forwards nothing itself: the stable scorers get ROUTING_URL, the candidate does not', () => {
    const names = (d: typeof stable) => d.spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(names(stable)).toContain('ROUTING_URL');
    expect(names(candidate)).not.toContain('ROUTING_URL');
    const url = stable.spec!.template.spec!.containers[0]!.env!.find((e) => e.name === 'ROUTING_URL')!.value;
    expect(url).toBe(routingUrl(sm, CONFIG.routingUrl));
    expect(url).toBe('http://routing.scoring-system.svc:8082/routing/v1/ml/churn?uid=uid-1');
  });

  it("sets ROUTING_URL empty where the credentials' Secret is loaded whole, so that no key of it points the candidate anywhere", () => {
    const withCreds = model({ ...sm.spec, credentials: { secretRef: { name: 's3-keys' } } });
    const c = desiredCandidate(withCreds, CONFIG).spec!.template.spec!.containers[0]!;
    expect(c.envFrom).toEqual([{ secretRef: { name: 's3-keys' } }]);
    expect(c.env!.filter((e) => e.name === 'ROUTING_URL')).toEqual([{ name: 'ROUTING_URL' }]);
    expect(c.env!.filter((e) => e.name === 'NODE_OPTIONS')).toEqual([{ name: 'NODE_OPTIONS' }]);
    expect(revisionOf(desiredCandidate(withCreds, CONFIG))).toBe(revisionOf(desiredDeployment(withCreds, CONFIG)));
  });
});
