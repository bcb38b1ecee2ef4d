/**
 * Objects as the API server sends them to the informers: the operator's desired children with what the server,
 * the controllers and the kubelet add (managedFields of several writers, defaults, a pod's status), for tests of
 * what the caches keep.
 */
import type { V1Deployment, V1ManagedFieldsEntry, V1Pod } from '@kubernetes/client-node';
import type { ScoringModel } from '../../operator/api/v1alpha1.js';
import { desiredDeployment } from '../../operator/desired/deployment.js';
import { FIELD_MANAGER, HANDOVER_FIELD_MANAGER } from '../../operator/desired/labels.js';

const entry = (manager: string, operation: string, fieldsV1: object, subresource?: string): V1ManagedFieldsEntry => ({
  manager,
  operation,
  apiVersion: 'apps/v1',
  fieldsType: 'FieldsV1',
  time: new Date('2025-01-01T00:00:00Z'),
  fieldsV1,
  ...(subresource ? { subresource } : {}),
});

const TEMPLATE_FIELDS = {
  'f:metadata': { 'f:labels': { 'f:app.kubernetes.io/instance': {}, 'f:app.kubernetes.io/name': {} } },
  'f:spec': { 'f:containers': { 'k:{"name":"scorer"}': { '.': {}, 'f:env': {}, 'f:image': {}, 'f:ports': {} } } },
};

/** The stable Deployment of `sm` as listed: applied by the operator (owning replicas or not), its status written. */
export function liveDeployment(sm: ScoringModel, options: { ownsReplicas: boolean }): V1Deployment {
  const desired = desiredDeployment(sm, { scorerImage: 'scorer:test' });
  const spec = options.ownsReplicas
    ? { 'f:replicas': {}, 'f:template': TEMPLATE_FIELDS }
    : { 'f:template': TEMPLATE_FIELDS };
  return {
    ...desired,
    metadata: {
      ...desired.metadata,
      uid: 'deployment-uid',
      resourceVersion: '41',
      generation: 2,
      annotations: { ...desired.metadata!.annotations, 'deployment.kubernetes.io/revision': '1' },
      managedFields: [
        entry(FIELD_MANAGER, 'Apply', { 'f:metadata': { 'f:labels': {} }, 'f:spec': spec }),
        entry(HANDOVER_FIELD_MANAGER, 'Apply', { 'f:spec': { 'f:replicas': {} } }),
        entry('kube-controller-manager', 'Update', { 'f:status': { 'f:replicas': {}, 'f:conditions': {} } }, 'status'),
      ],
    },
    spec: { progressDeadlineSeconds: 600, ...desired.spec! },
    status: { observedGeneration: 2, replicas: 2, readyReplicas: 1, updatedReplicas: 2, availableReplicas: 1 },
  };
}

/** A pod of `deployment`'s template as the kubelet reports it: `ready`, or its scorer exited with `exitMessage`. */
export function livePod(
  deployment: V1Deployment,
  name: string,
  state: { ready: boolean; exitMessage?: string },
): V1Pod {
  const template = deployment.spec!.template;
  const exited = state.exitMessage !== undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...template.metadata,
      name,
      namespace: deployment.metadata!.namespace,
      uid: `${name}-uid`,
      resourceVersion: '77',
      generateName: `${deployment.metadata!.name}-7d9f8b6c5-`,
      labels: { ...template.metadata!.labels, 'pod-template-hash': '7d9f8b6c5' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'rs',
          uid: 'rs-uid',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
      managedFields: [
        entry('kube-controller-manager', 'Update', { 'f:metadata': {}, 'f:spec': TEMPLATE_FIELDS['f:spec'] }),
        entry('kubelet', 'Update', { 'f:status': { 'f:conditions': {}, 'f:podIP': {} } }, 'status'),
      ],
    },
    spec: {
      ...template.spec!,
      nodeName: 'node-1',
      dnsPolicy: 'ClusterFirst',
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
    },
    status: {
      phase: 'Running',
      hostIP: '10.0.0.1',
      podIP: '10.244.0.7',
      podIPs: [{ ip: '10.244.0.7' }],
      qosClass: 'Burstable',
      startTime: new Date('2025-01-01T00:00:00Z'),
      conditions: [
        { type: 'PodScheduled', status: 'True' },
        { type: 'Ready', status: state.ready ? 'True' : 'False' },
      ],
      containerStatuses: [
        {
          name: 'scorer',
          image: 'scorer:test',
          imageID: 'docker.io/library/scorer@sha256:00',
          containerID: 'containerd://abc',
          ready: state.ready,
          restartCount: exited ? 3 : 0,
          started: state.ready,
          state: exited ? { waiting: { reason: 'CrashLoopBackOff' } } : { running: {} },
          ...(exited
            ? { lastState: { terminated: { exitCode: 1, reason: 'Error', message: state.exitMessage } } }
            : {}),
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
        },
      ],
    },
  };
}
