/** Field ownership under server-side apply, read from an object's managedFields (FieldsV1). */
import type { KubernetesObject } from '@kubernetes/client-node';

/** Whether `manager`'s applies own the field at `path` (e.g. ['spec', 'replicas']) of the object itself. */
export function appliedBy(object: KubernetesObject, manager: string, path: readonly string[]): boolean {
  return (object.metadata?.managedFields ?? []).some((entry) => {
    if (entry.manager !== manager || entry.operation !== 'Apply' || entry.subresource) return false;
    let fields: unknown = entry.fieldsV1;
    for (const name of path) {
      fields = (fields as Record<string, unknown> | undefined)?.[`f:${name}`];
      if (fields === undefined) return false;
    }
    return true;
  });
}
