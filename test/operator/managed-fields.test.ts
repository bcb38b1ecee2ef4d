import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { appliedBy, ownershipOf } from '../../operator/managed-fields.js';

const withFields = (...managedFields: V1ManagedFieldsEntry[]) => ({ metadata: { name: 'churn', managedFields } });
const replicas = { 'f:spec': { 'f:replicas': {}, 'f:template': {} } };

describe('appliedBy', () => {
  it("finds a field in the manager's apply entry", () => {
    const o = withFields({ manager: 'scoring-operator', operation: 'Apply', fieldsV1: replicas });
    expect(appliedBy(o, 'scoring-operator', ['spec', 'replicas'])).toBe(true);
    expect(appliedBy(o, 'scoring-operator', ['spec', 'paused'])).toBe(false);
  });

  it("ignores other managers, updates and subresources (the HPA's scale writes)", () => {
    const o = withFields(
      { manager: 'other', operation: 'Apply', fieldsV1: replicas },
      { manager: 'scoring-operator', operation: 'Update', fieldsV1: replicas },
      { manager: 'scoring-operator', operation: 'Apply', subresource: 'scale', fieldsV1: replicas },
    );
    expect(appliedBy(o, 'scoring-operator', ['spec', 'replicas'])).toBe(false);
  });

  it('is false for an object without managedFields', () => {
    expect(appliedBy({ metadata: {} }, 'scoring-operator', ['spec', 'replicas'])).toBe(false);
  });
});

describe('ownershipOf', () => {
  const paths = [
    ['spec', 'replicas'],
    ['spec', 'paused'],
    ['spec', 'template'],
  ];

  it("keeps of the manager's apply entries only the asked paths it owns, so appliedBy answers as it did", () => {
    const o = withFields(
      { manager: 'scoring-operator', operation: 'Apply', fieldsV1: replicas, time: new Date(0) },
      { manager: 'other', operation: 'Apply', fieldsV1: { 'f:spec': { 'f:paused': {} } } },
      { manager: 'scoring-operator', operation: 'Update', fieldsV1: { 'f:spec': { 'f:paused': {} } } },
      {
        manager: 'scoring-operator',
        operation: 'Apply',
        subresource: 'scale',
        fieldsV1: { 'f:spec': { 'f:paused': {} } },
      },
    );
    const kept = ownershipOf(o, 'scoring-operator', paths);
    expect(kept).toEqual([
      {
        manager: 'scoring-operator',
        operation: 'Apply',
        fieldsV1: { 'f:spec': { 'f:replicas': {}, 'f:template': {} } },
      },
    ]);
    for (const manager of ['scoring-operator', 'other']) {
      for (const path of paths) {
        expect(appliedBy(withFields(...kept), manager, path)).toBe(
          manager === 'scoring-operator' && path[1] !== 'paused',
        );
      }
    }
  });

  it('is empty when the manager owns none of the paths', () => {
    expect(
      ownershipOf(
        withFields({ manager: 'scoring-operator', operation: 'Apply', fieldsV1: {} }),
        'scoring-operator',
        paths,
      ),
    ).toEqual([]);
    expect(ownershipOf({ metadata: {} }, 'scoring-operator', paths)).toEqual([]);
  });
});
