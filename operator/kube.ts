/**
 * The operator's writes to the API server, behind the ClusterWriter port: server-side apply with one field manager,
 * the status subresource, deletes, events.k8s.io events. Every write is counted once answered, with how it ended (a
 * quiet operator writes nothing).
 */
import {
  ApiException,
  CustomObjectsApi,
  EventsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type ScoringModelObject,
  type ScoringModelStatus,
} from './api/v1alpha1.js';
import type { ClusterEvent, ClusterWriter, ObjectRef } from './controller.js';
import { FIELD_MANAGER, HANDOVER_FIELD_MANAGER } from './desired/labels.js';
import type { OperatorMetrics } from './metrics.js';

export function kubernetesWriter(kc: KubeConfig, metrics: OperatorMetrics, reportingInstance: string): ClusterWriter {
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const events = kc.makeApiClient(EventsV1Api);
  /** Runs one write and counts it with its result: "success", the HTTP status of a refusal, "error" without one. */
  const counted = async <T>(verb: string, kind: string | undefined, write: () => Promise<T>): Promise<T> => {
    const labels = { verb, kind: kind ?? 'unknown' };
    try {
      const written = await write();
      metrics.writes.inc({ ...labels, result: 'success' });
      return written;
    } catch (err) {
      metrics.writes.inc({ ...labels, result: err instanceof ApiException ? String(err.code) : 'error' });
      throw err;
    }
  };

  return {
    async apply(object: KubernetesObject) {
      await counted('apply', object.kind, () =>
        objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply),
      );
    },

    async handOver(object: KubernetesObject) {
      try {
        // Counted as what it is: a conflict is a 409, expected or not.
        await counted('apply', object.kind, () =>
          objects.patch(object, undefined, undefined, HANDOVER_FIELD_MANAGER, false, PatchStrategy.ServerSideApply),
        );
      } catch (err) {
        if (err instanceof ApiException && err.code === 409) return;
        throw err;
      }
    },

    async read(ref: ObjectRef) {
      try {
        return await objects.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, namespace: ref.namespace },
        });
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },

    async delete(ref: ObjectRef) {
      try {
        await counted('delete', ref.kind, () =>
          objects.delete(
            { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
            undefined,
            undefined,
            undefined,
            undefined,
            'Background',
            ref.uid ? { preconditions: { uid: ref.uid } } : undefined,
          ),
        );
      } catch (err) {
        // Gone already (someone, or the garbage collector, was first): what the delete was for.
        if (err instanceof ApiException && err.code === 404) return;
        throw err;
      }
    },

    async clearAnnotation(sm: ScoringModelObject, key: string, value: string) {
      const path = `/metadata/annotations/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      try {
        await counted('patch', KIND, () =>
          custom.patchNamespacedCustomObject(
            {
              group: GROUP,
              version: VERSION,
              plural: PLURAL,
              namespace: sm.metadata.namespace,
              name: sm.metadata.name,
              // Removed only while it still says what was acted on: a newer value is the next reconcile's.
              body: [
                { op: 'test', path, value },
                { op: 'remove', path },
              ],
            },
            setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
          ),
        );
      } catch (err) {
        // Gone, or changed since (the test failed): nothing of what was acted on is left to remove.
        if (err instanceof ApiException && (err.code === 404 || err.code === 422)) return;
        throw err;
      }
    },

    async applyStatus(sm: ScoringModelObject, status: ScoringModelStatus) {
      const written: { metadata?: { resourceVersion?: string } } = await counted('apply-status', KIND, () =>
        custom.patchNamespacedCustomObjectStatus(
          {
            group: GROUP,
            version: VERSION,
            plural: PLURAL,
            namespace: sm.metadata.namespace,
            name: sm.metadata.name,
            // Only the status: SSA then owns exactly these status fields for this manager.
            body: {
              apiVersion: API_VERSION,
              kind: KIND,
              metadata: { name: sm.metadata.name, namespace: sm.metadata.namespace },
              status,
            },
            fieldManager: FIELD_MANAGER,
            force: true,
          },
          setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
        ),
      );
      return written.metadata?.resourceVersion;
    },

    async event(e: ClusterEvent) {
      const { metadata } = e.regarding;
      await counted('create', 'Event', () =>
        events.createNamespacedEvent({
          namespace: metadata.namespace,
          body: {
            metadata: {
              name: `${metadata.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`,
              namespace: metadata.namespace,
            },
            eventTime: new V1MicroTime(),
            reportingController: `${GROUP}/scoring-operator`,
            reportingInstance,
            action: e.action,
            reason: e.reason,
            note: e.note,
            type: e.type,
            regarding: {
              apiVersion: API_VERSION,
              kind: KIND,
              name: metadata.name,
              namespace: metadata.namespace,
              uid: metadata.uid,
              ...(metadata.resourceVersion ? { resourceVersion: metadata.resourceVersion } : {}),
            },
          },
        }),
      );
    },
  };
}
