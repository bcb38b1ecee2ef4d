/**
 * Specs Kubernetes would refuse in a ScoringModel's children, each with what `kubectl apply` says (the CRD's rules,
 * test/cluster/validation.test.ts) and what parseSpec says (operator/api/crd.test.ts); and rich valid specs both
 * must admit. One table for both, so that the CEL rules and their TypeScript twins are held to the same cases.
 */
export interface RefusedSpec {
  what: string;
  spec: Record<string, unknown>;
  /** In kubectl's stderr. */
  kubectl: string;
  /** In parseSpec's message (zod writes a map key as `.key`, kubectl as `[key]`). */
  parseSpec: string;
  /**
   * What the API server says of the Deployment the operator would make of the spec, when it refuses that (the rule
   * is Kubernetes' own); absent when the refusal is ours: schema, names the Service needs, an HPA that could never
   * scale, resources the scorer cannot use, what a pod (not its Deployment) refuses.
   */
  deployment?: string;
}

const model = { uri: 'm.onnx' };
const LABEL_KEY = "is not a label key (an optional DNS subdomain prefix (at most 253 characters) and '/'";
const CPU = 'autoscaling needs a CPU request above 0, as it keeps CPU utilisation at a percentage of it';
const BASELINE_URI = 'must be s3://bucket/key, http(s)://..., file:///path, a path or pvc://CLAIM/path';

