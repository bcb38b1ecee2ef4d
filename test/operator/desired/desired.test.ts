import { model } from '../../helpers/scoringmodel.js';
import { OPERATOR_ONLY_ENV, type ScoringModel, type ScoringModelSpecInput } from '../../../operator/api/v1alpha1.js';
import { desiredDeployment } from '../../../operator/desired/deployment.js';
import { desiredHPA } from '../../../operator/desired/hpa.js';
import { LABELS } from '../../../operator/desired/labels.js';
import { desiredService, serviceURL } from '../../../operator/desired/service.js';

const CONFIG = { scorerImage: 'registry.local/scorer:1' };

const env = (sm: ScoringModel) =>
  Object.fromEntries(
    desiredDeployment(sm, CONFIG).spec!.template.spec!.containers[0]!.env!.map((e) => [e.name, e.value ?? e.valueFrom]),
  );

describe('desiredDeployment', () => {
  const sm = model({ model: { uri: 's3://models/churn/model.json', sha256: 'AB'.repeat(32) } });
  const d = desiredDeployment(sm, CONFIG);
  const pod = d.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('is named after the ScoringModel, labelled, and owned by it as controller', () => {
    expect(d.metadata).toEqual({
      name: 'churn',
      namespace: 'ml',
      labels: {
        'app.kubernetes.io/name': 'scorer',
        'app.kubernetes.io/instance': 'churn',
        'app.kubernetes.io/managed-by': 'scoring-operator',
        'app.kubernetes.io/component': 'model-server',
      },
      ownerReferences: [
        {
          apiVersion: 'scoring.dev/v1alpha1',
          kind: 'ScoringModel',
          name: 'churn',
          uid: 'uid-1',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    });
    expect(d.spec!.selector).toEqual({
      matchLabels: { 'app.kubernetes.io/name': 'scorer', 'app.kubernetes.io/instance': 'churn' },
    });
  });

  it("sets the scorer's env contract from spec.model", () => {
    expect(env(sm)).toEqual({
      MODEL_URI: 's3://models/churn/model.json',
      MODEL_NAME: 'churn',
      MODEL_SHA256: 'ab'.repeat(32),
      PORT: '8080',
      GRPC_PORT: '8081',
      METRICS_PORT: '9090',
      SHUTDOWN_TIMEOUT_MS: '20000',
      WORKERS: '1',
    });
    expect(container.image).toBe('registry.local/scorer:1');
  });

  it('names the HTTP and the gRPC port, which the probes and the Service refer to, and the metrics port', () => {
    expect(container.ports).toEqual([
      { name: 'http', containerPort: 8080, protocol: 'TCP' },
      { name: 'grpc', containerPort: 8081, protocol: 'TCP' },
      { name: 'metrics', containerPort: 9090, protocol: 'TCP' },
    ]);
  });

  it('runs one scorer worker per core of the CPU limit, else of the request, rounded up, at least 1', () => {
    const workers = (resources: ScoringModel['spec']['resources']) =>
      env(model({ model: { uri: 'm.json' }, resources })).WORKERS;
    expect(workers({ requests: { cpu: '100m' } })).toBe('1');
    expect(workers({ requests: { cpu: '2' } })).toBe('2');
    expect(workers({ requests: { cpu: '1500m' } })).toBe('2');
    expect(workers({ requests: { cpu: '1' }, limits: { cpu: '3.5' } })).toBe('4');
    expect(workers({ requests: { cpu: '2' }, limits: { cpu: '2001m' } })).toBe('3');
    expect(workers({ limits: { cpu: '4' } })).toBe('4');
    expect(workers({ requests: { cpu: '1n' } })).toBe('1');
    // Without a CPU figure the scorer reads its cgroup's quota.
    expect(workers({ requests: { memory: '1Gi' } })).toBeUndefined();
  });

  it("leaves WORKERS to spec.env when the user sets it, once in the container's env", () => {
    const mine = model({
      model: { uri: 'm.json' },
      resources: { limits: { cpu: '4' } },
      env: [{ name: 'WORKERS', value: '1' }],
    });
    const names = desiredDeployment(mine, CONFIG).spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(names.filter((n) => n === 'WORKERS')).toHaveLength(1);
    expect(env(mine).WORKERS).toBe('1');
  });

  it('probes the V2 health endpoints: ready only once the model is loaded', () => {
    expect(container.readinessProbe!.httpGet).toEqual({ path: '/v2/health/ready', port: 'http' });
    expect(container.livenessProbe!.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
    expect(container.startupProbe!.httpGet).toEqual({ path: '/v2/health/live', port: 'http' });
  });

  it('rolls out without losing capacity, and drains before stopping', () => {
    expect(d.spec!.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    expect(container.lifecycle!.preStop).toEqual({ sleep: { seconds: 5 } });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(5 + 20);
  });

  it('runs with restricted pod security and a writable /tmp only', () => {
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(container.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('uses the default resources, and the spec replicas without autoscaling', () => {
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } });
    expect(d.spec!.replicas).toBe(1);
  });

  it('leaves spec.replicas out while an HPA owns it', () => {
    const scaled = model({ model: { uri: 'm.onnx' }, replicas: 4, autoscaling: { maxReplicas: 5 } });
    expect(desiredDeployment(scaled, CONFIG).spec).not.toHaveProperty('replicas');
  });

  it('mounts pvc:// models read-only and points MODEL_URI inside the mount', () => {
    const onPVC = model({ model: { uri: 'pvc://models-claim/iris/model.onnx' } });
    const p = desiredDeployment(onPVC, CONFIG).spec!.template.spec!;
    expect(p.volumes).toContainEqual({
      name: 'model',
      persistentVolumeClaim: { claimName: 'models-claim', readOnly: true },
    });
    expect(p.containers[0]!.volumeMounts).toContainEqual({ name: 'model', mountPath: '/models', readOnly: true });
    expect(env(onPVC).MODEL_URI).toBe('/models/iris/model.onnx');
  });

  it('with spec.monitoring, tells the scorer its baseline and minRows, before the extra env', () => {
    const monitored = model({
      model: { uri: 's3://b/m.onnx' },
      env: [{ name: 'MONITOR_WINDOW_SECONDS', value: '300' }],
      monitoring: { baseline: { uri: 'https://data.example/churn/baseline.json', sha256: 'CD'.repeat(32) } },
    });
    const names = desiredDeployment(monitored, CONFIG).spec!.template.spec!.containers[0]!.env!.map((e) => e.name);
    expect(names.slice(-4)).toEqual([
      'MONITOR_BASELINE',
      'MONITOR_BASELINE_SHA256',
      'MONITOR_MIN_ROWS',
      'MONITOR_WINDOW_SECONDS',
    ]);
    expect(env(monitored)).toMatchObject({
      MONITOR_BASELINE: 'https://data.example/churn/baseline.json',
      MONITOR_BASELINE_SHA256: 'cd'.repeat(32),
      MONITOR_MIN_ROWS: '500',
    });
    const unpinned = model({ model: { uri: 'm.onnx' }, monitoring: { baseline: { uri: 'b.json' }, minRows: 50 } });
    expect(env(unpinned)).toMatchObject({ MONITOR_BASELINE: 'b.json', MONITOR_MIN_ROWS: '50' });
    expect(env(unpinned)).not.toHaveProperty('MONITOR_BASELINE_SHA256');
  });

  it('without spec.monitoring, sets no MONITOR_ variable; adding it rolls the scorers out', () => {
    expect(Object.keys(env(sm)).filter((n) => n.startsWith('MONITOR_'))).toEqual([]);
    const monitored = model({ ...sm.spec, monitoring: { baseline: { uri: 'b.json' } } });
    const hash = (s: ScoringModel) =>
      desiredDeployment(s, CONFIG).spec!.template.metadata!.labels![LABELS.templateHash];
    expect(hash(monitored)).not.toBe(hash(sm));
  });

  it('mounts a pvc:// baseline read-only: with the model when on its claim, else at /baseline', () => {
    const volumesOf = (s: ScoringModel) => desiredDeployment(s, CONFIG).spec!.template.spec!;
    const shared = model({
      model: { uri: 'pvc://models/churn/model.onnx' },
      monitoring: { baseline: { uri: 'pvc://models/churn/baseline.json' } },
    });
    expect(volumesOf(shared).volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
      { name: 'model', persistentVolumeClaim: { claimName: 'models', readOnly: true } },
    ]);
    expect(env(shared)).toMatchObject({
      MODEL_URI: '/models/churn/model.onnx',
      MONITOR_BASELINE: '/models/churn/baseline.json',
    });

    const apart = model({
      model: { uri: 'pvc://models/churn/model.onnx' },
      monitoring: { baseline: { uri: 'pvc://training-data/churn/baseline.json' } },
    });
    expect(volumesOf(apart).volumes).toContainEqual({
      name: 'baseline',
      persistentVolumeClaim: { claimName: 'training-data', readOnly: true },
    });
    expect(volumesOf(apart).containers[0]!.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'model', mountPath: '/models', readOnly: true },
      { name: 'baseline', mountPath: '/baseline', readOnly: true },
    ]);
    expect(env(apart).MONITOR_BASELINE).toBe('/baseline/churn/baseline.json');

    const baselineOnly = model({
      model: { uri: 's3://b/m.onnx' },
      monitoring: { baseline: { uri: 'pvc://training-data/churn/baseline.json' } },
    });
    expect(volumesOf(baselineOnly).containers[0]!.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'baseline', mountPath: '/baseline', readOnly: true },
    ]);
  });

  it('takes credentials from the Secret by reference, and extra env after the contract', () => {
    const withCreds = model({
      model: { uri: 's3://b/m.onnx' },
      credentials: { secretRef: { name: 's3-keys' } },
      env: [
        { name: 'S3_ENDPOINT', value: 'http://minio:9000' },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 't' } } },
      ],
      image: 'mine/scorer:2',
      nodeSelector: { pool: 'cpu' },
      tolerations: [{ key: 'ml', operator: 'Exists', effect: 'NoSchedule' }],
      serviceAccountName: 'reader',
    });
    const p = desiredDeployment(withCreds, CONFIG).spec!.template.spec!;
    const c = p.containers[0]!;
    expect(c.envFrom).toEqual([{ secretRef: { name: 's3-keys' } }]);
    expect(c.env!.slice(-2)).toEqual([
      { name: 'S3_ENDPOINT', value: 'http://minio:9000' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 't' } } },
    ]);
    expect(c.image).toBe('mine/scorer:2');
    expect(p).toMatchObject({
      nodeSelector: { pool: 'cpu' },
      tolerations: [{ key: 'ml', operator: 'Exists', effect: 'NoSchedule' }],
      serviceAccountName: 'reader',
    });
  });

  it("sets every name spec.env may not set, empty where it has no value, so that no key of the credentials' Secret does", () => {
    const withCreds = model({
      model: { uri: 's3://b/m.onnx' },
      credentials: { secretRef: { name: 's3-keys' } },
      env: [{ name: 'S3_ENDPOINT', value: 'http://minio:9000' }],
    });
    const c = desiredDeployment(withCreds, { ...CONFIG, routingUrl: 'http://routing.scoring-system.svc:8082' }).spec!
      .template.spec!.containers[0]!;
    expect(c.envFrom).toEqual([{ secretRef: { name: 's3-keys' } }]);
    const names = c.env!.map((e) => e.name);
    // Each once: an explicit entry wins over envFrom, and a name twice is refused by server-side apply.
    expect(names).toEqual([...new Set(names)]);
    expect(names).toEqual(expect.arrayContaining([...OPERATOR_ONLY_ENV]));
    expect(OPERATOR_ONLY_ENV).toEqual(
      expect.arrayContaining([
        'NODE_OPTIONS',
        'LD_PRELOAD',
        'LD_LIBRARY_PATH',
        'ROUTING_URL',
        'HOST',
        'TERMINATION_LOG',
        'MODEL_FORMAT',
        'MODEL_SHA256',
      ]),
    );
    const byName = new Map(c.env!.map((e) => [e.name, e]));
    // Set empty without `value`: the API server drops an empty value, and what it stores must match what is applied.
    for (const name of [
      'NODE_OPTIONS',
      'LD_PRELOAD',
      'LD_AUDIT',
      'LD_LIBRARY_PATH',
      'HOST',
      'TERMINATION_LOG',
      'MODEL_FORMAT',
      'MODEL_SHA256',
      'MONITOR_BASELINE',
    ]) {
      expect(byName.get(name)).toEqual({ name });
    }
    expect(byName.get('ROUTING_URL')!.value).toBe(
      'http://routing.scoring-system.svc:8082/routing/v1/ml/churn?uid=uid-1',
    );
    expect(byName.get('MODEL_URI')!.value).toBe('s3://b/m.onnx');
    expect(c.env!.at(-1)).toEqual({ name: 'S3_ENDPOINT', value: 'http://minio:9000' });
    // Without routing configured, ROUTING_URL is set empty too.
    const unrouted = desiredDeployment(withCreds, CONFIG).spec!.template.spec!.containers[0]!.env!;
    expect(unrouted.find((e) => e.name === 'ROUTING_URL')).toEqual({ name: 'ROUTING_URL' });
  });

  it('without a Secret loaded whole, sets only the names it has values for (templates stay as they were)', () => {
    expect(container.envFrom).toBeUndefined();
    expect(container.env!.every((e) => e.value !== undefined)).toBe(true);
  });

  it('labels the template with a digest that changes with the pod spec only', () => {
    const hash = (s: ScoringModel) =>
      desiredDeployment(s, CONFIG).spec!.template.metadata!.labels![LABELS.templateHash];
    const a = model({ model: { uri: 'a.onnx' }, replicas: 1 });
    expect(hash(a)).toBe(hash(model({ model: { uri: 'a.onnx' }, replicas: 7 })));
    expect(hash(a)).not.toBe(hash(model({ model: { uri: 'b.onnx' } })));
    expect(hash(a)).toMatch(/^[0-9a-f]{10}$/);
  });

  it('is a new revision (a rollout, with spec.rollout) for a new model uri, format, sha256, image, env or resources', () => {
    const hash = (s: ScoringModel) =>
      desiredDeployment(s, CONFIG).spec!.template.metadata!.labels![LABELS.templateHash];
    const base: ScoringModelSpecInput = {
      model: { uri: 'a.onnx' },
      rollout: { strategy: 'Shadow', shadow: { percent: 100 } },
    };
    const a = model(base);
    const changes: Record<string, ScoringModelSpecInput> = {
      uri: { ...base, model: { uri: 'b.onnx' } },
      format: { ...base, model: { uri: 'a.onnx', format: 'onnx' } },
      sha256: { ...base, model: { uri: 'a.onnx', sha256: 'ab'.repeat(32) } },
      image: { ...base, image: 'registry.local/scorer:2' },
      env: { ...base, env: [{ name: 'LOG_LEVEL', value: 'debug' }] },
      resources: { ...base, resources: { requests: { cpu: '2' } } },
    };
    for (const [what, spec] of Object.entries(changes)) {
      expect([what, hash(model(spec))]).not.toEqual([what, hash(a)]);
    }
    // Neither the replica count nor the rollout plan is part of the template: editing the plan starts nothing.
    expect(hash(model({ ...base, replicas: 3 }))).toBe(hash(a));
    expect(hash(model({ ...base, rollout: { strategy: 'Canary', steps: [{ weight: 10 }] } }))).toBe(hash(a));
    expect(hash(model({ model: base.model }))).toBe(hash(a));
  });

  it('is deterministic', () => {
    expect(desiredDeployment(sm, CONFIG)).toEqual(desiredDeployment(sm, CONFIG));
  });
});

