/**
 * What the operator may touch and what it says about what it cannot do, against the real API server, as its own
 * ServiceAccount: objects of someone else's that hold a child's name, images outside the allow-list, the disruption
 * budget, the HPA's own verdict, and the kstatus verdicts GitOps tools wait on. Each test works in a namespace of
 * its own, which one operator (no leader election) watches.
 */
import { kstatus } from './kstatus.js';
import {
  audit,
  crashedPodStatus,
  eventsOf,
  getJson,
  installOperatorPrerequisites,
  k,
  kubectl,
  metricsOf,
  OPERATOR_USER,
  readyPodStatus,
  scoringModel,
  setPodStatus,
  startOperator,
  waitFor,
  type OperatorProcess,
} from './kube.js';

const NAMESPACES = {
  service: 'own-service',
  deployment: 'own-deployment',
  hpa: 'own-hpa',
  pdb: 'own-foreign-pdb',
  labelled: 'own-labelled',
  candidate: 'own-candidate',
  unwanted: 'own-unwanted',
  refused: 'own-refused',
  deletion: 'own-deletion',
  image: 'own-image',
  disruption: 'own-pdb',
  scaling: 'own-scaling',
  kstatus: 'own-kstatus',
};
/** A ValidatingAdmissionPolicy (and its binding) of the test of refused writes. */
const REFUSING_POLICY = 'own-refused-services';
let op: OperatorProcess;

beforeAll(async () => {
  const kubeconfig = await installOperatorPrerequisites();
  for (const ns of Object.values(NAMESPACES)) {
    if (kubectl(['get', 'namespace', ns]).status !== 0) k(['create', 'namespace', ns]);
  }
  op = await startOperator(kubeconfig, {
    POD_NAME: 'operator-ownership',
    LEADER_ELECT: 'false',
    WATCH_NAMESPACES: Object.values(NAMESPACES).join(','),
  });
});

afterAll(async () => {
  // ScoringModels first, while the operator still runs: none is left for another operator to find in a namespace
  // being deleted (where it may create nothing).
  for (const ns of Object.values(NAMESPACES)) k(['delete', 'sm', '--all', '-n', ns, '--wait=true']);
  await op.stop();
  for (const ns of Object.values(NAMESPACES)) k(['delete', 'namespace', ns, '--wait=false']);
  // Every refusal but the ones the refusing policy's test asks for (the API server calls them forbidden too).
  const deliberate = `ValidatingAdmissionPolicy '${REFUSING_POLICY}'`;
  expect(
    op.logs().filter((l) => /forbidden/i.test(JSON.stringify(l)) && !JSON.stringify(l).includes(deliberate)),
  ).toEqual([]);
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- kubectl JSON

const sm = (name: string, ns: string) => getJson(['scoringmodel', name, '-n', ns]);
const condition = (name: string, ns: string, type: string) =>
  (sm(name, ns)?.status?.conditions as Json[] | undefined)?.find((c) => c.type === type);
/** Writes the operator's ServiceAccount sent for objects of `resource` named `name` in `ns`, from the audit log. */
const operatorWrites = (resource: string, ns: string, name: string) =>
  audit().filter(
    (e) =>
      e.user.username === OPERATOR_USER &&
      !['get', 'list', 'watch'].includes(e.verb) &&
      e.objectRef?.resource === resource &&
      e.objectRef.namespace === ns &&
      e.objectRef.name === name,
  );

/** A user's own Service `api`, with `labels`. */
const userService = (ns: string, labels: Record<string, string>): Json => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'api', namespace: ns, labels },
  spec: { selector: { app: 'api' }, ports: [{ port: 80, targetPort: 9090 }] },
});