export const REFUSED: RefusedSpec[] = [
  {
    what: 'a URI of no known scheme',
    spec: { model: { uri: 'ftp://host/m.onnx' } },
    kubectl: 'spec.model.uri: Invalid value: "string": must be s3://bucket/key',
    parseSpec: 'spec.model.uri: must be s3://bucket/key',
  },
  {
    what: 'more minReplicas than maxReplicas',
    spec: { model, autoscaling: { minReplicas: 5, maxReplicas: 2 } },
    kubectl:
      'spec.autoscaling.minReplicas: Invalid value: "object": autoscaling.minReplicas must be less than or equal',
    parseSpec: 'spec.autoscaling.minReplicas: autoscaling.minReplicas must be less than or equal',
  },
  {
    what: 'negative replicas',
    spec: { model, replicas: -1 },
    kubectl: 'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 0',
    parseSpec: 'spec.replicas: ',
    deployment: 'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
  },
  {
    what: 'an unknown format',
    spec: { model: { ...model, format: 'pickle' } },
    kubectl: 'spec.model.format: Unsupported value: "pickle"',
    parseSpec: 'spec.model.format: ',
  },
  {
    what: "the Service's HTTP port on its gRPC port",
    spec: { model, service: { port: 8081 } },
    kubectl: 'spec.service.port: Invalid value: "integer": must not be 8081: the Service\'s gRPC port is 8081',
    parseSpec: "spec.service.port: must not be 8081: the Service's gRPC port is 8081",
  },
  {
    what: 'no model',
    spec: { replicas: 1 },
    kubectl: 'spec.model: Required value',
    parseSpec: 'spec.model: ',
  },
  {
    what: 'env vars the operator sets',
    spec: {
      model,
      env: [
        { name: 'S3_ENDPOINT', value: 'http://minio' },
        { name: 'PORT', value: '1' },
        { name: 'MODEL_URI', value: 'x' },
      ],
    },
    kubectl: 'spec.env: Invalid value: "array": may not set PORT: they come from spec.model and the operator',
    parseSpec: 'spec.env: may not set PORT: they come from spec.model and the operator',
  },
  {
    what: "NODE_OPTIONS, which would run code of the author's choosing in an allowed image",
    spec: { model, env: [{ name: 'NODE_OPTIONS', value: '--import=data:text/javascript,process.exit(3)' }] },
    kubectl:
      'spec.env: Invalid value: "array": may not set NODE_OPTIONS: it would run code of your choosing in the scorer image, past the image allow-list',
    parseSpec:
      'spec.env: may not set NODE_OPTIONS: it would run code of your choosing in the scorer image, past the image allow-list',
  },
  {
    what: "LD_PRELOAD, which would load a shared object of the author's choosing in an allowed image",
    spec: {
      model,
      env: [
        { name: 'A', value: 'x' },
        { name: 'LD_PRELOAD', value: '/tmp/evil.so' },
      ],
    },
    kubectl:
      'spec.env: Invalid value: "array": may not set LD_PRELOAD: it would run code of your choosing in the scorer image, past the image allow-list',
    parseSpec:
      'spec.env: may not set LD_PRELOAD: it would run code of your choosing in the scorer image, past the image allow-list',
  },
  {
    what: 'an env var with a value and a valueFrom',
    spec: { model, env: [{ name: 'A', value: 'x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] },
    kubectl: 'spec.env[0].valueFrom: Forbidden: may not be given with a non-empty value',
    parseSpec: 'spec.env[0].valueFrom: may not be given with a non-empty value',
    deployment: 'valueFrom: Invalid value: "": may not be specified when `value` is not empty',
  },
  {
    what: 'a Secret key that is no key of a Secret',
    spec: { model, env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: '..k' } } }] },
    kubectl: 'spec.env[0].valueFrom.secretKeyRef.key: Invalid value: "..k"',
    parseSpec: 'spec.env[0].valueFrom.secretKeyRef.key: ',
    deployment: 'valueFrom.secretKeyRef.key: Invalid value: "..k": must not start with \'..\'',
  },
  {
    what: 'a toleration with operator Exists and a value',
    spec: { model, tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] },
    kubectl: 'spec.tolerations[0].value: Invalid value: "object": must be empty when operator is Exists',
    parseSpec: 'spec.tolerations[0].value: must be empty when operator is Exists',
    deployment:
      'spec.template.spec.tolerations[0].operator: Invalid value: "v": value must be empty when `operator` is \'Exists\'',
  },
  {
    what: 'a toleration with no key and operator Equal',
    spec: { model, tolerations: [{ operator: 'Equal', value: 'v' }] },
    kubectl: 'spec.tolerations[0].operator: Invalid value: "object": must be Exists when key is empty',
    parseSpec: 'spec.tolerations[0].operator: must be Exists when key is empty',
    deployment:
      'spec.template.spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty',
  },
  {
    what: 'a toleration with no key and no operator (so Equal)',
    spec: { model, tolerations: [{ effect: 'NoSchedule' }] },
    kubectl: 'spec.tolerations[0].operator: Invalid value: "object": must be Exists when key is empty',
    parseSpec: 'spec.tolerations[0].operator: must be Exists when key is empty',
    deployment:
      'spec.template.spec.tolerations[0].operator: Invalid value: "": operator must be Exists when `key` is empty',
  },
  {
    what: 'tolerationSeconds without effect NoExecute',
    spec: { model, tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 60 }] },
    kubectl: 'spec.tolerations[0].effect: Invalid value: "object": must be NoExecute when tolerationSeconds is set',
    parseSpec: 'spec.tolerations[0].effect: must be NoExecute when tolerationSeconds is set',
    deployment:
      'spec.template.spec.tolerations[0].effect: Invalid value: "NoSchedule": effect must be \'NoExecute\' when `tolerationSeconds` is set',
  },
  {
    what: 'a toleration key that is no label key',
    spec: { model, tolerations: [{ key: 'dedicated team', operator: 'Exists' }] },
    kubectl: 'spec.tolerations[0].key: Invalid value: "object": must be a label key',
    parseSpec: 'spec.tolerations[0].key: must be a label key',
    deployment: 'spec.template.spec.tolerations[0].key: Invalid value: "dedicated team": name part must consist of',
  },
  {
    what: 'a toleration value that is no label value',
    spec: { model, tolerations: [{ key: 'k', value: 'a/b' }] },
    kubectl: 'spec.tolerations[0].value: Invalid value: "string": must be a label value',
    parseSpec: 'spec.tolerations[0].value: must be a label value',
    deployment: 'spec.template.spec.tolerations[0].operator: Invalid value: "a/b": a valid label must be',
  },
  {
    what: 'a nodeSelector key that is no label key',
    spec: { model, nodeSelector: { 'disk type': 'ssd', 'kubernetes.io/os': 'linux' } },
    kubectl: `spec.nodeSelector: Invalid value: "object": "disk type" ${LABEL_KEY}`,
    parseSpec: `spec.nodeSelector: "disk type" ${LABEL_KEY}`,
    deployment: 'spec.template.spec.nodeSelector: Invalid value: "disk type": name part must consist of',
  },
  {
    what: 'a nodeSelector key whose name is 64 characters',
    spec: { model, nodeSelector: { [`example.com/${'n'.repeat(64)}`]: 'v' } },
    kubectl: `spec.nodeSelector: Invalid value: "object": "example.com/${'n'.repeat(64)}" ${LABEL_KEY}`,
    parseSpec: `spec.nodeSelector: "example.com/${'n'.repeat(64)}" ${LABEL_KEY}`,
    deployment: 'name part must be no more than 63 characters',
  },
  {
    what: 'a nodeSelector key whose prefix is 254 characters',
    spec: { model, nodeSelector: { [`${'p'.repeat(254)}/n`]: 'v' } },
    kubectl: `spec.nodeSelector: Invalid value: "object": "${'p'.repeat(254)}/n" ${LABEL_KEY}`,
    parseSpec: `spec.nodeSelector: "${'p'.repeat(254)}/n" ${LABEL_KEY}`,
    deployment: 'prefix part must be no more than 253 characters',
  },
  {
    what: 'a nodeSelector value that is no label value',
    spec: { model, nodeSelector: { disktype: 'fast ssd' } },
    kubectl: 'spec.nodeSelector[disktype]: Invalid value: "string": must be a label value',
    parseSpec: 'spec.nodeSelector.disktype: must be a label value',
    deployment: 'spec.template.spec.nodeSelector: Invalid value: "fast ssd": a valid label must be',
  },
  {
    what: 'a negative request',
    spec: { model, resources: { requests: { cpu: '-100m' } } },
    kubectl: 'spec.resources.requests[cpu]: Invalid value: "": must not be negative',
    parseSpec: 'spec.resources.requests.cpu: must not be negative',
    deployment:
      'spec.template.spec.containers[0].resources.requests[cpu]: Invalid value: "-100m": must be greater than or equal to 0',
  },
  {
    what: 'a negative integer limit',
    spec: { model, resources: { limits: { memory: -1 } } },
    kubectl: 'spec.resources.limits[memory]: Invalid value: "": must not be negative',
    parseSpec: 'spec.resources.limits.memory: must not be negative',
    deployment:
      'spec.template.spec.containers[0].resources.limits[memory]: Invalid value: "-1": must be greater than or equal to 0',
  },
  {
    what: 'a request above its limit',
    spec: { model, resources: { requests: { cpu: '2', memory: '2Gi' }, limits: { cpu: '2000m', memory: '1Gi' } } },
    kubectl: 'spec.resources.requests: Invalid value: "object": memory request 2Gi is above its limit 1Gi',
    parseSpec: 'spec.resources.requests: memory request 2Gi is above its limit 1Gi',
    deployment:
      'spec.template.spec.containers[0].resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
  },
  {
    what: 'a resource the scorer cannot use',
    spec: { model, resources: { limits: { 'nvidia.com/gpu': 1, memory: '1Gi' } } },
    kubectl:
      'spec.resources.limits: Invalid value: "object": may name only cpu, memory, ephemeral-storage, not "nvidia.com/gpu"',
    parseSpec: 'spec.resources.limits: may name only cpu, memory, ephemeral-storage, not "nvidia.com/gpu"',
  },
  {
    what: 'autoscaling with resources that have no CPU (giving resources replaces the default request)',
    spec: { model, autoscaling: { maxReplicas: 3 }, resources: { limits: { memory: '256Mi' } } },
    kubectl: `spec.resources.requests[cpu]: Required value: ${CPU}`,
    parseSpec: `spec.resources.requests.cpu: ${CPU}`,
  },
  {
    what: 'autoscaling with a CPU request of 0',
    spec: { model, autoscaling: { maxReplicas: 3 }, resources: { requests: { cpu: 0 }, limits: { cpu: 1 } } },
    kubectl: `spec.resources.requests[cpu]: Required value: ${CPU}`,
    parseSpec: `spec.resources.requests.cpu: ${CPU}`,
  },
  {
    what: 'a baseline URI of no known scheme',
    spec: { model, monitoring: { baseline: { uri: 'ftp://host/baseline.json' } } },
    kubectl: `spec.monitoring.baseline.uri: Invalid value: "string": ${BASELINE_URI}`,
    parseSpec: `spec.monitoring.baseline.uri: ${BASELINE_URI}`,
  },
  {
    what: 'identity as a baseline (it is a model, not a file)',
    spec: { model, monitoring: { baseline: { uri: 'identity' } } },
    kubectl: `spec.monitoring.baseline.uri: Invalid value: "string": ${BASELINE_URI}`,
    parseSpec: `spec.monitoring.baseline.uri: ${BASELINE_URI}`,
  },
  {
    what: 'monitoring without a baseline',
    spec: { model, monitoring: { threshold: 0.1 } },
    kubectl: 'spec.monitoring.baseline: Required value',
    parseSpec: 'spec.monitoring.baseline: ',
  },
  {
    what: 'a baseline digest that is not 64 hex digits',
    spec: { model, monitoring: { baseline: { uri: 'b.json', sha256: 'abc' } } },
    kubectl: 'spec.monitoring.baseline.sha256: Invalid value: "abc"',
    parseSpec: 'spec.monitoring.baseline.sha256: ',
  },
  {
    what: 'a drift threshold of 0',
    spec: { model, monitoring: { baseline: { uri: 'b.json' }, threshold: 0 } },
    kubectl: 'spec.monitoring.threshold: Invalid value: "number": must be above 0',
    parseSpec: 'spec.monitoring.threshold: must be above 0',
  },
  {
    what: 'a drift judgment more often than every 10 s',
    spec: { model, monitoring: { baseline: { uri: 'b.json' }, intervalSeconds: 5 } },
    kubectl:
      'spec.monitoring.intervalSeconds: Invalid value: 5: spec.monitoring.intervalSeconds in body should be greater than or equal to 10',
    parseSpec: 'spec.monitoring.intervalSeconds: ',
  },
  {
    what: 'a minRows of 0',
    spec: { model, monitoring: { baseline: { uri: 'b.json' }, minRows: 0 } },
    kubectl:
      'spec.monitoring.minRows: Invalid value: 0: spec.monitoring.minRows in body should be greater than or equal to 1',
    parseSpec: 'spec.monitoring.minRows: ',
  },
  {
    what: 'env vars the operator sets from spec.monitoring',
    spec: { model, env: [{ name: 'MONITOR_BASELINE', value: 'b.json' }] },
    kubectl:
      'spec.env: Invalid value: "array": may not set MONITOR_BASELINE: they come from spec.model and the operator',
    parseSpec: 'spec.env: may not set MONITOR_BASELINE: they come from spec.model and the operator',
  },
  {
    what: "ROUTING_URL, which would point the stable scorers at another routing endpoint than the operator's",
    spec: { model, env: [{ name: 'ROUTING_URL', value: 'http://my-pod.shop.svc:8082' }] },
    kubectl: 'spec.env: Invalid value: "array": may not set ROUTING_URL: they come from spec.model and the operator',
    parseSpec: 'spec.env: may not set ROUTING_URL: they come from spec.model and the operator',
  },
  {
    what: 'an image with whitespace',
    spec: { model, image: 'scorer :1' },
    kubectl: 'spec.image: Invalid value: "scorer :1"',
    parseSpec: 'spec.image: ',
  },
  {
    what: 'a Shadow rollout without shadow',
    spec: { model, rollout: { strategy: 'Shadow' } },
    kubectl: 'spec.rollout.shadow: Required value: strategy Shadow needs shadow',
    parseSpec: 'spec.rollout.shadow: strategy Shadow needs shadow',
  },
  {
    what: 'a Shadow rollout with steps',
    spec: { model, rollout: { strategy: 'Shadow', shadow: {}, steps: [{ weight: 10 }] } },
    kubectl: 'spec.rollout.steps: Forbidden: may not be given with strategy Shadow',
    parseSpec: 'spec.rollout.steps: may not be given with strategy Shadow',
  },
  {
    what: 'a Canary rollout without steps',
    spec: { model, rollout: { strategy: 'Canary', shadow: { percent: 50 } } },
    kubectl: 'spec.rollout.steps: Required value: strategy Canary needs steps',
    parseSpec: 'spec.rollout.steps: strategy Canary needs steps',
  },
  {
    what: 'a Canary rollout with no step in its list',
    spec: { model, rollout: { strategy: 'Canary', steps: [] } },
    kubectl: 'spec.rollout.steps: Invalid value: 0: spec.rollout.steps in body should have at least 1 items',
    parseSpec: 'spec.rollout.steps: ',
  },
  {
    what: 'more than 10 steps',
    spec: { model, rollout: { strategy: 'Canary', steps: [...Array(11).keys()].map((i) => ({ weight: i + 1 })) } },
    kubectl: 'spec.rollout.steps: Too many: 11: must have at most 10 items',
    parseSpec: 'spec.rollout.steps: ',
  },
  {
    what: 'weights that go down',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }, { weight: 50 }, { weight: 30 }] } },
    kubectl: 'spec.rollout.steps: Invalid value: "array": weights must increase strictly from one step to the next',
    parseSpec: 'spec.rollout.steps: weights must increase strictly from one step to the next',
  },
  {
    what: 'two steps of the same weight',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }, { weight: 10 }] } },
    kubectl: 'spec.rollout.steps: Invalid value: "array": weights must increase strictly from one step to the next',
    parseSpec: 'spec.rollout.steps: weights must increase strictly from one step to the next',
  },
  {
    what: 'a step of weight 100 (promotion is no step)',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 50 }, { weight: 100 }] } },
    kubectl:
      'spec.rollout.steps[1].weight: Invalid value: 100: spec.rollout.steps[1].weight in body should be less than or equal to 99',
    parseSpec: 'spec.rollout.steps[1].weight: ',
  },
  {
    what: 'a step of weight 0',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 0 }] } },
    kubectl:
      'spec.rollout.steps[0].weight: Invalid value: 0: spec.rollout.steps[0].weight in body should be greater than or equal to 1',
    parseSpec: 'spec.rollout.steps[0].weight: ',
  },
  {
    what: 'a step paused longer than a day',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10, pauseSeconds: 86_401 }] } },
    kubectl:
      'spec.rollout.steps[0].pauseSeconds: Invalid value: 86401: spec.rollout.steps[0].pauseSeconds in body should be less than or equal to 86400',
    parseSpec: 'spec.rollout.steps[0].pauseSeconds: ',
  },
  {
    what: 'a shadow of 0 percent',
    spec: { model, rollout: { strategy: 'Shadow', shadow: { percent: 0 } } },
    kubectl:
      'spec.rollout.shadow.percent: Invalid value: 0: spec.rollout.shadow.percent in body should be greater than or equal to 1',
    parseSpec: 'spec.rollout.shadow.percent: ',
  },
  {
    what: 'a negative shadow pause',
    spec: { model, rollout: { strategy: 'Shadow', shadow: { pauseSeconds: -1 } } },
    kubectl:
      'spec.rollout.shadow.pauseSeconds: Invalid value: -1: spec.rollout.shadow.pauseSeconds in body should be greater than or equal to 0',
    parseSpec: 'spec.rollout.shadow.pauseSeconds: ',
  },
  {
    what: 'a strategy of no known kind',
    spec: { model, rollout: { strategy: 'BlueGreen', steps: [{ weight: 10 }] } },
    kubectl: 'spec.rollout.strategy: Unsupported value: "BlueGreen"',
    parseSpec: 'spec.rollout.strategy: ',
  },
  {
    what: 'a rollout without a strategy',
    spec: { model, rollout: { steps: [{ weight: 10 }] } },
    kubectl: 'spec.rollout.strategy: Required value',
    parseSpec: 'spec.rollout.strategy: ',
  },
  {
    what: 'a minRequests of 0',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }], analysis: { minRequests: 0 } } },
    kubectl:
      'spec.rollout.analysis.minRequests: Invalid value: 0: spec.rollout.analysis.minRequests in body should be greater than or equal to 1',
    parseSpec: 'spec.rollout.analysis.minRequests: ',
  },
  {
    what: 'an error rate increase above 1',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }], analysis: { maxErrorRateIncrease: 1.5 } } },
    kubectl:
      'spec.rollout.analysis.maxErrorRateIncrease: Invalid value: 1.5: spec.rollout.analysis.maxErrorRateIncrease in body should be less than or equal to 1',
    parseSpec: 'spec.rollout.analysis.maxErrorRateIncrease: ',
  },
  {
    what: 'a p99 limit of 0 ms',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }], analysis: { maxP99Ms: 0 } } },
    kubectl: 'spec.rollout.analysis.maxP99Ms: Invalid value: "number": must be above 0',
    parseSpec: 'spec.rollout.analysis.maxP99Ms: must be above 0',
  },
  {
    what: 'a negative p99 ratio',
    spec: { model, rollout: { strategy: 'Canary', steps: [{ weight: 10 }], analysis: { maxP99Ratio: -1 } } },
    kubectl: 'spec.rollout.analysis.maxP99Ratio: Invalid value: "number": must be above 0',
    parseSpec: 'spec.rollout.analysis.maxP99Ratio: must be above 0',
  },
  {
    what: 'an agreement share above 1',
    spec: { model, rollout: { strategy: 'Shadow', shadow: {}, analysis: { agreement: { minShare: 1.01 } } } },
    kubectl:
      'spec.rollout.analysis.agreement.minShare: Invalid value: 1.01: spec.rollout.analysis.agreement.minShare in body should be less than or equal to 1',
    parseSpec: 'spec.rollout.analysis.agreement.minShare: ',
  },
  {
    what: 'a negative agreement tolerance',
    spec: { model, rollout: { strategy: 'Shadow', shadow: {}, analysis: { agreement: { tolerance: -1e-6 } } } },
    kubectl:
      'spec.rollout.analysis.agreement.tolerance: Invalid value: -1e-06: spec.rollout.analysis.agreement.tolerance in body should be greater than or equal to 0',
    parseSpec: 'spec.rollout.analysis.agreement.tolerance: ',
  },
  {
    what: 'a negative mean absolute difference',
    spec: { model, rollout: { strategy: 'Shadow', shadow: {}, analysis: { agreement: { maxMeanAbsDiff: -0.1 } } } },
    kubectl:
      'spec.rollout.analysis.agreement.maxMeanAbsDiff: Invalid value: -0.1: spec.rollout.analysis.agreement.maxMeanAbsDiff in body should be greater than or equal to 0',
    parseSpec: 'spec.rollout.analysis.agreement.maxMeanAbsDiff: ',
  },
];