describe('desiredService', () => {
  it('selects the scorer pods on the named ports: HTTP on spec.service.port, gRPC on 8081, never metrics', () => {
    const s = desiredService(model({ model: { uri: 'm.onnx' }, service: { type: 'NodePort', port: 9000 } }));
    expect(s.spec).toEqual({
      type: 'NodePort',
      selector: { 'app.kubernetes.io/name': 'scorer', 'app.kubernetes.io/instance': 'churn' },
      ports: [
        { name: 'http', port: 9000, targetPort: 'http', protocol: 'TCP' },
        { name: 'grpc', port: 8081, targetPort: 'grpc', protocol: 'TCP', appProtocol: 'grpc' },
      ],
    });
  });

  it('gives the in-cluster URL, with the port only when it is not 80', () => {
    expect(serviceURL(model({ model: { uri: 'm.onnx' } }))).toBe('http://churn.ml.svc.cluster.local');
    expect(serviceURL(model({ model: { uri: 'm.onnx' }, service: { port: 8080 } }))).toBe(
      'http://churn.ml.svc.cluster.local:8080',
    );
  });
});

describe('desiredHPA', () => {
  it('exists only with autoscaling, targeting the Deployment on CPU utilisation', () => {
    expect(desiredHPA(model({ model: { uri: 'm.onnx' } }))).toBeUndefined();
    const hpa = desiredHPA(model({ model: { uri: 'm.onnx' }, autoscaling: { maxReplicas: 5 } }))!;
    expect(hpa.apiVersion).toBe('autoscaling/v2');
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'churn' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } },
      ],
    });
  });
});
