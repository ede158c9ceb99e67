/**
 * Test helpers for waiting on asynchronous progress without timing assertions: poll a counter
 * until it stops moving, and bound any wait with a guard that fails loudly instead of hanging.
 *
 * @module
 */

/** Options for {@link untilStable}. */
export interface StableOptions {
  /** Consecutive unchanged polls that count as "stopped". Default 25. */
  quietPolls?: number;
  /** Pause between polls. Default 20 ms. */
  intervalMs?: number;
  /** Give up (reject) after this long. Default 8 s. */
  guardMs?: number;
  /** Also required for "stopped" (e.g. "the app is inside `await send()`"). */
  holds?: () => boolean;
}

/**
 * Resolves with `read()`'s value once it has not changed for `quietPolls` polls in a row (and
 * `holds()` is true), or as soon as it reaches `limit` (nothing can move past it; the caller's
 * assertion then fails on the value). "Stopped growing" is judged by repeated observation, not by
 * one fixed sleep, so a slow machine makes the wait longer, not the verdict different.
 */
export async function untilStable(read: () => number, limit: number, options: StableOptions = {}): Promise<number> {
  const quietPolls = options.quietPolls ?? 25;
  const intervalMs = options.intervalMs ?? 20;
  const guardMs = options.guardMs ?? 8_000;
  const holds = options.holds ?? (() => true);
  const deadline = Date.now() + guardMs;
  let last = read();
  let quiet = 0;
  while (quiet < quietPolls) {
    if (last >= limit) return last;
    if (Date.now() > deadline) throw new Error(`value still moving after ${guardMs} ms (at ${last})`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    const now = read();
    quiet = now === last && holds() ? quiet + 1 : 0;
    last = now;
  }
  return last;
}

/** `promise`, or a rejection naming `what` if it has not settled after `ms` (a hang guard). */
export function guarded<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}
