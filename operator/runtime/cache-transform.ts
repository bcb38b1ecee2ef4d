/**
 * What the informers keep of each object, applied on the way into the cache (controller-runtime's
 * cache.TransformStripManagedFields, and its per-kind transforms). The API server sends whole objects; a cache of
 * them for every ScoringModel, its children and their pods spends most of its memory on fields no reconcile reads:
 * managedFields (every writer's field set, often larger than the object), kubectl's last-applied copy, and a pod's
 * whole spec and status. Each kind keeps every field its readers use, and nothing else:
 * - ScoringModels: everything but those two; the reconcile reads spec, status, labels, annotations, uid, generation
 *   and resourceVersion.
 * - Deployments, Services, HPAs, PDBs: everything but those two, for a child is compared field by field with what
 *   the operator would apply (controller.ts isSubset), and its status is read. A Deployment keeps one fact of its
 *   managedFields: whether the operator's applies own spec.replicas (the hand-over to an HPA, controller.ts).
 * - Pods: identity, labels, deletionTimestamp and owners; each container's name and ports (where its scorer
 *   listens, scorer-pods.ts); podIP, conditions and each container's state (readiness and failures, status.ts).
 */
import type { KubernetesObject, V1ContainerStatus, V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { FIELD_MANAGER } from '../desired/labels.js';
import { ownershipOf } from '../managed-fields.js';

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The managedFields paths whose ownership reconciles read, per resource (see ownershipOf). */
export const OWNERSHIP_READ: Readonly<Record<string, readonly (readonly string[])[]>> = {
  deployments: [['spec', 'replicas']],
};

/** The object as the cache of `resource` keeps it: a copy; `object` is left as it was. */
export function forCache(resource: string, object: KubernetesObject): KubernetesObject {
  if (resource === 'pods') return slimPod(object as V1Pod);
  const paths = OWNERSHIP_READ[resource] ?? [];
  const managedFields = paths.length > 0 ? ownershipOf(object, FIELD_MANAGER, paths) : [];
  const metadata = slimMetadata(object.metadata);
  return {
    ...object,
    metadata: managedFields.length > 0 ? { ...metadata, managedFields } : metadata,
  } as KubernetesObject;
}

function slimMetadata(metadata: V1ObjectMeta | undefined): V1ObjectMeta | undefined {
  if (!metadata) return metadata;
  const { managedFields: _managedFields, annotations, ...rest } = metadata;
  if (!annotations) return rest;
  const { [LAST_APPLIED]: _lastApplied, ...kept } = annotations;
  return Object.keys(kept).length > 0 ? { ...rest, annotations: kept } : rest;
}

function slimPod(pod: V1Pod): V1Pod {
  const m = pod.metadata;
  const s = pod.status;
  return {
    apiVersion: pod.apiVersion,
    kind: pod.kind,
    metadata: m && {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      labels: m.labels,
      deletionTimestamp: m.deletionTimestamp,
      ownerReferences: m.ownerReferences,
    },
    spec: pod.spec && { containers: pod.spec.containers.map(({ name, ports }) => ({ name, ports })) },
    status: s && {
      podIP: s.podIP,
      conditions: s.conditions,
      containerStatuses: s.containerStatuses?.map(slimContainerStatus),
    },
  };
}

const slimContainerStatus = ({
  name,
  ready,
  restartCount,
  image,
  imageID,
  state,
  lastState,
}: V1ContainerStatus): V1ContainerStatus => ({ name, ready, restartCount, image, imageID, state, lastState });
