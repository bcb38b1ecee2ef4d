import type { V1Service } from '@kubernetes/client-node';
import type { ScoringModel } from '../api/v1alpha1.js';
import { SCORER_GRPC_PORT } from '../../contract/env.js';
import { GRPC_PORT_NAME, HTTP_PORT_NAME } from './deployment.js';
import { objectMeta, selectorLabels } from './labels.js';

export function desiredService(sm: ScoringModel): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: objectMeta(sm),
    spec: {
      type: sm.spec.service.type,
      selector: selectorLabels(sm),
      ports: [
        { name: HTTP_PORT_NAME, port: sm.spec.service.port, targetPort: HTTP_PORT_NAME, protocol: 'TCP' },
        // The Open Inference Protocol's gRPC form; appProtocol tells meshes and gateways to speak HTTP/2 to it.
        {
          name: GRPC_PORT_NAME,
          port: SCORER_GRPC_PORT,
          targetPort: GRPC_PORT_NAME,
          protocol: 'TCP',
          appProtocol: GRPC_PORT_NAME,
        },
      ],
    },
  };
}

/** The in-cluster URL of a ScoringModel's Service. */
export function serviceURL(sm: ScoringModel): string {
  const port = sm.spec.service.port === 80 ? '' : `:${sm.spec.service.port}`;
  return `http://${sm.metadata.name}.${sm.metadata.namespace}.svc.cluster.local${port}`;
}
