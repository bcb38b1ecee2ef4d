/**
 * A stable scorer's counts for the current step of a rollout, which it serves as its RolloutReport: its own
 * predictions, the candidate's (forwarded and mirrored), and the mirrored answers' agreement with its own.
 *
 * Counts are per step: when the routing's step changes, counting starts afresh. A prediction is counted into the step
 * it started in (it holds that step's StepCounts), so one that finishes after a change does not leak into the next.
 */
import {
  emptyLatency,
  latencyBucket,
  type Latency,
  type RolloutReport,
  type Routing,
  type Side,
} from '../../contract/rollout.js';
import { addAgreement, emptyAgreement, type Agreement } from './compare.js';

class SideCounts implements Side {
  requests = 0;
  errors = 0;
  readonly latency: Latency = emptyLatency();

  /** A prediction that succeeded in `seconds`. */
  succeeded(seconds: number): void {
    this.requests++;
    this.latency.counts[latencyBucket(seconds)]!++;
  }

  failed(): void {
    this.requests++;
    this.errors++;
  }

  toJSON(): Side {
    return { requests: this.requests, errors: this.errors, latency: { counts: [...this.latency.counts] } };
  }
}

/** The counts of one step. */
export class StepCounts {
  readonly step: string;
  readonly stable = new SideCounts();
  readonly candidate = new SideCounts();
  forwarded = 0;
  mirrored = 0;
  mirrorsSkipped = 0;
  readonly agreement: Agreement = emptyAgreement();

  constructor(step: string) {
    this.step = step;
  }

  agreed(agreement: Agreement): void {
    addAgreement(this.agreement, agreement);
  }
}

/** The current step's counts, and the forwarded and mirrored requests in flight whatever their step. */
export class RolloutCounts {
  current: StepCounts;
  private version: string;
  /** Forwarded and mirrored requests sent and not yet answered. */
  inFlight = 0;

  constructor(routing: Routing) {
    this.current = new StepCounts(routing.step);
    this.version = routing.version;
  }

  /** Follows a new routing: fresh counts when its step differs from the one counted. */
  follow(routing: Routing): void {
    this.version = routing.version;
    if (routing.step !== this.current.step) this.current = new StepCounts(routing.step);
  }

  report(): RolloutReport {
    const c = this.current;
    return {
      routing: { version: this.version, step: c.step },
      inFlight: this.inFlight,
      stable: c.stable.toJSON(),
      candidate: c.candidate.toJSON(),
      forwarded: c.forwarded,
      mirrored: c.mirrored,
      mirrorsSkipped: c.mirrorsSkipped,
      agreement: { ...c.agreement },
    };
  }
}