/** Valid specs near every rule's edge, and the ones the other suites apply. */
export const ADMITTED: [string, Record<string, unknown>][] = [
  [
    'env from values, Secrets and ConfigMaps, and an empty value beside valueFrom (Kubernetes takes it)',
    {
      model,
      env: [
        { name: 'A', value: 'x' },
        { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'aws.key-id_1' } } },
        { name: 'C', value: '', valueFrom: { configMapKeyRef: { name: 'c', key: '.hidden', optional: true } } },
      ],
    },
  ],
  [
    'tolerations of every kind Kubernetes takes',
    {
      model,
      tolerations: [
        { operator: 'Exists' },
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'dedicated', value: 'ml-team_1', effect: 'NoSchedule' },
        { key: 'example.com/gpu', operator: 'Equal', value: '' },
      ],
    },
  ],
  [
    'label keys with and without prefix, at their longest, and empty label values',
    {
      model,
      nodeSelector: {
        'kubernetes.io/os': 'linux',
        'topology.kubernetes.io/zone': 'eu-west-1a',
        [`${'p'.repeat(253)}/${'n'.repeat(63)}`]: 'v'.repeat(63),
        gpu: '',
      },
    },
  ],
  [
    'requests equal to their limits, written differently',
    { model, resources: { requests: { cpu: '0.5', memory: '1Gi' }, limits: { cpu: '500m', memory: '1024Mi' } } },
  ],
  [
    'ephemeral-storage and integer quantities',
    { model, resources: { requests: { cpu: 1, 'ephemeral-storage': '1Gi' } } },
  ],
  [
    'autoscaling with a CPU limit only (the request defaults to it)',
    { model, autoscaling: { maxReplicas: 3 }, resources: { limits: { cpu: 1 } } },
  ],
  ['autoscaling with the default resources', { model, autoscaling: { minReplicas: 2, maxReplicas: 6 } }],
  [
    "the cluster suite's update (resources without a memory request)",
    {
      model: { uri: 'https://models.example.com/iris-v2.onnx' },
      replicas: 3,
      resources: { requests: { cpu: '200m' }, limits: { memory: '300Mi' } },
    },
  ],
  [
    "the cluster suite's canonicalised quantities",
    {
      model: { uri: 'identity' },
      resources: { requests: { cpu: '0.5', memory: '1024Mi' }, limits: { memory: '1024Mi' } },
    },
  ],
  [
    "the e2e suite's autoscaled XGBoost model",
    {
      model: { uri: 'http://models.e2e.svc/xgb.json', sha256: 'a'.repeat(64) },
      env: [{ name: 'PREDICT_THREAD', value: 'true' }],
      autoscaling: { minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 70 },
      resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    },
  ],
  ['drift monitoring with the defaults', { model, monitoring: { baseline: { uri: 's3://b/churn/baseline.json' } } }],
  [
    "drift monitoring at every rule's edge, its baseline on another claim than the model's, a window set by env",
    {
      model: { uri: 'pvc://models/churn/model.onnx' },
      env: [{ name: 'MONITOR_WINDOW_SECONDS', value: '300' }],
      monitoring: {
        baseline: { uri: 'pvc://baselines/churn/baseline.json', sha256: 'C'.repeat(64) },
        threshold: 0.0001,
        minRows: 1,
        intervalSeconds: 10,
      },
    },
  ],
  [
    "drift monitoring of a baseline on the model's claim",
    {
      model: { uri: 'pvc://models/churn/model.onnx' },
      monitoring: { baseline: { uri: 'pvc://models/churn/baseline.json' } },
    },
  ],
  [
    'everything at once',
    {
      model: { uri: 'pvc://models/fraud/model.onnx', format: 'onnx' },
      replicas: 0,
      image: 'registry.example.com/scorer@sha256:' + 'b'.repeat(64),
      credentials: { secretRef: { name: 's3-credentials' } },
      service: { type: 'NodePort', port: 8080 },
      serviceAccountName: 'scorer',
      resources: {
        requests: { cpu: '250m', memory: '512Mi', 'ephemeral-storage': '100Mi' },
        limits: { cpu: '1', memory: '1Gi' },
      },
    },
  ],
  ['a Shadow rollout with the defaults', { model, rollout: { strategy: 'Shadow', shadow: {} } }],
  [
    "a Canary rollout at every bound's edge, a shadow step first",
    {
      model,
      rollout: {
        strategy: 'Canary',
        shadow: { percent: 1, pauseSeconds: 0 },
        steps: [1, 2, 5, 10, 20, 30, 50, 70, 90, 99].map((weight, i) => ({
          weight,
          pauseSeconds: i === 0 ? 0 : 86_400,
        })),
        analysis: {
          minRequests: 1_000_000_000,
          maxErrorRateIncrease: 0,
          maxP99Ms: 0.001,
          maxP99Ratio: 0.5,
          agreement: { tolerance: 0, minShare: 1, maxMeanAbsDiff: 0 },
        },
        autoPromote: false,
      },
    },
  ],
  [
    'a one-step Canary rollout that tolerates everything',
    {
      model,
      rollout: {
        strategy: 'Canary',
        steps: [{ weight: 99 }],
        analysis: { minRequests: 1, maxErrorRateIncrease: 1, agreement: { minShare: 0 } },
      },
    },
  ],
];
