/**
 * The ScoringModel reconciler, level-based: given a key, it reads the world from the caches, applies the children
 * that differ from what they should be, removes the HPA autoscaling no longer asks for, and writes status only
 * when it changed. It never asks whether the key came from a create or an update.
 */
import type {
  KubernetesObject,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Pod,
  V1Service,
  V2HorizontalPodAutoscaler,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import {
  nameProblem,
  parseSpec,
  ROLLOUT_ANNOTATION,
  type Condition,
  type ScoringModel,
  type ScoringModelObject,
  type ScoringModelStatus,
} from './api/v1alpha1.js';
import { apiErrorText, withStatusWriteError } from './api-error.js';
import { candidateName } from './desired/candidate.js';
import { revisionOf, type DesiredConfig } from './desired/deployment.js';
import { FIELD_MANAGER } from './desired/labels.js';
import { desiredHPA, HPA_TYPE } from './desired/hpa.js';
import { desiredPDB, PDB_TYPE } from './desired/pdb.js';
import { desiredService } from './desired/service.js';
import type { DriftMonitor } from './drift/monitor.js';
import { imageAllowed, imageRefusal } from './image-policy.js';
import {
  blockedStatus,
  computeStatus,
  CONDITION,
  invalidSpecConditions,
  nextStatus,
  STALLED_REASONS,
  statusChanged,
  transitions,
  withKstatusConditions,
  type ConditionDraft,
} from './status.js';
import { appliedBy } from './managed-fields.js';
import { rolloutCondition } from './rollout/machine.js';
import { planRollout } from './rollout/plan.js';
import type { ReportFetcher } from './scorer-pods.js';
import { sameQuantity } from './api/quantity.js';
import type { WrittenStatuses } from './written-status.js';

/** What the reconciler reads: the informers' caches. */
export interface ClusterState {
  scoringModel(namespace: string, name: string): ScoringModelObject | undefined;
  deployment(namespace: string, name: string): V1Deployment | undefined;
  service(namespace: string, name: string): V1Service | undefined;
  hpa(namespace: string, name: string): V2HorizontalPodAutoscaler | undefined;
  pdb(namespace: string, name: string): V1PodDisruptionBudget | undefined;
  /** Pods of one ScoringModel (by its instance label). */
  pods(namespace: string, instance: string): readonly V1Pod[];
}

export interface ClusterEvent {
  regarding: ScoringModelObject;
  type: 'Normal' | 'Warning';
  reason: string;
  note: string;
  action: string;
}

/** An object named explicitly: what a delete needs, whatever the cache's copy carries. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** When set, the API server deletes the object only if it is still this one. */
  uid?: string;
}

/** What the reconciler writes: a thin port over the API server (operator/kube.ts). */
export interface ClusterWriter {
  /** Server-side apply, field manager scoring-operator, force. */
  apply(object: KubernetesObject): Promise<void>;
  /**
   * Server-side apply as the hand-over field manager, without force: a conflict means another manager (the HPA
   * controller) already owns the fields, and there is nothing to hand over.
   */
  handOver(object: KubernetesObject): Promise<void>;
  /** A delete; an object already gone counts as deleted. */
  delete(ref: ObjectRef): Promise<void>;
  /**
   * The object as the API server holds it now, undefined when there is none. For children the caches cannot show:
   * they hold only objects with the operator's label, and a same-named object without it must not be overwritten.
   */
  read(ref: ObjectRef): Promise<KubernetesObject | undefined>;
  /** Removes an annotation of the ScoringModel if it still has `value` (a manual rollout action, once acted on). */
  clearAnnotation(sm: ScoringModelObject, key: string, value: string): Promise<void>;
  /** Server-side apply of the status subresource; resolves to the resourceVersion the object then has. */
  applyStatus(sm: ScoringModelObject, status: ScoringModelStatus): Promise<string | undefined>;
  event(event: ClusterEvent): Promise<void>;
}

export interface ReconcilerConfig extends DesiredConfig {
  /** What spec.image may name (operator/image-policy.ts). */
  scorerImages: readonly string[];
}

export interface ReconcilerDeps {
  state: ClusterState;
  writer: ClusterWriter;
  config: ReconcilerConfig;
  /** The statuses written, held across reconciles (one instance per process). */
  written: WrittenStatuses;
  /** Judges drift for spec.monitoring, remembering when it last did (one instance per process). */
  drift: DriftMonitor;
  /** How the stable scorers' rollout reports are read (HTTP GET by default). */
  reportFetcher?: ReportFetcher;
  log: Logger;
  now?: () => Date;
}