/** Someone else's objects named `api`, as a user would have made them before asking for a model of that name. */
const FOREIGN: Record<string, { resource: string; kind: string; object: (ns: string) => Json; spec: Json }> = {
  service: {
    resource: 'services',
    kind: 'Service',
    object: (ns) => userService(ns, { app: 'api' }),
    spec: { model: { uri: 'identity' } },
  },
  deployment: {
    resource: 'deployments',
    kind: 'Deployment',
    object: (ns) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'api', namespace: ns, labels: { app: 'api' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'api' } },
        template: {
          metadata: { labels: { app: 'api' } },
          spec: { containers: [{ name: 'api', image: 'example.com/api:1' }] },
        },
      },
    }),
    spec: { model: { uri: 'identity' } },
  },
  hpa: {
    resource: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    object: (ns) => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'api', namespace: ns },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'frontend' },
        minReplicas: 2,
        maxReplicas: 9,
      },
    }),
    spec: { model: { uri: 'identity' }, autoscaling: { maxReplicas: 3 } },
  },
  // The child kind added after the first three: a model of two replicas wants a PodDisruptionBudget of its name.
  pdb: {
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    object: (ns) => ({
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'api', namespace: ns },
      spec: { minAvailable: 1, selector: { matchLabels: { app: 'api' } } },
    }),
    spec: { model: { uri: 'identity' }, replicas: 2 },
  },
  // Carrying the operator's own labels, so that its informers see it: still not its own.
  labelled: {
    resource: 'services',
    kind: 'Service',
    object: (ns) =>
      userService(ns, { 'app.kubernetes.io/managed-by': 'scoring-operator', 'app.kubernetes.io/instance': 'api' }),
    spec: { model: { uri: 'identity' } },
  },
};

