/**
 * The operator's writes to the API server, behind the ClusterWriter port: server-side apply with one field manager,
 * the status subresource, deletes, events.k8s.io events. Every write is counted (a quiet operator writes nothing).
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
  const count = (verb: string, kind: string | undefined) => metrics.writes.inc({ verb, kind: kind ?? 'unknown' });

  return {
    async apply(object: KubernetesObject) {
      count('apply', object.kind);
      await objects.patch(object, undefined, undefined, FIELD_MANAGER, true, PatchStrategy.ServerSideApply);
    },

    async handOver(object: KubernetesObject) {
      count('apply', object.kind);
      try {
        await objects.patch(object, undefined, undefined, HANDOVER_FIELD_MANAGER, false, PatchStrategy.ServerSideApply);
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
      count('delete', ref.kind);
      try {
        await objects.delete(
          { apiVersion: ref.apiVersion, kind: ref.kind, metadata: { name: ref.name, namespace: ref.namespace } },
          undefined,
          undefined,
          undefined,
          undefined,
          'Background',
          ref.uid ? { preconditions: { uid: ref.uid } } : undefined,
        );
      } catch (err) {
        // Gone already (someone, or the garbage collector, was first): what the delete was for.
        if (err instanceof ApiException && err.code === 404) return;
        throw err;
      }
    },

    async applyStatus(sm: ScoringModelObject, status: ScoringModelStatus) {
      count('apply-status', KIND);
      const written: { metadata?: { resourceVersion?: string } } = await custom.patchNamespacedCustomObjectStatus(
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
      );
      return written.metadata?.resourceVersion;
    },

    async event(e: ClusterEvent) {
      count('create', 'Event');
      const { metadata } = e.regarding;
      await events.createNamespacedEvent({
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
      });
    },
  };
}
