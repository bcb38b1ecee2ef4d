import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import { model } from '../helpers/scoringmodel.js';
import type { Condition } from '../../operator/api/v1alpha1.js';
import { desiredDeployment } from '../../operator/desired/deployment.js';
import { LABELS } from '../../operator/desired/labels.js';
import {
  autoscalingCondition,
  blockedStatus,
  computeStatus,
  mergeConditions,
  nextStatus,
  servedFormat,
  statusChanged,
  transitions,
  withKstatusConditions,
  type ConditionDraft,
} from '../../operator/status.js';

const sm = model({ model: { uri: 's3://models/churn/model.json' }, replicas: 2 });
const template = desiredDeployment(sm, { scorerImage: 'scorer:1' });
const hash = template.spec!.template.metadata!.labels![LABELS.templateHash]!;

function deployment(status: V1Deployment['status']): V1Deployment {
  return { ...template, status };
}

function pod(scorer: object, podHash = hash): V1Pod {
  return {
    metadata: { name: 'churn-abc', labels: { [LABELS.templateHash]: podHash } },
    status: {
      containerStatuses: [{ name: 'scorer', ready: false, restartCount: 3, image: 'x', imageID: '', ...scorer }],
    },
  };
}

const LOAD_FAILED = 'cannot load model s3://models/churn/model.json: no object "churn/model.json" in bucket "models"';
const crashLooping = pod({
  state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
  lastState: { terminated: { exitCode: 1, reason: 'Error', message: `${LOAD_FAILED}\n` } },
});

const byType = <C extends { type: string }>(conditions: C[]): Record<string, C> =>
  Object.fromEntries(conditions.map((c) => [c.type, c]));

describe('computeStatus', () => {
  it('reports the URL, selector, format and ready/desired', () => {
    const { fields } = computeStatus(sm, deployment({ replicas: 2, readyReplicas: 1, updatedReplicas: 2 }), []);
    expect(fields).toEqual({
      replicas: 2,
      readyReplicas: 1,
      ready: '1/2',
      selector: 'app.kubernetes.io/name=scorer,app.kubernetes.io/instance=churn',
      format: 'xgboost',
      url: 'http://churn.ml.svc.cluster.local',
    });
  });

  it('is Ready and Available when every replica is ready and updated', () => {
    const { conditions } = computeStatus(sm, deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 }), []);
    expect(byType(conditions)).toEqual({
      Ready: { type: 'Ready', status: 'True', reason: 'Available', message: '2/2 replicas ready' },
      ModelLoaded: {
        type: 'ModelLoaded',
        status: 'True',
        reason: 'Loaded',
        message: 'the model is loaded and answered a warm-up prediction',
      },
    });
  });

  it('is Progressing while no replica is ready yet, or before the Deployment exists', () => {
    expect(byType(computeStatus(sm, deployment({ replicas: 2 }), []).conditions).Ready).toMatchObject({
      status: 'False',
      reason: 'Progressing',
      message: '0/2 replicas ready',
    });
    expect(byType(computeStatus(sm, undefined, []).conditions).Ready).toMatchObject({
      status: 'False',
      reason: 'Progressing',
      message: 'creating the Deployment',
    });
  });

  it("reports ModelLoadFailed with the scorer's termination message", () => {
    const { conditions } = computeStatus(sm, deployment({ replicas: 2 }), [crashLooping]);
    expect(byType(conditions)).toEqual({
      Ready: { type: 'Ready', status: 'False', reason: 'ModelLoadFailed', message: LOAD_FAILED },
      ModelLoaded: { type: 'ModelLoaded', status: 'False', reason: 'ModelLoadFailed', message: LOAD_FAILED },
    });
  });

  it('ignores pods of an older template (a rollout that fixes the model)', () => {
    const old = pod({ lastState: { terminated: { exitCode: 1, message: LOAD_FAILED } } }, 'oldhash000');
    expect(
      byType(computeStatus(sm, deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 }), [old]).conditions)
        .Ready!.status,
    ).toBe('True');
  });

  it('names image pull failures and other exits', () => {
    const pulling = pod({ state: { waiting: { reason: 'ImagePullBackOff', message: 'pull access denied' } } });
    expect(byType(computeStatus(sm, deployment({}), [pulling]).conditions).Ready).toMatchObject({
      reason: 'ImagePullFailed',
      message: 'ImagePullBackOff: pull access denied',
    });
    const oom = pod({ lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } } });
    expect(byType(computeStatus(sm, deployment({}), [oom]).conditions).Ready).toMatchObject({
      reason: 'ContainerFailed',
      message: 'the scorer exited with code 137 (OOMKilled: raise spec.resources.limits.memory)',
    });
  });

  it('counts desired replicas from the Deployment while autoscaled', () => {
    const scaled = model({ model: { uri: 'm.onnx' }, autoscaling: { minReplicas: 2, maxReplicas: 9 } });
    const d = { ...desiredDeployment(scaled, { scorerImage: 's' }), status: { readyReplicas: 4 } };
    d.spec = { ...d.spec!, replicas: 5 };
    expect(computeStatus(scaled, d, []).fields.ready).toBe('4/5');
  });

  it('infers the format from the file name, also for pvc:// URIs', () => {
    expect(servedFormat(model({ model: { uri: 'pvc://claim/dir/m.onnx' } }))).toBe('onnx');
    expect(servedFormat(model({ model: { uri: 'https://x/m.txt?sig=1' } }))).toBe('lightgbm');
    expect(servedFormat(model({ model: { uri: 'https://x/model' } }))).toBe('unknown');
  });
});