export interface ReconcileOutcome {
  /** Children applied or deleted, and whether status was written. */
  applied: string[];
  deleted: string[];
  statusWritten: boolean;
  /**
   * Look again after this long: what blocks the children (a foreign object), and the scorers' counts that drift is
   * judged from, are not something the caches watch.
   */
  requeueAfterMs?: number;
}

/** How often a ScoringModel blocked by a foreign object looks whether it is gone. */
export const CONFLICT_RECHECK_MS = 10_000;

/**
 * True when every field of `desired` holds the same value in `actual` (the API server adds defaults beside them).
 * Lists match element by element, so an added or removed element is a difference. Resource quantities match by
 * value: the API server stores them canonical ("0.5" as "500m").
 */
export function isSubset(desired: unknown, actual: unknown, path: readonly string[] = []): boolean {
  if (desired === undefined) return true;
  if (Array.isArray(desired)) {
    return (
      Array.isArray(actual) &&
      actual.length === desired.length &&
      desired.every((d, i) => isSubset(d, actual[i], [...path, '[]']))
    );
  }
  if (desired !== null && typeof desired === 'object') {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
    return Object.entries(desired).every(([k, v]) => isSubset(v, (actual as Record<string, unknown>)[k], [...path, k]));
  }
  return isQuantity(path) ? sameQuantity(desired, actual) : desired === actual;
}

/** Where the children hold quantities: a container's resources, an emptyDir's size limit. */
function isQuantity(path: readonly string[]): boolean {
  const [resources, list] = path.slice(-3, -1);
  return (resources === 'resources' && (list === 'requests' || list === 'limits')) || path.at(-1) === 'sizeLimit';
}

const describe = (o: KubernetesObject) => `${o.kind}/${o.metadata?.name}`;