/** The value of one series in a scrape, e.g. `name{label="value"}`; undefined when absent. */
function sampleOf(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** A Deployment once kube-controller-manager has seen it: it annotates the revision and writes the status. */
const seenDeployment = (name: string, ns: string) =>
  waitFor(`the Deployment controller to have seen ${name}`, () => {
    const o = getJson(['deployment', name, '-n', ns]);
    return o?.metadata.annotations?.['deployment.kubernetes.io/revision'] && o.status?.observedGeneration
      ? o
      : undefined;
  });

/** Every kind of child a ScoringModel can have, by the name the audit log gives its resource. */
const CHILD_RESOURCES = ['deployments', 'services', 'horizontalpodautoscalers', 'poddisruptionbudgets'];

/** An object as its owner wrote it: all but its status and the bookkeeping a status update changes. */
/** Waits for the operator to look at a conflicting model again (it does every 10 s), to judge that it wrote nothing. */
async function secondLook(): Promise<void> {
  const reconciled = op.logs().length;
  await waitFor(
    'a second look',
    () =>
      op
        .logs()
        .slice(reconciled)
        .some((l) => l.msg === 'child names taken: no children touched'),
    30_000,
  );
}

function asWritten(o: Json) {
  const { resourceVersion: _version, managedFields = [], ...metadata } = o.metadata as Json;
  return {
    metadata,
    spec: o.spec,
    writers: (managedFields as Json[]).filter((f) => f.subresource !== 'status').map((f) => [f.manager, f.time]),
  };
}

describe('a child name held by an object the ScoringModel does not control', () => {
  it.each(Object.keys(FOREIGN))(
    '(%s) is left as its owner wrote it, with no write from the operator, reported, and recovered from once gone',
    async (which) => {
      const ns = NAMESPACES[which as keyof typeof NAMESPACES];
      const { resource, kind, object, spec } = FOREIGN[which]!;
      k(['create', '-f', '-'], JSON.stringify(object(ns)));
      const before =
        resource === 'deployments' ? await seenDeployment('api', ns) : getJson([resource, 'api', '-n', ns])!;
      k(['apply', '-f', '-'], scoringModel('api', spec, ns));

      const ready = await waitFor('Ready=False ChildConflict', () => {
        const c = condition('api', ns, 'Ready');
        return c?.reason === 'ChildConflict' ? c : undefined;
      });
      expect(ready).toMatchObject({ status: 'False' });
      expect(ready.message).toMatch(new RegExp(`^${kind} ${ns}/api exists and is not controlled by any object`));
      expect(condition('api', ns, 'Stalled')).toMatchObject({ status: 'True', reason: 'ChildConflict' });
      expect(k(['get', 'sm', 'api', '-n', ns])).toMatch(/^api\s.*\sChildConflict\s/m);

      await secondLook();
      // As its owner wrote it: the Deployment controller goes on updating a Deployment's status (its pods never
      // start here); that no write came from the operator, the audit log says.
      const after = getJson([resource, 'api', '-n', ns])!;
      expect(asWritten(after)).toEqual(asWritten(before));
      // Nothing else writes the other kinds here (no HPA or disruption controller runs): the whole object, its
      // resourceVersion included, is as it was.
      if (resource !== 'deployments') expect(after).toEqual(before);
      expect(operatorWrites(resource, ns, 'api')).toEqual([]);
      // No child at all while one name is taken.
      for (const r of CHILD_RESOURCES.filter((x) => x !== resource)) {
        expect(operatorWrites(r, ns, 'api')).toEqual([]);
      }
      expect(eventsOf('api', ns)).toEqual(['Warning Ready=ChildConflict']);

      k(['delete', resource, 'api', '-n', ns, '--wait=true']);
      const recovered = await waitFor('the operator to make its own', () => {
        const o = getJson([resource, 'api', '-n', ns]);
        return o?.metadata.ownerReferences?.[0]?.uid === sm('api', ns)!.metadata.uid ? o : undefined;
      });
      expect(recovered.metadata.ownerReferences).toMatchObject([
        { kind: 'ScoringModel', name: 'api', controller: true },
      ]);
      await waitFor('Ready no longer ChildConflict', () => condition('api', ns, 'Ready')?.reason === 'Progressing');
      expect(condition('api', ns, 'Stalled')).toBeUndefined();
    },
    90_000,
  );

  it("(a rollout's candidate, NAME-candidate) is left untouched, reported, and recovered from once gone", async () => {
    const ns = NAMESPACES.candidate;
    const theirs = FOREIGN.deployment!.object(ns);
    k(['create', '-f', '-'], JSON.stringify({ ...theirs, metadata: { ...theirs.metadata, name: 'api-candidate' } }));
    const before = await seenDeployment('api-candidate', ns);
    const rollout = { strategy: 'Canary', steps: [{ weight: 10 }] };
    k(['apply', '-f', '-'], scoringModel('api', { model: { uri: 'identity' }, rollout }, ns));
    const stable = await waitFor('the stable Deployment', () => getJson(['deployment', 'api', '-n', ns]));
    expect(stable.metadata.ownerReferences).toMatchObject([{ kind: 'ScoringModel', name: 'api', controller: true }]);

    // A new template: a rollout starts, which wants a candidate Deployment of the taken name.
    const uri = 'https://models.example/b.onnx';
    k(['apply', '-f', '-'], scoringModel('api', { model: { uri }, rollout }, ns));
    const ready = await waitFor('Ready=False ChildConflict', () => {
      const c = condition('api', ns, 'Ready');
      return c?.reason === 'ChildConflict' ? c : undefined;
    });
    expect(ready.message).toMatch(new RegExp(`^Deployment ${ns}/api-candidate exists and is not controlled by any`));
    await secondLook();
    expect(asWritten(getJson(['deployment', 'api-candidate', '-n', ns])!)).toEqual(asWritten(before));
    expect(operatorWrites('deployments', ns, 'api-candidate')).toEqual([]);
    expect(eventsOf('api', ns).filter((e) => e.startsWith('Warning'))).toEqual(['Warning Ready=ChildConflict']);

    k(['delete', 'deployment', 'api-candidate', '-n', ns, '--wait=true']);
    const candidate = await waitFor('the operator to make its own candidate', () => {
      const o = getJson(['deployment', 'api-candidate', '-n', ns]);
      return o?.metadata.ownerReferences?.[0]?.uid === sm('api', ns)!.metadata.uid ? o : undefined;
    });
    expect(candidate.spec.template.spec.containers[0].env).toContainEqual({ name: 'MODEL_URI', value: uri });
  });

  it('is not deleted with the ScoringModel', async () => {
    const ns = NAMESPACES.deletion;
    k(['create', '-f', '-'], JSON.stringify(FOREIGN.service!.object(ns)));
    const before = getJson(['service', 'api', '-n', ns])!;
    k(['apply', '-f', '-'], scoringModel('api', { model: { uri: 'identity' } }, ns));
    await waitFor('ChildConflict', () => condition('api', ns, 'Ready')?.reason === 'ChildConflict');
    k(['delete', 'sm', 'api', '-n', ns, '--wait=true']);
    // The garbage collector would have acted on an owner reference by now: the operator's own children of another
    // model in the namespace are gone by the time this one's deletion has been processed.
    k(['apply', '-f', '-'], scoringModel('other', { model: { uri: 'identity' } }, ns));
    await waitFor('the other model children', () => getJson(['deployment', 'other', '-n', ns]));
    k(['delete', 'sm', 'other', '-n', ns, '--wait=true']);
    await waitFor('the other model children collected', () => !getJson(['deployment', 'other', '-n', ns]));
    expect(getJson(['service', 'api', '-n', ns])).toEqual(before);
  });
});

describe("an object of a child's name that the ScoringModel does not need", () => {
  it("is not deleted, even with the operator's labels (its informers see it): only what it controls goes", async () => {
    const ns = NAMESPACES.unwanted;
    const labels = { 'app.kubernetes.io/managed-by': 'scoring-operator', 'app.kubernetes.io/instance': 'api' };
    const withLabels = (o: Json) => ({ ...o, metadata: { ...o.metadata, labels } });
    for (const which of ['hpa', 'pdb'])
      k(['create', '-f', '-'], JSON.stringify(withLabels(FOREIGN[which]!.object(ns))));
    const before = {
      hpa: getJson(['horizontalpodautoscalers', 'api', '-n', ns])!,
      pdb: getJson(['poddisruptionbudgets', 'api', '-n', ns])!,
    };
    // One replica, no autoscaling: an HPA or a PDB of its own would be deleted in the same reconcile.
    k(['apply', '-f', '-'], scoringModel('api', { model: { uri: 'identity' }, replicas: 1 }, ns));
    await waitFor(
      'its children made and its status written',
      () => condition('api', ns, 'Ready')?.reason === 'Progressing',
    );

    expect(getJson(['horizontalpodautoscalers', 'api', '-n', ns])).toEqual(before.hpa);
    expect(getJson(['poddisruptionbudgets', 'api', '-n', ns])).toEqual(before.pdb);
    expect(operatorWrites('horizontalpodautoscalers', ns, 'api')).toEqual([]);
    expect(operatorWrites('poddisruptionbudgets', ns, 'api')).toEqual([]);
  });
});

describe('a write the API server refuses', () => {
  afterAll(() => {
    kubectl([
      'delete',
      'validatingadmissionpolicybinding,validatingadmissionpolicy',
      REFUSING_POLICY,
      '--ignore-not-found',
    ]);
  });

  it('is counted once answered, with its status code, and said in Ready; the model recovers once it is admitted', async () => {
    const ns = NAMESPACES.refused;
    const refusal = 'Services named refused may not be made here';
    // The API server's own admission (a ValidatingAdmissionPolicy): it refuses the operator's apply of the Service.
    k(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicy',
            metadata: { name: REFUSING_POLICY },
            spec: {
              failurePolicy: 'Fail',
              matchConstraints: {
                resourceRules: [
                  { apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE', 'UPDATE'], resources: ['services'] },
                ],
              },
              validations: [{ expression: "object.metadata.name != 'refused'", message: refusal }],
            },
          },
          {
            apiVersion: 'admissionregistration.k8s.io/v1',
            kind: 'ValidatingAdmissionPolicyBinding',
            metadata: { name: REFUSING_POLICY },
            spec: {
              policyName: REFUSING_POLICY,
              validationActions: ['Deny'],
              matchResources: { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': ns } } },
            },
          },
        ],
      }),
    );
    const refusedByPolicy = () =>
      kubectl([
        'create',
        'service',
        'clusterip',
        'refused',
        '--tcp=80:8080',
        '-n',
        ns,
        '--dry-run=server',
      ]).stderr.includes(refusal);
    await waitFor('the policy in force', refusedByPolicy);

    const series = (result: string) =>
      `scoring_operator_api_writes_total{verb="apply",kind="Service",result="${result}"}`;
    const count = async (result: string) => sampleOf(await metricsOf(op), series(result)) ?? 0;
    const succeeded = await count('success');
    const refusedBefore = await count('422');
    k(['apply', '-f', '-'], scoringModel('refused', { model: { uri: 'identity' } }, ns));

    const ready = await waitFor('Ready=False ApplyFailed', () => {
      const c = condition('refused', ns, 'Ready');
      return c?.reason === 'ApplyFailed' ? c : undefined;
    });
    expect(ready.status).toBe('False');
    expect(ready.message).toContain('applying Service/refused failed');
    expect(ready.message).toContain(refusal);
    // Retried with backoff, each refusal counted with its code, none as a success.
    await waitFor('two refusals counted', async () => (await count('422')) >= refusedBefore + 2);
    expect(await count('success')).toBe(succeeded);
    expect(getJson(['service', 'refused', '-n', ns])).toBeUndefined();
    expect(getJson(['deployment', 'refused', '-n', ns])).toBeDefined();

    k(['delete', 'validatingadmissionpolicybinding', REFUSING_POLICY]);
    await waitFor('the policy lifted', () => !refusedByPolicy());
    await waitFor('the Service made on a retry', () => getJson(['service', 'refused', '-n', ns]), 60_000);
    await waitFor('Ready no longer ApplyFailed', () => condition('refused', ns, 'Ready')?.reason === 'Progressing');
    expect(await count('success')).toBe(succeeded + 1);
    expect(eventsOf('refused', ns).filter((e) => e.startsWith('Warning'))).toEqual(['Warning Ready=ApplyFailed']);
  });
});