describe('conditions over time', () => {
  const t0 = new Date('2026-11-25T10:00:00.000Z');
  const t1 = new Date('2026-11-25T10:05:00.000Z');
  const ready = (status: Condition['status'], reason: string) => ({ type: 'Ready', status, reason, message: reason });

  it('keeps lastTransitionTime unless the status flips', () => {
    const first = mergeConditions(undefined, [ready('False', 'Progressing')], 1, t0);
    expect(first[0]!.lastTransitionTime).toBe('2026-11-25T10:00:00Z');
    const sameStatus = mergeConditions(first, [ready('False', 'ModelLoadFailed')], 2, t1);
    expect(sameStatus[0]).toMatchObject({ lastTransitionTime: '2026-11-25T10:00:00Z', observedGeneration: 2 });
    const flipped = mergeConditions(sameStatus, [ready('True', 'Available')], 2, t1);
    expect(flipped[0]!.lastTransitionTime).toBe('2026-11-25T10:05:00Z');
  });

  it('a status computed twice from the same world is not a change (nothing is written)', () => {
    const world = computeStatus(sm, deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 }), []);
    const written = nextStatus(sm, world.fields, world.conditions, t0);
    const again = nextStatus({ ...sm, status: written }, world.fields, world.conditions, t1);
    expect(statusChanged(written, again)).toBe(false);
    expect(
      statusChanged(
        written,
        nextStatus({ ...sm, status: written }, { ...world.fields, readyReplicas: 1 }, world.conditions, t1),
      ),
    ).toBe(true);
  });

  it('reports a transition only when a condition appears or changes status or reason', () => {
    const before = mergeConditions(undefined, [ready('False', 'Progressing')], 1, t0);
    expect(transitions(before, mergeConditions(before, [ready('False', 'Progressing')], 1, t1))).toEqual([]);
    expect(
      transitions(before, mergeConditions(before, [ready('True', 'Available')], 1, t1)).map((c) => c.reason),
    ).toEqual(['Available']);
  });
});

describe('blockedStatus', () => {
  it('replaces Ready only, keeping the fields and the other conditions as observed', () => {
    const world = computeStatus(sm, deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2 }), []);
    const healthy = nextStatus(sm, world.fields, world.conditions, new Date('2026-11-25T10:00:00Z'));
    const failed = blockedStatus(healthy, 'ApplyFailed', 'applying Service/churn failed: port is in use');
    expect(failed.fields).toEqual(world.fields);
    expect(failed.conditions).toEqual([
      {
        type: 'Ready',
        status: 'False',
        reason: 'ApplyFailed',
        message: 'applying Service/churn failed: port is in use',
      },
      { ...byType(world.conditions).ModelLoaded, observedGeneration: 3 },
    ]);
  });

  it('is Ready=False ApplyFailed alone for a model that had no status yet', () => {
    expect(blockedStatus(undefined, 'ApplyFailed', 'no')).toEqual({
      fields: {},
      conditions: [{ type: 'Ready', status: 'False', reason: 'ApplyFailed', message: 'no' }],
    });
  });
});

describe('a rollout the Deployment controller has not observed yet', () => {
  it('is Progressing, not Available, even while the old counts are all ready', () => {
    const d = { ...deployment({ replicas: 2, readyReplicas: 2, updatedReplicas: 2, observedGeneration: 1 }) };
    d.metadata = { ...d.metadata, generation: 2 };
    expect(byType(computeStatus(sm, d, []).conditions).Ready).toMatchObject({ status: 'True', reason: 'Progressing' });
  });
});