export async function reconcile(key: string, deps: ReconcilerDeps): Promise<ReconcileOutcome> {
  const { state, writer, log } = deps;
  const now = deps.now ?? (() => new Date());
  const [namespace = '', name = ''] = key.split('/');
  const outcome: ReconcileOutcome = { applied: [], deleted: [], statusWritten: false };
  const object = state.scoringModel(namespace, name);
  // Gone, or going: owner references let the garbage collector remove the children.
  if (!object || object.metadata.deletionTimestamp) {
    deps.written.forget(key);
    deps.drift.forget(key);
    return outcome;
  }
  const previous = deps.written.current(key, object);
  const write = (fields: Partial<ScoringModelStatus>, drafts: readonly ConditionDraft[], rollout?: ConditionDraft) =>
    writeStatus(key, object, previous, fields, withKstatusConditions(drafts, rollout), deps, now(), outcome);

  const badName = nameProblem(object.metadata.name);
  const parsed = badName ? { ok: false as const, message: badName } : parseSpec(object.spec);
  if (!parsed.ok) {
    log.warn({ reason: parsed.message }, 'invalid spec: no children touched');
    await write({}, invalidSpecConditions(parsed.message));
    return outcome;
  }
  const sm: ScoringModel = { ...object, spec: parsed.spec };

  if (sm.spec.image && !imageAllowed(sm.spec.image, deps.config.scorerImages)) {
    const message = imageRefusal(sm.spec.image, deps.config.scorerImages);
    log.warn({ image: sm.spec.image }, 'image not allowed: no children touched');
    const refused = blockedStatus(previous, 'ImageNotAllowed', message);
    await write(refused.fields, refused.conditions);
    return outcome;
  }

  const live = state.deployment(namespace, name);
  const hpa = desiredHPA(sm);
  const pdb = desiredPDB(sm);
  const rollout = await planRollout(sm, previous, state, deps.config, deps.reportFetcher, now(), log);
  const { decision } = rollout;
  const candidate = candidateName(sm);
  const wanted: Child[] = [
    // A rollout under way keeps the stable Deployment as it is: its template is what the stable scorers serve.
    live && decision.stable === 'keep'
      ? { desired: rollout.stable, cached: live, kept: true }
      : { desired: rollout.stable, cached: live, handOver: replicasHandOver(sm, live) },
    ...(decision.candidate ? [{ desired: rollout.candidate, cached: state.deployment(namespace, candidate) }] : []),
    { desired: desiredService(sm), cached: state.service(namespace, name) },
    ...(hpa ? [{ desired: hpa, cached: state.hpa(namespace, name) }] : []),
    ...(pdb ? [{ desired: pdb, cached: state.pdb(namespace, name) }] : []),
  ];
  const stale = [
    ...(decision.candidate
      ? []
      : [{ type: DEPLOYMENT_TYPE, name: candidate, cached: state.deployment(namespace, candidate) }]),
    ...(hpa ? [] : [{ type: HPA_TYPE, name, cached: state.hpa(namespace, name) }]),
    ...(pdb ? [] : [{ type: PDB_TYPE, name, cached: state.pdb(namespace, name) }]),
  ];

  // Nothing is written while any child's name is taken by an object this ScoringModel does not control.
  const children = await Promise.all(wanted.map(async (c) => ({ ...c, actual: await current(c.desired, c.cached) })));
  const foreign = children.filter((c) => c.actual && !isControlledBy(c.actual, object));
  if (foreign.length > 0) {
    const message = foreign.map((c) => conflictMessage(c.desired, c.actual!, object)).join('; ');
    log.warn({ conflicts: foreign.map((c) => describe(c.desired)) }, 'child names taken: no children touched');
    const blocked = blockedStatus(previous, 'ChildConflict', message);
    await write(blocked.fields, blocked.conditions);
    return { ...outcome, requeueAfterMs: CONFLICT_RECHECK_MS };
  }

  for (const { desired, actual, handOver, kept } of children) {
    if (kept) continue;
    // Objects from an informer's list carry no apiVersion/kind (those from its watch do): compare the rest.
    if (actual && !handOver && isSubset({ ...desired, apiVersion: undefined, kind: undefined }, actual)) continue;
    try {
      if (handOver) await writer.handOver(handOver);
      await writer.apply(desired);
    } catch (err) {
      // Say why in the status (once: an unchanged status is not rewritten), then retry with backoff.
      const failed = blockedStatus(
        previous,
        'ApplyFailed',
        `applying ${describe(desired)} failed: ${apiErrorText(err)}`,
      );
      await write(failed.fields, failed.conditions).catch((statusErr: unknown) => {
        throw withStatusWriteError(err, statusErr);
      });
      throw err;
    }
    outcome.applied.push(describe(desired));
  }
  for (const { type, name: staleName, cached } of stale) {
    if (!cached || !isControlledBy(cached, object)) continue;
    // Named explicitly, not by the cached copy: objects from an informer's initial list carry no apiVersion or kind.
    // The uid makes sure the object deleted is the one judged ours.
    const ref = { ...type, namespace, name: staleName };
    await writer.delete({ ...ref, uid: cached.metadata?.uid });
    outcome.deleted.push(describe({ ...ref, metadata: { name: staleName } }));
  }
  if (outcome.applied.length > 0 || outcome.deleted.length > 0) {
    log.info({ applied: outcome.applied, deleted: outcome.deleted }, 'children applied');
  }

  const pods = state.pods(namespace, name);
  const { fields, conditions } = computeStatus(sm, state.deployment(namespace, name), pods, state.hpa(namespace, name));
  const drift = await deps.drift.assess(key, sm, pods, previous, now(), log);
  const rolloutDraft = rolloutCondition(decision.status, revisionOf(rollout.stable)!);
  await write(
    {
      ...fields,
      ...(drift.drift ? { drift: drift.drift } : {}),
      ...(decision.status ? { rollout: decision.status } : {}),
    },
    [...conditions, ...drift.conditions],
    rolloutDraft,
  );
  for (const e of decision.events) {
    const event = { regarding: object, type: e.type, reason: e.reason, note: e.message.slice(0, 1024) };
    await writer
      .event({ ...event, action: 'Rollout' })
      .catch((err: unknown) => log.warn({ err: apiErrorText(err) }, 'could not record an event'));
  }
  if (decision.events.length > 0) log.info({ rollout: decision.status, events: decision.events }, 'rollout');
  if (rollout.action !== undefined) await writer.clearAnnotation(object, ROLLOUT_ANNOTATION, rollout.action);
  return { ...outcome, requeueAfterMs: earliest(drift.requeueAfterMs, decision.requeueAfterMs) };

  /**
   * The child as it is: the cache's copy, else (the cache holds only labelled objects) the API server's, read by the
   * child's own name (a rollout's candidate is NAME-candidate).
   */
  async function current(desired: KubernetesObject, cached: KubernetesObject | undefined) {
    if (cached) return cached;
    const { apiVersion, kind } = desired as { apiVersion: string; kind: string };
    return writer.read({ apiVersion, kind, namespace, name: desired.metadata!.name! });
  }
}

