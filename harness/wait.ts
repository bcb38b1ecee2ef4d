/**
 * Waiting for something to happen, for the harness, the benchmarks and the tests alike: poll a check until it holds,
 * with a deadline, never a fixed sleep in the hope that it has happened meanwhile.
 */

/** Thrown by a check when what it waits for can no longer happen (the process it waits on exited): the wait ends. */
export class StopWaiting extends Error {}

/**
 * Polls `check` until it returns a truthy value, every `intervalMs`; fails after `timeoutMs` with the last value or
 * error seen. A check that throws is polled again (the server is not listening yet), unless it throws StopWaiting.
 */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
      last = value;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(last)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
