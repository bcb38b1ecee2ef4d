/**
 * Which requests go to the candidate: deterministically, not at random, so that a weight of W% sends exactly W of
 * every 100 consecutive requests a scorer receives (a random draw would send 10% only on average, and a step judged
 * on a few hundred requests would see the share wander by several points).
 */

/**
 * Whether request `n` (0, 1, 2, ...) of a sequence is one of the `percent` in 100 chosen: it is when the count of
 * chosen requests up to it, floor((n + 1) * percent / 100), grows at it. The chosen ones are spread evenly (10%: the
 * 10th, 20th, ...), and any 100 consecutive requests hold exactly `percent` of them.
 */
export function chosen(n: number, percent: number): boolean {
  return Math.floor(((n + 1) * percent) / 100) > Math.floor((n * percent) / 100);
}

/** A sequence of requests, each chosen or not by `chosen` at the percent given with it. */
export class Split {
  /** The position in the current 100: the pattern repeats every 100 requests whatever the percent. */
  private n = 0;

  /** Whether the next request is chosen at `percent` (0-100). */
  take(percent: number): boolean {
    const n = this.n;
    this.n = n === 99 ? 0 : n + 1;
    return chosen(n, percent);
  }

  /** Starts a new sequence (a new step): its first 100 requests hold exactly the step's percent. */
  reset(): void {
    this.n = 0;
  }
}
