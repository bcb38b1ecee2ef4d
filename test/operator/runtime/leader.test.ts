import { ManualClock } from '../../../operator/runtime/clock.js';
import { decide, LeaderElector, type LeasePort, type LeaseRecord } from '../../../operator/runtime/leader.js';

const LEASE = 15_000;
const t = (s: number) => new Date(s * 1000);
const held = (holder: string, renew = 0, transitions = 2): LeaseRecord => ({
  holderIdentity: holder,
  leaseDurationSeconds: 15,
  acquireTime: t(0),
  renewTime: t(renew),
  leaseTransitions: transitions,
});

describe('decide', () => {
  it('creates a Lease that does not exist', () => {
    expect(decide({ identity: 'a', now: 5000, leaseDurationMs: LEASE })).toEqual({
      action: 'create',
      record: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: t(5),
        renewTime: t(5),
        leaseTransitions: 0,
      },
    });
  });

  it('renews its own Lease, keeping acquireTime and transitions', () => {
    expect(decide({ identity: 'a', now: 9000, observed: held('a'), observedAt: 0, leaseDurationMs: LEASE })).toEqual({
      action: 'renew',
      record: { ...held('a'), renewTime: t(9) },
    });
  });

  it("waits while another holder's Lease is unexpired by LOCAL observed time, whatever its renewTime says", () => {
    // The record's renewTime is an hour old (a skewed clock), but we saw it change only 10 s ago.
    const observed = held('b', -3600);
    expect(decide({ identity: 'a', now: 100_000, observed, observedAt: 90_000, leaseDurationMs: LEASE })).toEqual({
      action: 'wait',
    });
  });

  it('acquires an expired Lease of another holder, counting a transition', () => {
    expect(
      decide({ identity: 'a', now: 106_000, observed: held('b'), observedAt: 90_000, leaseDurationMs: LEASE }),
    ).toEqual({
      action: 'acquire',
      record: {
        holderIdentity: 'a',
        leaseDurationSeconds: 15,
        acquireTime: t(106),
        renewTime: t(106),
        leaseTransitions: 3,
      },
    });
  });

  it('takes a released Lease (empty holder) at once, counting a transition as client-go does', () => {
    const released = { ...held(''), leaseDurationSeconds: 1 };
    expect(
      decide({ identity: 'a', now: 1000, observed: released, observedAt: 1000, leaseDurationMs: LEASE }),
    ).toMatchObject({
      action: 'acquire',
      record: { holderIdentity: 'a', acquireTime: t(1), renewTime: t(1), leaseTransitions: 3 },
    });
  });

  it('renews its own Lease even when it last saw it change long ago', () => {
    expect(
      decide({ identity: 'a', now: 1_000_000, observed: held('a'), observedAt: 0, leaseDurationMs: LEASE }),
    ).toMatchObject({ action: 'renew', record: { holderIdentity: 'a', leaseTransitions: 2 } });
  });

  it("judges another holder's expiry by the duration written in its record, not by our own", () => {
    const observed = { ...held('b'), leaseDurationSeconds: 60 };
    expect(decide({ identity: 'a', now: 50_000, observed, observedAt: 0, leaseDurationMs: LEASE }).action).toBe('wait');
    expect(decide({ identity: 'a', now: 60_000, observed, observedAt: 0, leaseDurationMs: LEASE }).action).toBe(
      'acquire',
    );
  });

  it('treats a Lease last seen changing exactly one duration ago as expired', () => {
    expect(
      decide({ identity: 'a', now: 15_000, observed: held('b'), observedAt: 0, leaseDurationMs: LEASE }).action,
    ).toBe('acquire');
  });

  it('waits for a held Lease it has never seen change, since it cannot know how old it is', () => {
    expect(decide({ identity: 'a', now: 1_000_000, observed: held('b', -3600), leaseDurationMs: LEASE })).toEqual({
      action: 'wait',
    });
  });
});