describe('spec.image', () => {
  it('outside the allow-list gets ImageNotAllowed and no Deployment; an allowed one is served', async () => {
    const ns = NAMESPACES.image;
    k(['apply', '-f', '-'], scoringModel('custom', { model: { uri: 'identity' }, image: 'evil.example/scorer:1' }, ns));
    const ready = await waitFor('ImageNotAllowed', () => {
      const c = condition('custom', ns, 'Ready');
      return c?.reason === 'ImageNotAllowed' ? c : undefined;
    });
    expect(ready.message).toContain('spec.image evil.example/scorer:1 is not allowed');
    expect(ready.message).toContain('scoring.dev/scorer');
    expect(getJson(['deployment', 'custom', '-n', ns])).toBeUndefined();
    expect(operatorWrites('deployments', ns, 'custom')).toEqual([]);

    k(['patch', 'sm', 'custom', '-n', ns, '--type=merge', '-p', '{"spec": {"image": "scoring.dev/scorer:v2"}}']);
    const d = await waitFor('the Deployment', () => getJson(['deployment', 'custom', '-n', ns]));
    expect(d.spec.template.spec.containers[0].image).toBe('scoring.dev/scorer:v2');
  });
});

describe('disruption', () => {
  it('a model of two replicas or more (or an HPA that may run two) gets a PodDisruptionBudget of one and soft spreading; at one replica the PDB goes', async () => {
    const ns = NAMESPACES.disruption;
    k(['apply', '-f', '-'], scoringModel('pair', { model: { uri: 'identity' }, replicas: 2 }, ns));
    const pdb = await waitFor('the PDB', () => getJson(['pdb', 'pair', '-n', ns]));
    expect(pdb.spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { 'app.kubernetes.io/name': 'scorer', 'app.kubernetes.io/instance': 'pair' } },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    });
    expect(pdb.metadata.ownerReferences).toMatchObject([{ kind: 'ScoringModel', name: 'pair', controller: true }]);
    const d = getJson(['deployment', 'pair', '-n', ns])!;
    // Soft: a preference the scheduler weighs, so that one node (or a cluster without zones) still runs them all.
    expect(d.spec.template.spec.topologySpreadConstraints).toEqual(
      ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map((topologyKey) => ({
        topologyKey,
        maxSkew: 1,
        whenUnsatisfiable: 'ScheduleAnyway',
        labelSelector: { matchLabels: pdb.spec.selector.matchLabels },
        matchLabelKeys: ['pod-template-hash'],
      })),
    );
    k(['scale', 'sm', 'pair', '-n', ns, '--replicas=1']);
    await waitFor('the PDB gone', () => getJson(['pdb', 'pair', '-n', ns]) === undefined);

    // An autoscaled model gets one as soon as its HPA may run two pods, whatever it runs now.
    k(
      ['apply', '-f', '-'],
      scoringModel('scaled', { model: { uri: 'identity' }, autoscaling: { minReplicas: 1, maxReplicas: 2 } }, ns),
    );
    const scaled = await waitFor('the PDB of the autoscaled model', () => getJson(['pdb', 'scaled', '-n', ns]));
    expect(scaled.spec.maxUnavailable).toBe(1);
  });
});

