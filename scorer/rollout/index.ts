/**
 * Rollouts on the stable scorer's side (ROUTING_URL): the routing long-polled from the operator, the share of
 * requests forwarded to the candidate or mirrored to it, and the counts of the current step, served as the
 * RolloutReport the operator judges the step on. The model itself is wrapped (`routed`), so that every protocol goes
 * through it.
 */
import type { Logger } from 'pino';
import type { RolloutReport, Routing } from '../../contract/rollout.js';
import { RolloutCounts } from './counts.js';
import { CandidateClient, FORWARD_TIMEOUT_MS } from './forward.js';
import { RoutingClient, type Sleep } from './routing.js';
import { Split } from './split.js';

export { routed, servedByCandidate } from './routed.js';

/** Mirrors in flight at most: beyond, a mirror is skipped (and counted), never queued behind the client's answer. */
export const MAX_MIRRORS_IN_FLIGHT = 32;

export interface RolloutOptions {
  /** ROUTING_URL. */
  url: string;
  log: Logger;
  forwardTimeoutMs?: number;
  maxMirrors?: number;
  /** The routing client's backoff; real time unless a test drives it. */
  sleep?: Sleep;
}

/** What `routed` needs and GET .../rollout serves: the routing followed, the step's counts, the candidate's client. */
export class Rollout {
  readonly counts: RolloutCounts;
  readonly candidate: CandidateClient;
  /** Which requests are forwarded, and which of those answered locally are mirrored. */
  readonly forwards = new Split();
  readonly mirrors = new Split();
  readonly maxMirrors: number;
  mirrorsInFlight = 0;
  readonly log: Logger;
  private readonly client: RoutingClient;

  constructor({
    url,
    log,
    forwardTimeoutMs = FORWARD_TIMEOUT_MS,
    maxMirrors = MAX_MIRRORS_IN_FLIGHT,
    sleep,
  }: RolloutOptions) {
    this.log = log;
    this.maxMirrors = maxMirrors;
    this.candidate = new CandidateClient(forwardTimeoutMs);
    this.client = new RoutingClient({
      url,
      log,
      onChange: (r, previous) => this.follow(r, previous),
      ...(sleep && { sleep }),
    });
    this.counts = new RolloutCounts(this.client.routing);
  }

  get routing(): Routing {
    return this.client.routing;
  }

  start(): void {
    this.client.start();
  }

  /** Stops polling: the routing held stays, for the requests still to be answered. */
  stop(): Promise<void> {
    return this.client.stop();
  }

  /** Closes the connections to the candidate, once no forwarded request is left: mirrors under way fail. */
  close(): void {
    this.candidate.close();
  }

  report(): RolloutReport {
    return this.counts.report();
  }

  private follow(routing: Routing, previous: Routing): void {
    this.counts.follow(routing);
    if (routing.step !== previous.step) {
      this.forwards.reset();
      this.mirrors.reset();
    }
  }
}
