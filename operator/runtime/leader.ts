/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics: a Lease held by another replica
 * is judged expired by LOCAL time since we last saw its record change (never by its renewTime, which another
 * machine's clock wrote); optimistic concurrency on update; a leader that cannot renew within the renew deadline
 * stops leading; a clean shutdown releases the Lease so that a successor need not wait for it to expire.
 */
import { ApiException, V1MicroTime, type CoordinationV1Api, type V1Lease } from '@kubernetes/client-node';
import { systemClock, type Clock } from './clock.js';

export interface LeaseRecord {
  holderIdentity: string;
  leaseDurationSeconds: number;
  acquireTime: Date;
  renewTime: Date;
  leaseTransitions: number;
}

export type Decision =
  { action: 'create' | 'acquire' | 'renew'; record: LeaseRecord } | { action: 'wait'; record?: undefined };

export interface DecideInput {
  identity: string;
  now: number;
  observed?: LeaseRecord | undefined;
  /** Local time (ms) when the observed record last changed. */
  observedAt?: number | undefined;
  leaseDurationMs: number;
}

/** What to do with the Lease now. Pure. */
export function decide({ identity, now, observed, observedAt, leaseDurationMs }: DecideInput): Decision {
  const at = new Date(now);
  const seconds = Math.ceil(leaseDurationMs / 1000);
  if (!observed) {
    return {
      action: 'create',
      record: {
        holderIdentity: identity,
        leaseDurationSeconds: seconds,
        acquireTime: at,
        renewTime: at,
        leaseTransitions: 0,
      },
    };
  }
  if (observed.holderIdentity === identity) {
    return { action: 'renew', record: { ...observed, leaseDurationSeconds: seconds, renewTime: at } };
  }
  const held = observed.holderIdentity !== '';
  const observedDuration = (observed.leaseDurationSeconds || seconds) * 1000;
  if (held && (observedAt ?? now) + observedDuration > now) return { action: 'wait' };
  // As client-go: any change of holder counts, including taking a released Lease (whose release kept the count).
  return {
    action: 'acquire',
    record: {
      holderIdentity: identity,
      leaseDurationSeconds: seconds,
      acquireTime: at,
      renewTime: at,
      leaseTransitions: observed.leaseTransitions + 1,
    },
  };
}

/** The Lease, behind a thin port (kubernetesLeasePort below is the real one). */
export interface LeasePort {
  get(): Promise<{ record: LeaseRecord; resourceVersion: string } | undefined>;
  create(record: LeaseRecord): Promise<void>;
  /** Rejects when `resourceVersion` is stale (someone else wrote the Lease). */
  update(record: LeaseRecord, resourceVersion: string): Promise<void>;
}

export interface LeaderElectorOptions {
  port: LeasePort;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  onStartedLeading(): void;
  onStoppedLeading(): void;
  onError?(err: unknown): void;
}

export class LeaderElector {
  private readonly o: Required<Omit<LeaderElectorOptions, 'onError'>> & Pick<LeaderElectorOptions, 'onError'>;
  private leading = false;
  private running = false;
  /** Whether a write of ours may have made us the holder; only then is there anything to release. */
  private mayHold = false;
  private timer: unknown;
  private deadline: unknown;
  private observed: LeaseRecord | undefined;
  private observedVersion: string | undefined;
  private observedAt: number | undefined;
  private inFlight: Promise<void> | undefined;

  constructor(options: LeaderElectorOptions) {
    this.o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, clock: systemClock, ...options };
  }

  isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.tick();
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimeout(() => this.tick(), this.o.retryPeriodMs);
  }

  private tick(): void {
    // Bounded, so that a hung request cannot stall a follower's retries forever.
    this.inFlight = this.within(this.tryAcquireOrRenew(), this.o.renewDeadlineMs).then(
      (ok) => this.after(ok),
      (err: unknown) => {
        this.o.onError?.(err);
        this.after(false);
      },
    );
  }

  private after(ok: boolean): void {
    if (!this.running) return;
    if (ok) {
      // A timer rather than a check after each failed attempt: a renewal that hangs must not keep us leading.
      this.o.clock.clearTimeout(this.deadline);
      this.deadline = this.o.clock.setTimeout(() => this.lose(), this.o.renewDeadlineMs);
      if (!this.leading) {
        this.leading = true;
        this.o.onStartedLeading();
      }
    }
    this.schedule();
  }

  private lose(): void {
    if (!this.leading || !this.running) return;
    this.leading = false;
    this.running = false;
    this.o.clock.clearTimeout(this.timer);
    this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.o.clock.now();
    const current = await this.o.port.get();
    if (current && current.resourceVersion !== this.observedVersion) {
      this.observed = current.record;
      this.observedVersion = current.resourceVersion;
      this.observedAt = now;
    }
    if (!current) this.observed = undefined;
    const decision = decide({
      identity: this.o.identity,
      now,
      observed: this.observed,
      observedAt: this.observedAt,
      leaseDurationMs: this.o.leaseDurationMs,
    });
    if (decision.action === 'wait') return false;
    this.mayHold = true;
    if (decision.action === 'create') await this.o.port.create(decision.record);
    else await this.o.port.update(decision.record, this.observedVersion!);
    return true;
  }

  /** Stops trying; if it may hold the Lease, releases it (holder emptied, duration 1 s), best effort. */
  async stop(): Promise<void> {
    this.running = false;
    this.leading = false;
    this.o.clock.clearTimeout(this.timer);
    this.o.clock.clearTimeout(this.deadline);
    await this.inFlight;
    if (!this.mayHold) return;
    this.mayHold = false;
    try {
      await this.within(this.release(), this.o.renewDeadlineMs);
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  private async release(): Promise<void> {
    const current = await this.o.port.get();
    if (current?.record.holderIdentity !== this.o.identity) return;
    const now = new Date(this.o.clock.now());
    await this.o.port.update(
      { ...current.record, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now },
      current.resourceVersion,
    );
  }

  /** `work`, or a rejection once `ms` pass on the injected clock. */
  private within<T>(work: Promise<T>, ms: number): Promise<T> {
    let handle: unknown;
    const timeout = new Promise<never>((_, reject) => {
      handle = this.o.clock.setTimeout(() => reject(new Error(`lease request timed out after ${ms} ms`)), ms);
    });
    return Promise.race([work, timeout]).finally(() => this.o.clock.clearTimeout(handle));
  }
}

export function kubernetesLeasePort(api: CoordinationV1Api, namespace: string, name: string): LeasePort {
  const body = (record: LeaseRecord, resourceVersion?: string): V1Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace, ...(resourceVersion ? { resourceVersion } : {}) },
    // MicroTime: the API server wants six fractional digits, which client-node's V1MicroTime writes.
    spec: {
      ...record,
      acquireTime: new V1MicroTime(record.acquireTime.getTime()),
      renewTime: new V1MicroTime(record.renewTime.getTime()),
    },
  });
  return {
    async get() {
      try {
        const lease = await api.readNamespacedLease({ name, namespace });
        const spec = lease.spec ?? {};
        return {
          resourceVersion: lease.metadata?.resourceVersion ?? '',
          record: {
            holderIdentity: spec.holderIdentity ?? '',
            leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
            acquireTime: spec.acquireTime ? new Date(spec.acquireTime) : new Date(0),
            renewTime: spec.renewTime ? new Date(spec.renewTime) : new Date(0),
            leaseTransitions: spec.leaseTransitions ?? 0,
          },
        };
      } catch (err) {
        if (err instanceof ApiException && err.code === 404) return undefined;
        throw err;
      }
    },
    async create(record) {
      await api.createNamespacedLease({ namespace, body: body(record) });
    },
    async update(record, resourceVersion) {
      await api.replaceNamespacedLease({ name, namespace, body: body(record, resourceVersion) });
    },
  };
}