describe('autoscaling', () => {
  it("reports the HPA's own failure: Autoscaling=False with its message, Ready AutoscalingInactive", async () => {
    const ns = NAMESPACES.scaling;
    k(
      ['apply', '-f', '-'],
      scoringModel('scaled', { model: { uri: 'identity' }, autoscaling: { minReplicas: 1, maxReplicas: 3 } }, ns),
    );
    await waitFor('the HPA', () => getJson(['hpa', 'scaled', '-n', ns]));
    await waitFor('Autoscaling=Unknown', () => condition('scaled', ns, 'Autoscaling')?.status === 'Unknown');
    const pod = await waitFor(
      'a scorer pod',
      () => k(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/instance=scaled', '-o', 'name']).split('\n')[0],
    );
    setPodStatus(pod, readyPodStatus(), ns);
    await waitFor('Ready=True', () => condition('scaled', ns, 'Ready')?.reason === 'Available');

    // No HPA controller runs here: the test writes what it writes when the pods have no CPU request.
    const message =
      'the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container scorer of Pod scaled-abc';
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    k([
      'patch',
      'hpa',
      'scaled',
      '-n',
      ns,
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({
        status: {
          currentReplicas: 1,
          desiredReplicas: 1,
          conditions: [
            {
              type: 'AbleToScale',
              status: 'True',
              reason: 'SucceededGetScale',
              message: 'ok',
              lastTransitionTime: now,
            },
            {
              type: 'ScalingActive',
              status: 'False',
              reason: 'FailedGetResourceMetric',
              message,
              lastTransitionTime: now,
            },
          ],
        },
      }),
    ]);
    const scaling = await waitFor('Autoscaling=False', () => {
      const c = condition('scaled', ns, 'Autoscaling');
      return c?.status === 'False' ? c : undefined;
    });
    expect(scaling).toMatchObject({
      reason: 'FailedGetResourceMetric',
      message: `HorizontalPodAutoscaler ${ns}/scaled: ${message}`,
    });
    expect(condition('scaled', ns, 'Ready')).toMatchObject({
      status: 'True',
      reason: 'AutoscalingInactive',
      message: `1/1 replicas ready; autoscaling cannot work: HorizontalPodAutoscaler ${ns}/scaled: ${message}`,
    });
    expect(k(['get', 'sm', 'scaled', '-n', ns])).toMatch(/scaled\s+identity\s+1\/1\s+\S+\s+AutoscalingInactive/);
    await waitFor('the Warning event', () =>
      eventsOf('scaled', ns).includes('Warning Autoscaling=FailedGetResourceMetric'),
    );
  });
});

describe('kubectl explain', () => {
  it('describes the conditions, the allow-list, the PDB and the spreading', () => {
    expect(k(['explain', 'scoringmodel.status.conditions'])).toMatch(/ChildConflict[\s\S]*Stalled/);
    expect(k(['explain', 'scoringmodel.spec.image'])).toMatch(/SCORER_IMAGES/);
    const replicas = k(['explain', 'scoringmodel.spec.replicas']).replace(/\s+/g, ' ');
    expect(replicas).toMatch(/PodDisruptionBudget/);
    expect(replicas).toContain('an autoscaling maxReplicas of two or more');
    expect(replicas).toContain('spread across nodes and zones as a preference');
  });
});

describe('kstatus (sigs.k8s.io/cli-utils), on the object as the API server holds it', () => {
  it('is Current once ready, InProgress while a new model rolls out, Failed when it cannot load', async () => {
    const ns = NAMESPACES.kstatus;
    const verdict = async () => kstatus(sm('rolling', ns)!);
    k(['apply', '-f', '-'], scoringModel('rolling', { model: { uri: 'https://models.example/a.onnx' } }, ns));
    await waitFor('a status', () => sm('rolling', ns)?.status?.observedGeneration === 1);
    expect((await verdict()).status).toBe('InProgress');

    const podsOf = () =>
      k(['get', 'pods', '-n', ns, '-l', 'app.kubernetes.io/instance=rolling', '-o', 'name'])
        .split('\n')
        .filter(Boolean);
    const first = await waitFor('a scorer pod', () => podsOf()[0]);
    setPodStatus(first, readyPodStatus(), ns);
    await waitFor('Available', () => condition('rolling', ns, 'Ready')?.reason === 'Available');
    expect(await verdict()).toMatchObject({ status: 'Current' });

    k([
      'patch',
      'sm',
      'rolling',
      '-n',
      ns,
      '--type=merge',
      '-p',
      '{"spec": {"model": {"uri": "https://models.example/b.onnx"}}}',
    ]);
    await waitFor('the rollout seen', () => {
      const s = sm('rolling', ns)?.status;
      return s?.observedGeneration === 2 && condition('rolling', ns, 'Reconciling')?.status === 'True';
    });
    expect(await verdict()).toMatchObject({ status: 'InProgress' });

    const second = await waitFor('the new pod', () => podsOf().find((p) => p !== first));
    const reason = 'cannot load model https://models.example/b.onnx: HTTP 404 Not Found';
    setPodStatus(second, crashedPodStatus(reason, 2), ns);
    await waitFor('Stalled', () => condition('rolling', ns, 'Stalled')?.status === 'True');
    expect(await verdict()).toEqual({ status: 'Failed', message: reason });
  });
});
