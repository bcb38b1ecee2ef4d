/**
 * The kstatus tool (test/cluster/kstatus.ts) against objects read from the real API server, whose verdicts the
 * library's rules fix: a built-in object with no status is Current, a Deployment is InProgress until its pods are
 * available, and any object with the abnormal-true conditions is Failed (Stalled) or InProgress (Reconciling).
 */
import { getJson, k, kubectl, waitFor } from './kube.js';
import { kstatus } from './kstatus.js';

const NS = 'kstatus-test';
const CRD = 'widgets.kstatus.test';

beforeAll(() => {
  k(['create', 'namespace', NS]);
  k(
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: CRD },
      spec: {
        group: 'kstatus.test',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  status: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                },
              },
            },
          },
        ],
      },
    }),
  );
  k(['wait', '--for=condition=Established', `crd/${CRD}`, '--timeout=60s']);
});
afterAll(() => {
  kubectl(['delete', 'namespace', NS, '--wait=false']);
  kubectl(['delete', 'crd', CRD, '--wait=false']);
});

const get = (...args: string[]) => getJson([...args, '-n', NS])!;

it('a ConfigMap is Current', () => {
  k(['create', 'configmap', 'settings', '-n', NS, '--from-literal=a=b']);
  expect(kstatus(get('configmap', 'settings'))).toEqual({ status: 'Current', message: 'Resource is always ready' });
});

it('a Deployment whose pod is not ready is InProgress, and Current once the pod is ready', async () => {
  k(['create', 'deployment', 'web', '-n', NS, '--image=scoring.dev/none:1', '--replicas=1']);
  // The deployment controller has seen this generation and the ReplicaSet controller made its pod, which no kubelet
  // will ever start: what kstatus now says is its rollout rule, not an unobserved generation.
  const pending = await waitFor('the Deployment to count its pod', () => {
    const d = get('deployment', 'web');
    return d.status?.observedGeneration === d.metadata.generation && d.status?.replicas === 1 ? d : undefined;
  });
  expect(kstatus(pending)).toEqual({ status: 'InProgress', message: 'Available: 0/1' });

  const pod = await waitFor('its pod', () => k(['get', 'pods', '-n', NS, '-l', 'app=web', '-o', 'name']).trim());
  const now = new Date().toISOString();
  const status = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] };
  k(['patch', pod, '-n', NS, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status })]);
  const ready = await waitFor('the Deployment to count its pod available', () => {
    const d = get('deployment', 'web');
    return d.status?.availableReplicas === 1 ? d : undefined;
  });
  expect(kstatus(ready)).toEqual({ status: 'Current', message: 'Deployment is available. Replicas: 1' });
});

describe('an object with conditions', () => {
  /** Creates a Widget and writes its status through the status subresource, as a controller would. */
  const widget = (name: string, conditions: object[]) => {
    // The CRD's kind reaches kubectl's discovery shortly after it is Established.
    return waitFor(`widget ${name}`, () => {
      const made = kubectl(
        ['apply', '-n', NS, '-f', '-'],
        JSON.stringify({ apiVersion: 'kstatus.test/v1', kind: 'Widget', metadata: { name }, spec: {} }),
      );
      if (made.status !== 0) throw new Error(made.stderr);
      k([
        'patch',
        'widget',
        name,
        '-n',
        NS,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { conditions } }),
      ]);
      return get('widget', name);
    });
  };

  it('is Failed with the message of a Stalled=True condition', async () => {
    const w = await widget('stalled', [{ type: 'Stalled', status: 'True', reason: 'X', message: 'M' }]);
    expect(w.status.conditions).toHaveLength(1);
    expect(kstatus(w)).toEqual({ status: 'Failed', message: 'M' });
  });

  it('is InProgress with the message of a Reconciling=True condition', async () => {
    const w = await widget('reconciling', [
      { type: 'Reconciling', status: 'True', reason: 'Y', message: 'rolling out' },
    ]);
    expect(kstatus(w)).toEqual({ status: 'InProgress', message: 'rolling out' });
  });

  it('is Current when neither is true', async () => {
    const w = await widget('calm', [{ type: 'Stalled', status: 'False', reason: 'Fine', message: 'nothing wrong' }]);
    expect(kstatus(w)).toEqual({ status: 'Current', message: 'Resource is current' });
  });
});
