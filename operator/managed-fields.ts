/** Field ownership under server-side apply, read from an object's managedFields (FieldsV1). */
import type { KubernetesObject, V1ManagedFieldsEntry } from '@kubernetes/client-node';

const isApplyOf = (entry: V1ManagedFieldsEntry, manager: string) =>
  entry.manager === manager && entry.operation === 'Apply' && !entry.subresource;

/** Whether `manager`'s applies own the field at `path` (e.g. ['spec', 'replicas']) of the object itself. */
export function appliedBy(object: KubernetesObject, manager: string, path: readonly string[]): boolean {
  return (object.metadata?.managedFields ?? []).some((entry) => {
    if (!isApplyOf(entry, manager)) return false;
    let fields: unknown = entry.fieldsV1;
    for (const name of path) {
      fields = (fields as Record<string, unknown> | undefined)?.[`f:${name}`];
      if (fields === undefined) return false;
    }
    return true;
  });
}

/**
 * managedFields cut down to what `appliedBy(object, manager, path)` reads for each of `paths`: the manager's apply
 * entries, each holding only those of the paths it owns (as empty sets). Every such answer stays the same; the
 * rest (other managers' entries, the fields under a path, timestamps) goes. Empty when the manager owns none.
 */
export function ownershipOf(
  object: KubernetesObject,
  manager: string,
  paths: readonly (readonly string[])[],
): V1ManagedFieldsEntry[] {
  const kept: V1ManagedFieldsEntry[] = [];
  for (const entry of object.metadata?.managedFields ?? []) {
    if (!isApplyOf(entry, manager)) continue;
    const owned = paths.filter((path) => appliedBy({ metadata: { managedFields: [entry] } }, manager, path));
    if (owned.length === 0) continue;
    const fieldsV1: Record<string, unknown> = {};
    for (const path of owned) {
      let at = fieldsV1;
      for (const name of path) at = (at[`f:${name}`] ??= {}) as Record<string, unknown>;
    }
    kept.push({ manager, operation: 'Apply', fieldsV1 });
  }
  return kept;
}