/** The Lease in memory, with the API server's optimistic concurrency: a stale resourceVersion is a conflict. */
class MemoryLease implements LeasePort {
  record: LeaseRecord | undefined;
  version = 0;
  failing = false;
  async get() {
    if (this.failing) throw new Error('apiserver down');
    return this.record ? { record: structuredClone(this.record), resourceVersion: String(this.version) } : undefined;
  }
  async create(record: LeaseRecord) {
    if (this.failing) throw new Error('apiserver down');
    if (this.record) throw new Error('409 exists');
    this.record = structuredClone(record);
    this.version++;
  }
  async update(record: LeaseRecord, resourceVersion: string) {
    if (this.failing) throw new Error('apiserver down');
    if (resourceVersion !== String(this.version)) throw new Error('409 conflict');
    this.record = structuredClone(record);
    this.version++;
  }
}

function elector(port: LeasePort, identity: string, clock: ManualClock) {
  const events: string[] = [];
  const e = new LeaderElector({
    port,
    identity,
    clock,
    onStartedLeading: () => events.push('started'),
    onStoppedLeading: () => events.push('stopped'),
  });
  return { e, events };
}

describe('LeaderElector', () => {
  it('leads at once when the Lease is free, and keeps renewing', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const { e, events } = elector(lease, 'a', clock);
    e.start();
    await clock.advance(0);
    expect(events).toEqual(['started']);
    await clock.advance(10_000);
    expect(lease.record!.renewTime).toEqual(new Date(10_000));
    expect(e.isLeader()).toBe(true);
    await e.stop();
  });

  it('waits for a held Lease to expire by its own clock, then takes over', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    lease.record = held('b', 0);
    const { e, events } = elector(lease, 'a', clock);
    e.start();
    await clock.advance(14_000);
    expect(events).toEqual([]);
    await clock.advance(2_000);
    expect(events).toEqual(['started']);
    expect(lease.record).toMatchObject({ holderIdentity: 'a', leaseTransitions: 3 });
    await e.stop();
  });

  it('stops leading once, when it cannot renew within the renew deadline', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const { e, events } = elector(lease, 'a', clock);
    e.start();
    await clock.advance(0);
    lease.failing = true;
    await clock.advance(8_000);
    expect(events).toEqual(['started']);
    await clock.advance(4_000);
    expect(events).toEqual(['started', 'stopped']);
    await clock.advance(30_000);
    expect(events).toEqual(['started', 'stopped']);
    expect(e.isLeader()).toBe(false);
  });

  /** `a` leads and stops (releasing the Lease); `released` is the Lease right then; then `b` starts. */
  async function handOver() {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const a = elector(lease, 'a', clock);
    a.e.start();
    await clock.advance(0);
    await a.e.stop();
    const released = { ...lease.record };
    const b = elector(lease, 'b', clock);
    b.e.start();
    await clock.advance(0);
    return { lease, released, b };
  }

  it('releases the Lease on stop, so a successor need not wait', async () => {
    const { released, b } = await handOver();
    expect(released).toMatchObject({ holderIdentity: '', leaseDurationSeconds: 1 });
    expect(b.events).toEqual(['started']);
    await b.e.stop();
  });

  it('counts one transition when a successor takes a released Lease', async () => {
    const { lease, b } = await handOver();
    expect(lease.record).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    await b.e.stop();
  });

  it('does not write the Lease on stop when it never held it', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    lease.record = held('b', 0);
    const { e } = elector(lease, 'a', clock);
    e.start();
    await clock.advance(4_000);
    const version = lease.version;
    await e.stop();
    expect(lease.version).toBe(version);
    expect(lease.record).toMatchObject({ holderIdentity: 'b' });
  });

  it('stops leading at the renew deadline even when the renewing request hangs', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const { e, events } = elector(lease, 'a', clock);
    e.start();
    await clock.advance(0);
    lease.get = () => new Promise(() => undefined);
    await clock.advance(9_999);
    expect(e.isLeader()).toBe(true);
    await clock.advance(1);
    expect(events).toEqual(['started', 'stopped']);
    expect(e.isLeader()).toBe(false);
  });

  it('of two electors, exactly one leads', async () => {
    const clock = new ManualClock();
    const lease = new MemoryLease();
    const a = elector(lease, 'a', clock);
    const b = elector(lease, 'b', clock);
    a.e.start();
    b.e.start();
    await clock.advance(20_000);
    expect([a.e.isLeader(), b.e.isLeader()].filter(Boolean)).toHaveLength(1);
    await a.e.stop();
    await b.e.stop();
  });
});
