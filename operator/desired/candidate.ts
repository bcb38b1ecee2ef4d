/**
 * A rollout's candidate: a Deployment beside the stable one, named NAME-candidate, running the pod template the spec
 * asks for. The ScoringModel's Service does not select its pods (their instance label differs): the candidate gets
 * only what the stable scorers forward or mirror to it, straight to its pods' addresses, whatever the replica counts.
 */
import type { V1Container, V1Deployment, V1EnvVar } from '@kubernetes/client-node';
import { SCORER_ENV } from '../../contract/env.js';
import type { ScoringModel } from '../api/v1alpha1.js';
import { desiredDeployment, SCORER_CONTAINER, type DesiredConfig } from './deployment.js';
import { LABELS, labels, ownerReference } from './labels.js';

export const CANDIDATE_SUFFIX = '-candidate';

export function candidateName(sm: ScoringModel): string {
  return `${sm.metadata.name}${CANDIDATE_SUFFIX}`;
}

/** The labels that select a ScoringModel's candidate pods. */
export function candidateSelector(sm: ScoringModel): Record<string, string> {
  return { [LABELS.name]: 'scorer', [LABELS.instance]: candidateName(sm) };
}

function candidateLabels(sm: ScoringModel): Record<string, string> {
  return { ...labels(sm), ...candidateSelector(sm), [LABELS.candidateOf]: sm.metadata.name };
}

function candidateMeta(sm: ScoringModel) {
  return {
    name: candidateName(sm),
    namespace: sm.metadata.namespace,
    labels: candidateLabels(sm),
    ownerReferences: [ownerReference(sm)],
  };
}

/**
 * The candidate's env: the stable one's without ROUTING_URL. Where a Secret's keys become env too (envFrom), ROUTING_URL
 * stays, empty, so that no key of the Secret sets it (deployment.ts, shadows).
 */
function noRouting(container: V1Container): V1EnvVar[] | undefined {
  const routing = (e: V1EnvVar) => e.name === SCORER_ENV.routingUrl;
  return container.envFrom
    ? container.env?.map((e) => (routing(e) ? { name: e.name } : e))
    : container.env?.filter((e) => !routing(e));
}

/**
 * The candidate Deployment: the stable one the spec asks for, renamed and relabelled, its revision label kept (it is
 * the revision the stable Deployment gets on promotion), without the routing URL (a candidate forwards nothing), and
 * with the replicas the stable one would have (the HPA's minimum when autoscaled).
 */
export function desiredCandidate(sm: ScoringModel, config: DesiredConfig): V1Deployment {
  const stable = desiredDeployment(sm, config);
  const template = stable.spec!.template;
  const podSpec = template.spec!;
  const containers = podSpec.containers.map((c) => (c.name === SCORER_CONTAINER ? { ...c, env: noRouting(c) } : c));
  const revision = template.metadata!.labels![LABELS.templateHash]!;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: candidateMeta(sm),
    spec: {
      replicas: sm.spec.autoscaling ? sm.spec.autoscaling.minReplicas : Math.max(1, sm.spec.replicas),
      revisionHistoryLimit: 1,
      selector: { matchLabels: candidateSelector(sm) },
      strategy: stable.spec!.strategy!,
      template: {
        metadata: { labels: { ...candidateLabels(sm), [LABELS.templateHash]: revision } },
        spec: {
          ...podSpec,
          containers,
          topologySpreadConstraints: podSpec.topologySpreadConstraints?.map((t) => ({
            ...t,
            labelSelector: { matchLabels: candidateSelector(sm) },
          })),
        },
      },
    },
  };
}
