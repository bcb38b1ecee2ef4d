import type { KubernetesObject, V1Deployment, V1Pod } from '@kubernetes/client-node';
import { isSubset } from '../../../operator/controller.js';
import { desiredDeployment, revisionOf } from '../../../operator/desired/deployment.js';
import { FIELD_MANAGER } from '../../../operator/desired/labels.js';
import { appliedBy } from '../../../operator/managed-fields.js';
import { forCache } from '../../../operator/runtime/cache-transform.js';
import { readyScorers } from '../../../operator/scorer-pods.js';
import { computeStatus, podProblem } from '../../../operator/status.js';
import { liveDeployment, livePod } from '../../helpers/live-objects.js';
import { model } from '../../helpers/scoringmodel.js';

const sm = model({ model: { uri: 's3://models/churn.onnx' }, replicas: 2 });
const LOAD_FAILED = 'cannot load model s3://models/churn.onnx: sha256 mismatch';

describe('forCache', () => {
  it('keeps no managedFields, and no last-applied copy, of a ScoringModel', () => {
    const live = {
      ...sm,
      metadata: {
        ...sm.metadata,
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'scoring.dev/rollout': 'promote' },
        managedFields: [{ manager: 'kubectl', operation: 'Apply', fieldsV1: { 'f:spec': {} } }],
      },
      status: { url: 'http://churn.ml.svc' },
    } as KubernetesObject;
    const { managedFields: _m, ...metadata } = live.metadata!;
    expect(forCache('scoringmodels', live)).toEqual({
      ...live,
      metadata: { ...metadata, annotations: { 'scoring.dev/rollout': 'promote' } },
    });
  });

  it("keeps of a Deployment's managedFields only whether the operator's applies own spec.replicas", () => {
    for (const ownsReplicas of [true, false]) {
      const live = liveDeployment(sm, { ownsReplicas });
      const cached = forCache('deployments', live) as V1Deployment;
      expect(appliedBy(cached, FIELD_MANAGER, ['spec', 'replicas'])).toBe(ownsReplicas);
      expect(cached.metadata?.managedFields).toEqual(
        ownsReplicas
          ? [{ manager: FIELD_MANAGER, operation: 'Apply', fieldsV1: { 'f:spec': { 'f:replicas': {} } } }]
          : undefined,
      );
      // The rest is the object as listed: it is compared with the desired Deployment field by field.
      const { managedFields: _m, ...metadata } = live.metadata!;
      expect({ ...cached, metadata: { ...cached.metadata, managedFields: undefined } }).toEqual({ ...live, metadata });
      expect(isSubset(desiredDeployment(sm, { scorerImage: 'scorer:test' }), cached)).toBe(true);
    }
  });

  it('keeps no managedFields of the other children', () => {
    for (const resource of ['services', 'horizontalpodautoscalers', 'poddisruptionbudgets']) {
      const live = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'churn', namespace: 'ml', managedFields: [{ manager: FIELD_MANAGER, operation: 'Apply' }] },
        spec: { ports: [{ port: 80 }] },
      };
      expect(forCache(resource, live)).toEqual({ ...live, metadata: { name: 'churn', namespace: 'ml' } });
    }
  });

  it('keeps of a pod what the status, drift and rollout readers read, and they answer as they did', () => {
    const deployment = liveDeployment(sm, { ownsReplicas: true });
    const pods = [
      livePod(deployment, 'churn-a', { ready: true }),
      livePod(deployment, 'churn-b', { ready: false, exitMessage: LOAD_FAILED }),
      {
        ...livePod(deployment, 'churn-c', { ready: true }),
        metadata: { ...livePod(deployment, 'churn-c', { ready: true }).metadata, deletionTimestamp: new Date() },
      },
    ];
    const cached = pods.map((p) => forCache('pods', p) as V1Pod);

    expect(readyScorers(cached)).toEqual(readyScorers(pods));
    expect(readyScorers(cached)).toEqual([{ pod: 'churn-a', base: 'http://10.244.0.7:8080' }]);
    expect(podProblem(cached, revisionOf(deployment))).toEqual(podProblem(pods, revisionOf(deployment)));
    expect(podProblem(cached, revisionOf(deployment))).toEqual({ reason: 'ModelLoadFailed', message: LOAD_FAILED });
    expect(computeStatus(sm, deployment, cached)).toEqual(computeStatus(sm, deployment, pods));

    const [cachedPod] = cached;
    expect(cachedPod!.metadata).toEqual({
      name: 'churn-a',
      namespace: 'ml',
      uid: 'churn-a-uid',
      resourceVersion: '77',
      labels: pods[0]!.metadata!.labels,
      deletionTimestamp: undefined,
      ownerReferences: pods[0]!.metadata!.ownerReferences,
    });
    expect(cachedPod!.spec).toEqual({ containers: [{ name: 'scorer', ports: pods[0]!.spec!.containers[0]!.ports }] });
    expect(Object.keys(cachedPod!.status!).sort()).toEqual(['conditions', 'containerStatuses', 'podIP']);
    expect(JSON.stringify(cachedPod).length).toBeLessThan(JSON.stringify(pods[0]).length / 3);
  });

  it('leaves the object it was given as it was', () => {
    const live = liveDeployment(sm, { ownsReplicas: true });
    const before = structuredClone(live);
    forCache('deployments', live);
    forCache('pods', livePod(live, 'churn-a', { ready: true }));
    expect(live).toEqual(before);
  });
});