interface Child {
  desired: KubernetesObject;
  /** The informer's copy, if it has one. */
  cached: KubernetesObject | undefined;
  /** Applied by the hand-over field manager first; then `desired` is applied even if it matches. */
  handOver?: KubernetesObject;
  /** Left as it is (the stable Deployment while a rollout is under way); still judged for ownership. */
  kept?: boolean;
}

const DEPLOYMENT_TYPE = { apiVersion: 'apps/v1', kind: 'Deployment' };

function earliest(...delays: (number | undefined)[]): number | undefined {
  const set = delays.filter((d): d is number => d !== undefined);
  return set.length > 0 ? Math.min(...set) : undefined;
}

/**
 * Autoscaling added to a Deployment whose replicas this operator's applies own: an apply without them lets go of
 * the field, and the API server resets it to 1 until the HPA acts. The server-side apply docs' "transferring
 * ownership": another field manager first applies the live value, so that it stays when our next apply drops it;
 * the HPA's first write of the field ends that manager's share.
 */
function replicasHandOver(sm: ScoringModel, live: V1Deployment | undefined): KubernetesObject | undefined {
  const replicas = live?.spec?.replicas;
  if (!sm.spec.autoscaling || replicas === undefined || !appliedBy(live!, FIELD_MANAGER, ['spec', 'replicas'])) {
    return undefined;
  }
  const { name, namespace } = sm.metadata;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: { replicas },
  } as KubernetesObject;
}

function isControlledBy(child: KubernetesObject, owner: ScoringModelObject): boolean {
  return (child.metadata?.ownerReferences ?? []).some((r) => r.uid === owner.metadata.uid && r.controller);
}

/** Names the object in the way, and who controls it, so that its owner can tell whether to rename or remove it. */
function conflictMessage(desired: KubernetesObject, child: KubernetesObject, owner: ScoringModelObject): string {
  const controller = child.metadata?.ownerReferences?.find((r) => r.controller);
  const by = controller ? `controlled by ${controller.kind} ${controller.name}` : 'not controlled by any object';
  return (
    `${desired.kind} ${owner.metadata.namespace}/${child.metadata?.name} exists and is ${by}, not by this ScoringModel: ` +
    `the operator leaves it untouched and creates nothing until it is renamed or deleted (or the ScoringModel is)`
  );
}

/**
 * Writes the status if it differs from `previous` (what the object holds now), with an event per transition;
 * `drafts` carry kstatus' conditions already.
 */
async function writeStatus(
  key: string,
  object: ScoringModelObject,
  previous: ScoringModelStatus | undefined,
  fields: Partial<ScoringModelStatus>,
  drafts: readonly ConditionDraft[],
  deps: ReconcilerDeps,
  now: Date,
  outcome: ReconcileOutcome,
): Promise<void> {
  const status = nextStatus({ ...object, status: previous }, fields, drafts, now);
  if (!statusChanged(previous, status)) return;
  deps.written.record(key, await deps.writer.applyStatus(object, status), status);
  outcome.statusWritten = true;
  // Stalled and Reconciling restate Ready for kstatus: Ready's own events tell their story.
  const told = (c: Condition) => c.type !== CONDITION.stalled && c.type !== CONDITION.reconciling;
  for (const c of transitions(previous?.conditions, status.conditions ?? []).filter(told)) {
    await deps.writer.event(eventFor(object, c)).catch((err: unknown) => {
      // An event is a courtesy; losing one must not fail the reconcile.
      deps.log.warn({ err: apiErrorText(err) }, 'could not record an event');
    });
  }
}

/** Warnings: what needs someone to act, an HPA that cannot scale, drift, and a baseline the scorers cannot use. */
function isWarning(c: Condition): boolean {
  return (
    STALLED_REASONS.has(c.reason) ||
    (c.type === CONDITION.autoscaling && c.status === 'False') ||
    (c.type === CONDITION.drifted && (c.status === 'True' || c.reason === 'BaselineUnavailable'))
  );
}

function eventFor(regarding: ScoringModelObject, c: Condition): ClusterEvent {
  return {
    regarding,
    type: isWarning(c) ? 'Warning' : 'Normal',
    reason: c.reason,
    note: `${c.type}=${c.status}: ${c.message}`.slice(0, 1024),
    action: c.type,
  };
}
