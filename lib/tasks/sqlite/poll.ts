/**
 * Waiting on a SQLite file. Processes sharing the file cannot wake each other, so a waiting
 * `reserve` or `waitFor` polls: 2 ms after the first miss, doubling up to 50 ms, so a busy queue is
 * served at once and an idle one costs twenty cheap reads a second. A writer in this same process
 * wakes the waiters on its file at once ({@link Wakeups}), which a single-process app gets for free.
 *
 * @module
 */

/** The first poll interval after a miss (ms). */
export const FIRST_POLL_MS = 2;
/** The longest poll interval (ms): the worst extra latency of a message published by another process. */
export const MAX_POLL_MS = 50;

/** The next poll interval after `previous`. */
export function nextPollDelay(previous: number): number {
  return Math.min(MAX_POLL_MS, Math.max(FIRST_POLL_MS, previous * 2));
}

/**
 * In-process wake-ups keyed by a string (a file path and what is awaited in it). Module-wide, so
 * two connections to one file in one process (a broker and the app's publisher) wake each other.
 */
export class Wakeups {
  private readonly waiting = new Map<string, Set<() => void>>();

  /**
   * Resolves after `ms`, or at once when `key` is woken or any of `signals` aborts. Never rejects.
   */
  sleep(key: string, ms: number, signals: readonly (AbortSignal | undefined)[]): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        for (const signal of signals) signal?.removeEventListener("abort", done);
        const set = this.waiting.get(key);
        set?.delete(done);
        if (set?.size === 0) this.waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      for (const signal of signals) {
        if (signal?.aborted) return done();
        signal?.addEventListener("abort", done);
      }
      let set = this.waiting.get(key);
      if (!set) this.waiting.set(key, (set = new Set()));
      set.add(done);
    });
  }

  /** Wakes everything sleeping on `key`. */
  wake(key: string): void {
    const set = this.waiting.get(key);
    if (set) for (const done of [...set]) done();
  }

  /** True when something sleeps on `key` (a writer skips building wake keys otherwise). */
  has(key: string): boolean {
    return this.waiting.has(key);
  }
}

/** The process-wide wake-ups of SQLite brokers and backends. */
export const sqliteWakeups = new Wakeups();
