import type { V1ManagedFieldsEntry } from '@kubernetes/client-node';
import { appliedBy } from '../../operator/managed-fields.js';

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