describe('withKstatusConditions', () => {
  const ready = (status: ConditionDraft['status'], reason: string): ConditionDraft => ({
    type: 'Ready',
    status,
    reason,
    message: `${reason}!`,
  });
  const extra = (drafts: ConditionDraft[]) => withKstatusConditions(drafts).slice(drafts.length);

  it.each(['ModelLoadFailed', 'ImagePullFailed', 'ContainerFailed', 'InvalidSpec', 'ChildConflict', 'ImageNotAllowed'])(
    'adds Stalled=True for Ready=False %s, with its reason and message',
    (reason) => {
      expect(extra([ready('False', reason)])).toEqual([
        { type: 'Stalled', status: 'True', reason, message: `${reason}!` },
      ]);
    },
  );

  it('adds Reconciling=True while Progressing, ready or not', () => {
    for (const status of ['True', 'False'] as const) {
      expect(extra([ready(status, 'Progressing')])).toEqual([
        { type: 'Reconciling', status: 'True', reason: 'Progressing', message: 'Progressing!' },
      ]);
    }
  });

  it.each(['True', 'Unknown'] as const)(
    'takes no notice of Drifted=%s: a drifted model is served as asked',
    (status) => {
      const drifted = { type: 'Drifted', status, reason: 'PSIAboveThreshold', message: 'features x0 0.88' };
      expect(withKstatusConditions([ready('True', 'Available'), drifted])).toEqual([
        ready('True', 'Available'),
        drifted,
      ]);
    },
  );

  describe("with a rollout's condition (rollout/machine.ts rolloutCondition)", () => {
    const rolling = { type: 'Reconciling', status: 'True' as const, reason: 'Canary', message: 'step 2/3' };
    const rolledBack = { type: 'Stalled', status: 'True' as const, reason: 'RolledBack', message: 'step 2/3 failed' };

    it("adds it while the stable scorers are served as asked, in place of Progressing's Reconciling", () => {
      expect(extra([ready('True', 'Available')])).toEqual([]);
      expect(withKstatusConditions([ready('True', 'Available')], rolling).slice(1)).toEqual([rolling]);
      expect(withKstatusConditions([ready('True', 'Progressing')], rolling).slice(1)).toEqual([rolling]);
      expect(withKstatusConditions([ready('True', 'Available')], rolledBack).slice(1)).toEqual([rolledBack]);
    });

    it("gives way to Ready's Stalled: the stable scorers failing comes first", () => {
      expect(withKstatusConditions([ready('False', 'ModelLoadFailed')], rolling).slice(1)).toEqual([
        { type: 'Stalled', status: 'True', reason: 'ModelLoadFailed', message: 'ModelLoadFailed!' },
      ]);
    });
  });

  it('adds neither once Available or scaled to zero, and drops ones carried over', () => {
    expect(extra([ready('True', 'Available')])).toEqual([]);
    expect(extra([ready('False', 'ScaledToZero')])).toEqual([]);
    const carried = { type: 'Stalled', status: 'True' as const, reason: 'ApplyFailed', message: 'old' };
    expect(withKstatusConditions([ready('True', 'Available'), carried])).toEqual([ready('True', 'Available')]);
  });
});

describe('autoscalingCondition', () => {
  const hpa = (conditions: { type: string; status: string; reason?: string; message?: string }[]) => ({
    metadata: { name: 'churn', namespace: 'ml' },
    spec: { maxReplicas: 3, scaleTargetRef: { kind: 'Deployment', name: 'churn' } },
    status: { desiredReplicas: 1, conditions },
  });
  const missingRequest = 'the HPA was unable to compute the replica count: missing request for cpu in container scorer';

  it("is False with the HPA's reason and message when it cannot compute a scale", () => {
    const c = autoscalingCondition(
      hpa([
        { type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale' },
        { type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: missingRequest },
      ]),
    );
    expect(c).toEqual({
      type: 'Autoscaling',
      status: 'False',
      reason: 'FailedGetResourceMetric',
      message: `HorizontalPodAutoscaler ml/churn: ${missingRequest}`,
    });
  });

  it('is False when the HPA cannot even read its target', () => {
    const c = autoscalingCondition(
      hpa([{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: 'x' }]),
    );
    expect(c).toMatchObject({ status: 'False', reason: 'FailedGetScale' });
  });

  it('is Unknown until the HPA controller has written conditions', () => {
    expect(autoscalingCondition(undefined)).toMatchObject({ status: 'Unknown', reason: 'Pending' });
    expect(autoscalingCondition(hpa([]))).toMatchObject({ status: 'Unknown' });
  });

  it('is True, saying when the count is held at a bound', () => {
    const active = { type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: 'ok' };
    expect(autoscalingCondition(hpa([active]))).toMatchObject({ status: 'True', reason: 'ValidMetricFound' });
    const limited = { type: 'ScalingLimited', status: 'True', reason: 'TooManyReplicas', message: 'at max' };
    expect(autoscalingCondition(hpa([active, limited]))).toMatchObject({
      status: 'True',
      reason: 'TooManyReplicas',
      message: 'HorizontalPodAutoscaler ml/churn: at max',
    });
  });

  it('turns an Available model AutoscalingInactive, still ready, with the reason in the message', () => {
    const auto = model({ model: { uri: 's3://models/churn/model.json' }, autoscaling: { maxReplicas: 3 } });
    const failing = hpa([{ type: 'ScalingActive', status: 'False', reason: 'FailedGetResourceMetric', message: 'm' }]);
    const d = deployment({ replicas: 1, readyReplicas: 1, updatedReplicas: 1 });
    const { conditions } = computeStatus(auto, { ...d, spec: { ...d.spec!, replicas: 1 } }, [], failing);
    expect(byType(conditions).Ready).toEqual({
      type: 'Ready',
      status: 'True',
      reason: 'AutoscalingInactive',
      message: '1/1 replicas ready; autoscaling cannot work: HorizontalPodAutoscaler ml/churn: m',
    });
    expect(byType(conditions).Autoscaling).toMatchObject({ status: 'False' });
  });
});
