/**
 * The long-poll client of ROUTING_URL: the scorer asks `ROUTING_URL&after=<the version it holds>`; the operator
 * answers at once with a routing that differs, else holds the request (ROUTING_LONG_POLL_SECONDS) and answers the
 * same one, and the scorer asks again. 404 means the operator knows no rollout for this model: no routing.
 *
 * On any failure (the operator unreachable, a 5xx, an answer that is not a routing) the scorer keeps the routing it
 * holds and tries again after 1 s, doubling to 30 s: an operator restart neither stops nor changes a rollout under
 * way. stop() aborts the poll in flight, so that a scorer's shutdown is not held by it.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  NO_ROUTING,
  ROUTING_AFTER_PARAM,
  ROUTING_LONG_POLL_SECONDS,
  routingSchema,
  type Routing,
} from '../../contract/rollout.js';

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 30_000;
/**
 * The shortest time between two polls whose answer changed nothing: an endpoint that answers at once instead of
 * holding (a proxy's error page, a misbehaving replica) is asked once a second, not in a loop.
 */
export const MIN_POLL_INTERVAL_MS = 1000;
/** A held poll answers within ROUTING_LONG_POLL_SECONDS; one that does not is given up and asked again. */
const POLL_TIMEOUT_MS = (ROUTING_LONG_POLL_SECONDS + 15) * 1000;

/** The wait before retrying after `failures` failed polls in a row (1 or more). */
export function backoffMs(failures: number): number {
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(failures - 1, 30));
}

/** Waits `ms`, or less once `signal` aborts. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

const realSleep: Sleep = (ms, signal) => delay(ms, undefined, { signal }).catch(() => undefined);

export interface RoutingClientOptions {
  /** ROUTING_URL. */
  url: string;
  log: Logger;
  /** Called with each new routing (a new version), once `routing` holds it. Must not throw. */
  onChange?: (routing: Routing, previous: Routing) => void;
  /** Real time unless a test drives it. */
  sleep?: Sleep;
  pollTimeoutMs?: number;
}

export class RoutingClient {
  private held: Routing = NO_ROUTING;
  private readonly url: string;
  private readonly log: Logger;
  private readonly onChange: ((routing: Routing, previous: Routing) => void) | undefined;
  private readonly sleep: Sleep;
  private readonly pollTimeoutMs: number;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;

  constructor({ url, log, onChange, sleep = realSleep, pollTimeoutMs = POLL_TIMEOUT_MS }: RoutingClientOptions) {
    this.url = url;
    this.log = log;
    this.onChange = onChange;
    this.sleep = sleep;
    this.pollTimeoutMs = pollTimeoutMs;
  }

  /** The routing the scorer follows now: NO_ROUTING until the operator has said otherwise. */
  get routing(): Routing {
    return this.held;
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Ends the polling: the poll in flight is aborted. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { signal } = this.abort;
    let failures = 0;
    while (!signal.aborted) {
      const started = performance.now();
      let wait: number;
      try {
        const changed = await this.poll(signal);
        failures = 0;
        wait = changed ? 0 : MIN_POLL_INTERVAL_MS - (performance.now() - started);
      } catch (err) {
        if (signal.aborted) break;
        wait = backoffMs(++failures);
        if (err instanceof NoRouting) {
          this.follow(NO_ROUTING);
          this.log.debug({ retryMs: wait }, 'the operator has no routing for this model');
        } else {
          this.log.warn(
            { error: describe(err), retryMs: wait, version: this.held.version },
            'cannot read the routing; keeping the one held',
          );
        }
      }
      if (wait > 0 && !signal.aborted) await this.sleep(wait, signal);
    }
  }

  /** One poll: whether it brought a new routing. Throws NoRouting on 404, an Error on any failure. */
  private async poll(signal: AbortSignal): Promise<boolean> {
    const url = new URL(this.url);
    url.searchParams.set(ROUTING_AFTER_PARAM, this.held.version);
    const res = await fetch(url, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.pollTimeoutMs)]) });
    const text = await res.text();
    if (res.status === 404) throw new NoRouting();
    if (res.status !== 200) throw new Error(`the operator answered ${res.status}: ${text.slice(0, 200)}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new Error(`the routing is not JSON: ${(err as Error).message}`);
    }
    const parsed = routingSchema.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`the routing is not valid: ${issue.path.join('.') || 'routing'}: ${issue.message}`);
    }
    return this.follow(parsed.data);
  }

  /** Holds `routing`: whether it is a new one. */
  private follow(routing: Routing): boolean {
    const previous = this.held;
    if (routing.version === previous.version) return false;
    this.held = routing;
    const { version, step, weight, shadow, candidates } = routing;
    this.log.info({ version, step, weight, shadow, candidates }, 'routing changed');
    this.onChange?.(routing, previous);
    return true;
  }
}

class NoRouting extends Error {}

/** A fetch failure says "fetch failed"; its cause says why (ECONNREFUSED, a timeout). */
function describe(err: unknown): string {
  const { message, cause } = (err ?? {}) as { message?: unknown; cause?: { message?: unknown } };
  const why = typeof cause?.message === 'string' && cause.message !== '' ? `: ${cause.message}` : '';
  return `${typeof message === 'string' ? message : String(err)}${why}`;
}
